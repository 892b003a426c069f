// The portal shell: sign-in, header, breadcrumb, round selection, the viewed unit's window,
// the tabs of the pages that apply, and the session (renewal, re-login, sign-out).
// Routes: #/u/<unitId>/<pageId>.
import "./core/messages.js";
import { t, lang, setLang } from "./core/i18n.js";
import { session, store, endSession, signedIn, renewNow, relogin } from "./core/session.js";
import { api, errorText } from "./core/api.js";
import { el, field, formErrors, clearErrors, openDialog, notice, loading, errorState, badge, button, onSubmit, tx } from "./core/ui.js";
import { deadlineText, countdown, formatDateTime } from "./core/dates.js";
import pageModules from "./pages/index.js";

const LEVELS = ["institution", "lao", "province", "department"];
const pages = pageModules.flat().filter(Boolean).sort((a, b) => (a.order ?? 100) - (b.order ?? 100));

const state = {
  me: null, // GET /me
  rounds: [],
  roundId: null,
  unit: null, // the viewed unit
  window: null, // the round's window for the viewed unit
  notices: null, // how many notices wait for the user's unit (GET /me/notices)
  units: new Map(), // id -> unit (breadcrumb names)
  controller: null, // aborts what the previous view was loading
  generation: 0,
};

const $ = (id) => document.getElementById(id);
const main = () => $("main");

// -- static texts, header, footer ----------------------------------------------------------------

function applyStaticTexts() {
  document.title = `${t("app.short")} — ${t("app.name")}`;
  const skip = document.querySelector(".skip-link");
  if (skip) skip.textContent = t("app.skip");
  const footer = $("footer");
  footer.replaceChildren(el("p", {}, t("app.footer")), el("p", {}, el("a", { href: "/api/v1/openapi.json" }, t("app.api_doc"))));
}

function langSwitch() {
  return el("div", { class: "lang-switch", role: "group", "aria-label": t("lang.switch") },
    ["th", "en"].map((code) => el("button", {
      type: "button", class: "lang", lang: code, "aria-pressed": String(lang() === code),
      onclick: () => setLang(code),
    }, t(`lang.${code}`))));
}

function renderHeader() {
  const header = $("header");
  const brand = el("div", { class: "brand" },
    el("span", { class: "brand-mark" }, t("app.short")), " ", el("span", { class: "brand-name" }, t("app.name")));
  const tools = el("div", { class: "header-tools" }, langSwitch());
  if (state.me) {
    const me = state.me;
    const unitName = me.org_unit ? me.org_unit.name : "";
    const account = el("details", { class: "account" },
      el("summary", {}, el("span", { class: "account-name", translate: "no" }, me.username),
        el("span", { class: "account-unit", translate: "no" }, unitName),
        el("span", { class: "account-level" }, t(`level.${me.role}`))),
      el("div", { class: "account-panel" },
        el("dl", {},
          el("dt", {}, t("header.user")), el("dd", { translate: "no" }, me.username),
          el("dt", {}, t("shell.your_unit")), el("dd", { translate: "no" }, unitName),
          el("dt", {}, t("header.level")), el("dd", {}, t(`level.${me.role}`))),
        el("div", { class: "actions" },
          el("button", { type: "button", class: "button secondary", id: "change-password", onclick: changePasswordDialog }, t("header.change_password")),
          el("button", { type: "button", class: "button secondary", id: "sign-out", onclick: () => signOut() }, t("header.sign_out")))));
    tools.append(noticesBell(), account);
  }
  header.replaceChildren(brand, tools);
}

// the bell: how many notices wait for the user's unit, a link to the notices page
function noticesBell() {
  const n = state.notices || 0;
  return el("div", { id: "notices-bell", class: "lang-switch notices-bell" },
    el("a", { class: "lang", href: `#/u/${state.me.org_unit_id}/notices`, title: n ? t("notices.bell", { n }) : t("notices.bell_none") },
      t("notices.title"), " ", el("span", { class: `badge ${n ? "state-pending" : "state-closed"} notices-count` }, String(n))));
}

async function refreshNotices() {
  try {
    const answer = await api("GET", "/me/notices");
    showNotices(answer.total);
  } catch (e) { /* the bell keeps its last count */ }
}

function showNotices(total) {
  state.notices = total;
  const bell = $("notices-bell");
  if (bell && state.me) bell.replaceWith(noticesBell());
}

// -- sign-in -------------------------------------------------------------------------------------

