// The edge service end to end: the built Worker in workerd (Miniflare from wrangler.toml),
// real WebSocket clients over TCP, real race photos, the real models.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startWorker } from "./support/worker.mjs";
import { EventSocket, getJson, photo, sleep, upload } from "./support/client.mjs";

let worker;
before(async () => {
  worker = await startWorker();
});
after(() => worker?.dispose());

const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const STAGES = ["detection", "ocr", "color"];
const completedOf = (socket) => socket.waitFor((f) => f.event === "event:completed", { ms: 120_000 });

/** Asserts one photo's whole story, in order, on one socket. */
function assertPhotoStory(frames, { photoId, requestId, eventId, total, terminal }) {
  const events = frames.map((f) => f.event);
  const progress = STAGES.map((stage) => ["photo:progress", stage]);
  const expected =
    terminal === "photo:completed"
      ? [...progress.map(([e]) => e), "photo:completed", "event:progress", "event:completed"]
      : ["photo:failed", "event:progress", "event:completed"];
  assert.deepEqual(events, expected);
  for (const [i, frame] of frames.entries()) {
    assert.equal(frame.data.requestId, requestId, `${frame.event} carries the upload's requestId`);
    if (i > 0) assert.ok(frame.seq > frames[i - 1].seq, "seq strictly increases");
    if (frame.event.startsWith("photo:")) assert.equal(frame.data.photoId, photoId);
    else assert.equal(frame.data.eventId, eventId);
  }
  if (terminal === "photo:completed") {
    assert.deepEqual(frames.slice(0, 3).map((f) => [f.data.stage, f.data.progress]), [["detection", 33], ["ocr", 66], ["color", 100]]);
  }
  assert.deepEqual(frames.at(-1).data.summary.total, total);
}

async function uploadAndWatch(eventId, requestId, body, contentType) {
  const sockets = [await EventSocket.open(worker.url, eventId), await EventSocket.open(worker.url, eventId)];
  const other = await EventSocket.open(worker.url, unique("B"));
  const accepted = await upload(worker.url, eventId, body, { requestId, contentType });
  assert.equal(accepted.status, 202);
  assert.equal(accepted.headers.get("x-request-id"), requestId);
  assert.deepEqual(Object.keys(accepted.body).sort(), ["eventId", "photoId", "requestId", "status"]);
  assert.equal(accepted.body.status, "queued");
  await Promise.all(sockets.map(completedOf));
  await sleep(300);
  assert.deepEqual(other.frames, [], "a socket of another event gets nothing");
  for (const s of [...sockets, other]) s.close();
  return { photoId: accepted.body.photoId, frames: sockets.map((s) => s.frames) };
}

test("a real photo's stages reach both sockets of its event, in order, and no other event's", async () => {
  const eventId = unique("A");
  const requestId = unique("req_flow");
  const { photoId, frames } = await uploadAndWatch(eventId, requestId, photo("set1/set1_01.JPG"));
  for (const f of frames) {
    assertPhotoStory(f, { photoId, requestId, eventId, total: 1, terminal: "photo:completed" });
  }
  assert.deepEqual(frames[0], frames[1], "both sockets saw the same frames");
  const completed = frames[0][3].data;
  assert.deepEqual(Object.keys(completed).sort(), ["confidence", "detections", "photoId", "plateNumber", "requestId"]);
  // set1_01 shows bib 3638: never an invented number, and the labelled one when read.
  if (completed.plateNumber !== null) assert.ok(completed.detections.some((d) => d.number === String(completed.plateNumber)));

  const status = await getJson(`${worker.url}/events/${eventId}`);
  assert.deepEqual(status.body, {
    eventId, totalPhotos: 1, processedPhotos: 1, succeeded: 1, failed: 0, status: "completed", lastSeq: frames[0].at(-1).seq,
  });
  const view = await getJson(`${worker.url}/events/${eventId}/photos/${photoId}`);
  assert.equal(view.body.status, "succeeded");
  assert.equal(view.body.requestId, requestId);
  assert.deepEqual(view.body.result.detections, completed.detections);
});

