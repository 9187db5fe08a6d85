// The Worker's HTTP API as the dashboard uses it: same origin, JSON answers.

const PHOTO_TYPES = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

/** The content type to upload a file with, or null when it is not a JPEG, PNG or WebP. */
export function photoType(file) {
  if (Object.values(PHOTO_TYPES).includes(file.type)) return file.type;
  // Folders dropped from some systems give files no type: judge by the extension.
  return PHOTO_TYPES[file.name.split(".").pop().toLowerCase()] ?? null;
}

/** The photo's id from its file name, so uploading the same file again is idempotent. */
export function photoIdFor(fileName) {
  return fileName.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

export class Api {
  constructor(eventId, { apiToken, subscribeToken }) {
    this.eventId = eventId;
    this.apiToken = apiToken;
    this.subscribeToken = subscribeToken;
  }

  /** A read URL of this event; reads carry the subscribe token when there is one. */
  url(rest = "", params = {}) {
    const query = new URLSearchParams(params);
    if (this.subscribeToken) query.set("token", this.subscribeToken);
    const search = query.toString();
    return `/events/${this.eventId}${rest}${search ? `?${search}` : ""}`;
  }

  socketUrl(since) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${this.url("/ws", { since })}`;
  }

  imageUrl(photoId) {
    return this.url(`/photos/${photoId}/image`);
  }

  status() {
    return getJson(this.url());
  }

  photoPage(cursor) {
    return getJson(this.url("/photos", { limit: 50, ...(cursor ? { cursor } : {}) }));
  }

  photo(photoId) {
    return getJson(this.url(`/photos/${photoId}`));
  }

  findNumber(number) {
    return getJson(this.url("/photos", { number }));
  }

  /**
   * Uploads one photo; XMLHttpRequest because fetch reports no upload progress.
   * Resolves with the HTTP status and the JSON answer, whatever the status.
   */
  upload(file, photoId, contentType, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/events/${this.eventId}/photos`);
      xhr.setRequestHeader("authorization", `Bearer ${this.apiToken}`);
      xhr.setRequestHeader("content-type", contentType);
      xhr.setRequestHeader("x-photo-id", photoId);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onload = () => resolve({ status: xhr.status, body: parseJson(xhr.responseText) });
      xhr.onerror = () => reject(new Error("the connection failed"));
      xhr.send(file);
    });
  }
}

async function getJson(url) {
  const response = await fetch(url);
  const body = parseJson(await response.text());
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { error: text || "no answer" };
  }
}
