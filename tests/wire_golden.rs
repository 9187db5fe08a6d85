//! Every wire type against golden JSON: what we send must equal the file, and the file must
//! parse back to the same value.

use finishline::protocol::*;
use finishline::room::Counters;
use finishline::vision::{Color, Detection, PhotoReading, PixelBox};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::fmt::Debug;

fn golden(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Serializes to the golden JSON, and parses back from it to the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(name: &str, value: T) {
    let expected = golden(name);
    assert_eq!(serde_json::to_value(&value).unwrap(), expected, "{name}: serialized");
    assert_eq!(serde_json::from_value::<T>(expected).unwrap(), value, "{name}: parsed");
}

fn frame(seq: u64, event: ServerEvent) -> SequencedFrame {
    SequencedFrame { event, seq }
}

const REQ: &str = "req_abc123";

#[test]
fn server_frames() {
    round_trip(
        "photo_progress",
        frame(1, ServerEvent::PhotoProgress(PhotoProgress {
            photo_id: "ph_1".into(),
            progress: 33,
            stage: Stage::Detection,
            request_id: REQ.into(),
        })),
    );
    let reading = PhotoReading::from_detections(vec![Detection {
        number: "127".into(),
        confidence: 0.875,
        bbox: PixelBox { x: 441, y: 347, w: 76, h: 42 },
        color: Some(Color { name: "orange".into(), rgb: [240, 120, 20] }),
    }]);
    round_trip(
        "photo_completed",
        frame(4, ServerEvent::PhotoCompleted(PhotoCompleted {
            photo_id: "ph_1".into(),
            plate_number: reading.plate_number,
            confidence: reading.confidence,
            request_id: REQ.into(),
            detections: reading.detections,
        })),
    );
    let nothing = PhotoReading::from_detections(vec![]);
    round_trip(
        "photo_completed_nothing_read",
        frame(4, ServerEvent::PhotoCompleted(PhotoCompleted {
            photo_id: "ph_1".into(),
            plate_number: nothing.plate_number,
            confidence: nothing.confidence,
            request_id: REQ.into(),
            detections: vec![],
        })),
    );
    round_trip(
        "photo_failed",
        frame(5, ServerEvent::PhotoFailed(PhotoFailed {
            photo_id: "ph_2".into(),
            error: "the JPEG is truncated or corrupt".into(),
            request_id: REQ.into(),
        })),
    );
    round_trip(
        "event_progress",
        frame(6, ServerEvent::EventProgress(EventProgress {
            event_id: "e1".into(),
            processed_photos: 1,
            total_photos: 2,
            request_id: REQ.into(),
        })),
    );
    round_trip(
        "event_completed",
        frame(7, ServerEvent::EventCompleted(EventCompleted {
            event_id: "e1".into(),
            summary: Summary { total: 2, succeeded: 1, failed: 1 },
            request_id: REQ.into(),
        })),
    );
}

#[test]
fn client_frames_and_acks() {
    let parse = |name: &str| ClientFrame::parse(&golden(name).to_string()).unwrap();
    assert_eq!(
        parse("subscribe"),
        ClientFrame { request: ClientRequest::Subscribe { event_id: "e1".into(), since: None }, id: Some(7.into()) }
    );
    assert_eq!(
        parse("unsubscribe"),
        ClientFrame { request: ClientRequest::Unsubscribe { event_id: "e1".into() }, id: Some(8.into()) }
    );
    assert_eq!(Ack::subscribed("e1").frame(Some(&7.into())), golden("ack_subscribed"));
    assert_eq!(Ack::unsubscribed().frame(Some(&8.into())), golden("ack_unsubscribed"));
    assert_eq!(
        Ack::refused("this socket belongs to event e1, not e2".into()).frame(Some(&9.into())),
        golden("ack_refused")
    );
    assert_eq!(
        parse("subscribe_since"),
        ClientFrame { request: ClientRequest::Subscribe { event_id: "e1".into(), since: Some(41) }, id: Some(9.into()) }
    );
    assert_eq!(replay_truncated_frame(12), golden("replay_truncated"));
    let unknown = ClientFrame::parse(r#"{"event":"hello"}"#).unwrap_err();
    assert_eq!(error_frame(&unknown), golden("error_frame"));
}

#[test]
fn malformed_client_frames_are_errors_not_panics() {
    for text in ["", "null", "[]", "{", r#"{"data":{}}"#, r#"{"event":"subscribe:event"}"#,
        r#"{"event":"subscribe:event","data":{"eventId":7}}"#, r#"{"event":5}"#] {
        assert!(ClientFrame::parse(text).is_err(), "{text}");
    }
}

#[test]
fn http_bodies_and_jobs() {
    round_trip(
        "upload_accepted",
        UploadAccepted {
            event_id: "e1".into(),
            photo_id: "ph_1".into(),
            request_id: REQ.into(),
            status: "queued".into(),
        },
    );
    round_trip("event_status", Counters { total: 2, succeeded: 1, failed: 0 }.status("e1", 9));
    round_trip(
        "photo_job",
        PhotoJob { event_id: "e1".into(), photo_id: "ph_1".into(), request_id: REQ.into() },
    );
    round_trip(
        "registration",
        Registration { photo_id: "ph_1".into(), request_id: REQ.into(), digest: "9f86d081".into() },
    );
    round_trip("registered_conflict", Registered::Conflict);
    round_trip(
        "room_report_progress",
        RoomReport {
            photo_id: "ph_1".into(),
            request_id: REQ.into(),
            attempt: 2,
            report: Report::Progress { stage: Stage::Ocr },
        },
    );
    round_trip(
        "room_report_failed",
        RoomReport {
            photo_id: "ph_1".into(),
            request_id: REQ.into(),
            attempt: 0,
            report: Report::Failed { error: "not a JPEG, PNG or WebP image".into() },
        },
    );
}
