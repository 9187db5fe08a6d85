//! JSON bodies of the public HTTP API.

use serde::{Deserialize, Serialize};

use super::Stage;
use crate::vision::PhotoReading;

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
