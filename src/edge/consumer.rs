//! The queue consumer: runs the vision pipeline on each photo and reports every stage to the
//! photo's room. Delivery is at least once; the room ignores what it has already applied.
//!
//! A photo that cannot be read is a result (photo:failed with the reason), not a retry.
//! Anything else that goes wrong (storage, the room unreachable) is retried, and after the
//! last retry the dead letter queue's consumer marks the photo failed.

use std::cell::{Cell, OnceCell};
use std::time::Duration;

use worker::{event, Context, Date, Env, MessageBatch, MessageExt, Result};

use super::room_client::RoomClient;
use super::{photo_key, random_bytes, var, ASSETS, PHOTOS_BUCKET};
use crate::protocol::{LogLine, ModelMs, PhotoJob, Report, RoomReport, Stage};
use crate::vision::{self, InferenceTimes, OpTimes, PhotoReading, Pipeline, VisionError, DETECTION_MODEL_FILE, RECOGNITION_MODEL_FILE};

thread_local! {
    /// Models are parsed and optimized once per isolate, never per photo.
    static PIPELINE: OnceCell<std::result::Result<&'static Pipeline, String>> = const { OnceCell::new() };
}

/// The isolate's pipeline, loading it on first use from the model files the Worker serves as
/// static assets (deployed with the code, outside its script size: models/README.md). A
/// failed fetch is retried by the next job; a model that does not load stays an error.
async fn pipeline(env: &Env) -> Result<&'static Pipeline> {
    if PIPELINE.with(|cell| cell.get().is_none()) {
        let det = model_file(env, DETECTION_MODEL_FILE).await?;
        let rec = model_file(env, RECOGNITION_MODEL_FILE).await?;
        // Another job of this isolate may have loaded it while these were fetched: the
        // check and the load below are one synchronous step, so it is loaded only once.
        // DETECTION_SIZE (a Worker variable, optional): docs/accuracy.md, "Wide shots".
        let detection_size = var(env, "DETECTION_SIZE");
        PIPELINE.with(|cell| {
            cell.get_or_init(|| {
                let pipeline = Pipeline::load(&det, &rec).map_err(|e| e.to_string())?;
                let pipeline = match detection_size {
                    Some(pixels) => pixels
                        .parse()
                        .map_err(|_| format!("DETECTION_SIZE {pixels:?} is not a number of pixels"))
                        .and_then(|pixels| pipeline.with_detection_size(pixels))?,
                    None => pipeline,
                };
                Ok(&*Box::leak(Box::new(pipeline)))
            });
        });
    }
    PIPELINE.with(|cell| cell.get().cloned().unwrap_or_else(|| Err("not loaded".into())))
        .map_err(|e| worker::Error::RustError(format!("the vision pipeline did not load: {e}")))
}

/// A model file from the Worker's static assets (public/models/, copied from models/ by
/// scripts/build-worker.sh).
async fn model_file(env: &Env, name: &str) -> Result<Vec<u8>> {
    let mut response = env.assets(ASSETS)?.fetch(format!("https://assets.local/models/{name}"), None).await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "model {name} is not in the static assets (status {}): build with npm run build",
            response.status_code()
        )));
    }
    response.bytes().await
}

#[event(queue)]
async fn consume(batch: MessageBatch<PhotoJob>, env: Env, _ctx: Context) -> Result<()> {
    let dead_letters = batch.queue().ends_with("-dlq");
    // The dead letter queue's verdict is never faulted: it is the end of the line.
    let faults = if dead_letters { FaultSwitch::default() } else { FaultSwitch::from_env(&env) };
    // Benchmarks only (scripts/bench-operators.mjs): inference timed by tract operator.
    let time_ops = var(&env, "OP_TIMES").is_some();
    for message in batch.messages()? {
        let started = Date::now().as_millis();
        let job = Job {
            env: &env,
            job: message.body(),
            faults: &faults,
            time_ops,
            stage_ms: Cell::default(),
            model_ms: Cell::default(),
            closer_look: Cell::default(),
            op_ms: Cell::default(),
            model_load: Cell::default(),
        };
        let outcome = if dead_letters {
            job.report(0, Report::Failed { error: "processing failed after every retry".into() }).await.map(|()| "failed")
        } else {
            job.process().await
        };
        let PhotoJob { request_id, event_id, photo_id } = job.job;
        let outcome = match outcome {
            Ok(outcome) => {
                message.ack();
                outcome
            }
            Err(e) => {
                worker::console_error!("{request_id} {event_id}/{photo_id}: will retry: {e}");
                message.retry();
                "retry"
            }
        };
        let line = LogLine {
            kind: "job",
            request_id: request_id.clone(),
            event_id: Some(event_id.clone()),
            photo_id: Some(photo_id.clone()),
            outcome: outcome.into(),
            duration_ms: Date::now().as_millis().saturating_sub(started),
            stage_ms: job.stage_ms.take().map(Into::into),
            model_ms: job.model_ms.take(),
            closer_look: job.closer_look.get().then_some(true),
            op_ms: job.op_ms.take(),
            model_load_ms: job.model_load.get().map(|(ms, _)| ms),
            wasm_memory_after_load_bytes: job.model_load.get().map(|(_, bytes)| bytes),
            wasm_memory_bytes: Some(wasm_memory_bytes()),
            ..Default::default()
        };
        worker::console_log!("{}", line.to_json());
    }
    Ok(())
}

