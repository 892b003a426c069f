// Notices: what waits for the signed-in user's unit — its deadline reminders (72, 24 and 3
// hours before its level's deadline while it has not confirmed), transfers of a child it
// must answer, and revocation requests to answer or answered — newest first, each with a
// link to the page where it is dealt with. The bell in the shell's header shows how many.
import { api } from "../core/api.js";
import { deadlineText, formatDateTime } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, el, emptyState } from "../core/ui.js";
import { data, roundName, tx } from "./oversight.js";

register({
  th: {
    "notices.title": "การแจ้งเตือน",
    "notices.heading": "การแจ้งเตือนของ {name}",
    "notices.intro": "รายการที่รอหน่วยงานของคุณดำเนินการ เรียงจากล่าสุด",
    "notices.none": "ไม่มีการแจ้งเตือน",
    "notices.unavailable": "ขณะนี้อ่านคำขอบางประเภทไม่ได้ รายการนี้อาจยังไม่ครบ โปรดเปิดหน้านี้อีกครั้งภายหลัง",
    "notices.bell": "การแจ้งเตือน {n} รายการ",
    "notices.bell_none": "การแจ้งเตือน: ไม่มี",
    "notices.kind.deadline": "ใกล้กำหนดส่ง",
    "notices.kind.transfer": "คำขอย้ายเด็ก",
    "notices.kind.revocation_request": "คำขอยกเลิกการยืนยัน",
    "notices.deadline": "{round}: หน่วยงานของคุณยังไม่ยืนยันข้อมูล เหลือเวลาไม่ถึง {hours} ชั่วโมง กำหนดส่ง{deadline}",
    "notices.transfer": "{to} ขอรับนักเรียนชั้น {grade} ย้ายจาก {from} รอการตอบ",
    "notices.transfer_sealed": "{to} ขอรับนักเรียนชั้น {grade} ย้ายจาก {from} ซึ่งยืนยันข้อมูลแล้ว ต้องยกเลิกการยืนยันก่อนจึงตอบได้",
    "notices.revocation_answer": "ขอยกเลิกการยืนยันของ {unit} รอการพิจารณา",
    "notices.revocation_outcome": "คำขอยกเลิกการยืนยันของ {unit}: {state}",
    "notices.when": "เมื่อ {when}",
    "notices.open.confirm": "ไปที่หน้ายืนยันข้อมูล",
    "notices.open.transfers": "ไปที่หน้าคำขอย้าย",
    "notices.open.revocations": "ไปที่หน้าคำขอยกเลิกการยืนยัน",
    "notices.open.children": "ไปที่หน้าการยืนยันของหน่วยงานในสังกัด",
    "notices.unit_n": "หน่วยงาน #{id}",
  },
  en: {
    "notices.title": "Notices",
    "notices.heading": "Notices of {name}",
    "notices.intro": "What waits for your unit, the newest first",
    "notices.none": "No notices",
    "notices.unavailable": "Some requests could not be read just now; this list may be incomplete. Open this page again later.",
    "notices.bell": "Notices: {n}",
    "notices.bell_none": "Notices: none",
    "notices.kind.deadline": "Deadline approaching",
    "notices.kind.transfer": "Transfer request",
    "notices.kind.revocation_request": "Revocation request",
    "notices.deadline": "{round}: your unit has not confirmed; less than {hours} hours left, deadline {deadline}",
    "notices.transfer": "{to} asks for a grade {grade} pupil to move from {from}; waiting for an answer",
    "notices.transfer_sealed": "{to} asks for a grade {grade} pupil to move from {from}, whose data are confirmed: the confirmation must be revoked before it can be answered",
    "notices.revocation_answer": "A request to revoke the confirmation of {unit} waits for a decision",
    "notices.revocation_outcome": "The request to revoke the confirmation of {unit}: {state}",
    "notices.when": "on {when}",
    "notices.open.confirm": "Go to the confirm page",
    "notices.open.transfers": "Go to the transfer requests",
    "notices.open.revocations": "Go to the revocation requests",
    "notices.open.children": "Go to the approvals below",
    "notices.unit_n": "Unit #{id}",
  },
});

// the page of the user's own unit where a notice is dealt with
function target(ctx, notice) {
  if (notice.page === "confirm") return ctx.user.role === "institution" ? "confirm" : "children";
  return notice.page;
}

function unitName(unit) {
  if (!unit) return t("ov.none");
  return data(unit.name || t("notices.unit_n", { id: unit.id }));
}

function text(notice) {
  const d = notice.data || {};
  const title = d.title_data || {};
  if (notice.kind === "deadline") {
    return tx("notices.deadline", { round: roundName(notice.round), hours: num(notice.hours_before), deadline: deadlineText(notice.deadline) });
  }
  if (notice.kind === "transfer") {
    return tx(title.sealed ? "notices.transfer_sealed" : "notices.transfer", {
      to: data(title.to_name), from: data(title.from_name), grade: title.grade ? t(`grade.${title.grade}`) : "–" });
  }
  if (d.action === "outcome") {
    return tx("notices.revocation_outcome", { unit: unitName(title.unit), state: t(`state.${d.state}`) });
  }
  return tx("notices.revocation_answer", { unit: unitName(title.unit) });
}

function item(ctx, notice) {
  const page = target(ctx, notice);
  const kind = notice.kind === "deadline" ? (notice.hours_before <= 3 ? "check-error" : "pending") : "open";
  return el("li", { class: "notice-item", dataset: { kind: notice.kind, ref: notice.ref_id ?? "" } },
    el("div", {}, badge(kind, t(`notices.kind.${notice.kind}`)), " ",
      el("span", { class: "hint" }, t("notices.when", { when: formatDateTime(notice.at) }))),
    el("p", {}, text(notice)),
    el("a", { href: `#/u/${ctx.user.org_unit_id}/${page}`, class: "notice-link" }, t(`notices.open.${page}`)));
}

export default {
  id: "notices",
  title: "notices.title",
  levels: ["institution", "lao", "province", "department"],
  order: 1,
  async render(ctx) {
    const root = el("div", { class: "page page-notices" });
    const answer = await api("GET", "/me/notices", undefined, { signal: ctx.signal });
    const items = answer.items || [];
    window.dispatchEvent(new CustomEvent("lec:notices", { detail: { total: answer.total } }));
    root.append(el("section", { class: "panel", "aria-labelledby": "notices-h" },
      el("h2", { id: "notices-h" }, tx("notices.heading", { name: data(ctx.user.org_unit ? ctx.user.org_unit.name : "") })),
      el("p", { class: "hint" }, t("notices.intro")),
      (answer.unavailable || []).length ? el("p", { class: "notice warn inline", id: "notices-unavailable", role: "status" }, t("notices.unavailable")) : "",
      items.length ? el("ul", { class: "notice-list", id: "notice-list" }, items.map((n) => item(ctx, n))) : emptyState(t("notices.none"))));
    return root;
  },
};
