//! The `finishline` command line: one file per subcommand; `api`, `live`, `plan`, `describe`
//! and `summary` are the parts `upload` and `watch` share.

mod api;
mod describe;
mod files;
mod live;
mod plan;
mod scan;
mod summary;
mod upload;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// finishline — reads race numbers from event photos
#[derive(Parser, Debug)]
#[command(name = "finishline", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read race numbers from photos here, natively (one JSON line per photo)
    Scan(scan::ScanArgs),
    /// Upload a folder of photos to an event on a finishline Worker and show what it read;
    /// run it again to resume
    Upload(upload::UploadArgs),
    /// Print an event's live frames, one line each
    Watch(watch::WatchArgs),
}

/// Which Worker and event, and the tokens for it (shared by `upload` and `watch`).
#[derive(clap::Args, Debug)]
pub struct Target {
    /// The event's id (1-64 of A-Z a-z 0-9 _ -)
    #[arg(long, value_name = "ID")]
    event: String,
    /// The Worker's URL, e.g. http://127.0.0.1:8787
    #[arg(long, value_name = "URL", env = "FINISHLINE_URL")]
    url: String,
    /// The API token (uploads need it; with it the CLI also gets a subscribe token when reads
    /// need one)
    #[arg(long, value_name = "TOKEN", env = "FINISHLINE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A subscribe token from POST /events/{id}/tokens, for reading without the API token
    #[arg(long, value_name = "TOKEN", env = "FINISHLINE_SUBSCRIBE_TOKEN", hide_env_values = true)]
    subscribe_token: Option<String>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => scan::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Upload(args) => networked(upload::run(args)),
        Command::Watch(args) => networked(watch::run(args)).map(|()| ExitCode::SUCCESS),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("finishline: {e}");
        ExitCode::FAILURE
    })
}

/// Runs a subcommand that talks to a Worker: one thread is plenty for waiting on the network.
fn networked<T>(work: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    // rustls with ring, chosen once for HTTPS and WSS alike (no cmake or C toolchain needed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(work)
}
