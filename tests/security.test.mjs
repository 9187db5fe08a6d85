// Every bad input gets a clear answer and loses nothing: a table of bad HTTP and WebSocket
// inputs against the Worker in workerd, configured as production would be (API token,
// subscribe-token secret, allowed origins), then a normal upload whose counters are exact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import WebSocket from "ws";
import { startWorker, TEST_API_TOKEN } from "./support/worker.mjs";
import { EventSocket, getJson, photo, pngHeader, upload } from "./support/client.mjs";

const SECRET = "test-event-token-secret";
const ALLOWED = "https://organiser.example";
let worker;
before(async () => {
  worker = await startWorker({
    vars: { EVENT_TOKEN_SECRET: SECRET, ALLOWED_ORIGINS: ALLOWED, MAX_SOCKETS_PER_ROOM: "3", MAX_MESSAGES_PER_MINUTE: "30" },
  });
});
after(() => worker?.dispose());

const EVENT = `sec-${Date.now().toString(36)}`;
const hmacToken = (eventId, expires, secret = SECRET) =>
  `${expires}.${createHmac("sha256", secret).update(`${eventId}.${expires}`).digest("hex")}`;
const nowSecs = () => Math.floor(Date.now() / 1000);

async function issueToken(eventId) {
  const response = await fetch(`${worker.url}/events/${eventId}/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
  });
  assert.equal(response.status, 201);
  return (await response.json()).token;
}

/** The status an upgrade gets, or 101. */
function upgradeStatus(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${worker.url.replace(/^http/, "ws")}${path}`, { headers });
    ws.once("open", () => (ws.close(), resolve(101)));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode));
    ws.once("error", reject);
  });
}

/** Sends a raw frame on a fresh subscribed socket; resolves with the answer frame or the close. */
async function answerTo(send) {
  const socket = await EventSocket.open(worker.url, EVENT, { token: await issueToken(EVENT) });
  const closed = new Promise((resolve) => socket.ws.once("close", (code, reason) => resolve({ close: code, reason: reason.toString() })));
  send(socket.ws);
  const answer = await Promise.race([socket.waitFor(() => true, { ms: 20_000 }).catch(() => null), closed]);
  socket.close();
  return answer;
}

const jpeg = photo("set1/set1_18.JPG");
const up = (body, opts) => upload(worker.url, EVENT, body, opts).then((r) => r.status);
/** A real photo whose frame header says it is a progressive JPEG of 6000x4000 pixels. */
function progressive6000x4000() {
  const bytes = Buffer.from(jpeg);
  const sof = bytes.findIndex((b, i) => b === 0xff && (bytes[i + 1] === 0xc0 || bytes[i + 1] === 0xc2));
  bytes[sof + 1] = 0xc2;
  bytes.set([0x0f, 0xa0, 0x17, 0x70], sof + 5);
  return bytes;
}

