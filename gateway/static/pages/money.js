// The money at stake before confirming: lunch and milk on the counts recorded now (the
// budget report's preview, at this round's rates) and the change against what was last
// confirmed. Used by the institution's confirm page and the LAO's own confirmation.
import { api, errorText } from "../core/api.js";
import { num, register, t } from "../core/i18n.js";
import { el, errorState, loading, tx } from "../core/ui.js";

register({
  th: {
    "money.heading": "เงินอุดหนุนที่คำนวณจากข้อมูลนี้",
    "money.loading": "กำลังคำนวณเงินอุดหนุน…",
    "money.error": "คำนวณเงินอุดหนุนไม่ได้: {error}",
    "money.line": "ค่าอาหารกลางวัน {lunch} บาท, อาหารเสริม (นม) {milk} บาท, รวม {total} บาท ต่อปีการศึกษา (ตามอัตราของรอบนี้)",
    "money.change": "เทียบกับที่ยืนยันครั้งล่าสุด: ค่าอาหารกลางวัน {lunch} บาท, อาหารเสริม (นม) {milk} บาท, รวม {total} บาท",
    "money.same": "เท่ากับที่ยืนยันครั้งล่าสุด (รวม {total} บาท)",
    "money.last": "ยืนยันครั้งล่าสุด: รวม {total} บาท",
    "money.never": "ยังไม่เคยยืนยันในรอบนี้ จึงไม่มียอดเดิมให้เทียบ",
    "money.empty": "ยังไม่มีผู้เรียนที่ได้รับเงินอุดหนุนค่าอาหารกลางวันหรืออาหารเสริม (นม) ในข้อมูลนี้",
    "money.no_subsidy": "ชั้น {grades} ({n} คน) ไม่ได้รับเงินอุดหนุนค่าอาหารกลางวันและอาหารเสริม (นม) ตามอัตราของรอบนี้",
    "money.no_lunch": "ชั้น {grades} ({n} คน) ไม่ได้รับค่าอาหารกลางวัน",
    "money.no_milk": "ชั้น {grades} ({n} คน) ไม่ได้รับอาหารเสริม (นม)",
    "money.basis": "ประมาณการจากจำนวนผู้เรียนที่บันทึกไว้ขณะนี้ (ยังไม่ใช่ยอดที่ยืนยัน) อาจใช้เวลาสักครู่กว่าการแก้ไขล่าสุดจะนับรวม",
  },
  en: {
    "money.heading": "Subsidy on these figures",
    "money.loading": "Working out the subsidy…",
    "money.error": "The subsidy could not be worked out: {error}",
    "money.line": "Lunch THB {lunch}, supplementary milk THB {milk}, in all THB {total} per academic year (at this round's rates)",
    "money.change": "Against the last confirmation: lunch THB {lunch}, milk THB {milk}, in all THB {total}",
    "money.same": "The same as the last confirmation (THB {total} in all)",
    "money.last": "Last confirmed: THB {total} in all",
    "money.never": "Not confirmed before in this round: there is nothing to compare with",
    "money.empty": "There are no learners with a lunch or milk subsidy in these figures yet",
    "money.no_subsidy": "Grades {grades} ({n} learners) get no lunch or milk subsidy at this round's rates",
    "money.no_lunch": "Grades {grades} ({n} learners) get no lunch subsidy",
    "money.no_milk": "Grades {grades} ({n} learners) get no milk subsidy",
    "money.basis": "Estimated from the learners recorded now (not the confirmed figures); the latest change may take a moment to count",
  },
});

const GRADE_ORDER = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6"];

// 1,234.50 (Arabic numerals, grouped, two decimals)
export function amount(n) {
  return num(n || 0, 2);
}

// +1,234.50 / −1,234.50 / 0.00
export function signedAmount(n) {
  const value = Math.round(Number(n || 0) * 100) / 100;
  if (value > 0) return `+${amount(value)}`;
  if (value < 0) return `\u2212${amount(-value)}`;
  return amount(0);
}

// the budget report of the viewed unit with its preview (no unconfirmed list to speak of)
export function fetchPreview(ctx) {
  return api("GET", `/rounds/${ctx.round.id}/reports/budget?org_unit_id=${ctx.unit.id}&preview=true&limit=1`,
    undefined, { signal: ctx.signal });
}

