//! `POST /events/{eventId}/photos`: the photo's bytes to R2, the photo to its room, a job to
//! the queue. The room learns of the photo before its job exists, so totals never lag.

use worker::{Env, HttpMetadata, Request, Response, Result};

use super::respond;
use super::room_client::RoomClient;
use super::{photo_key, random_bytes, PHOTOS_BUCKET, PHOTO_JOBS_QUEUE};
use crate::ids::{content_digest, new_photo_id, IdKind};
use crate::protocol::{PhotoJob, Registered, Registration, UploadAccepted};

const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

pub async fn upload(mut req: Request, env: &Env, event_id: &str, request_id: &str) -> Result<Response> {
    // Read the body before any refusal: a client still sending when the answer comes sees a
    // broken connection instead of the status that says why.
    let bytes = req.bytes().await?;
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
    if bytes.is_empty() {
        return respond::error(400, "the body is empty: send the photo's bytes", request_id);
    }

    let photo_id = match req.headers().get("x-photo-id")? {
        Some(named) => match IdKind::Photo.check(&named) {
            Ok(()) => named,
            Err(e) => return respond::error(400, e, request_id),
        },
        None => new_photo_id(random_bytes()?),
    };
    let registration = Registration {
        photo_id: photo_id.clone(),
        request_id: request_id.to_string(),
        digest: content_digest(&bytes),
    };
    // The room decides first, so a conflicting upload never overwrites the stored photo.
    let registered = RoomClient::new(env, event_id)?.register(&registration).await?;
    if registered == Registered::Conflict {
        return respond::error(409, format!("photo {photo_id} was already uploaded with other bytes"), request_id);
    }
    env.bucket(PHOTOS_BUCKET)?
        .put(photo_key(event_id, &photo_id), bytes)
        .http_metadata(HttpMetadata { content_type: Some(media_type), ..Default::default() })
        .execute()
        .await?;
    // A repeated upload of a photo still pending queues it again: harmless (the room applies
    // each step once), and it rescues an upload whose first attempt failed before queueing.
    if registered != Registered::Done {
        let job = PhotoJob {
            event_id: event_id.to_string(),
            photo_id: photo_id.clone(),
            request_id: request_id.to_string(),
        };
        env.queue(PHOTO_JOBS_QUEUE)?.send(&job).await?;
    }
    let accepted = UploadAccepted {
        event_id: event_id.to_string(),
        photo_id,
        request_id: request_id.to_string(),
        status: if registered == Registered::Done { "done" } else { "queued" }.to_string(),
    };
    respond::json(if registered == Registered::Done { 200 } else { 202 }, &accepted, request_id)
}
