// Confirming the institution's own data: what will be sealed (counts by grade), an
// explicit "are you sure" step, then the state the server holds (when, by whom).
import { register, t, num } from "../core/i18n.js";
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { badge, button, confirmDialog, el, notice } from "../core/ui.js";
import { editState, withRound, figures, gradeName, gradesFor, stateBanner } from "./institution.js";
import { fetchPreview, moneyBox } from "./money.js";
import { checksFailedDialog, checksSummary, diffSection, fetchChecks, fetchDiff } from "./checks.js";
import { data } from "./oversight.js";
import { answerLine, requestBadge, withdrawButton } from "./revocations.js";

register({
  th: {
    "confirm.title": "ยืนยันข้อมูล",
    "confirm.heading": "ยืนยันข้อมูลผู้เรียน",
    "confirm.state": "สถานะการยืนยัน",
    "confirm.confirmed_line": "ยืนยันเมื่อ {when} โดยบัญชี {who}",
    "confirm.confirmed_help": "ข้อมูลผู้เรียนของรอบนี้ถูกล็อกตามจำนวนด้านล่าง หากต้องแก้ไข ให้ขอเปิดการยืนยันใหม่จากหน่วยงานต้นสังกัด (ด้านล่าง)",
    "confirm.revoked_line": "การยืนยันครั้งก่อนถูกยกเลิกเมื่อ {when} เหตุผล: {reason}",
    "confirm.working": "ระบบกำลังดำเนินการยืนยันหรือยกเลิกการยืนยันอยู่ โปรดรอสักครู่แล้วโหลดใหม่",
    "confirm.check_heading": "ตรวจสอบก่อนยืนยัน",
    "confirm.check_intro": "เมื่อยืนยันแล้ว ระบบจะบันทึกจำนวนผู้เรียนตามตารางนี้เป็นข้อมูลของรอบการสำรวจ และล็อกข้อมูล: จะเพิ่ม แก้ไข จำหน่าย หรือนำเข้าผู้เรียนไม่ได้ จนกว่าองค์กรปกครองส่วนท้องถิ่นจะยกเลิกการยืนยัน",
    "confirm.sealed_heading": "จำนวนที่ยืนยันแล้ว",
    "confirm.current_heading": "จำนวนผู้เรียนปัจจุบัน",
    "confirm.col.grade": "ชั้น",
    "confirm.col.count": "จำนวน (คน)",
    "confirm.total": "รวมทั้งสิ้น",
    "confirm.removed": "จำหน่ายออกในรอบนี้",
    "confirm.no_learners": "ยังไม่มีผู้เรียนในรอบนี้ ตรวจสอบว่าบันทึกครบแล้วก่อนยืนยัน",
    "confirm.review": "ตรวจทานรายชื่อผู้เรียน",
    "confirm.do": "ยืนยันข้อมูล",
    "confirm.dialog_title": "ยืนยันข้อมูลของ {unit}",
    "confirm.dialog_body": "ยืนยันจำนวนผู้เรียนทั้งหมด {total} คนของรอบการสำรวจนี้ ตามตารางด้านล่าง หลังยืนยันจะแก้ไขข้อมูลไม่ได้จนกว่าจะมีการยกเลิกการยืนยัน",
    "confirm.dialog_ok": "ยืนยัน {total} คน",
    "confirm.note_label": "หมายเหตุถึงหน่วยงานต้นสังกัด (ถ้ามี)",
    "confirm.note_hint": "เช่น เหตุที่จำนวนเปลี่ยนไปจากรอบก่อน ไม่เกิน 1,000 ตัวอักษร ห้ามใส่เลขประจำตัวประชาชน",
    "confirm.note_shown": "หมายเหตุ: {note}",
    "confirm.done": "ยืนยันข้อมูลแล้ว",
    "confirm.not_own": "หน้านี้แสดงสถานะอย่างเดียว: สถานศึกษาเป็นผู้ยืนยันข้อมูลของตนเอง",
    "confirm.chain_heading": "การยืนยันของหน่วยงานต้นสังกัด",
    "confirm.chain_confirmed": "ยืนยันเมื่อ {when} โดยบัญชี {who}",
    "confirm.reopen_heading": "ขอเปิดการยืนยันใหม่",
    "confirm.reopen_help": "หน่วยงานยกเลิกการยืนยันของตนเองไม่ได้ หากต้องแก้ไขข้อมูล ให้ส่งคำขอพร้อมเหตุผล ระบบจะส่งถึงหน่วยงานต้นสังกัดระดับต่ำสุดที่ยังไม่ยืนยันของตนเอง",
    "confirm.reopen": "ขอเปิดการยืนยันใหม่",
    "confirm.reopen_title": "ขอเปิดการยืนยันของ {unit} ใหม่",
    "confirm.reopen_body": "เมื่อหน่วยงานต้นสังกัดอนุมัติ การยืนยันจะถูกยกเลิกและแก้ไขข้อมูลได้ แล้วจึงยืนยันใหม่",
    "confirm.reopen_reason": "เหตุผลที่ขอแก้ไขข้อมูล",
    "confirm.reopen_hint": "3–500 ตัวอักษร ห้ามใส่เลขประจำตัวประชาชน",
    "confirm.reopen_ok": "ส่งคำขอ",
    "confirm.reopen_sent": "ส่งคำขอถึง {unit} แล้ว",
    "confirm.reopen_pending": "ส่งคำขอถึง {unit} เมื่อ {when} เหตุผล: {reason}",
    "confirm.reopen_last": "คำขอครั้งล่าสุด",
  },
  en: {
    "confirm.title": "Confirm",
    "confirm.heading": "Confirm the learners",
    "confirm.state": "Confirmation",
    "confirm.confirmed_line": "Confirmed on {when} by the account {who}",
    "confirm.confirmed_help": "This round's learners are locked at the figures below. To change them, ask a unit above to reopen the confirmation (below).",
    "confirm.revoked_line": "The previous confirmation was revoked on {when}. Reason: {reason}",
    "confirm.working": "A confirmation or revocation is being completed; wait a moment and reload.",
    "confirm.check_heading": "Check before you confirm",
    "confirm.check_intro": "Confirming records the numbers in this table as the institution's figures for the round and locks the data: learners cannot be added, changed, removed or imported until the local administrative organization revokes the confirmation.",
    "confirm.sealed_heading": "Confirmed figures",
    "confirm.current_heading": "Current learners",
    "confirm.col.grade": "Grade",
    "confirm.col.count": "Learners",
    "confirm.total": "Total",
    "confirm.removed": "Removed in this round",
    "confirm.no_learners": "There are no learners in this round yet; make sure everyone is recorded before confirming.",
    "confirm.review": "Review the list of learners",
    "confirm.do": "Confirm the data",
    "confirm.dialog_title": "Confirm the data of {unit}",
    "confirm.dialog_body": "You confirm {total} learners in all for this census round, as in the table below. After confirming, the data cannot change until the confirmation is revoked.",
    "confirm.dialog_ok": "Confirm {total} learners",
    "confirm.note_label": "A note for the level above (optional)",
    "confirm.note_hint": "E.g. why the numbers moved since the last round; at most 1,000 characters, no personal ID numbers",
    "confirm.note_shown": "Note: {note}",
    "confirm.done": "The data are confirmed",
    "confirm.not_own": "Read only: the institution confirms its own data",
    "confirm.chain_heading": "Confirmations above",
    "confirm.chain_confirmed": "Confirmed on {when} by the account {who}",
    "confirm.reopen_heading": "Ask to reopen",
    "confirm.reopen_help": "A unit cannot revoke its own confirmation. To correct the data, send a request with a reason; it goes to the lowest unit above whose own confirmation is not given.",
    "confirm.reopen": "Ask to reopen",
    "confirm.reopen_title": "Ask to reopen the confirmation of {unit}",
    "confirm.reopen_body": "Once a unit above approves, the confirmation is revoked and the data can be corrected, then confirmed again.",
    "confirm.reopen_reason": "Why the data must be corrected",
    "confirm.reopen_hint": "3–500 characters, no personal ID numbers",
    "confirm.reopen_ok": "Send the request",
    "confirm.reopen_sent": "The request was sent to {unit}",
    "confirm.reopen_pending": "Sent to {unit} on {when}. Reason: {reason}",
    "confirm.reopen_last": "The latest request",
  },
});

