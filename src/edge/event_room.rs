//! `EventRoom`: one Durable Object per event, the single source of truth for its photos,
//! counters and broadcasts. Sockets are held with the WebSocket Hibernation API, and each
//! socket's subscription lives in its attachment: memory only caches it (`Audience`).

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, ResponseBuilder, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};

use super::{query, var};
use super::room_store::RoomStore;
use crate::protocol::{
    error_frame, replay_truncated_frame, socketio::Heartbeat, Ack, ClientFrame, ClientRequest, NumberSearch,
    PhotoPage, Registered, Registration, RoomReport, ServerEvent, Wire,
};

mod audience;
mod js_frame;
mod socketio;
use audience::Audience;
use js_frame::JsFrame;
use crate::guard::{Limits, RateWindow};
use crate::room::{apply_report, truncated_at, PhotoRecord};

/// Answered by the runtime itself, without waking a hibernated room.
const PING: &str = r#"{"event":"ping"}"#;
const PONG: &str = r#"{"event":"pong"}"#;

/// What a socket is, kept in its attachment so it survives hibernation.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SocketState {
    event_id: String,
    subscribed: bool,
    #[serde(default)]
    wire: Wire,
    /// Messages this socket sent in the current minute.
    #[serde(default)]
    rate: RateWindow,
}

/// Answers carry when this instance of the room started: it changes after every eviction,
/// which is how operators (and the tests) see hibernation happen.
pub const INSTANCE_HEADER: &str = "x-room-instance";

#[durable_object]
pub struct EventRoom {
    state: State,
    store: RoomStore,
    started: String,
    heartbeat: Heartbeat,
    limits: Limits,
    audience: Audience,
}

