//! Socket.IO v5 over Engine.IO v4, WebSocket transport only: one Engine.IO packet per text
//! frame. Enough of it for the browsers of the socket.io gateway we replace (namespace
//! `/progress`) to connect unchanged: open, namespace connect, events, acks, ping/pong,
//! disconnect. Binary packets and long-polling are not spoken.

use serde::Serialize;
use serde_json::{json, Value};

/// The gateway's namespace: the only one a client may connect to.
pub const NAMESPACE: &str = "/progress";

/// Engine.IO ping, sent by the server; the client answers pong (`3`).
pub const PING: &str = "2";

/// What a client sends, one Engine.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Engine.IO pong: the client answers our ping.
    Pong,
    /// Engine.IO close: the client is leaving.
    Close,
    /// Socket.IO CONNECT to a namespace; `auth` is what the client passed as `auth`.
    Connect { namespace: String, auth: Option<Value> },
    /// Socket.IO DISCONNECT from a namespace.
    Disconnect { namespace: String },
    /// Socket.IO EVENT `[name, ...args]`, with an id when the client waits for an ack.
    Event { namespace: String, id: Option<u64>, name: String, args: Vec<Value> },
    /// Packets that need no answer: noop, a client's ACK of something we never asked.
    Ignored,
}

impl Inbound {
    /// Parses one text frame; the error says what is wrong, fit to send back.
    pub fn parse(text: &str) -> Result<Inbound, String> {
        let mut chars = text.chars();
        match chars.next() {
            Some('1') => Ok(Inbound::Close),
            Some('3') => Ok(Inbound::Pong),
            Some('4') => socket_packet(chars.as_str()),
            Some('6') => Ok(Inbound::Ignored),
            _ => Err(format!("not an Engine.IO v4 packet this server takes: {:?}", truncate(text))),
        }
    }
}

