// Minimal reproductions of local Miniflare's queue stalls (docs/performance.md, section 5).
//
//   node scripts/bench/queue-stall-repro.mjs               # a consumer leaves a Durable Object's
//                                                          # answer unread: stalls after job 0
//   node scripts/bench/queue-stall-repro.mjs read          # the same, answer read: all 5 jobs run
//   node scripts/bench/queue-stall-repro.mjs long          # answer read, then 6 s of CPU per job:
//                                                          # stalls within a few jobs, most runs
//   node scripts/bench/queue-stall-repro.mjs long-fixed    # the same with scripts/miniflare-keepalive.mjs,
//                                                          # as our tests, benches and `npm start` run:
//                                                          # all 8 jobs run
import { createInterface } from "node:readline";
import { Log, LogLevel, Miniflare } from "miniflare";

const fixed = process.argv[2] === "long-fixed";
if (fixed) await import("../miniflare-keepalive.mjs");
const mode = fixed ? "long" : process.argv[2];
const read = mode === "read" || mode === "long";
const script = `import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  async fetch() { return new Response("ok"); }
}
export default {
  async fetch(req, env) {
    await env.Q.send({ n: new URL(req.url).searchParams.get("n") });
    return new Response("queued", { status: 202 });
  },
  async queue(batch, env) {
    for (const m of batch.messages) {
      const answer = await env.ROOM.get(env.ROOM.idFromName("e1")).fetch("http://room/report", { method: "POST", body: "1" });
      ${read ? "await answer.text();" : "// the answer's body is never read"}
      ${mode === "long" ? "const end = Date.now() + 6000; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);" : ""}
      console.log("JOBDONE " + m.body.n);
      m.ack();
    }
  },
};
`;
let done;
const mf = new Miniflare({
  modules: true,
  cf: false,
  script,
  compatibilityDate: "2026-04-01",
  durableObjects: { ROOM: "Room" },
  queueProducers: { Q: "q" },
  queueConsumers: { q: { maxBatchSize: 1, maxBatchTimeout: 0 } },
  log: new Log(LogLevel.INFO), // prints Miniflare's "QUEUE q 1/1" line when an invocation ends
  handleRuntimeStdio(stdout, stderr) {
    stderr.pipe(process.stderr);
    createInterface({ input: stdout }).on("line", (line) => line.includes("JOBDONE") && (console.log(line), done?.()));
  },
});
const url = await mf.ready;
let ran = 0;
const jobs = mode === "long" ? 8 : 5;
for (let n = 0; n < jobs; n++) {
  const finished = new Promise((resolve) => (done = resolve));
  await fetch(`${url}?n=${n}`);
  if (!(await Promise.race([finished.then(() => true), new Promise((r) => setTimeout(() => r(false), 20_000))]))) break;
  ran++;
}
console.log(ran === jobs ? `no stall: ${jobs} of ${jobs} jobs ran` : `STALLED: job ${ran} was never delivered (20 s)`);
await mf.dispose();
