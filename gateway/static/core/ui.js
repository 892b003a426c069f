// DOM helpers and the components every page uses (GOV.UK Design System patterns).
import { t, num } from "./i18n.js";
import { fieldLabel } from "./api.js";

// el("a", {href, class, onclick, dataset: {id: 1}}, "text", node, [more])
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "class") node.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "text") node.textContent = v;
    else if (k === "value" && "value" in node) node.value = v;
    else if (k === "checked" || k === "disabled" || k === "hidden" || k === "selected" || k === "required") node[k] = !!v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// a translated sentence whose {placeholders} are nodes (user data marked translate="no"):
// tx("relogin.body", {username: el("strong", {translate: "no"}, name)})
export function tx(key, nodes = {}) {
  const marks = {};
  for (const name of Object.keys(nodes)) marks[name] = `\u0000${name}\u0000`;
  return t(key, marks).split("\u0000").map((part, i) => (i % 2 === 1 && part in nodes ? nodes[part] : part));
}

let ids = 0;
export function uid(prefix = "x") {
  ids += 1;
  return `${prefix}-${ids}`;
}

// a table that becomes cards below 640 px (each cell carries its column's label)
export function dataTable({ columns, rows, empty, caption, onSort, sort, rowAttrs }) {
  if (!rows || rows.length === 0) return emptyState(empty || t("common.empty"));
  const head = el("tr", {}, columns.map((c) => {
    const attrs = { scope: "col", class: c.num ? "num" : null };
    if (c.sort && onSort) {
      const dir = sort && sort.key === c.key ? sort.dir : null;
      attrs["aria-sort"] = dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none";
      return el("th", attrs, el("button", {
        type: "button", class: "sort",
        onclick: () => onSort(c.key, dir === "asc" ? "desc" : "asc"),
      }, c.label, el("span", { class: "sort-mark", "aria-hidden": "true" }, dir === "asc" ? " ▲" : dir === "desc" ? " ▼" : " ↕")));
    }
    return el("th", attrs, c.label);
  }));
  const body = rows.map((row) => el("tr", rowAttrs ? rowAttrs(row) : {}, columns.map((c, i) => {
    const value = c.render ? c.render(row) : row[c.key];
    const shown = value === null || value === undefined || value === "" ? "–" : (c.num && typeof value === "number" ? num(value) : value);
    return el(i === 0 ? "th" : "td", { "data-label": c.label, class: c.num ? "num" : null, scope: i === 0 ? "row" : null }, shown);
  })));
  return el("div", { class: "table-wrap" },
    el("table", { class: "data" }, caption ? el("caption", {}, caption) : null, el("thead", {}, head), el("tbody", {}, body)));
}

// a labelled field: <label for>, hint, error beside it (aria-describedby)
export function field({ label, name, input, hint, error, optional }) {
  const id = input.id || `f-${name || uid("field")}`;
  input.id = id;
  if (name && !input.name) input.name = name;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [];
  const hintNode = hint ? el("p", { class: "hint", id: hintId }, hint) : null;
  if (hint) described.push(hintId);
  const errorNode = el("p", { class: "field-error", id: errorId, hidden: !error }, error || "");
  if (error) { described.push(errorId); input.setAttribute("aria-invalid", "true"); }
  if (described.length) input.setAttribute("aria-describedby", described.join(" "));
  const wrap = el("div", { class: ["field", error ? "has-error" : null], dataset: { field: input.name || name || "" } },
    el("label", { for: id }, label, optional ? el("span", { class: "optional" }, ` (${t("common.optional")})`) : null),
    hintNode, errorNode, input);
  return wrap;
}

// clear what formErrors showed
export function clearErrors(form) {
  form.querySelectorAll(".error-summary").forEach((n) => n.remove());
  form.querySelectorAll(".field.has-error").forEach((f) => {
    f.classList.remove("has-error");
    const err = f.querySelector(".field-error");
    if (err) { err.hidden = true; err.textContent = ""; }
    const input = f.querySelector("input, select, textarea");
    if (input) {
      input.removeAttribute("aria-invalid");
      const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.endsWith("-error"));
      if (rest.length) input.setAttribute("aria-describedby", rest.join(" ")); else input.removeAttribute("aria-describedby");
    }
  });
}

