//! The Cloudflare Worker shell: HTTP routing, the EventRoom Durable Object and the queue
//! consumer. Thin by design: every decision is made by the pure modules it calls.

mod access;
mod consumer;
mod event_room;
mod respond;
mod room_client;
mod room_store;
mod router;
mod socketio_connect;
mod tokens;
mod upload;

/// Binding names, as declared in wrangler.toml.
const PHOTOS_BUCKET: &str = "PHOTOS";
const PHOTO_JOBS_QUEUE: &str = "PHOTO_JOBS";
const EVENT_ROOM: &str = "EVENT_ROOM";
/// The static assets: the dashboard, and the model files the consumer loads.
const ASSETS: &str = "ASSETS";

/// A Worker variable or secret; an empty one counts as unset.
fn var(env: &worker::Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

/// A request's query parameter, decoded.
fn query(req: &worker::Request, name: &str) -> worker::Result<Option<String>> {
    Ok(req.url()?.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned()))
}

/// Where a photo's bytes live in R2.
fn photo_key(event_id: &str, photo_id: &str) -> String {
    format!("events/{event_id}/photos/{photo_id}")
}

#[worker::event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// 12 bytes from the platform's CSPRNG (crypto.getRandomValues), for new ids.
fn random_bytes() -> worker::Result<[u8; 12]> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| worker::Error::RustError(format!("no randomness: {e}")))?;
    Ok(bytes)
}