test("requestIds: a valid x-request-id is kept, a missing one is generated, an invalid one is a 400", async () => {
  const eventId = unique("ids");
  const generated = await upload(worker.url, eventId, photo("set1/set1_02.JPG"));
  assert.match(generated.body.requestId, /^req_[0-9a-f]{24}$/);
  assert.equal(generated.headers.get("x-request-id"), generated.body.requestId);
  const invalid = await upload(worker.url, eventId, photo("set1/set1_02.JPG"), { requestId: "has space" });
  assert.equal(invalid.status, 400);
  assert.match(invalid.body.error, /requestId must be/);
  assert.match(invalid.headers.get("x-request-id"), /^req_[0-9a-f]{24}$/);
  const missing = await getJson(`${worker.url}/nowhere`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get("x-request-id"), /^req_/);
});

test("sockets and counters survive the room's eviction by idleness (hibernation)", async () => {
  const eventId = unique("sleepy");
  const sockets = [await EventSocket.open(worker.url, eventId), await EventSocket.open(worker.url, eventId)];
  const unsubscribed = await EventSocket.open(worker.url, eventId);
  assert.deepEqual((await unsubscribed.request({ event: "unsubscribe:event", data: { eventId }, id: 1 })).data, { success: true });
  const before = await getJson(`${worker.url}/events/${eventId}`);
  const instanceBefore = before.headers.get("x-room-instance");
  assert.ok(instanceBefore);

  await sleep(15_000); // workerd evicts an idle room after ~10 s

  const requestId = unique("req_wake");
  const accepted = await upload(worker.url, eventId, photo("set1/set1_05.JPG"), { requestId });
  await Promise.all(sockets.map(completedOf));
  const after = await getJson(`${worker.url}/events/${eventId}`);
  assert.notEqual(after.headers.get("x-room-instance"), instanceBefore, "the room was evicted and woken");
  for (const s of sockets) {
    assertPhotoStory(s.frames, { photoId: accepted.body.photoId, requestId, eventId, total: 1, terminal: "photo:completed" });
  }
  assert.deepEqual(unsubscribed.frames.slice(1), [], "an unsubscribed socket stays unsubscribed after waking");
  assert.equal(after.body.succeeded, 1);
  for (const s of [...sockets, unsubscribed]) s.close();
});

test("a truncated JPEG and a text file fail with a reason; the counters still add up", async () => {
  const eventId = unique("bad");
  const socket = await EventSocket.open(worker.url, eventId);
  const good = photo("set1/set1_07.JPG");
  // A text file sent as image/jpeg is refused at the door (its bytes are judged, not its
  // header); one that starts like a JPEG gets through and fails in the pipeline.
  const text = await upload(worker.url, eventId, Buffer.from("this is not a photo\n"), { requestId: "req_plain_text" });
  assert.equal(text.status, 415);
  assert.match(text.body.error, /not a JPEG, PNG or WebP/i);
  const uploads = [
    await upload(worker.url, eventId, good.subarray(0, Math.floor(good.length / 3)), { requestId: "req_truncated" }),
    await upload(worker.url, eventId, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from("this is not a photo\n")]), { requestId: "req_text" }),
    await upload(worker.url, eventId, good, { requestId: "req_good" }),
  ];
  assert.deepEqual(uploads.map((u) => u.status), [202, 202, 202]);
  await socket.waitFor((f) => f.event === "event:completed" && f.data.summary.total === 3 && f.data.eventId === eventId, { ms: 120_000 });

  const failed = socket.frames.filter((f) => f.event === "photo:failed");
  assert.deepEqual(failed.map((f) => f.data.requestId).sort(), ["req_text", "req_truncated"]);
  for (const f of failed) assert.ok(f.data.error.length > 10, `a reason a person understands: ${f.data.error}`);
  assert.equal(socket.frames.filter((f) => f.event === "photo:completed").length, 1);
  const last = socket.frames.at(-1);
  assert.equal(last.event, "event:completed");
  assert.deepEqual(last.data.summary, { total: 3, succeeded: 1, failed: 2 });
  const status = await getJson(`${worker.url}/events/${eventId}`);
  assert.deepEqual(status.body, {
    eventId, totalPhotos: 3, processedPhotos: 3, succeeded: 1, failed: 2, status: "completed", lastSeq: last.seq,
  });
  const view = await getJson(`${worker.url}/events/${eventId}/photos/${uploads[1].body.photoId}`);
  assert.equal(view.body.status, "failed");
  assert.equal(view.body.error, failed.find((f) => f.data.requestId === "req_text").data.error);
  socket.close();
});

