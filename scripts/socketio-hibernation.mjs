// Measures whether an event room with connected socket.io clients still hibernates.
// usage (after npm run build): node scripts/socketio-hibernation.mjs <pingInterval ms> <idle s>...
// For each idle time, in a room of its own: a socket.io client connects and subscribes, the
// room's x-room-instance is read, nothing but the heartbeat happens for that long, and it is
// read again. It changes when workerd evicted the room; its value is when that instance started.
import { io } from "socket.io-client";
import { startWorker } from "../tests/support/worker.mjs";

const [interval, ...idles] = process.argv.slice(2).map(Number);
const worker = await startWorker({ vars: { SOCKETIO_PING_INTERVAL_MS: String(interval), SOCKETIO_PING_TIMEOUT_MS: "5000" } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const instance = async (eventId) => (await fetch(`${worker.url}/events/${eventId}`)).headers.get("x-room-instance");
const t0 = Date.now();
const since = (ms) => ((ms - t0) / 1000).toFixed(1);

await Promise.all(idles.map(async (idle) => {
  const eventId = `idle${idle}-${Date.now()}`;
  const socket = io(`${worker.url}/progress`, { path: `/events/${eventId}/socket.io`, transports: ["websocket"], reconnection: false });
  const pings = [];
  socket.io.on("ping", () => pings.push(since(Date.now())));
  await socket.emitWithAck("subscribe:event", { eventId });
  const before = await instance(eventId);
  await sleep(idle * 1000);
  const after = await instance(eventId);
  console.log(`pingInterval ${interval} ms, idle ${idle} s: evicted=${before !== after}, ` +
    `current instance started at ${since(Number(after))} s, pings at [${pings}] s, connected=${socket.connected}`);
  socket.close();
}));
await worker.dispose();
