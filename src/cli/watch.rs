//! `finishline watch`: one line per live frame of an event (or the raw JSON with `--json`),
//! reconnecting with `?since=` so nothing is missed or shown twice. Runs until stopped.

use super::api::Api;
use super::describe::frame_line;
use super::live::{follow, Incoming};
use super::Target;

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    target: Target,
    /// Replay from this seq first (0: the event's whole log); default: only what happens now
    #[arg(long, value_name = "SEQ")]
    since: Option<u64>,
    /// Print each frame's JSON as the Worker sent it, one per line
    #[arg(long)]
    json: bool,
}

pub async fn run(args: WatchArgs) -> Result<(), String> {
    let t = args.target;
    let (api, status) = Api::connect(&t.url, &t.event, t.token, t.subscribe_token).await?;
    let since = args.since.unwrap_or(status.last_seq);
    if !args.json {
        eprintln!(
            "watching event {} ({} of {} photos processed, last frame #{}); Ctrl-C stops",
            api.event_id(),
            status.processed_photos,
            status.total_photos,
            status.last_seq
        );
    }
    let mut live = follow(api, since);
    while let Some(incoming) = live.recv().await {
        match incoming {
            Incoming::Frame { text, frame, seq } => match (args.json, frame) {
                (true, _) => println!("{text}"),
                (false, Some(frame)) => println!("{}", frame_line(&frame)),
                (false, None) => println!("#{seq:<5} {text}"),
            },
            Incoming::Truncated { oldest } => {
                eprintln!("the event's log no longer reaches back: frames before #{oldest} are gone")
            }
            Incoming::Dropped(reason) => eprintln!("{reason}; reconnecting"),
            Incoming::Connected => {}
        }
    }
    Ok(())
}
