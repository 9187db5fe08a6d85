// The dashboard in a real browser (Debian's chromium through playwright-core) against
// `wrangler dev`: two real photos uploaded through the page (one of them refused once and sent
// again), followed live, then found by number.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { root, TEST_API_TOKEN } from "./support/worker.mjs";
import { EventSocket, photosDir } from "./support/client.mjs";
import { startWranglerDev } from "./support/wrangler_dev.mjs";

const CHROMIUM = "/usr/bin/chromium";
// Offline machine: without these Chromium keeps dialling Google's services.
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SCREENSHOT = path.join(root, "docs/img/dashboard.png");
// The photos have no licence: the committed screenshot shows the page and its boxes, not them.
const HIDE_PHOTOS = ".thumb img { filter: blur(24px) brightness(0.9); }";
// What the page names each file's photo (x-photo-id from the file name).
const PHOTOS = { set1_01_JPG: "set1/set1_01.JPG", set1_07_JPG: "set1/set1_07.JPG" };

async function waitUntil(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("the dashboard uploads two photos, follows them live through a lost socket, and finds a number", { timeout: 400_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup-toolchain.sh installs Debian's chromium (needs apt-get)`);
  const dev = await startWranglerDev();
  const profile = mkdtempSync(path.join(tmpdir(), "finishline-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 },
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // The page's sockets pass through here, so the test can cut them and refuse reconnects.
    const socketUrls = [];
    let server = "up";
    let pageSocket;
    await page.routeWebSocket(/\/events\/[^/]+\/ws/, (route) => {
      socketUrls.push(new URL(route.url()));
      if (server === "away") return route.close({ code: 1012, reason: "the test sent the server away" });
      route.connectToServer();
      pageSocket = route;
    });
    // The first upload of one photo is answered as `wrangler dev` answers an upload that waited
    // too long for a busy Worker (503, plain text); the page must send it again by itself.
    const uploadTries = {};
    await page.route(/\/events\/[^/]+\/photos$/, (route) => {
      const photoId = route.request().headers()["x-photo-id"];
      uploadTries[photoId] = (uploadTries[photoId] ?? 0) + 1;
      if (photoId === "set1_07_JPG" && uploadTries[photoId] === 1) {
        return route.fulfill({ status: 503, headers: { "retry-after": "0" }, body: "Your worker restarted mid-request. Please try sending the request again." });
      }
      return route.continue();
    });
    await page.goto(dev.url);
    assert.equal(await page.title(), "finishline");

    const eventId = "race-day";
    await page.getByLabel("API token").fill(TEST_API_TOKEN);
    await page.getByLabel("Event id").fill(eventId);
    await page.getByRole("button", { name: "Open event" }).click();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });

    // What the API itself broadcasts, to hold the page to.
    const socket = await EventSocket.open(dev.url, eventId);
    await page.locator("#photo-input").setInputFiles(Object.values(PHOTOS).map((name) => path.join(photosDir, name)));
    // Mid-run the page loses its socket and cannot reconnect until both photos are done.
    await page.locator(".stages li.done").first().waitFor({ timeout: 120_000 });
    server = "away";
    const cutAt = socketUrls.length;
    await pageSocket.close({ code: 1012, reason: "the test cut the socket" });
    const done = await socket.waitFor((f) => f.event === "event:completed" && f.data.summary.total === 2, { ms: 240_000 });
    await waitUntil(() => socketUrls.length > cutAt + 1, 30_000, "the page retries while the server is away");
    server = "up";
    const completed = Object.fromEntries(
      socket.frames.filter((f) => f.event === "photo:completed").map((f) => [f.data.photoId, f.data]),
    );
    socket.close();
    assert.deepEqual(Object.keys(completed).sort(), Object.keys(PHOTOS), "both photos complete, under the page's photo ids");
    // Sent again at least once (more when it then waited too long for the busy Worker, for real).
    assert.ok(uploadTries.set1_07_JPG >= 2, `the refused upload was sent again: ${JSON.stringify(uploadTries)}`);
    await page.getByText("Uploads: 2 uploaded, 0 to go, 0 failed.").waitFor({ timeout: 10_000 });

    let numbersRead = 0;
    for (const [photoId, { detections }] of Object.entries(completed)) {
      const card = page.locator(`[id="photo-${photoId}"]`);
      // Up to one backoff delay (at most 30 s) after the server is back.
      await card.and(page.locator('[data-status="succeeded"]')).waitFor({ timeout: 60_000 });
      const shown = await card.locator(".numbers li").evaluateAll((chips) => chips.map((chip) => chip.dataset.number));
      assert.deepEqual(shown.sort(), detections.map((d) => d.number).sort(), `numbers shown for ${photoId}`);
      await card.locator("img").evaluate((img) => img.decode());
      const boxes = await card.locator(".box").evaluateAll((els) =>
        els.map((el) => ({ visible: !el.hidden && el.offsetWidth > 0 && el.offsetHeight > 0, color: getComputedStyle(el).borderTopColor })));
      assert.deepEqual(
        boxes,
        detections.map((d) => ({ visible: true, color: d.color ? `rgb(${d.color.rgb.join(", ")})` : "rgb(255, 212, 0)" })),
        `a box in its color for each number in ${photoId}`,
      );
      numbersRead += shown.length;
    }
    assert.ok(numbersRead > 0, "at least one number was read");
    // It caught up from the last seq it had seen, before the event completed, by replay.
    const since = Number(socketUrls.at(-1).searchParams.get("since"));
    assert.equal(socketUrls[0].searchParams.get("since"), "0");
    assert.ok(since > 0 && since < done.seq, `reconnected with since=${since}, before the last seq ${done.seq}`);
    await page.getByText("2 of 2 photos processed: 2 succeeded, 0 failed (completed).").waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#event-progress").evaluate((bar) => bar.value / bar.max), 1);

    const [number] = Object.values(completed).flatMap((c) => c.detections.map((d) => d.number));
    const expected = Object.keys(completed).filter((id) => completed[id].detections.some((d) => d.number === number));
    await page.getByLabel("Race number").fill(number);
    await page.getByRole("button", { name: "Find" }).click();
    await page.locator("#find-summary", { hasText: `${number} was read in` }).waitFor({ timeout: 10_000 });
    const found = await page.locator("#find-results li").evaluateAll((items) => items.map((item) => item.dataset.photoId));
    assert.deepEqual(found.sort(), expected.sort(), `the photos where ${number} was read`);
    assert.deepEqual(pageErrors, [], "no script errors on the page");

    await page.addStyleTag({ content: HIDE_PHOTOS });
    await page.locator("#find-results img").evaluateAll((imgs) => Promise.all(imgs.map((img) => img.decode())));
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  } catch (e) {
    e.message += `\n--- wrangler dev output ---\n${dev.log()}`;
    throw e;
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await dev.stop();
  }
});
