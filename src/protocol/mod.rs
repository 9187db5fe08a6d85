//! Wire types: HTTP bodies, queue jobs, room reports and socket frames (serde, camelCase).
//! Field names and event names are the contract of the socket.io gateway we replace.

mod client_frame;
mod http;
mod job;
mod log_line;
mod server_frame;
pub mod socketio;
mod wire;

pub use client_frame::{error_frame, replay_truncated_frame, Ack, ClientFrame, ClientRequest};
pub use http::{
    ErrorBody, EventStatus, NumberMatch, NumberSearch, PhotoPage, PhotoView, ProgressStatus, UploadAccepted,
};
pub use log_line::{LogLine, ModelMs};
pub use job::{PhotoJob, Registered, Registration, Report, RoomReport};
pub use server_frame::{
    EventCompleted, EventProgress, PhotoCompleted, PhotoFailed, PhotoProgress, SequencedFrame,
    ServerEvent, Stage, Summary,
};
pub use wire::Wire;
