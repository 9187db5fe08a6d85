//! Inference time by tract operator, natively: one JSON line per photo, `{"file", "opMs"}`,
//! the counterpart of the Worker's `OP_TIMES` job logs (scripts/bench-operators.mjs).
//!
//!   cargo run --release --example op_times -- PHOTO...

use std::sync::OnceLock;
use std::time::Instant;

use finishline::vision::{timed, Pipeline};

fn now() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let pipeline = Pipeline::embedded().expect("models");
    for file in std::env::args().skip(1) {
        let bytes = std::fs::read(&file).expect("readable");
        let photo = pipeline.decode(&bytes).expect("decodes");
        let (_, times) = timed(now, true, || {
            let regions = pipeline.detect(&photo).expect("detects");
            pipeline.read(&photo, &regions).expect("reads")
        });
        println!("{}", serde_json::json!({ "file": file, "opMs": times.by_operator }));
    }
}
