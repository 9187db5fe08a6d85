// A photo with every number read drawn as a box in its detected color. Boxes are in pixels of
// the original photo; placing them in percent of its natural size keeps them right at any width.

/** The detection's color as [r, g, b]; a bright yellow when no color was measured. */
export function rgbOf(detection) {
  return detection.color?.rgb ?? [255, 212, 0];
}

/** A `.thumb` element; `src` may come later through setThumbnailImage. */
export function thumbnail(alt) {
  const thumb = document.createElement("div");
  thumb.className = "thumb";
  const img = document.createElement("img");
  img.alt = alt;
  img.loading = "lazy";
  img.decoding = "async";
  img.addEventListener("load", () => placeBoxes(thumb));
  thumb.append(img);
  return thumb;
}

export function setThumbnailImage(thumb, src) {
  const img = thumb.querySelector("img");
  if (img.getAttribute("src") !== src) img.src = src;
}

/** Replaces the thumbnail's boxes with one per detection. */
export function drawBoxes(thumb, detections) {
  thumb.querySelectorAll(".box").forEach((box) => box.remove());
  for (const detection of detections) {
    const box = document.createElement("span");
    box.className = "box";
    box.dataset.box = JSON.stringify(detection.box);
    box.hidden = true; // until the image gives its natural size
    const [r, g, b] = rgbOf(detection);
    box.style.setProperty("--box-color", `rgb(${r}, ${g}, ${b})`);
    // Dark text on light bibs, light text on dark ones.
    box.style.setProperty("--label-color", 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#000" : "#fff");
    const label = document.createElement("span");
    label.className = "box-label";
    label.textContent = detection.number;
    box.append(label);
    thumb.append(box);
  }
  placeBoxes(thumb);
}

function placeBoxes(thumb) {
  const img = thumb.querySelector("img");
  if (!img.complete || !img.naturalWidth) return; // placed on load
  const { naturalWidth: width, naturalHeight: height } = img;
  for (const box of thumb.querySelectorAll(".box")) {
    const { x, y, w, h } = JSON.parse(box.dataset.box);
    Object.assign(box.style, {
      left: `${(100 * x) / width}%`,
      top: `${(100 * y) / height}%`,
      width: `${(100 * w) / width}%`,
      height: `${(100 * h) / height}%`,
    });
    box.hidden = false;
  }
}
