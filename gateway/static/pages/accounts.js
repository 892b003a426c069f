// Accounts of the units beneath: list, create (with a password strength message),
// reset a password (a strong one is made and shown once), disable and enable.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit } from "../core/ui.js";
import { OVERSIGHT, data, tx, saveThenRefresh } from "./oversight.js";

register({
  th: {
    "accounts.title": "บัญชีผู้ใช้",
    "accounts.heading": "บัญชีผู้ใช้ของ {name}",
    "accounts.unit": "หน่วยงาน",
    "accounts.unit_hint": "แสดงและสร้างบัญชีของหน่วยงานที่เลือก (เฉพาะหน่วยงานในสังกัด)",
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
    "accounts.unit_hint": "Shows and creates the accounts of the chosen unit (units below only)",
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

function createForm(ctx, unit) {
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
  const form = el("form", { class: "panel", "aria-labelledby": "account-create-h", novalidate: true },
    el("h2", { id: "account-create-h" }, tx("accounts.create", { name: data(unit.name) })),
    el("div", { class: "form-grid" },
      field({ label: t("accounts.username"), name: "username", input: username,
        hint: tx("accounts.username_hint", { example: data("school.banmai") }) }),
      passwordField),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("accounts.create_button"))));
  onSubmit(form, async () => {
    clearErrors(form);
    const missing = {};
    if (!username.value.trim()) missing.username = t("accounts.required", { field: t("accounts.username") });
    if (!password.value) missing.password = t("accounts.required", { field: t("accounts.password") });
    else if (password.value.length < 8) missing.password = t("accounts.short");
    if (Object.keys(missing).length) {
      formErrors(form, { fields: missing });
      return;
    }
    await saveThenRefresh(form, ctx, async () => {
      const created = await api("POST", "/users", { username: username.value.trim(), password: password.value, org_unit_id: unit.id });
      password.value = "";
      notice(tx("accounts.created", { name: data(created.username) }), "ok");
    });
  });
  return form;
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
    // the units whose accounts this page manages: those below, and the viewed unit when it is below the user
    const units = (children.items || []).filter((u) => u.status !== "closed");
    if (ctx.unit.id !== ctx.user.org_unit_id) units.unshift(ctx.unit);
    if (!units.length) {
      root.append(el("p", { class: "empty" }, t("accounts.no_units")));
      return root;
    }
    const state = view.get(ctx.unit.id) || {};
    view.set(ctx.unit.id, state);
    const unit = units.find((u) => u.id === state.unitId) || units[0];
    state.unitId = unit.id;

    const select = el("select", { id: "accounts-unit", translate: "no", onchange: (e) => { state.unitId = Number(e.target.value); ctx.refresh(); } },
      units.map((u) => el("option", { value: String(u.id), selected: u.id === unit.id }, `${u.name} (${t(`type.${u.type}`)})`)));
    root.append(el("div", { class: "toolbar" },
      field({ label: t("accounts.unit"), name: "accounts-unit", input: select, hint: t("accounts.unit_hint") })));

    const users = await api("GET", `/users?org_unit_id=${unit.id}&limit=200`, undefined, { signal: ctx.signal });
    if (shownOnce) {
      const once = shownOnce;
      shownOnce = null;
      root.append(el("div", { class: "notice info new-password", role: "status" },
        el("p", {}, el("strong", {}, tx("accounts.new_password", { name: data(once.username) }))),
        el("p", {}, el("code", { class: "password-value", translate: "no", dataset: { user: String(once.userId) } }, once.password)),
        el("p", { class: "hint" }, t("accounts.new_password_hint"))));
    }
    const columns = [
      { key: "username", label: t("accounts.col.username"), render: (u) => data(u.username) },
      { key: "state", label: t("accounts.col.state"), render: (u) => badge(u.active ? "active" : "disabled") },
      { key: "last_login_at", label: t("accounts.col.last_login"), render: (u) => u.last_login_at ? formatDateTime(u.last_login_at) : t("accounts.never") },
      { key: "actions", label: t("accounts.col.actions"), render: (u) => el("div", { class: "row-actions" },
        button(t("accounts.reset"), () => reset(ctx, u), { attrs: { "aria-label": t("accounts.reset_label", { name: u.username }) } }),
        u.active
          ? button(t("accounts.disable"), () => setActive(ctx, u, false), { kind: "danger", attrs: { "aria-label": t("accounts.disable_label", { name: u.username }) } })
          : button(t("accounts.enable"), () => setActive(ctx, u, true), { attrs: { "aria-label": t("accounts.enable_label", { name: u.username }) } })) },
    ];
    root.append(el("section", { class: "panel", "aria-labelledby": "accounts-h" },
      el("h2", { id: "accounts-h" }, tx("accounts.heading", { name: data(unit.name) })),
      dataTable({ columns, rows: users.items || [], empty: tx("accounts.empty", { name: data(unit.name) }),
        caption: tx("accounts.heading", { name: data(unit.name) }) })));
    root.append(createForm(ctx, unit));
    return root;
  },
};
