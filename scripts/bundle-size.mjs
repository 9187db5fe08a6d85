// What the Worker deploys, in bytes: its script (build/index_bg.wasm + build/index.js, what
// Cloudflare's script size limit counts, compressed) and the model files it serves as static
// assets (models/*.nnef.tar, outside that limit). Used by tests/bundle.test.mjs (against
// bundle-budget.json) and by scripts/bench-worker.mjs; run alone it prints the table:
//   node scripts/bundle-size.mjs
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** An unsigned LEB128 number at `at`: [value, offset after it]. */
function leb(bytes, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

/** The wasm module's sections in order, as `{ id, body }`. */
function* sectionsOf(wasm) {
  let at = 8; // magic + version
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, start] = leb(wasm, at + 1);
    yield { id, body: wasm.subarray(start, start + size) };
    at = start + size;
  }
}

/** The wasm module's sections by kind (code, data, name, other), raw bytes each. */
export function wasmSections(wasm) {
  const kinds = { code: [], data: [], name: [], other: [] };
  for (const { id, body } of sectionsOf(wasm)) {
    let kind = id === 10 ? "code" : id === 11 ? "data" : "other";
    if (id === 0) {
      const [nameLength, at] = leb(body, 0);
      if (body.subarray(at, at + nameLength).toString() === "name") kind = "name";
    }
    kinds[kind].push(body);
  }
  return Object.fromEntries(Object.entries(kinds).map(([k, parts]) => [k, Buffer.concat(parts)]));
}

/** The module's declared initial memory (static data, stack), in bytes, if it defines one. */
export function wasmInitialMemory(wasm) {
  for (const { id, body } of sectionsOf(wasm)) {
    if (id !== 5) continue;
    const [count, at] = leb(body, 0);
    return count > 0 ? leb(body, at + 1)[0] * 65536 : undefined; // skips the limits flags
  }
  return undefined;
}

/** Sizes in bytes; `gzip` is gzip -9, which is how Cloudflare counts the script limit. */
export function bundleSizes(dir = root) {
  const wasm = readFileSync(path.join(dir, "build/index_bg.wasm"));
  const js = readFileSync(path.join(dir, "build/index.js"));
  const sections = Object.fromEntries(
    Object.entries(wasmSections(wasm)).map(([k, bytes]) => [k, { raw: bytes.length, gzip: gzip(bytes) }]),
  );
  const models = readdirSync(path.join(dir, "models"))
    .filter((f) => f.endsWith(".nnef.tar"))
    .sort()
    .map((file) => {
      const bytes = readFileSync(path.join(dir, "models", file));
      return { file, raw: bytes.length, gzip: gzip(bytes) };
    });
  const script = { raw: wasm.length + js.length, gzip: gzip(wasm) + gzip(js) };
  const modelsTotal = {
    raw: models.reduce((s, m) => s + m.raw, 0),
    gzip: models.reduce((s, m) => s + m.gzip, 0),
  };
  return {
    wasm: { raw: wasm.length, gzip: gzip(wasm) },
    js: { raw: js.length, gzip: gzip(js) },
    sections,
    script,
    models,
    modelsTotal,
    total: { raw: script.raw + modelsTotal.raw, gzip: script.gzip + modelsTotal.gzip },
  };
}

const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;

/** One line per item: the bench and the command line print this. */
export function describe(s) {
  const sec = s.sections;
  return [
    `Worker script (wasm + js), gzip -9: ${mib(s.script.gzip)} (${s.script.gzip} bytes; Cloudflare free plan 3 MiB, paid 10 MiB)`,
    `  build/index_bg.wasm: ${mib(s.wasm.raw)} raw, ${mib(s.wasm.gzip)} gzip; sections gzip each: ` +
      `code ${mib(sec.code.gzip)}, data ${mib(sec.data.gzip)}, name ${mib(sec.name.gzip)}, other ${mib(sec.other.gzip)}`,
    `  build/index.js: ${s.js.raw} bytes raw, ${s.js.gzip} gzip`,
    `models (static assets, outside the script limit): ${mib(s.modelsTotal.raw)} raw, ${mib(s.modelsTotal.gzip)} gzip` +
      ` (${s.models.map((m) => `${m.file} ${m.raw}`).join(", ")})`,
    `script + models, gzip -9: ${mib(s.total.gzip)} (${s.total.gzip} bytes)`,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(describe(bundleSizes()));
}
