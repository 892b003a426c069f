// What the institution pages (learners, import, confirm) share: grades and prefixes
// for the unit's type, whether the officer may change data now (and why not), and the
// refusals of learner changes in plain Thai.
import { register, t, num } from "../core/i18n.js";
import { api, ApiError, errorText, fieldText, registerFieldPattern } from "../core/api.js";
import { el } from "../core/ui.js";

export const INSTITUTION_TYPES = ["school", "cdc"];
export const SCHOOL_GRADES = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6"];
export const REASONS = ["moved_out", "not_found", "graduated", "duplicate", "deceased", "other"];
// the stored prefix is the Thai word; the key gives its label in the current language
export const PREFIXES = [
  ["เด็กชาย", "boy"], ["เด็กหญิง", "girl"], ["นาย", "mr"], ["นางสาว", "miss"], ["นาง", "mrs"],
];

register({
  th: {
    "inst.prefix.boy": "เด็กชาย", "inst.prefix.girl": "เด็กหญิง", "inst.prefix.mr": "นาย",
    "inst.prefix.miss": "นางสาว", "inst.prefix.mrs": "นาง",
    "inst.reason.moved_out": "ย้ายออก", "inst.reason.not_found": "ไม่พบตัว / ไม่มาเรียน",
    "inst.reason.graduated": "จบการศึกษา", "inst.reason.duplicate": "บันทึกซ้ำ",
    "inst.reason.deceased": "เสียชีวิต", "inst.reason.other": "อื่น ๆ",
    "inst.why.not_own": "หน้านี้แสดงข้อมูลอย่างเดียว: ข้อมูลผู้เรียนบันทึกโดยเจ้าหน้าที่ของสถานศึกษาเอง",
    "inst.why.closed": "รอบการสำรวจนี้ปิดรับข้อมูลแล้ว จึงเพิ่ม แก้ไข นำเข้า หรือยืนยันข้อมูลไม่ได้ หากต้องแก้ไข โปรดติดต่อองค์กรปกครองส่วนท้องถิ่นต้นสังกัด",
    "inst.why.scheduled": "รอบการสำรวจนี้ยังไม่เปิดรับข้อมูล จะบันทึกข้อมูลได้เมื่อรอบเปิดแล้ว",
    "inst.why.finalized": "รอบการสำรวจนี้สรุปผลแล้ว ข้อมูลแก้ไขไม่ได้อีก",
    "inst.why.sealed": "สถานศึกษายืนยันข้อมูลรอบนี้แล้ว ข้อมูลจึงถูกล็อก หากต้องแก้ไข ต้องให้องค์กรปกครองส่วนท้องถิ่นยกเลิกการยืนยันก่อน",
    "inst.why.inactive": "สถานศึกษานี้ยังไม่ได้รับการตรวจสอบหรือปิดแล้ว จึงบันทึกข้อมูลไม่ได้",
    "inst.held.here": "ผู้เรียนคนนี้มีรายชื่ออยู่แล้วในสถานศึกษานี้ในรอบนี้ ให้ค้นหารายชื่อเดิมแล้วแก้ไขแทนการเพิ่มใหม่",
    "inst.held.unit": "ผู้เรียนคนนี้มีรายชื่ออยู่แล้วในรอบนี้ที่ {name} ให้สถานศึกษานั้นจำหน่ายออก (ย้ายออก) ก่อน แล้วจึงบันทึกที่นี่",
    "inst.held.province": "ผู้เรียนคนนี้มีรายชื่ออยู่แล้วในรอบนี้ที่สถานศึกษาแห่งหนึ่งใน{name} โปรดติดต่อสถานศึกษาเดิมหรือองค์กรปกครองส่วนท้องถิ่นต้นสังกัดให้จำหน่ายออกก่อน แล้วจึงบันทึกที่นี่",
    "inst.held.elsewhere": "ผู้เรียนคนนี้มีรายชื่ออยู่แล้วในรอบนี้ที่สถานศึกษาอื่น โปรดติดต่อสถานศึกษาเดิมให้จำหน่ายออกก่อน แล้วจึงบันทึกที่นี่",
    "inst.held.same_file": "ผู้เรียนคนเดียวกันอยู่ในแถวที่ {row} ของไฟล์นี้แล้ว",
    "inst.held.here_other": "มีรายชื่ออยู่แล้วในสถานศึกษานี้แต่ข้อมูลต่างกัน ให้แก้ไขรายชื่อเดิมแทน",
    "inst.err.national_id": "เลขประจำตัวประชาชนไม่ถูกต้อง ต้องเป็นตัวเลข 13 หลักและหลักสุดท้ายต้องตรงตามเลขตรวจสอบ โปรดตรวจทานกับสูติบัตรหรือทะเบียนบ้าน",
    "inst.err.g_code": "รหัส G ไม่ถูกต้อง ต้องขึ้นต้นด้วยตัว G ตามด้วยตัวเลข 12 หลัก (หลักที่ 3–4 เป็นรหัสจังหวัด)",
    "inst.err.age": "อายุไม่อยู่ในช่วงที่รับ: เด็กต้องมีอายุ {min}–{max} ปีเต็ม ณ วันสำรวจ (เด็กคนนี้อายุ {age} ปี)",
    "inst.err.age_plain": "อายุของเด็กไม่อยู่ในช่วงที่ศูนย์พัฒนาเด็กเล็กรับ ณ วันสำรวจ",
    "inst.err.id_required": "กรอกเลขประจำตัวประชาชน หรือรหัส G สำหรับผู้เรียนที่ไม่มีเลขประจำตัวประชาชน",
    "inst.err.id_both": "กรอกเลขประจำตัวประชาชนหรือรหัส G อย่างใดอย่างหนึ่ง",
    "inst.err.after_census": "วันเกิดอยู่หลังวันสำรวจของรอบนี้",
    "inst.err.implausible": "วันเกิดไม่สมเหตุสมผลสำหรับผู้เรียน โปรดตรวจสอบปี พ.ศ.",
    "inst.err.grade_type": "ชั้นนี้ไม่ตรงกับประเภทของสถานศึกษา",
    "inst.err.blank": "ต้องไม่เว้นว่าง",
    "inst.err.letters": "ต้องมีตัวอักษร",
    "inst.err.sex": "ระบุเพศเป็น ชาย หรือ หญิง",
    "inst.err.grade": "ระบุชั้นเป็น อ.1–อ.3, ป.1–ป.6, ม.1–ม.6 หรือ เด็กเล็ก",
    "inst.err.date": "ระบุวันเกิดเป็น วว/ดด/ปปปป (พ.ศ.) เช่น 17/05/2561",
    "inst.err.conflict": "มีผู้อื่นแก้ไขข้อมูลของผู้เรียนคนนี้ระหว่างที่คุณกำลังแก้ไข โปรดโหลดข้อมูลล่าสุดแล้วแก้ไขอีกครั้ง",
    "inst.err.removed": "ผู้เรียนคนนี้ถูกจำหน่ายออกแล้ว แก้ไขไม่ได้ ให้นำกลับเข้ามาก่อน",
    "inst.err.file": "ไฟล์นี้อ่านไม่ได้ ใช้ไฟล์ CSV หรือ Excel ตามแบบฟอร์มที่ดาวน์โหลดได้",
    "inst.err.rate_limited": "พบผู้เรียนที่มีชื่ออยู่ที่สถานศึกษาอื่นหลายรายในเวลาสั้น ๆ โปรดลองอีกครั้งใน {seconds} วินาที",
    "inst.err.columns": "หัวคอลัมน์ของไฟล์ไม่ตรงกับแบบฟอร์ม",
    "inst.learners_n": "{n} คน",
    "inst.no_round": "ยังไม่มีรอบการสำรวจ ข้อมูลผู้เรียนบันทึกได้เมื่อกรมส่งเสริมการปกครองท้องถิ่นเปิดรอบการสำรวจแล้ว",
  },
  en: {
    "inst.prefix.boy": "Master (เด็กชาย)", "inst.prefix.girl": "Miss, girl (เด็กหญิง)", "inst.prefix.mr": "Mr (นาย)",
    "inst.prefix.miss": "Miss (นางสาว)", "inst.prefix.mrs": "Mrs (นาง)",
    "inst.reason.moved_out": "Moved out", "inst.reason.not_found": "Not found / not attending",
    "inst.reason.graduated": "Graduated", "inst.reason.duplicate": "Recorded twice",
    "inst.reason.deceased": "Deceased", "inst.reason.other": "Other",
    "inst.why.not_own": "Read only: learners are recorded by the institution's own officers",
    "inst.why.closed": "This census round is closed, so learners cannot be added, changed, imported or confirmed. To correct data, contact your local administrative organization.",
    "inst.why.scheduled": "This census round has not opened yet; data can be recorded once it opens.",
    "inst.why.finalized": "This census round is finalized; its data can no longer change.",
    "inst.why.sealed": "The institution has confirmed its data for this round, so they are locked. To change them, the local administrative organization must revoke the confirmation first.",
    "inst.why.inactive": "This institution is not verified or is closed, so it cannot record data.",
    "inst.held.here": "This learner is already recorded at this institution in this round. Find the existing record and edit it instead.",
    "inst.held.unit": "This learner is already recorded in this round at {name}. That institution must remove them (moved out) first; then record them here.",
    "inst.held.province": "This learner is already recorded in this round at an institution in {name}. Contact the previous institution or its local administrative organization to remove them first; then record them here.",
    "inst.held.elsewhere": "This learner is already recorded in this round at another institution. Ask it to remove them first; then record them here.",
    "inst.held.same_file": "The same learner is already on row {row} of this file",
    "inst.held.here_other": "Already recorded at this institution with other details; edit that record instead",
    "inst.err.national_id": "The national ID is not valid: 13 digits, the last one a check digit. Check it against the birth certificate or house registration.",
    "inst.err.g_code": "The G-Code is not valid: the letter G and 12 digits (digits 3–4 are a province code).",
    "inst.err.age": "Age out of range: a child must be {min}–{max} full years old at the census date (this child is {age}).",
    "inst.err.age_plain": "The child's age at the census date is outside the range the centre takes.",
    "inst.err.id_required": "Enter the national ID, or a G-Code for a learner without one",
    "inst.err.id_both": "Enter either a national ID or a G-Code, not both",
    "inst.err.after_census": "The birth date is after this round's census date",
    "inst.err.implausible": "The birth date is not plausible for a learner; check the (Buddhist-era) year",
    "inst.err.grade_type": "This grade does not fit the type of institution",
    "inst.err.blank": "must not be blank",
    "inst.err.letters": "must contain letters",
    "inst.err.sex": "Give the sex as male or female",
    "inst.err.grade": "Give the grade as K1–K3, P1–P6, M1–M6 or CDC",
    "inst.err.date": "Give the birth date as dd/mm/yyyy (Buddhist era), e.g. 17/05/2561",
    "inst.err.conflict": "Someone else changed this learner while you were editing. Load the latest details and make your change again.",
    "inst.err.removed": "This learner has been removed and cannot be edited; restore them first.",
    "inst.err.file": "This file cannot be read. Use a CSV (UTF-8) or Excel (.xlsx) file in the layout of the template.",
    "inst.err.rate_limited": "Many learners were found recorded at other institutions in a short time; try again in {seconds} seconds.",
    "inst.err.columns": "The file's column titles do not match the template",
    "inst.learners_n": "{n}",
    "inst.no_round": "There is no census round yet; learners can be recorded once the department opens one.",
  },
});

