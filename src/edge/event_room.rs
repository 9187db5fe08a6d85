//! `EventRoom`: one Durable Object per event, the single source of truth for its photos,
//! counters and broadcasts. Sockets are held with the WebSocket Hibernation API, and each
//! socket's subscription lives in its attachment: nothing is kept only in memory.

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Request, Response, ResponseBuilder, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};

use super::room_store::RoomStore;
use crate::protocol::{error_frame, Ack, ClientFrame, ClientRequest, Registration, RoomReport, ServerEvent};
use crate::room::{apply_report, PhotoRecord};

/// Answered by the runtime itself, without waking a hibernated room.
const PING: &str = r#"{"event":"ping"}"#;
const PONG: &str = r#"{"event":"pong"}"#;

/// What a socket is, kept in its attachment so it survives hibernation.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SocketState {
    event_id: String,
    subscribed: bool,
}

/// Answers carry when this instance of the room started: it changes after every eviction,
/// which is how operators (and the tests) see hibernation happen.
pub const INSTANCE_HEADER: &str = "x-room-instance";

#[durable_object]
pub struct EventRoom {
    state: State,
    store: RoomStore,
    started: String,
}

impl DurableObject for EventRoom {
    fn new(state: State, _env: Env) -> Self {
        // Never panic here: a panicking constructor shows up as a hung request.
        let store = RoomStore::new(state.storage().sql());
        if let Err(e) = store.migrate() {
            worker::console_error!("EventRoom: creating tables failed: {e}");
        }
        match WebSocketRequestResponsePair::new(PING, PONG) {
            Ok(pair) => state.set_websocket_auto_response(&pair),
            Err(e) => worker::console_error!("EventRoom: auto-response not set: {e:?}"),
        }
        EventRoom { state, store, started: worker::Date::now().as_millis().to_string() }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            [event_id] => {
                let mut response = Response::from_json(&self.store.counters()?.status(event_id))?;
                response.headers_mut().set(INSTANCE_HEADER, &self.started)?;
                Ok(response)
            }
            [event_id, "ws"] => self.accept(event_id),
            [_, "photos"] => {
                let registration: Registration = req.json().await?;
                self.store.insert(&PhotoRecord::queued(&registration.photo_id, &registration.request_id))?;
                Response::ok("registered")
            }
            [_, "photos", photo_id] => match self.store.photo(photo_id)? {
                Some(record) => Response::from_json(&record.view()),
                None => Response::error("no such photo", 404),
            },
            [event_id, "reports"] => {
                let report: RoomReport = req.json().await?;
                self.apply(event_id, &report)?;
                Response::ok("applied")
            }
            _ => Response::error(format!("EventRoom has no route {path}"), 404),
        }
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let WebSocketIncomingMessage::String(text) = message else {
            return send_json(&ws, &error_frame("binary frames are not understood: send JSON text"));
        };
        let frame = match ClientFrame::parse(&text) {
            Ok(frame) => frame,
            Err(message) => return send_json(&ws, &error_frame(&message)),
        };
        let Some(mut socket) = ws.deserialize_attachment::<SocketState>()? else {
            return send_json(&ws, &error_frame("this socket has no room state"));
        };
        let (event_id, subscribe) = match &frame.request {
            ClientRequest::Subscribe { event_id } => (event_id, true),
            ClientRequest::Unsubscribe { event_id } => (event_id, false),
        };
        let ack = if *event_id != socket.event_id {
            Ack::refused(format!("this socket belongs to event {}, not {event_id}", socket.event_id))
        } else {
            socket.subscribed = subscribe;
            ws.serialize_attachment(&socket)?;
            if subscribe { Ack::subscribed(event_id) } else { Ack::unsubscribed() }
        };
        send_json(&ws, &ack.frame(frame.id.as_ref()))
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _clean: bool) -> Result<()> {
        // Complete the closing handshake; the socket may already be gone.
        let code = if code == 1005 || code == 1006 { 1000 } else { code as u16 };
        let _ = ws.close(Some(code), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, error: worker::Error) -> Result<()> {
        worker::console_error!("EventRoom socket error: {error}");
        Ok(())
    }
}

impl EventRoom {
    /// Accepts a socket for the hibernation API, subscribed to its event from the start.
    fn accept(&self, event_id: &str) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(&SocketState { event_id: event_id.to_string(), subscribed: true })?;
        Ok(ResponseBuilder::new().with_status(101).with_websocket(pair.client).empty())
    }

    /// Applies a consumer's report, stores what changed, and broadcasts what it produced.
    fn apply(&self, event_id: &str, report: &RoomReport) -> Result<()> {
        let Some(record) = self.store.photo(&report.photo_id)? else {
            worker::console_error!("report for unknown photo {} of event {event_id}", report.photo_id);
            return Ok(());
        };
        let Some(applied) = apply_report(event_id, &record, self.store.counters()?, &report.report) else {
            return Ok(());
        };
        self.store.update(&applied.record)?;
        self.broadcast(applied.events)
    }

    fn broadcast(&self, events: Vec<ServerEvent>) -> Result<()> {
        let frames = events.into_iter().map(|event| self.store.append(event)).collect::<Result<Vec<_>>>()?;
        for ws in self.state.get_websockets() {
            let subscribed = matches!(ws.deserialize_attachment::<SocketState>(), Ok(Some(s)) if s.subscribed);
            if subscribed {
                for frame in &frames {
                    // A socket closing as we send is not the room's failure.
                    let _ = ws.send_with_str(frame);
                }
            }
        }
        Ok(())
    }
}

fn send_json(ws: &WebSocket, value: &serde_json::Value) -> Result<()> {
    ws.send_with_str(value.to_string())
}