// A GOV.UK error summary at the top of the form (links to the fields) and each field's
// message beside it. `apiError.fields` (field -> message) or a plain {field: message};
// `extra` lines (strings) go in the summary too. True when it showed something.
export function formErrors(form, apiError, extra = []) {
  clearErrors(form);
  const fields = (apiError && (apiError.fields || apiError)) || {};
  const items = [];
  for (const [name, message] of Object.entries(fields)) {
    if (!message || typeof message !== "string") continue;
    const wrap = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    const input = wrap ? wrap.querySelector("input, select, textarea") : form.querySelector(`[name="${CSS.escape(name)}"]`);
    const label = wrap ? wrap.querySelector("label").firstChild.textContent : fieldLabel(name);
    if (wrap) {
      wrap.classList.add("has-error");
      const err = wrap.querySelector(".field-error");
      err.textContent = message;
      err.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const d = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (!d.includes(err.id)) d.push(err.id);
        input.setAttribute("aria-describedby", d.join(" "));
      }
    }
    const text = name === "_body" || name === "_schema" ? message : `${label}: ${message}`;
    items.push(input && input.id
      ? el("li", {}, el("a", { href: `#${input.id}`, onclick: (e) => { e.preventDefault(); input.focus(); } }, text))
      : el("li", {}, text));
  }
  for (const line of extra) if (line) items.push(el("li", {}, line));
  if (!items.length) return false;
  const summary = el("div", { class: "error-summary", role: "alert", tabindex: "-1" },
    el("h2", { class: "error-summary-title" }, t("common.error_summary")),
    el("ul", {}, items));
  form.prepend(summary);
  summary.focus();
  return true;
}

// -- dialogs ----------------------------------------------------------------------------------

function dialogHost() {
  return document.getElementById("dialogs") || document.body;
}

// a modal <dialog> with the given content; returns {dialog, close(value)} and a promise of the value
export function openDialog({ title, body, actions = [], labelledBy, onCancel, className }) {
  const previous = document.activeElement;
  const titleId = uid("dlg-title");
  const dialog = el("dialog", { class: ["dialog", className], "aria-labelledby": labelledBy || titleId },
    title ? el("h2", { id: titleId }, title) : null, body, actions.length ? el("div", { class: "actions" }, actions) : null);
  let resolve;
  const result = new Promise((r) => { resolve = r; });
  const close = (value) => {
    if (dialog.open) dialog.close();
    dialog.remove();
    if (previous && previous.focus && document.contains(previous)) previous.focus();
    resolve(value);
  };
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); if (onCancel) onCancel(); else close(false); });
  dialogHost().append(dialog);
  dialog.showModal();
  return { dialog, close, result };
}

// "are you sure?": resolves false, true, or {reason} when a reason is asked for
export function confirmDialog({ title, body, confirmLabel, cancelLabel, danger = false, reason = null }) {
  const errorId = uid("reason-error");
  let reasonInput = null;
  let reasonField = null;
  if (reason) {
    reasonInput = reason.options
      ? el("select", { name: "reason" }, el("option", { value: "" }, t("common.choose")),
        reason.options.map((o) => el("option", { value: o.value }, o.label)))
      : el("textarea", { name: "reason", rows: "3" });
    if (reason.required) reasonInput.required = true;
    reasonField = field({ label: reason.label, name: "reason", input: reasonInput, hint: reason.hint });
  }
  const errorLine = el("p", { class: "field-error", id: errorId, hidden: true, role: "alert" });
  const form = el("form", { method: "dialog", class: "dialog-form" },
    typeof body === "string" ? el("p", {}, body) : body, reasonField, errorLine);
  const ok = el("button", { type: "submit", class: ["button", danger ? "danger" : "primary"] }, confirmLabel || t("action.confirm"));
  const cancel = el("button", { type: "button", class: "button secondary" }, cancelLabel || t("action.cancel"));
  form.append(el("div", { class: "actions" }, ok, cancel));
  const d = openDialog({ title, body: form });
  cancel.addEventListener("click", () => d.close(false));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (reasonInput) {
      const value = reasonInput.value.trim();
      if (reason.required && !value) {
        errorLine.textContent = t("fieldmsg.required_named", { field: reason.label });
        errorLine.hidden = false;
        reasonInput.setAttribute("aria-invalid", "true");
        reasonInput.focus();
        return;
      }
      d.close({ reason: value });
      return;
    }
    d.close(true);
  });
  (reasonInput || ok).focus();
  return d.result;
}

