//! One structured log line per request and per job. Never a token and never a photo's bytes:
//! only ids, what happened and how long it took.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// `request` or `job`.
    pub kind: &'static str,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_id: Option<String>,
    /// `GET /events/e1` for requests (the path only: a query may hold a token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// `ok`, `refused`, `error` for requests; `completed`, `failed`, `retry` for jobs.
    pub outcome: String,
    pub duration_ms: u64,
    /// Jobs: milliseconds spent in each vision stage (compute only, not the reports between).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_ms: Option<StageMs>,
    /// Jobs: of the detection and ocr stages' milliseconds, those inside model runs (inference
    /// without the pre- and post-processing around it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_ms: Option<ModelMs>,
    /// Jobs: true when nothing was read at the detection size and the photo was looked at again
    /// closer (docs/accuracy.md): why its detection and ocr took seconds more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closer_look: Option<bool>,
    /// Jobs: milliseconds this job spent loading the models (only the isolate's first job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_load_ms: Option<u64>,
    /// Jobs: the wasm memory's size right after loading the models (only the first job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_memory_after_load_bytes: Option<u64>,
    /// Jobs: the wasm linear memory's size after the job, in bytes; it never shrinks, so this
    /// is the isolate's high-water mark so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_memory_bytes: Option<u64>,
    /// Jobs, when the Worker's `OP_TIMES` is set (benchmarks): inference milliseconds by tract
    /// operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_ms: Option<std::collections::BTreeMap<String, f64>>,
}

/// Per-stage milliseconds of one photo, as `finishline scan` prints them natively.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageMs {
    pub decode: f64,
    pub detection: f64,
    pub ocr: f64,
    pub color: f64,
}

/// Milliseconds inside model runs in the two stages that run models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ModelMs {
    pub detection: f64,
    pub ocr: f64,
}

impl From<[f64; 4]> for StageMs {
    /// decode, detection, ocr, color, in pipeline order.
    fn from([decode, detection, ocr, color]: [f64; 4]) -> StageMs {
        StageMs { decode, detection, ocr, color }
    }
}

impl LogLine {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_names_ids_route_and_outcome_only() {
        let line = LogLine {
            kind: "request",
            request_id: "req_1".into(),
            event_id: Some("e1".into()),
            route: Some("GET /events/e1/ws".into()),
            status: Some(101),
            outcome: "ok".into(),
            duration_ms: 3,
            ..Default::default()
        };
        assert_eq!(
            line.to_json(),
            r#"{"kind":"request","requestId":"req_1","eventId":"e1","route":"GET /events/e1/ws","status":101,"outcome":"ok","durationMs":3}"#
        );
    }

    #[test]
    fn a_job_line_carries_stage_times_and_wasm_memory() {
        let line = LogLine {
            kind: "job",
            request_id: "req_2".into(),
            photo_id: Some("p1".into()),
            outcome: "completed".into(),
            duration_ms: 1900,
            stage_ms: Some([12.0, 1500.0, 300.0, 1.5].into()),
            model_ms: Some(ModelMs { detection: 1400.0, ocr: 280.5 }),
            closer_look: Some(true),
            model_load_ms: Some(2700),
            wasm_memory_after_load_bytes: Some(40 * 65536),
            wasm_memory_bytes: Some(50 * 65536),
            ..Default::default()
        };
        assert_eq!(
            line.to_json(),
            r#"{"kind":"job","requestId":"req_2","photoId":"p1","outcome":"completed","durationMs":1900,"stageMs":{"decode":12.0,"detection":1500.0,"ocr":300.0,"color":1.5},"modelMs":{"detection":1400.0,"ocr":280.5},"closerLook":true,"modelLoadMs":2700,"wasmMemoryAfterLoadBytes":2621440,"wasmMemoryBytes":3276800}"#
        );
    }
}
