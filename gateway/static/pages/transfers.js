// Transfers of a child between institutions: the receiving institution (or a unit above it)
// asks for a child another institution holds; the holder accepts (the child moves in one step)
// or declines with a reason; unanswered, the holder's LAO and then the province may answer.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { register, t } from "../core/i18n.js";
import { SCHOOL_GRADES, CDC_GRADES } from "../core/messages.js";
import {
  badge, button, clearErrors, confirmDialog, el, emptyState, field, formErrors, notice, onSubmit,
} from "../core/ui.js";
import { unitPicker } from "../core/unitpicker.js";
import { data, tx } from "./oversight.js";

register({
  th: {
    "tr.title": "คำขอย้ายเด็ก",
    "tr.heading": "คำขอย้ายเด็กระหว่างสถานศึกษา",
    "tr.intro": "สถานศึกษาที่รับเด็กย้ายเข้าส่งคำขอไปยังสถานศึกษาที่มีชื่อเด็กอยู่ เมื่อสถานศึกษาต้นทางตอบรับ ระบบจะย้ายชื่อเด็กในขั้นตอนเดียว หากไม่ตอบภายในเวลาที่กำหนด องค์กรปกครองส่วนท้องถิ่นและจังหวัดของต้นทางตอบแทนได้",
    "tr.incoming": "คำขอที่ต้องตอบ",
    "tr.outgoing": "คำขอที่ส่งไป",
    "tr.tabs": "ประเภทคำขอ",
    "tr.state_filter": "สถานะ",
    "tr.state_all": "ทุกสถานะ",
    "tr.empty_incoming": "ไม่มีคำขอย้ายเด็กออกจากหน่วยงานนี้",
    "tr.empty_outgoing": "ยังไม่มีคำขอรับเด็กย้ายเข้า",
    "tr.child": "เด็ก",
    "tr.child_hidden": "เลขประจำตัว {id} (ชื่อจะแสดงเมื่อตอบรับแล้ว)",
    "tr.from": "ต้นทาง",
    "tr.held_in": "สถานศึกษาใน{name}",
    "tr.to": "ปลายทาง",
    "tr.grade": "ชั้นที่รับเข้า",
    "tr.note": "หมายเหตุ",
    "tr.requested": "ขอเมื่อ",
    "tr.who": "ผู้ตอบได้ขณะนี้",
    "tr.since": "{level} ตั้งแต่ {when}",
    "tr.next": "ถ้ายังไม่ตอบ ระดับถัดไปตอบแทนได้ตั้งแต่ {when}",
    "tr.level.institution": "สถานศึกษาต้นทาง",
    "tr.level.lao": "อปท. ของต้นทาง",
    "tr.level.province": "จังหวัดของต้นทาง",
    "tr.sealed": "ข้อมูลของสถานศึกษาต้นทางยืนยันแล้ว คำขอรอ {unit} ยกเลิกการยืนยันก่อน",
    "tr.reason": "เหตุผลที่ไม่ตอบรับ: {reason}",
    "tr.answered": "ตอบเมื่อ",
    "tr.history": "ประวัติ",
    "tr.action.requested": "ส่งคำขอ",
    "tr.action.accepted": "ตอบรับ",
    "tr.action.declined": "ไม่ตอบรับ",
    "tr.action.withdrawn": "ถอนคำขอ",
    "tr.action.cancelled": "ยกเลิก (นำชื่อเด็กออกแล้ว)",
    "tr.state.pending": "รอตอบ",
    "tr.state.accepted": "ย้ายแล้ว",
    "tr.state.declined": "ไม่ตอบรับ",
    "tr.state.withdrawn": "ถอนแล้ว",
    "tr.state.cancelled": "ยกเลิก",
    "tr.accept": "ตอบรับและย้ายเด็ก",
    "tr.decline": "ไม่ตอบรับ",
    "tr.withdraw": "ถอนคำขอ",
    "tr.accept_title": "ย้ายเด็กไปยัง {unit}",
    "tr.accept_body": "ชื่อเด็กจะถูกนำออกจากหน่วยงานต้นทาง (เหตุผล: ย้ายออก) และเพิ่มที่ {unit} ในขั้นตอนเดียว",
    "tr.decline_title": "ไม่ตอบรับคำขอของ {unit}",
    "tr.decline_reason": "เหตุผล (ผู้ขอจะเห็นเหตุผลนี้)",
    "tr.reason_hint": "ไม่เกิน 500 ตัวอักษร ห้ามใส่เลขประจำตัวประชาชน",
    "tr.withdraw_title": "ถอนคำขอไปยังต้นทาง",
    "tr.withdraw_body": "คำขอนี้จะไม่ถูกพิจารณาอีก",
    "tr.accepted_notice": "ย้ายเด็กไปยัง {unit} แล้ว",
    "tr.declined_notice": "ไม่ตอบรับคำขอแล้ว",
    "tr.withdrawn_notice": "ถอนคำขอแล้ว",
    "tr.wait_until": "ท่านตอบแทนได้ตั้งแต่ {when}",
    "tr.form": "ขอรับเด็กย้ายเข้า",
    "tr.form_intro": "ใช้เมื่อเด็กมีชื่ออยู่ที่สถานศึกษาอื่นในรอบนี้ หากยังไม่มีชื่อที่ใด ให้เพิ่มเด็กที่หน้ารายชื่อนักเรียนได้เลย",
    "tr.id_kind": "ประเภทเลขประจำตัว",
    "tr.kind.national_id": "เลขประจำตัวประชาชน",
    "tr.kind.g_code": "รหัส G",
    "tr.id": "เลขประจำตัวของเด็ก",
    "tr.id_hint": "13 หลัก หรือ G ตามด้วยตัวเลข 12 หลัก",
    "tr.receiver": "สถานศึกษาที่รับเด็ก",
    "tr.receiver_hint": "สถานศึกษาในสังกัดของท่าน",
    "tr.grade_keep": "ชั้นเดิมของเด็ก",
    "tr.send": "ส่งคำขอ",
    "tr.sent": "ส่งคำขอแล้ว รอ{where}ตอบ",
    "tr.required": "กรุณากรอก{field}",
    "tr.choose_receiver": "กรุณาเลือกสถานศึกษาที่รับเด็ก",
    "tr.request_from_learners": "ขอย้ายเด็กมา",
    "tr.not_held": "ไม่พบเด็กคนนี้ที่สถานศึกษาใดในรอบนี้ ให้เพิ่มเด็กที่หน้ารายชื่อนักเรียนได้โดยตรง",
  },
  en: {
    "tr.title": "Transfers",
    "tr.heading": "Transfers of a child between institutions",
    "tr.intro": "The receiving institution asks the institution where the child is recorded. When the holder accepts, the child moves in one step. Unanswered in time, the holder's LAO and then its province may answer.",
    "tr.incoming": "To answer",
    "tr.outgoing": "Sent",
    "tr.tabs": "Kind of request",
    "tr.state_filter": "State",
    "tr.state_all": "Every state",
    "tr.empty_incoming": "No request to move a child out of this unit",
    "tr.empty_outgoing": "No request to receive a child yet",
    "tr.child": "Child",
    "tr.child_hidden": "ID {id} (the name shows once accepted)",
    "tr.from": "From",
    "tr.held_in": "an institution in {name}",
    "tr.to": "To",
    "tr.grade": "Grade at the receiver",
    "tr.note": "Note",
    "tr.requested": "Asked on",
    "tr.who": "Who may answer now",
    "tr.since": "{level} since {when}",
    "tr.next": "Unanswered, the next level may answer from {when}",
    "tr.level.institution": "The holding institution",
    "tr.level.lao": "The holder's LAO",
    "tr.level.province": "The holder's province",
    "tr.sealed": "The holder's data are confirmed: the request waits for {unit} to revoke the confirmation",
    "tr.reason": "Declined because: {reason}",
    "tr.answered": "Answered on",
    "tr.history": "History",
    "tr.action.requested": "Requested",
    "tr.action.accepted": "Accepted",
    "tr.action.declined": "Declined",
    "tr.action.withdrawn": "Withdrawn",
    "tr.action.cancelled": "Cancelled (the child was removed)",
    "tr.state.pending": "Pending",
    "tr.state.accepted": "Moved",
    "tr.state.declined": "Declined",
    "tr.state.withdrawn": "Withdrawn",
    "tr.state.cancelled": "Cancelled",
    "tr.accept": "Accept and move the child",
    "tr.decline": "Decline",
    "tr.withdraw": "Withdraw",
    "tr.accept_title": "Move the child to {unit}",
    "tr.accept_body": "The child is removed here (reason: moved out) and added at {unit} in one step.",
    "tr.decline_title": "Decline the request of {unit}",
    "tr.decline_reason": "Reason (the requester sees it)",
    "tr.reason_hint": "At most 500 characters, no personal ID numbers",
    "tr.withdraw_title": "Withdraw the request",
    "tr.withdraw_body": "The request will not be answered.",
    "tr.accepted_notice": "The child moved to {unit}",
    "tr.declined_notice": "The request is declined",
    "tr.withdrawn_notice": "The request is withdrawn",
    "tr.wait_until": "You may answer from {when}",
    "tr.form": "Request a child's transfer in",
    "tr.form_intro": "For a child recorded at another institution in this round. A child recorded nowhere is added on the learners page.",
    "tr.id_kind": "Kind of ID",
    "tr.kind.national_id": "National ID",
    "tr.kind.g_code": "G-Code",
    "tr.id": "The child's ID",
    "tr.id_hint": "13 digits, or G and 12 digits",
    "tr.receiver": "Receiving institution",
    "tr.receiver_hint": "An institution of your subtree",
    "tr.grade_keep": "The child's current grade",
    "tr.send": "Send the request",
    "tr.sent": "Request sent; waiting for {where} to answer",
    "tr.required": "Enter {field}",
    "tr.choose_receiver": "Choose the receiving institution",
    "tr.request_from_learners": "Request a transfer",
    "tr.not_held": "No institution records this child in this round: add the child directly on the learners page",
  },
});

