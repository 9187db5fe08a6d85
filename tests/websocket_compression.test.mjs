// Cloudflare's runtime compresses a Worker's WebSockets (permessage-deflate, which every
// browser offers) unless the Worker has the `no_web_socket_compression` flag; wrangler.toml sets
// it (why: docs/performance.md, section 2). Locally Miniflare's entry worker answers the upgrade
// and takes the offer whatever the Worker's flags, so this runs workerd itself, as Cloudflare
// does: a Worker that accepts a socket, with wrangler.toml's compatibility date and flags, and
// once without that flag to show what it changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import WebSocket from "ws";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startRawWorkerd } from "../scripts/bench/raw-workerd.mjs";
import { root } from "./support/worker.mjs";

const { compatibilityDate, compatibilityFlags = [] } =
  unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml")).workerOptions;

const WORKER = `export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.send("hello");
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

/** The Sec-WebSocket-Extensions workerd answers a client offering permessage-deflate with. */
async function negotiatedExtensions(flags) {
  const { url, stop } = await startRawWorkerd(WORKER, { compatibilityDate, compatibilityFlags: flags });
  try {
    return await new Promise((resolve, reject) => {
      const ws = new WebSocket(url.replace("http", "ws"), { perMessageDeflate: true });
      let extensions;
      ws.on("upgrade", (res) => (extensions = res.headers["sec-websocket-extensions"] ?? null));
      ws.on("message", () => (ws.close(), resolve(extensions)));
      ws.on("error", reject);
    });
  } finally {
    stop();
  }
}

test("workerd, with wrangler.toml's flags, does not compress the Worker's sockets", async () => {
  assert.equal(await negotiatedExtensions(compatibilityFlags), null);
  const withoutFlag = compatibilityFlags.filter((f) => f !== "no_web_socket_compression");
  assert.match(await negotiatedExtensions(withoutFlag), /permessage-deflate/);
});
