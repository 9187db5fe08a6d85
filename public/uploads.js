// Uploads a batch of files a few at a time, reporting each file's progress to the grid.

import { photoIdFor, photoType } from "./api.js";

// Enough to keep the line busy without starving the socket and thumbnails.
const PARALLEL_UPLOADS = 3;
// A failed connection or a passing server error (408, 429, 5xx) is tried again after 1, 2, 4
// and 8 s, as the CLI does: an upload is idempotent (its photo id is the file's name). Locally,
// `wrangler dev` answers 503 to an upload that waited over ~5 s for a Worker busy with a photo.
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];

export class Uploads {
  /** `onSent()` after each accepted upload, `onSummary(text)` when the counts change. */
  constructor({ api, grid, onSent, onSummary }) {
    this.api = api;
    this.grid = grid;
    this.onSent = onSent;
    this.onSummary = onSummary;
    this.counts = { waiting: 0, sent: 0, failed: 0, skipped: 0 };
    this.queue = [];
    this.running = 0;
  }

  add(files) {
    for (const file of files) {
      const contentType = photoType(file);
      if (!contentType) {
        this.counts.skipped += 1; // not a photo: a folder's sidecar files, say
        continue;
      }
      const photoId = photoIdFor(file.name);
      this.grid.setUpload(photoId, { state: "waiting", fraction: 0 });
      this.queue.push({ file, photoId, contentType });
      this.counts.waiting += 1;
    }
    this.summarize();
    while (this.running < PARALLEL_UPLOADS && this.queue.length) this.next();
  }

  async next() {
    const { file, photoId, contentType } = this.queue.shift();
    this.running += 1;
    const progress = (fraction) => this.grid.setUpload(photoId, { state: "sending", fraction });
    let outcome;
    for (const delay of [...RETRY_DELAYS_MS, null]) {
      let transient;
      try {
        const { status, body } = await this.api.upload(file, photoId, contentType, progress);
        outcome = status === 200 || status === 202 ? null : body.error ?? `answered ${status}`;
        transient = outcome && isTransient(status, outcome);
        if (!outcome) {
          // 200: uploaded and processed before; its frames are long past, so ask for its state.
          this.grid.applyView(status === 200 ? await this.api.photo(photoId) : { photoId, status: "queued", stage: null });
          this.onSent();
        }
      } catch (e) {
        outcome = e.message;
        transient = true;
      }
      if (!transient || delay === null) break;
      this.grid.setUpload(photoId, { state: "retrying", fraction: 0, error: outcome });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.counts.waiting -= 1;
    if (outcome) {
      this.counts.failed += 1;
      this.grid.setUpload(photoId, { state: "failed", fraction: 0, error: outcome });
    } else {
      this.counts.sent += 1;
    }
    this.running -= 1;
    this.summarize();
    if (this.queue.length) this.next();
  }

  summarize() {
    const { waiting, sent, failed, skipped } = this.counts;
    const parts = [`${sent} uploaded`, `${waiting} to go`, `${failed} failed`];
    if (skipped) parts.push(`${skipped} skipped (not JPEG, PNG or WebP)`);
    this.onSummary(`Uploads: ${parts.join(", ")}.`);
  }
}

/** Whether a refused upload may succeed if sent again (the CLI's rule, src/cli/api.rs). */
function isTransient(status, error) {
  if (status === 503 && error.includes("API_TOKEN")) return false; // writes are off: say so now
  return status === 408 || status === 429 || status >= 500;
}