const INSTITUTIONS = ["school", "cdc"];
const STATES = ["pending", "accepted", "declined", "withdrawn", "cancelled"];
const view = { direction: null, state: "" };
let prefill = null;

// the learners page hands over a refused child: the form opens filled in
export function prefillTransfer(values) {
  prefill = values;
}

function stateBadge(state) {
  return badge(state === "accepted" ? "confirmed" : state, t(`tr.state.${state}`));
}

function unitText(unit) {
  return el("span", {}, data(unit.name), " ", el("span", { class: "hint" }, "(", data(unit.code), ")"));
}

function row(label, ...value) {
  return el("div", { class: "summary-row" }, el("dt", {}, label), el("dd", {}, ...value));
}

// may the signed-in user answer now? (the service decides; this only spares a useless button)
function answerFrom(ctx, item) {
  const level = { institution: 0, lao: 1, province: 2, department: 2 }[ctx.user.role] ?? 0;
  const ladder = ["institution", "lao", "province"];
  const now = ladder.indexOf(item.answerable_by ? item.answerable_by.level : "institution");
  if (level <= now) return null;
  return item.answerable_by && item.answerable_by.next_level_at;
}

async function act(ctx, path, body, message) {
  try {
    const answer = await api("POST", path, body, { signal: ctx.signal });
    await ctx.refresh();
    notice(message(answer), "ok");
  } catch (e) {
    if (e.name === "AbortError") return;
    const when = e.data && e.data.answerable_at;
    notice(when ? t("tr.wait_until", { when: formatDateTime(when) }) : errorText(e), "error");
  }
}