/// One delivery of a photo's job.
struct Job<'a> {
    env: &'a Env,
    job: &'a PhotoJob,
    faults: &'a FaultSwitch,
    time_ops: bool,
    /// Milliseconds of decode, detection, ocr and color, when every stage ran (for the log).
    stage_ms: Cell<Option<[f64; 4]>>,
    /// Of the detection and ocr stages' milliseconds, those inside model runs (for the log).
    model_ms: Cell<Option<ModelMs>>,
    /// Whether the photo was looked at again closer (for the log).
    closer_look: Cell<bool>,
    /// Milliseconds of inference by tract operator, when `time_ops` (for the log).
    op_ms: Cell<Option<OpTimes>>,
    /// Milliseconds spent loading the models and the wasm memory size right after, when this
    /// job loaded them (for the log).
    model_load: Cell<Option<(u64, u64)>>,
}

impl Job<'_> {
    /// Processes the photo; the outcome names how it ended (for the log).
    async fn process(&self) -> Result<&'static str> {
        let room = RoomClient::new(self.env, &self.job.event_id)?;
        let Some(attempt) = room.start_attempt(&self.job.photo_id).await? else {
            worker::console_error!("{}: the room does not know photo {}", self.job.request_id, self.job.photo_id);
            return Ok("unknown photo");
        };
        let key = photo_key(&self.job.event_id, &self.job.photo_id);
        let Some(object) = self.env.bucket(PHOTOS_BUCKET)?.get(key).execute().await? else {
            let missing = Report::Failed { error: "the photo is missing from storage".into() };
            return self.report(attempt, missing).await.map(|()| "failed");
        };
        let body = object.body().ok_or_else(|| worker::Error::RustError("R2 object without body".into()))?;
        let bytes = body.bytes().await?;
        let (last, outcome) = match self.run_stages(attempt, bytes).await? {
            Ok(reading) => (Report::Completed { reading }, "completed"),
            Err(e) => (Report::Failed { error: e.to_string() }, "failed"),
        };
        self.report(attempt, last).await.map(|()| outcome)
    }

    /// Runs the stages in order, reporting each as it finishes. The outer error is a
    /// reporting failure (retry); the inner one is the photo's own failure.
    async fn run_stages(&self, attempt: u32, bytes: Vec<u8>) -> Result<std::result::Result<PhotoReading, VisionError>> {
        // Stage times are compute only (the reports' awaits are outside them). Date::now()
        // advances only across I/O in production (Spectre mitigation); in local workerd it is
        // real time, which is what scripts/bench-worker.mjs measures.
        let loading = PIPELINE.with(|cell| cell.get().is_none());
        let t = now();
        let pipeline = pipeline(self.env).await?;
        if loading {
            self.model_load.set(Some((now().saturating_sub(t), wasm_memory_bytes())));
        }
        let mut ms = [0.0; 4];
        let t = now();
        let photo = match pipeline.decode(&bytes) {
            Ok(photo) => photo,
            Err(e) => return Ok(Err(e)),
        };
        // The working copy is all the later stages read: the file's bytes (a 24 MP PNG's are
        // ~14 MiB) would only raise the memory's high-water mark during detection.
        drop(bytes);
        ms[0] = since(t);
        let t = now();
        let (regions, mut detection) = self.timed(|| pipeline.detect(&photo));
        let regions = match regions {
            Ok(regions) => regions,
            Err(e) => return Ok(Err(e)),
        };
        ms[1] = since(t);
        self.report(attempt, Report::Progress { stage: Stage::Detection }).await?;
        let t = now();
        let (detections, mut ocr) = self.timed(|| pipeline.read(&photo, &regions));
        let mut detections = match detections {
            Ok(detections) => detections,
            Err(e) => return Ok(Err(e)),
        };
        ms[2] = since(t);
        if detections.is_empty() {
            // A closer look (docs/accuracy.md): seconds more of CPU. Each step yields first, so
            // that local workerd, which runs every request on this thread, serves requests
            // between them (an upload held behind the whole closer look had its connection reset).
            worker::Delay::from(Duration::ZERO).await;
            let t = now();
            let (closer, more) = self.timed(|| pipeline.closer_regions(&photo, &detections));
            let closer = match closer {
                Ok(closer) => closer,
                Err(e) => return Ok(Err(e)),
            };
            (ms[1], detection) = (ms[1] + since(t), detection + more);
            if let Some(closer) = closer {
                self.closer_look.set(true);
                worker::Delay::from(Duration::ZERO).await;
                let t = now();
                let (read, more) = self.timed(|| pipeline.read(&photo, &closer));
                detections = match read {
                    Ok(detections) => detections,
                    Err(e) => return Ok(Err(e)),
                };
                (ms[2], ocr) = (ms[2] + since(t), ocr + more);
            }
        }
        self.report(attempt, Report::Progress { stage: Stage::Ocr }).await?;
        let t = now();
        let reading = pipeline.color(&photo, detections);
        ms[3] = since(t);
        self.stage_ms.set(Some(ms));
        self.model_ms.set(Some(ModelMs { detection, ocr }));
        self.report(attempt, Report::Progress { stage: Stage::Color }).await?;
        Ok(Ok(reading))
    }

    /// Runs a stage, with the milliseconds of its model runs, and keeps them by operator when
    /// asked (`Date.now()` is real time in local workerd, and its millisecond steps average out
    /// over a photo's runs and thousands of nodes).
    fn timed<T>(&self, stage: impl FnOnce() -> T) -> (T, f64) {
        let (out, InferenceTimes { model_ms, by_operator }) = vision::timed(worker::js_sys::Date::now, self.time_ops, stage);
        if self.time_ops {
            let mut all = self.op_ms.take().unwrap_or_default();
            for (op, ms) in by_operator {
                *all.entry(op).or_default() += ms;
            }
            self.op_ms.set(Some(all));
        }
        (out, model_ms)
    }

    async fn report(&self, attempt: u32, report: Report) -> Result<()> {
        self.faults.maybe_fail("before reporting", &self.job.photo_id)?;
        let report = RoomReport {
            photo_id: self.job.photo_id.clone(),
            request_id: self.job.request_id.clone(),
            attempt,
            report,
        };
        RoomClient::new(self.env, &self.job.event_id)?.report(&report).await?;
        self.faults.maybe_fail("after reporting", &self.job.photo_id)
    }
}

