//! Reads race numbers from photos: decode, detect, read (OCR), color. Pure Rust, no Worker:
//! no threads, files or clocks (the inference timer takes the caller's clock), so the same code
//! runs natively and in wasm32.

mod color;
mod decode;
mod detect;
mod error;
mod geometry;
mod inspect;
mod models;
#[cfg(not(target_arch = "wasm32"))]
mod nnef_export;
mod inference_timer;
mod pipeline;
mod reading;
mod recognize;
mod sampling;
mod shrink;

pub use decode::{Photo, MAX_FULL_DECODE_MEGAPIXELS, MAX_MEGAPIXELS, WORKING_LONG_SIDE};
pub use detect::Region;
pub use error::VisionError;
pub use inspect::{inspect, Inspected};
#[cfg(not(target_arch = "wasm32"))]
pub use models::{DETECTION_MODEL, RECOGNITION_MODEL};
pub use models::{DETECTION_MODEL_FILE, RECOGNITION_MODEL_FILE};
#[cfg(not(target_arch = "wasm32"))]
pub use nnef_export::{detector_to_nnef, recognizer_to_nnef};
pub use inference_timer::{timed, InferenceTimes, OpTimes};
pub use pipeline::Pipeline;
pub use reading::{Color, Detection, PhotoReading, PixelBox};
