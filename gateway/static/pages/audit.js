// The audit log of the viewed unit's subtree: who changed what, when; newest first.
import { api, errorText } from "../core/api.js";
import { dateInput, formatDate, formatDateTime, bangkokInstant } from "../core/dates.js";
import { has, num, register, t } from "../core/i18n.js";
import { dataTable, el, field, notice, pager } from "../core/ui.js";
import { OVERSIGHT, data, tx } from "./oversight.js";

const LIMIT = 50;
const SERVICES = ["registry", "rounds", "enrollment", "confirmation"];

register({
  th: {
    "audit.title": "ประวัติการแก้ไข",
    "audit.heading": "ประวัติการแก้ไขข้อมูลของ {name} และหน่วยงานในสังกัด",
    "audit.intro": "ทุกการเปลี่ยนแปลงที่ผู้ใช้ของหน่วยงานนี้ทำ หรือที่ทำกับข้อมูลของหน่วยงานนี้ เรียงจากล่าสุด",
    "audit.service": "ประเภทข้อมูล",
    "audit.service.all": "ทุกประเภท",
    "audit.service.registry": "หน่วยงานและบัญชีผู้ใช้",
    "audit.service.rounds": "รอบการสำรวจ",
    "audit.service.enrollment": "ผู้เรียนและจำนวนนักเรียน",
    "audit.service.confirmation": "การยืนยันข้อมูล",
    "audit.service.reporting": "รายงาน",
    "audit.since": "ตั้งแต่วันที่ (พ.ศ.)",
    "audit.show": "แสดง",
    "audit.col.at": "เวลา",
    "audit.col.who": "ผู้ดำเนินการ",
    "audit.col.what": "รายการ",
    "audit.col.unit": "หน่วยงาน",
    "audit.col.details": "รายละเอียด",
    "audit.empty": "ไม่มีประวัติการแก้ไขตามเงื่อนไขนี้",
    "audit.count": "พบ {n} รายการ",
    "audit.system": "ระบบ",
    "audit.bad_date": "กรอกวันที่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.)",
    "audit.what": "{action} {entity} {id}",
    "audit.reason": "เหตุผล:",
    "audit.account": "บัญชี",
    "audit.code": "รหัส",
    "audit.deadline": "กำหนดส่งใหม่: {date}",
    "audit.count_total": "จำนวนรวม {n} คน",
    "audit.unit_ref": "หน่วยงาน #{id}",
    "audit.rows": "รับ {accepted} จาก {rows} แถว",
    "audit.password_reset": "ตั้งรหัสผ่านใหม่",
    "audit.disabled": "ระงับใช้งาน",
    "audit.enabled": "เปิดใช้งาน",
    "audit.action.add": "เพิ่ม",
    "audit.action.update": "แก้ไข",
    "audit.action.remove": "จำหน่าย",
    "audit.action.restore": "นำกลับ",
    "audit.action.import": "นำเข้า",
    "audit.action.carry_over": "ยกยอดจากรอบก่อน",
    "audit.action.set": "บันทึก",
    "audit.action.close": "ปิด",
    "audit.action.seal": "ล็อกข้อมูล",
    "audit.action.unseal": "ปลดล็อกข้อมูล",
    "audit.action.confirm": "ยืนยัน",
    "audit.action.revoke": "ยกเลิกการยืนยัน",
    "audit.action.create": "สร้าง",
    "audit.action.verify": "รับรอง",
    "audit.action.lock": "ล็อกบัญชี",
    "audit.action.change_password": "เปลี่ยนรหัสผ่าน",
    "audit.action.extend": "ขยายกำหนดส่ง",
    "audit.action.finalize": "ปิดรอบ",
    "audit.action.refuse_duplicate": "ปฏิเสธข้อมูลซ้ำ",
    "audit.action.resealed": "ล็อกข้อมูลใหม่",
    "audit.action.unsealed": "ปลดล็อกข้อมูล (ยืนยันไม่สำเร็จ)",
    "audit.action.confirm_compensated": "ยกเลิกการยืนยันที่ไม่สำเร็จ",
    "audit.action.saga_adopted": "ดำเนินการยืนยันต่อให้เสร็จ",
    "audit.action.stray_seal_undone": "ปลดล็อกข้อมูลที่ค้างอยู่",
    "audit.entity.learner": "ผู้เรียน",
    "audit.entity.learners": "ผู้เรียน",
    "audit.entity.unit_round": "ข้อมูลหน่วยงาน",
    "audit.entity.headcount": "จำนวนนักเรียนโรงเรียนสังกัดอื่น",
    "audit.entity.org_unit": "หน่วยงาน",
    "audit.entity.user": "บัญชีผู้ใช้",
    "audit.entity.round": "รอบการสำรวจ",
    "audit.entity.confirmation": "การยืนยัน",
  },
  en: {
    "audit.title": "Audit log",
    "audit.heading": "Changes in {name} and the units below it",
    "audit.intro": "Every change made by a user of this subtree or made to its data, newest first",
    "audit.service": "Kind of data",
    "audit.service.all": "All kinds",
    "audit.service.registry": "Units and accounts",
    "audit.service.rounds": "Census rounds",
    "audit.service.enrollment": "Learners and headcounts",
    "audit.service.confirmation": "Confirmations",
    "audit.service.reporting": "Reports",
    "audit.since": "From (Buddhist era)",
    "audit.show": "Show",
    "audit.col.at": "When",
    "audit.col.who": "Who",
    "audit.col.what": "What",
    "audit.col.unit": "Unit",
    "audit.col.details": "Details",
    "audit.empty": "No change matches",
    "audit.count": "{n} entries",
    "audit.system": "System",
    "audit.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era)",
    "audit.what": "{action} {entity} {id}",
    "audit.reason": "Reason:",
    "audit.account": "account",
    "audit.code": "code",
    "audit.deadline": "New deadline: {date}",
    "audit.count_total": "{n} in total",
    "audit.unit_ref": "unit #{id}",
    "audit.rows": "{accepted} of {rows} rows accepted",
    "audit.password_reset": "password reset",
    "audit.disabled": "disabled",
    "audit.enabled": "enabled",
    "audit.action.add": "Added",
    "audit.action.update": "Changed",
    "audit.action.remove": "Removed",
    "audit.action.restore": "Restored",
    "audit.action.import": "Imported",
    "audit.action.carry_over": "Carried over",
    "audit.action.set": "Recorded",
    "audit.action.close": "Closed",
    "audit.action.seal": "Sealed",
    "audit.action.unseal": "Unsealed",
    "audit.action.confirm": "Confirmed",
    "audit.action.revoke": "Revoked",
    "audit.action.create": "Created",
    "audit.action.verify": "Verified",
    "audit.action.lock": "Locked",
    "audit.action.change_password": "Changed the password of",
    "audit.action.extend": "Extended",
    "audit.action.finalize": "Finalized",
    "audit.action.refuse_duplicate": "Refused a duplicate",
    "audit.action.resealed": "Sealed again",
    "audit.action.unsealed": "Unsealed (confirmation not completed)",
    "audit.action.confirm_compensated": "Undid an incomplete confirmation",
    "audit.action.saga_adopted": "Completed a confirmation",
    "audit.action.stray_seal_undone": "Undid a stray seal",
    "audit.entity.learner": "learner",
    "audit.entity.learners": "learners",
    "audit.entity.unit_round": "unit data",
    "audit.entity.headcount": "other-school headcount",
    "audit.entity.org_unit": "unit",
    "audit.entity.user": "account",
    "audit.entity.round": "round",
    "audit.entity.confirmation": "confirmation",
  },
});

