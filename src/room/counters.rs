//! An event's counters. The shell derives them from its photo rows, so they cannot drift.

use crate::protocol::{EventStatus, ProgressStatus, Summary};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl Counters {
    pub fn processed(&self) -> u64 {
        self.succeeded + self.failed
    }

    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.processed() == self.total
    }

    pub fn summary(&self) -> Summary {
        Summary { total: self.total, succeeded: self.succeeded, failed: self.failed }
    }

    pub fn status(&self, event_id: &str, last_seq: u64) -> EventStatus {
        EventStatus {
            event_id: event_id.to_string(),
            total_photos: self.total,
            processed_photos: self.processed(),
            succeeded: self.succeeded,
            failed: self.failed,
            status: if self.total == 0 {
                ProgressStatus::Idle
            } else if self.is_complete() {
                ProgressStatus::Completed
            } else {
                ProgressStatus::Processing
            },
            last_seq,
        }
    }
}