function renderLogin(message, kind = "info") {
  renderHeader();
  const username = el("input", { name: "username", id: "login-username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const password = el("input", { name: "password", id: "login-password", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { id: "login-form", class: "form narrow", novalidate: true },
    field({ label: t("login.username"), name: "username", input: username }),
    field({ label: t("login.password"), name: "password", input: password }),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("login.submit"))),
    el("p", { class: "hint" }, t("login.help")));
  onSubmit(form, async () => {
    clearErrors(form);
    const missing = {};
    if (!username.value.trim()) missing.username = t("fieldmsg.required_named", { field: t("login.username") });
    if (!password.value) missing.password = t("fieldmsg.required_named", { field: t("login.password") });
    if (Object.keys(missing).length) { formErrors(form, missing); return; }
    try {
      const answer = await api("POST", "/auth/token", { username: username.value.trim(), password: password.value });
      password.value = "";
      store(answer);
      await startApp();
    } catch (e) {
      password.value = "";
      formErrors(form, {}, [signInError(e)]);
    }
  });
  main().replaceChildren(
    el("div", { id: "notice", class: "notice-region" }),
    el("section", { class: "login", "aria-labelledby": "login-title" },
      el("h1", { id: "login-title" }, t("login.title")),
      el("p", { class: "lead" }, t("login.lead")),
      form));
  if (message) notice(message, kind);
  main().dataset.ready = "true";
  main().dataset.view = "login";
  window.__lecRendered = (window.__lecRendered || 0) + 1;
  username.focus();
}

function signInError(e) {
  if (e && e.code === "unauthorized") return t("login.inactive");
  return errorText(e);
}

// -- the signed-in shell -------------------------------------------------------------------------

async function startApp() {
  main().dataset.ready = "false";
  main().dataset.view = "app";
  main().replaceChildren(loading());
  try {
    state.me = await api("GET", "/me");
    const rounds = await api("GET", "/rounds?limit=1000");
    state.rounds = rounds.items || [];
    state.roundId = await defaultRound();
  } catch (e) {
    if (!signedIn()) return; // signed out meanwhile
    main().replaceChildren(errorState(errorText(e)), button(t("action.retry"), () => startApp(), { kind: "primary" }));
    main().dataset.ready = "true";
    window.__lecRendered = (window.__lecRendered || 0) + 1;
    return;
  }
  renderHeader();
  renderFrame();
  refreshNotices();
  if (!parseHash()) history.replaceState(null, "", `#/u/${state.me.org_unit_id}/${pagesFor(state.me.org_unit)[0]?.id || "overview"}`);
  await navigate({ clearNotice: false });
}

// the round open for the user's unit with the nearest deadline; else the latest round
async function defaultRound() {
  const saved = Number(sessionStorage.getItem("lec.round"));
  if (saved && state.rounds.some((r) => r.id === saved)) return saved;
  const candidates = state.rounds.filter((r) => r.state === "open" || r.state === "scheduled");
  const windows = await Promise.all(candidates.map((r) => api("GET", `/rounds/${r.id}/window`).catch(() => null)));
  const open = windows.filter((w) => w && w.open).sort((a, b) => new Date(a.closes_at) - new Date(b.closes_at));
  if (open.length) return open[0].round_id;
  const latest = [...state.rounds].sort((a, b) => (b.academic_year - a.academic_year) || (b.number - a.number));
  return latest.length ? latest[0].id : null;
}

function currentRound() {
  return state.rounds.find((r) => r.id === state.roundId) || null;
}

// the round selector's options, from state.rounds (newest first)
function fillRounds(select) {
  select.replaceChildren(...(state.rounds.length
    ? [...state.rounds].sort((a, b) => (b.academic_year - a.academic_year) || (b.number - a.number)).map((r) => el("option", { value: String(r.id) },
      `${t("shell.round_option", { year: r.academic_year, number: r.number })} · ${t(`state.${r.state}`)}`))
    : [el("option", { value: "" }, t("shell.no_rounds"))]));
  if (state.roundId) select.value = String(state.roundId);
}

function renderFrame() {
  const select = el("select", { id: "round-select", name: "round" });
  fillRounds(select);
  select.addEventListener("change", () => setRound(Number(select.value)));
  main().replaceChildren(
    el("div", { id: "notice", class: "notice-region" }),
    el("nav", { class: "breadcrumb", "aria-label": t("shell.breadcrumb") }, el("ol", { id: "breadcrumb" })),
    el("div", { class: "unit-head" },
      el("div", {}, el("h1", { id: "unit-title", translate: "no" }), el("p", { id: "unit-meta", class: "unit-meta" })),
      el("div", { class: "round-bar" },
        el("div", { class: "field round-field" }, el("label", { for: "round-select" }, t("shell.round")), select),
        el("div", { id: "window-info", class: "window-info", "aria-live": "polite" }))),
    el("nav", { class: "tabs", "aria-label": t("shell.tabs") }, el("ul", { id: "tabs" })),
    el("section", { id: "page", class: "page" }));
}

