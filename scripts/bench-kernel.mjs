// The ceiling of a matrix product's inner loop, in wasm in workerd and natively on this CPU:
// scripts/bench/kernel-ceiling, one register tile of C, A and B packed and in L1, nothing else.
// It says how much of the wasm/native gap of tract's OptMatMul (npm run bench:operators) any
// wasm kernel could close: wasm SIMD is 4 lanes of f32, AVX-512 is 16.
//
//   npm run bench:kernel             # = node scripts/bench-kernel.mjs
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { root, summarize, table, times } from "./bench/worker-jobs.mjs";

const crate = path.join(root, "scripts/bench/kernel-ceiling");
const targetDir = path.join(root, "target/kernel-ceiling");
const cargo = (args) =>
  execFileSync("cargo", ["build", "--release", "--quiet", "--target-dir", targetDir, ...args], {
    cwd: crate, stdio: ["ignore", "inherit", "inherit"],
  });
// The Worker's wasm flags come from the repo's .cargo/config.toml (+simd128, +relaxed-simd).
cargo(["--lib", "--target", "wasm32-unknown-unknown"]);
cargo(["--bin", "kernel-ceiling"]);
const load0 = loadavg()[0];

const [k, reps] = [256, 200_000];
const wasmKernels = [
  ["wasm_8x8", "wasm SIMD 8x8, relaxed madd (tract's wasm_f32_8x8 loop, as the Worker runs it)", 8, 8],
  ["wasm_8x8_mul_add", "wasm SIMD 8x8, multiply then add", 8, 8],
  ["wasm_4x8", "wasm SIMD 4x8, relaxed madd (load-splat)", 4, 8],
];
const mf = new Miniflare({
  modules: [
    {
      type: "ESModule",
      path: "worker.mjs",
      contents: `import kernels from "./kernels.wasm";
export default { async fetch(request) {
  const name = new URL(request.url).searchParams.get("kernel");
  const { exports } = await WebAssembly.instantiate(kernels);
  return new Response(String(exports[name](${k}, ${reps})));
} };`,
    },
    { type: "CompiledWasm", path: "kernels.wasm", contents: readFileSync(path.join(targetDir, "wasm32-unknown-unknown/release/kernel_ceiling.wasm")) },
  ],
  compatibilityDate: "2026-04-01",
});
const rows = [];
try {
  for (const [name, label, mr, nr] of wasmKernels) {
    let best = Infinity;
    for (let i = 0; i < 4; i++) { // the first compiles and warms up: not counted
      const t0 = performance.now();
      await (await mf.dispatchFetch(`http://kernel/?kernel=${name}`)).text();
      if (i) best = Math.min(best, performance.now() - t0);
    }
    rows.push({ label, gflops: (2 * mr * nr * k * reps) / best / 1e6 });
  }
} finally {
  await mf.dispose();
}
const native = execFileSync(path.join(targetDir, "release/kernel-ceiling"), [String(k), String(reps)], { encoding: "utf8" })
  .trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
for (const { kernel, gflops } of native) rows.push({ label: kernel, gflops });

const base = rows[0].gflops;
console.log(`### Matrix-product kernel ceiling, GFLOP/s (k = ${k}, ${reps} tiles, operands in L1, best of 3)\n`);
console.log(table(["kernel", "GFLOP/s", "against wasm 8x8"], rows.map((r) => [r.label, r.gflops.toFixed(1), times(r.gflops, base)])));
console.log(`\n${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}, workerd of miniflare; load average ${load0.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`);
const best = rows.reduce((a, b) => (b.gflops > a.gflops ? b : a));
await summarize([{ what: `matmul kernel ceiling: ${best.label} vs wasm SIMD 8x8, GFLOP/s`, measured: best.gflops.toFixed(1), against: base.toFixed(1), ratio: times(best.gflops, base), goal: "", met: "" }]);
