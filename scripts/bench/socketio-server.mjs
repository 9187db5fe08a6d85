// The reference for scripts/bench-fanout.mjs: a plain socket.io v4 server on Node (its own
// process, as workerd is), every client joined to one room on connection. POST /broadcast with
// a JSON array of {event, data} emits each to the room, in order, and answers once the emits
// returned (as the old gateway's emitPhotoFailed, emitEventProgress, emitEventCompleted); the start time
// (performance.timeOrigin + now, the same clock as the bench's) is printed as a JSON line.
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/broadcast") return res.writeHead(404).end();
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const events = JSON.parse(body);
    const at = performance.timeOrigin + performance.now();
    for (const { event, data } of events) io.to("event:bench").emit(event, data);
    console.log(JSON.stringify({ emitted: at, sockets: io.of("/").sockets.size }));
    res.writeHead(204).end();
  });
});
const io = new Server(http, { transports: ["websocket"], serveClient: false });
io.on("connection", (socket) => socket.join("event:bench"));
http.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: http.address().port })));
