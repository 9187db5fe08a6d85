//! Server-to-client events: the gateway's five events, each sent as
//! `{"event":"<name>","data":{...},"seq":n}` where seq orders one event's broadcasts.

use serde::{Deserialize, Serialize};

use crate::vision::Detection;

/// The pipeline stages a photo reports progress for, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Detection,
    Ocr,
    Color,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Detection, Stage::Ocr, Stage::Color];

    /// Percent done once this stage has finished.
    pub fn progress(self) -> u8 {
        match self {
            Stage::Detection => 33,
            Stage::Ocr => 66,
            Stage::Color => 100,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Detection => "detection",
            Stage::Ocr => "ocr",
            Stage::Color => "color",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoProgress {
    pub photo_id: String,
    pub progress: u8,
    pub stage: Stage,
    pub request_id: String,
}

/// The gateway's fields (plateNumber, confidence) plus every number read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoCompleted {
    pub photo_id: String,
    pub plate_number: Option<u64>,
    pub confidence: f32,
    pub request_id: String,
    pub detections: Vec<Detection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoFailed {
    pub photo_id: String,
    pub error: String,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventProgress {
    pub event_id: String,
    pub processed_photos: u64,
    pub total_photos: u64,
    pub request_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCompleted {
    pub event_id: String,
    pub summary: Summary,
    pub request_id: String,
}

/// One broadcast, named as the gateway named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum ServerEvent {
    #[serde(rename = "photo:progress")]
    PhotoProgress(PhotoProgress),
    #[serde(rename = "photo:completed")]
    PhotoCompleted(PhotoCompleted),
    #[serde(rename = "photo:failed")]
    PhotoFailed(PhotoFailed),
    #[serde(rename = "event:progress")]
    EventProgress(EventProgress),
    #[serde(rename = "event:completed")]
    EventCompleted(EventCompleted),
}

/// A broadcast as it goes on the socket: the event and its place in the event's sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequencedFrame {
    #[serde(flatten)]
    pub event: ServerEvent,
    pub seq: u64,
}
