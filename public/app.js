// The dashboard: opens an event, fills the grid from the API, then follows the live socket.

import { Api } from "./api.js";
import { droppedFiles } from "./files.js";
import { LiveSocket } from "./live.js";
import { PhotoGrid } from "./photos.js";
import { drawBoxes, setThumbnailImage, thumbnail } from "./thumbnail.js";
import { Uploads } from "./uploads.js";

const $ = (id) => document.getElementById(id);
// Kept in this browser so a reload reopens the same event; the API token stays on this device.
const saved = {
  eventId: "finishline.eventId",
  apiToken: "finishline.apiToken",
  subscribeToken: "finishline.subscribeToken",
  recent: "finishline.recentEvents",
};
const RECENT_EVENTS = 10;
const STATUS_REFRESH_MS = 250;

let api, grid, socket, uploads, nextCursor, statusTimer;

function notice(text) {
  $("notice").textContent = text;
}

async function openEvent(eventId) {
  socket?.stop();
  notice("");
  const tokens = { apiToken: $("api-token").value.trim(), subscribeToken: $("subscribe-token").value.trim() };
  localStorage.setItem(saved.eventId, eventId);
  localStorage.setItem(saved.apiToken, tokens.apiToken);
  localStorage.setItem(saved.subscribeToken, tokens.subscribeToken);
  remember(eventId);
  api = new Api(eventId, tokens);
  // A new list, so the previous event's unfinished uploads update a grid no longer shown.
  const list = $("photo-grid").cloneNode(false);
  $("photo-grid").replaceWith(list);
  grid = new PhotoGrid(list, (photoId) => api.imageUrl(photoId));
  const mine = new Uploads({
    api,
    grid,
    onSent: refreshStatus,
    onSummary: (text) => uploads === mine && ($("upload-summary").textContent = text),
  });
  uploads = mine;
  $("upload-summary").textContent = "";
  $("find-results").replaceChildren();
  $("find-summary").textContent = "";
  for (const id of ["progress-panel", "upload-panel", "find-panel", "photos-panel"]) $(id).hidden = false;
  $("photos-heading").textContent = `Photos of ${eventId}`;
  try {
    const status = await loadState();
    if (api.eventId !== eventId) return; // another event was opened meanwhile
    socket = new LiveSocket({ urlFor: (since) => api.socketUrl(since), onFrame, onState: showConnection });
    socket.start(status.lastSeq);
  } catch (e) {
    notice(`Could not open ${eventId}: ${e.message}`);
  }
}

/** The event's counters and first page of photos; the socket then replays from lastSeq. */
async function loadState() {
  const status = await api.status();
  showStatus(status);
  const page = await api.photoPage();
  page.photos.forEach((view) => grid.applyView(view));
  showMore(page.nextCursor);
  return status;
}

function showMore(cursor) {
  nextCursor = cursor;
  $("more-photos").hidden = !cursor;
}

function onFrame(frame) {
  if (frame.event === "replay:truncated") {
    // The room's log no longer reaches back to our seq: start again from its state.
    loadState().catch((e) => notice(`Could not reload the event: ${e.message}`));
    return;
  }
  grid.applyFrame(frame);
  if (frame.event === "event:progress") {
    showProgress(frame.data.processedPhotos, frame.data.totalPhotos);
  }
  if (frame.event.startsWith("event:")) refreshStatus();
}

/** Coalesces the status reads that a burst of frames or uploads asks for. */
function refreshStatus() {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => api.status().then(showStatus, (e) => notice(e.message)), STATUS_REFRESH_MS);
}

function showStatus({ totalPhotos, processedPhotos, succeeded, failed, status }) {
  showProgress(processedPhotos, totalPhotos);
  $("event-summary").textContent =
    `${processedPhotos} of ${totalPhotos} photos processed: ${succeeded} succeeded, ${failed} failed (${status}).`;
}

function showProgress(processed, total) {
  $("event-progress").max = Math.max(total, 1);
  $("event-progress").value = processed;
}

function showConnection(state, delay) {
  const text = { connecting: "connecting…", live: "live", reconnecting: `reconnecting in ${Math.ceil(delay / 1000)} s` };
  $("connection").dataset.state = state;
  $("connection").textContent = text[state];
}

async function findNumber(number) {
  $("find-summary").textContent = "Searching…";
  try {
    const { photos } = await api.findNumber(number);
    $("find-results").replaceChildren(...photos.map((match) => matchCard(number, match)));
    const count = photos.length === 1 ? "1 photo" : `${photos.length} photos`;
    $("find-summary").textContent = `${number} was read in ${count}.`;
  } catch (e) {
    $("find-summary").textContent = `Search failed: ${e.message}`;
  }
}

function matchCard(number, match) {
  const card = document.createElement("li");
  card.className = "photo match";
  card.dataset.photoId = match.photoId;
  const thumb = thumbnail(`Photo ${match.photoId}, number ${number}`);
  setThumbnailImage(thumb, api.imageUrl(match.photoId));
  drawBoxes(thumb, [{ number, ...match }]);
  const link = document.createElement("a");
  link.href = `#photo-${match.photoId}`;
  link.textContent = match.photoId;
  const detail = document.createElement("p");
  detail.className = "state";
  detail.textContent = `${Math.round(100 * match.confidence)}% sure${match.color ? `, ${match.color.name}` : ""}`;
  card.append(thumb, link, detail);
  return card;
}

function remember(eventId) {
  const recent = [eventId, ...JSON.parse(localStorage.getItem(saved.recent) ?? "[]").filter((id) => id !== eventId)];
  localStorage.setItem(saved.recent, JSON.stringify(recent.slice(0, RECENT_EVENTS)));
  showRecent();
}

function showRecent() {
  const recent = JSON.parse(localStorage.getItem(saved.recent) ?? "[]");
  $("recent-events").replaceChildren(...recent.map((id) => Object.assign(document.createElement("option"), { value: id })));
}

function wire() {
  $("event-form").addEventListener("submit", (e) => {
    e.preventDefault();
    openEvent($("event-id").value.trim());
  });
  $("find-form").addEventListener("submit", (e) => {
    e.preventDefault();
    findNumber($("find-number").value.trim());
  });
  $("more-photos").addEventListener("click", async () => {
    try {
      const page = await api.photoPage(nextCursor);
      page.photos.forEach((view) => grid.applyView(view));
      showMore(page.nextCursor);
    } catch (e) {
      notice(`Could not load more photos: ${e.message}`);
    }
  });
  const drop = $("drop-zone");
  drop.addEventListener("click", () => $("photo-input").click());
  $("folder-button").addEventListener("click", () => $("folder-input").click());
  for (const input of [$("photo-input"), $("folder-input")]) {
    input.addEventListener("change", () => {
      uploads.add([...input.files]);
      input.value = ""; // the same files can be chosen again
    });
  }
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    uploads.add(await droppedFiles(e.dataTransfer));
  });
}

wire();
showRecent();
$("api-token").value = localStorage.getItem(saved.apiToken) ?? "";
$("subscribe-token").value = localStorage.getItem(saved.subscribeToken) ?? "";
const lastEvent = localStorage.getItem(saved.eventId);
if (lastEvent) {
  $("event-id").value = lastEvent;
  openEvent(lastEvent);
}