test("DETECTION_SIZE is the size the consumer looks for numbers at", async () => {
  // set1_57 shows five runners in a row; the fifth bib, 3614, is too small to be found at the
  // default 1280 px and is read at 2048 (docs/accuracy.md, "Wide shots").
  const numbersRead = async (url) => {
    const eventId = unique("size");
    const socket = await EventSocket.open(url, eventId);
    assert.equal((await upload(url, eventId, photo("set1/set1_57.JPG"))).status, 202);
    const done = await socket.waitFor((f) => f.event === "photo:completed", { ms: 120_000 });
    socket.close();
    return done.data.detections.map((d) => d.number).sort();
  };
  const larger = await startWorker({ vars: { DETECTION_SIZE: "2048" } });
  try {
    assert.deepEqual(await numbersRead(worker.url), ["3521", "3523", "3548", "3588"]);
    assert.deepEqual(await numbersRead(larger.url), ["3521", "3523", "3548", "3588", "3614"]);
  } finally {
    await larger.dispose();
  }
});

test("subscribe, unsubscribe, another event's id, ping and unknown frames", async () => {
  const eventId = unique("proto");
  const socket = await EventSocket.open(worker.url, eventId);
  assert.deepEqual(await socket.request({ event: "subscribe:event", data: { eventId }, id: 7 }), {
    event: "ack", id: 7, data: { success: true, room: `event:${eventId}` },
  });
  const refused = await socket.request({ event: "subscribe:event", data: { eventId: "someone-else" }, id: 8 });
  assert.equal(refused.id, 8);
  assert.equal(refused.data.success, false);
  assert.match(refused.data.error, /someone-else/);
  assert.deepEqual(await socket.request({ event: "ping" }), { event: "pong" });
  assert.equal((await socket.request("not json")).event, "error");
  assert.match((await socket.request({ event: "hello", data: {} })).data.message, /unknown event/);

  // unsubscribed: nothing arrives; subscribed again: delivery resumes
  assert.deepEqual((await socket.request({ event: "unsubscribe:event", data: { eventId }, id: 9 })).data, { success: true });
  const watcher = await EventSocket.open(worker.url, eventId);
  await upload(worker.url, eventId, photo("set1/set1_03.JPG"));
  await completedOf(watcher);
  const quietFrom = socket.frames.length;
  await sleep(300);
  assert.equal(socket.frames.length, quietFrom, "no broadcast reaches an unsubscribed socket");
  await socket.request({ event: "subscribe:event", data: { eventId }, id: 10 });
  await upload(worker.url, eventId, photo("set1/set1_04.JPG"));
  const resumed = await socket.waitFor((f) => f.event === "event:completed", { from: quietFrom, ms: 120_000 });
  assert.equal(resumed.data.summary.total, 2);
  socket.close();
  watcher.close();
});