const view = new Map();
const unitNames = new Map(); // unit id -> name (null: not readable)

// the unit an entry is about: the unit itself, the unit of a "<round>:<unit>" entity, or its details' unit
function unitOf(e) {
  if (e.entity === "org_unit") return Number(e.entity_id) || null;
  if (/^\d+:\d+$/.test(e.entity_id || "")) return Number(e.entity_id.split(":")[1]);
  const d = e.details || {};
  return Number(d.org_unit_id || d.institution_id || d.unit_id) || null;
}

async function learnNames(entries, signal) {
  const missing = [...new Set(entries.map(unitOf).filter((id) => id && !unitNames.has(id)))];
  await Promise.all(missing.map((id) => api("GET", `/org-units/${id}`, undefined, { signal })
    .then((u) => unitNames.set(id, u.name))
    .catch((e) => { if (e && e.name === "AbortError") throw e; unitNames.set(id, null); })));
}

function known(prefix, code) {
  return has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : data(code);
}

// what an entry changed: words for what the portal knows, the recorded data as it is
function details(e) {
  const d = e.details || {};
  const items = []; // strings, or [label, user data]
  if (e.entity === "user" && d.password === "reset") items.push(t("audit.password_reset"));
  if (e.entity === "user" && d.active === false) items.push(t("audit.disabled"));
  if (e.entity === "user" && d.active === true) items.push(t("audit.enabled"));
  if (d.closes_at) items.push(t("audit.deadline", { date: formatDate(d.closes_at) }));
  if (d.counts && d.counts.total !== undefined) items.push(t("audit.count_total", { n: num(d.counts.total) }));
  if (d.rows !== undefined && d.accepted !== undefined) items.push(t("audit.rows", { accepted: num(d.accepted), rows: num(d.rows) }));
  if (d.reason) items.push([t("audit.reason"), d.reason]);
  if (d.username) items.push([t("audit.account"), d.username]);
  if (d.code && e.entity === "org_unit") items.push([t("audit.code"), d.code]);
  const out = [];
  items.forEach((item, k) => {
    if (k) out.push(" · ");
    if (typeof item === "string") out.push(item);
    else out.push(`${item[0]} `, data(item[1]));
  });
  return out;
}

