// Accounts of the units beneath: list one unit's, or every account of the officer's subtree
// with a search by username and pages; create (for any unit of the subtree, found by the
// unit search, with a password strength message), reset a password (a strong one is made
// and shown once), disable and enable.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, emptyState, field, formErrors, loading, notice, onSubmit, pager } from "../core/ui.js";
import { unitNames, unitPicker } from "../core/unitpicker.js";
import { OVERSIGHT, data, tx, saveThenRefresh } from "./oversight.js";

register({
  th: {
    "accounts.title": "บัญชีผู้ใช้",
    "accounts.heading": "บัญชีผู้ใช้ของ {name}",
    "accounts.unit": "หน่วยงาน",
    "accounts.unit_hint": "แสดงบัญชีของหน่วยงานที่เลือก หรือทุกบัญชีในสังกัดของท่าน",
    "accounts.all_option": "ทุกบัญชีในสังกัดของท่าน (ค้นหาได้)",
    "accounts.all_heading": "บัญชีผู้ใช้ทั้งหมดในสังกัดของท่าน",
    "accounts.search": "ค้นหาชื่อผู้ใช้",
    "accounts.search_hint": "พิมพ์ส่วนหนึ่งของชื่อผู้ใช้ ระบบจะค้นหาให้ทันที",
    "accounts.all_count": "พบ {total} บัญชี",
    "accounts.all_empty": "ไม่พบบัญชีผู้ใช้",
    "accounts.all_none": "ไม่พบชื่อผู้ใช้ที่มี “{q}”",
    "accounts.col.unit": "หน่วยงาน",
    "accounts.create_unit": "หน่วยงานของบัญชีใหม่",
    "accounts.create_unit_hint": "หน่วยงานที่อยู่ใต้โดยตรง หน่วยงานอื่นในสังกัดทุกระดับค้นหาได้ในช่องถัดไป",
    "accounts.unit_required": "กรุณาเลือกหน่วยงาน",
    "accounts.col.username": "ชื่อผู้ใช้",
    "accounts.col.state": "สถานะ",
    "accounts.col.last_login": "เข้าระบบล่าสุด",
    "accounts.col.actions": "ดำเนินการ",
    "accounts.never": "ยังไม่เคยเข้าระบบ",
    "accounts.empty": "{name} ยังไม่มีบัญชีผู้ใช้",
    "accounts.no_units": "ยังไม่มีหน่วยงานในสังกัด จึงยังสร้างบัญชีไม่ได้",
    "accounts.reset": "ตั้งรหัสผ่านใหม่",
    "accounts.reset_label": "ตั้งรหัสผ่านใหม่ให้ {name}",
    "accounts.reset_title": "ตั้งรหัสผ่านใหม่ให้ {name}",
    "accounts.reset_body": "ระบบจะสร้างรหัสผ่านใหม่ที่คาดเดายากให้ รหัสผ่านเดิมจะใช้ไม่ได้ทันที และผู้ใช้ที่เข้าระบบอยู่จะต้องเข้าระบบใหม่",
    "accounts.reset_done": "ตั้งรหัสผ่านใหม่ให้ {name} แล้ว",
    "accounts.new_password": "รหัสผ่านใหม่ของ {name}",
    "accounts.new_password_hint": "แจ้งรหัสผ่านนี้แก่เจ้าของบัญชีโดยตรง ระบบจะแสดงเพียงครั้งนี้ครั้งเดียว",
    "accounts.disable": "ระงับใช้งาน",
    "accounts.disable_label": "ระงับใช้งานบัญชี {name}",
    "accounts.disable_title": "ระงับใช้งานบัญชี {name}",
    "accounts.disable_body": "บัญชีนี้จะเข้าระบบไม่ได้และถูกออกจากระบบทันที จนกว่าจะเปิดใช้งานอีกครั้ง",
    "accounts.disabled": "ระงับใช้งานบัญชี {name} แล้ว",
    "accounts.enable": "เปิดใช้งาน",
    "accounts.enable_label": "เปิดใช้งานบัญชี {name}",
    "accounts.enabled": "เปิดใช้งานบัญชี {name} แล้ว",
    "accounts.create": "สร้างบัญชีผู้ใช้สำหรับ {name}",
    "accounts.username": "ชื่อผู้ใช้",
    "accounts.username_hint": "ตัวอักษรภาษาอังกฤษหรือตัวเลข 3–64 ตัว ใช้ . _ @ - ได้ เช่น {example}",
    "accounts.password": "รหัสผ่าน",
    "accounts.password_hint": "อย่างน้อย 8 ตัวอักษร ยิ่งยาวยิ่งปลอดภัย ผสมตัวพิมพ์ใหญ่ เล็ก ตัวเลข และสัญลักษณ์ ห้ามใช้รหัสที่คาดเดาง่าย",
    "accounts.strength": "ความปลอดภัยของรหัสผ่าน: {level}",
    "accounts.strength.empty": "ยังไม่ได้กรอก",
    "accounts.strength.short": "สั้นเกินไป (ต้องมีอย่างน้อย 8 ตัว)",
    "accounts.strength.weak": "อ่อน เดาได้ง่าย",
    "accounts.strength.fair": "พอใช้ ควรยาวขึ้นหรือผสมอักขระหลายแบบ",
    "accounts.strength.strong": "ดี",
    "accounts.create_button": "สร้างบัญชี",
    "accounts.created": "สร้างบัญชี {name} แล้ว",
    "accounts.required": "กรุณากรอก{field}",
    "accounts.short": "รหัสผ่านต้องมีอย่างน้อย 8 ตัวอักษร",
  },
  en: {
    "accounts.title": "Accounts",
    "accounts.heading": "Accounts of {name}",
    "accounts.unit": "Unit",
    "accounts.unit_hint": "Shows the accounts of the chosen unit, or every account of your subtree",
    "accounts.all_option": "Every account of your subtree (searchable)",
    "accounts.all_heading": "Every account of your subtree",
    "accounts.search": "Search by username",
    "accounts.search_hint": "Type part of a username; the list follows as you type",
    "accounts.all_count": "{total} accounts found",
    "accounts.all_empty": "No account found",
    "accounts.all_none": "No username contains “{q}”",
    "accounts.col.unit": "Unit",
    "accounts.create_unit": "Unit of the new account",
    "accounts.create_unit_hint": "The units directly below; search the next box for any other unit of your subtree",
    "accounts.unit_required": "Choose a unit",
    "accounts.col.username": "Username",
    "accounts.col.state": "State",
    "accounts.col.last_login": "Last signed in",
    "accounts.col.actions": "Actions",
    "accounts.never": "Never signed in",
    "accounts.empty": "{name} has no account yet",
    "accounts.no_units": "There is no unit below yet, so no account can be created",
    "accounts.reset": "Reset password",
    "accounts.reset_label": "Reset the password of {name}",
    "accounts.reset_title": "Reset the password of {name}",
    "accounts.reset_body": "A new, hard to guess password is made. The old one stops working at once and anyone signed in must sign in again.",
    "accounts.reset_done": "The password of {name} was reset",
    "accounts.new_password": "New password of {name}",
    "accounts.new_password_hint": "Give this password to the account's owner in person. It is shown only this once.",
    "accounts.disable": "Disable",
    "accounts.disable_label": "Disable the account {name}",
    "accounts.disable_title": "Disable the account {name}",
    "accounts.disable_body": "This account can no longer sign in and is signed out at once, until it is enabled again.",
    "accounts.disabled": "The account {name} is disabled",
    "accounts.enable": "Enable",
    "accounts.enable_label": "Enable the account {name}",
    "accounts.enabled": "The account {name} is enabled",
    "accounts.create": "Create an account for {name}",
    "accounts.username": "Username",
    "accounts.username_hint": "3–64 letters or digits; . _ @ - allowed, e.g. {example}",
    "accounts.password": "Password",
    "accounts.password_hint": "At least 8 characters; longer is safer. Mix upper and lower case, digits and symbols; nothing easy to guess.",
    "accounts.strength": "Password strength: {level}",
    "accounts.strength.empty": "not entered",
    "accounts.strength.short": "too short (at least 8 characters)",
    "accounts.strength.weak": "weak, easy to guess",
    "accounts.strength.fair": "fair: make it longer or mix more kinds of characters",
    "accounts.strength.strong": "good",
    "accounts.create_button": "Create the account",
    "accounts.created": "The account {name} was created",
    "accounts.required": "Enter the {field}",
    "accounts.short": "The password needs at least 8 characters",
  },
});