test("bad ids, wrong methods and content types are refused before any room is touched", async () => {
  const cases = [
    [`/events/${"x".repeat(65)}`, "GET", 400],
    ["/events/a..b/photos", "POST", 400],
    ["/events/ok/photos/bad.id", "GET", 400],
    ["/events/ok/photos/ph_missing", "GET", 404],
    ["/events/ok/ws", "GET", 426],
    ["/events/ok", "DELETE", 405],
    ["/events", "GET", 404],
  ];
  for (const [path, method, status] of cases) {
    const response = await fetch(`${worker.url}${path}`, { method });
    assert.equal(response.status, status, `${method} ${path}`);
    assert.ok((await response.json()).error, `${method} ${path} says why`);
  }
  const gif = await upload(worker.url, "ok", Buffer.from("GIF89a"), { contentType: "image/gif" });
  assert.equal(gif.status, 415);
  const empty = await upload(worker.url, "ok", Buffer.alloc(0));
  assert.equal(empty.status, 400);
});

test("writes need the API token; with none configured, writes are refused", async () => {
  const body = photo("set1/set1_02.JPG");
  assert.equal((await upload(worker.url, "tok", body, { token: null })).status, 401);
  assert.equal((await upload(worker.url, "tok", body, { token: "nope" })).status, 401);
  assert.equal((await upload(worker.url, "tok", body)).status, 202);
  const open = await startWorker({ vars: { API_TOKEN: null } });
  try {
    const refused = await upload(open.url, "tok", body);
    assert.equal(refused.status, 503);
    assert.match(refused.body.error, /no API_TOKEN/);
  } finally {
    await open.dispose();
  }
});

test("photos are listed page by page, found by number, and their image is served", async () => {
  const eventId = unique("list");
  const socket = await EventSocket.open(worker.url, eventId);
  const names = ["set1/set1_01.JPG", "set1/set1_07.JPG", "set1/set1_09.JPG"];
  for (const name of names) await upload(worker.url, eventId, photo(name), { headers: { "x-photo-id": path.basename(name, ".JPG") } });
  await socket.waitFor((f) => f.event === "event:completed" && f.data.summary.total === 3, { ms: 120_000 });

  const first = await getJson(`${worker.url}/events/${eventId}/photos?limit=2`);
  assert.deepEqual(first.body.photos.map((p) => p.photoId), ["set1_01", "set1_07"], "upload order");
  const second = await getJson(`${worker.url}/events/${eventId}/photos?limit=2&cursor=${first.body.nextCursor}`);
  assert.deepEqual(second.body.photos.map((p) => p.photoId), ["set1_09"]);
  assert.equal(second.body.nextCursor, null);
  assert.equal((await getJson(`${worker.url}/events/${eventId}/photos?limit=0`)).status, 400);

  const completed = socket.frames.filter((f) => f.event === "photo:completed");
  // set1_07's bib is too small for the first look: the Worker's closer look reads it.
  const set1_07 = completed.find((f) => f.data.photoId === "set1_07");
  assert.deepEqual(set1_07.data.detections.map((d) => d.number), ["979"]);
  const read = completed.find((f) => f.data.detections.length > 0);
  assert.ok(read, "at least one of three real photos has a number read");
  const number = read.data.detections[0].number;
  const found = await getJson(`${worker.url}/events/${eventId}/photos?number=${number}`);
  assert.equal(found.body.number, number);
  assert.ok(found.body.photos.some((p) => p.photoId === read.data.photoId && p.box.w > 0));
  const expected = completed.filter((f) => f.data.detections.some((d) => d.number === number)).map((f) => f.data.photoId);
  assert.deepEqual([...new Set(found.body.photos.map((p) => p.photoId))].sort(), expected.sort());
  assert.deepEqual((await getJson(`${worker.url}/events/${eventId}/photos?number=0000000`)).body.photos, []);
  assert.equal((await getJson(`${worker.url}/events/${eventId}/photos?number=12;drop`)).status, 400);

  const image = await fetch(`${worker.url}/events/${eventId}/photos/set1_07/image`);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get("content-type"), "image/jpeg");
  assert.ok(Buffer.from(await image.arrayBuffer()).equals(photo("set1/set1_07.JPG")));
  assert.equal((await fetch(`${worker.url}/events/${eventId}/photos/nope/image`)).status, 404);
  socket.close();
});
