// The native CLI (`finishline upload`, `finishline watch`) against the built Worker in workerd:
// a folder of real race photos, an upload killed half-way and resumed, every photo processed
// once. Runs the binary cargo builds for `cargo test` (target/debug/finishline).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, startWorker, TEST_API_TOKEN } from "./support/worker.mjs";
import { EventSocket, getJson, photo, photosDir, pngHeader, StalledError, upload } from "./support/client.mjs";

const bin = path.join(root, "target/debug/finishline");
const PHOTOS = Array.from({ length: 12 }, (_, i) => `set1_${String(i + 1).padStart(2, "0")}.JPG`);

let worker;
const folders = [];
before(async () => {
  // A no-op when `cargo test` has built it already.
  execFileSync("cargo", ["build", "--bin", "finishline"], { cwd: root, stdio: "inherit" });
  worker = await startWorker();
});
after(() => {
  worker?.dispose();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

/** A photographer's folder outside the repository: links to the real photos, read in place. */
function folderOf(names, extra = {}) {
  const folder = mkdtempSync(path.join(tmpdir(), "finishline-cli-"));
  folders.push(folder);
  for (const name of names) symlinkSync(path.join(photosDir, "set1", name), path.join(folder, name));
  for (const [name, bytes] of Object.entries(extra)) writeFileSync(path.join(folder, name), bytes);
  return folder;
}

/** The photoId the CLI derives from a photo's bytes: `ph_` and 128 bits of its SHA-256. */
const photoIdOf = (bytes) => `ph_${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}`;

/**
 * Runs the CLI; `onLine(line, child)` sees each stdout line as it comes. Resolves with the exit
 * code (null when killed), the signal, stdout and stderr.
 */
function cli(args, { env = {}, onLine, ms = 300_000 } = {}) {
  const child = spawn(bin, args, { env: { ...process.env, FINISHLINE_TOKEN: TEST_API_TOKEN, ...env } });
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) onLine?.(line, child);
  });
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const done = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return Object.assign(done, { child });
}

/** Resolves as `promise` does, or rejects after `ms` (the timer never outlives it). */
async function within(promise, ms, message) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const uploadedLines = (stdout) => stdout.split("\n").filter((l) => l.startsWith("uploaded  "));
/** The summary table's row for a file. */
const rowOf = (stdout, name) => stdout.split("\n").find((l) => l.startsWith(`│ ${name} `));

/** Every photo of the event, through the paginated listing. */
async function allPhotos(eventId) {
  const photos = [];
  let cursor = "0";
  while (cursor !== null) {
    const page = await getJson(`${worker.url}/events/${eventId}/photos?limit=5&cursor=${cursor}`);
    assert.equal(page.status, 200);
    photos.push(...page.body.photos);
    cursor = page.body.nextCursor;
  }
  return photos;
}

/**
 * The CLI stops waiting after --idle-timeout when no photo moves: the test then fails with a
 * StalledError, not after the whole test's timeout. (Local Miniflare's queue used to stop
 * delivering now and then; scripts/miniflare-keepalive.mjs fixes that, and a stall here says so.)
 */
test("upload, killed half-way and run again, ends with every photo processed once and a table of the numbers read", async (t) => {
  await resumeScenario(t);
});

