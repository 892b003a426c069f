// Who blocks me: the units under the viewed LAO, province or the department that have not
// confirmed yet, the soonest deadline first (overdue ones in red), with what holds each of
// them up (checks, open requests, units beneath not confirmed) and whom to call.
import { api } from "../core/api.js";
import { countdown, deadlineText } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, dataTable, el, emptyState, pager } from "../core/ui.js";
import { data, roundName, tx } from "./oversight.js";

const LIMIT = 50;

register({
  th: {
    "blockers.title": "ใครยังไม่ยืนยัน",
    "blockers.heading": "หน่วยงานที่ยังไม่ยืนยันข้อมูล · {round}",
    "blockers.intro": "หน่วยงานในสังกัดที่ {name} ยังรอการยืนยัน เรียงตามกำหนดส่งที่ใกล้ที่สุด กำหนดส่งเป็นของระดับหน่วยงานนั้น (รวมการขยายกำหนดส่ง)",
    "blockers.total": "ยังไม่ยืนยัน {n} หน่วยงาน",
    "blockers.overdue_count": "เลยกำหนดแล้ว {n} หน่วยงาน",
    "blockers.none": "ทุกหน่วยงานในสังกัดยืนยันข้อมูลแล้ว",
    "blockers.col.unit": "หน่วยงาน",
    "blockers.col.deadline": "กำหนดส่ง",
    "blockers.col.left": "เวลาที่เหลือ",
    "blockers.col.waiting": "สิ่งที่ยังค้าง",
    "blockers.col.contacts": "ผู้ติดต่อ (บัญชีผู้ใช้)",
    "blockers.overdue": "เลยกำหนด",
    "blockers.overdue_by": "เลยมา {time}",
    "blockers.days_hours": "{days} วัน {hours} ชั่วโมง",
    "blockers.hours": "{hours} ชั่วโมง",
    "blockers.extended": "ขยายกำหนดส่งแล้ว",
    "blockers.children": "หน่วยงานในสังกัดยืนยันแล้ว {confirmed} จาก {total}",
    "blockers.checks": "ข้อผิดพลาด {errors} · ข้อสังเกตที่ยังไม่ชี้แจง {unexplained}",
    "blockers.checks_ok": "ผ่านการตรวจสอบ",
    "blockers.transfers": "คำขอย้ายที่รอดำเนินการ {n}",
    "blockers.revocations": "คำขอยกเลิกการยืนยัน {n}",
    "blockers.no_contact": "ยังไม่มีบัญชีผู้ใช้",
    "blockers.open_unit": "ดูความก้าวหน้าของ {name}",
    "blockers.level": "ระดับ{level}",
    "blockers.unavailable": "ขณะนี้อ่านข้อมูลบางส่วนไม่ได้ ({what}) ตัวเลขเหล่านั้นแสดงเป็นศูนย์ โปรดเปิดหน้านี้อีกครั้งภายหลัง",
    "blockers.part.checks": "ผลการตรวจสอบ",
    "blockers.part.transfers": "คำขอย้าย",
    "blockers.part.revocations": "คำขอยกเลิกการยืนยัน",
    "blockers.part.contacts": "ผู้ติดต่อ",
  },
  en: {
    "blockers.title": "Who blocks me",
    "blockers.heading": "Units that have not confirmed · {round}",
    "blockers.intro": "The units below that {name} still waits for, the soonest deadline first. Each deadline is the one of the unit's level (extensions included).",
    "blockers.total": "Not confirmed: {n} units",
    "blockers.overdue_count": "Overdue: {n} units",
    "blockers.none": "Every unit below has confirmed",
    "blockers.col.unit": "Unit",
    "blockers.col.deadline": "Deadline",
    "blockers.col.left": "Time left",
    "blockers.col.waiting": "Still open",
    "blockers.col.contacts": "Contacts (accounts)",
    "blockers.overdue": "Overdue",
    "blockers.overdue_by": "by {time}",
    "blockers.days_hours": "{days} days {hours} hours",
    "blockers.hours": "{hours} hours",
    "blockers.extended": "Extended",
    "blockers.children": "Units below confirmed: {confirmed} of {total}",
    "blockers.checks": "Errors {errors} · queries not explained {unexplained}",
    "blockers.checks_ok": "Checks passed",
    "blockers.transfers": "Transfer requests pending: {n}",
    "blockers.revocations": "Revocation requests: {n}",
    "blockers.unavailable": "Some figures could not be read just now ({what}); they show as zero. Open this page again later.",
    "blockers.part.checks": "checks",
    "blockers.part.transfers": "transfer requests",
    "blockers.part.revocations": "revocation requests",
    "blockers.part.contacts": "contacts",
    "blockers.no_contact": "No account yet",
    "blockers.open_unit": "See the progress of {name}",
    "blockers.level": "{level} level",
  },
});

function overdueText(seconds) {
  const hours = Math.floor(Math.abs(seconds) / 3600);
  const days = Math.floor(hours / 24);
  const time = days ? t("blockers.days_hours", { days: num(days), hours: hours % 24 }) : t("blockers.hours", { hours: Math.max(hours, 0) });
  return t("blockers.overdue_by", { time });
}

