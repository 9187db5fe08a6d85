//! ONNX to tract NNEF, natively, when the models are built (examples/nnef_from_onnx.rs, run by
//! scripts/build_models.py): the Worker then ships and reads NNEF only. tract-nnef's own writer
//! does the serialization; this only prepares the graph for it.

use std::collections::HashMap;
use std::io::Cursor;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::ensure;
use tract_onnx::tract_core::model::SpecialOps;
use tract_onnx::tract_core::ops::konst::Const;

use super::error::VisionError;
use super::models::{nnef, DETECTION_INPUT, RECOGNITION_INPUT};

/// The detection model (ONNX bytes) as an NNEF tar for `DETECTION_INPUT`.
pub fn detector_to_nnef(onnx: &[u8]) -> Result<Vec<u8>, VisionError> {
    to_nnef(onnx, &DETECTION_INPUT).map_err(VisionError::model)
}

/// The recognition model (ONNX bytes) as an NNEF tar for `RECOGNITION_INPUT`.
pub fn recognizer_to_nnef(onnx: &[u8]) -> Result<Vec<u8>, VisionError> {
    to_nnef(onnx, &RECOGNITION_INPUT).map_err(VisionError::model)
}

/// The ONNX model, typed for `input` and decluttered, as a deterministic NNEF tar (the same
/// ONNX file gives the same bytes).
pub fn to_nnef(onnx: &[u8], input: &[usize]) -> TractResult<Vec<u8>> {
    // Files rewritten by onnx tooling keep symbolic shapes tract cannot unify: ignore them.
    let mut model = tract_onnx::onnx()
        .with_ignore_value_info(true)
        .model_for_read(&mut Cursor::new(onnx))?;
    model.set_input_fact(0, f32::fact(input).into())?;
    // Our weights are int8, restored to f32 by Cast · scale in the graph (models/README.md).
    // tract folds every constant expression when it types a model, and its NNEF writer does
    // too: int8 constants would be stored as f32, 4x larger. So each int8 weight is a graph
    // input (wired to its Cast, which cannot be folded), and the same tensor is a constant
    // graph output, which the writer stores as is. `models::load` wires them back together,
    // and tract folds Cast · scale when it optimizes at load, as it did reading the ONNX.
    let mut int8 = vec![];
    for id in 0..model.nodes().len() {
        let Some(konst) = model.node(id).op_as::<Const>() else {
            continue;
        };
        let tensor = konst.val().clone();
        if tensor.datum_type() != i8::datum_type() {
            continue;
        }
        let fact = InferenceFact::dt_shape(i8::datum_type(), tensor.shape());
        let source = model.create_source(fact.clone());
        let node = model.node_mut(id);
        node.op = source;
        node.outputs[0].fact = fact;
        int8.push((node.name.clone(), tensor));
        model.inputs.push(OutletId::new(id, 0));
    }
    let mut typed = model.into_typed()?.into_decluttered()?;
    // The writer's own rewrites, done here first so that their node names can be made
    // deterministic (the writer runs them again, and finds nothing left to do).
    tract_nnef::ser::rewrite_model(&mut typed)?;
    deterministic_names(&mut typed)?;
    let mut outputs = typed.output_outlets()?.to_vec();
    ensure!(
        outputs.len() == 1,
        "expected one output, the model has {}",
        outputs.len()
    );
    for (name, tensor) in int8 {
        outputs.push(typed.add_const(format!("{name}.weights"), tensor)?);
    }
    typed.select_output_outlets(&outputs)?;
    let mut tar = vec![];
    nnef().write_to_tar_with_config(&typed, &mut tar, false, true)?;
    Ok(tar)
}