async function resumeScenario(t) {
  const eventId = unique("cli");
  const folder = folderOf(PHOTOS);
  const args = ["upload", folder, "--event", eventId, "--url", worker.url, "--concurrency", "2"];

  // First run: SIGKILL as soon as three uploads are accepted (no chance to clean up).
  let seen = 0;
  const first = await cli(args, {
    onLine: (line, child) => line.startsWith("uploaded  ") && ++seen === 3 && child.kill("SIGKILL"),
  });
  assert.equal(first.signal, "SIGKILL", `the first run was killed; it said:\n${first.stdout}\n${first.stderr}`);
  const acceptedFirst = uploadedLines(first.stdout).length;
  assert.ok(acceptedFirst >= 3);
  const afterKill = await getJson(`${worker.url}/events/${eventId}`);
  assert.ok(afterKill.body.totalPhotos >= 3 && afterKill.body.totalPhotos < PHOTOS.length, `half-way: ${JSON.stringify(afterKill.body)}`);

  // Second run: resumes, sends only what is missing, waits for every photo, prints the table.
  const second = await cli([...args, "--idle-timeout", "60"]);
  if (second.code === 1 && /no news of any photo for 60 s: stopped waiting/.test(second.stdout)) {
    const jobs = (await getJson(`${worker.url}/events/${eventId}`)).body.processedPhotos;
    throw new StalledError(60_000, jobs);
  }
  assert.equal(second.code, 0, `the second run succeeded:\n${second.stdout}\n${second.stderr}`);
  const resuming = second.stdout.match(/resuming: (\d+) already processed, (\d+) waiting or processing, (\d+) new/);
  assert.ok(resuming, second.stdout);
  const [held, fresh] = [+resuming[1] + +resuming[2], +resuming[3]];
  assert.equal(held + fresh, PHOTOS.length);
  assert.ok(held >= acceptedFirst, "everything the first run saw accepted is held");
  const namesOf = (lines) => lines.map((l) => l.split(/\s+/)[1]);
  const uploadedSecond = namesOf(uploadedLines(second.stdout));
  assert.equal(uploadedSecond.length, fresh, "only the photos the Worker lacks are sent");
  for (const name of namesOf(uploadedLines(first.stdout))) assert.ok(!uploadedSecond.includes(name), `${name} is not sent twice`);
  // A photo whose upload was cut after the Worker registered it (never queued) is sent again
  // once the event is quiet; a killed request may or may not leave one.
  const sentAgain = second.stdout.split("\n").filter((l) => l.startsWith("sent again")).length;
  t.diagnostic(`first run: ${acceptedFirst} accepted; second: ${held} held, ${fresh} sent, ${sentAgain} sent again`);

  // Exactly once, as the Worker counts it and as its frame log tells it.
  const status = await getJson(`${worker.url}/events/${eventId}`);
  assert.equal(status.body.totalPhotos, PHOTOS.length);
  assert.equal(status.body.processedPhotos, PHOTOS.length);
  assert.equal(status.body.succeeded + status.body.failed, PHOTOS.length);
  assert.equal(status.body.status, "completed");
  const socket = await EventSocket.open(worker.url, eventId, { since: 0 });
  await socket.waitFor((f) => f.seq === status.body.lastSeq, { ms: 30_000 });
  socket.close();
  const terminal = socket.frames.filter((f) => f.event === "photo:completed" || f.event === "photo:failed");
  const ids = PHOTOS.map((name) => photoIdOf(photo(`set1/${name}`)));
  assert.deepEqual(terminal.map((f) => f.data.photoId).sort(), [...ids].sort(), "one terminal frame per photo");

  const photos = await allPhotos(eventId);
  assert.deepEqual(photos.map((p) => p.photoId).sort(), [...ids].sort(), "the Worker holds the CLI's content-derived ids");
  const attempts = photos.reduce((sum, p) => sum + p.attempts, 0);
  assert.ok(photos.every((p) => p.attempts >= 1));
  // Only a photo sent again can have run twice (and it is still counted once).
  assert.ok(attempts <= PHOTOS.length + sentAgain, `attempts ${attempts}, sent again ${sentAgain}`);

  // The table shows, for each file, what the Worker read.
  const byId = new Map(photos.map((p) => [p.photoId, p]));
  for (const [i, name] of PHOTOS.entries()) {
    const row = rowOf(second.stdout, name);
    assert.ok(row, `a row for ${name}`);
    const view = byId.get(ids[i]);
    if (view.status === "failed") {
      assert.match(row, /failed/);
    } else if (view.result.detections.length === 0) {
      assert.match(row, /no number read/);
    } else {
      for (const d of view.result.detections) assert.ok(row.includes(`${d.number} (`), `${row} names ${d.number}`);
    }
  }
  const withNumbers = photos.filter((p) => p.result?.detections.length > 0).length;
  assert.ok(withNumbers >= PHOTOS.length / 2, "most of these race photos have a number read");
  assert.match(second.stdout, new RegExp(`${PHOTOS.length} photos: ${withNumbers} with numbers read`));

  // A third run has nothing to do and changes nothing.
  const third = await cli(args);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /: 0 to send/);
  assert.equal(uploadedLines(third.stdout).length, 0);
  const still = await getJson(`${worker.url}/events/${eventId}`);
  assert.equal(still.body.lastSeq, status.body.lastSeq, "nothing new was broadcast");
}

