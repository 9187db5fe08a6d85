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
}