// two narrow columns: a table even on a phone (no cards)
function countsTable(unit, counts, caption) {
  const byGrade = (counts && counts.by_grade) || {};
  const rows = gradesFor(unit).filter((g) => byGrade[g]).map((g) => el("tr", {},
    el("th", { scope: "row" }, gradeName(g)), el("td", { class: "num" }, num(byGrade[g]))));
  return el("table", { class: "counts" },
    caption ? el("caption", {}, caption) : null,
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("confirm.col.grade")),
      el("th", { scope: "col", class: "num" }, t("confirm.col.count")))),
    el("tbody", {}, rows),
    el("tfoot", {}, el("tr", { class: "total" }, el("th", { scope: "row" }, t("confirm.total")),
      el("td", { class: "num" }, num((counts && counts.total) || 0)))));
}

function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// the units above, top-down: confirmed (when, by whom) or not
export function chainPanel(chain) {
  return el("section", { class: "panel confirm-chain", "aria-labelledby": "confirm-chain-h" },
    el("h3", { id: "confirm-chain-h" }, t("confirm.chain_heading")),
    el("dl", { class: "summary-list" }, chain.map((a) => el("div", { class: "summary-row", dataset: { unit: a.unit_id } },
      el("dt", {}, t(`type.${a.type}`), " ", data(a.name)),
      el("dd", {}, badge(a.state === "confirmed" ? "confirmed" : "unconfirmed"),
        a.state === "confirmed"
          ? [" ", t("confirm.chain_confirmed", { when: formatDateTime(a.confirmed_at), who: a.confirmed_by_name || "–" })]
          : null)))));
}