/// tract names the nodes that a rewrite adds in hash order (`ModelPatch::apply` walks a
/// HashSet), so the suffixes it adds to make names unique ("x", "x.1", "x.2") differ from run
/// to run. Numbering every family of names again in node order ("x", "x.1"... whatever
/// numbers they had) makes the same ONNX file give the same NNEF bytes.
fn deterministic_names(model: &mut TypedModel) -> TractResult<()> {
    let mut families: HashMap<String, Vec<usize>> = HashMap::new();
    for node in model.nodes() {
        // "x", "x.1", "x.1.2": numbers after the last named part.
        let mut stem = node.name.as_str();
        while let Some((rest, n)) = stem.rsplit_once('.') {
            if rest.is_empty() || n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                break;
            }
            stem = rest;
        }
        families.entry(stem.to_string()).or_default().push(node.id);
    }
    for (stem, ids) in &families {
        for (i, &id) in ids.iter().enumerate() {
            model.node_mut(id).name = if i == 0 {
                stem.clone()
            } else {
                format!("{stem}.{i}")
            };
        }
    }
    let mut names: Vec<&str> = model.nodes().iter().map(|n| n.name.as_str()).collect();
    names.sort_unstable();
    let clash = names.windows(2).find(|w| w[0] == w[1]);
    ensure!(
        clash.is_none(),
        "two nodes named {:?} after renumbering",
        clash.unwrap()[0]
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::models::{self, Plan, DETECTION_MODEL, RECOGNITION_MODEL};

    const DET_ONNX: &[u8] = include_bytes!("../../models/det_ppocrv4_int8w.onnx");
    const REC_ONNX: &[u8] = include_bytes!("../../models/rec_ppocrv4_alnum_int8w.onnx");
    const PHOTO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/rbnr/set1/set1_01.JPG"
    );

    /// The ONNX file as the pipeline loaded it before NNEF.
    fn onnx_plan(onnx: &[u8], input: &[usize]) -> Plan {
        let mut model = tract_onnx::onnx()
            .with_ignore_value_info(true)
            .model_for_read(&mut Cursor::new(onnx))
            .unwrap();
        model.set_input_fact(0, f32::fact(input).into()).unwrap();
        model.into_optimized().unwrap().into_runnable().unwrap()
    }

    /// A real photo, resized to `shape` and scaled to [-1, 1] (PaddleOCR's normalization).
    fn photo_input(shape: [usize; 4]) -> Tensor {
        let [_, _, h, w] = shape;
        let image = image::load_from_memory(&std::fs::read(PHOTO).expect("../shared is there"))
            .unwrap()
            .resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle)
            .to_rgb8();
        tract_ndarray::Array4::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
            image.get_pixel(x as u32, y as u32)[c] as f32 / 127.5 - 1.0
        })
        .into()
    }

    fn assert_same_outputs(nnef: &[u8], onnx: &[u8], shape: [usize; 4]) {
        let nnef_plan = models::load(&models::nnef(), nnef, &shape).unwrap();
        let onnx_plan = onnx_plan(onnx, &shape);
        let input = photo_input(shape);
        let a = models::run(&nnef_plan, input.clone()).unwrap();
        let b = models::run(&onnx_plan, input).unwrap();
        assert_eq!(a.shape(), b.shape());
        let floats = |t: &Arc<Tensor>| {
            t.try_as_plain_ram()
                .and_then(|p| p.as_slice::<f32>())
                .unwrap()
                .to_vec()
        };
        let (a, b) = (floats(&a), floats(&b));
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        // Not bit for bit: tract fuses the weights into their ops in another order when it
        // knows them only at load (measured: up to 6.2e-6 on these probabilities).
        assert!(max <= 1e-4, "NNEF and ONNX outputs differ, by up to {max}");
    }

    #[test]
    fn nnef_files_are_what_the_converter_writes_from_the_onnx_files() {
        let stale = "is stale: rebuild it with `cargo run --release --example nnef_from_onnx` (models/README.md)";
        assert!(
            detector_to_nnef(DET_ONNX).unwrap() == DETECTION_MODEL,
            "models/{} {stale}",
            models::DETECTION_MODEL_FILE
        );
        assert!(
            recognizer_to_nnef(REC_ONNX).unwrap() == RECOGNITION_MODEL,
            "models/{} {stale}",
            models::RECOGNITION_MODEL_FILE
        );
    }

    #[test]
    fn nnef_detector_computes_what_the_onnx_one_does() {
        assert_same_outputs(DETECTION_MODEL, DET_ONNX, DETECTION_INPUT);
    }

    #[test]
    fn nnef_recognizer_computes_what_the_onnx_one_does() {
        assert_same_outputs(RECOGNITION_MODEL, REC_ONNX, RECOGNITION_INPUT);
    }
}
