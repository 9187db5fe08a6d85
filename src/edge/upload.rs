//! `POST /events/{eventId}/photos`: the photo's bytes to R2, the photo to its room, a job to
//! the queue. The room learns of the photo before its job exists, so totals never lag.

use worker::{Env, HttpMetadata, Request, Response, Result};

use super::respond;
use super::room_client::RoomClient;
use super::{photo_key, random_bytes, PHOTOS_BUCKET, PHOTO_JOBS_QUEUE};
use crate::ids::new_photo_id;
use crate::protocol::{PhotoJob, Registration, UploadAccepted};

const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

pub async fn upload(mut req: Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    if let Ok(token) = env.var("API_TOKEN") {
        let expected = format!("Bearer {token}");
        if req.headers().get("authorization")?.as_deref() != Some(expected.as_str()) {
            return respond::error(401, "uploads need the header Authorization: Bearer <API_TOKEN>", request_id);
        }
    }
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !ACCEPTED_TYPES.contains(&media_type.as_str()) {
        return respond::error(
            415,
            format!("Content-Type must be one of {}, not {content_type:?}", ACCEPTED_TYPES.join(", ")),
            request_id,
        );
    }
    let bytes = req.bytes().await?;
    if bytes.is_empty() {
        return respond::error(400, "the body is empty: send the photo's bytes", request_id);
    }

    let photo_id = new_photo_id(random_bytes()?);
    env.bucket(PHOTOS_BUCKET)?
        .put(photo_key(event_id, &photo_id), bytes)
        .http_metadata(HttpMetadata { content_type: Some(media_type), ..Default::default() })
        .execute()
        .await?;
    RoomClient::new(env, event_id)?
        .register(&Registration { photo_id: photo_id.clone(), request_id: request_id.to_string() })
        .await?;
    let job = PhotoJob {
        event_id: event_id.to_string(),
        photo_id: photo_id.clone(),
        request_id: request_id.to_string(),
    };
    env.queue(PHOTO_JOBS_QUEUE)?.send(&job).await?;

    let accepted = UploadAccepted {
        event_id: job.event_id,
        photo_id,
        request_id: job.request_id,
        status: "queued".to_string(),
    };
    respond::json(202, &accepted, request_id)
}
