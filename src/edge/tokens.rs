//! `POST /events/{eventId}/tokens`: a subscribe token for one event (API token required),
//! body `{"ttlSeconds": n}` optional (default one day, at most thirty).

use serde::{Deserialize, Serialize};
use worker::{Date, Request, Response, Result};

use super::access::Access;
use super::respond;
use crate::guard::issue_token;

const DEFAULT_TTL_SECS: u64 = 24 * 3600;
const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    ttl_seconds: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuedToken {
    event_id: String,
    token: String,
    expires_at: u64,
}

pub async fn issue(req: &mut Request, access: &Access, event_id: &str, request_id: &str) -> Result<Response> {
    let Some(secret) = access.event_token_secret() else {
        return respond::error(404, "subscribe tokens are off: no EVENT_TOKEN_SECRET is configured", request_id);
    };
    let body = req.text().await?;
    let asked: TokenRequest = if body.trim().is_empty() {
        TokenRequest::default()
    } else {
        match serde_json::from_str(&body) {
            Ok(asked) => asked,
            Err(e) => return respond::error(400, format!("the body must be {{\"ttlSeconds\": number}}: {e}"), request_id),
        }
    };
    let ttl = asked.ttl_seconds.unwrap_or(DEFAULT_TTL_SECS).clamp(1, MAX_TTL_SECS);
    let expires_at = Date::now().as_millis() / 1000 + ttl;
    let token = issue_token(secret, event_id, expires_at);
    respond::json(201, &IssuedToken { event_id: event_id.to_string(), token, expires_at }, request_id)
}
