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
/// The digest (SHA-256 of the bytes) tells a repeated upload of a photoId from a different one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub photo_id: String,
    pub request_id: String,
    pub digest: String,
}

/// The room's answer to a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Registered {
    /// A photo the room did not know: count it and queue its job.
    New,
    /// The same photoId with the same bytes, not yet processed: queue its job again (harmless).
    Pending,
    /// The same photoId with the same bytes, already processed: nothing to do.
    Done,
    /// The same photoId with other bytes: refused.
    Conflict,
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

/// A report about one photo, sent by the queue consumer to the photo's EventRoom. `attempt`
/// is the processing attempt that made it (0 for the dead letter queue's verdict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomReport {
    pub photo_id: String,
    pub request_id: String,
    pub attempt: u32,
    #[serde(flatten)]
    pub report: Report,
}
