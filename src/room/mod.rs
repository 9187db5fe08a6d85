//! The EventRoom's core: the state of an event's photos, and what a report changes and
//! broadcasts. Pure: the Durable Object shell loads and stores the state around it.

mod counters;
mod photo;
mod replay;
mod transition;

pub use counters::Counters;
pub use photo::{PhotoRecord, PhotoState};
pub use replay::{trim_through, truncated_at};
pub use transition::{apply_report, Applied};
