// Nothing lost, nothing counted twice: replay after reconnect, idempotent uploads and reports,
// and a run with injected consumer faults, retries, the dead letter queue and room eviction.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { startWorker } from "./support/worker.mjs";
import { EventSocket, getJson, photo, photosDir, sleep, upload } from "./support/client.mjs";

let worker;
before(async () => {
  worker = await startWorker();
});
after(() => worker?.dispose());

const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const completedWith = (socket, total, opts = {}) =>
  socket.waitFor((f) => f.event === "event:completed" && f.data.summary.total === total, { ms: 180_000, ...opts });


test("a socket reconnecting with since= gets every frame it missed, then the live ones", async () => {
  const eventId = unique("replay");
  const steady = await EventSocket.open(worker.url, eventId);
  const dropped = await EventSocket.open(worker.url, eventId);
  await upload(worker.url, eventId, photo("set1/set1_10.JPG"));
  await completedWith(dropped, 1);
  const lastSeen = dropped.frames.at(-1).seq;
  dropped.close();

  await upload(worker.url, eventId, photo("set1/set1_11.JPG"));
  await completedWith(steady, 2);
  const back = await EventSocket.open(worker.url, eventId, { since: lastSeen });
  await upload(worker.url, eventId, photo("set1/set1_12.JPG"));
  await completedWith(steady, 3);
  await completedWith(back, 3);
  assert.deepEqual(back.frames, steady.frames.filter((f) => f.seq > lastSeen), "no gap, no duplicate");

  // subscribe:event with since replays on an open socket too
  const late = await EventSocket.open(worker.url, eventId);
  const ack = await late.request({ event: "subscribe:event", data: { eventId, since: 0 }, id: 1 });
  assert.deepEqual(ack.data, { success: true, room: `event:${eventId}` });
  await late.waitFor((f) => f.seq === steady.frames.at(-1).seq, { ms: 30_000 });
  assert.deepEqual(late.frames.slice(1), steady.frames);
  for (const s of [steady, back, late]) s.close();
});

test("a late joiner reads the state, then applies live frames from its lastSeq without a gap", async () => {
  const eventId = unique("late");
  const steady = await EventSocket.open(worker.url, eventId);
  await upload(worker.url, eventId, photo("set1/set1_13.JPG"));
  await completedWith(steady, 1);
  const state = (await getJson(`${worker.url}/events/${eventId}`)).body;
  assert.equal(state.lastSeq, steady.frames.at(-1).seq);
  const joiner = await EventSocket.open(worker.url, eventId, { since: state.lastSeq });
  await upload(worker.url, eventId, photo("set1/set1_14.JPG"));
  await completedWith(joiner, 2);
  await completedWith(steady, 2);
  assert.deepEqual(joiner.frames, steady.frames.filter((f) => f.seq > state.lastSeq));
  steady.close();
  joiner.close();
});

test("the frame log is bounded: a since older than its start gets replay:truncated first", async () => {
  const small = await startWorker({ vars: { FRAME_LOG_LIMIT: "4" } });
  try {
    const eventId = unique("bounded");
    const steady = await EventSocket.open(small.url, eventId);
    await upload(small.url, eventId, photo("set1/set1_15.JPG"));
    await completedWith(steady, 1);
    const last = steady.frames.at(-1).seq;
    const replayed = await EventSocket.open(small.url, eventId, { since: 0 });
    await replayed.waitFor((f) => f.seq === last, { ms: 30_000 });
    assert.deepEqual(replayed.frames[0], { event: "replay:truncated", data: { oldestSeq: last - 3 } });
    assert.deepEqual(replayed.frames.slice(1), steady.frames.slice(-4));
    steady.close();
    replayed.close();
  } finally {
    await small.dispose();
  }
});

test("x-photo-id: the same bytes again change nothing, other bytes are a 409", async () => {
  const eventId = unique("idem");
  const socket = await EventSocket.open(worker.url, eventId);
  const bytes = photo("set1/set1_16.JPG");
  const named = { headers: { "x-photo-id": "card1-0001" } };
  const first = await upload(worker.url, eventId, bytes, named);
  assert.equal(first.status, 202);
  assert.equal(first.body.photoId, "card1-0001");
  await completedWith(socket, 1);
  const frameCount = socket.frames.length;

  const again = await upload(worker.url, eventId, bytes, named);
  assert.equal(again.status, 200);
  assert.equal(again.body.status, "done");
  const other = await upload(worker.url, eventId, photo("set1/set1_17.JPG"), named);
  assert.equal(other.status, 409);
  assert.match(other.body.error, /other bytes/);
  const badId = await upload(worker.url, eventId, bytes, { headers: { "x-photo-id": "../etc" } });
  assert.equal(badId.status, 400);
  await sleep(1500);
  assert.equal(socket.frames.length, frameCount, "no second photo:completed, no new frames");
  const state = (await getJson(`${worker.url}/events/${eventId}`)).body;
  assert.deepEqual([state.totalPhotos, state.succeeded, state.failed], [1, 1, 0]);
  socket.close();
});