const view = new Map();
let shownOnce = null; // {userId, username, password}: a reset password, shown after the refresh

// a rough estimate for the officer while typing; the server decides (zxcvbn)
export function strength(password) {
  if (!password) return "empty";
  if (password.length < 8) return "short";
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  const repeated = /^(.)\1+$/.test(password) || /^(?:0123|1234|abcd|qwer|pass)/i.test(password);
  if (repeated || (kinds <= 1 && password.length < 14)) return "weak";
  if (password.length >= 12 && kinds >= 3) return "strong";
  if (password.length >= 16 && kinds >= 2) return "strong";
  return "fair";
}

function newPassword() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  const bytes = new Uint8Array(14);
  crypto.getRandomValues(bytes);
  const body = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  return `${body.slice(0, 5)}-${body.slice(5, 10)}-${body.slice(10)}`;
}

async function reset(ctx, user) {
  const ok = await confirmDialog({ title: tx("accounts.reset_title", { name: data(user.username) }),
    body: t("accounts.reset_body"), confirmLabel: t("accounts.reset") });
  if (!ok) return;
  const password = newPassword();
  try {
    await api("PATCH", `/users/${user.id}`, { password });
    shownOnce = { userId: user.id, username: user.username, password };
    notice(tx("accounts.reset_done", { name: data(user.username) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
  }
  await ctx.refresh();
}

async function setActive(ctx, user, active) {
  if (!active) {
    const ok = await confirmDialog({ title: tx("accounts.disable_title", { name: data(user.username) }),
      body: t("accounts.disable_body"), confirmLabel: t("accounts.disable"), danger: true });
    if (!ok) return;
  }
  try {
    await api("PATCH", `/users/${user.id}`, { active });
    notice(tx(active ? "accounts.enabled" : "accounts.disabled", { name: data(user.username) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
  }
  await ctx.refresh();
}

const ALL_LIMIT = 20;

// which accounts a unit may hold: other-affiliation schools have none, closed units take no new one
const mayHoldAccounts = (u) => u.type !== "other_school" && u.status !== "closed";

function createForm(ctx, units, selected, state) {
  const username = el("input", { type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: "64" });
  const password = el("input", { type: "password", autocomplete: "new-password", maxlength: "256" });
  const meter = el("p", { class: "strength", id: "accounts-strength", "aria-live": "polite" });
  const showMeter = () => {
    const level = strength(password.value);
    meter.textContent = t("accounts.strength", { level: t(`accounts.strength.${level}`) });
    meter.dataset.level = level;
  };
  password.addEventListener("input", showMeter);
  showMeter();
  const passwordField = field({ label: t("accounts.password"), name: "password", input: password, hint: t("accounts.password_hint") });
  passwordField.append(meter);
  password.setAttribute("aria-describedby", `${password.getAttribute("aria-describedby") || ""} accounts-strength`.trim());
  const heading = el("h2", { id: "account-create-h" });
  const title = (unit) => heading.replaceChildren(...(unit ? tx("accounts.create", { name: data(unit.name) }) : [t("accounts.create_button")]));
  // any unit of the officer's subtree: those directly below in the list, the others by searching
  const picker = unitPicker({ rootId: ctx.user.org_unit_id, nearby: units, selected, accept: mayHoldAccounts,
    label: t("accounts.create_unit"), hint: t("accounts.create_unit_hint"), onChange: title });
  title(picker.unit);
  const form = el("form", { class: "panel", "aria-labelledby": "account-create-h", novalidate: true },
    heading,
    picker.node,
    el("div", { class: "form-grid" },
      field({ label: t("accounts.username"), name: "username", input: username,
        hint: tx("accounts.username_hint", { example: data("school.banmai") }) }),
      passwordField),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("accounts.create_button"))));
  onSubmit(form, async () => {
    clearErrors(form);
    const missing = {};
    if (!picker.unit) missing.org_unit_id = t("accounts.unit_required");
    if (!username.value.trim()) missing.username = t("accounts.required", { field: t("accounts.username") });
    if (!password.value) missing.password = t("accounts.required", { field: t("accounts.password") });
    else if (password.value.length < 8) missing.password = t("accounts.short");
    if (Object.keys(missing).length) {
      formErrors(form, { fields: missing });
      return;
    }
    const unit = picker.unit;
    await saveThenRefresh(form, ctx, async () => {
      const created = await api("POST", "/users", { username: username.value.trim(), password: password.value, org_unit_id: unit.id });
      password.value = "";
      notice(tx("accounts.created", { name: data(created.username) }), "ok");
      // the list shows the new account: its unit's, or every account found by its name
      if (units.some((u) => u.id === unit.id)) state.unitId = unit.id;
      else Object.assign(state, { unitId: "all", q: created.username, offset: 0 });
    });
  });
  return form;
}

// the actions on an account of a unit below the officer's (colleagues of one's own unit are
// changed from above)
function accountActions(ctx, u) {
  if (u.org_unit_id === ctx.user.org_unit_id) return null;
  return el("div", { class: "row-actions" },
    button(t("accounts.reset"), () => reset(ctx, u), { attrs: { "aria-label": t("accounts.reset_label", { name: u.username }) } }),
    u.active
      ? button(t("accounts.disable"), () => setActive(ctx, u, false), { kind: "danger", attrs: { "aria-label": t("accounts.disable_label", { name: u.username }) } })
      : button(t("accounts.enable"), () => setActive(ctx, u, true), { attrs: { "aria-label": t("accounts.enable_label", { name: u.username }) } }));
}

// every account of the officer's subtree (GET /users), searched by username as it is typed, in pages
function allAccounts(ctx, state) {
  const input = el("input", { type: "search", autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: "100", value: state.q || "" });
  const count = el("p", { class: "count-line", id: "accounts-all-count", "aria-live": "polite" });
  const results = el("div", { id: "accounts-all-results", class: "accounts-all-results" });
  const section = el("section", { class: "panel accounts-all", "aria-labelledby": "accounts-h" },
    el("h2", { id: "accounts-h" }, t("accounts.all_heading")),
    el("div", { class: "toolbar" }, field({ label: t("accounts.search"), name: "accounts-q", input, hint: t("accounts.search_hint") })),
    count, results);
  let generation = 0;
  async function load() {
    const mine = ++generation;
    const q = state.q || "";
    results.dataset.ready = "false";
    const params = new URLSearchParams({ limit: String(ALL_LIMIT), offset: String(state.offset || 0) });
    if (q) params.set("q", q);
    try {
      const found = await api("GET", `/users?${params}`, undefined, { signal: ctx.signal });
      const items = found.items || [];
      const unitsOf = await unitNames(items.map((u) => u.org_unit_id), ctx.signal);
      if (mine !== generation) return;
      count.textContent = t("accounts.all_count", { total: num(found.total) });
      const columns = [
        { key: "username", label: t("accounts.col.username"), render: (u) => data(u.username) },
        { key: "unit", label: t("accounts.col.unit"), render: (u) => data(unitsOf.get(u.org_unit_id)) },
        { key: "state", label: t("accounts.col.state"), render: (u) => badge(u.active ? "active" : "disabled") },
        { key: "last_login_at", label: t("accounts.col.last_login"), render: (u) => u.last_login_at ? formatDateTime(u.last_login_at) : t("accounts.never") },
        { key: "actions", label: t("accounts.col.actions"), render: (u) => accountActions(ctx, u) },
      ];
      results.replaceChildren(
        dataTable({ columns, rows: items, caption: t("accounts.all_heading"),
          empty: q ? tx("accounts.all_none", { q: data(q) }) : t("accounts.all_empty") }),
        pager({ total: found.total, limit: ALL_LIMIT, offset: state.offset || 0, onPage: (offset) => { state.offset = offset; return load(); } }) || "");
      results.dataset.q = q;
    } catch (e) {
      if (e.name === "AbortError" || mine !== generation) return;
      count.textContent = "";
      results.replaceChildren(emptyState(errorText(e)));
    }
    results.dataset.ready = "true";
  }
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = input.value.trim();
      if (q === (state.q || "")) return;
      Object.assign(state, { q, offset: 0 });
      results.dataset.ready = "false";
      results.replaceChildren(loading());
      load();
    }, 250);
  });
  return { node: section, load };
}