function setRound(id) {
  state.roundId = id || null;
  if (id) sessionStorage.setItem("lec.round", String(id));
  navigate({ clearNotice: true });
}

function parseHash() {
  const m = /^#\/u\/(\d+)(?:\/([\w-]+))?/.exec(location.hash);
  return m ? { unitId: Number(m[1]), pageId: m[2] || null } : null;
}

function pagesFor(unit) {
  if (!unit || !state.me) return [];
  const role = state.me.role;
  return pages.filter((p) => (!p.levels || p.levels.includes(role)) && (!p.unitTypes || p.unitTypes.includes(unit.type)));
}

async function getUnit(id, signal, fresh = false) {
  if (!fresh && state.units.has(id)) return state.units.get(id);
  const unit = await api("GET", `/org-units/${id}`, undefined, { signal });
  state.units.set(id, unit);
  return unit;
}

// the units from the user's own down to the viewed one (names, not ids)
async function trail(unit, signal) {
  const ids = unit.path.split("/").filter(Boolean).map(Number);
  const from = ids.indexOf(state.me.org_unit_id);
  const chain = from >= 0 ? ids.slice(from) : [unit.id];
  return Promise.all(chain.map((id) => (id === unit.id ? unit : getUnit(id, signal))));
}

function pageHref(unit, pageId) {
  const applies = pagesFor(unit).some((p) => p.id === pageId);
  return `#/u/${unit.id}/${applies ? pageId : (pagesFor(unit)[0]?.id || "overview")}`;
}

function renderContext(unit, chain, pageId) {
  const crumbs = $("breadcrumb");
  crumbs.parentElement.hidden = chain.length < 2; // one's own unit: its name is the heading
  crumbs.replaceChildren(...chain.map((u, i) => (i === chain.length - 1
    ? el("li", { "aria-current": "page", translate: "no" }, u.name)
    : el("li", {}, el("a", { href: pageHref(u, pageId), translate: "no" }, u.name)))));
  $("unit-title").textContent = unit.name;
  $("unit-meta").replaceChildren(el("span", {}, `${t(`type.${unit.type}`)} · ${t("overview.code")} `),
    el("span", { translate: "no" }, unit.code), ...(unit.status !== "active" ? [" ", badge(unit.status)] : []));
}

function renderTabs(list, current, unit) {
  $("tabs").replaceChildren(...list.map((p) => el("li", {},
    el("a", { href: `#/u/${unit.id}/${p.id}`, "aria-current": p === current ? "page" : null, dataset: { page: p.id } }, t(p.title)))));
}

function windowBadge(w) {
  if (!w) return null;
  if (w.open) return badge("open", t("shell.window_open"));
  if (w.opens_at && new Date(w.opens_at) > new Date()) return badge("scheduled", t("shell.window_scheduled"));
  return badge("closed", t("shell.window_closed"));
}

function renderWindow() {
  const box = $("window-info");
  if (!box) return;
  const w = state.window;
  if (!w) { box.replaceChildren(); return; }
  const parts = [windowBadge(w), " ", el("span", { class: "deadline" }, deadlineText(w.closes_at))];
  if (w.open) parts.push(" ", el("span", { class: "countdown", id: "countdown" }, countdown(w.closes_at)));
  else if (w.opens_at && new Date(w.opens_at) > new Date()) parts.push(" ", el("span", { class: "countdown" }, t("shell.opens", { when: formatDateTime(w.opens_at) })));
  if (w.extended) parts.push(" ", el("span", { class: "tag" }, t("shell.extended")));
  box.replaceChildren(...parts);
}

function makeCtx(unit, signal) {
  return {
    user: state.me,
    unit,
    round: currentRound(),
    rounds: state.rounds,
    window: state.window,
    signal,
    lang: lang(),
    refresh: () => navigate({ clearNotice: false, fresh: true, keepScroll: true }),
    go: (pageId, unitId = unit.id) => { location.hash = `#/u/${unitId}/${pageId}`; },
    setRound: (id) => { const s = $("round-select"); if (s) s.value = String(id); setRound(Number(id)); },
  };
}

