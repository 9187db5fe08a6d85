//! The `finishline` command line (natively): `scan` reads race numbers from photos with the
//! Worker's own vision code; `upload` sends a folder to a Worker and shows what it read;
//! `watch` prints an event's live frames. On wasm32 it is empty (the Worker is the library).

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}
