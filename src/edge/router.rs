//! The Worker's fetch handler: checks ids and access, then hands each route to R2, the queue
//! or the event's room. It holds no state, and logs one JSON line per request.

use futures_util::StreamExt;
use worker::{event, Context, Date, Env, Headers, Method, Request, Response, ResponseBuilder, Result};

use super::access::{Access, Refusal};
use super::event_room::INSTANCE_HEADER;
use super::respond::{self, REQUEST_ID_HEADER};
use super::room_client::RoomClient;
use super::socketio_connect;
use super::tokens::issue;
use super::upload::upload;
use super::{photo_key, query, PHOTOS_BUCKET};
use crate::ids::{new_request_id, IdKind};
use crate::protocol::LogLine;

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = Date::now().as_millis();
    let access = Access::from_env(&env);
    let cors_origin = access.cors_origin(&req)?;
    let mut log = LogLine { kind: "request", route: Some(format!("{} {}", req.method(), req.path())), ..Default::default() };
    let response = match request_id_of(&req)? {
        Ok(request_id) => {
            log.request_id = request_id.clone();
            match route(&mut req, &env, &access, &request_id, &mut log).await {
                Ok(response) => response,
                Err(e) => {
                    worker::console_error!("{request_id}: {e}");
                    respond::error(500, "internal error; see the logs for this requestId", &request_id)?
                }
            }
        }
        Err((refusal, request_id)) => {
            log.request_id = request_id.clone();
            respond::error(refusal.0, refusal.1, &request_id)?
        }
    };
    if !req.inner().body_used() {
        discard_body(&mut req, access.limits.max_upload_bytes).await;
    }
    let response = with_cors(response, cors_origin)?;
    log.status = Some(response.status_code());
    log.outcome = match response.status_code() {
        500.. => "error",
        400.. => "refused",
        _ => "ok",
    }
    .into();
    log.duration_ms = Date::now().as_millis().saturating_sub(started);
    worker::console_log!("{}", log.to_json());
    Ok(response)
}

/// The caller's `x-request-id`, a new one when there is none, or a refusal when it is invalid.
fn request_id_of(req: &Request) -> Result<std::result::Result<String, (Refusal, String)>> {
    let fresh = new_request_id(super::random_bytes()?);
    Ok(match req.headers().get(REQUEST_ID_HEADER)? {
        None => Ok(fresh),
        Some(id) => match IdKind::Request.check(&id) {
            Ok(()) => Ok(id),
            Err(e) => Err(((400, e), fresh)),
        },
    })
}

async fn route(req: &mut Request, env: &Env, access: &Access, request_id: &str, log: &mut LogLine) -> Result<Response> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ["events", event_id, rest @ ..] = segments.as_slice() else {
        return respond::error(404, format!("no route for {path}"), request_id);
    };
    if let Err(e) = IdKind::Event.check(event_id) {
        return respond::error(400, e, request_id);
    }
    log.event_id = Some(event_id.to_string());
    if let ["photos", photo_id, ..] = rest {
        if let Err(e) = IdKind::Photo.check(photo_id) {
            return respond::error(400, e, request_id);
        }
        log.photo_id = Some(photo_id.to_string());
    }
    let method = req.method();
    if method == Method::Options {
        return preflight(request_id);
    }
    let writes = matches!((&method, rest), (Method::Post, ["photos"] | ["tokens"]));
    if writes {
        if let Some((status, reason)) = access.check_writer(req)? {
            return respond::error(status, reason, request_id);
        }
    }
    let now_secs = Date::now().as_millis() / 1000;
    let refusal = match rest {
        ["ws"] | ["socket.io"] => access.check_subscriber(req, event_id, now_secs)?,
        _ if method == Method::Get => access.check_reader(req, event_id, now_secs)?,
        _ => None,
    };
    if let Some((status, reason)) = refusal {
        return respond::error(status, reason, request_id);
    }
    match (method.clone(), rest) {
        (Method::Get, []) => {
            let (status, instance) = RoomClient::new(env, event_id)?.status().await?;
            let mut response = respond::json(200, &status, request_id)?;
            response.headers_mut().set(INSTANCE_HEADER, &instance)?;
            Ok(response)
        }
        (Method::Post, ["photos"]) => upload(req, env, access, event_id, request_id, log).await,
        (Method::Post, ["tokens"]) => issue(req, access, event_id, request_id).await,
        (Method::Get, ["photos"]) => photos(req, env, event_id, request_id).await,
        (Method::Get, ["photos", photo_id, "image"]) => image(env, event_id, photo_id, request_id).await,
        (Method::Get, ["photos", photo_id]) => match RoomClient::new(env, event_id)?.photo(photo_id).await? {
            Some(view) => respond::json(200, &view, request_id),
            None => respond::error(404, format!("no photo {photo_id} in event {event_id}"), request_id),
        },
        (Method::Get, ["ws"]) => connect(req, env, event_id, request_id).await,
        (_, ["socket.io"]) => socketio_connect::connect(req, env, event_id, request_id).await,
        (_, [] | ["photos"] | ["photos", _] | ["photos", _, "image"] | ["ws"] | ["tokens"]) => {
            respond::error(405, format!("{method} is not allowed on {path}"), request_id)
        }
        _ => respond::error(404, format!("no route for {path}"), request_id),
    }
}

