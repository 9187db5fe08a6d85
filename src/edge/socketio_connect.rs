//! `/events/{eventId}/socket.io/?EIO=4&transport=websocket`: the socket.io handshake, handed
//! to the event's room like `/ws`. Long-polling (Engine.IO's default first transport) gets
//! a 400 that says to connect with `transports: ["websocket"]`.

use worker::{Env, Method, Request, Response, Result};

use super::query;
use super::respond;
use super::room_client::RoomClient;
use super::router::upgraded;
use crate::protocol::socketio::check_handshake;

pub async fn connect(req: &Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    let upgrade = req.headers().get("upgrade")?.is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let (eio, transport) = (query(req, "EIO")?, query(req, "transport")?);
    if let Err(e) = check_handshake(eio.as_deref(), transport.as_deref(), upgrade && req.method() == Method::Get) {
        return respond::error(400, e, request_id);
    }
    upgraded(RoomClient::new(env, event_id)?.connect_socketio().await?, request_id).await
}
