// The same Worker as `npm start` serves it: `wrangler dev` on loopback, a real photo, a real socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventSocket, photo, upload } from "./support/client.mjs";
import { startWranglerDev } from "./support/wrangler_dev.mjs";

test("under wrangler dev, an uploaded photo is processed and streamed to a socket", { timeout: 300_000 }, async () => {
  const dev = await startWranglerDev();
  const url = dev.url;
  try {
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
    e.message += `\n--- wrangler dev output ---\n${dev.log()}`;
    throw e;
  } finally {
    await dev.stop();
  }
});
