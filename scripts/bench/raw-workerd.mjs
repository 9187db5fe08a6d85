// Runs a one-module Worker in workerd itself, without Miniflare (whose entry worker answers a
// WebSocket upgrade and negotiates compression whatever the Worker's flags), as Cloudflare runs
// it. Used by tests/websocket_compression.test.mjs and scripts/bench/websocket-compression.mjs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

// The workerd binary that Miniflare runs.
const workerd = createRequire(import.meta.resolve("miniflare"))("workerd").default;

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts workerd serving `source` (an ES module) on loopback: { url, pid, stop() }. */
export async function startRawWorkerd(source, { compatibilityDate, compatibilityFlags = [] }) {
  const dir = mkdtempSync(path.join(tmpdir(), "finishline-workerd-"));
  const port = await freePort();
  writeFileSync(path.join(dir, "worker.js"), source);
  writeFileSync(
    path.join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = (
    modules = [(name = "worker", esModule = embed "worker.js")],
    compatibilityDate = "${compatibilityDate}",
    compatibilityFlags = [${compatibilityFlags.map((f) => JSON.stringify(f)).join(", ")}],
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