function actions(ctx, item) {
  if (item.state !== "pending") return null;
  const base = `/rounds/${ctx.round.id}/transfers/${item.id}`;
  const to = item.to_institution.name;
  const buttons = [];
  if (view.direction === "incoming" && item.from_institution) {
    const wait = answerFrom(ctx, item);
    if (wait) {
      return el("p", { class: "hint tr-wait" }, t("tr.wait_until", { when: formatDateTime(wait) }));
    }
    if (!item.sealed) {
      buttons.push(button(t("tr.accept"), async () => {
        const ok = await confirmDialog({ title: t("tr.accept_title", { unit: to }), body: t("tr.accept_body", { unit: to }),
          confirmLabel: t("tr.accept") });
        if (!ok) return;
        await act(ctx, `${base}/accept`, null, () => t("tr.accepted_notice", { unit: to }));
      }, { kind: "primary", attrs: { class: "button primary tr-accept" } }));
    }
    buttons.push(button(t("tr.decline"), async () => {
      const ok = await confirmDialog({ title: t("tr.decline_title", { unit: to }), body: "",
        confirmLabel: t("tr.decline"), reason: { label: t("tr.decline_reason"), hint: t("tr.reason_hint"), required: true } });
      if (!ok) return;
      await act(ctx, `${base}/decline`, { reason: ok.reason }, () => t("tr.declined_notice"));
    }, { attrs: { class: "button secondary tr-decline" } }));
  }
  if (view.direction === "outgoing") {
    buttons.push(button(t("tr.withdraw"), async () => {
      const ok = await confirmDialog({ title: t("tr.withdraw_title"), body: t("tr.withdraw_body"), confirmLabel: t("tr.withdraw") });
      if (!ok) return;
      await act(ctx, `${base}/withdraw`, null, () => t("tr.withdrawn_notice"));
    }, { attrs: { class: "button secondary tr-withdraw" } }));
  }
  return buttons.length ? el("div", { class: "actions tr-actions" }, buttons) : null;
}

