// Broadcast fan-out: one event's room with N connected sockets, the latency from the cause of
// a broadcast to every client's receipt, beside a plain socket.io v4 server on Node
// broadcasting the same payload to the same number of clients, in the same run.
//
//   npm run bench:fanout                  # = node scripts/bench-fanout.mjs [--sockets 1000,5000] [--rounds 20]
//
// Ours: the built Worker in workerd (Miniflare), N WebSockets on /events/<id>/ws. Frames carry no
// server time, so a broadcast is caused from outside: each round uploads a 694-byte JPEG that
// passes the upload's header check but that the decoder refuses (arithmetic coding), so the
// queue consumer reports it failed at once and the room broadcasts `photo:failed`. The latency
// spans: the upload request (auth, header check, R2 put, the room's registration, queue send),
// the local queue's delivery, the consumer (room's attempt, R2 get, decode error, report), the
// room (SQLite update and frame log, one send per socket) and the client's receipt. The same
// with 1 socket is the part that is not fan-out; `spread` is each receipt after the round's
// first receipt (the fan-out itself, less the room's send loop before its first write).
// socket.io: scripts/bench/socketio-server.mjs in its own process, N clients in its room,
// each round a POST /broadcast that emits the same `photo:failed` data; its latency spans that
// request and the emit; the server also prints when it called emit (emit to receipt).
// Clients of both are raw `ws` WebSockets in this one process (socket.io's clients speak its
// Engine.IO v4 framing by hand), so both pay the same client cost; receipt time is when this
// process handles the message, so the last receipts include its handling of the others.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { median, ms, percentile, root, startJobWorker, summarize, table, times } from "./bench/worker-jobs.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option("--sockets", "1000,5000").split(",").map(Number);
const rounds = Number(option("--rounds", 20));
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
          const ws = new WebSocket(url);
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
    const t0 = now();
    const emitted = await trigger(round);
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
let payload;

// --- ours -----------------------------------------------------------------------------------------
async function ours(n) {
  const worker = await startJobWorker({ vars: { MAX_SOCKETS_PER_ROOM: String(Math.max(10_000, n + 10)) } });
  try {
    const eventId = `fanout-${n}-${Date.now()}`;
    const received = receipts(n);
    let marker;
    const sockets = await openSockets(n, `${worker.url.replace("http", "ws")}/events/${eventId}/ws`, (i, data) => {
      if (marker && data.includes(marker) && data.includes("photo:failed")) {
        if (!payload) payload = JSON.parse(data.toString()).data;
        received.mark(i);
      }
    });
    const result = await measure(n, sockets, received, async (round) => {
      const id = `fan-${round}`;
      marker = Buffer.from(`"photoId":"${id}"`);
      await worker.upload(eventId, broken, id);
      return undefined;
    });
    for (const ws of sockets) ws.terminate();
    return result;
  } finally {
    await worker.dispose();
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
        if (data[0] === 0x34 && data[1] === 0x32) received.mark(i); // a socket.io EVENT
      },
    );
    // Wait for every socket's namespace connect (joined to the room) before the first round.
    await sleep(1000 + n);
    const result = await measure(n, sockets, received, async () => {
      await fetch(`http://127.0.0.1:${port}/broadcast`, { method: "POST", body: JSON.stringify({ event: "photo:failed", data: payload }) });
      return (await next()).emitted;
    });
    for (const ws of sockets) ws.terminate();
    return result;
  } finally {
    server.kill();
  }
}

const load0 = loadavg()[0];
const started = Date.now();
try {
  const baseline = await ours(1);
  results.push({ who: "ours", n: 1, ...baseline });
  for (const n of sizes) {
    results.push({ who: "ours", n, ...(await ours(n)) });
    results.push({ who: "socket.io", n, ...(await socketio(n)) });
    process.stderr.write(`${n} sockets done\n`);
  }
  results.push({ who: "socket.io", n: 1, ...(await socketio(1)) });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const load1 = loadavg()[0];

const out = [`### Broadcast fan-out, ms (${rounds} broadcasts each; payload: a photo:failed frame's data, ${JSON.stringify(payload).length} bytes of JSON)`, ""];
out.push(
  table(
    ["server", "sockets", "cause to receipt p50", "p99", "max", "spread p50", "spread p99", "emit to receipt p50", "emit p99", "lost"],
    results
      .sort((a, b) => a.n - b.n || a.who.localeCompare(b.who))
      .map((r) => [
        r.who === "ours" ? "ours (workerd, upload -> photo:failed)" : "socket.io 4 (Node, POST -> emit)",
        r.n, ms(median(r.latency)), ms(percentile(r.latency, 99)), ms(Math.max(...r.latency)),
        ms(median(r.spread)), ms(percentile(r.spread, 99)),
        r.fromEmit.length ? ms(median(r.fromEmit)) : "-", r.fromEmit.length ? ms(percentile(r.fromEmit, 99)) : "-", r.lost,
      ]),
  ),
);
out.push("", `${cpus().length} CPUs, Node ${process.version}, clients in one process; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(out.join("\n"));

const get = (who, n) => results.find((r) => r.who === who && r.n === n);
await summarize(
  sizes.flatMap((n) => {
    const o = get("ours", n), s = get("socket.io", n);
    const p99 = percentile(o.latency, 99), sp99 = percentile(s.latency, 99);
    return [
      { what: `fan-out, ${n} sockets: p99 cause to receipt, ours vs socket.io`, measured: ms(p99), against: ms(sp99), ratio: times(p99, sp99), goal: n === 1000 ? "<= 100 ms, <= socket.io" : "<= socket.io", met: (n !== 1000 || p99 <= 100) && p99 <= sp99 },
      { what: `fan-out, ${n} sockets: p99 spread after first receipt, ours vs socket.io`, measured: ms(percentile(o.spread, 99)), against: ms(percentile(s.spread, 99)), ratio: times(percentile(o.spread, 99), percentile(s.spread, 99)), goal: "", met: "" },
    ];
  }),
);
