// Cloudflare's runtime compresses a Worker's WebSockets (permessage-deflate, which every
// browser offers) unless the Worker has the `no_web_socket_compression` flag; wrangler.toml sets
// it (why: docs/performance.md, section 2). Locally Miniflare's entry worker answers the upgrade
// and takes the offer whatever the Worker's flags, so this runs workerd itself, as Cloudflare
// does: a Worker that accepts a socket, with wrangler.toml's compatibility date and flags, and
// once without that flag to show what it changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compatibilityFlags, openOfferingDeflate, startSocketWorker } from "./support/raw_workerd.mjs";

/** The Sec-WebSocket-Extensions workerd answers a client offering permessage-deflate with. */
async function negotiatedExtensions(flags) {
  const { url, stop } = await startSocketWorker(flags);
  try {
    const { ws, extensions } = await openOfferingDeflate(url);
    ws.terminate();
    return extensions;
  } finally {
    stop();
  }
}

test("workerd, with wrangler.toml's flags, does not compress the Worker's sockets", async () => {
  assert.equal(await negotiatedExtensions(compatibilityFlags), null);
  const withoutFlag = compatibilityFlags.filter((f) => f !== "no_web_socket_compression");
  assert.match(await negotiatedExtensions(withoutFlag), /permessage-deflate/);
});
