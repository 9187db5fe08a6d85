//! JSON answers, each carrying the request's id back in `x-request-id`.

use serde::Serialize;
use worker::{Response, Result};

use crate::protocol::ErrorBody;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub fn json<T: Serialize>(status: u16, body: &T, request_id: &str) -> Result<Response> {
    let mut response = Response::from_json(body)?.with_status(status);
    response.headers_mut().set(REQUEST_ID_HEADER, request_id)?;
    Ok(response)
}

pub fn error(status: u16, message: impl Into<String>, request_id: &str) -> Result<Response> {
    json(status, &ErrorBody { error: message.into() }, request_id)
}
