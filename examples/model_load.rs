//! How long loading the models takes natively, from the NNEF files (what the pipeline does)
//! and, for comparison, from the ONNX files they are converted from:
//!
//!     cargo run --release --example model_load [RUNS]
//!
//! Prints the median of RUNS (default 5) loads of both models, each parsed and optimized.

use std::io::Cursor;
use std::time::Instant;

use finishline::vision::{Pipeline, DETECTION_MODEL, RECOGNITION_MODEL};
use tract_onnx::prelude::*;

const DET_ONNX: &[u8] = include_bytes!("../models/det_ppocrv4_int8w.onnx");
const REC_ONNX: &[u8] = include_bytes!("../models/rec_ppocrv4_alnum_int8w.onnx");

fn onnx(bytes: &[u8], shape: [usize; 4]) -> TractResult<Arc<TypedRunnableModel>> {
    let mut model = tract_onnx::onnx()
        .with_ignore_value_info(true)
        .model_for_read(&mut Cursor::new(bytes))?;
    model.set_input_fact(0, f32::fact(shape).into())?;
    model.into_optimized()?.into_runnable()
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[runs / 2]
}

fn main() {
    let runs = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let nnef = median_ms(runs, || {
        Pipeline::load(DETECTION_MODEL, RECOGNITION_MODEL).unwrap();
    });
    let onnx = median_ms(runs, || {
        onnx(DET_ONNX, [1, 3, 672, 672]).unwrap();
        onnx(REC_ONNX, [1, 3, 48, 320]).unwrap();
    });
    println!(
        "both models, parsed and optimized, median of {runs}: NNEF {nnef:.0} ms, ONNX {onnx:.0} ms"
    );
}
