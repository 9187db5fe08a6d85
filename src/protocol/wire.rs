//! The protocol a socket speaks: finishline's plain JSON frames, or socket.io. The room builds
//! every frame once as JSON (`{"event","data",...}`); a socket.io socket gets it re-encoded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{socketio, Ack};

/// Kept in each socket's attachment; sockets from before it existed spoke JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Wire {
    #[default]
    Json,
    SocketIo,
}

impl Wire {
    /// A server frame, given as its JSON text, as this protocol sends it.
    pub fn frame(self, json: &str) -> String {
        match self {
            Wire::Json => json.to_string(),
            // The room only sends frames it serialized itself: they always parse.
            Wire::SocketIo => socketio::event_of_frame(&serde_json::from_str(json).unwrap_or_default()),
        }
    }

    /// The answer to a request with `id`; `None` when there is nothing to send: a socket.io
    /// client that passed no ack callback gets no ACK packet (it has no id to match one to).
    pub fn ack(self, ack: &Ack, id: Option<&Value>) -> Option<String> {
        match self {
            Wire::Json => Some(ack.frame(id).to_string()),
            Wire::SocketIo => id.and_then(Value::as_u64).and_then(|id| socketio::ack(id, ack).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_frame_in_each_protocol() {
        let frame = r#"{"event":"event:progress","data":{"eventId":"e1","processedPhotos":1,"totalPhotos":2,"requestId":"r"},"seq":4}"#;
        assert_eq!(Wire::Json.frame(frame), frame);
        let packet = Wire::SocketIo.frame(frame);
        let args: Value = serde_json::from_str(packet.strip_prefix("42/progress,").unwrap()).unwrap();
        assert_eq!(args, json!(["event:progress", {"eventId": "e1", "processedPhotos": 1, "totalPhotos": 2, "requestId": "r"}]));
    }

    #[test]
    fn acks_in_each_protocol() {
        let ack = Ack::subscribed("e1");
        let json_ack: Value = serde_json::from_str(&Wire::Json.ack(&ack, Some(&json!(7))).unwrap()).unwrap();
        assert_eq!(json_ack, json!({"event": "ack", "id": 7, "data": {"success": true, "room": "event:e1"}}));
        assert_eq!(Wire::SocketIo.ack(&ack, Some(&json!(7))).unwrap(), r#"43/progress,7[{"success":true,"room":"event:e1"}]"#);
        assert_eq!(Wire::SocketIo.ack(&ack, None), None);
    }

    #[test]
    fn attachments_without_a_wire_spoke_json() {
        #[derive(Deserialize)]
        struct State {
            #[serde(default)]
            wire: Wire,
        }
        assert_eq!(serde_json::from_str::<State>("{}").unwrap().wire, Wire::Json);
        assert_eq!(serde_json::to_string(&Wire::SocketIo).unwrap(), r#""socketIo""#);
    }
}
