// The checks before confirming: a school's, CDC's or LAO's errors (to correct) and queries
// (to correct or explain in writing), the explanations its officers write, and for an LAO
// and above a tally per unit beneath. The confirm steps (confirm.js, children.js) show the
// summary and the changes since the last confirmation from here.
import { api, errorText } from "../core/api.js";
import { formatDate, formatDateTime } from "../core/dates.js";
import { lang, num, register, t } from "../core/i18n.js";
import { badge, button, dataTable, el, emptyState, errorState, notice, openDialog, uid } from "../core/ui.js";
import { figures, gradeName, withRound } from "./institution.js";
import { data } from "./oversight.js";

export const RULE_CODES = ["age_grade_implausible", "age_grade_outside", "no_active_learners", "total_changed",
  "not_found_removals", "likely_duplicate", "headcount_missing", "headcount_changed"];
const MAX_TEXT = 1000;
const CHECKED = ["school", "cdc", "lao"];

register({
  th: {
    "checks.title": "ตรวจสอบข้อมูล",
    "checks.heading": "ตรวจสอบข้อมูลก่อนยืนยัน",
    "checks.intro": "ระบบตรวจข้อมูลตามกฎของรอบนี้ ข้อผิดพลาดต้องแก้ไขให้ถูกต้อง ข้อสังเกตให้แก้ไขหรือชี้แจงเหตุผลเป็นลายลักษณ์อักษร จึงจะยืนยันข้อมูลได้",
    "checks.errors": "ข้อผิดพลาด",
    "checks.badge.error": "ข้อผิดพลาด",
    "checks.badge.query": "ข้อสังเกต",
    "checks.queries": "ข้อสังเกต",
    "checks.unexplained": "ยังไม่ชี้แจง",
    "checks.errors_heading": "ข้อผิดพลาดที่ต้องแก้ไข ({n})",
    "checks.queries_heading": "ข้อสังเกตที่ต้องแก้ไขหรือชี้แจง ({n})",
    "checks.none": "ไม่พบรายการที่ต้องตรวจสอบ",
    "checks.can_confirm": "ผ่านการตรวจสอบแล้ว ยืนยันข้อมูลได้",
    "checks.can_confirm_other": "{name} ผ่านการตรวจสอบแล้ว ยืนยันข้อมูลได้",
    "checks.cannot_confirm": "ยังยืนยันข้อมูลไม่ได้: ต้องแก้ไขข้อผิดพลาด {errors} รายการ และชี้แจงข้อสังเกต {unexplained} รายการ",
    "checks.cannot_confirm_other": "{name} ยังยืนยันข้อมูลไม่ได้: ต้องแก้ไขข้อผิดพลาด {errors} รายการ และชี้แจงข้อสังเกต {unexplained} รายการ",
    "checks.confirmed": "ยืนยันข้อมูลแล้ว คำชี้แจงแก้ไขไม่ได้อีกจนกว่าจะมีการยกเลิกการยืนยัน",
    "checks.closed": "รอบนี้ไม่เปิดรับข้อมูล จึงบันทึกคำชี้แจงไม่ได้",
    "checks.go_confirm": "ไปที่หน้ายืนยันข้อมูล",
    "checks.go_checks": "ไปที่หน้าตรวจสอบข้อมูล",
    "checks.learner": "ผู้เรียน: {name} · ชั้น {grade}",
    "checks.open_learners": "แก้ไขในหน้าผู้เรียน",
    "checks.open_headcounts": "กรอกในหน้าจำนวนนักเรียนโรงเรียนสังกัดอื่น",
    "checks.view_learners": "ดูในหน้าผู้เรียน",
    "checks.view_headcounts": "ดูในหน้าจำนวนนักเรียนโรงเรียนสังกัดอื่น",
    "checks.fix.age_grade_implausible": "ตรวจสอบวันเกิดหรือชั้นเรียนของผู้เรียนคนนี้ แล้วแก้ไขในหน้าผู้เรียน",
    "checks.fix.headcount_missing": "กรอกจำนวนนักเรียนของโรงเรียนนี้ (หากไม่มีนักเรียน ให้กรอก 0)",
    "checks.fix.other": "แก้ไขข้อมูลให้ถูกต้อง รายการนี้จะหายไปเมื่อข้อมูลถูกต้องแล้ว",
    "checks.query_hint": "แก้ไขข้อมูลให้ถูกต้อง หรือชี้แจงเหตุผลด้านล่าง",
    "checks.explain_label": "คำชี้แจงข้อสังเกตที่ {n}",
    "checks.explain_hint": "ไม่เกิน 1,000 ตัวอักษร เว้นว่างแล้วบันทึกเพื่อถอนคำชี้แจง",
    "checks.count": "{n}/{max} ตัวอักษร",
    "checks.save": "บันทึกคำชี้แจง",
    "checks.save_label": "บันทึกคำชี้แจงข้อสังเกตที่ {n}",
    "checks.save_all": "บันทึกคำชี้แจงทั้งหมด",
    "checks.saved": "บันทึกคำชี้แจงแล้ว {n} รายการ",
    "checks.nothing_to_save": "ยังไม่มีคำชี้แจงที่เปลี่ยน",
    "checks.explained": "คำชี้แจง",
    "checks.explained_by": "บันทึกเมื่อ {when} โดย {who}",
    "checks.not_explained": "ยังไม่ได้ชี้แจง",
    "checks.user_n": "บัญชีหมายเลข {id}",
    "checks.children_heading": "ผลการตรวจสอบของหน่วยงานในสังกัด",
    "checks.above_intro": "จำนวนรายการที่หน่วยงานในสังกัดต้องแก้ไขหรือชี้แจงก่อนยืนยัน เรียงจากหน่วยงานที่มีรายการมากที่สุด เลือกชื่อหน่วยงานเพื่อดูรายละเอียด",
    "checks.children_caption": "ผลการตรวจสอบของหน่วยงานในสังกัด เรียงจากหน่วยงานที่มีรายการมากที่สุด",
    "checks.col.unit": "หน่วยงาน",
    "checks.col.type": "ประเภท",
    "checks.col.units": "หน่วยงานที่ตรวจ",
    "checks.children_none": "ยังไม่มีผลการตรวจสอบของหน่วยงานในสังกัด",
    "checks.subtree": "รวมทั้งสังกัด: ข้อผิดพลาด {errors} · ข้อสังเกต {queries} · ยังไม่ชี้แจง {unexplained}",
    "checks.pending": "กำลังคำนวณอีก {n} หน่วย",
    "checks.pending_hint": "ตัวเลขด้านล่างยังไม่ครบ กดโหลดใหม่เพื่อดูผลล่าสุด",
    "checks.refresh": "โหลดผลการตรวจสอบใหม่",
    "checks.computed_at": "ตรวจเมื่อ {when}",
    "checks.failed": "โหลดผลการตรวจสอบไม่ได้: {error}",
    "checks.retry": "ลองอีกครั้ง",
    // the confirm steps
    "checks.summary_heading": "ผลการตรวจสอบข้อมูล",
    "checks.summary_blocking": "ยังยืนยันไม่ได้: มี {n} รายการที่ต้องแก้ไขหรือชี้แจง",
    "checks.summary_ok": "ผ่านการตรวจสอบแล้ว ยืนยันข้อมูลได้",
    "checks.summary_failed": "โหลดผลการตรวจสอบไม่ได้ ระบบจะตรวจอีกครั้งเมื่อกดยืนยัน",
    "checks.disabled_reason": "ปุ่มยืนยันจะใช้ได้เมื่อแก้ไขข้อผิดพลาดและชี้แจงข้อสังเกตครบทุกรายการแล้ว",
    "checks.failed_title": "ยังยืนยันข้อมูลไม่ได้",
    "checks.failed_body": "ระบบตรวจพบรายการต่อไปนี้ที่ต้องแก้ไขหรือชี้แจงก่อนยืนยัน:",
    "checks.close": "ปิด",
    // the changes since the last confirmation
    "checks.diff.heading": "เปลี่ยนแปลงจากการยืนยันครั้งก่อน",
    "checks.diff.when": "ยืนยันครั้งก่อนเมื่อ {when}",
    "checks.diff.counts": "จำนวนผู้เรียน: ครั้งก่อน {then} คน · ปัจจุบัน {now} คน",
    "checks.diff.counts_lao": "นักเรียนโรงเรียนสังกัดอื่น: ครั้งก่อน {then} คน · ปัจจุบัน {now} คน",
    "checks.diff.added": "เพิ่มใหม่ ({n})",
    "checks.diff.removed": "ไม่อยู่ในรายชื่อแล้ว ({n})",
    "checks.diff.changed": "แก้ไขข้อมูล ({n})",
    "checks.diff.schools": "โรงเรียนสังกัดอื่นที่จำนวนเปลี่ยน ({n})",
    "checks.diff.none": "ไม่มีการเปลี่ยนแปลงจากการยืนยันครั้งก่อน",
    "checks.diff.id_changed": "เลขประจำตัวเปลี่ยน",
    "checks.diff.change": "{field}: {before} → {after}",
    "checks.diff.school": "{before} → {after} คน",
    "checks.diff.truncated": "แสดงไม่เกิน 1,000 รายการต่อกลุ่ม",
    "checks.note": "หมายเหตุจากหน่วยงานเมื่อยืนยัน: {note}",
    "checks.diff.failed": "โหลดการเปลี่ยนแปลงจากการยืนยันครั้งก่อนไม่ได้: {error}",
  },
  en: {
    "checks.title": "Checks",
    "checks.heading": "Checks before confirming",
    "checks.intro": "The data are checked against this round's rules. Errors must be corrected; queries must be corrected or explained in writing before the data can be confirmed.",
    "checks.errors": "Errors",
    "checks.badge.error": "Error",
    "checks.badge.query": "Query",
    "checks.queries": "Queries",
    "checks.unexplained": "Not explained",
    "checks.errors_heading": "Errors to correct ({n})",
    "checks.queries_heading": "Queries to correct or explain ({n})",
    "checks.none": "Nothing to check",
    "checks.can_confirm": "The checks are passed: the data can be confirmed",
    "checks.can_confirm_other": "{name} has passed the checks and can confirm",
    "checks.cannot_confirm": "Cannot confirm yet: errors to correct {errors}, queries to explain {unexplained}",
    "checks.cannot_confirm_other": "{name} cannot confirm yet: errors to correct {errors}, queries to explain {unexplained}",
    "checks.confirmed": "The data are confirmed; explanations cannot change until the confirmation is revoked",
    "checks.closed": "This round is not open, so explanations cannot be saved",
    "checks.go_confirm": "Go to the confirm page",
    "checks.go_checks": "Go to the checks page",
    "checks.learner": "Learner: {name} · grade {grade}",
    "checks.open_learners": "Correct it on the learners page",
    "checks.open_headcounts": "Enter it on the other-affiliation headcounts page",
    "checks.view_learners": "See it on the learners page",
    "checks.view_headcounts": "See it on the other-affiliation headcounts page",
    "checks.fix.age_grade_implausible": "Check this learner's birth date or grade and correct it on the learners page",
    "checks.fix.headcount_missing": "Enter this school's headcount (enter 0 for a school with no pupils)",
    "checks.fix.other": "Correct the data; the item goes once the data are right",
    "checks.query_hint": "Correct the data, or explain below",
    "checks.explain_label": "Explanation of query {n}",
    "checks.explain_hint": "At most 1,000 characters; save it empty to withdraw the explanation",
    "checks.count": "{n}/{max} characters",
    "checks.save": "Save the explanation",
    "checks.save_label": "Save the explanation of query {n}",
    "checks.save_all": "Save all explanations",
    "checks.saved": "Explanations saved: {n}",
    "checks.nothing_to_save": "No explanation has changed",
    "checks.explained": "Explanation",
    "checks.explained_by": "Saved on {when} by {who}",
    "checks.not_explained": "Not explained yet",
    "checks.user_n": "account no. {id}",
    "checks.children_heading": "Checks of the units below",
    "checks.above_intro": "What the units below must correct or explain before they confirm, the most items first. Choose a unit to see its items.",
    "checks.children_caption": "Checks of the units below, the most items first",
    "checks.col.unit": "Unit",
    "checks.col.type": "Type",
    "checks.col.units": "Units checked",
    "checks.children_none": "No unit below has been checked yet",
    "checks.subtree": "In all below: errors {errors} · queries {queries} · not explained {unexplained}",
    "checks.pending": "Units still being computed: {n}",
    "checks.pending_hint": "The figures below are not complete yet; reload to see the latest",
    "checks.refresh": "Reload the checks",
    "checks.computed_at": "Checked on {when}",
    "checks.failed": "The checks could not be loaded: {error}",
    "checks.retry": "Try again",
    "checks.summary_heading": "Checks",
    "checks.summary_blocking": "Cannot confirm yet: items that need a correction or an explanation: {n}",
    "checks.summary_ok": "The checks are passed: the data can be confirmed",
    "checks.summary_failed": "The checks could not be loaded; they are run again when you confirm",
    "checks.disabled_reason": "The confirm button works once every error is corrected and every query explained",
    "checks.failed_title": "The data cannot be confirmed yet",
    "checks.failed_body": "These items need a correction or an explanation before confirming:",
    "checks.close": "Close",
    "checks.diff.heading": "Changes since the last confirmation",
    "checks.diff.when": "Last confirmed on {when}",
    "checks.diff.counts": "Learners: {then} then · {now} now",
    "checks.diff.counts_lao": "Pupils of other-affiliation schools: {then} then · {now} now",
    "checks.diff.added": "Added ({n})",
    "checks.diff.removed": "No longer listed ({n})",
    "checks.diff.changed": "Changed ({n})",
    "checks.diff.schools": "Other-affiliation schools whose headcount changed ({n})",
    "checks.diff.none": "Nothing has changed since the last confirmation",
    "checks.diff.id_changed": "ID number changed",
    "checks.diff.change": "{field}: {before} → {after}",
    "checks.diff.school": "{before} → {after} pupils",
    "checks.diff.truncated": "At most 1,000 items are shown in each group",
    "checks.note": "Note from the unit when it confirmed: {note}",
    "checks.diff.failed": "The changes since the last confirmation could not be loaded: {error}",
  },
});