const httpCases = [
  ["zero bytes", () => up(Buffer.alloc(0)), 400],
  ["text sent as image/jpeg", () => up(Buffer.from("hello, I am text")), 415],
  ["a PNG sent as image/jpeg", () => up(pngHeader(10, 10)), 415],
  ["image/gif", () => up(Buffer.from("GIF89a"), { contentType: "image/gif" }), 415],
  ["a PNG declaring 100000x100000 pixels", () => up(pngHeader(100000, 100000), { contentType: "image/png" }), 422],
  // what the pipeline must decode whole is refused at upload by the same limits and words
  ["an interlaced PNG of 3000x2000 pixels", () => up(pngHeader(3000, 2000, 1), { contentType: "image/png" }), 422],
  ["a progressive JPEG of 6000x4000 pixels", () => up(progressive6000x4000()), 422],
  ["a 30 MB body", () => up(Buffer.alloc(30 * 1024 * 1024, 0xff)), 413],
  ["no API token", () => up(jpeg, { token: null }), 401],
  ["a wrong API token", () => up(jpeg, { token: "guess" }), 401],
  ["eventId with ../", () => upload(worker.url, "..%2F..%2Fetc", jpeg).then((r) => r.status), 400],
  ["eventId of 200 characters", () => upload(worker.url, "e".repeat(200), jpeg).then((r) => r.status), 400],
  ["x-photo-id with ../", () => up(jpeg, { headers: { "x-photo-id": "../../x" } }), 400],
  ["x-request-id of 200 characters", () => up(jpeg, { requestId: "r".repeat(200) }), 400],
  ["a token asked without the API token", () => fetch(`${worker.url}/events/${EVENT}/tokens`, { method: "POST" }).then((r) => r.status), 401],
  ["a socket without a subscribe token", () => upgradeStatus(`/events/${EVENT}/ws`), 401],
  ["a forged subscribe token", () => upgradeStatus(`/events/${EVENT}/ws?token=${hmacToken(EVENT, nowSecs() + 600, "not-the-secret")}`), 401],
  ["an expired subscribe token", () => upgradeStatus(`/events/${EVENT}/ws?token=${hmacToken(EVENT, nowSecs() - 1)}`), 401],
  ["another event's subscribe token", () => upgradeStatus(`/events/${EVENT}/ws?token=${hmacToken("other-event", nowSecs() + 600)}`), 401],
  ["a garbage subscribe token", () => upgradeStatus(`/events/${EVENT}/ws?token=abc`), 401],
  ["a socket from a bad Origin", () => upgradeStatus(`/events/${EVENT}/ws?token=${hmacToken(EVENT, nowSecs() + 600)}`, { origin: "https://evil.example" }), 403],
  ["since that is not a number", () => upgradeStatus(`/events/${EVENT}/ws?since=abc&token=${hmacToken(EVENT, nowSecs() + 600)}`), 400],
  ["socket.io long-polling", () => fetch(`${worker.url}/events/${EVENT}/socket.io/?EIO=4&transport=polling&token=${hmacToken(EVENT, nowSecs() + 600)}`).then((r) => r.status), 400],
];

const socketCases = [
  ["invalid JSON", (ws) => ws.send("{not json"), (a) => a.event === "error" && /JSON/.test(a.data.message)],
  ["a binary frame", (ws) => ws.send(Buffer.from([1, 2, 3])), (a) => a.event === "error" && /binary/.test(a.data.message)],
  ["an unknown event", (ws) => ws.send(JSON.stringify({ event: "photo:delete", data: {} })), (a) => a.event === "error" && /unknown event/.test(a.data.message)],
  ["subscribe without eventId", (ws) => ws.send(JSON.stringify({ event: "subscribe:event", data: {} })), (a) => a.event === "error"],
  ["another event's subscribe", (ws) => ws.send(JSON.stringify({ event: "subscribe:event", data: { eventId: "other" }, id: 1 })), (a) => a.event === "ack" && a.data.success === false],
  ["a 2 MB frame", (ws) => ws.send("x".repeat(2 * 1024 * 1024)), (a) => a.close === 1009 && /limited to/.test(a.reason)],
  ["a flood of 40 messages", (ws) => { for (let i = 0; i < 40; i++) ws.send(JSON.stringify({ event: "unsubscribe:event", data: { eventId: EVENT } })); },
    (a) => a.event === "ack"], // the first answer is an ack; the close is checked below
];

