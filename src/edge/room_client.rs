//! Calls from the Worker and the queue consumer to an event's room (its Durable Object).
//! The room's internal routes are `https://room/{eventId}/...`: the room learns its event's
//! id from every call, so it never depends on memory that hibernation wipes.

use serde::{de::DeserializeOwned, Serialize};
use worker::{wasm_bindgen::JsValue, Env, Error, Headers, Method, Request, RequestInit, Response, Result, Stub};

use super::event_room::INSTANCE_HEADER;
use super::EVENT_ROOM;
use crate::protocol::{EventStatus, PhotoView, Registered, Registration, RoomReport};

pub struct RoomClient {
    stub: Stub,
    base: String,
}

impl RoomClient {
    pub fn new(env: &Env, event_id: &str) -> Result<RoomClient> {
        let stub = env.durable_object(EVENT_ROOM)?.id_from_name(event_id)?.get_stub()?;
        Ok(RoomClient { stub, base: format!("https://room/{event_id}") })
    }

    pub async fn register(&self, registration: &Registration) -> Result<Registered> {
        self.send(Method::Post, "/photos", Some(registration)).await?.json()
    }

    /// Counts a new processing attempt of the photo; `None` when the room does not know it.
    pub async fn start_attempt(&self, photo_id: &str) -> Result<Option<u32>> {
        self.send::<()>(Method::Post, &format!("/photos/{photo_id}/attempts"), None).await?.json_unless_missing()
    }

    pub async fn report(&self, report: &RoomReport) -> Result<()> {
        self.send(Method::Post, "/reports", Some(report)).await.map(drop)
    }

    /// The event's counters, and when the room's current instance started.
    pub async fn status(&self) -> Result<(EventStatus, String)> {
        let answer = self.send::<()>(Method::Get, "", None).await?;
        let instance = answer.headers.get(INSTANCE_HEADER)?.unwrap_or_default();
        Ok((answer.json()?, instance))
    }

    /// One page of the event's photos; `query` is the client's own (cursor, limit or number),
    /// checked by the router.
    pub async fn photos(&self, query: &str) -> Result<String> {
        Ok(self.send::<()>(Method::Get, &format!("/photos?{query}"), None).await?.body)
    }

    pub async fn photo(&self, photo_id: &str) -> Result<Option<PhotoView>> {
        self.send::<()>(Method::Get, &format!("/photos/{photo_id}"), None).await?.json_unless_missing()
    }

    /// Asks the room to accept a WebSocket, replaying what followed `since`; the answer
    /// carries the client's end.
    pub async fn connect(&self, since: Option<u64>) -> Result<Response> {
        let query = since.map(|s| format!("?since={s}")).unwrap_or_default();
        self.upgrade(&format!("/ws{query}")).await
    }

    /// Asks the room to accept a socket.io socket (Engine.IO v4 over WebSocket).
    pub async fn connect_socketio(&self) -> Result<Response> {
        self.upgrade("/socket.io").await
    }

    async fn upgrade(&self, path: &str) -> Result<Response> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_headers(headers);
        let request = Request::new_with_init(&format!("{}{path}", self.base), &init)?;
        self.stub.fetch_with_request(request).await
    }

    /// Sends one request to the room and reads its whole answer: an unread body would hold
    /// one of the invocation's few connections open, and enough of them stall every later
    /// subrequest (seen as a queue consumer that never finishes its batch).
    async fn send<B: Serialize>(&self, method: Method, path: &str, body: Option<&B>) -> Result<Answer> {
        let mut init = RequestInit::new();
        init.with_method(method);
        if let Some(body) = body {
            init.with_body(Some(JsValue::from_str(&serde_json::to_string(body)?)));
        }
        let request = Request::new_with_init(&format!("{}{path}", self.base), &init)?;
        let mut response = self.stub.fetch_with_request(request).await?;
        let answer = Answer { status: response.status_code(), body: response.text().await?, headers: response.headers().clone() };
        match answer.status {
            200..=299 | 404 => Ok(answer),
            status => Err(Error::RustError(format!("room {}{path} answered {status}: {}", self.base, answer.body))),
        }
    }
}

/// A room's answer, read whole.
struct Answer {
    status: u16,
    body: String,
    headers: Headers,
}

impl Answer {
    fn json<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_str(&self.body)?)
    }

    /// The body as `T`, or `None` when the room answered 404.
    fn json_unless_missing<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        if self.status == 404 {
            return Ok(None);
        }
        self.json().map(Some)
    }
}
