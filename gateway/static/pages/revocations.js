// Requests to reopen a confirmation: an institution (or a unit on its behalf) asks, the lowest
// unit above able to act answers. LAOs, provinces and the department approve or decline those
// they can answer; everyone sees the requests made by or about their units, and the outcome.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { register, t } from "../core/i18n.js";
import { badge, button, confirmDialog, el, emptyState, notice } from "../core/ui.js";
import { data } from "./oversight.js";

register({
  th: {
    "rr.title": "คำขอยกเลิกการยืนยัน",
    "rr.heading": "คำขอยกเลิกการยืนยัน",
    "rr.intro_answer": "สถานศึกษาหรือหน่วยงานที่ยืนยันแล้วขอให้หน่วยงานเหนือขึ้นไปเปิดการยืนยันใหม่ เพื่อแก้ไขข้อมูล คำขอจะส่งถึงหน่วยงานระดับต่ำสุดที่ยังไม่ยืนยันของตนเอง เมื่ออนุมัติ ระบบจะยกเลิกการยืนยันทุกระดับระหว่างหน่วยงานของท่านกับหน่วยงานที่ขอ จากบนลงล่าง",
    "rr.intro_own": "คำขอเปิดการยืนยันใหม่ของหน่วยงานนี้และผลการพิจารณา ยื่นคำขอได้ที่หน้า \"ยืนยันข้อมูล\" เมื่อยืนยันแล้ว",
    "rr.waiting": "รอท่านพิจารณา ({n})",
    "rr.all": "คำขอทั้งหมด",
    "rr.none_waiting": "ไม่มีคำขอที่รอท่านพิจารณา",
    "rr.empty": "ยังไม่มีคำขอยกเลิกการยืนยันในรอบนี้",
    "rr.unit": "หน่วยงานที่ขอ",
    "rr.reason": "เหตุผล",
    "rr.requested": "ขอเมื่อ",
    "rr.requested_by": "โดยบัญชี {who}",
    "rr.routed_to": "ส่งถึง",
    "rr.state": "สถานะ",
    "rr.answer": "ผลการพิจารณา",
    "rr.answered": "{when} โดยบัญชี {who}",
    "rr.answer_reason": "เหตุผล: {reason}",
    "rr.revoked": "ยกเลิกการยืนยันแล้ว {n} หน่วยงาน",
    "rr.actions": "ดำเนินการ",
    "rr.approve": "อนุมัติ",
    "rr.decline": "ไม่อนุมัติ",
    "rr.withdraw": "ถอนคำขอ",
    "rr.approve_label": "อนุมัติคำขอของ {unit}",
    "rr.decline_label": "ไม่อนุมัติคำขอของ {unit}",
    "rr.withdraw_label": "ถอนคำขอของ {unit}",
    "rr.approve_title": "อนุมัติคำขอของ {unit}",
    "rr.approve_body": "ระบบจะยกเลิกการยืนยันของ {unit} และของหน่วยงานที่ยืนยันแล้วระหว่างหน่วยงานของท่านกับหน่วยงานนี้ จากบนลงล่าง ด้วยเหตุผลของคำขอ: {reason}",
    "rr.approve_note": "หมายเหตุของผู้อนุมัติ (ถ้ามี)",
    "rr.approve_ok": "อนุมัติและยกเลิกการยืนยัน",
    "rr.decline_title": "ไม่อนุมัติคำขอของ {unit}",
    "rr.decline_body": "หน่วยงานที่ขอจะเห็นเหตุผลนี้ และการยืนยันของหน่วยงานจะคงอยู่",
    "rr.decline_reason": "เหตุผลที่ไม่อนุมัติ",
    "rr.decline_ok": "ไม่อนุมัติ",
    "rr.withdraw_title": "ถอนคำขอของ {unit}",
    "rr.withdraw_body": "คำขอนี้จะไม่ถูกพิจารณาอีก การยืนยันของหน่วยงานจะคงอยู่",
    "rr.withdraw_ok": "ถอนคำขอ",
    "rr.reason_hint": "3–500 ตัวอักษร ห้ามใส่เลขประจำตัวประชาชน",
    "rr.approved_notice": "อนุมัติแล้ว ยกเลิกการยืนยัน {n} หน่วยงาน",
    "rr.declined_notice": "ไม่อนุมัติคำขอแล้ว",
    "rr.withdrawn_notice": "ถอนคำขอแล้ว",
    "rr.state.pending": "รอพิจารณา",
    "rr.state.approved": "อนุมัติแล้ว",
    "rr.state.declined": "ไม่อนุมัติ",
    "rr.state.withdrawn": "ถอนแล้ว",
  },
  en: {
    "rr.title": "Revocation requests",
    "rr.heading": "Requests to reopen a confirmation",
    "rr.intro_answer": "A confirmed institution or unit asks a unit above to reopen its confirmation so that it can correct its data. The request goes to the lowest unit above whose own confirmation is not given. Approving revokes, top-down, every confirmation between your unit and the unit that asked.",
    "rr.intro_own": "This unit's requests to reopen its confirmation, and their outcome. Ask on the \"Confirm\" page once confirmed.",
    "rr.waiting": "Waiting for your answer ({n})",
    "rr.all": "All requests",
    "rr.none_waiting": "No request is waiting for your answer",
    "rr.empty": "No revocation request in this round yet",
    "rr.unit": "Unit asking",
    "rr.reason": "Reason",
    "rr.requested": "Asked on",
    "rr.requested_by": "by the account {who}",
    "rr.routed_to": "Sent to",
    "rr.state": "State",
    "rr.answer": "Answer",
    "rr.answered": "{when} by the account {who}",
    "rr.answer_reason": "Reason: {reason}",
    "rr.revoked": "{n} confirmation(s) revoked",
    "rr.actions": "Actions",
    "rr.approve": "Approve",
    "rr.decline": "Decline",
    "rr.withdraw": "Withdraw",
    "rr.approve_label": "Approve the request of {unit}",
    "rr.decline_label": "Decline the request of {unit}",
    "rr.withdraw_label": "Withdraw the request of {unit}",
    "rr.approve_title": "Approve the request of {unit}",
    "rr.approve_body": "The confirmation of {unit}, and those of the confirmed units between your unit and it, will be revoked top-down with the request's reason: {reason}",
    "rr.approve_note": "A note of the approver (optional)",
    "rr.approve_ok": "Approve and revoke",
    "rr.decline_title": "Decline the request of {unit}",
    "rr.decline_body": "The unit that asked sees this reason; its confirmation stays.",
    "rr.decline_reason": "Why it is declined",
    "rr.decline_ok": "Decline",
    "rr.withdraw_title": "Withdraw the request of {unit}",
    "rr.withdraw_body": "The request will not be answered; the confirmation stays.",
    "rr.withdraw_ok": "Withdraw the request",
    "rr.reason_hint": "3–500 characters, no personal ID numbers",
    "rr.approved_notice": "Approved: {n} confirmation(s) revoked",
    "rr.declined_notice": "The request is declined",
    "rr.withdrawn_notice": "The request is withdrawn",
    "rr.state.pending": "Pending",
    "rr.state.approved": "Approved",
    "rr.state.declined": "Declined",
    "rr.state.withdrawn": "Withdrawn",
  },
});