// a confirmed unit asks the level above to reopen it; its latest request and the answer
export function reopenPanel(ctx, requests, confirmed) {
  const latest = requests[0];
  const pending = latest && latest.state === "pending" ? latest : null;
  if (!confirmed && !latest) return null;
  const box = el("section", { class: "panel confirm-reopen", "aria-labelledby": "confirm-reopen-h" },
    el("h3", { id: "confirm-reopen-h" }, t("confirm.reopen_heading")));
  if (pending) {
    box.append(el("p", { class: "reopen-pending" }, requestBadge("pending"), " ", t("confirm.reopen_pending", {
      unit: pending.routed_to.name, when: formatDateTime(pending.created_at), reason: pending.reason })));
    if (pending.can_withdraw) box.append(el("div", { class: "actions" }, withdrawButton(ctx, pending)));
    return box;
  }
  if (latest) {
    box.append(el("div", { class: "reopen-last" }, el("p", { class: "hint" }, t("confirm.reopen_last"), ": ", data(latest.reason)),
      answerLine(latest)));
  }
  if (!confirmed) return box;
  box.append(el("p", { class: "hint" }, t("confirm.reopen_help")),
    el("div", { class: "actions" }, button(t("confirm.reopen"), async () => {
      const ok = await confirmDialog({
        title: t("confirm.reopen_title", { unit: ctx.unit.name }),
        body: t("confirm.reopen_body"),
        confirmLabel: t("confirm.reopen_ok"),
        reason: { label: t("confirm.reopen_reason"), hint: t("confirm.reopen_hint"), required: true },
      });
      if (!ok) return;
      let made;
      try {
        made = await api("POST", `/rounds/${ctx.round.id}/revocation-requests`,
          { unit_id: ctx.unit.id, reason: ok.reason }, { signal: ctx.signal });
      } catch (e) {
        if (e.name !== "AbortError") notice(errorText(e), "error");
        return;
      }
      await ctx.refresh();
      notice(t("confirm.reopen_sent", { unit: made.routed_to.name }), "ok");
    }, { attrs: { class: "button secondary reopen-ask" } })));
  return box;
}

