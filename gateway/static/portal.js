// The portal: a thin page over the public API (/api/v1). Each panel is a
// function (unit, round) -> element, so that other parts can add their own.
"use strict";
const API = "/api/v1";
const state = { token: sessionStorage.getItem("lec.token"), user: null, round: null, rounds: [] };
const panels = [];
window.LEC = { api, panels, el, state, explain, openUnit };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && path !== "/auth/token") { logout(); throw new Error("session expired"); }
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) { const e = new Error(data.description || data.title); e.data = data; throw e; }
  return data;
}

// an API refusal as one line: the field messages of a validation_error, else its description
function explain(e) {
  const errors = e.data && e.data.errors;
  return errors ? Object.entries(errors).map(([f, m]) => `${f}: ${[].concat(m).join(" ")}`).join("; ") : e.message;
}

function logout() { sessionStorage.removeItem("lec.token"); state.token = null; show(); }

document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const t = await api("POST", "/auth/token", { username: f.get("username"), password: f.get("password") });
    state.token = t.access_token; sessionStorage.setItem("lec.token", t.access_token);
    document.getElementById("login-error").textContent = "";
    show();
  } catch (e) { document.getElementById("login-error").textContent = e.message; }
});

async function show() {
  const loggedIn = !!state.token;
  document.getElementById("login-view").hidden = loggedIn;
  document.getElementById("app-view").hidden = !loggedIn;
  const who = document.getElementById("who"); who.replaceChildren();
  if (!loggedIn) return;
  state.user = await api("GET", "/me");
  who.append(`${state.user.username} · ${state.user.role} · ${state.user.org_unit.name} `,
    passwordForm(), el("button", { class: "secondary", onclick: logout }, "Sign out"));
  const rounds = await api("GET", "/rounds?limit=100");
  state.rounds = rounds.items;
  const sel = document.getElementById("round-select"); sel.replaceChildren();
  for (const r of rounds.items) sel.append(el("option", { value: r.id }, `${r.academic_year}/${r.number} (${r.state})`));
  state.round = rounds.items.find((r) => r.state === "open") || rounds.items[0] || null;
  if (state.round) sel.value = state.round.id;
  sel.onchange = () => { state.round = state.rounds.find((r) => r.id == sel.value); openUnit(state.current.id); };
  openUnit(state.user.org_unit_id);
}

// one's own password: the current one is required; afterwards every token of
// the account (this one included) has ended, so sign in again
function passwordForm() {
  const msg = el("span", { class: "error" });
  const form = el("form", { class: "inline", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      await api("POST", "/me/password", { current_password: f.get("current"), new_password: f.get("new") });
      alert("เปลี่ยนรหัสผ่านแล้ว กรุณาเข้าสู่ระบบใหม่ · Password changed: sign in again");
      logout();
    } catch (e) { msg.textContent = explain(e); }
  } },
  el("input", { name: "current", type: "password", placeholder: "current", autocomplete: "current-password", required: "" }),
  el("input", { name: "new", type: "password", placeholder: "new (8+)", autocomplete: "new-password", minlength: "8", required: "" }),
  el("button", { type: "submit" }, "Change"), msg);
  return el("details", { class: "password" }, el("summary", {}, "Password"), form);
}

async function openUnit(id) {
  const unit = await api("GET", `/org-units/${id}`);
  state.current = unit;
  const crumbs = document.getElementById("breadcrumbs"); crumbs.replaceChildren();
  const ids = unit.path.split("/").filter(Boolean).map(Number);
  const mineAt = ids.indexOf(state.user.org_unit_id);
  for (const pid of ids.slice(mineAt)) crumbs.append(el("a", { href: "#", onclick: (e) => { e.preventDefault(); openUnit(pid); } }, `#${pid}`), " › ");
  const box = document.getElementById("unit"); box.replaceChildren(
    el("h2", {}, unit.name, " ", el("span", { class: "badge " + unit.status }, unit.status)),
    el("p", { class: "muted" }, `${unit.type} · code ${unit.code}` + (unit.affiliation ? ` · ${unit.affiliation}` : "")));
  const ws = document.getElementById("window-state"); ws.textContent = "";
  if (state.round) {
    try {
      const w = await api("GET", `/rounds/${state.round.id}/window?org_unit_id=${unit.id}`);
      ws.replaceChildren("window: ", el("span", { class: "badge " + w.state }, w.state), ` until ${new Date(w.closes_at).toLocaleString("th-TH")}`);
    } catch (e) { ws.textContent = ""; }
  }
  const area = document.getElementById("panels"); area.replaceChildren();
  for (const panel of [childrenPanel, ...panels]) {
    try { const node = await panel(unit, state.round); if (node) area.append(node); }
    catch (e) { area.append(el("p", { class: "error" }, e.message)); }
  }
}

async function childrenPanel(unit) {
  if (["school", "cdc", "other_school"].includes(unit.type)) return null;
  const list = await api("GET", `/org-units/${unit.id}/children?limit=1000`);
  const rows = list.items.map((c) => el("tr", {},
    el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openUnit(c.id); } }, c.name)),
    el("td", {}, c.type), el("td", {}, c.code), el("td", {}, el("span", { class: "badge " + c.status }, c.status))));
  return el("div", {}, el("h3", {}, `Units (${list.total})`),
    el("table", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Type"), el("th", {}, "Code"), el("th", {}, "Status")), rows));
}

show().catch((e) => console.error(e));
