// Runs the built Worker (build/) in workerd through Miniflare, configured from wrangler.toml,
// listening on 127.0.0.1 so tests talk to it over real TCP.
// Before Miniflare makes its loopback server: keeps the local queue from stalling.
import "../../scripts/miniflare-keepalive.mjs";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The API token the tests' Worker requires for writes (like .dev.vars does for `npm start`). */
export const TEST_API_TOKEN = "test-api-token";

/**
 * Starts the Worker; `vars` are extra bindings, over the default API_TOKEN (null removes one).
 * `handleRuntimeStdio(stdout, stderr)`, when given, receives workerd's output (the Worker's
 * console lines) instead of this process's stdout and stderr. `MF_LOG=INFO` (or DEBUG) in the
 * environment shows Miniflare's own log, e.g. each queue dispatch ("QUEUE photo-jobs 1/1").
 */
export async function startWorker({ vars = {}, handleRuntimeStdio, consumer } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  // The benches tune the photo-jobs consumer's settings (maxBatchSize, maxBatchTimeout).
  if (consumer) workerOptions.queueConsumers["photo-jobs"] = { ...workerOptions.queueConsumers["photo-jobs"], ...consumer };
  const mf = new Miniflare({
    ...workerOptions,
    rootPath: root,
    scriptPath: path.join(root, "build/index.js"),
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    bindings: Object.fromEntries(
      Object.entries({ ...workerOptions.bindings, API_TOKEN: TEST_API_TOKEN, ...vars }).filter(([, v]) => v !== null),
    ),
    host: "127.0.0.1",
    port: 0,
    cf: false,
    ...(process.env.MF_LOG ? { log: new Log(LogLevel[process.env.MF_LOG]) } : {}),
    ...(handleRuntimeStdio ? { handleRuntimeStdio } : {}),
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { mf, url, dispose: () => mf.dispose() };
}
