//! The queue consumer: runs the vision pipeline on each photo and reports every stage to the
//! photo's room. Delivery is at least once; the room ignores what it has already applied.
//!
//! A photo that cannot be read is a result (photo:failed with the reason), not a retry.
//! Anything else that goes wrong (storage, the room unreachable) is retried, and after the
//! last retry the dead letter queue's consumer marks the photo failed.

use std::cell::OnceCell;

use worker::{event, Context, Env, MessageBatch, MessageExt, Result};

use super::room_client::RoomClient;
use super::{photo_key, PHOTOS_BUCKET};
use crate::protocol::{PhotoJob, Report, RoomReport, Stage};
use crate::vision::{Pipeline, VisionError};

thread_local! {
    /// Models are parsed and optimized once per isolate, never per photo.
    static PIPELINE: OnceCell<std::result::Result<&'static Pipeline, String>> = const { OnceCell::new() };
}

fn pipeline() -> std::result::Result<&'static Pipeline, String> {
    PIPELINE.with(|cell| {
        cell.get_or_init(|| {
            Pipeline::embedded().map(|p| &*Box::leak(Box::new(p))).map_err(|e| e.to_string())
        })
        .clone()
    })
}

#[event(queue)]
async fn consume(batch: MessageBatch<PhotoJob>, env: Env, _ctx: Context) -> Result<()> {
    let dead_letters = batch.queue().ends_with("-dlq");
    for message in batch.messages()? {
        let job = message.body();
        let outcome = if dead_letters {
            report(&env, job, Report::Failed { error: "processing failed after every retry".into() }).await
        } else {
            process(&env, job).await
        };
        match outcome {
            Ok(()) => message.ack(),
            Err(e) => {
                worker::console_error!("{} {}/{}: will retry: {e}", job.request_id, job.event_id, job.photo_id);
                message.retry();
            }
        }
    }
    Ok(())
}

async fn process(env: &Env, job: &PhotoJob) -> Result<()> {
    let Some(object) = env.bucket(PHOTOS_BUCKET)?.get(photo_key(&job.event_id, &job.photo_id)).execute().await? else {
        return report(env, job, Report::Failed { error: "the photo is missing from storage".into() }).await;
    };
    let bytes = object.body().ok_or_else(|| worker::Error::RustError("R2 object without body".into()))?.bytes().await?;
    let pipeline = pipeline().map_err(|e| worker::Error::RustError(format!("models did not load: {e}")))?;
    let outcome = run_stages(env, job, pipeline, &bytes).await?;
    let last = match outcome {
        Ok(reading) => Report::Completed { reading },
        Err(e) => Report::Failed { error: e.to_string() },
    };
    report(env, job, last).await
}

/// Runs the stages in order, reporting each as it finishes. The outer error is a reporting
/// failure (retry); the inner one is the photo's own failure.
async fn run_stages(
    env: &Env,
    job: &PhotoJob,
    pipeline: &Pipeline,
    bytes: &[u8],
) -> Result<std::result::Result<crate::vision::PhotoReading, VisionError>> {
    let photo = match pipeline.decode(bytes) {
        Ok(photo) => photo,
        Err(e) => return Ok(Err(e)),
    };
    let regions = match pipeline.detect(&photo) {
        Ok(regions) => regions,
        Err(e) => return Ok(Err(e)),
    };
    report(env, job, Report::Progress { stage: Stage::Detection }).await?;
    let detections = match pipeline.read(&photo, &regions) {
        Ok(detections) => detections,
        Err(e) => return Ok(Err(e)),
    };
    report(env, job, Report::Progress { stage: Stage::Ocr }).await?;
    let reading = pipeline.color(&photo, detections);
    report(env, job, Report::Progress { stage: Stage::Color }).await?;
    Ok(Ok(reading))
}

async fn report(env: &Env, job: &PhotoJob, report: Report) -> Result<()> {
    let report = RoomReport { photo_id: job.photo_id.clone(), request_id: job.request_id.clone(), report };
    RoomClient::new(env, &job.event_id)?.report(&report).await
}
