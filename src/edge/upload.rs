//! `POST /events/{eventId}/photos`: the photo's bytes to R2, the photo to its room, a job to
//! the queue. The room learns of the photo before its job exists, so totals never lag.
//! The API token was checked by the router.

use futures_util::StreamExt;
use worker::{Env, HttpMetadata, Request, Response, Result};

use super::access::Access;
use super::respond;
use super::room_client::RoomClient;
use super::{photo_key, random_bytes, PHOTOS_BUCKET, PHOTO_JOBS_QUEUE};
use crate::ids::{content_digest, new_photo_id, IdKind};
use crate::protocol::{LogLine, PhotoJob, Registered, Registration, UploadAccepted};
use crate::vision::{inspect, VisionError};

const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

pub async fn upload(
    req: &mut Request,
    env: &Env,
    access: &Access,
    event_id: &str,
    request_id: &str,
    log: &mut LogLine,
) -> Result<Response> {
    let limits = access.limits;
    let Some(bytes) = read_body(req, limits.max_upload_bytes).await? else {
        let mb = limits.max_upload_bytes as f64 / (1024.0 * 1024.0);
        return respond::error(413, format!("the photo is larger than {mb:.0} MB"), request_id);
    };
    if bytes.is_empty() {
        return respond::error(400, "the body is empty: send the photo's bytes", request_id);
    }
    let declared = req.headers().get("content-type")?.unwrap_or_default();
    let declared = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !ACCEPTED_TYPES.contains(&declared.as_str()) {
        return respond::error(415, format!("Content-Type must be one of {}", ACCEPTED_TYPES.join(", ")), request_id);
    }
    // The bytes decide what a photo is, not the header.
    let inspected = match inspect(&bytes) {
        Ok(inspected) if inspected.media_type == declared => inspected,
        Ok(inspected) => {
            let reason = format!("the bytes are {}, not the {declared} the Content-Type says", inspected.media_type);
            return respond::error(415, reason, request_id);
        }
        Err(e @ VisionError::UnsupportedFormat) => {
            return respond::error(415, format!("{e} (judged from the bytes)"), request_id)
        }
        // Its size, from its header: the pipeline would refuse it with the same words.
        Err(e) => return respond::error(422, e.to_string(), request_id),
    };
    if let Some((w, h)) = inspected.dimensions {
        if u64::from(w) * u64::from(h) > limits.max_megapixels * 1_000_000 {
            let reason = format!("the photo declares {w}x{h} pixels; the limit is {} megapixels", limits.max_megapixels);
            return respond::error(422, reason, request_id);
        }
    }

    let photo_id = match req.headers().get("x-photo-id")? {
        Some(named) => match IdKind::Photo.check(&named) {
            Ok(()) => named,
            Err(e) => return respond::error(400, e, request_id),
        },
        None => new_photo_id(random_bytes()?),
    };
    log.photo_id = Some(photo_id.clone());
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
        .http_metadata(HttpMetadata { content_type: Some(declared), ..Default::default() })
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

/// The whole body, or `None` when it is over `limit` bytes. An oversized body is read to its
/// end and dropped chunk by chunk (memory stays bounded): a client still sending when the
/// answer comes would see a broken connection instead of the 413 that says why.
async fn read_body(req: &mut Request, limit: u64) -> Result<Option<Vec<u8>>> {
    let declared: Option<u64> = req.headers().get("content-length")?.and_then(|l| l.parse().ok());
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    let mut over = declared.is_some_and(|len| len > limit);
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        over = over || body.len() as u64 + chunk.len() as u64 > limit;
        if over {
            body = Vec::new();
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    Ok((!over).then_some(body))
}
