// Broadcast fan-out: one event's room with N connected sockets, the latency from the cause of
// a broadcast to every client's receipt, beside a plain socket.io v4 server on Node
// broadcasting the same payload to the same number of clients, in the same run.
//
//   npm run bench:fanout                  # = node scripts/bench-fanout.mjs [--sockets 1000,5000] [--rounds 50] [--deflate]
//
// Ours, two causes, the same N WebSockets on /events/<id>/ws of the built Worker in workerd
// (Miniflare). Frames carry no server time, so a broadcast is caused from outside:
// - upload: each round uploads a 694-byte JPEG that passes the upload's header check but that
//   the decoder refuses (arithmetic coding), so the queue consumer reports it failed at once
//   and the room broadcasts `photo:failed`. The latency spans the whole pipeline: the upload
//   request (auth, header check, R2 put, the room's registration, queue send), the local
//   queue's delivery, the consumer (room's attempt, R2 get, decode error, report), the room
//   (SQLite update and frame log, one send per socket and frame) and the client's receipt.
//   The same with 1 socket is the part that is not fan-out.
// - report: each round registers a photo with the room and starts its attempt (untimed), then
//   POSTs the consumer's failure report to the room itself (Miniflare's Durable Object proxy):
//   the room's own work and its broadcast, the span socket.io's POST -> emit measures.
// A failure report makes our room broadcast three frames (photo:failed, event:progress and, as
// the round's photo was the event's last, event:completed); the other two servers broadcast
// the same three, in that order (the old gateway's emitPhotoFailed, emitEventProgress,
// emitEventCompleted), and every receipt timed is photo:failed's.
// workerd-js: the floor of the runtime, scripts/bench/js-room.mjs: a plain-JS Durable Object
// with hibernatable sockets whose POST /broadcast sends the same frames to each; what ours costs
// beyond it is the room's own.
// socket.io: scripts/bench/socketio-server.mjs in its own process, N clients in its room,
// each round a POST /broadcast that emits the same events; its latency spans that request and
// the emits; the server also prints when it called emit (emit to receipt).
// `spread` is each receipt after the round's first receipt (the fan-out itself, less the
// server's send loop before its first write).
// Clients of all are raw `ws` WebSockets in this one process (socket.io's clients speak its
// Engine.IO v4 framing by hand), so all pay the same client cost; receipt time is when this
// process handles the message, so the last receipts include its handling of the others. They
// offer no permessage-deflate unless --deflate: socket.io declines it by default, while
// workerd (Miniflare's entry worker) accepts it, and then deflates every frame per socket and
// this one process inflates them all (ws inflates 10 at a time): not the same work for both.
// p99 is over every client's receipt of every round, so it is the tail of the slowest rounds:
// 50 rounds by default (20 made it swing by 50 ms between runs).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { startJsRoom } from "./bench/js-room.mjs";
import { median, ms, percentile, root, startJobWorker, summarize, table, times } from "./bench/worker-jobs.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option("--sockets", "1000,5000").split(",").map(Number);
const rounds = Number(option("--rounds", 50));
const perMessageDeflate = args.includes("--deflate");
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A JPEG whose header reads (64x64) but whose entropy coding (arithmetic, SOF9) the decoder refuses.
const tmp = mkdtempSync(path.join(tmpdir(), "finishline-bench-fanout-"));
const broken = path.join(tmp, "arithmetic.jpg");
{
  const { execFileSync } = await import("node:child_process");
  execFileSync("python3", ["-c", `
import io, sys
from PIL import Image
b = io.BytesIO(); Image.new("RGB", (64, 64), (200, 30, 30)).save(b, "JPEG", quality=90)
d = bytearray(b.getvalue()); d[d.index(b"\\xff\\xc0") + 1] = 0xC9
open(sys.argv[1], "wb").write(d)
`, broken]);
}

/** Opens `n` sockets, `batch` at a time; `onMessage(index, buffer)` for each frame. */
async function openSockets(n, url, onMessage, onOpen = () => {}) {
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) => {
        const index = i + j;
        return new Promise((resolve, reject) => {
          const ws = new WebSocket(url, { perMessageDeflate });
          ws.on("message", (data) => onMessage(index, data, ws));
          ws.once("open", () => (onOpen(ws), resolve()));
          ws.once("error", reject);
          sockets.push(ws);
        });
      }),
    );
  }
  return sockets;
}

