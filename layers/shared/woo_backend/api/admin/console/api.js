// The admin API from the page: the bearer and the admin's name live in sessionStorage only (gone with the tab),
// every failure becomes an ApiError carrying the API's own words (error.message), never its JSON.

const KEY = "woo-admin-key";
const NAME = "woo-admin-name";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get name() { return sessionStorage.getItem(NAME) || ""; },
  start(key, name) {
    sessionStorage.setItem(KEY, key);
    if (name) sessionStorage.setItem(NAME, name); else sessionStorage.removeItem(NAME);
  },
  // A refused key is forgotten; the name typed with it stays for the next try.
  forget() { sessionStorage.removeItem(KEY); },
  end() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(NAME);
  },
};

// Called when the API refuses the key (401): the app goes back to the login screen with the message.
let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

function query(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

async function describe(response) {
  // The API answers {"error": {"code", "message"}}; API Gateway itself answers {"message"}; anything else
  // (an HTML error page, a proxy) is summarised by its status, never shown raw.
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  const error = body && typeof body === "object" ? body.error : null;
  if (error && typeof error.message === "string") {
    return new ApiError(response.status, error.code || "error", error.message);
  }
  if (body && typeof body.message === "string") return new ApiError(response.status, "error", body.message);
  return new ApiError(response.status, "error", `The server answered ${response.status} ${response.statusText}`.trim());
}

export async function request(method, path, { params, body, headers } = {}) {
  const sent = { Accept: "application/json", ...(headers || {}) };
  if (session.key) sent.Authorization = `Bearer ${session.key}`;
  if (method !== "GET" && session.name) sent["X-Admin-User"] = session.name;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path + query(params), {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network", "The service could not be reached. Check your connection and try again.");
  }
  if (!response.ok) {
    const error = await describe(response);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  post: (path, body, headers) => request("POST", path, { body, headers }),
  patch: (path, body) => request("PATCH", path, { body }),
  delete: (path) => request("DELETE", path),
};

// An Idempotency-Key: randomUUID where the page is a secure context (https, localhost), else the same v4
// shape from getRandomValues (available everywhere).
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const enc = encodeURIComponent;
