// Existing socket.io front ends, unchanged but for their connection options: the real
// socket.io-client v4 against the built Worker in workerd, real photos, the real models.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startWorker } from "./support/worker.mjs";
import { EventSocket, getJson, photo, sleep, upload } from "./support/client.mjs";

// Test-friendly heartbeat (production keeps socket.io's 25 s / 20 s, see docs/socketio.md):
// the interval stays above workerd's ~10 s idle eviction, so the room hibernates between pings.
const PING_INTERVAL = 14_000;
const PING_TIMEOUT = 4_000;

let worker;
before(async () => {
  worker = await startWorker({
    vars: { SOCKETIO_PING_INTERVAL_MS: String(PING_INTERVAL), SOCKETIO_PING_TIMEOUT_MS: String(PING_TIMEOUT) },
  });
});
after(() => worker?.dispose());

const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

/** The migration: only the URL's host and the options change; `/progress` stays. */
function connect(eventId, options = {}) {
  return io(`${worker.url}/progress`, { path: `/events/${eventId}/socket.io`, transports: ["websocket"], ...options });
}

/** A connected socket.io client that records every event it receives, in order. */
async function listener(eventId, options) {
  const socket = connect(eventId, options);
  const events = [];
  socket.onAny((name, ...args) => events.push([name, ...args]));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, events };
}

function waitForEvent(events, name, ms = 120_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const found = events.find(([n]) => n === name);
      if (found || Date.now() - started > ms) {
        clearInterval(poll);
        found ? resolve(found) : reject(new Error(`no ${name} within ${ms} ms; got ${JSON.stringify(events)}`));
      }
    }, 50);
  });
}

const SEED_FIELDS = {
  "photo:progress": ["photoId", "progress", "requestId", "stage"],
  // the seed's fields, and ours: every number read
  "photo:completed": ["confidence", "detections", "photoId", "plateNumber", "requestId"],
  "event:progress": ["eventId", "processedPhotos", "requestId", "totalPhotos"],
  "event:completed": ["eventId", "requestId", "summary"],
};

/** One photo's whole story as the gateway emitted it: names, seed payloads, requestId. */
function assertSeedStory(events, { photoId, eventId, requestId }) {
  assert.deepEqual(
    events.map(([name]) => name),
    ["photo:progress", "photo:progress", "photo:progress", "photo:completed", "event:progress", "event:completed"],
  );
  for (const [name, data, ...rest] of events) {
    assert.deepEqual(rest, [], `${name} has one argument: the payload`);
    assert.deepEqual(Object.keys(data).sort(), SEED_FIELDS[name], `${name} carries the seed's fields`);
    assert.equal(data.requestId, requestId);
    if (name.startsWith("photo:")) assert.equal(data.photoId, photoId);
    else assert.equal(data.eventId, eventId);
  }
  assert.deepEqual(events.slice(0, 3).map(([, d]) => [d.stage, d.progress]), [["detection", 33], ["ocr", 66], ["color", 100]]);
  const completed = events[3][1];
  assert.ok(completed.plateNumber === null || typeof completed.plateNumber === "number");
  assert.equal(typeof completed.confidence, "number");
  assert.deepEqual(events[4][1], { eventId, processedPhotos: 1, totalPhotos: 1, requestId });
  assert.deepEqual(events[5][1].summary, { total: 1, succeeded: 1, failed: 0 });
}

test("a socket.io client and a plain JSON client in one room both receive every event of a real photo", async () => {
  const eventId = unique("sio");
  const requestId = unique("req_sio");
  const sio = await listener(eventId, { auth: { token: "a-subscribe-token" } });
  const ack = await sio.socket.timeout(10_000).emitWithAck("subscribe:event", { eventId });
  assert.deepEqual(ack, { success: true, room: `event:${eventId}` }, "the gateway's ack, exactly");
  const json = await EventSocket.open(worker.url, eventId);
  const bystander = await listener(eventId); // connected, never subscribed: the gateway sent it nothing

  const accepted = await upload(worker.url, eventId, photo("set1/set1_01.JPG"), { requestId });
  assert.equal(accepted.status, 202);
  await Promise.all([
    waitForEvent(sio.events, "event:completed"),
    json.waitFor((f) => f.event === "event:completed", { ms: 120_000 }),
  ]);
  await sleep(300);

  assertSeedStory(sio.events, { photoId: accepted.body.photoId, eventId, requestId });
  assert.deepEqual(sio.events, json.frames.map((f) => [f.event, f.data]), "one broadcast, the same in both protocols");
  assert.deepEqual(bystander.events, []);

  // A late socket.io client can catch up the shared way: subscribe with since.
  const late = await listener(eventId);
  const lateAck = await late.socket.timeout(10_000).emitWithAck("subscribe:event", { eventId, since: 0 });
  assert.deepEqual(lateAck, { success: true, room: `event:${eventId}` });
  await waitForEvent(late.events, "event:completed", 10_000);
  assert.deepEqual(late.events, sio.events);

  for (const s of [sio.socket, bystander.socket, late.socket]) s.close();
  json.close();
});

