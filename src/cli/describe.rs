//! What the Worker's frames and readings say, in words a person reads in a terminal.

use finishline::protocol::{ServerEvent, SequencedFrame};
use finishline::vision::Detection;

/// The numbers read on a photo, best first: `3638 (97%, orange), 12 (81%)`.
pub fn numbers_read(detections: &[Detection]) -> String {
    if detections.is_empty() {
        return "no number read".into();
    }
    detections
        .iter()
        .map(|d| {
            let percent = (d.confidence * 100.0).round();
            match &d.color {
                Some(color) => format!("{} ({percent}%, {})", d.number, color.name),
                None => format!("{} ({percent}%)", d.number),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line for one broadcast: `#12 ph_1 ocr done (66%)`.
pub fn frame_line(frame: &SequencedFrame) -> String {
    let what = match &frame.event {
        ServerEvent::PhotoProgress(p) => {
            format!("photo {} {} done ({}%)  [{}]", p.photo_id, p.stage.as_str(), p.progress, p.request_id)
        }
        ServerEvent::PhotoCompleted(p) => {
            format!("photo {} read: {}  [{}]", p.photo_id, numbers_read(&p.detections), p.request_id)
        }
        ServerEvent::PhotoFailed(p) => format!("photo {} FAILED: {}  [{}]", p.photo_id, p.error, p.request_id),
        ServerEvent::EventProgress(e) => {
            format!("event {}: {} of {} photos processed", e.event_id, e.processed_photos, e.total_photos)
        }
        ServerEvent::EventCompleted(e) => format!(
            "event {} completed: {} photos, {} read, {} failed",
            e.event_id, e.summary.total, e.summary.succeeded, e.summary.failed
        ),
    };
    format!("#{:<5} {what}", frame.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(json: &str) -> SequencedFrame {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn one_line_per_golden_frame() {
        let golden = |name: &str| {
            let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
            frame_line(&frame(&std::fs::read_to_string(path).unwrap()))
        };
        assert_eq!(golden("photo_progress"), "#1     photo ph_1 detection done (33%)  [req_abc123]");
        assert_eq!(golden("photo_completed"), "#4     photo ph_1 read: 127 (88%, orange)  [req_abc123]");
        assert_eq!(golden("photo_completed_nothing_read"), "#4     photo ph_1 read: no number read  [req_abc123]");
        assert_eq!(golden("photo_failed"), "#5     photo ph_2 FAILED: the JPEG is truncated or corrupt  [req_abc123]");
        assert_eq!(golden("event_progress"), "#6     event e1: 1 of 2 photos processed");
        assert_eq!(golden("event_completed"), "#7     event e1 completed: 2 photos, 1 read, 1 failed");
    }
}