// the enrollment service's own field messages
registerFieldPattern(/^national_id \(or g_code.*required$/i, "inst.err.id_required");
registerFieldPattern(/^give either national_id or g_code/i, "inst.err.id_both");
registerFieldPattern(/^is after the round's census date$/i, "inst.err.after_census");
registerFieldPattern(/^is not plausible for a learner$/i, "inst.err.implausible");
registerFieldPattern(/^a (school|cdc) records grades/i, "inst.err.grade_type");
registerFieldPattern(/^must not be blank$/i, "inst.err.blank");
registerFieldPattern(/^must contain letters$/i, "inst.err.letters");

export function gradesFor(unit) {
  return unit && unit.type === "cdc" ? ["cdc"] : SCHOOL_GRADES;
}

export function gradeName(grade) {
  return grade ? t(`grade.${grade}`) : "–";
}

// a grade in a table cell (never broken across lines: "ป.5")
export function gradeCell(grade) {
  return el("span", { class: "nowrap" }, gradeName(grade));
}

export function prefixLabel(value) {
  const known = PREFIXES.find(([v]) => v === value);
  return known ? t(`inst.prefix.${known[1]}`) : value || "";
}

export function fullName(learner) {
  return [learner.prefix, learner.first_name, learner.last_name].filter(Boolean).join(" ");
}

export function isInstitution(ctx) {
  return ctx.unit && INSTITUTION_TYPES.includes(ctx.unit.type);
}

export function isOwn(ctx) {
  return !!(ctx.user && ctx.unit && ctx.user.role === "institution" && ctx.user.org_unit_id === ctx.unit.id);
}

// what the officer may do now: {window, summary, canEdit, why} ("why" a catalogue key, or null)
export async function editState(ctx) {
  const rid = ctx.round.id;
  const [window, summary] = await Promise.all([
    api("GET", `/rounds/${rid}/window?org_unit_id=${ctx.unit.id}`, null, { signal: ctx.signal }),
    api("GET", `/rounds/${rid}/institutions/${ctx.unit.id}/learners/summary`, null, { signal: ctx.signal }),
  ]);
  const sealed = !!(summary.sealed && summary.sealed.sealed);
  let why = null;
  if (!isOwn(ctx)) why = "inst.why.not_own";
  else if (ctx.unit.status && ctx.unit.status !== "active") why = "inst.why.inactive";
  else if (sealed) why = "inst.why.sealed";
  else if (!window.open) {
    why = window.state === "scheduled" ? "inst.why.scheduled" : window.state === "finalized" ? "inst.why.finalized" : "inst.why.closed";
  }
  return { window, summary, sealed, canEdit: !why, why };
}

// a banner: why nothing can be changed (the shell shows the deadline itself)
export function stateBanner(state) {
  if (state.why) return el("div", { class: "notice warn inline", role: "note" }, el("p", {}, t(state.why)));
  return document.createDocumentFragment();
}

// a holder's name for a duplicate refusal (the unit may be unreadable: then its province)
async function heldText(extra, ctx) {
  if (extra.held_by !== undefined && extra.held_by !== null) {
    if (ctx && extra.held_by === ctx.unit.id) return t("inst.held.here");
    try {
      const unit = await api("GET", `/org-units/${extra.held_by}`, null, { signal: ctx && ctx.signal });
      return t("inst.held.unit", { name: unit.name });
    } catch (e) {
      return t("inst.held.elsewhere");
    }
  }
  if (extra.held_in && extra.held_in.name) return t("inst.held.province", { name: extra.held_in.name });
  return t("inst.held.elsewhere");
}

// the refusal of a learner change: {fields: {field: message}, lines: [sentence]}
export async function learnerError(error, ctx, { idField = "id_number" } = {}) {
  const code = error && error.code;
  const data = (error && error.data) || {};
  if (code === "invalid_national_id") return { fields: { [idField]: t("inst.err.national_id") }, lines: [] };
  if (code === "invalid_g_code") return { fields: { [idField]: t("inst.err.g_code") }, lines: [] };
  if (code === "age_out_of_range") {
    const text = data.min_years !== undefined
      ? t("inst.err.age", { min: data.min_years, max: data.max_years, age: data.age_years })
      : t("inst.err.age_plain");
    return { fields: { birth_date: text }, lines: [] };
  }
  if (code === "duplicate_learner") return { fields: { [idField]: await heldText(data, ctx) }, lines: [] };
  if (code === "rate_limited" && data.retry_after) {
    return { fields: {}, lines: [t("inst.err.rate_limited", { seconds: data.retry_after })] };
  }
  if (code === "conflict" && /changed meanwhile/.test(error.message || "")) return { fields: {}, lines: [t("inst.err.conflict")] };
  if (code === "conflict" && /removed/.test(error.message || "")) return { fields: {}, lines: [t("inst.err.removed")] };
  if (code === "validation_error" && error.fields && Object.keys(error.fields).length) {
    const fields = {};
    for (const [name, message] of Object.entries(error.fields)) {
      const target = name === "national_id" || name === "g_code" ? idField : name;
      fields[target] = message;
    }
    return { fields, lines: [] };
  }
  return { fields: {}, lines: [errorText(error)] };
}

// one import rejection or carry-over skip as a sentence in the current language
export async function rejectionText(item, ctx) {
  const code = item.code;
  if (code === "duplicate_learner") {
    const same = /on row (\d+) of this file/.exec(item.message || "");
    if (same) return t("inst.held.same_file", { row: num(Number(same[1])) });
    if (/other details/.test(item.message || "")) return t("inst.held.here_other");
    return heldText(item, ctx);
  }
  if (code === "invalid_national_id") return t("inst.err.national_id");
  if (code === "invalid_g_code") return t("inst.err.g_code");
  if (code === "age_out_of_range") return t("inst.err.age_plain");
  if (code === "rate_limited") return t("inst.err.rate_limited", { seconds: item.retry_after || 60 });
  if (code === "validation_error" && item.message) {
    // "field: message; field: message" as the import reports it
    return item.message.split(/;\s*/).map((part) => {
      const m = /^(\w+):\s*(.*)$/.exec(part);
      if (!m) return fieldText(part);
      const label = t(`field.${m[1]}`);
      const specific = { sex: "inst.err.sex", grade: "inst.err.grade" }[m[1]];
      if (specific && /one of/i.test(m[2])) return t(specific);
      if (m[1] === "birth_date" && /not a valid date|date/i.test(m[2]) && !/census|plausible/.test(m[2])) return t("inst.err.date");
      return `${label}: ${fieldText(m[2])}`;
    }).join("; ");
  }
  if (code === "invalid_file" || code === "unsupported_media_type") return t("inst.err.file");
  return errorText(new ApiError(422, { ...item, description: item.message }));
}

// the page when there is no round to work in
export function withRound(render) {
  return async (ctx) => (ctx.round ? render(ctx)
    : el("section", { class: "page" }, el("div", { class: "empty" }, el("p", {}, t("inst.no_round")))));
}

// a small count panel: [label, value] pairs
export function figures(pairs) {
  return el("dl", { class: "figures" }, pairs.map(([label, value]) => el("div", { class: "figure" },
    el("dt", {}, label), el("dd", {}, typeof value === "number" ? num(value) : value))));
}