export default {
  id: "audit",
  title: "audit.title",
  levels: OVERSIGHT,
  unitTypes: ["department", "province", "lao"],
  order: 80,
  async render(ctx) {
    const state = view.get(ctx.unit.id) || { service: "", since: null, offset: 0 };
    view.set(ctx.unit.id, state);
    const root = el("div", { class: "page page-audit" });
    const listBox = el("div", { class: "list-box" });
    const failed = (e) => { if (e && e.name !== "AbortError") notice(errorText(e), "error"); };
    const columns = [
      { key: "at", label: t("audit.col.at"), render: (e) => formatDateTime(e.at) },
      { key: "who", label: t("audit.col.who"), render: (e) => e.actor_username && e.actor_id ? data(e.actor_username) : t("audit.system") },
      { key: "what", label: t("audit.col.what"), render: (e) => el("span", {}, tx("audit.what", { action: known("audit.action", e.action),
        entity: known("audit.entity", e.entity),
        id: e.entity_id && !unitOf(e) ? data(`#${e.entity_id}`) : e.entity === "round" ? data(`#${e.entity_id}`) : "" })) },
      { key: "unit", label: t("audit.col.unit"), render: (e) => {
        const id = unitOf(e);
        if (!id) return "";
        return unitNames.get(id) ? data(unitNames.get(id)) : t("audit.unit_ref", { id });
      } },
      { key: "details", label: t("audit.col.details"), render: (e) => { const d = details(e); return d.length ? el("span", {}, d) : ""; } },
    ];
    let loading = null;
    const load = async () => {
      if (loading) loading.abort();
      const mine = new AbortController();
      loading = mine;
      ctx.signal.addEventListener("abort", () => mine.abort(), { once: true });
      const params = new URLSearchParams({ org_unit_id: String(ctx.unit.id), limit: String(LIMIT), offset: String(state.offset) });
      if (state.service) params.set("service", state.service);
      if (state.since) params.set("since", bangkokInstant(state.since));
      const page = await api("GET", `/audit?${params}`, undefined, { signal: mine.signal });
      await learnNames(page.items || [], mine.signal);
      // across every service only the newest 1,000 entries page; a kind of data pages further
      const total = state.service ? page.total : Math.min(page.total, 1000);
      listBox.replaceChildren(...[
        el("p", { class: "count" }, t("audit.count", { n: num(page.total) })),
        dataTable({ columns, rows: page.items || [], empty: t("audit.empty"), caption: tx("audit.heading", { name: data(ctx.unit.name) }) }),
        pager({ total, limit: LIMIT, offset: state.offset, onPage: (offset) => { state.offset = offset; return load().catch(failed); } }),
      ].filter(Boolean));
    };
    const service = el("select", { id: "audit-service" },
      el("option", { value: "" }, t("audit.service.all")),
      SERVICES.map((s) => el("option", { value: s, selected: state.service === s }, t(`audit.service.${s}`))));
    const since = dateInput({ name: "since", id: "audit-since", value: state.since });
    const form = el("form", { class: "toolbar", novalidate: true },
      field({ label: t("audit.service"), name: "service", input: service }),
      field({ label: t("audit.since"), name: "since", input: since, hint: t("dates.hint"), optional: true }),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "button secondary" }, t("audit.show"))));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (since.value.trim() && !since.isoValue) {
        notice(t("audit.bad_date"), "error");
        return;
      }
      state.service = service.value;
      state.since = since.value.trim() ? since.isoValue : null;
      state.offset = 0;
      load().catch(failed);
    });
    await load();
    root.append(el("section", { class: "panel", "aria-labelledby": "audit-h" },
      el("h2", { id: "audit-h" }, tx("audit.heading", { name: data(ctx.unit.name) })),
      el("p", { class: "hint" }, t("audit.intro")), form, listBox));
    return root;
  },
};
