//! Client-to-server frames: `{"event":"subscribe:event","data":{"eventId":"e1"},"id":7}`,
//! answered by `{"event":"ack","id":7,"data":{...}}` as the gateway's handlers returned them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRequest {
    /// Deliver the event's broadcasts; with `since`, first replay every logged one after it.
    Subscribe { event_id: String, since: Option<u64> },
    Unsubscribe { event_id: String },
}

/// A parsed client frame: what it asks, and the id its ack must echo (any JSON value).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    pub request: ClientRequest,
    pub id: Option<Value>,
}

#[derive(Deserialize)]
struct RawFrame {
    event: String,
    #[serde(default)]
    data: Value,
    id: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventRef {
    event_id: String,
    since: Option<u64>,
}

impl ClientFrame {
    /// Parses a text frame; the error is a message fit to send back to the client.
    pub fn parse(text: &str) -> Result<ClientFrame, String> {
        let raw: RawFrame = serde_json::from_str(text)
            .map_err(|e| format!("frame is not a JSON object with an \"event\" name: {e}"))?;
        let event_ref = || {
            serde_json::from_value::<EventRef>(raw.data.clone()).map_err(|_| {
                format!("{} needs data {{\"eventId\": string, \"since\"?: number}}", raw.event)
            })
        };
        let request = match raw.event.as_str() {
            "subscribe:event" => {
                let EventRef { event_id, since } = event_ref()?;
                ClientRequest::Subscribe { event_id, since }
            }
            "unsubscribe:event" => ClientRequest::Unsubscribe { event_id: event_ref()?.event_id },
            other => return Err(format!("unknown event {other:?}")),
        };
        Ok(ClientFrame { request, id: raw.id })
    }
}

/// The answer to a client request, as the gateway returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Ack {
    pub fn subscribed(event_id: &str) -> Ack {
        Ack { success: true, room: Some(format!("event:{event_id}")), error: None }
    }

    pub fn unsubscribed() -> Ack {
        Ack { success: true, room: None, error: None }
    }

    pub fn refused(error: String) -> Ack {
        Ack { success: false, room: None, error: Some(error) }
    }

    /// The ack frame echoing the request's id.
    pub fn frame(&self, id: Option<&Value>) -> Value {
        let mut frame = serde_json::json!({ "event": "ack", "data": self });
        if let Some(id) = id {
            frame["id"] = id.clone();
        }
        frame
    }
}

/// The frame sent for a message the server cannot act on; the socket stays open.
pub fn error_frame(message: &str) -> Value {
    serde_json::json!({ "event": "error", "data": { "message": message } })
}

/// Sent before a replay whose start the bounded frame log no longer holds.
pub fn replay_truncated_frame(oldest_seq: u64) -> Value {
    serde_json::json!({ "event": "replay:truncated", "data": { "oldestSeq": oldest_seq } })
}
