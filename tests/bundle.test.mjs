// The Worker's size never grows silently: the built script (build/, made by `npm test`'s
// pretest) and the model files it serves as static assets are checked against the budget
// committed in bundle-budget.json, and against Cloudflare's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bundleSizes, describe } from "../scripts/bundle-size.mjs";
import { root } from "./support/worker.mjs";

const MiB = 1024 * 1024;
const budget = JSON.parse(readFileSync(path.join(root, "bundle-budget.json"), "utf8"));
const sizes = bundleSizes(root);
const over = (what, bytes, limit) =>
  `${what} is ${bytes} bytes, over its budget of ${limit} (bundle-budget.json).\n${describe(sizes)}\n` +
  "Find what grew (node scripts/bundle-size.mjs; models/README.md lists the size settings), " +
  "or raise the budget in a commit that says why.";

test("the Worker script (wasm + js, gzip -9) is within its budget and the free plan's 3 MiB", () => {
  assert.ok(budget.scriptGzipBytes <= 3 * MiB, "the budget itself must stay within the free plan's 3 MiB");
  assert.ok(sizes.script.gzip <= budget.scriptGzipBytes, over("The Worker script", sizes.script.gzip, budget.scriptGzipBytes));
});

test("the models (static assets) are within their budget, and script + models under 10 MiB", () => {
  assert.ok(sizes.models.length === 2, `expected the two model files in models/, found ${sizes.models.map((m) => m.file)}`);
  assert.ok(sizes.modelsTotal.raw <= budget.modelsBytes, over("The model files", sizes.modelsTotal.raw, budget.modelsBytes));
  for (const m of sizes.models) assert.ok(m.raw <= 25 * MiB, `${m.file}: a static asset may not exceed 25 MiB`);
  assert.ok(sizes.total.gzip <= 10 * MiB, `script + models are ${sizes.total.gzip} bytes gzip, over 10 MiB`);
});

test("the static assets serve the very model files of models/", () => {
  for (const { file } of sizes.models) {
    const served = readFileSync(path.join(root, "public/models", file));
    assert.ok(served.equals(readFileSync(path.join(root, "models", file))), `public/models/${file} differs from models/${file}: npm run build copies it`);
  }
});

// What `wrangler deploy` would upload, without an account: the configuration is valid, every
// binding is there, and the compressed size wrangler reports (what Cloudflare's script limit
// counts, wasm and the JS shim) is within the free plan's 3 MiB.
test("wrangler deploy --dry-run accepts the Worker, with its bindings, within 3 MiB", () => {
  const outdir = mkdtempSync(path.join(tmpdir(), "finishline-dry-run-"));
  try {
    const out = execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    const upload = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    assert.ok(upload, `no upload size in wrangler's output:\n${out}`);
    const gzipBytes = Number(upload[2]) * 1024;
    assert.ok(gzipBytes <= 3 * MiB, `wrangler would upload ${upload[2]} KiB gzip, over the free plan's 3 MiB`);
    for (const binding of ["env.EVENT_ROOM (EventRoom)", "env.PHOTO_JOBS (photo-jobs)", "env.PHOTOS (finishline-photos)", "env.ASSETS"]) {
      assert.ok(out.includes(binding), `${binding} missing from wrangler's bindings:\n${out}`);
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
