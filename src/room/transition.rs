//! What one report does to a photo and its event: the new state, and the broadcasts.
//!
//! Delivery is at least once and reports may arrive out of order, so a report applies only
//! when it moves the photo forward: a stage already passed, or anything after the photo's
//! terminal state, changes nothing and broadcasts nothing.

use super::{Counters, PhotoRecord, PhotoState};
use crate::protocol::{
    EventCompleted, EventProgress, PhotoCompleted, PhotoFailed, PhotoProgress, Report,
    ServerEvent,
};

/// The outcome of a report that applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub record: PhotoRecord,
    pub counters: Counters,
    pub events: Vec<ServerEvent>,
}

/// Applies `report`, made by processing attempt `attempt`, to `record` of event `event_id`;
/// `None` when it changes nothing. Progress from an attempt older than the latest is stale;
/// a terminal report counts whichever attempt made it, once.
pub fn apply_report(
    event_id: &str,
    record: &PhotoRecord,
    counters: Counters,
    report: &Report,
    attempt: u32,
) -> Option<Applied> {
    if record.state.is_terminal() {
        return None;
    }
    let mut record = record.clone();
    let mut counters = counters;
    let photo_id = record.photo_id.clone();
    let request_id = record.request_id.clone();
    let mut events = Vec::new();
    match report {
        Report::Progress { stage } => {
            let passed = record.state.stage().is_some_and(|done| done >= *stage);
            if passed || attempt < record.attempts {
                return None;
            }
            record.state = PhotoState::Processing(*stage);
            events.push(ServerEvent::PhotoProgress(PhotoProgress {
                photo_id,
                progress: stage.progress(),
                stage: *stage,
                request_id,
            }));
            return Some(Applied { record, counters, events });
        }
        Report::Completed { reading } => {
            record.state = PhotoState::Succeeded;
            record.result = Some(reading.clone());
            counters.succeeded += 1;
            events.push(ServerEvent::PhotoCompleted(PhotoCompleted {
                photo_id,
                plate_number: reading.plate_number,
                confidence: reading.confidence,
                request_id: request_id.clone(),
                detections: reading.detections.clone(),
            }));
        }
        Report::Failed { error } => {
            record.state = PhotoState::Failed;
            record.error = Some(error.clone());
            counters.failed += 1;
            events.push(ServerEvent::PhotoFailed(PhotoFailed {
                photo_id,
                error: error.clone(),
                request_id: request_id.clone(),
            }));
        }
    }
    events.push(ServerEvent::EventProgress(EventProgress {
        event_id: event_id.to_string(),
        processed_photos: counters.processed(),
        total_photos: counters.total,
        request_id: request_id.clone(),
    }));
    if counters.is_complete() {
        events.push(ServerEvent::EventCompleted(EventCompleted {
            event_id: event_id.to_string(),
            summary: counters.summary(),
            request_id,
        }));
    }
    Some(Applied { record, counters, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Registered, Registration, Stage};
    use crate::vision::PhotoReading;

    fn names(applied: &Applied) -> Vec<&'static str> {
        applied
            .events
            .iter()
            .map(|e| match e {
                ServerEvent::PhotoProgress(_) => "photo:progress",
                ServerEvent::PhotoCompleted(_) => "photo:completed",
                ServerEvent::PhotoFailed(_) => "photo:failed",
                ServerEvent::EventProgress(_) => "event:progress",
                ServerEvent::EventCompleted(_) => "event:completed",
            })
            .collect()
    }

    fn queued(photo_id: &str, request_id: &str) -> PhotoRecord {
        let registration = Registration {
            photo_id: photo_id.into(),
            request_id: request_id.into(),
            digest: "d1".into(),
        };
        PhotoRecord { attempts: 1, ..PhotoRecord::queued(&registration) }
    }

    fn empty_reading() -> PhotoReading {
        PhotoReading::from_detections(vec![])
    }

    fn two_photos() -> Counters {
        Counters { total: 2, succeeded: 0, failed: 0 }
    }

    #[test]
    fn stages_then_completion_broadcast_in_order() {
        let mut record = queued("p1", "req_1");
        let mut counters = two_photos();
        for stage in Stage::ALL {
            let applied = apply_report("e", &record, counters, &Report::Progress { stage }, 1).unwrap();
            assert_eq!(names(&applied), ["photo:progress"]);
            record = applied.record;
        }
        let done = apply_report("e", &record, counters, &Report::Completed { reading: empty_reading() }, 1)
            .unwrap();
        assert_eq!(names(&done), ["photo:completed", "event:progress"]);
        assert_eq!(done.counters, Counters { total: 2, succeeded: 1, failed: 0 });
        counters = done.counters;

        let other = queued("p2", "req_2");
        let failed =
            apply_report("e", &other, counters, &Report::Failed { error: "corrupt".into() }, 1).unwrap();
        assert_eq!(names(&failed), ["photo:failed", "event:progress", "event:completed"]);
        let ServerEvent::EventCompleted(completed) = &failed.events[2] else { panic!() };
        assert_eq!((completed.summary.succeeded, completed.summary.failed), (1, 1));
        assert_eq!(completed.request_id, "req_2");
    }

    #[test]
    fn every_broadcast_carries_the_uploads_request_id() {
        let record = queued("p1", "req_upload");
        let counters = Counters { total: 1, ..Default::default() };
        let applied =
            apply_report("e", &record, counters, &Report::Completed { reading: empty_reading() }, 1)
                .unwrap();
        for event in &applied.events {
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json["data"]["requestId"], "req_upload", "{json}");
        }
    }

    #[test]
    fn duplicate_and_late_reports_change_nothing() {
        let record = queued("p1", "r");
        let counters = two_photos();
        let ocr = apply_report("e", &record, counters, &Report::Progress { stage: Stage::Ocr }, 1).unwrap();
        // a late detection report, and a repeated ocr report
        assert!(apply_report("e", &ocr.record, counters, &Report::Progress { stage: Stage::Detection }, 1).is_none());
        assert!(apply_report("e", &ocr.record, counters, &Report::Progress { stage: Stage::Ocr }, 1).is_none());

        let done = apply_report("e", &ocr.record, counters, &Report::Failed { error: "x".into() }, 1).unwrap();
        for report in [
            Report::Failed { error: "again".into() },
            Report::Completed { reading: empty_reading() },
            Report::Progress { stage: Stage::Color },
        ] {
            assert!(apply_report("e", &done.record, done.counters, &report, 1).is_none());
        }
    }

    #[test]
    fn progress_from_a_stale_attempt_is_ignored_but_its_verdict_counts_once() {
        let record = PhotoRecord { attempts: 2, ..queued("p1", "r") };
        let counters = Counters { total: 1, ..Default::default() };
        let stale = Report::Progress { stage: Stage::Detection };
        assert!(apply_report("e", &record, counters, &stale, 1).is_none());
        assert!(apply_report("e", &record, counters, &stale, 2).is_some());
        let verdict = Report::Failed { error: "dead letter".into() };
        let done = apply_report("e", &record, counters, &verdict, 0).unwrap();
        assert_eq!(done.counters.failed, 1);
        assert!(apply_report("e", &done.record, done.counters, &verdict, 0).is_none());
    }

    #[test]
    fn registering_again_is_idempotent_for_the_same_bytes_only() {
        let record = queued("p1", "r");
        assert_eq!(record.registered_again("d1"), Registered::Pending);
        assert_eq!(record.registered_again("other"), Registered::Conflict);
        let done = PhotoRecord { state: PhotoState::Succeeded, ..record };
        assert_eq!(done.registered_again("d1"), Registered::Done);
        assert_eq!(done.registered_again("other"), Registered::Conflict);
    }
}
