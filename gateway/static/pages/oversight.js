// What the LAO, province and department pages share: levels, grades, unit helpers.
import { api, errorText } from "../core/api.js";
import { has, register, t } from "../core/i18n.js";
import { formErrors, notice } from "../core/ui.js";

export const OVERSIGHT = ["lao", "province", "department"];
export const SCHOOL_GRADES = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6"];
export const GRADE_ORDER = [...SCHOOL_GRADES, "cdc"];
// the unit types a unit of each type has beneath it
export const CHILD_TYPES = {
  department: ["province"], province: ["lao"], lao: ["school", "cdc", "other_school"],
};
export const AFFILIATIONS = ["obec", "bpp", "opec", "other"];

register({
  th: {
    "ov.affiliation.obec": "สพฐ. (สำนักงานคณะกรรมการการศึกษาขั้นพื้นฐาน)",
    "ov.affiliation.bpp": "ตชด. (กองบัญชาการตำรวจตระเวนชายแดน)",
    "ov.affiliation.opec": "สช. (สำนักงานคณะกรรมการส่งเสริมการศึกษาเอกชน)",
    "ov.affiliation.other": "สังกัดอื่น",
    "ov.download_csv": "ดาวน์โหลด CSV",
    "ov.download_xlsx": "ดาวน์โหลด Excel",
    "ov.print": "ฉบับพิมพ์",
    "ov.previous": "ก่อนหน้า",
    "ov.next": "ถัดไป",
    "ov.page_of": "รายการที่ {from}–{to} จาก {total}",
    "ov.no_round": "ยังไม่มีรอบการสำรวจ",
    "ov.round_name": "ปีการศึกษา {year} รอบที่ {number}",
    "ov.none": "–",
  },
  en: {
    "ov.affiliation.obec": "OBEC (Office of the Basic Education Commission)",
    "ov.affiliation.bpp": "BPP (Border Patrol Police)",
    "ov.affiliation.opec": "OPEC (private education)",
    "ov.affiliation.other": "Other affiliation",
    "ov.download_csv": "Download CSV",
    "ov.download_xlsx": "Download Excel",
    "ov.print": "Printable page",
    "ov.previous": "Previous",
    "ov.next": "Next",
    "ov.page_of": "Items {from}–{to} of {total}",
    "ov.no_round": "There is no census round yet",
    "ov.round_name": "Academic year {year}, round {number}",
    "ov.none": "–",
  },
});

// user data (names, codes, account names) shown as it is, never taken for untranslated text
export function data(text) {
  const span = document.createElement("span");
  span.setAttribute("translate", "no");
  span.textContent = text === null || text === undefined || text === "" ? "–" : String(text);
  return span;
}

// t() with nodes for some placeholders: a list of strings and nodes for el()
export function tx(key, params = {}) {
  const template = t(key);
  return template.split(/\{(\w+)\}/).map((part, i) => {
    if (i % 2 === 0) return part;
    const v = params[part];
    if (v instanceof Node) return v;
    return v === null || v === undefined ? `{${part}}` : String(v);
  }).filter((p) => p !== "");
}

// an affiliation's name: short ("สพฐ.") or in full
export function affiliationName(code, long = true) {
  if (!code) return t("ov.none");
  if (!AFFILIATIONS.includes(code)) return code;
  return long || !has(`affiliation.${code}`) ? t(`ov.affiliation.${code}`) : t(`affiliation.${code}`);
}

export function roundName(round) {
  return round ? t("ov.round_name", { year: round.academic_year, number: round.number }) : t("ov.none");
}

export function isOwnUnit(ctx) {
  return ctx.unit && ctx.user && ctx.unit.id === ctx.user.org_unit_id;
}

// whether the round accepts changes for a unit (its extensions included)
export async function windowOpen(ctx, unitId = ctx.unit.id) {
  if (ctx.window && unitId === ctx.unit.id && ctx.window.round_id === ctx.round.id) return !!ctx.window.open;
  try {
    const w = await api("GET", `/rounds/${ctx.round.id}/window?org_unit_id=${unitId}`, undefined, { signal: ctx.signal });
    return !!(w && w.open);
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    return ctx.round.state === "open";
  }
}

// a fresh key for each action: a retried request is answered, not repeated
export function idempotencyKey() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function sortGrades(byGrade) {
  return GRADE_ORDER.filter((g) => byGrade && byGrade[g]).map((g) => [g, byGrade[g]]);
}

// the round before another (round 1 before round 2, else round 2 of the year before)
export function previousRound(round, rounds) {
  if (!round) return null;
  const want = round.number === 2 ? [round.academic_year, 1] : [round.academic_year - 1, 2];
  return (rounds || []).find((r) => r.academic_year === want[0] && r.number === want[1]) || null;
}

// a form's change, then the page again from the server; a refusal is shown on the form
// (its fields) or as a notice, and the page stays as it is
export async function saveThenRefresh(form, ctx, save) {
  try {
    await save();
  } catch (e) {
    if (!formErrors(form, e)) notice(errorText(e), "error");
    return;
  }
  await ctx.refresh();
}