function card(ctx, item) {
  const id = item.national_id || item.g_code;
  const child = item.learner
    ? el("span", { class: "tr-child-name" }, data([item.learner.prefix, item.learner.first_name, item.learner.last_name].filter(Boolean).join(" ")))
    : el("span", { class: "tr-child-id" }, t("tr.child_hidden", { id }));
  const from = item.from_institution ? unitText(item.from_institution)
    : el("span", { class: "tr-held-in" }, tx("tr.held_in", { name: data(item.held_in && item.held_in.name) }));
  const who = item.answerable_by;
  return el("li", { class: ["check-item", "tr-item", `tr-${item.state}`], dataset: { id: item.id } },
    el("h4", {}, child, " ", stateBadge(item.state)),
    el("dl", { class: "summary-list tr-facts" },
      row(t("tr.from"), from),
      row(t("tr.to"), unitText(item.to_institution)),
      row(t("tr.grade"), t(`grade.${item.grade}`)),
      row(t("tr.requested"), formatDateTime(item.created_at)),
      item.note ? row(t("tr.note"), data(item.note)) : null,
      who ? row(t("tr.who"), t("tr.since", { level: t(`tr.level.${who.level}`), when: formatDateTime(who.since) }),
        who.next_level_at ? el("span", { class: "hint" }, " · ", t("tr.next", { when: formatDateTime(who.next_level_at) })) : null) : null,
      item.answered_at ? row(t("tr.answered"), formatDateTime(item.answered_at)) : null),
    item.sealed && item.waiting_on ? el("p", { class: "notice info tr-sealed" }, tx("tr.sealed", { unit: data(item.waiting_on.name) })) : null,
    item.reason && item.state === "declined" ? el("p", { class: "tr-reason" }, t("tr.reason", { reason: item.reason })) : null,
    el("details", { class: "tr-history" }, el("summary", {}, t("tr.history")),
      el("ol", {}, (item.history || []).map((s) => el("li", {}, formatDateTime(s.at), " · ", t(`tr.action.${s.action}`),
        s.reason ? el("span", {}, " · ", data(s.reason)) : null, s.note ? el("span", {}, " · ", data(s.note)) : null)))),
    actions(ctx, item));
}

