//! The room's socket.io sockets (Engine.IO v4 over WebSocket): the handshake, their packets,
//! and the heartbeat alarm that pings them while any is connected. Why an alarm, and why it
//! keeps hibernation: docs/socketio.md.

use std::time::Duration;

use serde_json::json;
use worker::{Env, Response, ResponseBuilder, Result, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::{EventRoom, SocketState};
use crate::edge::var;
use crate::guard::RateWindow;
use crate::protocol::socketio::{self, Heartbeat, Inbound, NAMESPACE};
use crate::protocol::{error_frame, Ack, ClientFrame, Wire};

/// Wrangler vars (milliseconds) that override socket.io's default heartbeat.
const PING_INTERVAL_VAR: &str = "SOCKETIO_PING_INTERVAL_MS";
const PING_TIMEOUT_VAR: &str = "SOCKETIO_PING_TIMEOUT_MS";

pub fn heartbeat_of(env: &Env) -> Heartbeat {
    Heartbeat::configured(var(env, PING_INTERVAL_VAR).as_deref(), var(env, PING_TIMEOUT_VAR).as_deref())
}

impl EventRoom {
    /// Accepts a socket.io socket with the hibernation API and sends the Engine.IO open
    /// packet. As on the gateway, broadcasts reach it only once it sent `subscribe:event`.
    pub(super) async fn accept_socketio(&self, event_id: &str) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        let socket = SocketState {
            event_id: event_id.to_string(),
            subscribed: false,
            wire: Wire::SocketIo,
            rate: RateWindow::default(),
        };
        pair.server.serialize_attachment(&socket)?;
        pair.server.send_with_str(self.heartbeat.open_packet(&new_sid()?))?;
        if self.state.storage().get_alarm().await?.is_none() {
            self.schedule_ping().await?;
        }
        Ok(ResponseBuilder::new().with_status(101).with_websocket(pair.client).empty())
    }

    /// One Engine.IO packet from a socket.io socket. Subscribing and unsubscribing go through
    /// the same `request` as the JSON protocol; only the encoding differs.
    pub(super) fn socketio_message(&self, ws: &WebSocket, mut socket: SocketState, message: WebSocketIncomingMessage) -> Result<()> {
        let WebSocketIncomingMessage::String(text) = message else {
            return send_error(ws, "binary packets are not supported: send JSON");
        };
        match Inbound::parse(&text) {
            Ok(Inbound::Pong | Inbound::Ignored) => Ok(()),
            Ok(Inbound::Close) => ws.close(Some(1000), Some("closed by the client")),
            // The auth payload (a subscribe token) is the security issue's to check.
            Ok(Inbound::Connect { namespace, .. }) if namespace == NAMESPACE => {
                ws.send_with_str(socketio::connected(NAMESPACE, &new_sid()?))
            }
            Ok(Inbound::Connect { namespace, .. }) => ws.send_with_str(socketio::connect_error(&namespace, "Invalid namespace")),
            // Leaving the namespace leaves its rooms, as on socket.io.
            Ok(Inbound::Disconnect { .. }) => self.set_subscribed(ws, &mut socket, false),
            // socket.io drops packets of a namespace the socket is not connected to.
            Ok(Inbound::Event { namespace, .. }) if namespace != NAMESPACE => Ok(()),
            Ok(Inbound::Event { id, name, args, .. }) => {
                let frame = json!({ "event": name, "data": args.into_iter().next(), "id": id });
                match ClientFrame::parse(&frame.to_string()) {
                    Ok(frame) => self.request(ws, socket, &frame),
                    Err(message) => match Wire::SocketIo.ack(&Ack::refused(message.clone()), frame.get("id")) {
                        Some(refused) => ws.send_with_str(refused),
                        None => send_error(ws, &message),
                    },
                }
            }
            Err(message) => send_error(ws, &message),
        }
    }

    /// The heartbeat alarm: pings every socket.io socket and comes back one pingInterval
    /// later while any is connected; with none left, the room is back to a pure sleeper.
    pub(super) async fn ping_socketio(&self) -> Result<Response> {
        let sockets: Vec<WebSocket> = self.state.get_websockets().into_iter().filter(speaks_socketio).collect();
        for ws in &sockets {
            // A socket closing as we ping is not the room's failure.
            let _ = ws.send_with_str(socketio::PING);
        }
        if !sockets.is_empty() {
            self.schedule_ping().await?;
        }
        Response::ok("pinged")
    }

    async fn schedule_ping(&self) -> Result<()> {
        self.state.storage().set_alarm(Duration::from_millis(self.heartbeat.interval_ms)).await
    }
}

fn speaks_socketio(ws: &WebSocket) -> bool {
    matches!(ws.deserialize_attachment::<SocketState>(), Ok(Some(s)) if s.wire == Wire::SocketIo)
}

fn send_error(ws: &WebSocket, message: &str) -> Result<()> {
    ws.send_with_str(socketio::event_of_frame(&error_frame(message)))
}

/// An Engine.IO or Socket.IO session id: clients only echo it in logs.
fn new_sid() -> Result<String> {
    Ok(super::super::random_bytes()?.iter().map(|b| format!("{b:02x}")).collect())
}
