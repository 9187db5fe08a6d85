// Throughput: photos per minute through the local queue consumer (the built Worker in workerd),
// for a few queue consumer settings, beside the native CLI on the same photos in the same run,
// and where the time goes.
//
//   npm run bench:throughput          # = node scripts/bench-throughput.mjs [--photos 30]
//
// Each setting gets a fresh Worker: a warm-up photo loads the models (not counted), then all N
// RBNR photos are uploaded at once (in parallel) and the clock runs from the first upload to
// the last job's log line. Local Miniflare dispatches one batch at a time per queue (its
// broker awaits each consumer invocation before the next: max_concurrency does not exist
// locally) and workerd runs the isolate on one thread, so locally only the batch size can be
// tuned; on Cloudflare, max_concurrency runs consumer invocations side by side, each with its
// own CPU, and throughput scales with it (not measurable here).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { rbnrPhotos, root, startJobWorker, Stalled, sum, summarize, table, times } from "./bench/worker-jobs.mjs";

const args = process.argv.slice(2);
const count = Number(args[args.indexOf("--photos") + 1] || 30);
const photos = rbnrPhotos(count);
const settings = [
  { maxBatchSize: 1, maxBatchTimeout: 0 }, // wrangler.toml
  { maxBatchSize: 5, maxBatchTimeout: 0 },
  { maxBatchSize: 10, maxBatchTimeout: 1 },
];
const STALL_MS = 60_000;
async function wasmRun(consumer) {
  const worker = await startJobWorker({ consumer });
  try {
    const eventId = `throughput-${Date.now()}`;
    await worker.job((await worker.upload(eventId, photos[0], "warmup")).photoId, STALL_MS);
    const first = worker.jobs.length;
    const t0 = performance.now();
    const ids = await Promise.all(photos.map((file, i) => worker.upload(eventId, file, `p${i}`).then((b) => b.photoId)));
    const uploadedMs = performance.now() - t0;
    // A stall is no new job line for STALL_MS (photos finish in any order, a batch at a time).
    const pending = new Set(ids);
    let seen = worker.jobs.length, lastProgress = performance.now();
    while ([...pending].some((id) => !worker.jobs.some((j) => j.photoId === id && j.outcome === "completed"))) {
      await new Promise((r) => setTimeout(r, 250));
      if (worker.jobs.length > seen) (seen = worker.jobs.length), (lastProgress = performance.now());
      if (performance.now() - lastProgress > STALL_MS) throw new Stalled(`no job line for ${STALL_MS / 1000} s`);
    }
    const jobs = ids.map((id) => worker.jobs.find((j) => j.photoId === id && j.outcome === "completed"));
    const wallMs = Math.max(...jobs.map((j) => j.at)) - t0;
    const extra = worker.jobs.slice(first).filter((j) => j.outcome !== "completed").length;
    return { consumer, jobs, wallMs, uploadedMs, extra };
  } finally {
    await worker.dispose();
  }
}

/** The release CLI over the same photos in `processes` processes side by side. */
async function nativeRun(processes) {
  const cli = path.join(root, "target/release/finishline");
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: processes }, (_, p) =>
      promisify(execFile)(cli, ["scan", ...photos.filter((_, i) => i % processes === p)], { maxBuffer: 1 << 26 }),
    ),
  );
  return performance.now() - t0;
}

const load0 = loadavg()[0];
const started = Date.now();
const runs = [];
for (const consumer of settings) {
  runs.push(await wasmRun(consumer));
  process.stderr.write(`batch ${consumer.maxBatchSize} done\n`);
}
const native1 = await nativeRun(1);
const native2 = await nativeRun(2);
const load1 = loadavg()[0];

const perMinute = (wallMs) => (photos.length * 60_000) / wallMs;
const out = [`### Throughput, ${photos.length} RBNR photos uploaded at once (models already loaded)`, ""];
const stages = ["decode", "detection", "ocr", "color"];
out.push(
  table(
    ["consumer", "photos/min", "wall s", "uploads s", ...stages.map((s) => `${s} % of wall`), "rest of jobs %", "between jobs %", "retries"],
    runs.map((r) => {
      const st = stages.map((s) => sum(r.jobs.map((j) => j.stageMs?.[s] ?? 0)));
      const inJobs = sum(r.jobs.map((j) => j.durationMs));
      const pct = (x) => `${((100 * x) / r.wallMs).toFixed(1)}`;
      return [
        `wasm, max_batch_size ${r.consumer.maxBatchSize}, max_batch_timeout ${r.consumer.maxBatchTimeout}`,
        perMinute(r.wallMs).toFixed(1), (r.wallMs / 1000).toFixed(1), (r.uploadedMs / 1000).toFixed(1),
        ...st.map(pct), pct(inJobs - sum(st)), pct(r.wallMs - inJobs), r.extra,
      ];
    }).concat([
      ["native CLI, 1 process", perMinute(native1).toFixed(1), (native1 / 1000).toFixed(1), "-", "", "", "", "", "", "", ""],
      ["native CLI, 2 processes", perMinute(native2).toFixed(1), (native2 / 1000).toFixed(1), "-", "", "", "", "", "", "", ""],
    ]),
  ),
);
out.push(
  "",
  "`rest of jobs`: inside the consumer but outside the stages (the room's attempt and the four reports, R2 get); " +
    "`between jobs`: the queue's dispatch and the uploads, which the same workerd serves meanwhile. " +
    `${cpus().length} CPUs; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
console.log(out.join("\n"));

const best = runs.reduce((a, b) => (perMinute(b.wallMs) > perMinute(a.wallMs) ? b : a));
await summarize([
  { what: `throughput, photos/min, wasm local queue (best: max_batch_size ${best.consumer.maxBatchSize}) vs native CLI 1 process`, measured: perMinute(best.wallMs).toFixed(1), against: perMinute(native1).toFixed(1), ratio: times(perMinute(best.wallMs), perMinute(native1)), goal: "", met: "" },
]);