function requestForm(ctx, children) {
  const institution = INSTITUTIONS.includes(ctx.unit.type);
  const kind = el("select", { name: "id_kind", id: "tr-kind" },
    ["national_id", "g_code"].map((k) => el("option", { value: k }, t(`tr.kind.${k}`))));
  const idInput = el("input", { name: "identity", id: "tr-id", autocomplete: "off", inputmode: "text", maxlength: "32", translate: "no" });
  const note = el("textarea", { name: "note", id: "tr-note", rows: "2", maxlength: "500" });
  const grades = ctx.unit.type === "cdc" ? CDC_GRADES : SCHOOL_GRADES;
  const grade = el("select", { name: "grade", id: "tr-grade" }, el("option", { value: "" }, t("tr.grade_keep")),
    grades.map((g) => el("option", { value: g }, t(`grade.${g}`))));
  const picker = institution ? null : unitPicker({ rootId: ctx.user.org_unit_id, id: "tr-receiver", name: "to_institution_id",
    nearby: children.filter((u) => INSTITUTIONS.includes(u.type)), status: "active",
    accept: (u) => INSTITUTIONS.includes(u.type), label: t("tr.receiver"), hint: t("tr.receiver_hint") });
  const form = el("form", { class: "panel tr-form", "aria-labelledby": "tr-form-h", novalidate: true },
    el("h3", { id: "tr-form-h" }, t("tr.form")),
    el("p", { class: "hint" }, t("tr.form_intro")),
    picker ? picker.node : null,
    el("div", { class: "form-grid" },
      field({ label: t("tr.id_kind"), name: "id_kind", input: kind }),
      field({ label: t("tr.id"), name: "national_id", input: idInput, hint: t("tr.id_hint") }),
      field({ label: t("tr.grade"), name: "grade", input: grade, optional: true }),
      field({ label: t("tr.note"), name: "note", input: note, optional: true, hint: t("tr.reason_hint") })),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("tr.send"))));
  if (prefill) {
    kind.value = prefill.g_code ? "g_code" : "national_id";
    idInput.value = prefill.g_code || prefill.national_id || "";
    if (prefill.grade && grades.includes(prefill.grade)) grade.value = prefill.grade;
    prefill = null;
  }
  onSubmit(form, async () => {
    clearErrors(form);
    const problems = {};
    const value = idInput.value.trim();
    if (!value) problems.national_id = t("tr.required", { field: t("tr.id") });
    if (picker && !picker.unit) problems.to_institution_id = t("tr.choose_receiver");
    if (Object.keys(problems).length) { formErrors(form, { fields: problems }); return; }
    const body = { to_institution_id: picker ? picker.unit.id : ctx.unit.id, [kind.value]: value };
    if (note.value.trim()) body.note = note.value.trim();
    if (grade.value) body.grade = grade.value;
    try {
      const made = await api("POST", `/rounds/${ctx.round.id}/transfers`, body, { signal: ctx.signal });
      view.direction = "outgoing";
      view.state = "";
      await ctx.refresh();
      const where = made.from_institution ? data(made.from_institution.name)
        : el("span", {}, ...tx("tr.held_in", { name: data(made.held_in && made.held_in.name) }));
      notice(tx("tr.sent", { where }), "ok");
    } catch (e) {
      if (e.name === "AbortError") return;
      if (e.code === "validation_error" && e.fields && (e.fields.g_code || e.fields.national_id)) {
        e.fields.national_id = e.fields.national_id || e.fields.g_code;
      }
      if (e.code === "not_found") { formErrors(form, { fields: { national_id: t("tr.not_held") } }); return; }
      if (!formErrors(form, e)) notice(errorText(e), "error");
    }
  });
  return form;
}

async function render(ctx) {
  const root = el("section", { class: "page transfers" }, el("h2", {}, t("tr.heading")));
  if (!ctx.round) {
    root.append(emptyState(t("ov.no_round")));
    return root;
  }
  const institution = INSTITUTIONS.includes(ctx.unit.type);
  if (!view.direction) view.direction = prefill ? "outgoing" : "incoming";
  root.append(el("p", { class: "hint" }, t("tr.intro")));
  const query = new URLSearchParams({ org_unit_id: ctx.unit.id, direction: view.direction, limit: "200" });
  if (view.state) query.set("state", view.state);
  const [list, children] = await Promise.all([
    api("GET", `/rounds/${ctx.round.id}/transfers?${query}`, undefined, { signal: ctx.signal }),
    institution ? Promise.resolve({ items: [] })
      : api("GET", `/org-units/${ctx.unit.id}/children?status=active&limit=1000`, undefined, { signal: ctx.signal }),
  ]);
  const tab = (direction) => el("button", { type: "button", class: ["button", view.direction === direction ? "primary" : "secondary", `tr-tab-${direction}`],
    "aria-pressed": String(view.direction === direction),
    onclick: () => { view.direction = direction; ctx.refresh(); } }, t(`tr.${direction}`));
  const filter = el("select", { id: "tr-state", name: "state", onchange: (e) => { view.state = e.target.value; ctx.refresh(); } },
    el("option", { value: "" }, t("tr.state_all")), STATES.map((s) => el("option", { value: s }, t(`tr.state.${s}`))));
  filter.value = view.state;
  const items = list.items || [];
  root.append(el("div", { class: "toolbar tr-toolbar" },
    el("div", { class: "actions", role: "group", "aria-label": t("tr.tabs") }, tab("incoming"), tab("outgoing")),
    field({ label: t("tr.state_filter"), name: "state", input: filter })));
  root.append(el("section", { class: "panel tr-list-panel", "aria-live": "polite" },
    items.length ? el("ul", { class: "check-list tr-list" }, items.map((i) => card(ctx, i)))
      : emptyState(t(view.direction === "incoming" ? "tr.empty_incoming" : "tr.empty_outgoing"))));
  root.append(requestForm(ctx, children.items || []));
  return root;
}

export default {
  id: "transfers",
  title: "tr.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc", "lao", "province", "department"],
  order: 16,
  render,
};
