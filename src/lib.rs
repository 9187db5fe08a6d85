//! finishline: reads race numbers from event photos and streams progress live.
//!
//! Pure modules (`protocol`, `room`, `vision`, `guard`, `ids`) know nothing of Workers and are tested
//! natively; `edge` is the thin Cloudflare Worker shell, compiled for wasm32 only.

pub mod guard;
pub mod ids;
pub mod protocol;
pub mod room;
pub mod vision;

#[cfg(target_arch = "wasm32")]
mod edge;
