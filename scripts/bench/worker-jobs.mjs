// What the benches share: the RBNR photos they use, the built Worker in workerd with every
// job's JSON log line captured, an upload that waits for its job's line, and small statistics.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { root, startWorker, TEST_API_TOKEN } from "../../tests/support/worker.mjs";

export { root, TEST_API_TOKEN };
export const dataDir = process.env.RBNR_DIR ?? path.resolve(root, "../shared/data/rbnr");

/** `count` RBNR photos spread evenly over set1 and set2 (name order), read in place. */
export function rbnrPhotos(count) {
  const all = ["set1", "set2"].flatMap((set) =>
    readdirSync(path.join(dataDir, set))
      .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
      .sort()
      .map((f) => path.join(dataDir, set, f)),
  );
  const n = Math.min(count, all.length);
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
}

/** Local Miniflare's queue sometimes never finishes a consumer invocation (docs/performance.md). */
export class Stalled extends Error {}

/**
 * The built Worker in workerd; `jobs` collects every job log line (`{"kind":"job",...}`), and
 * `job(photoId, ms)` resolves with a photo's line (rejects with Stalled after `ms`).
 * `options` go to tests/support/worker.mjs's startWorker (e.g. `vars`); `consumer` overrides
 * the photo-jobs queue consumer's settings.
 */
export async function startJobWorker(options = {}) {
  const jobs = [];
  const waiters = new Map();
  const worker = await startWorker({
    ...options,
    handleRuntimeStdio(stdout, stderr) {
      createInterface({ input: stdout }).on("line", (line) => {
        const at = line.indexOf('{"kind":"job"');
        if (at < 0) return;
        const job = JSON.parse(line.slice(at));
        job.at = performance.now();
        jobs.push(job);
        waiters.get(job.photoId)?.(job);
      });
      createInterface({ input: stderr }).on("line", (line) => process.env.BENCH_VERBOSE && console.error(line));
    },
  });
  const job = (photoId, ms = 60_000) =>
    jobs.find((line) => line.photoId === photoId) ??
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Stalled(`${photoId}: no job line after ${ms / 1000} s`)), ms);
      waiters.set(photoId, (line) => (clearTimeout(timer), waiters.delete(photoId), resolve(line)));
    });
  /** Uploads a file to `eventId`; resolves with the 202's body. */
  const upload = async (eventId, file, photoId) => {
    const response = await fetch(`${worker.url}/events/${eventId}/photos`, {
      method: "POST",
      body: readFileSync(file),
      headers: {
        "content-type": "image/jpeg",
        authorization: `Bearer ${TEST_API_TOKEN}`,
        ...(photoId ? { "x-photo-id": photoId } : {}),
      },
    });
    const body = await response.json();
    if (response.status !== 202) throw new Error(`${file}: upload answered ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  return { ...worker, jobs, job, upload };
}

export const sorted = (v) => [...v].sort((a, b) => a - b);
export const median = (v) => {
  const s = sorted(v);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Nearest-rank percentile. */
export const percentile = (v, p) => {
  const s = sorted(v);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((s.length * p) / 100) - 1))];
};
export const sum = (v) => v.reduce((a, b) => a + b, 0);
export const ms = (x) => (x === undefined || Number.isNaN(x) ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
export const times = (a, b) => (b > 0 && a !== undefined ? `${(a / b).toFixed(2)}x` : "-");

/** Markdown table lines. */
export function table(header, rows) {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/**
 * Appends summary rows ({what, measured, against, ratio, goal, met}) to the file the runner
 * (scripts/bench-all.mjs) passes as BENCH_SUMMARY, so that it prints one table of everything.
 */
export async function summarize(rows) {
  if (!process.env.BENCH_SUMMARY) return;
  const { appendFileSync } = await import("node:fs");
  for (const row of rows) appendFileSync(process.env.BENCH_SUMMARY, JSON.stringify(row) + "\n");
}
