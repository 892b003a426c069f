// The signed-in session: the token (sessionStorage only), its expiry, renewal while the
// officer is active, a warning before it ends when idle, and the hooks the shell fills in
// (the re-login dialog, the expiry warning, sign-out).
const KEY = "lec.session";
const RENEW_BEFORE = 5 * 60 * 1000; // renew when the token has less than this left...
const ACTIVE_WITHIN = 5 * 60 * 1000; // ...and the officer clicked or typed within this
const WARN_BEFORE = 2 * 60 * 1000; // idle: warn this long before the end

export const session = {
  token: null,
  expiresAt: 0, // ms since epoch
  user: null, // {id, username, role, org_unit_id} from the token answer
  lastActivity: Date.now(),
  hooks: { relogin: null, warn: null, expired: null },
};

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && saved.token && saved.expiresAt > Date.now()) Object.assign(session, saved);
  } catch (e) { /* a damaged entry: signed out */ }
}

export function signedIn() {
  return !!session.token;
}

// store a token answer ({access_token, expires_in, user}) of POST /auth/token or /auth/renew
export function store(answer) {
  session.token = answer.access_token;
  session.expiresAt = Date.now() + answer.expires_in * 1000;
  session.user = answer.user;
  sessionStorage.setItem(KEY, JSON.stringify({ token: session.token, expiresAt: session.expiresAt, user: session.user }));
  warned = false;
}

export function clear() {
  session.token = null;
  session.expiresAt = 0;
  session.user = null;
  sessionStorage.clear();
}

// sign-out: the server ends every token of the account (POST /auth/logout), and everything
// kept here is cleared at once, whether or not the server could be reached (the request is
// sent with keepalive, so a reload or a closed tab does not cancel it)
export function endSession() {
  const token = session.token;
  clear();
  if (!token) return Promise.resolve(false);
  return fetch("/api/v1/auth/logout", {
    method: "POST",
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    keepalive: true,
    cache: "no-store",
  }).then((r) => r.ok, () => false);
}

let renewing = null;
// POST /auth/renew with the current token; the new token (a promise shared by concurrent callers)
export function renewNow() {
  if (!session.token) return Promise.reject(new Error("signed out"));
  if (!renewing) {
    const used = session.token;
    renewing = fetch("/api/v1/auth/renew", {
      method: "POST",
      headers: { Accept: "application/json", Authorization: `Bearer ${used}` },
    }).then(async (r) => {
      if (!r.ok) throw Object.assign(new Error(`renew refused (${r.status})`), { status: r.status });
      const answer = await r.json();
      // signed out (or in again) meanwhile: the answer is not kept
      if (session.token !== used) throw new Error("signed out");
      store(answer);
      return answer.access_token;
    }).finally(() => { renewing = null; });
  }
  return renewing;
}

// after a 401: the shell's re-login dialog (resolves once signed in again; rejects when the
// officer signs out instead)
let relogging = null;
export function relogin() {
  if (!session.hooks.relogin) return Promise.reject(new Error("no re-login"));
  if (!relogging) relogging = session.hooks.relogin().finally(() => { relogging = null; });
  return relogging;
}

let warned = false;
function tick() {
  if (!session.token) return;
  const left = session.expiresAt - Date.now();
  const active = Date.now() - session.lastActivity < ACTIVE_WITHIN;
  if (left <= 0) {
    if (session.hooks.expired) session.hooks.expired();
    return;
  }
  if (left < RENEW_BEFORE && active) {
    renewNow().catch(() => { /* the next request's 401 opens the re-login dialog */ });
    return;
  }
  if (left < WARN_BEFORE && !active && !warned) {
    warned = true;
    if (session.hooks.warn) session.hooks.warn(left);
  }
}

function touch() {
  session.lastActivity = Date.now();
}

load();
for (const name of ["click", "keydown", "input", "touchstart"]) {
  document.addEventListener(name, touch, { capture: true, passive: true });
}
setInterval(tick, 15000);

// for the browser tests and for a console: renew now, and read the token's end
window.__lecSession = {
  renewNow,
  get expiresAt() { return session.expiresAt; },
  get token() { return session.token; },
  tick,
  // the warning shown before the token ends while the officer is idle, at once
  warnNow: () => { if (session.hooks.warn) session.hooks.warn(Math.max(0, session.expiresAt - Date.now())); },
};