function figure(value, cls) {
  return el("strong", { class: cls, "data-amount": String(value || 0) }, amount(value));
}

// learners of school grades the round pays no lunch or milk for
function unsubsidised(report, lines) {
  const settings = (report.settings || {});
  const lunchGrades = new Set((((settings.lunch || {}).school) || {}).grades || []);
  const milkGrades = new Set((((settings.milk || {}).school) || {}).grades || []);
  const byGrade = {};
  for (const line of lines) {
    if (line.unit.type === "cdc") continue;
    for (const [g, n] of Object.entries((line.counts && line.counts.by_grade) || {})) byGrade[g] = (byGrade[g] || 0) + n;
  }
  const notes = [];
  const group = (test, key) => {
    const grades = GRADE_ORDER.filter((g) => byGrade[g] && test(g));
    if (grades.length) {
      notes.push(el("p", { class: "hint money-none" }, t(key, {
        grades: grades.map((g) => t(`grade.${g}`)).join(", "),
        n: num(grades.reduce((s, g) => s + byGrade[g], 0)),
      })));
    }
  };
  group((g) => !lunchGrades.has(g) && !milkGrades.has(g), "money.no_subsidy");
  group((g) => !lunchGrades.has(g) && milkGrades.has(g), "money.no_lunch");
  group((g) => lunchGrades.has(g) && !milkGrades.has(g), "money.no_milk");
  return notes;
}

// the money of the preview: of the viewed institution's line (scope "unit") or of the
// whole subtree (scope "all": an LAO's institutions and other schools)
function content(report, { scope, unitId, level }) {
  const preview = report.preview || {};
  let now;
  let last;
  let change;
  let lines = preview.lines || [];
  if (scope === "unit") {
    const line = lines.find((l) => l.unit && l.unit.id === unitId);
    lines = line ? [line] : [];
    now = line || { lunch: 0, milk: 0, total: 0 };
    last = line ? line.last_confirmed : null;
    change = last ? { lunch: now.lunch - last.lunch, milk: now.milk - last.milk, total: now.total - last.total } : null;
  } else {
    now = (preview.totals && preview.totals.all) || { lunch: 0, milk: 0, total: 0 };
    const confirmed = preview.confirmed_totals && preview.confirmed_totals.all;
    last = confirmed && confirmed.units ? confirmed : null;
    change = last ? preview.change : null;
  }
  const parts = [el(`h${level}`, {}, t("money.heading"))];
  if (!now.total && !last) {
    parts.push(el("p", { class: "notice info inline money-empty" }, t("money.empty")));
  } else {
    parts.push(el("p", { class: "money-line" }, tx("money.line", {
      lunch: figure(now.lunch, "money-lunch"), milk: figure(now.milk, "money-milk"), total: figure(now.total, "money-total"),
    })));
    if (!last) parts.push(el("p", { class: "money-never" }, t("money.never")));
    else if (Math.abs(change.total) < 0.005 && Math.abs(change.lunch) < 0.005 && Math.abs(change.milk) < 0.005) {
      parts.push(el("p", { class: "money-change" }, t("money.same", { total: amount(last.total) })));
    } else {
      parts.push(el("p", { class: "money-change", "data-change": String(change.total) }, t("money.change", {
        lunch: signedAmount(change.lunch), milk: signedAmount(change.milk), total: signedAmount(change.total),
      })), el("p", { class: "hint money-last" }, t("money.last", { total: amount(last.total) })));
    }
  }
  parts.push(...unsubsidised(report, lines), el("p", { class: "hint" }, t("money.basis")));
  return parts;
}

// a box that shows "working out…", then the money or what went wrong
export function moneyBox(promise, { scope = "unit", unitId = null, level = 4 } = {}) {
  const box = el("div", { class: "money", "aria-live": "polite", "data-scope": scope }, loading(t("money.loading")));
  promise.then((report) => {
    box.replaceChildren(...content(report, { scope, unitId, level }));
    box.dataset.ready = "1";
  }, (e) => {
    if (e && e.name === "AbortError") return;
    box.replaceChildren(errorState(t("money.error", { error: errorText(e) })));
    box.dataset.ready = "error";
  });
  return box;
}