fn now() -> u64 {
    Date::now().as_millis()
}

fn since(t: u64) -> f64 {
    now().saturating_sub(t) as f64
}

/// The wasm linear memory's size in bytes: it never shrinks, so this is the high-water mark.
fn wasm_memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65536
}

/// Test-only fault injection, off unless configured: with `FAULT_RATE` set (0 to 1), each
/// report fails at that rate just before or just after it is sent, as a crash of the consumer
/// would; the photos named in `FAULT_PHOTOS` (comma-separated ids) fail every time, so they
/// use up their retries and reach the dead letter queue.
#[derive(Default)]
struct FaultSwitch {
    rate: f64,
    always: Vec<String>,
}

impl FaultSwitch {
    fn from_env(env: &Env) -> FaultSwitch {
        let var = |name| var(env, name).unwrap_or_default();
        FaultSwitch {
            rate: var("FAULT_RATE").parse().unwrap_or(0.0),
            always: var("FAULT_PHOTOS").split(',').filter(|id| !id.is_empty()).map(str::to_string).collect(),
        }
    }

    fn maybe_fail(&self, when: &str, photo_id: &str) -> Result<()> {
        let fault = || Err(worker::Error::RustError(format!("injected fault {when}")));
        if self.always.iter().any(|id| id == photo_id) {
            return fault();
        }
        if self.rate <= 0.0 {
            return Ok(());
        }
        let [a, b, c, d, ..] = random_bytes()?;
        if (u32::from_le_bytes([a, b, c, d]) as f64) < self.rate * u32::MAX as f64 {
            return fault();
        }
        Ok(())
    }
}