async function render(ctx) {
  const base = `/rounds/${ctx.round.id}`;
  const [state, status, above, asked] = await Promise.all([
    editState(ctx),
    api("GET", `${base}/confirmations/${ctx.unit.id}`, null, { signal: ctx.signal }),
    api("GET", `${base}/confirmations/${ctx.unit.id}/ancestors`, null, { signal: ctx.signal }),
    api("GET", `${base}/revocation-requests?org_unit_id=${ctx.unit.id}&limit=20`, null, { signal: ctx.signal }),
  ]);
  const root = el("section", { class: "page confirm" }, el("h2", {}, t("confirm.heading")));
  const confirmed = status.state === "confirmed";
  const stateBox = el("section", { class: "panel", "aria-labelledby": "confirm-state" },
    el("h3", { id: "confirm-state" }, t("confirm.state"), " ", badge(confirmed ? "confirmed" : "unconfirmed")));
  root.append(stateBox);
  const requests = (asked.items || []).filter((r) => r.unit.id === ctx.unit.id);
  const reopen = status.saga ? null : reopenPanel(ctx, requests, confirmed);
  if (reopen) root.append(reopen);
  root.append(chainPanel(above.items || []));

  if (status.saga) {
    stateBox.append(el("p", {}, badge(status.saga), " ", t("confirm.working")),
      button(t("action.refresh"), () => ctx.refresh()));
    return root;
  }
  if (confirmed) {
    stateBox.append(
      el("p", { class: "confirmed-line" }, t("confirm.confirmed_line", {
        when: formatDateTime(status.confirmed_at), who: status.confirmed_by_username || "–",
      })),
      status.note ? el("p", { class: "confirm-note" }, t("confirm.note_shown", { note: status.note })) : "",
      el("p", { class: "hint" }, t("confirm.confirmed_help")),
      countsTable(ctx.unit, status.counts, t("confirm.sealed_heading")));
    return root;
  }
  if (status.revoked_at) {
    stateBox.append(el("p", { class: "hint" }, t("confirm.revoked_line", {
      when: formatDateTime(status.revoked_at), reason: status.revoke_reason || "–",
    })));
  }

  const counts = state.summary.counts || { total: 0, by_grade: {} };
  // what these figures are worth at this round's rates, and the change since the last confirmation
  const preview = fetchPreview(ctx);
  const money = () => moneyBox(preview, { scope: "unit", unitId: ctx.unit.id, level: 4 });
  const check = el("section", { class: "panel check", "aria-labelledby": "confirm-check" },
    el("h3", { id: "confirm-check" }, state.canEdit ? t("confirm.check_heading") : t("confirm.current_heading")));
  if (state.canEdit) check.append(el("p", {}, t("confirm.check_intro")));
  else if (state.why === "inst.why.not_own") check.append(el("p", { class: "hint" }, t("confirm.not_own")));
  else check.append(stateBanner(state));
  check.append(
    figures([[t("confirm.total"), counts.total || 0], [t("confirm.removed"), state.summary.removed || 0]]),
    countsTable(ctx.unit, counts),
    counts.total ? document.createDocumentFragment() : el("p", { class: "notice info inline" }, t("confirm.no_learners")),
    money());
  root.append(check);

  if (state.canEdit) {
    // the checks before confirming and what changed since the last confirmation
    const [report, diff] = await Promise.all([fetchChecks(ctx), fetchDiff(ctx)]);
    const summary = checksSummary(ctx, report, { headingLevel: "h4" });
    const changes = diffSection(diff, { headingLevel: "h4" });
    if (changes) check.append(changes);
    check.append(summary.node);
    const blocked = summary.blocking > 0;
    const reasonId = "confirm-disabled-reason";
    if (blocked) check.append(el("p", { class: "hint disabled-reason", id: reasonId }, t("checks.disabled_reason")));
    check.append(el("div", { class: "actions" },
      button(t("confirm.do"), async () => {
        const total = num(counts.total || 0);
        const ok = await confirmDialog({
          title: t("confirm.dialog_title", { unit: ctx.unit.name }),
          body: el("div", {},
            el("p", {}, t("confirm.dialog_body", { total })),
            countsTable(ctx.unit, counts),
            money()),
          confirmLabel: t("confirm.dialog_ok", { total }),
          reason: { label: t("confirm.note_label"), hint: t("confirm.note_hint"), required: false },
        });
        if (!ok) return;
        const note = (ok.reason || "").trim();
        try {
          await api("POST", `/rounds/${ctx.round.id}/confirmations/${ctx.unit.id}`, note ? { note } : null,
            { signal: ctx.signal, headers: { "Idempotency-Key": idempotencyKey() } });
        } catch (e) {
          if (e.name === "AbortError") return;
          if (e.code === "checks_failed" && Array.isArray(e.data.items)) {
            // the data changed since the page was drawn: the server's items, then the page again
            await checksFailedDialog(ctx, e.data.items);
            if (location.hash === `#/u/${ctx.unit.id}/confirm`) await ctx.refresh();
          } else notice(errorText(e), "error");
          return;
        }
        await ctx.refresh();
        notice(t("confirm.done"), "ok");
      }, { kind: "primary", disabled: blocked, attrs: blocked ? { "aria-describedby": reasonId } : {} }),
      el("a", { href: `#/u/${ctx.unit.id}/learners`, class: "button secondary" }, t("confirm.review"))));
  }
  return root;
}

export default {
  id: "confirm",
  title: "confirm.title",
  levels: ["institution"],
  unitTypes: ["school", "cdc"],
  order: 14,
  render: withRound(render),
};
