// The event's WebSocket: reconnects by itself with exponential backoff and resumes after the
// last seq it saw, so the room replays exactly what was missed.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
// Keeps proxies from closing an idle socket; the runtime answers without waking the room.
const PING_EVERY_MS = 30_000;
// A socket that stayed open this long was a good one: the next drop starts the backoff over.
const STABLE_MS = 10_000;

export class LiveSocket {
  /** `urlFor(since)` builds the socket URL; `onFrame(frame)` gets each new frame once. */
  constructor({ urlFor, onFrame, onState }) {
    this.urlFor = urlFor;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.failures = 0;
  }

  start(since) {
    this.lastSeq = since;
    this.connect();
  }

  stop() {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    ws?.close();
  }

  connect() {
    this.onState("connecting");
    const ws = new WebSocket(this.urlFor(this.lastSeq));
    this.ws = ws;
    this.openedAt = Infinity;
    ws.onopen = () => {
      this.openedAt = Date.now();
      this.onState("live");
      this.ping = setInterval(() => ws.send('{"event":"ping"}'), PING_EVERY_MS);
    };
    ws.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (typeof frame.seq === "number") {
        if (frame.seq <= this.lastSeq) return; // already seen before a reconnect
        this.lastSeq = frame.seq;
      }
      this.onFrame(frame);
    };
    ws.onclose = () => {
      clearInterval(this.ping);
      if (this.ws !== ws) return; // stopped on purpose
      if (Date.now() - this.openedAt > STABLE_MS) this.failures = 0;
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures) * (0.5 + Math.random() / 2);
      this.failures += 1;
      this.onState("reconnecting", delay);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }
}
