// The photo grid: one card per photo, updated in place as uploads, server views and live
// frames arrive in any order. A photo only ever moves forward through its stages.

import { drawBoxes, rgbOf, setThumbnailImage, thumbnail } from "./thumbnail.js";

export const STAGES = ["detection", "ocr", "color"];

/** How far a photo is: queued, each stage finished, then succeeded or failed. */
function rank(photo) {
  if (photo.status === "succeeded" || photo.status === "failed") return STAGES.length + 1;
  return photo.stage ? STAGES.indexOf(photo.stage) + 1 : 0;
}

export class PhotoGrid {
  constructor(list, imageUrl) {
    this.list = list;
    this.imageUrl = imageUrl;
    this.photos = new Map();
  }

  /** A photo being uploaded from this page. */
  setUpload(photoId, upload) {
    const photo = this.get(photoId);
    photo.upload = upload;
    this.render(photo);
  }

  /** A photo as the server describes it (`PhotoView`). */
  applyView(view) {
    this.advance(view.photoId, view);
  }

  /** A broadcast about a photo; other frames are not the grid's. */
  applyFrame({ event, data }) {
    if (event === "photo:progress") {
      this.advance(data.photoId, { status: "processing", stage: data.stage });
    } else if (event === "photo:completed") {
      const { detections, plateNumber, confidence } = data;
      this.advance(data.photoId, { status: "succeeded", stage: "color", result: { detections, plateNumber, confidence } });
    } else if (event === "photo:failed") {
      this.advance(data.photoId, { status: "failed", error: data.error });
    }
  }

  advance(photoId, state) {
    const photo = this.get(photoId);
    photo.onServer = true;
    if (rank(state) >= rank(photo)) Object.assign(photo, state);
    this.render(photo);
  }

  get(photoId) {
    if (!this.photos.has(photoId)) {
      const photo = { photoId, status: "queued", stage: null, card: this.card(photoId) };
      this.photos.set(photoId, photo);
      this.list.append(photo.card);
    }
    return this.photos.get(photoId);
  }

  card(photoId) {
    const card = document.createElement("li");
    card.className = "photo";
    card.id = `photo-${photoId}`;
    card.dataset.photoId = photoId;
    card.innerHTML = `
      <p class="name"></p>
      <progress max="100" value="0"></progress>
      <ol class="stages">${STAGES.map((s) => `<li data-stage="${s}">${s}</li>`).join("")}</ol>
      <p class="state"></p>
      <ul class="numbers" aria-label="Numbers read"></ul>`;
    card.querySelector(".name").textContent = photoId;
    card.querySelector("progress").setAttribute("aria-label", `Progress of ${photoId}`);
    card.prepend(thumbnail(`Photo ${photoId}`));
    return card;
  }

  render(photo) {
    const { card, upload } = photo;
    const uploading = upload && !photo.onServer;
    card.dataset.status = uploading ? `upload-${upload.state}` : photo.status;
    if (photo.onServer) setThumbnailImage(card.querySelector(".thumb"), this.imageUrl(photo.photoId));
    card.querySelector("progress").value = uploading ? Math.round(100 * upload.fraction) : (100 * rank(photo)) / (STAGES.length + 1);
    for (const item of card.querySelectorAll(".stages li")) {
      item.classList.toggle("done", rank(photo) > STAGES.indexOf(item.dataset.stage));
    }
    card.querySelector(".state").textContent = uploading ? uploadText(upload) : stateText(photo);
    const detections = photo.result?.detections ?? [];
    drawBoxes(card.querySelector(".thumb"), detections);
    card.querySelector(".numbers").replaceChildren(...detections.map(numberChip));
  }
}

function uploadText(upload) {
  if (upload.state === "failed") return `upload failed: ${upload.error}`;
  if (upload.state === "retrying") return `upload failed (${upload.error}), trying again`;
  return `uploading ${Math.round(100 * upload.fraction)}%`;
}

function stateText(photo) {
  if (photo.status === "failed") return `failed: ${photo.error}`;
  if (photo.status === "succeeded") return photo.result?.detections.length ? "read" : "no number read";
  return photo.stage ? `${photo.stage} done` : "queued";
}

function numberChip(detection) {
  const chip = document.createElement("li");
  chip.dataset.number = detection.number;
  const [r, g, b] = rgbOf(detection);
  chip.style.setProperty("--chip-color", `rgb(${r}, ${g}, ${b})`);
  chip.textContent = detection.number;
  const detail = document.createElement("small");
  detail.textContent = ` ${detection.color?.name ?? "no color"}, ${Math.round(100 * detection.confidence)}%`;
  chip.append(detail);
  return chip;
}
