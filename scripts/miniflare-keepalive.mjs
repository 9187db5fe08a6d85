// Keeps local Miniflare's queue delivering (docs/performance.md, "The local queue stall").
//
// Miniflare's queue broker (a Durable Object in workerd) logs every finished batch with a POST
// to Miniflare's loopback server, an HTTP server in this Node process, over a pooled keep-alive
// connection. Node closes a connection idle for 5 s (http.Server's keepAliveTimeout). When a
// queue job keeps workerd busy past that moment, workerd does not see the close, the broker's
// next POST on that connection fails ("Network connection lost"), its flush throws before it
// clears its pending-batch flag, and the queue never delivers again. Here every HTTP server
// made in this process keeps idle connections open (0: no timeout; workerd closes its own).
//
// Imported by the Worker the tests and benches start (tests/support/worker.mjs) and preloaded
// into `wrangler dev` (package.json's start, tests/support/wrangler_dev.mjs) with
// NODE_OPTIONS="--import ./scripts/miniflare-keepalive.mjs".
import http from "node:http";

const createServer = http.createServer;
http.createServer = (...args) => {
  const server = createServer(...args);
  server.keepAliveTimeout = 0;
  return server;
};
