// The floor for scripts/bench-fanout.mjs: the least a room can do in the same runtime. A
// plain-JS Durable Object in Miniflare (workerd), its sockets held with the Hibernation API as
// EventRoom's are; POST /broadcast with a JSON array of frames (strings) sends them, in order,
// to every socket and answers when the loop returned. What ours costs beyond it is our room's own doing.
import { Miniflare } from "miniflare";

const script = `
export class Room {
  constructor(ctx) { this.ctx = ctx; }
  async fetch(request) {
    if (request.headers.get("upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    const frames = await request.json();
    for (const ws of this.ctx.getWebSockets()) for (const frame of frames) ws.send(frame);
    return new Response(null, { status: 204 });
  }
  webSocketMessage() {}
}
export default {
  fetch(request, env) { return env.ROOM.get(env.ROOM.idFromName("bench")).fetch(request); },
};`;

/** Starts the room; `url` takes WebSockets on any path and POST /broadcast. */
export async function startJsRoom() {
  const mf = new Miniflare({
    modules: true,
    script,
    durableObjects: { ROOM: "Room" },
    compatibilityDate: "2026-04-01",
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, dispose: () => mf.dispose() };
}
