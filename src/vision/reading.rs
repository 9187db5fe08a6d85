//! What the pipeline reads from one photo: the shape stored by the EventRoom and sent in
//! `photo:completed`, and printed by `finishline scan`.

use serde::{Deserialize, Serialize};

/// A rectangle in pixels of the original (orientation-corrected) photo, top-left origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The background color of a bib or plate: a coarse name people use, and the measured RGB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Color {
    pub name: String,
    pub rgb: [u8; 3],
}

/// One race number read in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub number: String,
    pub confidence: f32,
    #[serde(rename = "box")]
    pub bbox: PixelBox,
    pub color: Option<Color>,
}

/// Everything read from one photo, detections sorted by confidence (best first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoReading {
    pub detections: Vec<Detection>,
    /// The best detection's number as an integer (the seed's field), or null.
    pub plate_number: Option<u64>,
    /// The best detection's confidence, 0 when nothing was read.
    pub confidence: f32,
}

impl PhotoReading {
    /// Builds a reading from detections in any order: sorts them and derives the seed's fields.
    pub fn from_detections(mut detections: Vec<Detection>) -> Self {
        detections.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let best = detections.first();
        PhotoReading {
            plate_number: best.and_then(|d| d.number.parse().ok()),
            confidence: best.map_or(0.0, |d| d.confidence),
            detections,
        }
    }
}