/** Runs `rounds` broadcasts over `n` sockets: `trigger(round)` causes one, `marker(round)` finds it. */
async function measure(n, sockets, received, trigger) {
  const latency = [], spread = [], fromEmit = [];
  let lost = 0;
  // Round -1 warms up (the consumer's first job loads the models; socket.io's first emit): not counted.
  for (let round = -1; round < rounds; round++) {
    received.clear();
    const done = new Promise((resolve) => (received.done = resolve));
    received.round = round;
    // The trigger may move the start past its untimed setup.
    const start = { at: now() };
    const emitted = await trigger(round, start);
    const t0 = start.at;
    const all = await Promise.race([done.then(() => true), sleep(30_000).then(() => false)]);
    const at = [...received.values()];
    if (round < 0) continue;
    if (!all) lost += n - at.length;
    const first = Math.min(...at);
    for (const t of at) {
      latency.push(t - t0);
      spread.push(t - first);
      if (emitted) fromEmit.push(t - emitted);
    }
    await sleep(200);
  }
  return { latency, spread, fromEmit, lost };
}

/** A Map of socket index to receipt time, resolving `done` when it holds n. */
function receipts(n) {
  const m = new Map();
  m.mark = (i) => {
    if (m.has(i)) return;
    m.set(i, now());
    if (m.size === n) m.done?.();
  };
  return m;
}

const results = [];
// The frames our room broadcast for one failure report (photo:failed, event:progress,
// event:completed): what the floor room and socket.io then broadcast too, in the same order.
let payload, frames;

// --- ours -----------------------------------------------------------------------------------------
/** Measures both causes over the same sockets; returns [upload, report]. */
async function ours(n) {
  const worker = await startJobWorker({ vars: { MAX_SOCKETS_PER_ROOM: String(Math.max(10_000, n + 10)) } });
  try {
    const eventId = `fanout-${n}-${Date.now()}`;
    const received = receipts(n);
    let marker;
    const seen = [];
    const sockets = await openSockets(n, `${worker.url.replace("http", "ws")}/events/${eventId}/ws`, (i, data) => {
      if (i === 0) seen.push(JSON.parse(data.toString()));
      if (marker && data.includes(marker) && data.includes("photo:failed")) {
        if (!payload) payload = JSON.parse(data.toString()).data;
        received.mark(i);
      }
    });
    const upload = await measure(n, sockets, received, async (round) => {
      const id = `fan-${round}`;
      marker = Buffer.from(`"photoId":"${id}"`);
      await worker.upload(eventId, broken, id);
      return undefined;
    });
    // The room's internal routes (src/edge/room_client.rs), called as the Worker and the consumer do.
    const namespace = await worker.mf.getDurableObjectNamespace("EVENT_ROOM");
    const room = namespace.get(namespace.idFromName(eventId));
    const call = async (path, body) => {
      const response = await room.fetch(`https://room/${eventId}${path}`, { method: "POST", body: body && JSON.stringify(body) });
      if (!response.ok) throw new Error(`room ${path} answered ${response.status}`);
      return response.json().catch(() => undefined);
    };
    const report = await measure(n, sockets, received, async (round, start) => {
      const photoId = `rep-${round}`, requestId = `req-${round}`;
      marker = Buffer.from(`"photoId":"${photoId}"`);
      await call("/photos", { photoId, requestId, digest: `digest-${round}` });
      const attempt = await call(`/photos/${photoId}/attempts`);
      start.at = now();
      await call("/reports", { photoId, requestId, attempt, kind: "failed", error: payload.error });
      return undefined;
    });
    frames ??= seen.filter((f) => f.data?.requestId === "req-0").map(({ event, data }) => ({ event, data }));
    for (const ws of sockets) ws.terminate();
    return [upload, report];
  } finally {
    await worker.dispose();
  }
}

// --- the runtime's floor: a plain-JS Durable Object in workerd -----------------------------------------
async function workerdJs(n) {
  const room = await startJsRoom();
  try {
    const received = receipts(n);
    // Each socket's first frame is photo:failed.
    const sockets = await openSockets(n, `${room.url.replace("http", "ws")}/ws`, (i) => received.mark(i));
    const body = JSON.stringify(frames.map((frame) => JSON.stringify(frame)));
    const result = await measure(n, sockets, received, async () => {
      await fetch(`${room.url}/broadcast`, { method: "POST", body });
      return undefined;
    });
    for (const ws of sockets) ws.terminate();
    return result;
  } finally {
    await room.dispose();
  }
}

