//! `/events/{eventId}/socket.io/?EIO=4&transport=websocket`: the socket.io handshake, handed
//! to the event's room like `/ws`. Long-polling (Engine.IO's default first transport) gets
//! a 400 that says to connect with `transports: ["websocket"]`.

use worker::{Env, Method, Request, Response, ResponseBuilder, Result};

use super::respond::{self, REQUEST_ID_HEADER};
use super::room_client::RoomClient;
use crate::protocol::socketio::check_handshake;

pub async fn connect(req: Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    let upgrade = req.headers().get("upgrade")?.is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let (eio, transport) = (query("EIO"), query("transport"));
    if let Err(e) = check_handshake(eio.as_deref(), transport.as_deref(), upgrade && req.method() == Method::Get) {
        return respond::error(400, e, request_id);
    }
    let answer = RoomClient::new(env, event_id)?.connect_socketio().await?;
    match answer.websocket() {
        Some(socket) => Ok(ResponseBuilder::new()
            .with_status(101)
            .with_header(REQUEST_ID_HEADER, request_id)?
            .with_websocket(socket)
            .empty()),
        None => respond::error(500, "the event's room did not accept the socket", request_id),
    }
}
