// Confirming the institution's own data: what will be sealed (counts by grade), an
// explicit "are you sure" step, then the state the server holds (when, by whom).
import { register, t, num } from "../core/i18n.js";
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { badge, button, confirmDialog, el, notice } from "../core/ui.js";
import { editState, withRound, figures, gradeName, gradesFor, stateBanner } from "./institution.js";
import { fetchPreview, moneyBox } from "./money.js";
import { checksFailedDialog, checksSummary, diffSection, fetchChecks, fetchDiff } from "./checks.js";

register({
  th: {
    "confirm.title": "ยืนยันข้อมูล",
    "confirm.heading": "ยืนยันข้อมูลผู้เรียน",
    "confirm.state": "สถานะการยืนยัน",
    "confirm.confirmed_line": "ยืนยันเมื่อ {when} โดยบัญชี {who}",
    "confirm.confirmed_help": "ข้อมูลผู้เรียนของรอบนี้ถูกล็อกตามจำนวนด้านล่าง หากต้องแก้ไข ให้องค์กรปกครองส่วนท้องถิ่นต้นสังกัดยกเลิกการยืนยันก่อน",
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
  },
  en: {
    "confirm.title": "Confirm",
    "confirm.heading": "Confirm the learners",
    "confirm.state": "Confirmation",
    "confirm.confirmed_line": "Confirmed on {when} by the account {who}",
    "confirm.confirmed_help": "This round's learners are locked at the figures below. To change them, the local administrative organization must revoke the confirmation first.",
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

async function render(ctx) {
  const [state, status] = await Promise.all([
    editState(ctx),
    api("GET", `/rounds/${ctx.round.id}/confirmations/${ctx.unit.id}`, null, { signal: ctx.signal }),
  ]);
  const root = el("section", { class: "page confirm" }, el("h2", {}, t("confirm.heading")));
  const confirmed = status.state === "confirmed";
  const stateBox = el("section", { class: "panel", "aria-labelledby": "confirm-state" },
    el("h3", { id: "confirm-state" }, t("confirm.state"), " ", badge(confirmed ? "confirmed" : "unconfirmed")));
  root.append(stateBox);

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
      status.note ? el("p", { class: "confirm-note" }, t("confirm.note_shown", { note: status.note })) : null,
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
