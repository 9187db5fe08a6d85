// Every benchmark, one after the other, then one table of the headline numbers against the goals.
//
//   npm run bench                 # = npm run build && node scripts/bench-all.mjs
//   node scripts/bench-all.mjs --quick    # fewer photos, sockets and rounds (a smoke run)
//
// Each bench prints its own tables (kept above the summary) and appends its headline rows to
// the file named by BENCH_SUMMARY. Run on an otherwise idle machine: the load average is printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { root, table } from "./bench/worker-jobs.mjs";

const quick = process.argv.includes("--quick");
const benches = [
  ["bench-worker.mjs", quick ? ["--photos", "5"] : []],
  ["bench-inference.mjs", quick ? ["--photos", "5"] : []],
  ["bench-operators.mjs", quick ? ["--photos", "3"] : []],
  ["bench-kernel.mjs", []],
  ["bench-throughput.mjs", quick ? ["--photos", "6"] : []],
  ["bench-fanout.mjs", quick ? ["--sockets", "1000", "--rounds", "5"] : []],
];
const tmp = mkdtempSync(path.join(tmpdir(), "finishline-bench-all-"));
const summary = path.join(tmp, "summary.jsonl");
writeFileSync(summary, "");
const load0 = loadavg();
const started = new Date();
const failed = [];
for (const [script, args] of benches) {
  console.log(`\n## ${script} ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [path.join(root, "scripts", script), ...args], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, BENCH_SUMMARY: summary },
  });
  if (r.status !== 0) failed.push(script);
}
const rows = readFileSync(summary, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
rmSync(tmp, { recursive: true, force: true });
const load1 = loadavg();
const mark = (met) => (met === true ? "yes" : met === false ? "**no**" : "");
console.log(`\n## Everything (${started.toISOString()})\n`);
console.log(table(["what", "measured", "against", "ratio", "goal", "met"], rows.map((r) => [r.what, r.measured, r.against, r.ratio, r.goal, mark(r.met)])));
console.log(
  `\n${cpus().length} CPUs (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
    `load average (1/5/15 min) ${load0.map((l) => l.toFixed(2)).join("/")} before, ${load1.map((l) => l.toFixed(2)).join("/")} after; ` +
    `${((Date.now() - started) / 60000).toFixed(1)} min` + (failed.length ? `; FAILED: ${failed.join(", ")}` : ""),
);
process.exitCode = failed.length ? 1 : 0;