function progressHref(unit) {
  return `#/u/${unit.id}/${unit.type === "school" || unit.type === "cdc" ? "overview" : "children"}`;
}

function unitCell(item) {
  const u = item.unit;
  return el("div", { class: "blocker-unit" },
    el("a", { href: progressHref(u), "aria-label": t("blockers.open_unit", { name: u.name }), translate: "no" }, u.name),
    el("div", { class: "hint" }, `${t(`type.${u.type}`)} · `, data(u.code)));
}

function deadlineCell(item) {
  return el("div", {},
    el("span", {}, deadlineText(item.deadline)),
    item.extended ? [" ", el("span", { class: "tag" }, t("blockers.extended"))] : null);
}

function leftCell(item) {
  if (item.deadline === null) return "–";
  if (item.overdue) {
    return el("span", { class: "blocker-overdue" }, badge("check-error", t("blockers.overdue")), " ",
      el("strong", { class: "down" }, overdueText(item.seconds_left)));
  }
  return countdown(item.deadline);
}

function waitingCell(item) {
  const lines = [];
  if (item.children) lines.push(t("blockers.children", { confirmed: num(item.children.confirmed), total: num(item.children.total) }));
  if (item.checks) {
    lines.push(item.checks.errors || item.checks.unexplained
      ? t("blockers.checks", { errors: num(item.checks.errors), unexplained: num(item.checks.unexplained) })
      : t("blockers.checks_ok"));
  }
  const req = item.requests || {};
  if (req.transfers) lines.push(t("blockers.transfers", { n: num(req.transfers) }));
  if (req.revocations) lines.push(t("blockers.revocations", { n: num(req.revocations) }));
  return lines.length ? el("div", {}, lines.map((line) => el("div", {}, line))) : "–";
}

function contactsCell(item) {
  const contacts = item.contacts || [];
  if (!contacts.length) return el("span", { class: "hint" }, t("blockers.no_contact"));
  // the profile's contact officer (name, phone, e-mail), then the unit's accounts
  return el("div", {}, contacts.map((c) => (c.role === "officer"
    ? el("div", { class: "officer" }, data(c.name), c.position ? el("span", { class: "hint" }, " · ", data(c.position)) : null,
      c.phone ? el("div", {}, el("a", { href: `tel:${c.phone}`, translate: "no" }, c.phone)) : null,
      c.email ? el("div", {}, el("a", { href: `mailto:${c.email}`, translate: "no" }, c.email)) : null)
    : el("div", {}, data(c.username)))));
}

async function show(ctx, box, offset) {
  const report = await api("GET", `/rounds/${ctx.round.id}/blockers?org_unit_id=${ctx.unit.id}&limit=${LIMIT}&offset=${offset}`,
    undefined, { signal: ctx.signal });
  const items = report.items || [];
  const overdue = items.filter((i) => i.overdue).length;
  const missing = (report.unavailable || []).map((k) => t(`blockers.part.${k}`)).join(", ");
  box.replaceChildren(
    missing ? el("p", { class: "notice warn inline", id: "blockers-unavailable", role: "status" }, t("blockers.unavailable", { what: missing })) : "",
    el("p", { class: "lead", id: "blockers-total" }, t("blockers.total", { n: num(report.total) }),
      overdue ? [" · ", el("strong", { class: "down" }, t("blockers.overdue_count", { n: num(overdue) }))] : null),
    dataTable({
      rows: items, empty: t("blockers.none"), caption: t("blockers.title"),
      rowAttrs: (item) => ({ class: item.overdue ? "overdue" : null, dataset: { unit: item.unit.id, overdue: String(!!item.overdue) } }),
      columns: [
        { key: "unit", label: t("blockers.col.unit"), render: unitCell },
        { key: "deadline", label: t("blockers.col.deadline"), render: deadlineCell },
        { key: "left", label: t("blockers.col.left"), render: leftCell },
        { key: "waiting", label: t("blockers.col.waiting"), render: waitingCell },
        { key: "contacts", label: t("blockers.col.contacts"), render: contactsCell },
      ],
    }),
    pager({ total: report.total, limit: LIMIT, offset, onPage: (next) => show(ctx, box, next) }) || "");
}

export default {
  id: "blockers",
  title: "blockers.title",
  levels: ["lao", "province", "department"],
  unitTypes: ["department", "province", "lao"],
  order: 11,
  async render(ctx) {
    const root = el("div", { class: "page page-blockers" });
    if (!ctx.round) {
      root.append(emptyState(t("ov.no_round")));
      return root;
    }
    const box = el("div", { id: "blockers-list" });
    root.append(el("section", { class: "panel", "aria-labelledby": "blockers-h" },
      el("h2", { id: "blockers-h" }, t("blockers.heading", { round: roundName(ctx.round) })),
      el("p", {}, tx("blockers.intro", { name: data(ctx.unit.name) })),
      box));
    await show(ctx, box, 0);
    return root;
  },
};
