//! Calls from the Worker and the queue consumer to an event's room (its Durable Object).
//! The room's internal routes are `https://room/{eventId}/...`: the room learns its event's
//! id from every call, so it never depends on memory that hibernation wipes.

use serde::{de::DeserializeOwned, Serialize};
use worker::{wasm_bindgen::JsValue, Env, Error, Headers, Method, Request, RequestInit, Response, Result, Stub};

use super::event_room::INSTANCE_HEADER;
use super::EVENT_ROOM;
use crate::protocol::{EventStatus, PhotoView, Registration, RoomReport};

pub struct RoomClient {
    stub: Stub,
    base: String,
}

impl RoomClient {
    pub fn new(env: &Env, event_id: &str) -> Result<RoomClient> {
        let stub = env.durable_object(EVENT_ROOM)?.id_from_name(event_id)?.get_stub()?;
        Ok(RoomClient { stub, base: format!("https://room/{event_id}") })
    }

    pub async fn register(&self, registration: &Registration) -> Result<()> {
        self.send(Method::Post, "/photos", Some(registration)).await.map(drop)
    }

    pub async fn report(&self, report: &RoomReport) -> Result<()> {
        self.send(Method::Post, "/reports", Some(report)).await.map(drop)
    }

    /// The event's counters, and when the room's current instance started.
    pub async fn status(&self) -> Result<(EventStatus, String)> {
        let response = self.send::<()>(Method::Get, "", None).await?;
        let instance = response.headers().get(INSTANCE_HEADER)?.unwrap_or_default();
        Ok((json(response).await?, instance))
    }

    pub async fn photo(&self, photo_id: &str) -> Result<Option<PhotoView>> {
        let response = self.send::<()>(Method::Get, &format!("/photos/{photo_id}"), None).await?;
        if response.status_code() == 404 {
            return Ok(None);
        }
        json(response).await.map(Some)
    }

    /// Asks the room to accept a WebSocket; the answer carries the client's end.
    pub async fn connect(&self) -> Result<Response> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_headers(headers);
        let request = Request::new_with_init(&format!("{}/ws", self.base), &init)?;
        self.stub.fetch_with_request(request).await
    }

    async fn send<B: Serialize>(&self, method: Method, path: &str, body: Option<&B>) -> Result<Response> {
        let mut init = RequestInit::new();
        init.with_method(method);
        if let Some(body) = body {
            init.with_body(Some(JsValue::from_str(&serde_json::to_string(body)?)));
        }
        let request = Request::new_with_init(&format!("{}{path}", self.base), &init)?;
        let mut response = self.stub.fetch_with_request(request).await?;
        match response.status_code() {
            200..=299 | 404 => Ok(response),
            status => Err(Error::RustError(format!(
                "room {}{path} answered {status}: {}",
                self.base,
                response.text().await.unwrap_or_default()
            ))),
        }
    }
}

async fn json<T: DeserializeOwned>(mut response: Response) -> Result<T> {
    response.json().await
}
