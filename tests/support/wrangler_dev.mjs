// Runs the Worker as `npm start` does: `wrangler dev` on loopback, with its own fresh local
// state under tests/out/ and the tests' API token.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { root, TEST_API_TOKEN } from "./worker.mjs";
import { sleep } from "./client.mjs";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(url, child, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/events/ready`)).ok) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`wrangler dev did not serve within ${ms} ms`);
}

/**
 * Starts `wrangler dev` and resolves once it serves. `log()` is its output so far (to attach to
 * a failure); `stop()` ends it.
 */
export async function startWranglerDev({ readyWithinMs = 180_000 } = {}) {
  const port = await freePort();
  const persist = path.join(root, "tests/out/wrangler-state", String(port));
  rmSync(persist, { recursive: true, force: true }); // a port used by an earlier run
  const child = spawn(
    path.join(root, "node_modules/.bin/wrangler"),
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist, "--show-interactive-dev-session=false",
     "--var", `API_TOKEN:${TEST_API_TOKEN}`],
    {
      cwd: root,
      // The fix for local Miniflare's queue stall, as `npm start` preloads it (scripts/miniflare-keepalive.mjs).
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ./scripts/miniflare-keepalive.mjs` },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child, readyWithinMs);
  } catch (e) {
    await stop();
    e.message += `\n--- wrangler dev output ---\n${output.slice(-4000)}`;
    throw e;
  }
  return { url, log: () => output.slice(-4000), stop };
}