/// Reads and drops a body the answer did not need (a refusal before the upload was read):
/// workerd answers without it and then breaks the connection (workerd#1741), so the client
/// still sending, or its next request on the same connection, gets a reset instead of an
/// answer. Up to the upload limit: a larger body is not worth reading for an answer.
async fn discard_body(req: &mut Request, limit: u64) {
    let Ok(mut stream) = req.stream() else { return };
    let mut read = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len() as u64;
        if read > limit {
            return;
        }
    }
}

/// `GET /events/{id}/photos`: a page (`cursor`, `limit` up to 200), or with `number`, every
/// photo where that number was read.
async fn photos(req: &Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    let forwarded = if let Some(number) = query(req, "number")? {
        if number.is_empty() || number.len() > 16 || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return respond::error(400, "number must be 1-16 letters or digits", request_id);
        }
        format!("number={number}")
    } else {
        let cursor = query(req, "cursor")?.unwrap_or_else(|| "0".into());
        let limit = query(req, "limit")?.unwrap_or_else(|| "50".into());
        match (cursor.parse::<u64>(), limit.parse::<u64>()) {
            (Ok(cursor), Ok(limit @ 1..=200)) => format!("cursor={cursor}&limit={limit}"),
            _ => return respond::error(400, "cursor must come from nextCursor, limit be 1-200", request_id),
        }
    };
    let body = RoomClient::new(env, event_id)?.photos(&forwarded).await?;
    let mut response = Response::ok(body)?;
    response.headers_mut().set("content-type", "application/json")?;
    response.headers_mut().set(REQUEST_ID_HEADER, request_id)?;
    Ok(response)
}

/// `GET /events/{id}/photos/{photoId}/image`: the photo's bytes, streamed from R2.
async fn image(env: &Env, event_id: &str, photo_id: &str, request_id: &str) -> Result<Response> {
    let Some(object) = env.bucket(PHOTOS_BUCKET)?.get(photo_key(event_id, photo_id)).execute().await? else {
        return respond::error(404, format!("no photo {photo_id} in event {event_id}"), request_id);
    };
    let headers = Headers::new();
    let content_type = object.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into());
    headers.set("content-type", &content_type)?;
    headers.set("cache-control", "private, max-age=3600")?;
    headers.set(REQUEST_ID_HEADER, request_id)?;
    let body = object.body().ok_or_else(|| worker::Error::RustError("R2 object without body".into()))?;
    Ok(Response::from_body(body.response_body()?)?.with_headers(headers))
}

/// Hands a WebSocket upgrade to the event's room, which accepts it with hibernation.
async fn connect(req: &Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return respond::error(426, "this route takes a WebSocket upgrade", request_id);
    }
    let since = match query(req, "since")? {
        None => None,
        Some(value) => match value.parse::<u64>() {
            Ok(since) => Some(since),
            Err(_) => return respond::error(400, "since must be a seq: a whole number", request_id),
        },
    };
    upgraded(RoomClient::new(env, event_id)?.connect(since).await?, request_id).await
}

/// The room's answer to an upgrade, passed on with the requestId; a refusal (a full room)
/// is passed on as it is.
pub async fn upgraded(mut answer: Response, request_id: &str) -> Result<Response> {
    if answer.status_code() != 101 {
        let reason = answer.text().await?;
        return respond::error(answer.status_code(), reason, request_id);
    }
    match answer.websocket() {
        Some(socket) => Ok(ResponseBuilder::new()
            .with_status(101)
            .with_header(REQUEST_ID_HEADER, request_id)?
            .with_websocket(socket)
            .empty()),
        None => respond::error(500, "the event's room did not accept the socket", request_id),
    }
}

/// CORS preflight: the browser asks before a cross-origin write.
fn preflight(request_id: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
    headers.set("access-control-allow-headers", "authorization, content-type, x-request-id, x-photo-id")?;
    headers.set("access-control-max-age", "600")?;
    headers.set(REQUEST_ID_HEADER, request_id)?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// Lets an allowed origin read the answer; others get no CORS headers, so browsers block it.
fn with_cors(mut response: Response, origin: Option<String>) -> Result<Response> {
    if let (Some(origin), false) = (origin, response.status_code() == 101) {
        let headers = response.headers_mut();
        headers.set("access-control-allow-origin", &origin)?;
        headers.set("access-control-expose-headers", "x-request-id")?;
        headers.append("vary", "Origin")?;
    }
    Ok(response)
}