// --- socket.io v4 on Node ------------------------------------------------------------------------------
async function socketio(n) {
  const server = spawn(process.execPath, [path.join(root, "scripts/bench/socketio-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  try {
    const { port } = await next();
    const received = receipts(n);
    const sockets = await openSockets(
      n,
      `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
      (i, data, ws) => {
        if (data[0] === 0x32 && data.length === 1) return ws.send("3"); // Engine.IO ping -> pong
        if (data[0] === 0x30) return ws.send("40"); // Engine.IO open -> connect to "/"
        if (data[0] === 0x34 && data[1] === 0x32) received.mark(i); // a socket.io EVENT: the first is photo:failed
      },
    );
    // Wait for every socket's namespace connect (joined to the room) before the first round.
    await sleep(1000 + n);
    const result = await measure(n, sockets, received, async () => {
      await fetch(`http://127.0.0.1:${port}/broadcast`, { method: "POST", body: JSON.stringify(frames) });
      return (await next()).emitted;
    });
    for (const ws of sockets) ws.terminate();
    return result;
  } finally {
    server.kill();
  }
}

const labels = {
  upload: "ours (workerd, upload -> photo:failed)",
  report: "ours (workerd, room report -> photo:failed)",
  "workerd-js": "workerd floor (plain-JS Durable Object, POST -> send)",
  "socket.io": "socket.io 4 (Node, POST -> emit)",
};
const load0 = loadavg()[0];
const started = Date.now();
try {
  const [upload1, report1] = await ours(1);
  results.push({ who: "upload", n: 1, ...upload1 }, { who: "report", n: 1, ...report1 });
  for (const n of sizes) {
    const [upload, report] = await ours(n);
    results.push({ who: "upload", n, ...upload }, { who: "report", n, ...report });
    results.push({ who: "workerd-js", n, ...(await workerdJs(n)) });
    results.push({ who: "socket.io", n, ...(await socketio(n)) });
    process.stderr.write(`${n} sockets done\n`);
  }
  results.push({ who: "workerd-js", n: 1, ...(await workerdJs(1)) });
  results.push({ who: "socket.io", n: 1, ...(await socketio(1)) });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const load1 = loadavg()[0];

const order = Object.keys(labels);
const out = [`### Broadcast fan-out, ms (${rounds} broadcasts each; each server broadcasts the frames our room did for a failure report: ${frames.map((f) => `${f.event} (${JSON.stringify(f).length} B)`).join(", ")}, receipt is photo:failed's; permessage-deflate ${perMessageDeflate ? "offered" : "not offered"})`, ""];
out.push(
  table(
    ["server", "sockets", "cause to receipt p50", "p99", "max", "spread p50", "spread p99", "emit to receipt p50", "emit p99", "lost"],
    results
      .sort((a, b) => a.n - b.n || order.indexOf(a.who) - order.indexOf(b.who))
      .map((r) => [
        labels[r.who],
        r.n, ms(median(r.latency)), ms(percentile(r.latency, 99)), ms(percentile(r.latency, 100)),
        ms(median(r.spread)), ms(percentile(r.spread, 99)),
        r.fromEmit.length ? ms(median(r.fromEmit)) : "-", r.fromEmit.length ? ms(percentile(r.fromEmit, 99)) : "-", r.lost,
      ]),
  ),
);
out.push("", `${cpus().length} CPUs, Node ${process.version}, clients in one process; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(out.join("\n"));

const get = (who, n) => results.find((r) => r.who === who && r.n === n);
const p99 = (who, n, what = "latency") => percentile(get(who, n)[what], 99);
await summarize(
  sizes.flatMap((n) => {
    const goal = n === 1000 ? "<= 100 ms, <= socket.io" : "<= socket.io";
    const row = (what, a, b, goal, met) => ({ what, measured: ms(a), against: ms(b), ratio: times(a, b), goal, met });
    return [
      row(`fan-out, ${n} sockets: p99 room report to receipt, ours vs socket.io POST to receipt`, p99("report", n), p99("socket.io", n), goal, (n !== 1000 || p99("report", n) <= 100) && p99("report", n) <= p99("socket.io", n)),
      row(`fan-out, ${n} sockets: p99 upload to receipt (whole pipeline), ours vs socket.io POST to receipt`, p99("upload", n), p99("socket.io", n), n === 1000 ? "<= 100 ms" : "", n === 1000 ? p99("upload", n) <= 100 : ""),
      row(`fan-out, ${n} sockets: p99 room report to receipt, ours vs a plain-JS Durable Object`, p99("report", n), p99("workerd-js", n), "", ""),
      row(`fan-out, ${n} sockets: p99 spread after first receipt, ours (report) vs socket.io`, p99("report", n, "spread"), p99("socket.io", n, "spread"), "", ""),
    ];
  }),
);