// show the route's unit and page; whatever the previous view was still loading is aborted
async function navigate({ clearNotice = true, fresh = false, keepScroll = false } = {}) {
  if (!state.me) return;
  if (!$("page")) renderFrame();
  const route = parseHash() || { unitId: state.me.org_unit_id, pageId: null };
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const generation = ++state.generation;
  const { signal } = controller;
  const scroll = window.scrollY;
  const box = $("page");
  main().dataset.ready = "false";
  box.setAttribute("aria-busy", "true");
  box.replaceChildren(loading());
  if (clearNotice) notice(null);
  const stale = () => generation !== state.generation || signal.aborted;
  try {
    if (fresh) {
      refreshNotices(); // an action may have answered one
      // after an action: rounds may have been created or changed their state
      const rounds = await api("GET", "/rounds?limit=1000", undefined, { signal });
      if (stale()) return;
      state.rounds = rounds.items || [];
      fillRounds($("round-select"));
    }
    const round = currentRound();
    const [unit, w] = await Promise.all([
      getUnit(route.unitId, signal, fresh),
      round ? api("GET", `/rounds/${round.id}/window?org_unit_id=${route.unitId}`, undefined, { signal }).catch((e) => {
        if (e.name === "AbortError") throw e;
        return null;
      }) : null,
    ]);
    const chain = await trail(unit, signal);
    if (stale()) return;
    state.unit = unit;
    state.window = w;
    const list = pagesFor(unit);
    const page = list.find((p) => p.id === route.pageId) || (route.pageId ? null : list[0]);
    renderContext(unit, chain, page ? page.id : route.pageId);
    renderWindow();
    renderTabs(list, page, unit);
    if (!page) {
      box.replaceChildren(errorState(t("shell.not_found")));
      return;
    }
    document.title = `${t(page.title)} · ${unit.name} — ${t("app.short")}`;
    const node = await page.render(makeCtx(unit, signal));
    if (stale()) return;
    box.replaceChildren(node || "");
    if (keepScroll) window.scrollTo(0, scroll);
  } catch (e) {
    if (stale() || e.name === "AbortError") return;
    box.replaceChildren(errorState(t("shell.page_failed", { message: errorText(e) })),
      button(t("shell.retry"), () => navigate({ fresh: true }), { kind: "secondary" }));
  } finally {
    if (generation === state.generation) {
      box.removeAttribute("aria-busy");
      main().dataset.ready = "true";
      window.__lecRendered = (window.__lecRendered || 0) + 1;
    }
  }
}

// -- session: sign-out, re-login, expiry warning, own password -----------------------------------

function signOut(messageKey = "login.signed_out") {
  if (state.controller) state.controller.abort();
  for (const d of document.querySelectorAll("dialog")) { if (d.open) d.close(); d.remove(); }
  for (const f of document.querySelectorAll("form")) f.reset();
  for (const i of document.querySelectorAll("input, textarea")) {
    if (i.type === "checkbox" || i.type === "radio") i.checked = false; else if (i.type !== "submit" && i.type !== "button") i.value = "";
  }
  endSession(); // ends the session on the server too; a network failure changes nothing here
  Object.assign(state, { me: null, rounds: [], roundId: null, unit: null, window: null, controller: null, notices: null });
  state.units.clear();
  state.generation += 1;
  history.replaceState(null, "", location.pathname);
  renderLogin(t(messageKey), "info");
}

// after a 401: sign in again as the same account; the page and its forms stay as they are
function reloginDialog() {
  return new Promise((resolve, reject) => {
    const username = (session.user && session.user.username) || (state.me && state.me.username) || "";
    const password = el("input", { type: "password", name: "password", id: "relogin-password", autocomplete: "current-password", required: true });
    const form = el("form", { class: "form", novalidate: true },
      el("p", {}, tx("relogin.body", { username: el("strong", { translate: "no" }, username) })),
      el("input", { type: "text", name: "username", autocomplete: "username", value: username, hidden: true, readonly: true }),
      field({ label: t("login.password"), name: "password", input: password }),
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "button primary" }, t("relogin.submit")),
        el("button", { type: "button", class: "button secondary", id: "relogin-sign-out" }, t("relogin.sign_out"))));
    const d = openDialog({ title: t("relogin.title"), body: form, className: "relogin", onCancel: () => {} });
    form.querySelector("#relogin-sign-out").addEventListener("click", () => {
      d.close(false);
      reject(new Error("signed out"));
      signOut();
    });
    onSubmit(form, async () => {
      clearErrors(form);
      if (!password.value) { formErrors(form, { password: t("fieldmsg.required_named", { field: t("login.password") }) }); return; }
      try {
        const answer = await api("POST", "/auth/token", { username, password: password.value });
        password.value = "";
        store(answer);
        d.close(true);
        resolve();
      } catch (e) {
        password.value = "";
        formErrors(form, {}, [signInError(e)]);
      }
    });
    password.focus();
  });
}