test("a table of bad inputs, each with its status or frame; then a normal upload completes exactly", { timeout: 300_000 }, async () => {
  const results = [];
  for (const [name, run, expected] of httpCases) results.push([name, await run(), expected]);
  for (const [name, send, check] of socketCases) {
    const answer = await answerTo(send);
    results.push([name, check(answer ?? {}) ? "as expected" : JSON.stringify(answer), "as expected"]);
  }
  console.log(results.map(([name, got]) => `${String(got).padEnd(12)} ${name}`).join("\n"));
  for (const [name, got, expected] of results) assert.equal(got, expected, name);
  assert.ok(results.length >= 20);

  // a flooding socket is closed with 1008
  const flooder = await EventSocket.open(worker.url, EVENT, { token: await issueToken(EVENT) });
  const closed = new Promise((resolve) => flooder.ws.once("close", (code) => resolve(code)));
  for (let i = 0; i < 40; i++) flooder.send({ event: "unsubscribe:event", data: { eventId: EVENT } });
  assert.equal(await closed, 1008);

  // a room holds at most MAX_SOCKETS_PER_ROOM sockets
  const full = `full-${Date.now()}`;
  const token = await issueToken(full);
  const three = await Promise.all([0, 1, 2].map(() => EventSocket.open(worker.url, full, { token })));
  assert.equal(await upgradeStatus(`/events/${full}/ws?token=${token}`), 503);
  three.forEach((s) => s.close());

  // CORS: the allowed origin may read answers, another may not
  const allowed = await fetch(`${worker.url}/events/${EVENT}`, { headers: { origin: ALLOWED } });
  assert.equal(allowed.headers.get("access-control-allow-origin"), ALLOWED);
  const denied = await fetch(`${worker.url}/events/${EVENT}`, { headers: { origin: "https://evil.example" } });
  assert.equal(denied.headers.get("access-control-allow-origin"), null);

  // the refusal says why, in the pipeline's words
  const refused = await upload(worker.url, EVENT, progressive6000x4000());
  assert.match(refused.body.error, /^image too large for a progressive JPEG: 6000x4000 pixels \(limit 16 megapixels/);

  // after all of it: a truncated photo fails with a reason, a good one completes, counts exact
  const watcher = await EventSocket.open(worker.url, EVENT, { token: await issueToken(EVENT), origin: ALLOWED });
  assert.equal(await up(jpeg.subarray(0, 2000), { requestId: "req_truncated" }), 202);
  assert.equal(await up(jpeg, { requestId: "req_normal" }), 202);
  await watcher.waitFor((f) => f.event === "event:completed" && f.data.summary.total === 2, { ms: 120_000 });
  const failed = watcher.frames.find((f) => f.event === "photo:failed");
  assert.equal(failed.data.requestId, "req_truncated");
  assert.match(failed.data.error, /JPEG/);
  assert.equal((await getJson(`${worker.url}/events/${EVENT}`)).status, 401, "reads need the token too");
  const state = (await getJson(`${worker.url}/events/${EVENT}?token=${await issueToken(EVENT)}`)).body;
  assert.deepEqual([state.totalPhotos, state.succeeded, state.failed], [2, 1, 1]);
  watcher.close();
});

test("a refusal sent before the body is read leaves the connection usable: every next request on it is answered", async () => {
  // workerd breaks a connection whose request body (over 64 KiB) its Worker left unread
  // (workerd#1741): the next request on it got ECONNRESET. One kept-alive connection, so
  // each request follows a refusal on the same one.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (path, body, extra = {}) =>
    new Promise((resolve) => {
      const headers = { ...(body ? { "content-type": "image/jpeg", "content-length": body.length } : {}), ...extra };
      const req = http.request(`${worker.url}${path}`, { method: body ? "POST" : "GET", agent, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      });
      req.on("error", (e) => resolve(e.code));
      req.end(body);
    });
  const body = Buffer.alloc(200 * 1024, 0xff);
  const statuses = [];
  for (let round = 0; round < 3; round++) {
    statuses.push(
      await send("/events/..%2F..%2Fetc/photos", body),
      await send(`/events/${EVENT}/photos`, body),
      await send(`/events/${EVENT}/nothing`, body),
      await send(`/events/${EVENT}/photos`, body, { "x-request-id": "r".repeat(200) }),
      await send(`/events/${EVENT}`),
    );
  }
  agent.destroy();
  assert.deepEqual(statuses, Array(3).fill([400, 401, 404, 400, 401]).flat());
});
