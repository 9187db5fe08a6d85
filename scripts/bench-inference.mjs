// Inference per photo, side by side in one run on the same photos and the same .onnx files:
//   ours (wasm)   the built Worker in workerd (tract, wasm SIMD), stage times from its job log
//   ours (native) the same pipeline natively (tract, release build)
//   ort-web       onnxruntime-web in Node, wasm backend (SIMD), 1 thread
//   ort native    onnxruntime (Python, CPU), 1 thread
// For each photo, onnxruntime runs the detector on as many 1x3x672x672 tiles and the
// recognizer on as many 1x3x48x320 crops as our pipeline did on that photo (counted natively by
// scripts/bench/pipeline_counts.rs), one after the other, interleaved with our runs so all four
// see the same machine load. Our stage times include pre/post-processing (tiling, resampling,
// normalization, the probability map's blobs, CTC decoding); onnxruntime's are model time only,
// so a second table puts our model time (the milliseconds inside tract's runs, from the job log
// and natively from the same timer) beside theirs: engine against engine.
//
//   npm run bench:inference            # = node scripts/bench-inference.mjs [--photos 20]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import * as ort from "onnxruntime-web";
import { median, ms, percentile, rbnrPhotos, root, startJobWorker, sum, summarize, table, times } from "./bench/worker-jobs.mjs";

const args = process.argv.slice(2);
const count = Number(args[args.indexOf("--photos") + 1] || 20);
const photos = rbnrPhotos(count);
const det = path.join(root, "models/det_ppocrv4_int8w.onnx");
const rec = path.join(root, "models/rec_ppocrv4_alnum_int8w.onnx");
const tmp = mkdtempSync(path.join(tmpdir(), "finishline-bench-inference-"));

