//! The four stages together: models loaded and optimized once, then reused for every photo.
//! Each stage is callable on its own so a caller can report progress between them.

use super::color::background_color;
use super::decode::{self, Photo};
use super::detect::{self, Region, DETECTION_LONG_SIDE, DETECTION_SIZES};
use super::error::VisionError;
use super::models::{self, Plan};
use super::reading::{Detection, PhotoReading, PixelBox};
use super::recognize;

/// A photo in which no number is read at the detection size is looked at again with its long
/// side at this size (a photo of 2048 px or more: its working copy at full size). A race photo
/// with no number read most often has a bib too small to be found at 1280 (docs/accuracy.md,
/// "A closer look").
const CLOSER_LOOK: usize = 2048;

pub struct Pipeline {
    detector: Plan,
    recognizer: Plan,
    detection_long_side: usize,
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
            detection_long_side: DETECTION_LONG_SIDE,
        })
    }

    /// Looks for text with the photo's long side at `pixels` (640 to 2560) instead of 1280:
    /// larger finds the smaller bibs of wide shots in high-resolution photos, for more time per
    /// photo, and splits some large close-up bibs (docs/accuracy.md, "Wide shots").
    pub fn with_detection_size(self, pixels: usize) -> Result<Pipeline, String> {
        if !DETECTION_SIZES.contains(&pixels) {
            return Err(format!(
                "detection size {pixels} is out of range: from {} to {} pixels",
                DETECTION_SIZES.start(),
                DETECTION_SIZES.end()
            ));
        }
        Ok(Pipeline { detection_long_side: pixels, ..self })
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
        detect::detect(&self.detector, photo, self.detection_long_side)
    }

    /// Stage "ocr": the race numbers read in those places, without color yet.
    pub fn read(&self, photo: &Photo, regions: &[Region]) -> Result<Vec<Detection>, VisionError> {
        recognize::read(&self.recognizer, photo, regions)
    }

    /// Where to look again when nothing was `read`: the regions found with the photo's long
    /// side at CLOSER_LOOK, to `read` in turn (part of stages "detection" and "ocr"). None when
    /// a number was read, or the photo was already seen that large: photos with a number pay
    /// nothing for it.
    pub fn closer_regions(&self, photo: &Photo, read: &[Detection]) -> Result<Option<Vec<Region>>, VisionError> {
        if !read.is_empty() || self.detection_long_side >= CLOSER_LOOK {
            return Ok(None);
        }
        detect::detect(&self.detector, photo, CLOSER_LOOK).map(Some)
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
        let mut detections = self.read(&photo, &regions)?;
        if let Some(closer) = self.closer_regions(&photo, &detections)? {
            detections = self.read(&photo, &closer)?;
        }
        Ok(self.color(&photo, detections))
    }
}
