//! The two models, in tract's own NNEF format (models/*.nnef.tar, converted from the ONNX files
//! at model build time: models/README.md), parsed and optimized by tract once, then run for
//! every photo. Reading NNEF needs no ONNX parser or ONNX op set, and starts from a graph
//! tract has already typed and decluttered.

use std::io::Cursor;

use tract_nnef::framework::Nnef;
use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::konst::Const;

use super::error::VisionError;

/// The model files, in models/ and (for the Worker) in its static assets under /models/.
pub const DETECTION_MODEL_FILE: &str = "det_ppocrv4_int8w.nnef.tar";
pub const RECOGNITION_MODEL_FILE: &str = "rec_ppocrv4_alnum_int8w.nnef.tar";

/// Natively the model files are embedded in the binary (the CLI, the tests). The Worker reads
/// the same files from its static assets instead, so they do not count in its script size.
#[cfg(not(target_arch = "wasm32"))]
pub const DETECTION_MODEL: &[u8] = include_bytes!("../../models/det_ppocrv4_int8w.nnef.tar");
#[cfg(not(target_arch = "wasm32"))]
pub const RECOGNITION_MODEL: &[u8] =
    include_bytes!("../../models/rec_ppocrv4_alnum_int8w.nnef.tar");

/// Text line images are this tall for the recognizer, and padded to this width
/// (PaddleOCR's 48x320): one fixed shape lets tract optimize the whole graph once.
pub const RECOGNITION_HEIGHT: usize = 48;
pub const RECOGNITION_WIDTH: usize = 320;

pub type Plan = Arc<TypedRunnableModel>;

/// The detector runs on square tiles of this side: tract 0.23.9 cannot optimize it with
/// symbolic sizes (its feature pyramid's resized shapes do not unify), and tiles bound the
/// memory its activations take whatever the photo's shape. The NNEF file is converted for
/// this shape: change it, and rebuild models/ (`cargo test --test models` says so).
pub const DETECTION_TILE: usize = 672;

/// Input shapes the model files are converted for (NCHW).
pub const DETECTION_INPUT: [usize; 4] = [1, 3, DETECTION_TILE, DETECTION_TILE];
pub const RECOGNITION_INPUT: [usize; 4] = [1, 3, RECOGNITION_HEIGHT, RECOGNITION_WIDTH];

/// tract's NNEF reader (and writer): core ops only, which is all our models use.
pub fn nnef() -> Nnef {
    tract_nnef::nnef()
}

pub fn load_detector(nnef: &Nnef, bytes: &[u8]) -> Result<Plan, VisionError> {
    load(nnef, bytes, &DETECTION_INPUT)
}

pub fn load_recognizer(nnef: &Nnef, bytes: &[u8]) -> Result<Plan, VisionError> {
    load(nnef, bytes, &RECOGNITION_INPUT)
}

pub(crate) fn load(nnef: &Nnef, bytes: &[u8], input: &[usize]) -> Result<Plan, VisionError> {
    let build = || -> TractResult<Plan> {
        let model = with_weights_wired(nnef.model_for_read(&mut Cursor::new(bytes))?)?;
        let shape = &model.input_fact(0)?.shape;
        ensure!(
            shape.as_concrete() == Some(input),
            "the model file takes {shape:?}, the pipeline gives {input:?}: rebuild models/ (models/README.md)"
        );
        model.into_optimized()?.into_runnable()
    };
    build().map_err(VisionError::model)
}

/// The files keep their int8 weights as int8 (src/vision/nnef_export.rs says why): each is a
/// graph input after the photo, and the same tensor is a constant graph output after the
/// model's own. This makes each input that constant again, and keeps the photo and the
/// model's output only; optimizing then folds the weights' Cast · scale into f32.
fn with_weights_wired(mut model: TypedModel) -> TractResult<TypedModel> {
    let inputs = model.input_outlets()?.to_vec();
    let outputs = model.output_outlets()?.to_vec();
    ensure!(
        !inputs.is_empty() && inputs.len() == outputs.len(),
        "expected as many weight inputs as weight outputs, got {} and {}",
        inputs.len().saturating_sub(1),
        outputs.len().saturating_sub(1)
    );
    for (input, output) in inputs.iter().zip(&outputs).skip(1) {
        let weights = model
            .node(output.node)
            .op_as::<Const>()
            .with_context(|| format!("output {} is not a constant", model.node(output.node).name))?
            .val()
            .clone();
        let fact = TypedFact::try_from(weights.clone())?;
        ensure!(
            model.outlet_fact(*input)?.without_value() == fact.without_value(),
            "weights {} do not fit input {}",
            model.node(output.node).name,
            model.node(input.node).name
        );
        let node = model.node_mut(input.node);
        node.outputs[0].fact = fact;
        node.op = Box::new(Const::new(weights)?);
    }
    model.set_input_outlets(&inputs[..1])?;
    model.select_output_outlets(&outputs[..1])?;
    Ok(model)
}

/// Runs a plan on one input, returning its first output.
pub fn run(plan: &Plan, input: Tensor) -> Result<Arc<Tensor>, VisionError> {
    let outputs = super::inference_timer::run(plan, tvec!(input.into_tvalue())).map_err(VisionError::model)?;
    let first = outputs
        .into_iter()
        .next()
        .ok_or_else(|| VisionError::Model("no output".into()))?;
    Ok(first.into_arc_tensor())
}
