// The Worker's size never grows silently: the built script (build/, made by `npm test`'s
// pretest) and the model files it serves as static assets are checked against the budget
// committed in bundle-budget.json, and against Cloudflare's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
