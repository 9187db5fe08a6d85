//! The two ONNX models, parsed and optimized by tract once, then run for every photo.

use std::io::Cursor;

use tract_onnx::prelude::*;

use super::error::VisionError;

/// The models shipped in models/ (see models/README.md for how they are built).
pub const DETECTION_MODEL: &[u8] = include_bytes!("../../models/det_ppocrv4_int8w.onnx");
pub const RECOGNITION_MODEL: &[u8] = include_bytes!("../../models/rec_ppocrv4_alnum_int8w.onnx");

/// Text line images are this tall for the recognizer, and padded to this width
/// (PaddleOCR's 48x320): one fixed shape lets tract optimize the whole graph once.
pub const RECOGNITION_HEIGHT: usize = 48;
pub const RECOGNITION_WIDTH: usize = 320;

pub type Plan = Arc<TypedRunnableModel>;

/// The detector runs on square tiles of this side: tract 0.23.9 cannot optimize it with
/// symbolic sizes (its feature pyramid's resized shapes do not unify), and tiles bound the
/// memory its activations take whatever the photo's shape.
pub const DETECTION_TILE: usize = 672;

pub fn load_detector(bytes: &[u8]) -> Result<Plan, VisionError> {
    load(bytes, |_| {
        Ok(f32::fact([1, 3, DETECTION_TILE, DETECTION_TILE]).into())
    })
}

pub fn load_recognizer(bytes: &[u8]) -> Result<Plan, VisionError> {
    load(bytes, |_| {
        Ok(f32::fact([1, 3, RECOGNITION_HEIGHT, RECOGNITION_WIDTH]).into())
    })
}

fn load(
    bytes: &[u8],
    input: impl FnOnce(&InferenceModel) -> TractResult<InferenceFact>,
) -> Result<Plan, VisionError> {
    let build = || -> TractResult<Plan> {
        // Files rewritten by onnx tooling keep symbolic shapes tract cannot unify: ignore them.
        let mut model = tract_onnx::onnx()
            .with_ignore_value_info(true)
            .model_for_read(&mut Cursor::new(bytes))?;
        let fact = input(&model)?;
        model.set_input_fact(0, fact)?;
        model.into_optimized()?.into_runnable()
    };
    build().map_err(VisionError::model)
}

/// Runs a plan on one input, returning its first output.
pub fn run(plan: &Plan, input: Tensor) -> Result<Arc<Tensor>, VisionError> {
    let outputs = plan
        .run(tvec!(input.into_tvalue()))
        .map_err(VisionError::model)?;
    let first = outputs
        .into_iter()
        .next()
        .ok_or_else(|| VisionError::Model("no output".into()))?;
    Ok(first.into_arc_tensor())
}