export function requestBadge(state) {
  return badge(state, t(`rr.state.${state}`));
}

function unitLine(unit) {
  return el("span", { class: "rr-unit" }, data(unit.name), " ", el("span", { class: "hint" }, "(", data(unit.code), ")"));
}

// the answer of a request, as the requester reads it
export function answerLine(item) {
  if (item.state === "pending") return null;
  return el("div", { class: "rr-answer" },
    el("p", {}, requestBadge(item.state), " ", t("rr.answered", {
      when: formatDateTime(item.answered_at), who: item.answered_by_username || "–" })),
    item.answer_reason ? el("p", { class: "rr-answer-reason" }, t("rr.answer_reason", { reason: item.answer_reason })) : null,
    item.revoked && item.revoked.length ? el("p", { class: "hint" }, t("rr.revoked", { n: item.revoked.length })) : null);
}

async function act(ctx, path, body, message) {
  try {
    const answer = await api("POST", path, body, { signal: ctx.signal });
    await ctx.refresh();
    notice(message(answer), "ok");
  } catch (e) {
    if (e.name === "AbortError") return;
    notice(errorText(e), "error");
  }
}

function actions(ctx, item) {
  const base = `/rounds/${ctx.round.id}/revocation-requests/${item.id}`;
  const unit = item.unit.name;
  const buttons = [];
  if (item.can_answer) {
    buttons.push(button(t("rr.approve"), async () => {
      const ok = await confirmDialog({
        title: t("rr.approve_title", { unit }),
        body: t("rr.approve_body", { unit, reason: item.reason }),
        confirmLabel: t("rr.approve_ok"),
        danger: true,
        reason: { label: t("rr.approve_note"), hint: t("rr.reason_hint"), required: false },
      });
      if (!ok) return;
      const note = (ok.reason || "").trim();
      await act(ctx, `${base}/approve`, note ? { reason: note } : null,
        (a) => t("rr.approved_notice", { n: a.revoked.length }));
    }, { kind: "primary", attrs: { "aria-label": t("rr.approve_label", { unit }), class: "button primary rr-approve" } }));
    buttons.push(button(t("rr.decline"), async () => {
      const ok = await confirmDialog({
        title: t("rr.decline_title", { unit }),
        body: t("rr.decline_body"),
        confirmLabel: t("rr.decline_ok"),
        reason: { label: t("rr.decline_reason"), hint: t("rr.reason_hint"), required: true },
      });
      if (!ok) return;
      await act(ctx, `${base}/decline`, { reason: ok.reason }, () => t("rr.declined_notice"));
    }, { attrs: { "aria-label": t("rr.decline_label", { unit }), class: "button secondary rr-decline" } }));
  }
  if (item.can_withdraw) {
    buttons.push(withdrawButton(ctx, item));
  }
  return buttons.length ? el("div", { class: "actions rr-actions" }, buttons) : null;
}