// --- ours, native: tiles and crops per photo, stage times --------------------------------------
// --lib: cargo copies the library to target/release/ (which the counter links) only when it is
// asked for; built as the CLI's dependency alone it stays in deps/ and the copy goes stale.
execFileSync("cargo", ["build", "--release", "--lib", "--bin", "finishline"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const counter = path.join(tmp, "pipeline_counts");
execFileSync("rustc", [
  "--edition", "2021", "-C", "opt-level=3", "-o", counter, path.join(root, "scripts/bench/pipeline_counts.rs"),
  "--extern", `finishline=${path.join(root, "target/release/libfinishline.rlib")}`, "-L", path.join(root, "target/release/deps"),
]);
const nativeCounts = (file) => JSON.parse(execFileSync(counter, [file], { encoding: "utf8" }).trim());

// --- onnxruntime native (Python) ---------------------------------------------------------------
try {
  execFileSync("python3", ["-c", "import onnxruntime, numpy"], { stdio: "ignore" });
} catch {
  execFileSync("python3", ["-m", "pip", "install", "--quiet", "onnxruntime", "numpy"], { stdio: "inherit" });
}
const python = spawn("python3", [path.join(root, "scripts/bench/ort_native.py"), det, rec], { stdio: ["pipe", "pipe", "inherit"] });
const pythonLines = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
const nextPython = async () => JSON.parse((await pythonLines.next()).value);
const ortNativeVersion = (await nextPython()).version;
const ortNative = async (counts) => (python.stdin.write(JSON.stringify(counts) + "\n"), nextPython());

// --- onnxruntime-web (wasm, SIMD, 1 thread) in this process -------------------------------------
ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
const webSession = async (file, dims) => {
  const session = await ort.InferenceSession.create(file, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const n = dims.reduce((a, b) => a * b);
  const input = new ort.Tensor("float32", Float32Array.from({ length: n }, (_, i) => (i % 251) / 125 - 1), dims);
  const feeds = { [session.inputNames[0]]: input };
  await session.run(feeds); // warm
  return async (times) => {
    const t = performance.now();
    for (let i = 0; i < times; i++) await session.run(feeds);
    return performance.now() - t;
  };
};
const webDet = await webSession(det, [1, 3, 672, 672]);
const webRec = await webSession(rec, [1, 3, 48, 320]);

// --- ours, wasm in workerd -----------------------------------------------------------------------
const worker = await startJobWorker();
const eventId = `bench-inference-${Date.now()}`;
async function wasmJob(file) {
  const { photoId } = await worker.upload(eventId, file);
  const job = await worker.job(photoId, 30_000);
  if (job.outcome !== "completed" || !job.stageMs) throw new Error(`${file}: ${JSON.stringify(job)}`);
  return job;
}

const load0 = loadavg()[0];
const started = Date.now();
const rows = [];
try {
  await wasmJob(photos[0]); // the isolate's first job loads the models: not counted
  for (const [i, file] of photos.entries()) {
    const { stageMs: wasm, modelMs: wasmModel } = await wasmJob(file);
    const native = nativeCounts(file);
    if (native.closerLook) { // the Worker ran the detector again at 2048: no like-for-like counts
      process.stderr.write(`\n${path.basename(file)}: no number read, looked at closer: left out\n`);
      continue;
    }
    const counts = { tiles: native.tiles, crops: native.crops };
    const web = { detMs: await webDet(counts.tiles), recMs: await webRec(counts.crops) };
    const py = await ortNative(counts);
    rows.push({ file, ...counts, wasm, wasmModel, native, web, py });
    process.stderr.write(`\r${i + 1}/${photos.length} photos`);
  }
  process.stderr.write("\n");
} finally {
  await worker.dispose();
  python.stdin.end();
  rmSync(tmp, { recursive: true, force: true });
}
const load1 = loadavg()[0];

// --- the tables ------------------------------------------------------------------------------------
const tiles = sum(rows.map((r) => r.tiles)), crops = sum(rows.map((r) => r.crops));
const stage = {
  detection: {
    wasm: rows.map((r) => r.wasm.detection), native: rows.map((r) => r.native.detectionMs),
    wasmModel: rows.map((r) => r.wasmModel.detection), nativeModel: rows.map((r) => r.native.modelMs.detection),
    web: rows.map((r) => r.web.detMs), py: rows.map((r) => r.py.detMs), runs: tiles,
  },
  ocr: {
    wasm: rows.map((r) => r.wasm.ocr), native: rows.map((r) => r.native.ocrMs),
    wasmModel: rows.map((r) => r.wasmModel.ocr), nativeModel: rows.map((r) => r.native.modelMs.ocr),
    web: rows.map((r) => r.web.recMs), py: rows.map((r) => r.py.recMs), runs: crops,
  },
};
const out = [];
out.push(`### Inference per photo, ms (${rows.length} RBNR photos: ${tiles} detector tiles, ${crops} recognizer crops in all)`, "");
out.push(
  table(
    ["stage", "ours wasm (stage)", "ours native (stage)", "ort-web (model)", "ort native (model)", "wasm / ort-web", "wasm / ort native", "ours native / ort native"],
    Object.entries(stage).flatMap(([name, s]) => {
      const line = (label, f) => [
        `${name}, ${label}`, ms(f(s.wasm)), ms(f(s.native)), ms(f(s.web)), ms(f(s.py)),
        times(f(s.wasm), f(s.web)), times(f(s.wasm), f(s.py)), times(f(s.native), f(s.py)),
      ];
      return [
        line("median per photo", median),
        line("p90 per photo", (v) => percentile(v, 90)),
        line(`per run (sum / ${s.runs})`, (v) => sum(v) / s.runs),
      ];
    }),
  ),
);
out.push("", `### Model time only, ms: engine against engine (the same runs; ours is the time inside tract's runs, without the stage's pre/post-processing)`, "");
out.push(
  table(
    ["stage", "ours wasm (model)", "ours native (model)", "ort-web (model)", "ort native (model)", "wasm / ort-web", "wasm / ort native", "ours native / ort native", "model share of our wasm stage"],
    Object.entries(stage).flatMap(([name, s]) => {
      const line = (label, f) => [
        `${name}, ${label}`, ms(f(s.wasmModel)), ms(f(s.nativeModel)), ms(f(s.web)), ms(f(s.py)),
        times(f(s.wasmModel), f(s.web)), times(f(s.wasmModel), f(s.py)), times(f(s.nativeModel), f(s.py)),
        `${((100 * f(s.wasmModel)) / f(s.wasm)).toFixed(0)}%`,
      ];
      return [
        line("median per photo", median),
        line("p90 per photo", (v) => percentile(v, 90)),
        line(`per run (sum / ${s.runs})`, (v) => sum(v) / s.runs),
      ];
    }),
  ),
);
out.push(
  "",
  `ort-web ${ort.env.versions.web} (wasm, SIMD, numThreads 1) in Node ${process.version}; onnxruntime ${ortNativeVersion} (Python, CPU, 1 thread); ` +
    `${cpus().length} CPUs (${cpus()[0]?.model}); load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
console.log(out.join("\n"));

const perRun = (s, k) => sum(s[k]) / s.runs;
await summarize([
  ...["detection", "ocr"].flatMap((name) => {
    const s = stage[name];
    const unit = name === "detection" ? "ms per 672x672 tile" : "ms per 48x320 crop";
    return [
      { what: `${name}: ours wasm stage vs ort-web model, ${unit}`, measured: ms(perRun(s, "wasm")), against: ms(perRun(s, "web")), ratio: times(perRun(s, "wasm"), perRun(s, "web")), goal: "<= 1.0x", met: perRun(s, "wasm") <= perRun(s, "web") },
      { what: `${name}: ours wasm stage vs onnxruntime native model, ${unit}`, measured: ms(perRun(s, "wasm")), against: ms(perRun(s, "py")), ratio: times(perRun(s, "wasm"), perRun(s, "py")), goal: "<= 1.5x", met: perRun(s, "wasm") <= 1.5 * perRun(s, "py") },
      { what: `${name}: ours wasm model vs ort-web model (engine vs engine), ${unit}`, measured: ms(perRun(s, "wasmModel")), against: ms(perRun(s, "web")), ratio: times(perRun(s, "wasmModel"), perRun(s, "web")), goal: "<= 1.0x", met: perRun(s, "wasmModel") <= perRun(s, "web") },
      { what: `${name}: ours wasm model vs onnxruntime native model, ${unit}`, measured: ms(perRun(s, "wasmModel")), against: ms(perRun(s, "py")), ratio: times(perRun(s, "wasmModel"), perRun(s, "py")), goal: "<= 1.5x", met: perRun(s, "wasmModel") <= 1.5 * perRun(s, "py") },
    ];
  }),
]);
