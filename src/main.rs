//! The `finishline` command line. Natively: `finishline scan` reads race numbers from photos
//! with the same vision code and model files the Worker runs. On wasm32 it is empty (the
//! Worker is the library).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::Instant;

    use finishline::vision::{Detection, Pipeline, VisionError};
    use serde::Serialize;

    const USAGE: &str = "\
finishline — reads race numbers from event photos

USAGE:
    finishline scan [OPTIONS] <FILE|FOLDER>...

Reads every photo given (folders: every .jpg, .jpeg, .png and .webp inside, recursively, in
name order) and prints one JSON line per photo, as soon as it is read:

    {\"file\": \"<path as given>\", \"detections\": [{\"number\": \"4345\", \"confidence\": 0.97,
     \"box\": {\"x\", \"y\", \"w\", \"h\"}, \"color\": {\"name\": \"orange\", \"rgb\": [r, g, b]}}],
     \"plateNumber\": 4345, \"confidence\": 0.97, \"ms\": 412,
     \"stageMs\": {\"decode\", \"detection\", \"ocr\", \"color\"}}

Boxes are in pixels of the photo as shown (EXIF orientation applied), detections best first.
A photo that cannot be read prints {\"file\": ..., \"error\": \"<why>\"} and the scan goes on.
Exits non-zero only when it cannot run at all (bad arguments, models that do not load).

OPTIONS:
    --det-model <FILE>    detection model (tract NNEF, like models/*.nnef.tar) instead of the embedded one
    --rec-model <FILE>    recognition model (tract NNEF, like models/*.nnef.tar) instead of the embedded one
    -h, --help            this help
";

    struct Args {
        paths: Vec<String>,
        det_model: Option<PathBuf>,
        rec_model: Option<PathBuf>,
    }

    enum Command {
        Help,
        Scan(Args),
    }

    fn parse(mut argv: impl Iterator<Item = String>) -> Result<Command, String> {
        match argv.next().as_deref() {
            None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
            Some("scan") => {}
            Some(other) => return Err(format!("unknown command {other:?}")),
        }
        let mut args = Args {
            paths: Vec::new(),
            det_model: None,
            rec_model: None,
        };
        while let Some(arg) = argv.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--det-model" | "--rec-model" => {
                    let value = argv.next().ok_or(format!("{arg} needs a file"))?;
                    let slot = if arg == "--det-model" {
                        &mut args.det_model
                    } else {
                        &mut args.rec_model
                    };
                    *slot = Some(PathBuf::from(value));
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                _ => args.paths.push(arg),
            }
        }
        if args.paths.is_empty() {
            return Err("scan needs at least one file or folder".into());
        }
        Ok(Command::Scan(args))
    }

    pub fn main() -> ExitCode {
        match parse(std::env::args().skip(1)) {
            Ok(Command::Help) => {
                print!("{USAGE}");
                ExitCode::SUCCESS
            }
            Ok(Command::Scan(args)) => match scan(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("finishline: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("finishline: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        }
    }

    fn load_pipeline(args: &Args) -> Result<Pipeline, String> {
        let read = |path: &Option<PathBuf>, embedded: &'static [u8]| match path {
            Some(p) => {
                std::fs::read(p).map_err(|e| format!("cannot read model {}: {e}", p.display()))
            }
            None => Ok(embedded.to_vec()),
        };
        let det = read(&args.det_model, finishline::vision::DETECTION_MODEL)?;
        let rec = read(&args.rec_model, finishline::vision::RECOGNITION_MODEL)?;
        Pipeline::load(&det, &rec).map_err(|e| e.to_string())
    }

    fn scan(args: &Args) -> Result<(), String> {
        let pipeline = load_pipeline(args)?;
        for given in &args.paths {
            for file in photos_in(Path::new(given)) {
                let line = match scan_one(&pipeline, &file) {
                    Ok(read) => serde_json::to_string(&read),
                    Err(error) => serde_json::to_string(&Failed {
                        file: file.clone(),
                        error,
                    }),
                };
                println!("{}", line.map_err(|e| e.to_string())?);
            }
        }
        Ok(())
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
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read the file: {e}"))?;
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
            let detection = split();
            let detections = pipeline.read(&photo, &regions)?;
            let ocr = split();
            let reading = pipeline.color(&photo, detections);
            let color = split();
            Ok((
                reading,
                StageMs {
                    decode,
                    detection,
                    ocr,
                    color,
                },
            ))
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

    /// A file as given, or a folder's photos (recursively, in name order).
    fn photos_in(path: &Path) -> Vec<String> {
        if !path.is_dir() {
            return vec![path.to_string_lossy().into_owned()];
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => return vec![path.to_string_lossy().into_owned()],
        };
        entries.sort();
        entries
            .into_iter()
            .flat_map(|entry| {
                if entry.is_dir() {
                    photos_in(&entry)
                } else if is_photo_name(&entry) {
                    vec![entry.to_string_lossy().into_owned()]
                } else {
                    Vec::new()
                }
            })
            .collect()
    }

    fn is_photo_name(path: &Path) -> bool {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png" | "webp"))
    }
}