export function withdrawButton(ctx, item) {
  const unit = item.unit.name;
  return button(t("rr.withdraw"), async () => {
    const ok = await confirmDialog({
      title: t("rr.withdraw_title", { unit }), body: t("rr.withdraw_body"), confirmLabel: t("rr.withdraw_ok"),
    });
    if (!ok) return;
    await act(ctx, `/rounds/${ctx.round.id}/revocation-requests/${item.id}/withdraw`, null,
      () => t("rr.withdrawn_notice"));
  }, { attrs: { "aria-label": t("rr.withdraw_label", { unit }), class: "button secondary rr-withdraw" } });
}

// one request as a card: who asks, why, where it went, its state and answer, what one may do
function card(ctx, item) {
  return el("li", { class: ["check-item", "rr-item", `rr-${item.state}`], dataset: { id: item.id } },
    el("h4", {}, unitLine(item.unit), " ", requestBadge(item.state)),
    el("dl", { class: "summary-list rr-facts" },
      el("div", { class: "summary-row" }, el("dt", {}, t("rr.reason")), el("dd", { class: "rr-reason" }, data(item.reason))),
      el("div", { class: "summary-row" }, el("dt", {}, t("rr.requested")), el("dd", {}, formatDateTime(item.created_at), " ",
        t("rr.requested_by", { who: item.requested_by_username || "–" }))),
      el("div", { class: "summary-row" }, el("dt", {}, t("rr.routed_to")), el("dd", { class: "rr-routed" }, unitLine(item.routed_to)))),
    answerLine(item),
    actions(ctx, item));
}

async function render(ctx) {
  const root = el("section", { class: "page revocations" }, el("h2", {}, t("rr.heading")));
  if (!ctx.round) {
    root.append(emptyState(t("ov.no_round")));
    return root;
  }
  const institution = ["school", "cdc"].includes(ctx.unit.type);
  root.append(el("p", { class: "hint" }, t(institution ? "rr.intro_own" : "rr.intro_answer")));
  const list = await api("GET", `/rounds/${ctx.round.id}/revocation-requests?org_unit_id=${ctx.unit.id}&limit=200`,
    undefined, { signal: ctx.signal });
  const items = list.items || [];
  if (!institution) {
    const waiting = items.filter((i) => i.can_answer);
    root.append(el("section", { class: "panel rr-waiting", "aria-labelledby": "rr-waiting-h" },
      el("h3", { id: "rr-waiting-h" }, t("rr.waiting", { n: waiting.length })),
      waiting.length ? el("ul", { class: "check-list rr-list" }, waiting.map((i) => card(ctx, i)))
        : emptyState(t("rr.none_waiting"))));
  }
  const others = institution ? items : items.filter((i) => !i.can_answer);
  root.append(el("section", { class: "panel rr-all", "aria-labelledby": "rr-all-h" },
    el("h3", { id: "rr-all-h" }, t("rr.all")),
    others.length ? el("ul", { class: "check-list rr-list" }, others.map((i) => card(ctx, i))) : emptyState(t("rr.empty"))));
  return root;
}

export default {
  id: "revocations",
  title: "rr.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc", "lao", "province", "department"],
  order: 15,
  render,
};
