//! JSON bodies of the public HTTP API.

use serde::{Deserialize, Serialize};

use super::Stage;
use crate::vision::{Color, Detection, PhotoReading, PixelBox};

/// `202` answer to an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadAccepted {
    pub event_id: String,
    pub photo_id: String,
    pub request_id: String,
    pub status: String,
}

/// Where an event stands: `idle` before any photo, `completed` when every photo is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressStatus {
    Idle,
    Processing,
    Completed,
}

/// `GET /events/{eventId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventStatus {
    pub event_id: String,
    pub total_photos: u64,
    pub processed_photos: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub status: ProgressStatus,
    /// The seq of the room's latest broadcast: a late joiner applies the state above, then
    /// connects with `?since=lastSeq` and misses nothing.
    pub last_seq: u64,
}

/// `GET /events/{eventId}/photos/{photoId}`: status is `queued`, `processing`, `succeeded` or
/// `failed`; stage is the last stage finished; result or error once the photo is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoView {
    pub photo_id: String,
    pub request_id: String,
    pub status: String,
    pub stage: Option<Stage>,
    pub result: Option<PhotoReading>,
    pub error: Option<String>,
    /// Processing attempts started so far (queue retries included).
    pub attempts: u32,
}

/// Every error answer: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `GET /events/{eventId}/photos`: one page of photos in upload order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoPage {
    pub event_id: String,
    pub photos: Vec<PhotoView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// One place a number was read: which photo, how sure, where and on what color.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberMatch {
    pub photo_id: String,
    pub confidence: f32,
    #[serde(rename = "box")]
    pub bbox: PixelBox,
    pub color: Option<Color>,
}

impl NumberMatch {
    pub fn new(photo_id: String, detection: Detection) -> NumberMatch {
        NumberMatch { photo_id, confidence: detection.confidence, bbox: detection.bbox, color: detection.color }
    }
}

/// `GET /events/{eventId}/photos?number=127`: "find my photos".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberSearch {
    pub event_id: String,
    pub number: String,
    pub photos: Vec<NumberMatch>,
}