/// Parses a Socket.IO packet: `<type>[/<namespace>,][<ack id>][<json>]`.
fn socket_packet(text: &str) -> Result<Inbound, String> {
    let kind = text.chars().next().ok_or("empty Socket.IO packet")?;
    let rest = &text[kind.len_utf8()..];
    let (namespace, rest) = match rest.strip_prefix('/') {
        Some(_) => match rest.find(',') {
            Some(comma) => (&rest[..comma], &rest[comma + 1..]),
            None => (rest, ""),
        },
        None => ("/", rest),
    };
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let id = match digits {
        0 => None,
        _ => Some(rest[..digits].parse::<u64>().map_err(|_| "ack id out of range")?),
    };
    let payload = &rest[digits..];
    let data = match payload {
        "" => None,
        json => Some(serde_json::from_str::<Value>(json).map_err(|e| format!("packet data is not JSON: {e}"))?),
    };
    let namespace = namespace.to_string();
    match (kind, data) {
        ('0', auth) => Ok(Inbound::Connect { namespace, auth }),
        ('1', _) => Ok(Inbound::Disconnect { namespace }),
        ('2', Some(Value::Array(mut args))) if matches!(args.first(), Some(Value::String(_))) => {
            let Value::String(name) = args.remove(0) else { unreachable!("checked above") };
            Ok(Inbound::Event { namespace, id, name, args })
        }
        ('2', _) => Err("an event's data must be [\"name\", ...args]".to_string()),
        ('3', _) => Ok(Inbound::Ignored),
        ('5' | '6', _) => Err("binary packets are not supported: send JSON".to_string()),
        (other, _) => Err(format!("unknown Socket.IO packet type {other:?}")),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// How often the server pings, and how long the client waits for the next ping beyond that
/// before it gives up (socket.io-client closes after `interval + timeout` without a ping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub interval_ms: u64,
    pub timeout_ms: u64,
}

impl Heartbeat {
    /// socket.io's own defaults, which the gateway ran with: see docs/socketio.md.
    pub const DEFAULT: Heartbeat = Heartbeat { interval_ms: 25_000, timeout_ms: 20_000 };

    /// The heartbeat from configuration values (milliseconds); a missing or invalid one
    /// keeps its default. The client's timer is a JS setTimeout: the sum must stay below 2^31.
    pub fn configured(interval_ms: Option<&str>, timeout_ms: Option<&str>) -> Heartbeat {
        let parse = |value: Option<&str>, default: u64| {
            value.and_then(|v| v.trim().parse::<u64>().ok()).filter(|&ms| (1..=1 << 30).contains(&ms)).unwrap_or(default)
        };
        Heartbeat {
            interval_ms: parse(interval_ms, Heartbeat::DEFAULT.interval_ms),
            timeout_ms: parse(timeout_ms, Heartbeat::DEFAULT.timeout_ms),
        }
    }

    /// The Engine.IO open packet, the server's first frame: WebSocket only, so no upgrades.
    pub fn open_packet(&self, sid: &str) -> String {
        let open = json!({
            "sid": sid,
            "upgrades": [],
            "pingInterval": self.interval_ms,
            "pingTimeout": self.timeout_ms,
            "maxPayload": 1_000_000,
        });
        format!("0{open}")
    }
}

/// Why a handshake request cannot become a socket.io socket: no long-polling, Engine.IO v4.
pub fn check_handshake(eio: Option<&str>, transport: Option<&str>, upgrade: bool) -> Result<(), String> {
    if eio != Some("4") {
        return Err("only Engine.IO v4 (socket.io-client v3 and v4) is served: EIO=4".to_string());
    }
    if transport != Some("websocket") || !upgrade {
        return Err(
            "long-polling is not served: connect with transports: [\"websocket\"] (a WebSocket upgrade with transport=websocket)"
                .to_string(),
        );
    }
    Ok(())
}

/// Socket.IO packet prefix: Engine.IO message `4`, the packet type, and the namespace
/// (omitted for `/`).
fn prefix(kind: char, namespace: &str) -> String {
    match namespace {
        "/" => format!("4{kind}"),
        nsp => format!("4{kind}{nsp},"),
    }
}

/// The answer to a namespace CONNECT.
pub fn connected(namespace: &str, sid: &str) -> String {
    format!("{}{}", prefix('0', namespace), json!({ "sid": sid }))
}

/// The refusal of a namespace CONNECT, worded as socket.io words it.
pub fn connect_error(namespace: &str, message: &str) -> String {
    format!("{}{}", prefix('4', namespace), json!({ "message": message }))
}

/// An EVENT on the gateway's namespace: `42/progress,["name",data]`.
pub fn event(name: &str, data: &Value) -> String {
    format!("{}{}", prefix('2', NAMESPACE), json!([name, data]))
}

/// A server frame of the plain JSON protocol (`{"event":..,"data":..,...}`) as a socket.io
/// event: the same name and payload, so one broadcast reads the same in both protocols.
pub fn event_of_frame(frame: &Value) -> String {
    event(frame["event"].as_str().unwrap_or_default(), &frame["data"])
}

/// The ACK of the client's event `id`: `43/progress,<id>[data]`, what the handler returned.
pub fn ack(id: u64, data: &impl Serialize) -> Result<String, serde_json::Error> {
    Ok(format!("{}{id}{}", prefix('3', NAMESPACE), serde_json::to_string(&[data])?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Ack;

    #[test]
    fn parses_what_socket_io_client_sends() {
        assert_eq!(Inbound::parse("3"), Ok(Inbound::Pong));
        assert_eq!(Inbound::parse("1"), Ok(Inbound::Close));
        assert_eq!(Inbound::parse("6"), Ok(Inbound::Ignored));
        assert_eq!(
            Inbound::parse("40/progress,"),
            Ok(Inbound::Connect { namespace: "/progress".into(), auth: None })
        );
        assert_eq!(
            Inbound::parse(r#"40/progress,{"token":"t0k"}"#),
            Ok(Inbound::Connect { namespace: "/progress".into(), auth: Some(json!({"token": "t0k"})) })
        );
        assert_eq!(Inbound::parse("40"), Ok(Inbound::Connect { namespace: "/".into(), auth: None }));
        assert_eq!(Inbound::parse("41/progress,"), Ok(Inbound::Disconnect { namespace: "/progress".into() }));
        assert_eq!(
            Inbound::parse(r#"42/progress,7["subscribe:event",{"eventId":"e1"}]"#),
            Ok(Inbound::Event {
                namespace: "/progress".into(),
                id: Some(7),
                name: "subscribe:event".into(),
                args: vec![json!({"eventId": "e1"})],
            })
        );
        assert_eq!(
            Inbound::parse(r#"42["hello"]"#),
            Ok(Inbound::Event { namespace: "/".into(), id: None, name: "hello".into(), args: vec![] })
        );
        assert_eq!(Inbound::parse(r#"43/progress,1[{}]"#), Ok(Inbound::Ignored));
    }

    #[test]
    fn refuses_what_it_does_not_speak() {
        for bad in ["", "2probe", "5", "4", "42/progress,{\"a\":1}", "42/progress,[1]", "42/progress,[", "451-[\"x\",{}]", "49", "{\"event\":\"ping\"}"] {
            assert!(Inbound::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Inbound::parse("42/progress,99999999999999999999999[\"x\"]").is_err());
    }

    #[test]
    fn encodes_the_server_packets() {
        let heartbeat = Heartbeat { interval_ms: 25_000, timeout_ms: 20_000 };
        assert_eq!(
            heartbeat.open_packet("abc"),
            r#"0{"maxPayload":1000000,"pingInterval":25000,"pingTimeout":20000,"sid":"abc","upgrades":[]}"#
        );
        assert_eq!(connected(NAMESPACE, "s1"), r#"40/progress,{"sid":"s1"}"#);
        assert_eq!(connect_error("/other", "Invalid namespace"), r#"44/other,{"message":"Invalid namespace"}"#);
        assert_eq!(connect_error("/", "Invalid namespace"), r#"44{"message":"Invalid namespace"}"#);
        assert_eq!(ack(7, &Ack::subscribed("e1")).unwrap(), r#"43/progress,7[{"success":true,"room":"event:e1"}]"#);
        assert_eq!(ack(8, &Ack::unsubscribed()).unwrap(), r#"43/progress,8[{"success":true}]"#);
    }

    #[test]
    fn a_json_frame_becomes_the_same_event_with_the_gateway_payload() {
        let frame = json!({
            "event": "photo:progress",
            "seq": 3,
            "data": {"photoId": "p1", "progress": 33, "stage": "detection", "requestId": "req_1"},
        });
        assert_eq!(
            event_of_frame(&frame),
            r#"42/progress,["photo:progress",{"photoId":"p1","progress":33,"requestId":"req_1","stage":"detection"}]"#
        );
    }

    #[test]
    fn heartbeat_configuration_falls_back_to_the_defaults() {
        assert_eq!(Heartbeat::configured(None, None), Heartbeat::DEFAULT);
        assert_eq!(Heartbeat::configured(Some("1500"), Some(" 700 ")), Heartbeat { interval_ms: 1500, timeout_ms: 700 });
        assert_eq!(Heartbeat::configured(Some("0"), Some("soon")), Heartbeat::DEFAULT);
        assert_eq!(Heartbeat::configured(Some("99999999999"), None), Heartbeat::DEFAULT);
    }

    #[test]
    fn handshakes_are_websocket_only_and_engine_io_v4() {
        assert_eq!(check_handshake(Some("4"), Some("websocket"), true), Ok(()));
        assert!(check_handshake(Some("4"), Some("polling"), false).unwrap_err().contains("long-polling"));
        assert!(check_handshake(Some("4"), Some("websocket"), false).unwrap_err().contains("long-polling"));
        assert!(check_handshake(Some("3"), Some("websocket"), true).unwrap_err().contains("EIO=4"));
        assert!(check_handshake(None, None, true).is_err());
    }
}
