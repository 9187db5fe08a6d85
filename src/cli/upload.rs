//! `finishline upload <folder>`: names each photo by its bytes, asks the Worker what it already
//! holds, sends the rest a few at a time with progress bars, then follows the event's socket
//! until every photo is processed and prints what was read. Run again, it resumes: nothing is
//! written into the folder, and nothing is processed twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use finishline::ids::content_digest;
use finishline::protocol::{PhotoView, ServerEvent};
use finishline::vision::{inspect, PhotoReading};
use futures_util::{stream, StreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::time::{sleep_until, Instant};

use super::api::{Api, UploadError};
use super::describe::numbers_read;
use super::files::photos_in;
use super::live::{follow, Incoming};
use super::plan::{counts, is_terminal, photo_id_of, plan, unstarted, Action, LocalPhoto};
use super::summary::{self, Outcome, Row};
use super::Target;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Each photo's id is derived from its bytes (x-photo-id), so a run that was stopped resumes where
it stopped: photos the Worker holds are not sent again, and the Worker counts each photo once.
Exit status: 0 when every photo was uploaded and processed (reading no number, or failing to be
read, is a result); 1 when a photo could not be uploaded, or is still processing after
--idle-timeout; 2 for bad arguments.")]
pub struct UploadArgs {
    /// The folder of photos (every .jpg, .jpeg, .png and .webp inside, recursively)
    #[arg(value_name = "FOLDER")]
    folder: PathBuf,
    #[command(flatten)]
    target: Target,
    /// Photos sent at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    /// Stop once every photo is uploaded, without waiting for the Worker to read them
    #[arg(long)]
    no_wait: bool,
    /// Stop waiting after this many seconds without news of any photo
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    idle_timeout: u64,
}

/// Without a frame for this long, ask the Worker over HTTP (a frame may have been lost).
const RECONCILE_AFTER: Duration = Duration::from_secs(15);
const UPLOAD_TRIES: u32 = 4;

pub async fn run(args: UploadArgs) -> Result<ExitCode, String> {
    if !args.folder.is_dir() {
        return Err(format!("{} is not a folder", args.folder.display()));
    }
    let files = photos_in(&args.folder);
    if files.is_empty() {
        return Err(format!("no .jpg, .jpeg, .png or .webp photos in {}", args.folder.display()));
    }
    let t = args.target;
    let (api, status) = Api::connect(&t.url, &t.event, t.token, t.subscribe_token).await?;
    api.check_writer().await?;
    let bars = MultiProgress::new();
    let say = |line: String| bars.suspend(|| println!("{line}"));

    let (photos, unreadable) = identify(&args.folder, files, args.concurrency.into(), &bars).await;
    let held: HashMap<String, PhotoView> =
        api.photos().await?.into_iter().map(|view| (view.photo_id.clone(), view)).collect();
    let actions = plan(&photos, &held);
    let c = counts(&actions);
    let bytes: u64 = photos.iter().zip(&actions).filter(|(_, a)| **a == Action::Send).map(|(p, _)| p.size).sum();
    say(format!(
        "{} photos in {} for event {} at {}: {} to send ({:.1} MB)",
        photos.len() + unreadable.len(),
        args.folder.display(),
        api.event_id(),
        t.url,
        c.send,
        bytes as f64 / 1e6
    ));
    if c.done + c.wait > 0 {
        say(format!("resuming: {} already processed, {} waiting or processing, {} new", c.done, c.wait, c.send));
    }
    if c.same > 0 {
        say(format!("{} files are copies of another file here: each photo is sent once", c.same));
    }
    let ours: HashMap<String, usize> =
        photos.iter().enumerate().rev().map(|(i, photo)| (photo.photo_id.clone(), i)).collect();

    let sent_bar = bars.add(bar(bytes, "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})"));
    sent_bar.set_prefix("uploaded");
    let mut run = Run::new(&photos, &held, args.no_wait, &bars);
    let mut live = (!args.no_wait).then(|| follow(api.clone(), status.last_seq));

    // Uploads, a few at a time, while the socket's frames are applied as they come.
    let to_send: Vec<usize> = (0..photos.len()).filter(|&i| actions[i] == Action::Send).collect();
    let mut uploads = stream::iter(to_send.iter().map(|&i| upload_one(i, &api, &photos[i], &bars, &sent_bar, &say)))
        .buffer_unordered(args.concurrency.into());
    let mut done_sending = to_send.is_empty();
    let mut accepted = 0;
    while !done_sending {
        tokio::select! {
            result = uploads.next() => match result {
                None => done_sending = true,
                Some((i, result)) => {
                    accepted += 1;
                    sent_bar.set_message(format!("{accepted}/{} photos", to_send.len()));
                    run.uploaded(&photos[i], result, "uploaded", &say).inspect_err(|_| bars.clear().unwrap_or(()))?;
                }
            },
            Some(incoming) = next(&mut live) => {
                run.apply(incoming, &api, &say).await;
            }
        }
    }
    drop(uploads);
    sent_bar.finish();

    // Then wait until every photo is processed, asking over HTTP when the event is quiet.
    if let Some(live) = live.as_mut() {
        let give_up = Duration::from_secs(args.idle_timeout);
        let mut last_news = Instant::now();
        let mut sent_again: Vec<String> = Vec::new();
        while !run.finished() {
            let reconcile_at = Instant::now() + RECONCILE_AFTER;
            tokio::select! {
                incoming = live.recv() => match incoming {
                    Some(incoming) => {
                        if run.apply(incoming, &api, &say).await {
                            last_news = Instant::now();
                        }
                    }
                    None => break,
                },
                _ = sleep_until(reconcile_at) => {
                    let views = run.reconcile(&api, &say).await;
                    if views.iter().fold(false, |moved, view| run.settle_from(view) || moved) {
                        last_news = Instant::now();
                    }
                    let stuck: Vec<String> = unstarted(&views, &ours, &sent_again).into_iter().map(String::from).collect();
                    if !stuck.is_empty() {
                        say(format!(
                            "the event is quiet and {} photos were never started (an upload cut short?): sending them again",
                            stuck.len()
                        ));
                        let hidden = ProgressBar::hidden();
                        let again: Vec<_> = stream::iter(stuck.iter().map(|id| upload_one(ours[id], &api, &photos[ours[id]], &bars, &hidden, &say)))
                            .buffer_unordered(args.concurrency.into())
                            .collect()
                            .await;
                        for (i, result) in again {
                            run.uploaded(&photos[i], result, "sent again", &say).inspect_err(|_| bars.clear().unwrap_or(()))?;
                        }
                        sent_again.extend(stuck);
                        last_news = Instant::now();
                    } else if last_news.elapsed() >= give_up {
                        say(format!("no news of any photo for {} s: stopped waiting", give_up.as_secs()));
                        break;
                    }
                }
            }
        }
    }
    run.processed_bar.finish();
    bars.clear().ok();

    let rows = run.rows(&photos, &actions, unreadable);
    let totals = summary::totals(&rows);
    println!("{}", summary::table(&rows));
    println!("{}", summary::totals_line(&totals));
    let waited_in_vain = !args.no_wait && totals.pending > 0;
    Ok(if totals.not_uploaded > 0 || waited_in_vain { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template).expect("a valid template").progress_chars("=> ");
    ProgressBar::new(len).with_style(style)
}

/// The next thing the socket brings; never, when there is no socket (`--no-wait`).
async fn next(live: &mut Option<tokio::sync::mpsc::Receiver<Incoming>>) -> Option<Incoming> {
    match live {
        Some(live) => live.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads every file once (a few at a time, off the async thread) to name it by its bytes and
/// tell what it is; files that are not a JPEG, PNG or WebP are never sent.
async fn identify(
    folder: &Path,
    files: Vec<PathBuf>,
    concurrency: usize,
    bars: &MultiProgress,
) -> (Vec<LocalPhoto>, Vec<(String, String)>) {
    let reading = bars.add(bar(files.len() as u64, "{prefix:>10} [{bar:30}] {pos}/{len} photos"));
    reading.set_prefix("reading");
    let mut identified: Vec<(usize, Result<LocalPhoto, (String, String)>)> = stream::iter(files.into_iter().enumerate())
        .map(|(i, path)| {
            let name = path.strip_prefix(folder).unwrap_or(&path).to_string_lossy().into_owned();
            let reading = reading.clone();
            async move {
                let read = tokio::task::spawn_blocking(move || identify_one(path, name)).await;
                reading.inc(1);
                (i, read.unwrap_or_else(|e| Err(("?".into(), e.to_string()))))
            }
        })
        .buffer_unordered(concurrency.max(2))
        .collect()
        .await;
    reading.finish_and_clear();
    identified.sort_by_key(|(i, _)| *i);
    let mut photos = Vec::new();
    let mut unreadable = Vec::new();
    for (_, result) in identified {
        match result {
            Ok(photo) => photos.push(photo),
            Err(refused) => unreadable.push(refused),
        }
    }
    (photos, unreadable)
}

fn identify_one(path: PathBuf, name: String) -> Result<LocalPhoto, (String, String)> {
    let bytes = std::fs::read(&path).map_err(|e| (name.clone(), format!("cannot read the file: {e}")))?;
    let media_type = inspect(&bytes).map_err(|e| (name.clone(), e.to_string()))?.media_type;
    let photo_id = photo_id_of(&content_digest(&bytes));
    Ok(LocalPhoto { path, name, photo_id, media_type, size: bytes.len() as u64 })
}

/// Sends one photo, trying again after network errors and 5xx answers; the bytes must still be
/// the ones its id was made from. The answer's status (`queued`, or `done`) on success.
async fn upload_one<'a>(
    index: usize,
    api: &'a Api,
    photo: &'a LocalPhoto,
    bars: &'a MultiProgress,
    sent_bar: &'a ProgressBar,
    say: &'a impl Fn(String),
) -> (usize, Result<String, UploadError>) {
    let bytes = match tokio::fs::read(&photo.path).await {
        Ok(bytes) if photo_id_of(&content_digest(&bytes)) == photo.photo_id => bytes,
        Ok(_) => return (index, Err(refused("the file changed while uploading: run again"))),
        Err(e) => return (index, Err(refused(&format!("cannot read the file: {e}")))),
    };
    let file_bar = bars.insert_from_back(1, bar(photo.size, "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {msg}"));
    file_bar.set_message(photo.name.clone());
    let mut delay = Duration::from_secs(1);
    let mut tries = 0;
    let outcome = loop {
        tries += 1;
        file_bar.set_position(0);
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        let (file_bar2, sent_bar2) = (file_bar.clone(), sent_bar.clone());
        let body = stream::iter(chunks).inspect(move |chunk| {
            let n = chunk.as_ref().map_or(0, |c| c.len() as u64);
            file_bar2.inc(n);
            sent_bar2.inc(n);
        });
        match api.upload(&photo.photo_id, photo.media_type, photo.size, reqwest::Body::wrap_stream(body)).await {
            Ok(accepted) => break Ok(accepted.status),
            Err(UploadError::Transient(reason)) if tries < UPLOAD_TRIES => {
                sent_bar.set_position(sent_bar.position().saturating_sub(file_bar.position()));
                say(format!("retrying  {} in {} s: {reason}", photo.name, delay.as_secs()));
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => break Err(e),
        }
    };
    file_bar.finish_and_clear();
    bars.remove(&file_bar);
    (index, outcome)
}

fn refused(reason: &str) -> UploadError {
    UploadError::Refused { status: 0, reason: reason.to_string() }
}

/// What this run knows of its photos, by photoId.
struct Run {
    outcomes: HashMap<String, Outcome>,
    names: HashMap<String, String>,
    processed_bar: ProgressBar,
}

impl Run {
    fn new(photos: &[LocalPhoto], held: &HashMap<String, PhotoView>, no_wait: bool, bars: &MultiProgress) -> Run {
        let mut run = Run { outcomes: HashMap::new(), names: HashMap::new(), processed_bar: ProgressBar::hidden() };
        for photo in photos {
            run.names.entry(photo.photo_id.clone()).or_insert_with(|| photo.name.clone());
            run.outcomes.insert(photo.photo_id.clone(), Outcome::Pending);
        }
        if !no_wait {
            run.processed_bar = bars.add(bar(run.outcomes.len() as u64, "{prefix:>10} [{bar:30}] {pos}/{len} photos"));
            run.processed_bar.set_prefix("processed");
        }
        for view in held.values() {
            run.settle_from(view);
        }
        run
    }

    fn finished(&self) -> bool {
        !self.outcomes.values().any(|o| *o == Outcome::Pending)
    }

    /// Records how a photo ended (the first word counts); true when it is news.
    fn settle(&mut self, photo_id: &str, outcome: Outcome) -> bool {
        match self.outcomes.get_mut(photo_id) {
            Some(slot) if *slot == Outcome::Pending => {
                *slot = outcome;
                self.processed_bar.inc(1);
                true
            }
            _ => false,
        }
    }

    fn settle_from(&mut self, view: &PhotoView) -> bool {
        if !is_terminal(&view.status) {
            return false;
        }
        let outcome = match (&view.result, &view.error) {
            (Some(reading), _) => Outcome::Read(reading.clone()),
            (None, error) => Outcome::Failed(error.clone().unwrap_or_else(|| "failed".into())),
        };
        self.settle(&view.photo_id, outcome)
    }

    /// Records an upload's answer and says it (`verb`: `uploaded`, `sent again`); `Err` when
    /// the Worker refuses every upload, which ends the run.
    fn uploaded(
        &mut self,
        photo: &LocalPhoto,
        result: Result<String, UploadError>,
        verb: &str,
        say: &impl Fn(String),
    ) -> Result<(), String> {
        match result {
            Ok(status) => say(format!("{verb:<9} {}  {} ({status})", photo.name, photo.photo_id)),
            Err(UploadError::Fatal(reason)) => return Err(format!("{reason} (stopped at {})", photo.name)),
            Err(UploadError::Refused { reason, .. } | UploadError::Transient(reason)) => {
                say(format!("refused   {}: {reason}", photo.name));
                if let Some(slot) = self.outcomes.get_mut(&photo.photo_id) {
                    *slot = Outcome::NotUploaded(reason);
                }
            }
        }
        Ok(())
    }

    /// Applies what the socket brought; true when a photo of ours moved.
    async fn apply(&mut self, incoming: Incoming, api: &Api, say: &impl Fn(String)) -> bool {
        let event = match incoming {
            Incoming::Frame { frame: Some(frame), .. } => frame.event,
            Incoming::Frame { frame: None, .. } | Incoming::Connected => return false,
            Incoming::Truncated { .. } => {
                let views = self.reconcile(api, say).await;
                return views.iter().fold(false, |moved, view| self.settle_from(view) || moved);
            }
            Incoming::Dropped(reason) => {
                say(format!("{reason}; reconnecting"));
                return false;
            }
        };
        match event {
            ServerEvent::PhotoProgress(p) => self.outcomes.contains_key(&p.photo_id),
            ServerEvent::PhotoCompleted(p) => {
                let reading = PhotoReading { detections: p.detections, plate_number: p.plate_number, confidence: p.confidence };
                let line = numbers_read(&reading.detections);
                let news = self.settle(&p.photo_id, Outcome::Read(reading));
                if news {
                    say(format!("read      {}: {line}", self.names[&p.photo_id]));
                }
                news
            }
            ServerEvent::PhotoFailed(p) => {
                let news = self.settle(&p.photo_id, Outcome::Failed(p.error.clone()));
                if news {
                    say(format!("failed    {}: {}", self.names[&p.photo_id], p.error));
                }
                news
            }
            ServerEvent::EventProgress(_) | ServerEvent::EventCompleted(_) => false,
        }
    }

    /// Asks the Worker how the event's photos stand (none when it cannot be asked now).
    async fn reconcile(&self, api: &Api, say: &impl Fn(String)) -> Vec<PhotoView> {
        api.photos().await.unwrap_or_else(|e| {
            say(format!("cannot ask the Worker how the photos stand: {e}"));
            Vec::new()
        })
    }

    /// One row per file, in folder order; unreadable files last.
    fn rows(&self, photos: &[LocalPhoto], actions: &[Action], unreadable: Vec<(String, String)>) -> Vec<Row> {
        let mut rows: Vec<Row> = photos
            .iter()
            .zip(actions)
            .map(|(photo, action)| {
                let name = match action {
                    Action::SameAs(first) => format!("{} (= {})", photo.name, photos[*first].name),
                    _ => photo.name.clone(),
                };
                Row { name, outcome: self.outcomes[&photo.photo_id].clone() }
            })
            .collect();
        rows.extend(unreadable.into_iter().map(|(name, reason)| Row { name, outcome: Outcome::NotUploaded(reason) }));
        rows
    }
}
