//! `finishline scan`: reads race numbers from photos natively, with the same vision code and
//! model files the Worker runs; one JSON line per photo, as soon as it is read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use finishline::vision::{Detection, Pipeline, VisionError};
use serde::Serialize;

use super::files::photos_in;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Prints one JSON line per photo, as soon as it is read:

    {\"file\": \"<path as given>\", \"detections\": [{\"number\": \"4345\", \"confidence\": 0.97,
     \"box\": {\"x\", \"y\", \"w\", \"h\"}, \"color\": {\"name\": \"orange\", \"rgb\": [r, g, b]}}],
     \"plateNumber\": 4345, \"confidence\": 0.97, \"ms\": 412,
     \"stageMs\": {\"decode\", \"detection\", \"ocr\", \"color\"}}

Boxes are in pixels of the photo as shown (EXIF orientation applied), detections best first.
A photo that cannot be read prints {\"file\": ..., \"error\": \"<why>\"} and the scan goes on.
Exits non-zero only when it cannot run at all (bad arguments, models that do not load).")]
pub struct ScanArgs {
    /// Photos, or folders of photos (every .jpg, .jpeg, .png and .webp inside, recursively, in
    /// name order)
    #[arg(required = true, value_name = "FILE|FOLDER")]
    paths: Vec<PathBuf>,
    /// Detection model (tract NNEF, like models/*.nnef.tar) instead of the embedded one
    #[arg(long, value_name = "FILE")]
    det_model: Option<PathBuf>,
    /// Recognition model (tract NNEF, like models/*.nnef.tar) instead of the embedded one
    #[arg(long, value_name = "FILE")]
    rec_model: Option<PathBuf>,
    /// Looks for numbers with each photo's long side at this many pixels (640-2560) instead
    /// of 1280. For wide shots, where bibs are small in the frame, 2048-2560 reads far more of
    /// them, for 2-3x the time per photo; on close-ups the default is best
    #[arg(long, value_name = "PIXELS")]
    detection_size: Option<usize>,
}

pub fn run(args: &ScanArgs) -> Result<(), String> {
    let pipeline = load_pipeline(args)?;
    for given in &args.paths {
        for file in photos_in(given) {
            let file = file.to_string_lossy().into_owned();
            let line = match scan_one(&pipeline, &file) {
                Ok(read) => serde_json::to_string(&read),
                Err(error) => serde_json::to_string(&Failed { file: file.clone(), error }),
            };
            println!("{}", line.map_err(|e| e.to_string())?);
        }
    }
    Ok(())
}

fn load_pipeline(args: &ScanArgs) -> Result<Pipeline, String> {
    let read = |path: &Option<PathBuf>, embedded: &'static [u8]| match path {
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read model {}: {e}", p.display())),
        None => Ok(embedded.to_vec()),
    };
    let det = read(&args.det_model, finishline::vision::DETECTION_MODEL)?;
    let rec = read(&args.rec_model, finishline::vision::RECOGNITION_MODEL)?;
    let pipeline = Pipeline::load(&det, &rec).map_err(|e| e.to_string())?;
    match args.detection_size {
        Some(pixels) => pipeline.with_detection_size(pixels),
        None => Ok(pipeline),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Scanned {
    file: String,
    detections: Vec<Detection>,
    plate_number: Option<u64>,
    confidence: f32,
    ms: u64,
    stage_ms: StageMs,
}

#[derive(Serialize)]
struct StageMs {
    decode: f64,
    detection: f64,
    ocr: f64,
    color: f64,
}

#[derive(Serialize)]
struct Failed {
    file: String,
    error: String,
}

fn scan_one(pipeline: &Pipeline, file: &str) -> Result<Scanned, String> {
    let bytes = std::fs::read(Path::new(file)).map_err(|e| format!("cannot read the file: {e}"))?;
    let started = Instant::now();
    let mut lap = Instant::now();
    let mut split = || {
        let ms = lap.elapsed().as_secs_f64() * 1000.0;
        lap = Instant::now();
        (ms * 10.0).round() / 10.0
    };
    let mut stages = || -> Result<_, VisionError> {
        let photo = pipeline.decode(&bytes)?;
        let decode = split();
        let regions = pipeline.detect(&photo)?;
        let mut detection = split();
        let mut detections = pipeline.read(&photo, &regions)?;
        let mut ocr = split();
        if let Some(closer) = pipeline.closer_regions(&photo, &detections)? {
            detection += split();
            detections = pipeline.read(&photo, &closer)?;
            ocr += split();
        }
        let reading = pipeline.color(&photo, detections);
        let color = split();
        Ok((reading, StageMs { decode, detection, ocr, color }))
    };
    let (reading, stage_ms) = stages().map_err(|e| e.to_string())?;
    Ok(Scanned {
        file: file.to_string(),
        detections: reading.detections,
        plate_number: reading.plate_number,
        confidence: reading.confidence,
        ms: started.elapsed().as_millis() as u64,
        stage_ms,
    })
}
