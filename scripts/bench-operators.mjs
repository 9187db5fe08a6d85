// Where inference time goes in wasm, by tract operator, beside the same operators natively:
// the Worker in workerd with OP_TIMES set (its job logs carry milliseconds per operator) and
// examples/op_times.rs on the same photos. Names the operators that make wasm slower.
//
//   npm run bench:operators          # = node scripts/bench-operators.mjs [--photos 10]
//
// The Worker's clock is Date.now() (whole milliseconds; real time in local workerd): summed over
// the thousands of nodes of the photos, its steps average out. Natively: Instant.
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import { rbnrPhotos, root, startJobWorker, sum, summarize, table, times } from "./bench/worker-jobs.mjs";

const args = process.argv.slice(2);
const count = Number(args.includes("--photos") ? args[args.indexOf("--photos") + 1] : 10);
const photos = rbnrPhotos(count);
const load0 = loadavg()[0];

execFileSync("cargo", ["build", "--release", "--example", "op_times"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const native = execFileSync(path.join(root, "target/release/examples/op_times"), photos, { encoding: "utf8", maxBuffer: 1 << 24 })
  .trim().split("\n").map((l) => JSON.parse(l).opMs);

const worker = await startJobWorker({ vars: { OP_TIMES: "1" } });
const wasm = [];
try {
  const eventId = `bench-ops-${Date.now()}`;
  for (const file of [photos[0], ...photos]) { // the first loads the models: not counted
    const { photoId } = await worker.upload(eventId, file);
    const job = await worker.job(photoId, 60_000);
    if (!job.opMs) throw new Error(`${file}: job ${JSON.stringify(job)}`);
    wasm.push(job.opMs);
  }
  wasm.shift();
} finally {
  await worker.dispose();
}

const total = (rows, op) => sum(rows.map((r) => r[op] ?? 0));
const ops = [...new Set([...wasm, ...native].flatMap(Object.keys))];
const wasmAll = sum(ops.map((op) => total(wasm, op)));
const nativeAll = sum(ops.map((op) => total(native, op)));
const rows = ops
  .map((op) => ({ op, w: total(wasm, op), n: total(native, op) }))
  .sort((a, b) => b.w - a.w);
const ms = (x) => (x / photos.length).toFixed(x / photos.length >= 10 ? 0 : 1);
const shown = rows.filter((r) => r.w / wasmAll >= 0.005);
console.log(`### Inference by tract operator, ms per photo (${photos.length} RBNR photos; detection and ocr)\n`);
console.log(table(
  ["operator", "wasm", "native", "wasm / native", "share of wasm", "share of the wasm - native gap"],
  [
    ...shown.map((r) => [r.op, ms(r.w), ms(r.n), times(r.w, r.n), `${((100 * r.w) / wasmAll).toFixed(1)}%`, `${((100 * (r.w - r.n)) / (wasmAll - nativeAll)).toFixed(1)}%`]),
    [`${rows.length - shown.length} others`, ms(sum(rows.slice(shown.length).map((r) => r.w))), ms(sum(rows.slice(shown.length).map((r) => r.n))), "", "", ""],
    ["all operators", ms(wasmAll), ms(nativeAll), times(wasmAll, nativeAll), "100%", "100%"],
  ],
));
console.log(`\nload average ${load0.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`);
const top = shown.slice(0, 3).map((r) => `${r.op} ${times(r.w, r.n)}`).join(", ");
await summarize([{ what: "inference by tract operator, wasm vs native (`npm run bench:operators`): the three largest", measured: top, against: "", ratio: times(wasmAll, nativeAll), goal: "", met: "" }]);
