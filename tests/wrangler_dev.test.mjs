// The same Worker as `npm start` serves it: `wrangler dev` on loopback, a real photo, a real socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { root, TEST_API_TOKEN } from "./support/worker.mjs";
import { EventSocket, photo, sleep, upload } from "./support/client.mjs";

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

test("under wrangler dev, an uploaded photo is processed and streamed to a socket", { timeout: 300_000 }, async () => {
  const port = await freePort();
  const persist = path.join(root, "tests/out/wrangler-state", String(port));
  const child = spawn(
    path.join(root, "node_modules/.bin/wrangler"),
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist, "--show-interactive-dev-session=false",
     "--var", `API_TOKEN:${TEST_API_TOKEN}`],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child, 180_000);
    const eventId = `dev-${Date.now()}`;
    const socket = await EventSocket.open(url, eventId);
    const accepted = await upload(url, eventId, photo("set2/set2_01.JPG"), { requestId: "req_wrangler_dev" });
    assert.equal(accepted.status, 202);
    const done = await socket.waitFor((f) => f.event === "event:completed", { ms: 120_000 });
    assert.deepEqual(done.data.summary, { total: 1, succeeded: 1, failed: 0 });
    assert.deepEqual(
      socket.frames.map((f) => f.event),
      ["photo:progress", "photo:progress", "photo:progress", "photo:completed", "event:progress", "event:completed"],
    );
    assert.ok(socket.frames.every((f) => f.data.requestId === "req_wrangler_dev"));
    socket.close();
  } catch (e) {
    e.message += `\n--- wrangler dev output ---\n${log.slice(-4000)}`;
    throw e;
  } finally {
    child.kill("SIGINT");
    await new Promise((resolve) => child.once("exit", resolve));
  }
});
