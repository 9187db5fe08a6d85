//! The Worker's fetch handler: checks ids, then hands each route to R2, the queue or the
//! event's room. It holds no state.

use worker::{event, Context, Env, Method, Request, Response, ResponseBuilder, Result};

use super::event_room::INSTANCE_HEADER;
use super::respond::{self, REQUEST_ID_HEADER};
use super::room_client::RoomClient;
use super::socketio_connect;
use super::upload::upload;
use crate::ids::{new_request_id, IdKind};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let request_id = request_id_of(&req)?;
    match route(req, &env, &request_id).await {
        Ok(response) => Ok(response),
        Err(e) => {
            worker::console_error!("{request_id}: {e}");
            respond::error(500, "internal error; see the logs for this requestId", &request_id)
        }
    }
}

/// The caller's `x-request-id` when it is valid, else a new one.
fn request_id_of(req: &Request) -> Result<String> {
    match req.headers().get(REQUEST_ID_HEADER)? {
        Some(id) if IdKind::Request.check(&id).is_ok() => Ok(id),
        _ => Ok(new_request_id(super::random_bytes()?)),
    }
}

async fn route(req: Request, env: &Env, request_id: &str) -> Result<Response> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ["events", event_id, rest @ ..] = segments.as_slice() else {
        return respond::error(404, format!("no route for {path}"), request_id);
    };
    if let Err(e) = IdKind::Event.check(event_id) {
        return respond::error(400, e, request_id);
    }
    let method = req.method();
    match (method.clone(), rest) {
        (Method::Get, []) => {
            let (status, instance) = RoomClient::new(env, event_id)?.status().await?;
            let mut response = respond::json(200, &status, request_id)?;
            response.headers_mut().set(INSTANCE_HEADER, &instance)?;
            Ok(response)
        }
        (Method::Post, ["photos"]) => upload(req, env, event_id, request_id).await,
        (Method::Get, ["photos", photo_id]) => {
            if let Err(e) = IdKind::Photo.check(photo_id) {
                return respond::error(400, e, request_id);
            }
            match RoomClient::new(env, event_id)?.photo(photo_id).await? {
                Some(view) => respond::json(200, &view, request_id),
                None => respond::error(404, format!("no photo {photo_id} in event {event_id}"), request_id),
            }
        }
        (Method::Get, ["ws"]) => connect(req, env, event_id, request_id).await,
        (_, ["socket.io"]) => socketio_connect::connect(req, env, event_id, request_id).await,
        (_, [] | ["photos"] | ["photos", _] | ["ws"]) => {
            respond::error(405, format!("{method:?} is not allowed on {path}"), request_id)
        }
        _ => respond::error(404, format!("no route for {path}"), request_id),
    }
}

/// Hands a WebSocket upgrade to the event's room, which accepts it with hibernation.
async fn connect(req: Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return respond::error(426, "this route takes a WebSocket upgrade", request_id);
    }
    let since = match req.url()?.query_pairs().find(|(key, _)| key == "since") {
        None => None,
        Some((_, value)) => match value.parse::<u64>() {
            Ok(since) => Some(since),
            Err(_) => return respond::error(400, "since must be a seq: a whole number", request_id),
        },
    };
    let answer = RoomClient::new(env, event_id)?.connect(since).await?;
    match answer.websocket() {
        Some(socket) => Ok(ResponseBuilder::new()
            .with_status(101)
            .with_header(REQUEST_ID_HEADER, request_id)?
            .with_websocket(socket)
            .empty()),
        None => respond::error(500, "the event's room did not accept the socket", request_id),
    }
}