impl DurableObject for EventRoom {
    fn new(state: State, env: Env) -> Self {
        // Never panic here: a panicking constructor shows up as a hung request.
        let store = RoomStore::new(state.storage().sql());
        if let Err(e) = store.migrate() {
            worker::console_error!("EventRoom: creating tables failed: {e}");
        }
        match WebSocketRequestResponsePair::new(PING, PONG) {
            Ok(pair) => state.set_websocket_auto_response(&pair),
            Err(e) => worker::console_error!("EventRoom: auto-response not set: {e:?}"),
        }
        let heartbeat = socketio::heartbeat_of(&env);
        let limits = Limits::from_vars(|name| var(&env, name));
        let started = worker::Date::now().as_millis().to_string();
        EventRoom { state, store, started, heartbeat, limits, audience: Audience::default() }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            [event_id] => {
                let status = self.store.counters()?.status(event_id, self.store.last_seq()?);
                let mut response = Response::from_json(&status)?;
                response.headers_mut().set(INSTANCE_HEADER, &self.started)?;
                Ok(response)
            }
            [_, "ws" | "socket.io"] if self.is_full() => {
                let reason = format!("this event already has {} open sockets", self.limits.max_sockets_per_room);
                Response::error(reason, 503)
            }
            [event_id, "ws"] => {
                let since = query(&req, "since")?.and_then(|v| v.parse().ok());
                self.accept(event_id, since)
            }
            [event_id, "socket.io"] => self.accept_socketio(event_id).await,
            [event_id, "photos"] if req.method() == Method::Get => {
                match query(&req, "number")? {
                    Some(number) => {
                        let photos = self.store.photos_with_number(&number)?;
                        Response::from_json(&NumberSearch { event_id: event_id.to_string(), number, photos })
                    }
                    None => {
                        let after = query(&req, "cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0);
                        let limit = query(&req, "limit")?.and_then(|l| l.parse().ok()).unwrap_or(50);
                        let (records, next) = self.store.photos_page(after, limit)?;
                        let photos = records.iter().map(PhotoRecord::view).collect();
                        let next_cursor = next.map(|n| n.to_string());
                        Response::from_json(&PhotoPage { event_id: event_id.to_string(), photos, next_cursor })
                    }
                }
            }
            [_, "photos"] => {
                let registration: Registration = req.json().await?;
                Response::from_json(&self.register(&registration)?)
            }
            [_, "photos", photo_id] => match self.store.photo(photo_id)? {
                Some(record) => Response::from_json(&record.view()),
                None => Response::error("no such photo", 404),
            },
            [_, "photos", photo_id, "attempts"] => match self.store.start_attempt(photo_id)? {
                Some(attempt) => Response::from_json(&attempt),
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
        let Some(mut socket) = ws.deserialize_attachment::<SocketState>()? else {
            return send_json(&ws, &error_frame("this socket has no room state"));
        };
        let size = match &message {
            WebSocketIncomingMessage::String(text) => text.len(),
            WebSocketIncomingMessage::Binary(bytes) => bytes.len(),
        };
        if size as u64 > self.limits.max_frame_bytes {
            let reason = format!("frames are limited to {} bytes", self.limits.max_frame_bytes);
            return ws.close(Some(1009), Some(reason));
        }
        let limit = self.limits.max_messages_per_minute;
        if !socket.rate.admit(worker::Date::now().as_millis(), limit, 60_000) {
            return ws.close(Some(1008), Some(format!("more than {limit} messages a minute")));
        }
        ws.serialize_attachment(&socket)?;
        if socket.wire == Wire::SocketIo {
            return self.socketio_message(&ws, socket, message);
        }
        let WebSocketIncomingMessage::String(text) = message else {
            return send_json(&ws, &error_frame("binary frames are not understood: send JSON text"));
        };
        match ClientFrame::parse(&text) {
            Ok(frame) => self.request(&ws, socket, &frame),
            Err(message) => send_json(&ws, &error_frame(&message)),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.ping_socketio().await
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
    fn is_full(&self) -> bool {
        self.state.get_websockets().len() as u64 >= self.limits.max_sockets_per_room
    }

    /// Subscribes or unsubscribes a socket and answers in its protocol: the same handling
    /// for every protocol.
    fn request(&self, ws: &WebSocket, mut socket: SocketState, frame: &ClientFrame) -> Result<()> {
        let (event_id, subscribe, since) = match &frame.request {
            ClientRequest::Subscribe { event_id, since } => (event_id, true, *since),
            ClientRequest::Unsubscribe { event_id } => (event_id, false, None),
        };
        let ack = if *event_id != socket.event_id {
            Ack::refused(format!("this socket belongs to event {}, not {event_id}", socket.event_id))
        } else {
            self.set_subscribed(ws, &mut socket, subscribe)?;
            if subscribe { Ack::subscribed(event_id) } else { Ack::unsubscribed() }
        };
        if let Some(answer) = socket.wire.ack(&ack, frame.id.as_ref()) {
            ws.send_with_str(answer)?;
        }
        match since {
            Some(since) if ack.success => self.replay(ws, since, socket.wire),
            _ => Ok(()),
        }
    }

    /// Stores a socket's subscription in its attachment, and in the audience if it changed.
    fn set_subscribed(&self, ws: &WebSocket, socket: &mut SocketState, subscribed: bool) -> Result<()> {
        let was = std::mem::replace(&mut socket.subscribed, subscribed);
        ws.serialize_attachment(&*socket)?;
        match (was, subscribed) {
            (false, true) => self.audience.joined(ws, socket.wire),
            (true, false) => self.audience.left(ws),
            _ => {}
        }
        Ok(())
    }

    /// Accepts a socket for the hibernation API, subscribed to its event from the start; with
    /// `since`, it first receives every logged frame after that seq. Nothing can be broadcast
    /// between the replay and the accept: the room runs one event at a time.
    fn accept(&self, event_id: &str, since: Option<u64>) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        let socket = SocketState { event_id: event_id.to_string(), subscribed: true, wire: Wire::Json, rate: RateWindow::default() };
        pair.server.serialize_attachment(&socket)?;
        self.audience.joined(&pair.server, Wire::Json);
        if let Some(since) = since {
            self.replay(&pair.server, since, Wire::Json)?;
        }
        Ok(ResponseBuilder::new().with_status(101).with_websocket(pair.client).empty())
    }

    fn replay(&self, ws: &WebSocket, since: u64, wire: Wire) -> Result<()> {
        if let Some(oldest) = truncated_at(since, self.store.seq_range()?.0) {
            ws.send_with_str(wire.frame(&replay_truncated_frame(oldest).to_string()))?;
        }
        for frame in self.store.frames_after(since)? {
            ws.send_with_str(wire.frame(&frame))?;
        }
        Ok(())
    }

    fn register(&self, registration: &Registration) -> Result<Registered> {
        match self.store.photo(&registration.photo_id)? {
            Some(known) => Ok(known.registered_again(&registration.digest)),
            None => {
                self.store.insert(&PhotoRecord::queued(registration))?;
                Ok(Registered::New)
            }
        }
    }

    /// Applies a consumer's report, stores what changed, and broadcasts what it produced.
    fn apply(&self, event_id: &str, report: &RoomReport) -> Result<()> {
        let Some(record) = self.store.photo(&report.photo_id)? else {
            worker::console_error!("report for unknown photo {} of event {event_id}", report.photo_id);
            return Ok(());
        };
        let counters = self.store.counters()?;
        let Some(applied) = apply_report(event_id, &record, counters, &report.report, report.attempt) else {
            return Ok(());
        };
        self.store.update(&applied.record)?;
        self.broadcast(applied.events)
    }

    fn broadcast(&self, events: Vec<ServerEvent>) -> Result<()> {
        let frames = events
            .into_iter()
            .map(|event| self.store.append(event, self.limits.frame_log_limit))
            .collect::<Result<Vec<_>>>()?;
        // Each frame encoded once per protocol, and made a JS string once: not once per socket.
        let json: Vec<JsFrame> = frames.iter().map(|frame| JsFrame::new(frame)).collect();
        let socketio: Vec<JsFrame> = frames.iter().map(|frame| JsFrame::new(&Wire::SocketIo.frame(frame))).collect();
        self.audience.send_all(&self.state, |ws, wire| {
            let texts = if wire == Wire::SocketIo { &socketio } else { &json };
            // A socket closing as we send is not the room's failure.
            texts.iter().all(|frame| frame.send_to(ws))
        });
        Ok(())
    }
}

fn send_json(ws: &WebSocket, value: &serde_json::Value) -> Result<()> {
    ws.send_with_str(value.to_string())
}
