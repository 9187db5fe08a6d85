// Native side of scripts/bench-inference.mjs: for each photo, how many detector tiles and
// recognizer crops our pipeline runs (so onnxruntime runs the same number of the same shapes)
// and the native stage times, with the milliseconds inside model runs. Compiled by the bench
// with rustc against target/release's libfinishline (no Cargo target, so `cargo test` never
// builds it). One JSON line per photo.
use std::sync::OnceLock;
use std::time::Instant;

use finishline::vision::{timed, Pipeline};

// Mirrors src/vision/models.rs and detect.rs: DETECTION_TILE, DETECTION_LONG_SIDE, TILE_OVERLAP.
const TILE: usize = 672;
const LONG_SIDE: f32 = 1280.0;
const OVERLAP: usize = 64;

fn tiles(length: usize) -> usize {
    if length <= TILE {
        1
    } else {
        (length - OVERLAP).div_ceil(TILE - OVERLAP)
    }
}

/// Milliseconds since the first call.
fn now() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

fn main() {
    let pipeline = Pipeline::embedded().expect("models");
    for file in std::env::args().skip(1) {
        let bytes = std::fs::read(&file).expect("photo");
        let photo = pipeline.decode(&bytes).expect("decode");
        let (w, h) = (photo.width() as f32, photo.height() as f32);
        let ratio = LONG_SIDE / w.max(h);
        let tile_count = tiles((w * ratio).round() as usize) * tiles((h * ratio).round() as usize);
        let t = now();
        let (regions, detection_model) = timed(now, false, || pipeline.detect(&photo).expect("detect"));
        let detection_ms = round(now() - t);
        let t = now();
        let (detections, ocr_model) = timed(now, false, || pipeline.read(&photo, &regions).expect("read"));
        let ocr_ms = round(now() - t);
        // No number read: the Worker then looks again closer (`closer_regions`, detection at
        // 2048 px), tiles and crops these counts do not hold; the bench leaves such photos out.
        let closer_look = detections.is_empty();
        println!(
            "{{\"file\":{file:?},\"tiles\":{tile_count},\"crops\":{},\"closerLook\":{closer_look},\"detectionMs\":{detection_ms},\"ocrMs\":{ocr_ms},\"modelMs\":{{\"detection\":{},\"ocr\":{}}}}}",
            regions.len(),
            round(detection_model.model_ms),
            round(ocr_model.model_ms)
        );
    }
}