test("unsubscribe is acked {success:true} and stops the broadcasts; another event's id is refused", async () => {
  const eventId = unique("unsub");
  const { socket, events } = await listener(eventId);
  assert.deepEqual(await socket.timeout(10_000).emitWithAck("subscribe:event", { eventId }), { success: true, room: `event:${eventId}` });
  assert.deepEqual(await socket.timeout(10_000).emitWithAck("unsubscribe:event", { eventId }), { success: true });
  const refused = await socket.timeout(10_000).emitWithAck("subscribe:event", { eventId: "someone-else" });
  assert.equal(refused.success, false);
  assert.match(refused.error, /belongs to event/);
  const malformed = await socket.timeout(10_000).emitWithAck("subscribe:event", "not an object");
  assert.equal(malformed.success, false);

  const json = await EventSocket.open(worker.url, eventId);
  await upload(worker.url, eventId, photo("set1/set1_02.JPG"));
  await json.waitFor((f) => f.event === "event:completed", { ms: 120_000 });
  await sleep(300);
  assert.deepEqual(events, [], "an unsubscribed socket.io client receives nothing");
  assert.ok(socket.connected);
  socket.close();
  json.close();
});

test("long-polling, Engine.IO v3 and other namespaces are refused clearly", async () => {
  const eventId = unique("refuse");
  for (const query of ["EIO=4&transport=polling", "EIO=4&transport=polling&sid=abc", "EIO=3&transport=websocket"]) {
    const answer = await getJson(`${worker.url}/events/${eventId}/socket.io/?${query}`);
    assert.equal(answer.status, 400, query);
    assert.match(answer.body.error, query.startsWith("EIO=3") ? /EIO=4/ : /long-polling is not served.*websocket/);
  }
  const polling = io(`${worker.url}/progress`, { path: `/events/${eventId}/socket.io`, reconnection: false });
  await new Promise((resolve) => polling.once("connect_error", resolve));
  assert.equal(polling.connected, false, "socket.io-client's default (polling first) cannot connect");
  polling.close();

  const wrong = io(`${worker.url}/elsewhere`, { path: `/events/${eventId}/socket.io`, transports: ["websocket"], reconnection: false, forceNew: true });
  const error = await new Promise((resolve) => wrong.once("connect_error", resolve));
  assert.equal(error.message, "Invalid namespace");
  wrong.close();
});

test("heartbeat: connected beyond 2 x (pingInterval + pingTimeout), the room hibernates between pings, broadcasts still arrive", { timeout: 240_000 }, async () => {
  const eventId = unique("beat");
  const { socket, events } = await listener(eventId, { reconnection: false });
  const pings = [];
  socket.io.on("ping", () => pings.push(Date.now()));
  const drops = [];
  socket.on("disconnect", (reason) => drops.push(reason));
  const sid = socket.id;
  await socket.timeout(10_000).emitWithAck("subscribe:event", { eventId });
  const before = await getJson(`${worker.url}/events/${eventId}`);
  const t0 = Date.now();

  // socket.io-client drops a connection that sees no ping for pingInterval + pingTimeout.
  await sleep(2 * (PING_INTERVAL + PING_TIMEOUT) + 2_000);

  assert.deepEqual(drops, [], "never dropped");
  assert.ok(socket.connected && socket.id === sid, "the same session throughout");
  assert.ok(pings.length >= 2, `pinged every pingInterval (${pings.length} pings)`);
  const after = await getJson(`${worker.url}/events/${eventId}`);
  assert.notEqual(after.headers.get("x-room-instance"), before.headers.get("x-room-instance"), "the room was evicted while idle");
  assert.ok(Number(after.headers.get("x-room-instance")) > t0, "and started again since");

  const requestId = unique("req_beat");
  const accepted = await upload(worker.url, eventId, photo("set1/set1_05.JPG"), { requestId });
  await waitForEvent(events, "event:completed");
  assertSeedStory(events, { photoId: accepted.body.photoId, eventId, requestId });
  socket.close();
});
