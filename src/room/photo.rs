//! One photo of an event, as its room keeps it.

use crate::protocol::{PhotoView, Registered, Registration, Stage};
use crate::vision::PhotoReading;

/// Where a photo is: queued, past a stage, or done for good (terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoState {
    Queued,
    /// The stage is the last one finished.
    Processing(Stage),
    Succeeded,
    Failed,
}

impl PhotoState {
    pub fn is_terminal(self) -> bool {
        matches!(self, PhotoState::Succeeded | PhotoState::Failed)
    }

    /// The status word of the HTTP API.
    pub fn status(self) -> &'static str {
        match self {
            PhotoState::Queued => "queued",
            PhotoState::Processing(_) => "processing",
            PhotoState::Succeeded => "succeeded",
            PhotoState::Failed => "failed",
        }
    }

    pub fn stage(self) -> Option<Stage> {
        match self {
            PhotoState::Processing(stage) => Some(stage),
            _ => None,
        }
    }

    /// Rebuilds a state from its stored status and stage.
    pub fn from_parts(status: &str, stage: Option<&str>) -> Option<PhotoState> {
        Some(match status {
            "queued" => PhotoState::Queued,
            "processing" => PhotoState::Processing(Stage::parse(stage?)?),
            "succeeded" => PhotoState::Succeeded,
            "failed" => PhotoState::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRecord {
    pub photo_id: String,
    pub request_id: String,
    /// SHA-256 of the photo's bytes.
    pub digest: String,
    pub state: PhotoState,
    /// Processing attempts started; reports from an older attempt are stale.
    pub attempts: u32,
    pub result: Option<PhotoReading>,
    pub error: Option<String>,
}

impl PhotoRecord {
    pub fn queued(registration: &Registration) -> PhotoRecord {
        PhotoRecord {
            photo_id: registration.photo_id.clone(),
            request_id: registration.request_id.clone(),
            digest: registration.digest.clone(),
            state: PhotoState::Queued,
            attempts: 0,
            result: None,
            error: None,
        }
    }

    /// What registering this photoId again with bytes of `digest` means.
    pub fn registered_again(&self, digest: &str) -> Registered {
        if self.digest != digest {
            Registered::Conflict
        } else if self.state.is_terminal() {
            Registered::Done
        } else {
            Registered::Pending
        }
    }

    pub fn view(&self) -> PhotoView {
        PhotoView {
            photo_id: self.photo_id.clone(),
            request_id: self.request_id.clone(),
            status: self.state.status().to_string(),
            stage: self.state.stage(),
            result: self.result.clone(),
            error: self.error.clone(),
            attempts: self.attempts,
        }
    }
}