const DEAD_LETTERED = ["set1_08", "set1_33"];

/**
 * The fault scenario on a fresh Worker. Fails with a StalledError when nothing moves for a
 * minute, rather than after the test's timeout.
 */
async function faultScenario() {
  // ~10 fault points an attempt at 5%: about a third of the attempts fail and are retried;
  // two photos fail every attempt, use up their retries and reach the dead letter queue.
  const faulty = await startWorker({ vars: { FAULT_RATE: "0.05", FAULT_PHOTOS: DEAD_LETTERED.join(",") } });
  const progress = { ms: 600_000, idleMs: 60_000 };
  try {
    const eventId = unique("faults");
    const names = readdirSync(path.join(photosDir, "set1")).filter((n) => n.endsWith(".JPG")).slice(0, 50);
    assert.equal(names.length, 50);
    const steady = await EventSocket.open(faulty.url, eventId);
    let dropped = await EventSocket.open(faulty.url, eventId);
    const droppedFrames = [];

    const uploadAll = (batch) =>
      Promise.all(batch.map((name) => upload(faulty.url, eventId, photo(`set1/${name}`), { headers: { "x-photo-id": name.replace(".JPG", "") } })));
    const first = await uploadAll(names.slice(0, 25));
    assert.ok(first.every((u) => u.status === 202));
    // drop one socket mid-run, keep what it saw, reconnect later with since=
    await dropped.waitFor((f) => f.event === "event:progress" && f.data.processedPhotos >= 5, progress);
    droppedFrames.push(...dropped.frames);
    dropped.close();
    await completedWith(steady, 25, progress);

    const instance = (await getJson(`${faulty.url}/events/${eventId}`)).headers.get("x-room-instance");
    await sleep(15_000); // the idle room is evicted
    const second = await uploadAll(names.slice(25));
    assert.ok(second.every((u) => u.status === 202));
    dropped = await EventSocket.open(faulty.url, eventId, { since: droppedFrames.at(-1).seq });
    await completedWith(steady, 50, progress);
    await completedWith(dropped, 50, { ms: 60_000 });
    droppedFrames.push(...dropped.frames);
    const state = await getJson(`${faulty.url}/events/${eventId}`);
    assert.notEqual(state.headers.get("x-room-instance"), instance, "the room was evicted mid-run");

    // every photo exactly once succeeded or failed, and the counters equal those sums
    const terminal = steady.frames.filter((f) => f.event === "photo:completed" || f.event === "photo:failed");
    const ids = terminal.map((f) => f.data.photoId).sort();
    assert.deepEqual(ids, names.map((n) => n.replace(".JPG", "")).sort(), "each photo's terminal event exactly once");
    const succeeded = terminal.filter((f) => f.event === "photo:completed").length;
    assert.deepEqual(
      [state.body.totalPhotos, state.body.processedPhotos, state.body.succeeded, state.body.failed],
      [50, 50, succeeded, 50 - succeeded],
    );
    const failed = terminal.filter((f) => f.event === "photo:failed");
    for (const f of failed) assert.match(f.data.error, /after every retry/);
    for (const id of DEAD_LETTERED) assert.ok(failed.some((f) => f.data.photoId === id), `${id} reached the dead letter queue`);
    // no photo:progress after that photo's terminal frame
    const done = new Set();
    for (const f of steady.frames) {
      if (f.event === "photo:progress") assert.ok(!done.has(f.data.photoId), `progress after terminal for ${f.data.photoId}`);
      if (f.event === "photo:completed" || f.event === "photo:failed") done.add(f.data.photoId);
    }
    // the dropped-and-replayed socket saw exactly what the steady one saw
    assert.deepEqual(droppedFrames, steady.frames);
    const seqs = steady.frames.map((f) => f.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), "seq has no gap");
    const views = await Promise.all(names.map((n) => getJson(`${faulty.url}/events/${eventId}/photos/${n.replace(".JPG", "")}`)));
    const retried = views.filter((v) => v.body.attempts > 1).length;
    console.log(`faults run: ${succeeded} succeeded, ${50 - succeeded} failed, ${retried} photos took more than one attempt`);
    assert.ok(retried > 0, "faults were injected and retried");
    steady.close();
    dropped.close();
  } finally {
    await faulty.dispose();
  }
}

test("50 real photos with injected consumer faults, retries, the dead letter queue and an eviction: exact counts", { timeout: 1_800_000 }, async () => {
  await faultScenario();
});