// -- status -----------------------------------------------------------------------------------

// one polite message at the top of main, replacing the one before
export function notice(message, kind = "ok") {
  const region = document.getElementById("notice");
  if (!region) return;
  region.replaceChildren();
  if (!message) return;
  const box = el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("p", {}, message),
    el("button", { type: "button", class: "notice-close", "aria-label": t("action.close"), onclick: () => region.replaceChildren() }, "×"));
  region.append(box);
}

export function loading(label) {
  return el("div", { class: "loading", role: "status", "aria-live": "polite" },
    el("span", { class: "spinner", "aria-hidden": "true" }), el("span", {}, label || t("common.loading")));
}

export function emptyState(text) {
  return el("div", { class: "empty" }, el("p", {}, text || t("common.empty")));
}

export function errorState(text) {
  return el("div", { class: "notice error", role: "alert" }, el("p", {}, text));
}

// a real progress bar: set(fraction 0..1 or null for "working", label)
export function progressBar(label) {
  const bar = el("progress", { max: "100", value: "0" });
  const text = el("span", { class: "progress-label" }, label || "");
  const labelId = uid("progress");
  text.id = labelId;
  bar.setAttribute("aria-labelledby", labelId);
  const node = el("div", { class: "progress" }, text, bar);
  return {
    node,
    set(fraction, newLabel) {
      if (fraction === null || fraction === undefined) bar.removeAttribute("value");
      else bar.value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      if (newLabel !== undefined) text.textContent = newLabel;
    },
  };
}

// a coloured state word: badge("open") -> t("state.open")
export function badge(state, label) {
  return el("span", { class: `badge state-${state}` }, label || t(`state.${state}`));
}

// a button whose async onclick disables it until it finishes (no double submit)
export function button(label, onclick, { kind = "secondary", disabled = false, type = "button", attrs = {} } = {}) {
  const b = el("button", { type, class: `button ${kind}`, disabled, ...attrs }, label);
  if (onclick) {
    b.addEventListener("click", async (e) => {
      if (b.disabled) return;
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
      try { await onclick(e); } finally {
        if (b.isConnected) { b.disabled = false; b.removeAttribute("aria-busy"); }
      }
    });
  }
  return b;
}

// a form's submit handler that disables its submit button while it runs
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    if (submit && submit.disabled) return;
    if (submit) { submit.disabled = true; submit.setAttribute("aria-busy", "true"); }
    try { await handler(e); } finally {
      if (submit && submit.isConnected) { submit.disabled = false; submit.removeAttribute("aria-busy"); }
    }
  });
  return form;
}

// "1–20 of 76" with previous / next: onPage(offset)
export function pager({ total, limit, offset, onPage }) {
  if (total <= limit) return null;
  const from = total ? offset + 1 : 0;
  const to = Math.min(offset + limit, total);
  return el("nav", { class: "pager", "aria-label": t("common.pages") },
    button(t("action.previous"), () => onPage(Math.max(0, offset - limit)), { disabled: offset <= 0 }),
    el("span", { class: "pager-status", "aria-live": "polite" }, t("common.range", { from: num(from), to: num(to), total: num(total) })),
    button(t("action.next"), () => onPage(offset + limit), { disabled: to >= total }));
}

// a search box (label visible) that calls onSearch(text) as the officer types
export function searchBox({ label, value = "", onSearch, name = "q", placeholder }) {
  const input = el("input", { type: "search", name, value, autocomplete: "off", placeholder: placeholder || null });
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => onSearch(input.value.trim()), 250);
  });
  return field({ label, name, input });
}
