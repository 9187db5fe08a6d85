// What a compressed WebSocket costs workerd: N sockets, each offered permessage-deflate by its
// client (as browsers do) and sent 20 broadcast-sized frames, in workerd itself (not Miniflare,
// which negotiates compression whatever the Worker's flags), with wrangler.toml's compatibility
// date and flags, then without `no_web_socket_compression`. Prints workerd's resident memory.
//   node scripts/bench/websocket-compression.mjs [--sockets 1000]
import { execFileSync } from "node:child_process";
import path from "node:path";
import WebSocket from "ws";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startRawWorkerd } from "./raw-workerd.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const sockets = Number(process.argv[process.argv.indexOf("--sockets") + 1] || 1000) || 1000;
const FRAMES = 20;
const { compatibilityDate, compatibilityFlags = [] } =
  unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml")).workerOptions;

// Each socket gets its frames from its own request: outside a Durable Object a Worker may not
// send on a socket another request accepted.
const WORKER = `const frame = JSON.stringify({ event: "photo:failed", seq: 1, data: { photoId: "${"p".repeat(40)}",
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

const rssMiB = (pid) => Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)])) / 1024;

async function measure(flags) {
  const { url, pid, stop } = await startRawWorkerd(WORKER, { compatibilityDate, compatibilityFlags: flags });
  try {
    const idle = rssMiB(pid);
    const clients = [];
    let received = 0, extensions = "none";
    for (let i = 0; i < sockets; i++) {
      clients.push(await new Promise((resolve, reject) => {
        const ws = new WebSocket(url.replace("http", "ws"), { perMessageDeflate: true });
        ws.on("upgrade", (res) => (extensions = res.headers["sec-websocket-extensions"] ?? "none"));
        ws.on("open", () => resolve(ws));
        ws.on("error", reject);
        ws.on("message", () => received++);
      }));
    }
    while (received < FRAMES * sockets) await new Promise((r) => setTimeout(r, 10));
    const holding = rssMiB(pid);
    for (const c of clients) c.terminate();
    return { flags: flags.join(", ") || "(none)", extensions, idle, holding };
  } finally {
    stop();
  }
}

const rows = [
  await measure(compatibilityFlags),
  await measure(compatibilityFlags.filter((f) => f !== "no_web_socket_compression")),
];
console.log(`| compatibility flags | negotiated | workerd RSS idle, MiB | with ${sockets} sockets, MiB | per socket, KiB |`);
console.log("| --- | --- | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.flags} | ${r.extensions} | ${r.idle.toFixed(1)} | ${r.holding.toFixed(1)} | ${(((r.holding - r.idle) * 1024) / sockets).toFixed(0)} |`);
}
