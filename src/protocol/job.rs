//! Messages between the Worker's parts: the queue job, and what the Worker and the consumer
//! tell an EventRoom.

use serde::{Deserialize, Serialize};

use super::Stage;
use crate::vision::PhotoReading;

/// One photo to process: ids only, the bytes stay in R2 (a queue message is at most 128 KB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoJob {
    pub event_id: String,
    pub photo_id: String,
    pub request_id: String,
}

/// An upload announced to its room, before its job is queued, so totals are known early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub photo_id: String,
    pub request_id: String,
}

/// What happened to a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Report {
    /// A stage finished.
    Progress { stage: Stage },
    /// Every stage finished.
    Completed { reading: PhotoReading },
    /// The photo cannot be processed; `error` is a reason a person understands.
    Failed { error: String },
}

/// A report about one photo, sent by the queue consumer to the photo's EventRoom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomReport {
    pub photo_id: String,
    pub request_id: String,
    #[serde(flatten)]
    pub report: Report,
}
