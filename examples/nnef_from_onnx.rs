//! Converts the ONNX models in models/ to the tract NNEF files the pipeline loads, with
//! tract-nnef's own writer (deterministic: the same ONNX gives the same bytes).
//!
//!     cargo run --release --example nnef_from_onnx [MODELS_DIR]
//!
//! scripts/build_models.py runs it after writing the ONNX files; `cargo test --test models`
//! checks the committed NNEF files are what it writes and that they compute what the ONNX do.

use std::path::PathBuf;

use finishline::vision::{
    detector_to_nnef, recognizer_to_nnef, DETECTION_MODEL_FILE, RECOGNITION_MODEL_FILE,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "models".into()));
    for (onnx, nnef, convert) in [
        (
            "det_ppocrv4_int8w.onnx",
            DETECTION_MODEL_FILE,
            detector_to_nnef as fn(&[u8]) -> _,
        ),
        (
            "rec_ppocrv4_alnum_int8w.onnx",
            RECOGNITION_MODEL_FILE,
            recognizer_to_nnef,
        ),
    ] {
        let bytes = std::fs::read(dir.join(onnx)).map_err(|e| format!("{onnx}: {e}"))?;
        let tar = convert(&bytes)?;
        std::fs::write(dir.join(nnef), &tar)?;
        println!(
            "{nnef}: {} bytes (from {onnx}, {} bytes)",
            tar.len(),
            bytes.len()
        );
    }
    Ok(())
}