test("watch prints one line per live frame, and the raw frames with --json", async () => {
  const eventId = unique("watch");
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  const lines = [];
  let onCompleted;
  const completed = new Promise((resolve) => (onCompleted = resolve));
  const watching = cli(["watch", "--event", eventId, "--url", worker.url], {
    onLine: (line) => {
      lines.push(line);
      if (/event \S+ completed/.test(line)) onCompleted();
    },
  });
  watching.child.stderr.on("data", (chunk) => String(chunk).includes("watching event") && onReady());
  await ready;
  const accepted = await upload(worker.url, eventId, photo("set1/set1_01.JPG"), { requestId: "req_watch_1" });
  assert.equal(accepted.status, 202);
  await within(completed, 120_000, () => `no event:completed; watch printed:\n${lines.join("\n")}`);
  watching.child.kill("SIGTERM");
  await watching;
  const photoId = accepted.body.photoId;
  assert.deepEqual(lines.slice(0, 3).map((l) => l.replace(/^#\d+\s+/, "")), [
    `photo ${photoId} detection done (33%)  [req_watch_1]`,
    `photo ${photoId} ocr done (66%)  [req_watch_1]`,
    `photo ${photoId} color done (100%)  [req_watch_1]`,
  ]);
  assert.match(lines[3], new RegExp(`^#4\\s+photo ${photoId} read: `));
  assert.match(lines[4], new RegExp(`^#5\\s+event ${eventId}: 1 of 1 photos processed$`));
  assert.match(lines[5], new RegExp(`^#6\\s+event ${eventId} completed: 1 photos, \\d read, \\d failed$`));

  // --json --since 0: the whole log, as the Worker sent it; then it keeps following.
  const raw = [];
  let onSix;
  const six = new Promise((resolve) => (onSix = resolve));
  const replaying = cli(["watch", "--event", eventId, "--url", worker.url, "--json", "--since", "0"], {
    onLine: (line) => raw.push(JSON.parse(line)) === 6 && onSix(),
  });
  await within(six, 60_000, () => `--json printed ${raw.length} frames`);
  replaying.child.kill("SIGTERM");
  await replaying;
  const socket = await EventSocket.open(worker.url, eventId, { since: 0 });
  await socket.waitFor((f) => f.seq === 6);
  socket.close();
  assert.deepEqual(raw, socket.frames);
});

test("a refused photo is reported in the table and the rest still goes through; a wrong token stops at once", async () => {
  // This Worker takes photos up to 80 kB: set1_01 (85 kB) gets a 413, set1_10 (59 kB) goes through.
  // Reading its events needs a subscribe token, which the CLI gets with the API token.
  const small = await startWorker({ vars: { MAX_UPLOAD_BYTES: "80000", EVENT_TOKEN_SECRET: "cli-test-secret" } });
  try {
    const eventId = unique("refused");
    // big.png declares an interlaced 3000x2000 image, more than the pipeline decodes whole.
    const folder = folderOf(["set1_01.JPG", "set1_10.JPG"], { "notes.jpg": "not a photo", "big.png": pngHeader(3000, 2000, 1) });
    const run = await cli(["upload", folder, "--event", eventId, "--url", small.url, "--idle-timeout", "60"]);
    assert.equal(run.code, 1, "non-zero: photos failed to upload");
    assert.match(rowOf(run.stdout, "set1_01.JPG"), /not uploaded ┆ 413 the photo is larger than/);
    assert.match(rowOf(run.stdout, "notes.jpg"), /not uploaded ┆ .*not a JPEG, PNG or WebP/);
    assert.match(rowOf(run.stdout, "big.png"), /not uploaded ┆ image too large for an interlaced PNG: 3000x2000 pixels/);
    assert.match(rowOf(run.stdout, "set1_10.JPG"), /┆ read /);
    assert.match(run.stdout, /4 photos: .*3 not uploaded/);
    const token = (await fetch(`${small.url}/events/${eventId}/tokens`, { method: "POST", headers: { authorization: `Bearer ${TEST_API_TOKEN}` } }).then((r) => r.json())).token;
    const status = await getJson(`${small.url}/events/${eventId}?token=${token}`);
    assert.equal(status.body.totalPhotos, 1);
    const tokenless = await cli(["watch", "--event", eventId, "--url", small.url], { env: { FINISHLINE_TOKEN: "" } });
    assert.equal(tokenless.code, 1);
    assert.match(tokenless.stderr, /401 .*: pass --token <API token> or --subscribe-token <token>/);

    const wrongToken = await cli(["upload", folder, "--event", eventId, "--url", small.url], { env: { FINISHLINE_TOKEN: "wrong" } });
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /the Worker refused the API token .*: 401 /);
    assert.equal(uploadedLines(wrongToken.stdout).length, 0, "nothing is sent");
    // Without subscribe tokens the CLI checks the API token with a bodiless write first.
    const wrongHere = await cli(["upload", folder, "--event", eventId, "--url", worker.url], { env: { FINISHLINE_TOKEN: "wrong" } });
    assert.equal(wrongHere.code, 1);
    assert.match(wrongHere.stderr, /the Worker refused the API token: 401 /);
    assert.equal((await getJson(`${worker.url}/events/${eventId}`)).body.totalPhotos, 0, "nothing was sent");
    const unreachable = await cli(["watch", "--event", eventId, "--url", "http://127.0.0.1:9"]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9\//);
  } finally {
    await small.dispose();
  }
});

test("scan reads a photo natively, and refuses a detection size out of range before reading any", () => {
  const file = path.join(photosDir, "set1", "set1_01.JPG");
  const [line] = execFileSync(bin, ["scan", "--detection-size", "2048", file], { encoding: "utf8" }).trim().split("\n");
  const read = JSON.parse(line);
  assert.equal(read.file, file);
  assert.ok(read.detections.some((d) => d.number === "3638"), line);
  let refused;
  try {
    execFileSync(bin, ["scan", "--detection-size", "100", file], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    refused = error;
  }
  assert.equal(refused?.status, 1);
  assert.equal(refused.stdout, "", "no photo is read");
  assert.match(refused.stderr, /detection size 100 is out of range: from 640 to 2560 pixels/);
});