let warning = null;
function expiryWarning() {
  if (warning || !signedIn()) return;
  const time = el("strong", { class: "expiry-time" });
  const update = () => {
    const left = Math.max(0, session.expiresAt - Date.now());
    const minutes = Math.floor(left / 60000);
    const seconds = Math.floor((left % 60000) / 1000);
    time.textContent = minutes ? t("dates.minutes_seconds", { minutes, seconds }) : t("dates.seconds", { seconds });
    if (left <= 0) finish(false);
  };
  const body = el("p", { "aria-live": "polite" });
  const stay = button(t("expiry.stay"), async () => {
    try { await renewNow(); finish(true); notice(t("expiry.renewed"), "ok"); } catch (e) { finish(false); }
  }, { kind: "primary", attrs: { id: "expiry-stay" } });
  const leave = el("button", { type: "button", class: "button secondary", onclick: () => { finish(true); signOut(); } }, t("header.sign_out"));
  const d = openDialog({ title: t("expiry.title"), body, actions: [stay, leave], className: "expiry", onCancel: () => {} });
  body.replaceChildren(...tx("expiry.body", { time }));
  const timer = setInterval(update, 1000);
  update();
  warning = d;
  function finish(ok) {
    clearInterval(timer);
    if (warning === d) warning = null;
    d.close(ok);
    if (!ok && signedIn()) relogin().catch(() => {});
  }
}

function expired() {
  if (warning) return; // its own countdown opens the re-login dialog
  relogin().catch(() => {});
}

function changePasswordDialog() {
  const current = el("input", { type: "password", name: "current_password", autocomplete: "current-password", required: true });
  const fresh = el("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: "8" });
  const repeat = el("input", { type: "password", name: "repeat_password", autocomplete: "new-password", required: true });
  const form = el("form", { class: "form", id: "password-form", novalidate: true },
    field({ label: t("password.current"), name: "current_password", input: current }),
    field({ label: t("password.new"), name: "new_password", input: fresh, hint: t("password.hint") }),
    field({ label: t("password.repeat"), name: "repeat_password", input: repeat }),
    el("p", { class: "hint" }, t("password.after")),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button primary" }, t("password.submit")),
      el("button", { type: "button", class: "button secondary", id: "password-cancel" }, t("action.cancel"))));
  const d = openDialog({ title: t("password.title"), body: form, className: "password" });
  form.querySelector("#password-cancel").addEventListener("click", () => d.close(false));
  onSubmit(form, async () => {
    clearErrors(form);
    const problems = {};
    if (!current.value) problems.current_password = t("fieldmsg.required_named", { field: t("password.current") });
    if (!fresh.value) problems.new_password = t("fieldmsg.required_named", { field: t("password.new") });
    else if (fresh.value !== repeat.value) problems.repeat_password = t("password.mismatch");
    if (Object.keys(problems).length) { formErrors(form, problems); return; }
    try {
      await api("POST", "/me/password", { current_password: current.value, new_password: fresh.value });
      d.close(true);
      signOut("login.password_changed");
    } catch (e) {
      if (!formErrors(form, e)) formErrors(form, {}, [errorText(e)]);
    }
  });
  current.focus();
  const menu = document.querySelector("details.account");
  if (menu) menu.open = false;
}

// -- boot ----------------------------------------------------------------------------------------

function boot() {
  session.hooks.relogin = reloginDialog;
  session.hooks.warn = expiryWarning;
  session.hooks.expired = expired;
  applyStaticTexts();
  window.addEventListener("hashchange", () => { if (state.me) navigate(); });
  window.addEventListener("lec:notices", (e) => showNotices(e.detail.total));
  window.addEventListener("lec:lang", () => {
    applyStaticTexts();
    if (state.me) {
      renderHeader();
      const region = $("notice");
      const kept = region ? [...region.childNodes] : [];
      renderFrame();
      if (kept.length) $("notice").append(...kept);
      navigate({ clearNotice: false, keepScroll: true });
    } else {
      renderLogin();
    }
    const switcher = document.querySelector(`.lang-switch button[lang="${lang()}"]`);
    if (switcher) switcher.focus();
  });
  setInterval(() => {
    const c = $("countdown");
    if (c && state.window) c.textContent = countdown(state.window.closes_at);
  }, 30000);
  if (signedIn()) startApp(); else renderLogin();
}

boot();

export { LEVELS };
