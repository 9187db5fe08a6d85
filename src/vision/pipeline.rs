//! The four stages together: models loaded and optimized once, then reused for every photo.
//! Each stage is callable on its own so a caller can report progress between them.

use super::color::background_color;
use super::decode::{self, Photo};
use super::detect::{self, Region};
use super::error::VisionError;
use super::models::{self, Plan};
use super::reading::{Detection, PhotoReading, PixelBox};
use super::recognize;

pub struct Pipeline {
    detector: Plan,
    recognizer: Plan,
}

impl Pipeline {
    /// Parses and optimizes the detection and recognition models (tract NNEF tars, the files
    /// in models/): once per process or isolate, never per photo.
    pub fn load(det_model: &[u8], rec_model: &[u8]) -> Result<Pipeline, VisionError> {
        let nnef = models::nnef();
        // The recognizer first: the Worker's wasm memory peaks 2 MiB lower after a 12 MP photo
        // (61.7 vs 63.7 MiB, bench-worker), its load leaving holes the detector's tensors reuse.
        let recognizer = models::load_recognizer(&nnef, rec_model)?;
        Ok(Pipeline {
            detector: models::load_detector(&nnef, det_model)?,
            recognizer,
        })
    }

    /// The models shipped in models/, embedded in the native binary (the Worker reads the
    /// same files from its static assets and calls `load`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn embedded() -> Result<Pipeline, VisionError> {
        Pipeline::load(models::DETECTION_MODEL, models::RECOGNITION_MODEL)
    }

    /// Stage "decode".
    pub fn decode(&self, photo: &[u8]) -> Result<Photo, VisionError> {
        decode::decode(photo)
    }

    /// Stage "detection": the places that likely hold a line of text.
    pub fn detect(&self, photo: &Photo) -> Result<Vec<Region>, VisionError> {
        detect::detect(&self.detector, photo)
    }

    /// Stage "ocr": the race numbers read in those places, without color yet.
    pub fn read(&self, photo: &Photo, regions: &[Region]) -> Result<Vec<Detection>, VisionError> {
        recognize::read(&self.recognizer, photo, regions)
    }

    /// Stage "color": each number's background color, and the photo's final reading.
    pub fn color(&self, photo: &Photo, detections: Vec<Detection>) -> PhotoReading {
        let (sx, sy) = photo.scale();
        let colored = detections
            .into_iter()
            .map(|d| {
                let b = d.bbox;
                // Boxes are in original pixels; the colors are in the working copy.
                let working = PixelBox {
                    x: (b.x as f32 / sx) as u32,
                    y: (b.y as f32 / sy) as u32,
                    w: (b.w as f32 / sx).ceil() as u32,
                    h: (b.h as f32 / sy).ceil() as u32,
                };
                Detection {
                    color: background_color(&photo.image, working),
                    ..d
                }
            })
            .collect();
        PhotoReading::from_detections(colored)
    }

    /// All four stages on one photo's bytes.
    pub fn read_numbers(&self, photo: &[u8]) -> Result<PhotoReading, VisionError> {
        let photo = self.decode(photo)?;
        let regions = self.detect(&photo)?;
        let detections = self.read(&photo, &regions)?;
        Ok(self.color(&photo, detections))
    }
}
