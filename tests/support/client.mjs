// Real clients of the Worker: uploads over HTTP and event sockets over WebSocket.
import WebSocket from "ws";
import { readFileSync } from "node:fs";
import path from "node:path";
import { root, TEST_API_TOKEN } from "./worker.mjs";

/** The labelled race photos, read in place: they never enter the repository. */
export const photosDir = process.env.RBNR_DIR ?? path.resolve(root, "../shared/data/rbnr");

export function photo(name) {
  return readFileSync(path.join(photosDir, name));
}

/** A PNG header declaring width x height pixels, with a correct CRC and nothing after it. */
export function pngHeader(width, height, interlace = 0) {
  const ihdr = Buffer.alloc(17);
  ihdr.write("IHDR", 0);
  ihdr.writeUInt32BE(width, 4);
  ihdr.writeUInt32BE(height, 8);
  ihdr.set([8, 2, 0, 0, interlace], 12);
  let crc = 0xffffffff;
  for (const byte of ihdr) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), ihdr, tail]);
}

// Every request on a connection of its own: local workerd runs the queue consumer on the same
// thread, and a photo's closer look keeps it busy for seconds; a pooled keep-alive connection
// that sat idle meanwhile can be closed by workerd just as it is reused ("fetch failed",
// ECONNRESET): a race of the client's connection pool, not an answer of the Worker.
const OWN_CONNECTION = { connection: "close" };

/** Uploads a photo with the tests' API token (pass `token: null` to send none). */
export async function upload(url, eventId, body, { requestId, contentType = "image/jpeg", headers = {}, token = TEST_API_TOKEN } = {}) {
  const response = await fetch(`${url}/events/${eventId}/photos`, {
    method: "POST",
    body,
    headers: {
      ...OWN_CONNECTION,
      "content-type": contentType,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(requestId ? { "x-request-id": requestId } : {}),
      ...headers,
    },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

export async function getJson(url) {
  const response = await fetch(url, { headers: OWN_CONNECTION });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A socket on an event that records every frame it receives. */
export class EventSocket {
  /**
   * Opens a socket on an event; with `since`, the room first replays what followed that seq.
   * `token` is a subscribe token, `origin` an Origin header (as a browser sends).
   */
  static async open(url, eventId, { since, token, origin } = {}) {
    const query = new URLSearchParams({ ...(since === undefined ? {} : { since }), ...(token ? { token } : {}) }).toString();
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/events/${eventId}/ws${query ? `?${query}` : ""}`, { origin });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    });
    return new EventSocket(ws);
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()));
      this.waiters = this.waiters.filter((check) => !check());
    });
  }

  send(frame) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (from `from` on) that matches, or rejects after `ms`. */
  /**
   * Resolves with the first frame (from `from` on) that matches. Rejects after `ms`, or with
   * a `StalledError` when `idleMs` pass without any new frame (nothing is moving any more).
   */
  waitFor(match, { from = 0, ms = 60_000, idleMs } = {}) {
    return new Promise((resolve, reject) => {
      let idle;
      const stop = () => {
        clearTimeout(timer);
        clearTimeout(idle);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      const armIdle = () => {
        clearTimeout(idle);
        if (idleMs) idle = setTimeout(() => (stop(), reject(new StalledError(idleMs, this.frames.length))), idleMs);
      };
      const check = () => {
        const found = this.frames.slice(from).find(match);
        if (found) {
          stop();
          resolve(found);
        } else armIdle();
        return Boolean(found);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(this.frames.slice(from))}`));
      }, ms);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Sends a request frame and resolves with its answer (the next frame after sending). */
  async request(frame) {
    const from = this.frames.length;
    this.send(frame);
    return this.waitFor(() => true, { from, ms: 30_000 });
  }

  close() {
    this.ws.close();
  }
}

export class StalledError extends Error {
  constructor(idleMs, frames) {
    super(`no frame for ${idleMs} ms (after ${frames} frames)`);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