// -- what the confirm steps use --------------------------------------------------------------

// the unit's checks report, or {error} (an abort is thrown on)
export async function fetchChecks(ctx, unitId = ctx.unit.id) {
  try {
    return await api("GET", `/rounds/${ctx.round.id}/checks?org_unit_id=${unitId}`, undefined, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    return { error: e };
  }
}

// what changed since the last seal: the answer, null when the server has no such
// operation (404/405), or {error}
export async function fetchDiff(ctx, unitId = ctx.unit.id) {
  try {
    return await api("GET", `/rounds/${ctx.round.id}/confirmations/${unitId}/diff`, undefined, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    if (e.status === 404 || e.status === 405) return null;
    return { error: e };
  }
}

// an item's sentence in the current language
export function itemText(item) {
  return (item.messages && (item.messages[lang()] || item.messages.th)) || item.message || item.code;
}

function learnerName(l) {
  return [l.prefix, l.first_name, l.last_name].filter(Boolean).join(" ");
}

function learnerLine(item) {
  if (!item.learner) return null;
  return el("p", { class: "check-learner" }, tx2("checks.learner", {
    name: data(learnerName(item.learner)), grade: gradeName(item.learner.grade) }));
}

// t() with some placeholders as nodes
function tx2(key, params) {
  const marks = {};
  const nodes = {};
  for (const [k, v] of Object.entries(params)) {
    if (v instanceof Node) { marks[k] = `\u0000${k}\u0000`; nodes[k] = v; } else marks[k] = v;
  }
  return t(key, marks).split("\u0000").map((part, i) => (i % 2 === 1 && part in nodes ? nodes[part] : part));
}

export function blockingItems(report) {
  return ((report && report.items) || []).filter((i) => i.severity === "error" || !i.explanation);
}

// the summary before the confirm button: {node, blocking}; blocking null when unknown
export function checksSummary(ctx, report, { headingLevel = "h3" } = {}) {
  const id = uid("checks-summary");
  const box = el("section", { class: "panel checks-summary", "aria-labelledby": id },
    el(headingLevel, { id }, t("checks.summary_heading")));
  const link = el("p", {}, el("a", { href: `#/u/${ctx.unit.id}/checks` }, t("checks.go_checks")));
  if (!report || report.error) {
    box.append(el("p", { class: "hint" }, t("checks.summary_failed")), link);
    return { node: box, blocking: null };
  }
  const list = blockingItems(report);
  box.append(figures([[t("checks.errors"), report.errors || 0], [t("checks.queries"), report.queries || 0],
    [t("checks.unexplained"), report.unexplained || 0]]));
  if (list.length) {
    box.append(el("div", { class: "warning checks-blocking" },
      el("p", {}, el("strong", {}, t("checks.summary_blocking", { n: num(list.length) }))),
      el("ul", {}, list.map((item) => el("li", {}, badge(item.severity === "error" ? "check-error" : "check-query",
        t(item.severity === "error" ? "checks.badge.error" : "checks.badge.query")), " ", itemText(item),
      item.learner ? [" (", data(learnerName(item.learner)), ")"] : null)))));
  } else {
    box.append(el("p", { class: "ok-text" }, t("checks.summary_ok")));
  }
  box.append(link);
  return { node: box, blocking: list.length };
}

// the checks_failed answer of a confirmation (the data changed meanwhile): its items in a dialog
export function checksFailedDialog(ctx, items) {
  const close = el("button", { type: "button", class: "button primary" }, t("checks.close"));
  const d = openDialog({
    title: t("checks.failed_title"), className: "checks-failed",
    body: el("div", {}, el("p", {}, t("checks.failed_body")),
      el("ul", { class: "checks-failed-items" }, items.map((item) => el("li", {}, itemText(item),
        item.learner ? [" (", data(learnerName(item.learner)), ")"] : null))),
      el("p", {}, el("a", { href: `#/u/${ctx.unit.id}/checks`, onclick: () => d.close(false) }, t("checks.go_checks")))),
    actions: [close],
  });
  close.addEventListener("click", () => d.close(true));
  close.focus();
  return d.result;
}

function diffValue(field, value) {
  if (value === null || value === undefined || value === "") return "–";
  if (field === "grade") return gradeName(value);
  if (field === "birth_date") return formatDate(value);
  if (field === "sex") return t(`sex.${value}`);
  return data(value);
}

function diffPerson(l) {
  return [data(learnerName(l)), l.grade ? ` · ${gradeName(l.grade)}` : ""];
}

// "changes since the last confirmation": nothing when the unit was never sealed
export function diffSection(diff, { headingLevel = "h3", lao = false } = {}) {
  if (!diff) return null;
  if (diff.error) return el("p", { class: "hint" }, t("checks.diff.failed", { error: errorText(diff.error) }));
  if (!diff.last_sealed_at) return null;
  const id = uid("diff");
  const box = el("section", { class: "panel seal-diff", "aria-labelledby": id },
    el(headingLevel, { id }, t("checks.diff.heading")),
    el("p", {}, t("checks.diff.when", { when: formatDateTime(diff.last_sealed_at) })));
  const counts = diff.counts || {};
  const total = (c) => num((c && c.total) || 0);
  box.append(el("p", {}, t(lao ? "checks.diff.counts_lao" : "checks.diff.counts",
    { then: total(counts.then), now: total(counts.now) })));
  const added = diff.added || [];
  const removed = diff.removed || [];
  const changed = diff.changed || [];
  const schools = diff.schools || [];
  const group = (key, rows, line) => (rows.length
    ? [el("h4", {}, t(key, { n: num(rows.length) })), el("ul", { class: "diff-list" }, rows.map((r) => el("li", {}, line(r))))]
    : null);
  box.append(...[
    group("checks.diff.added", added, (r) => diffPerson(r)),
    group("checks.diff.removed", removed, (r) => [diffPerson(r),
      r.removal_reason ? ` · ${t(`inst.reason.${r.removal_reason}`)}` : ""]),
    group("checks.diff.changed", changed, (r) => [data(learnerName(r)), ": ",
      Object.entries(r.fields || {}).map(([f, v], i) => [i ? "; " : "",
        tx2("checks.diff.change", { field: t(`field.${f}`), before: diffValue(f, v.before), after: diffValue(f, v.after) })]),
      r.id_changed ? [Object.keys(r.fields || {}).length ? "; " : "", t("checks.diff.id_changed")] : ""]),
    group("checks.diff.schools", schools, (s) => [data(s.code || `#${s.id}`), ": ",
      t("checks.diff.school", { before: total(s.before), after: total(s.after) })]),
  ].flat().filter(Boolean));
  if (!added.length && !removed.length && !changed.length && !schools.length) {
    box.append(el("p", { class: "hint" }, t("checks.diff.none")));
  }
  if (diff.truncated) box.append(el("p", { class: "hint" }, t("checks.diff.truncated")));
  return box;
}

// -- the page ---------------------------------------------------------------------------------

// what the officer typed and has not saved yet, kept across refreshes: key -> text
const drafts = new Map();
const users = new Map(); // user id -> username (or null when it cannot be read)

function itemKey(ctx, item) {
  return `${ctx.round.id}:${item.org_unit_id}:${item.code}:${item.learner_id || 0}:${item.subject_id || 0}`;
}

async function usernames(ctx, items) {
  const ids = [...new Set(items.map((i) => i.explained_by).filter((id) => id && !users.has(id)))];
  await Promise.all(ids.map(async (id) => {
    if (ctx.user && ctx.user.id === id) { users.set(id, ctx.user.username); return; }
    try {
      const u = await api("GET", `/users/${id}`, undefined, { signal: ctx.signal });
      users.set(id, u.username);
    } catch (e) {
      if (e.name === "AbortError") throw e;
      users.set(id, null);
    }
  }));
}

function who(id) {
  const name = users.get(id);
  return name ? data(name) : t("checks.user_n", { id });
}

function fixLine(ctx, item) {
  const hint = item.code === "age_grade_implausible" || item.code === "headcount_missing"
    ? t(`checks.fix.${item.code}`) : t("checks.fix.other");
  return el("p", { class: "check-fix" }, hint);
}

// where the item's data are: to correct them (the unit's own officers) or to read them
function itemLinks(ctx, item, own) {
  if (item.learner) {
    return el("p", { class: "check-link" }, el("a", { href: `#/u/${item.org_unit_id}/learners` },
      t(own ? "checks.open_learners" : "checks.view_learners")));
  }
  if (item.code === "headcount_missing" || item.code === "headcount_changed") {
    return el("p", { class: "check-link" }, el("a", { href: `#/u/${item.org_unit_id}/headcounts` },
      t(own ? "checks.open_headcounts" : "checks.view_headcounts")));
  }
  return null;
}

function savedExplanation(item) {
  if (!item.explanation) return el("p", { class: "check-unexplained" }, badge("check-query", t("checks.not_explained")));
  return el("div", { class: "check-explanation" },
    el("p", { class: "check-explanation-label" }, el("strong", {}, t("checks.explained"))),
    el("p", { class: "check-explanation-text", translate: "no" }, item.explanation),
    item.explained_at ? el("p", { class: "hint" }, tx2("checks.explained_by",
      { when: formatDateTime(item.explained_at), who: who(item.explained_by) })) : null);
}

async function saveExplanations(ctx, unitId, entries, onFieldError) {
  const body = { items: entries.map(({ item, text }) => {
    const one = { code: item.code, text };
    if (item.learner_id) one.learner_id = item.learner_id;
    if (item.subject_id) one.subject_id = item.subject_id;
    return one;
  }) };
  let answer;
  try {
    answer = await api("PUT", `/rounds/${ctx.round.id}/checks/${unitId}/explanations`, body, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") return;
    const fields = (e.data && e.data.errors) || {};
    let placed = false;
    for (const [name, messages] of Object.entries(fields)) {
      const m = /^items\.(\d+)\.text$/.exec(name);
      if (m && entries[Number(m[1])]) {
        onFieldError(entries[Number(m[1])], (e.fields && e.fields[name]) || [].concat(messages).join(" "));
        placed = true;
      }
    }
    if (!placed) notice(errorText(e), "error");
    return;
  }
  for (const { item } of entries) drafts.delete(itemKey(ctx, item));
  await ctx.refresh();
  notice(t("checks.saved", { n: num(answer.saved) }), "ok");
}

function itemCard(ctx, item, n, { editable, own }, boxes) {
  const error = item.severity === "error";
  const card = el("li", { class: ["check-item", error ? "check-item-error" : "check-item-query"],
    dataset: { code: item.code, learnerId: String(item.learner_id || ""), subjectId: String(item.subject_id || "") } },
  el("p", { class: "check-message" }, badge(error ? "check-error" : "check-query", t(error ? "checks.badge.error" : "checks.badge.query")),
    " ", el("span", {}, itemText(item))),
  learnerLine(item));
  if (error) {
    card.append(...[own ? fixLine(ctx, item) : null, itemLinks(ctx, item, own)].filter(Boolean));
    return card;
  }
  const links = itemLinks(ctx, item, own);
  if (links) card.append(links);
  if (!editable) {
    card.append(savedExplanation(item));
    return card;
  }
  if (item.explanation) card.append(savedExplanation(item));
  const key = itemKey(ctx, item);
  const saved = item.explanation || "";
  const area = el("textarea", { name: "explanation", rows: "3", maxlength: String(MAX_TEXT),
    id: `explain-${n}`, value: drafts.has(key) ? drafts.get(key) : saved });
  const countId = `explain-${n}-count`;
  const count = el("p", { class: "char-count", id: countId, "aria-live": "polite" });
  const errorId = `explain-${n}-error`;
  const errorLine = el("p", { class: "field-error", id: errorId, hidden: true });
  const update = () => { count.textContent = t("checks.count", { n: num(area.value.length), max: num(MAX_TEXT) }); };
  area.addEventListener("input", () => {
    update();
    if (area.value === saved) drafts.delete(key); else drafts.set(key, area.value);
  });
  update();
  const hintId = `explain-${n}-hint`;
  area.setAttribute("aria-describedby", `${hintId} ${countId}`);
  const wrap = el("div", { class: "field explain-field", dataset: { field: "explanation" } },
    el("label", { for: area.id }, t("checks.explain_label", { n: num(n) })),
    el("p", { class: "hint", id: hintId }, t("checks.query_hint"), " ", t("checks.explain_hint")),
    errorLine, area, count);
  const showError = (message) => {
    wrap.classList.add("has-error");
    errorLine.textContent = message;
    errorLine.hidden = false;
    area.setAttribute("aria-invalid", "true");
    area.setAttribute("aria-describedby", `${hintId} ${errorId} ${countId}`);
    area.focus();
  };
  const entry = { item, area, saved, showError };
  boxes.push(entry);
  const save = button(t("checks.save"), () => saveExplanations(ctx, item.org_unit_id,
    [{ item, text: area.value.trim() }], (_, message) => showError(message)),
  { kind: "secondary", attrs: { "aria-label": t("checks.save_label", { n: num(n) }), class: "button secondary explain-save" } });
  card.append(wrap, el("div", { class: "actions" }, save));
  return card;
}

function statement(ctx, report, status, own) {
  const confirmHref = ctx.unit.type === "lao" ? `#/u/${ctx.unit.id}/children` : `#/u/${ctx.unit.id}/confirm`;
  const blocking = report.blocking || 0;
  const line = el("div", { class: ["check-statement", blocking ? "warning" : "ok-box"], role: "status" });
  if (status && (status.state === "confirmed" || status.state === "sealing")) {
    line.append(el("p", {}, badge("confirmed"), " ", t("checks.confirmed")));
    return line;
  }
  const counts = { errors: num(report.errors || 0), unexplained: num(report.unexplained || 0) };
  if (own) {
    line.append(el("p", {}, el("strong", {}, blocking ? t("checks.cannot_confirm", counts) : t("checks.can_confirm"))),
      el("p", {}, el("a", { href: confirmHref }, t("checks.go_confirm"))));
  } else {
    line.append(el("p", {}, el("strong", {}, tx2(blocking ? "checks.cannot_confirm_other" : "checks.can_confirm_other",
      { ...counts, name: data(ctx.unit.name) }))));
  }
  return line;
}

function childrenTable(ctx, report) {
  const rows = [...(report.children || [])].sort((a, b) => (b.errors - a.errors) || (b.unexplained - a.unexplained)
    || (b.queries - a.queries) || String(a.org_unit.code).localeCompare(String(b.org_unit.code)));
  const above = ctx.unit.type !== "lao";
  const columns = [
    { key: "unit", label: t("checks.col.unit"), render: (r) => el("a", { href: `#/u/${r.org_unit.id}/checks`, translate: "no" }, r.org_unit.name) },
    { key: "type", label: t("checks.col.type"), render: (r) => t(`type.${r.org_unit.type}`) },
    { key: "errors", label: t("checks.errors"), num: true, render: (r) => num(r.errors) },
    { key: "queries", label: t("checks.queries"), num: true, render: (r) => num(r.queries) },
    { key: "unexplained", label: t("checks.unexplained"), num: true, render: (r) => num(r.unexplained) },
  ];
  if (above) columns.push({ key: "units", label: t("checks.col.units"), num: true, render: (r) => num(r.units) });
  const section = el("section", { class: "panel checks-children", "aria-labelledby": "checks-children-h" },
    el("h3", { id: "checks-children-h" }, t("checks.children_heading")));
  if (report.pending) {
    section.append(el("div", { class: "warning checks-pending", role: "status" },
      el("p", {}, el("strong", {}, t("checks.pending", { n: num(report.pending) }))),
      el("p", {}, t("checks.pending_hint")),
      button(t("checks.refresh"), () => ctx.refresh(), { attrs: { id: "checks-refresh" } })));
  }
  const sub = report.subtree || {};
  section.append(el("p", { class: "check-subtree" }, t("checks.subtree", {
    errors: num(sub.errors || 0), queries: num(sub.queries || 0), unexplained: num(sub.unexplained || 0) })));
  section.append(dataTable({ columns, rows, empty: t("checks.children_none"), caption: t("checks.children_caption"),
    rowAttrs: (r) => ({ dataset: { unitId: String(r.org_unit.id) } }) }));
  return section;
}

async function render(ctx) {
  const root = el("section", { class: "page checks" }, el("h2", {}, t("checks.heading")));
  const checked = CHECKED.includes(ctx.unit.type);
  const own = !!(ctx.user && ctx.user.org_unit_id === ctx.unit.id);
  let report;
  let status = null;
  try {
    [report, status] = await Promise.all([
      api("GET", `/rounds/${ctx.round.id}/checks?org_unit_id=${ctx.unit.id}`, undefined, { signal: ctx.signal }),
      checked ? api("GET", `/rounds/${ctx.round.id}/confirmations/${ctx.unit.id}`, undefined, { signal: ctx.signal })
        .catch((e) => { if (e.name === "AbortError") throw e; return null; }) : null,
    ]);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    root.append(errorState(t("checks.failed", { error: errorText(e) })),
      button(t("checks.retry"), () => ctx.refresh(), { kind: "secondary" }));
    return root;
  }
  root.append(el("p", { class: "lead" }, t(checked ? "checks.intro" : "checks.above_intro")));
  if (report.computed_at) root.append(el("p", { class: "hint" }, t("checks.computed_at", { when: formatDateTime(report.computed_at) })));

  if (checked) {
    const items = report.items || [];
    await usernames(ctx, items);
    const confirmed = status && (status.state === "confirmed" || status.state === "sealing" || status.state === "unsealing");
    const open = !!(ctx.window && ctx.window.open);
    const editable = own && !confirmed && open && !(status && status.saga);
    root.append(figures([[t("checks.errors"), report.errors || 0], [t("checks.queries"), report.queries || 0],
      [t("checks.unexplained"), report.unexplained || 0]]));
    root.append(statement(ctx, report, status, own));
    if (!own) {
      // for the level above: the unit's note, and what changed since its last confirmation
      if (status && status.note) root.append(el("p", { class: "confirm-note" }, t("checks.note", { note: status.note })));
      const changes = diffSection(await fetchDiff(ctx), { headingLevel: "h3", lao: ctx.unit.type === "lao" });
      if (changes) root.append(changes);
    }
    if (own && !confirmed && !open) root.append(el("p", { class: "hint" }, t("checks.closed")));
    if (!items.length) {
      root.append(emptyState(t("checks.none")));
    } else {
      const errors = items.filter((i) => i.severity === "error");
      const queries = items.filter((i) => i.severity !== "error");
      const boxes = [];
      if (errors.length) {
        root.append(el("section", { class: "panel check-group", "aria-labelledby": "checks-errors-h" },
          el("h3", { id: "checks-errors-h" }, t("checks.errors_heading", { n: num(errors.length) })),
          el("ol", { class: "check-list" }, errors.map((item, i) => itemCard(ctx, item, i + 1, { editable: false, own }, boxes)))));
      }
      if (queries.length) {
        const group = el("section", { class: "panel check-group", "aria-labelledby": "checks-queries-h" },
          el("h3", { id: "checks-queries-h" }, t("checks.queries_heading", { n: num(queries.length) })),
          el("ol", { class: "check-list" }, queries.map((item, i) => itemCard(ctx, item, i + 1, { editable, own }, boxes))));
        if (editable && boxes.length > 1) {
          group.append(el("div", { class: "actions" }, button(t("checks.save_all"), async () => {
            const changed = boxes.filter((b) => b.area.value.trim() !== b.saved.trim())
              .map((b) => ({ item: b.item, text: b.area.value.trim(), box: b }));
            if (!changed.length) { notice(t("checks.nothing_to_save"), "info"); return; }
            await saveExplanations(ctx, ctx.unit.id, changed, (entry, message) => entry.box.showError(message));
          }, { kind: "primary", attrs: { id: "checks-save-all" } })));
        }
        root.append(group);
      }
    }
  }
  if (ctx.unit.type !== "school" && ctx.unit.type !== "cdc") {
    root.append(childrenTable(ctx, report));
    if (!checked && !report.pending && !(report.children || []).some((c) => c.errors || c.queries)) {
      root.append(emptyState(t("checks.none")));
    }
  }
  return root;
}

export default {
  id: "checks",
  title: "checks.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc", "lao", "province", "department"],
  order: 13,
  render: withRound(render),
};