export default {
  id: "accounts",
  title: "accounts.title",
  levels: OVERSIGHT,
  unitTypes: ["department", "province", "lao"],
  order: 50,
  async render(ctx) {
    const root = el("div", { class: "page page-accounts" });
    const children = await api("GET", `/org-units/${ctx.unit.id}/children?limit=1000`, undefined, { signal: ctx.signal });
    // the units whose accounts this page lists one at a time: those below, and the viewed unit
    // when it is below the user
    const units = (children.items || []).filter((u) => u.status !== "closed");
    if (ctx.unit.id !== ctx.user.org_unit_id) units.unshift(ctx.unit);
    const state = view.get(ctx.unit.id) || {};
    view.set(ctx.unit.id, state);
    const all = state.unitId === "all" || !units.length;
    const unit = all ? null : units.find((u) => u.id === state.unitId) || units[0];
    state.unitId = all ? "all" : unit.id;

    const select = el("select", { id: "accounts-unit", translate: "no", onchange: (e) => {
      state.unitId = e.target.value === "all" ? "all" : Number(e.target.value);
      state.offset = 0;
      ctx.refresh();
    } },
    units.map((u) => el("option", { value: String(u.id), selected: !all && u.id === unit.id }, `${u.name} (${t(`type.${u.type}`)})`)),
    el("option", { value: "all", selected: all, translate: "yes" }, t("accounts.all_option")));
    root.append(el("div", { class: "toolbar" },
      field({ label: t("accounts.unit"), name: "accounts-unit", input: select, hint: t("accounts.unit_hint") })));

    if (shownOnce) {
      const once = shownOnce;
      shownOnce = null;
      root.append(el("div", { class: "notice info new-password", role: "status" },
        el("p", {}, el("strong", {}, tx("accounts.new_password", { name: data(once.username) }))),
        el("p", {}, el("code", { class: "password-value", translate: "no", dataset: { user: String(once.userId) } }, once.password)),
        el("p", { class: "hint" }, t("accounts.new_password_hint"))));
    }
    if (all) {
      const list = allAccounts(ctx, state);
      await list.load();
      root.append(list.node);
    } else {
      const users = await api("GET", `/users?org_unit_id=${unit.id}&limit=200`, undefined, { signal: ctx.signal });
      const columns = [
        { key: "username", label: t("accounts.col.username"), render: (u) => data(u.username) },
        { key: "state", label: t("accounts.col.state"), render: (u) => badge(u.active ? "active" : "disabled") },
        { key: "last_login_at", label: t("accounts.col.last_login"), render: (u) => u.last_login_at ? formatDateTime(u.last_login_at) : t("accounts.never") },
        { key: "actions", label: t("accounts.col.actions"), render: (u) => accountActions(ctx, u) },
      ];
      root.append(el("section", { class: "panel", "aria-labelledby": "accounts-h" },
        el("h2", { id: "accounts-h" }, tx("accounts.heading", { name: data(unit.name) })),
        dataTable({ columns, rows: users.items || [], empty: tx("accounts.empty", { name: data(unit.name) }),
          caption: tx("accounts.heading", { name: data(unit.name) }) })));
    }
    if (units.length) root.append(createForm(ctx, units.filter(mayHoldAccounts), unit || units[0], state));
    else root.append(el("p", { class: "empty" }, t("accounts.no_units")));
    return root;
  },
};
