// A socket Worker in workerd itself, without Miniflare (whose entry worker answers a WebSocket
// upgrade and negotiates compression whatever the Worker's flags), as Cloudflare runs it, with
// wrangler.toml's compatibility date and flags. Used by tests/websocket_compression.test.mjs and
// scripts/bench/websocket-compression.mjs, as worker.mjs is by the tests and the benches.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { root } from "./worker.mjs";

// The workerd binary that Miniflare runs.
const workerd = createRequire(import.meta.resolve("miniflare"))("workerd").default;

/** wrangler.toml's { compatibilityDate, compatibilityFlags }. */
export const { compatibilityDate, compatibilityFlags = [] } =
  unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml")).workerOptions;

/** Frames the Worker sends each socket it accepts. */
export const FRAMES = 20;

// Each socket gets its frames from its own request: outside a Durable Object a Worker may not
// send on a socket another request accepted. A frame the size of a room's `photo:failed`.
const SOCKET_WORKER = `const frame = JSON.stringify({ event: "photo:failed", seq: 1, data: { photoId: "${"p".repeat(40)}",
  error: "the JPEG is truncated or corrupt", requestId: "req_0123456789abcdef" } });
export default {
  fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") return new Response("ok");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    for (let i = 0; i < ${FRAMES}; i++) server.send(frame);
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts workerd serving the socket Worker with these compatibility flags: { url, pid, stop() }. */
export async function startSocketWorker(flags) {
  const dir = mkdtempSync(path.join(tmpdir(), "finishline-workerd-"));
  const port = await freePort();
  writeFileSync(path.join(dir, "worker.js"), SOCKET_WORKER);
  writeFileSync(
    path.join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = (
    modules = [(name = "worker", esModule = embed "worker.js")],
    compatibilityDate = "${compatibilityDate}",
    compatibilityFlags = [${flags.map((f) => JSON.stringify(f)).join(", ")}],
  ))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);`,
  );
  const child = spawn(workerd, ["serve", path.join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const stop = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(url);
      return { url, pid: child.pid, stop };
    } catch (e) {
      if (attempt >= 100 || child.exitCode !== null) {
        stop();
        throw new Error(`workerd did not start: ${e.message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Opens a socket offering permessage-deflate, as browsers do: { ws, extensions } once open,
 * `extensions` the Sec-WebSocket-Extensions workerd answered (null: none). `onMessage` sees
 * every frame.
 */
export function openOfferingDeflate(url, onMessage = () => {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace("http", "ws"), { perMessageDeflate: true });
    let extensions = null;
    ws.on("upgrade", (res) => (extensions = res.headers["sec-websocket-extensions"] ?? null));
    ws.on("open", () => resolve({ ws, extensions }));
    ws.on("error", reject);
    ws.on("message", onMessage);
  });
}
