// The public API (/api/v1) for the pages: JSON calls, uploads with progress, downloads,
// and every refusal as a translated sentence.
import { t, has, lang } from "./i18n.js";
import { session, relogin } from "./session.js";

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, data) {
    const body = data && typeof data === "object" ? data : {};
    super(body.description || body.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code || (status === 0 ? "network" : "error");
    this.data = body;
    this.fields = fieldMessages(body.errors);
  }
}

function headersFor(extra, accept = "application/json") {
  const headers = { Accept: accept, ...(extra || {}) };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  return headers;
}

async function readError(r) {
  let data = null;
  try { data = await r.json(); } catch (e) { data = { code: r.status === 401 ? "unauthorized" : "error" }; }
  return new ApiError(r.status, data);
}

// A call that may meet a 401 (the token ended): the re-login dialog, then the call once more.
async function withSession(send, path, signal) {
  let r;
  try { r = await send(); } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, { code: "network", description: String(e.message || e) });
  }
  if (r.status === 401 && session.token && !path.startsWith("/auth/")) {
    await relogin(); // throws when the officer chose to sign out instead
    if (signal && signal.aborted) throw new DOMException("aborted", "AbortError");
    r = await send();
  }
  return r;
}

// api("GET", "/rounds") -> JSON; ApiError {status, code, data, fields} on a refusal
export async function api(method, path, body, { signal, headers } = {}) {
  const send = () => {
    const init = { method, headers: headersFor(headers), signal };
    if (body !== undefined && body !== null) {
      if (body instanceof FormData || body instanceof Blob) init.body = body;
      else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    }
    return fetch(BASE + path, init);
  };
  const r = await withSession(send, path, signal);
  if (!r.ok) throw await readError(r);
  if (r.status === 204) return null;
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

// a file sent as the request body, with progress: onProgress(fraction, "upload"|"processing")
export function upload(path, file, { onProgress, signal, method = "POST", contentType } = {}) {
  const type = contentType || file.type || (/\.xlsx$/i.test(file.name || "")
    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv");
  const sendOnce = () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, BASE + path);
    const headers = headersFor({ "Content-Type": type });
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (onProgress && e.lengthComputable) onProgress(e.total ? e.loaded / e.total : 1, "upload");
    };
    xhr.upload.onload = () => { if (onProgress) onProgress(1, "processing"); };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ApiError(0, { code: "network" }));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    if (signal) {
      if (signal.aborted) { reject(new DOMException("aborted", "AbortError")); return; }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    if (onProgress) onProgress(0, "upload");
    xhr.send(file);
  });
  const parse = (xhr) => {
    let data = null;
    try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { data = null; }
    if (xhr.status >= 200 && xhr.status < 300) return data;
    throw new ApiError(xhr.status, data || {});
  };
  return sendOnce().then(async (xhr) => {
    if (xhr.status === 401 && session.token) {
      await relogin();
      return parse(await sendOnce());
    }
    return parse(xhr);
  });
}

// save what a GET answers (a report, an export) as a file
export async function download(path, filename, accept = "text/csv", { signal } = {}) {
  const send = () => fetch(BASE + path, { headers: headersFor({}, accept), signal });
  const r = await withSession(send, path, signal);
  if (!r.ok) throw await readError(r);
  const blob = await r.blob();
  saveBlob(blob, filename);
  return blob;
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// -- messages ---------------------------------------------------------------------------------

// the server's field messages (marshmallow's and the services' own) -> catalogue keys
const FIELD_PATTERNS = [
  [/^Missing data for required field\.?$/i, "fieldmsg.required"],
  [/^Field may not be null\.?$/i, "fieldmsg.required"],
  [/^(Shorter than minimum length 1\.?|may not be empty|must not be empty|required)$/i, "fieldmsg.required"],
  [/^Not a valid (integer|number)\.?$/i, "fieldmsg.not_number"],
  [/^Not a valid (date|datetime)\.?$/i, "fieldmsg.not_date"],
  [/^Not a valid (string|boolean|email address|mapping type|list)\.?$/i, "fieldmsg.invalid"],
  [/^Not a valid \w+\.?$/i, "fieldmsg.invalid"],
  [/^Must be one of: .*$/i, "fieldmsg.one_of"],
  [/^Unknown field\.?$/i, "fieldmsg.unknown"],
  [/^Length must be between (?<min>\d+) and (?<max>\d+)\.?$/i, "fieldmsg.length_between"],
  [/^Shorter than minimum length (?<min>\d+)\.?$/i, "fieldmsg.min_length"],
  [/^Longer than maximum length (?<max>\d+)\.?$/i, "fieldmsg.max_length"],
  [/^Must be greater than or equal to (?<min>[\d.-]+)( and less than or equal to (?<max>[\d.-]+))?\.?$/i, "fieldmsg.range"],
  [/^Must be less than or equal to (?<max>[\d.-]+)\.?$/i, "fieldmsg.max"],
  [/^must be an integer$/i, "fieldmsg.not_number"],
  [/^wrong password$/i, "fieldmsg.wrong_password"],
  [/^this is one of the most commonly used passwords/i, "fieldmsg.password_common"],
  [/^this password is too easy to guess/i, "fieldmsg.password_weak"],
  [/^username already taken$/i, "fieldmsg.username_taken"],
];

// pages add the patterns of their own services' messages: registerFieldPattern(/^.../, "key")
export function registerFieldPattern(pattern, key) {
  FIELD_PATTERNS.unshift([pattern, key]);
}

// one server message about a field, in the current language (as sent when unknown)
export function fieldText(message) {
  const text = typeof message === "string" ? message : JSON.stringify(message);
  for (const [pattern, key] of FIELD_PATTERNS) {
    const m = pattern.exec(text);
    if (m) return t(key, m.groups || {});
  }
  return text;
}

function fieldMessages(errors) {
  const out = {};
  if (!errors || typeof errors !== "object") return out;
  for (const [field, messages] of Object.entries(errors)) {
    const list = Array.isArray(messages) ? messages : [messages];
    out[field] = list.map((m) => (m && typeof m === "object" && !Array.isArray(m)
      ? Object.entries(m).map(([k, v]) => `${k}: ${[].concat(v).map(fieldText).join(" ")}`).join("; ")
      : fieldText(m))).join(" ");
  }
  return out;
}

// a field's label for messages: field.<name> when catalogued, else the name
export function fieldLabel(name) {
  return has(`field.${name}`) ? t(`field.${name}`) : name;
}

// one translated sentence for a refusal (or a failure to reach the server)
export function errorText(error) {
  if (!error) return "";
  if (error.name === "AbortError") return "";
  if (!(error instanceof ApiError)) return t("error.unexpected");
  const data = error.data || {};
  const code = error.code;
  if (code === "rate_limited" && data.locked) return t("error.account_locked");
  if (code === "rate_limited" && data.retry_after) return t("error.rate_limited_wait", { seconds: data.retry_after });
  if (code === "validation_error" && Object.keys(error.fields).length) {
    const parts = Object.entries(error.fields).map(([f, m]) => (f === "_body" || f === "_schema" ? m : `${fieldLabel(f)}: ${m}`));
    return t("error.validation_fields", { fields: parts.join("; ") });
  }
  if (code === "children_not_confirmed" && Array.isArray(data.pending)) {
    return t("error.children_not_confirmed_n", { count: data.pending.length });
  }
  if (has(`error.${code}`)) return t(`error.${code}`);
  // an unknown code: the server's words in English, a general sentence in Thai
  return lang() === "en" && error.message ? error.message : t("error.unexpected_status", { status: error.status });
}
