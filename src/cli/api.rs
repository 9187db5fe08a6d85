//! The Worker's HTTP API as the CLI uses it: one event's status, its photos, uploads and the
//! socket URL, with the API token for writes and a subscribe token for reads when the Worker
//! asks for one. Bodies are the crate's own protocol types.

use std::time::Duration;

use finishline::ids::IdKind;
use finishline::protocol::{ErrorBody, EventStatus, PhotoPage, PhotoView, UploadAccepted};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

/// Where the event lives and who we are to it.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The Worker's URL, without a trailing slash.
    base: Url,
    event_id: String,
    api_token: Option<String>,
    /// Sent as `?token=` on reads and sockets once the Worker asked for one.
    read_token: Option<String>,
}

/// How an upload went wrong, by what the CLI should do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadError {
    /// The Worker refuses every upload (no or a wrong API token): stop.
    Fatal(String),
    /// This photo is refused (too large, not a photo, other bytes under its id): skip it.
    Refused { status: u16, reason: String },
    /// The network or the Worker failed: worth another try.
    Transient(String),
}

/// A subscribe token from `POST /events/{id}/tokens`.
#[derive(Deserialize)]
struct IssuedToken {
    token: String,
}

impl Api {
    /// Checks the URL and the event id, then reads the event's status, which proves both (and
    /// the tokens); when reads need a subscribe token, gets one with the API token.
    pub async fn connect(
        url: &str,
        event_id: &str,
        api_token: Option<String>,
        read_token: Option<String>,
    ) -> Result<(Api, EventStatus), String> {
        IdKind::Event.check(event_id)?;
        let base = Url::parse(url.trim_end_matches('/')).map_err(|e| format!("--url {url:?} is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(format!("--url must be the Worker's http:// or https:// address, not {url:?}"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("finishline-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        // An empty token (e.g. FINISHLINE_TOKEN=) counts as none.
        let (api_token, read_token) = (api_token.filter(|t| !t.is_empty()), read_token.filter(|t| !t.is_empty()));
        let mut api = Api { http, base, event_id: event_id.to_string(), api_token, read_token };
        match api.status().await {
            Err((StatusCode::UNAUTHORIZED, _)) if api.read_token.is_none() && api.api_token.is_some() => {
                api.read_token = Some(api.subscribe_token().await?);
                let status = api.status().await.map_err(|(_, e)| e)?;
                Ok((api, status))
            }
            Err((StatusCode::UNAUTHORIZED, e)) if api.read_token.is_none() => {
                Err(format!("{e}: pass --token <API token> or --subscribe-token <token>"))
            }
            Err((_, e)) => Err(e),
            Ok(status) => Ok((api, status)),
        }
    }

    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        let base_path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base_path}/events/{}{path}", self.event_id));
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
            if let Some(token) = &self.read_token {
                pairs.append_pair("token", token);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    /// `GET /events/{id}`; the error keeps the status so `connect` can tell a 401.
    pub async fn status(&self) -> Result<EventStatus, (StatusCode, String)> {
        let url = self.url("", &[]);
        let answer = self.http.get(url.clone()).send().await.map_err(|e| (StatusCode::BAD_GATEWAY, unreachable(&url, &e)))?;
        json_of(answer).await
    }

    /// Every photo the event holds (`GET /events/{id}/photos`, page after page).
    pub async fn photos(&self) -> Result<Vec<PhotoView>, String> {
        let mut photos = Vec::new();
        let mut cursor = None;
        loop {
            let mut query = vec![("limit", "200".to_string())];
            query.extend(cursor.take().map(|c| ("cursor", c)));
            let url = self.url("/photos", &query);
            let answer = self.http.get(url.clone()).send().await.map_err(|e| unreachable(&url, &e))?;
            let page: PhotoPage = json_of(answer).await.map_err(|(_, e)| e)?;
            photos.extend(page.photos);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(photos),
            }
        }
    }

    /// Checks the API token before any photo is sent, with a write that has no body
    /// (`POST /events/{id}/tokens`): a Worker that refuses a photo's upload may answer before
    /// the body is sent, and the client then sees a broken connection instead of the 401.
    pub async fn check_writer(&self) -> Result<(), String> {
        let url = self.url("/tokens", &[]);
        let mut request = self.http.post(url.clone()).header("content-length", 0);
        if let Some(token) = &self.api_token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.map_err(|e| unreachable(&url, &e))?;
        match answer.status().as_u16() {
            // 404: subscribe tokens are off, yet the API token passed.
            200..=299 | 404 => Ok(()),
            _ => match json_of::<serde_json::Value>(answer).await {
                Err((_, reason)) if self.api_token.is_none() => Err(format!("{reason}: pass --token <API token>")),
                Err((StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, reason)) => {
                    Err(format!("the Worker refused the API token: {reason}"))
                }
                Err((_, reason)) => Err(format!("the Worker refuses uploads: {reason}")),
                Ok(_) => Ok(()),
            },
        }
    }

    async fn subscribe_token(&self) -> Result<String, String> {
        let url = self.url("/tokens", &[]);
        let mut request = self.http.post(url.clone());
        if let Some(token) = &self.api_token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.map_err(|e| unreachable(&url, &e))?;
        let issued: IssuedToken = json_of(answer).await.map_err(|(status, e)| match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                format!("the Worker refused the API token (for a subscribe token, which reading this event needs): {e}")
            }
            _ => format!("cannot get a subscribe token: {e}"),
        })?;
        Ok(issued.token)
    }

    /// `POST /events/{id}/photos` under `photo_id`: 202 queued, or 200 when the Worker already
    /// processed these bytes under that id.
    pub async fn upload(
        &self,
        photo_id: &str,
        media_type: &str,
        len: u64,
        body: reqwest::Body,
    ) -> Result<UploadAccepted, UploadError> {
        let url = self.url("/photos", &[]);
        let mut request = self
            .http
            .post(url.clone())
            .header("content-type", media_type)
            .header("content-length", len)
            .header("x-photo-id", photo_id)
            .body(body);
        if let Some(token) = &self.api_token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.map_err(|e| UploadError::Transient(unreachable(&url, &e)))?;
        json_of(answer).await.map_err(|(status, reason)| match status.as_u16() {
            401 | 403 => UploadError::Fatal(format!("the Worker refused the upload: {reason}")),
            503 if reason.contains("API_TOKEN") => UploadError::Fatal(format!("the Worker refused the upload: {reason}")),
            408 | 429 | 500.. => UploadError::Transient(reason),
            status => UploadError::Refused { status, reason },
        })
    }

    /// The event's socket, replaying what followed `since`.
    pub fn socket_url(&self, since: u64) -> String {
        let mut url = self.url("/ws", &[("since", since.to_string())]);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // http -> ws and https -> wss are always allowed by the URL standard.
        let _ = url.set_scheme(scheme);
        url.to_string()
    }
}

/// The body as `T` on success; otherwise the status and the Worker's `{"error"}` (or the body).
async fn json_of<T: serde::de::DeserializeOwned>(answer: reqwest::Response) -> Result<T, (StatusCode, String)> {
    let status = answer.status();
    let text = answer.text().await.map_err(|e| (StatusCode::BAD_GATEWAY, format!("the answer broke off: {e}")))?;
    if status.is_success() {
        return serde_json::from_str(&text)
            .map_err(|e| (status, format!("the answer is not what a finishline Worker sends ({e}): is --url right?")));
    }
    let reason = serde_json::from_str::<ErrorBody>(&text).map(|b| b.error).unwrap_or_else(|_| {
        let text = text.trim();
        if text.is_empty() { status.to_string() } else { text.chars().take(200).collect() }
    });
    Err((status, format!("{} {reason}", status.as_u16())))
}

fn unreachable(url: &Url, e: &reqwest::Error) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    let cause = std::error::Error::source(e).map(|s| format!(": {s}")).unwrap_or_default();
    format!("cannot reach {shown}{cause}")
}
