// Census rounds: every officer sees them with their state and the deadline of each level
// (institutions, LAOs, provinces, the department's finalisation); the department creates a
// round (Buddhist-era dates, the default rates) and moves the deadlines.
import { api, errorText, fieldText } from "../core/api.js";
import { countdown, dateInput, deadlineText, formatDate, today } from "../core/dates.js";
import { baht, num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit } from "../core/ui.js";
import { gradeName } from "./institution.js";
import { SCHOOL_GRADES, roundName } from "./oversight.js";

register({
  th: {
    "rounds.title": "รอบการสำรวจ",
    "rounds.list": "รอบการสำรวจทั้งหมด",
    "rounds.col.round": "รอบ",
    "rounds.col.census": "วันที่นับข้อมูล",
    "rounds.col.opens": "เปิดรับข้อมูล",
    "rounds.col.deadline": "กำหนดส่ง",
    "rounds.col.state": "สถานะ",
    "rounds.col.settings": "ค่ากำหนด",
    "rounds.col.actions": "ดำเนินการ",
    "rounds.empty": "ยังไม่มีรอบการสำรวจ",
    "rounds.settings_text": "เด็กเล็กอายุ {min}–{max} ปี · อาหารกลางวันโรงเรียน {days} วัน · นม {price} ต่อถุง",
    "rounds.change_deadline": "เปลี่ยนกำหนดส่ง",
    "rounds.change_deadline_of": "เปลี่ยนกำหนดส่งของ{name}",
    "rounds.dl.institution": "สถานศึกษา",
    "rounds.dl.lao": "อปท.",
    "rounds.dl.province": "จังหวัด",
    "rounds.dl.department": "กรม (สรุปผล)",
    "rounds.dl.line": "{level}: {deadline}",
    "rounds.dl.none": "ไม่กำหนด",
    "rounds.dl.intro": "แต่ละระดับยืนยันข้อมูลได้ถึงกำหนดของระดับตน กำหนดต้องเรียงกัน: สถานศึกษา ไม่หลัง อปท. ไม่หลังจังหวัด",
    "rounds.dl.input.institution": "วันสุดท้ายของสถานศึกษา (พ.ศ.)",
    "rounds.dl.input.lao": "วันสุดท้ายของ อปท. (พ.ศ.)",
    "rounds.dl.input.province": "วันสุดท้ายของจังหวัด (พ.ศ.)",
    "rounds.dl.input.department": "วันที่กรมจะสรุปผล (พ.ศ.)",
    "rounds.dl.hint.lao": "เว้นว่างเพื่อใช้ค่าตั้งต้น: วันเดียวกับสถานศึกษา",
    "rounds.dl.hint.province": "เว้นว่างเพื่อใช้ค่าตั้งต้น: 1 วันหลังกำหนดของ อปท.",
    "rounds.dl.hint.department": "ไม่บังคับ กรมยืนยันได้จนกว่าจะสรุปผล เว้นว่างได้",
    "rounds.dl.changed": "เปลี่ยนกำหนดส่งของ{name} แล้ว · {deadlines}",
    "rounds.dl.unchanged": "ไม่มีกำหนดส่งที่เปลี่ยน",
    "rounds.dl.order": "กำหนดส่งต้องเรียงกัน: สถานศึกษา ไม่หลัง อปท. ไม่หลังจังหวัด ไม่หลังวันที่กรมสรุปผล (ตรวจ: {levels})",
    "rounds.census_default": "วันนับข้อมูลตามปกติ: รอบที่ 1 วันที่ 10 มิถุนายน รอบที่ 2 วันที่ 10 พฤศจิกายน (เติมให้แล้ว แก้ได้)",
    "rounds.deadline_hint": "รับข้อมูลถึงเวลา 24.00 น. ของวันที่กรอก เช่น 30/06/2569",
    "rounds.bad_date": "กรอกวันที่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.) เช่น 30/06/2569",
    "rounds.create": "สร้างรอบการสำรวจใหม่",
    "rounds.create_intro": "กรอกวันที่เป็นปีพุทธศักราช อัตราค่าอาหารกลางวันและนมใช้ค่าตั้งต้นของกรม แก้ไขได้ในส่วนค่ากำหนด",
    "rounds.academic_year": "ปีการศึกษา (พ.ศ.)",
    "rounds.number": "รอบที่",
    "rounds.number_1": "รอบที่ 1 (10 มิถุนายน)",
    "rounds.number_2": "รอบที่ 2 (10 พฤศจิกายน)",
    "rounds.census_date": "วันที่นับข้อมูล (พ.ศ.)",
    "rounds.opens_at": "วันที่เปิดรับข้อมูล (พ.ศ.)",
    "rounds.closes_at": "วันสุดท้ายของการส่งข้อมูล (พ.ศ.)",
    "rounds.date_hint": "วว/ดด/ปปปป เช่น 10/06/2569",
    "rounds.settings": "ค่ากำหนดของรอบ (ค่าตั้งต้น)",
    "rounds.cdc_min": "อายุเด็กเล็กต่ำสุด (ปีเต็ม ณ วันนับข้อมูล)",
    "rounds.cdc_max": "อายุเด็กเล็กสูงสุด (ปีเต็ม)",
    "rounds.lunch_days": "จำนวนวันอาหารกลางวันของโรงเรียน",
    "rounds.milk_price": "ราคานมต่อถุง (บาท)",
    "rounds.create_button": "สร้างรอบการสำรวจ",
    "rounds.created": "สร้างรอบการสำรวจ {name} แล้ว",
    "rounds.s.heading": "ค่ากำหนดของรอบ",
    "rounds.s.heading_of": "ค่ากำหนดของ{name}",
    "rounds.s.round": "รอบการสำรวจที่จะดูค่ากำหนด",
    "rounds.s.intro": "อายุเด็กเล็ก จำนวนวัน และอัตราค่าอาหารกลางวันและนมที่ใช้คำนวณงบประมาณของรอบ แก้แล้วกดบันทึก ระบบจะแสดงรายการที่เปลี่ยนให้ตรวจสอบก่อนบันทึก",
    "rounds.s.readonly": "ค่ากำหนดของรอบแก้ไขได้เฉพาะเจ้าหน้าที่ของกรม",
    "rounds.s.finalized": "รอบนี้สรุปผลแล้ว จึงแก้ไขค่ากำหนดไม่ได้",
    "rounds.s.cdc_age": "อายุเด็กเล็กที่นับ (ศูนย์พัฒนาเด็กเล็ก)",
    "rounds.s.cdc_age_hint": "อายุเป็นปีเต็ม ณ วันนับข้อมูล",
    "rounds.s.min_years": "อายุต่ำสุด (ปี)",
    "rounds.s.max_years": "อายุสูงสุด (ปี)",
    "rounds.s.age_range": "{min}–{max} ปี",
    "rounds.s.school_lunch": "อาหารกลางวันโรงเรียน",
    "rounds.s.cdc_lunch": "อาหารกลางวันศูนย์พัฒนาเด็กเล็ก",
    "rounds.s.school_milk": "อาหารเสริม (นม) โรงเรียน",
    "rounds.s.cdc_milk": "อาหารเสริม (นม) ศูนย์พัฒนาเด็กเล็ก",
    "rounds.s.days": "จำนวนวัน (วัน)",
    "rounds.s.days_value": "{n} วัน",
    "rounds.s.rate": "อัตรา (บาท/คน/วัน)",
    "rounds.s.rate_value": "{amount}/คน/วัน",
    "rounds.s.price": "ราคานมต่อถุง (บาท/ถุง)",
    "rounds.s.price_value": "{amount}/ถุง",
    "rounds.s.packs": "จำนวนนมต่อคนต่อวัน (ถุง)",
    "rounds.s.packs_value": "{n} ถุง/คน/วัน",
    "rounds.s.grades": "ชั้นที่ได้รับ",
    "rounds.s.grades_none": "ไม่มีชั้นใดได้รับ",
    "rounds.s.tiers": "อัตราตามจำนวนนักเรียนของโรงเรียน",
    "rounds.s.tiers_hint": "ขั้นต้องต่อเนื่องกัน: ขั้นที่ 1 เริ่มที่ 1 คน แต่ละขั้นเริ่มถัดจากจำนวนสูงสุดของขั้นก่อน ขั้นสุดท้ายไม่จำกัดจำนวน",
    "rounds.s.tier": "ขั้นที่ {n}",
    "rounds.s.tier_min": "ตั้งแต่ (คน)",
    "rounds.s.tier_max": "ถึง (คน)",
    "rounds.s.tier_open": "ขึ้นไป (ขั้นสุดท้าย ไม่จำกัดจำนวน)",
    "rounds.s.tier_range": "{min}–{max} คน",
    "rounds.s.tier_from": "{min} คนขึ้นไป",
    "rounds.s.col.tier": "ขั้น",
    "rounds.s.col.pupils": "จำนวนนักเรียน",
    "rounds.s.col.rate": "อัตรา (บาท/คน/วัน)",
    "rounds.s.tier_add": "เพิ่มขั้น",
    "rounds.s.tier_remove": "ลบขั้นนี้",
    "rounds.s.tier_remove_label": "ลบขั้นที่ {n}",
    "rounds.s.save": "บันทึกค่ากำหนด",
    "rounds.s.confirm_title": "ยืนยันการเปลี่ยนค่ากำหนดของ{name}",
    "rounds.s.confirm_warning": "การเปลี่ยนอัตราจะมีผลกับการคำนวณงบประมาณของรอบนี้",
    "rounds.s.confirm_changes": "รายการที่เปลี่ยน",
    "rounds.s.change": "{label}: {before} → {after}",
    "rounds.s.unchanged": "ยังไม่มีค่าที่เปลี่ยน",
    "rounds.s.saved": "บันทึกค่ากำหนดของ{name}แล้ว",
    "rounds.s.unlimited": "ไม่จำกัด",
    "rounds.s.err.number": "กรอกเป็นตัวเลข เช่น 27 หรือ 7.35",
    "rounds.s.err.whole": "กรอกเป็นจำนวนเต็ม",
    "rounds.s.err.between": "ต้องอยู่ระหว่าง {min} ถึง {max}",
    "rounds.s.err.at_least": "ต้องไม่น้อยกว่า {min}",
    "rounds.s.err.age_order": "อายุสูงสุดต้องไม่น้อยกว่าอายุต่ำสุด",
    "rounds.s.err.tier_start": "ขั้นที่ {n} ต้องเริ่มที่ {min} คน (ถัดจากจำนวนสูงสุดของขั้นก่อน)",
    "rounds.s.err.tier_order": "ขั้นที่ {n}: จำนวนสูงสุดต้องไม่น้อยกว่าจำนวนเริ่มต้นของขั้น",
    "rounds.s.err.tier_open": "ต้องกรอกจำนวนสูงสุด เฉพาะขั้นสุดท้ายเท่านั้นที่ไม่จำกัดจำนวน",
    "rounds.s.err.last_open": "ขั้นสุดท้ายต้องไม่จำกัดจำนวนสูงสุด",
    "rounds.s.err.tiers": "ต้องมีอย่างน้อย 1 ขั้น",
    "rounds.s.err.in_tier": "ขั้นที่ {n}: {message}",
  },
  en: {
    "rounds.title": "Rounds",
    "rounds.list": "Every census round",
    "rounds.col.round": "Round",
    "rounds.col.census": "Census date",
    "rounds.col.opens": "Opens",
    "rounds.col.deadline": "Deadline",
    "rounds.col.state": "State",
    "rounds.col.settings": "Settings",
    "rounds.col.actions": "Actions",
    "rounds.empty": "There is no census round yet",
    "rounds.settings_text": "CDC ages {min}–{max} · school lunch {days} days · milk {price} a pack",
    "rounds.change_deadline": "Change the deadline",
    "rounds.change_deadline_of": "Change the deadline of {name}",
    "rounds.dl.institution": "Institutions",
    "rounds.dl.lao": "LAOs",
    "rounds.dl.province": "Provinces",
    "rounds.dl.department": "Department (finalisation)",
    "rounds.dl.line": "{level}: {deadline}",
    "rounds.dl.none": "not set",
    "rounds.dl.intro": "Each level confirms until its own deadline. The deadlines follow the chain: institutions, then LAOs, then provinces.",
    "rounds.dl.input.institution": "Last day for institutions (Buddhist era)",
    "rounds.dl.input.lao": "Last day for LAOs (Buddhist era)",
    "rounds.dl.input.province": "Last day for provinces (Buddhist era)",
    "rounds.dl.input.department": "Day the department finalises (Buddhist era)",
    "rounds.dl.hint.lao": "Leave empty for the default: the institutions' day",
    "rounds.dl.hint.province": "Leave empty for the default: a day after the LAOs'",
    "rounds.dl.hint.department": "Optional: the department confirms until the round is finalised; may be left empty",
    "rounds.dl.changed": "The deadlines of {name} were changed · {deadlines}",
    "rounds.dl.unchanged": "No deadline was changed",
    "rounds.dl.order": "The deadlines must follow the chain: institutions, LAOs, provinces, then the department's day (check: {levels})",
    "rounds.census_default": "The usual census days: round 1 on 10 June, round 2 on 10 November (filled in; you may change it)",
    "rounds.deadline_hint": "Data is accepted until 24:00 of that day, e.g. 30/06/2569",
    "rounds.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era), e.g. 30/06/2569",
    "rounds.create": "Create a census round",
    "rounds.create_intro": "Dates are in the Buddhist era. Lunch and milk rates start from the department's defaults; change them under Settings.",
    "rounds.academic_year": "Academic year (Buddhist era)",
    "rounds.number": "Round",
    "rounds.number_1": "Round 1 (10 June)",
    "rounds.number_2": "Round 2 (10 November)",
    "rounds.census_date": "Census date (Buddhist era)",
    "rounds.opens_at": "Opens on (Buddhist era)",
    "rounds.closes_at": "Last day to submit (Buddhist era)",
    "rounds.date_hint": "dd/mm/yyyy, e.g. 10/06/2569",
    "rounds.settings": "Round settings (defaults)",
    "rounds.cdc_min": "Youngest CDC age (completed years at the census date)",
    "rounds.cdc_max": "Oldest CDC age (completed years)",
    "rounds.lunch_days": "School lunch days",
    "rounds.milk_price": "Milk price per pack (THB)",
    "rounds.create_button": "Create the round",
    "rounds.created": "{name} was created",
    "rounds.s.heading": "Round settings",
    "rounds.s.heading_of": "Settings of {name}",
    "rounds.s.round": "Round whose settings are shown",
    "rounds.s.intro": "The CDC age range, the days and the lunch and milk rates used for the round's budget. Change them and save: the changes are listed for you to check before they are saved.",
    "rounds.s.readonly": "Only department officers change a round's settings",
    "rounds.s.finalized": "This round is finalized, so its settings can no longer change",
    "rounds.s.cdc_age": "Ages counted in child development centres",
    "rounds.s.cdc_age_hint": "Completed years at the census date",
    "rounds.s.min_years": "Youngest (years)",
    "rounds.s.max_years": "Oldest (years)",
    "rounds.s.age_range": "{min}–{max} years",
    "rounds.s.school_lunch": "School lunch",
    "rounds.s.cdc_lunch": "CDC lunch",
    "rounds.s.school_milk": "School milk",
    "rounds.s.cdc_milk": "CDC milk",
    "rounds.s.days": "Days",
    "rounds.s.days_value": "{n} days",
    "rounds.s.rate": "Rate (THB a pupil a day)",
    "rounds.s.rate_value": "{amount} a pupil a day",
    "rounds.s.price": "Milk price (THB a pack)",
    "rounds.s.price_value": "{amount} a pack",
    "rounds.s.packs": "Packs a pupil a day",
    "rounds.s.packs_value": "{n} packs a pupil a day",
    "rounds.s.grades": "Grades covered",
    "rounds.s.grades_none": "No grade",
    "rounds.s.tiers": "Rates by the school's number of pupils",
    "rounds.s.tiers_hint": "Tiers follow on: tier 1 starts at 1 pupil, each tier starts after the highest number of the tier before, and the last tier has no upper limit.",
    "rounds.s.tier": "Tier {n}",
    "rounds.s.tier_min": "From (pupils)",
    "rounds.s.tier_max": "To (pupils)",
    "rounds.s.tier_open": "and more (the last tier has no upper limit)",
    "rounds.s.tier_range": "{min}–{max} pupils",
    "rounds.s.tier_from": "{min} pupils or more",
    "rounds.s.col.tier": "Tier",
    "rounds.s.col.pupils": "Pupils",
    "rounds.s.col.rate": "Rate (THB a pupil a day)",
    "rounds.s.tier_add": "Add a tier",
    "rounds.s.tier_remove": "Remove this tier",
    "rounds.s.tier_remove_label": "Remove tier {n}",
    "rounds.s.save": "Save the settings",
    "rounds.s.confirm_title": "Change the settings of {name}",
    "rounds.s.confirm_warning": "Changing the rates changes the budget calculated for this round",
    "rounds.s.confirm_changes": "What changes",
    "rounds.s.change": "{label}: {before} → {after}",
    "rounds.s.unchanged": "Nothing has been changed yet",
    "rounds.s.saved": "The settings of {name} were saved",
    "rounds.s.unlimited": "no limit",
    "rounds.s.err.number": "Enter a number, e.g. 27 or 7.35",
    "rounds.s.err.whole": "Enter a whole number",
    "rounds.s.err.between": "Must be from {min} to {max}",
    "rounds.s.err.at_least": "Must be at least {min}",
    "rounds.s.err.age_order": "The oldest age must not be below the youngest",
    "rounds.s.err.tier_start": "Tier {n} must start at {min} pupils (after the highest number of the tier before)",
    "rounds.s.err.tier_order": "Tier {n}: the highest number must not be below the tier's first",
    "rounds.s.err.tier_open": "Enter the highest number: only the last tier has no upper limit",
    "rounds.s.err.last_open": "The last tier must have no upper limit",
    "rounds.s.err.tiers": "At least one tier is needed",
    "rounds.s.err.in_tier": "Tier {n}: {message}",
  },
});

function settingsText(s) {
  if (!s) return t("ov.none");
  const age = s.cdc_age || {};
  const lunch = (s.lunch && s.lunch.school) || {};
  const milk = (s.milk && s.milk.school) || {};
  return t("rounds.settings_text", { min: age.min_years, max: age.max_years, days: num(lunch.days),
    price: baht(milk.price_per_pack) });
}

const LEVELS = ["institution", "lao", "province", "department"];

// the deadline's day: a deadline at midnight closes the day before it
const deadlineDay = (instant) => (instant ? new Date(new Date(instant).getTime() - 1000).toISOString() : "");

function deadlineOf(round, level) {
  return (round.deadlines || {})[level] || (level === "institution" ? round.closes_at : null);
}

// each level's deadline, one line each; a countdown beside those still running
function levelDeadlines(round) {
  const running = round.state !== "finalized" && round.state !== "scheduled";
  return el("ul", { class: "level-deadlines" }, LEVELS.map((level) => {
    const at = deadlineOf(round, level);
    const left = at && running && new Date(at) > new Date() ? el("span", { class: "countdown" }, ` · ${countdown(at)}`) : null;
    return el("li", { dataset: { level } }, t("rounds.dl.line", { level: t(`rounds.dl.${level}`),
      deadline: at ? deadlineText(at) : t("rounds.dl.none") }), left);
  }));
}

async function changeDeadline(ctx, round) {
  // the institutions' deadline is the round's closes_at; the other levels' may be emptied
  // (back to their default; for the department: none)
  const inputs = {};
  const initial = {};
  const fields = LEVELS.map((level) => {
    const name = level === "institution" ? "closes_on" : `${level}_on`;
    const input = dateInput({ name, id: `deadline-${round.id}-${level}` });
    input.isoValue = deadlineDay(deadlineOf(round, level));
    inputs[level] = input;
    initial[level] = input.value;
    return field({ label: t(`rounds.dl.input.${level}`), name, input,
      hint: t(level === "institution" ? "rounds.deadline_hint" : `rounds.dl.hint.${level}`) });
  });
  const body = el("div", {}, el("p", { class: "hint" }, t("rounds.dl.intro")), fields);
  const ok = await confirmDialog({ title: t("rounds.change_deadline_of", { name: roundName(round) }), body,
    confirmLabel: t("rounds.change_deadline") });
  if (!ok) return;
  const change = {};
  const deadlines = {};
  for (const level of LEVELS) {
    const input = inputs[level];
    if (input.value.trim() === initial[level].trim()) continue;
    const typed = input.value.trim();
    if (!typed && level !== "institution") {
      deadlines[level] = null;
      continue;
    }
    if (!input.isoValue) {
      notice(t("rounds.bad_date"), "error");
      return;
    }
    if (level === "institution") change.closes_at = input.isoValue;
    else deadlines[level] = input.isoValue;
  }
  if (Object.keys(deadlines).length) change.deadlines = deadlines;
  if (!Object.keys(change).length) {
    notice(t("rounds.dl.unchanged"), "ok");
    return;
  }
  try {
    const saved = await api("PATCH", `/rounds/${round.id}`, change);
    const summary = LEVELS.filter((l) => l === "institution" || change.deadlines && l in change.deadlines)
      .map((l) => t("rounds.dl.line", { level: t(`rounds.dl.${l}`), deadline: deadlineOf(saved, l) ? deadlineText(deadlineOf(saved, l)) : t("rounds.dl.none") }));
    notice(t("rounds.dl.changed", { name: roundName(round), deadlines: summary.join(" · ") }), "ok");
  } catch (e) {
    const wrong = e && e.data && e.data.errors && e.data.errors.deadlines;
    if (wrong && typeof wrong === "object") {
      const levels = Object.keys(wrong).filter((l) => LEVELS.includes(l)).map((l) => t(`rounds.dl.${l}`));
      notice(t("rounds.dl.order", { levels: levels.join(", ") || t("rounds.dl.institution") }), "error");
    } else notice(errorText(e), "error");
  }
  await ctx.refresh();
}

function createForm(ctx, rounds) {
  const thisYear = Number(today().slice(0, 4)) + 543;
  const latest = rounds[0];
  const nextYear = latest ? (latest.number === 1 ? latest.academic_year : latest.academic_year + 1) : thisYear;
  const nextNumber = latest ? (latest.number === 1 ? 2 : 1) : 1;
  const year = el("input", { type: "text", inputmode: "numeric", value: String(nextYear), autocomplete: "off" });
  const number = el("select", {}, [1, 2].map((n) => el("option", { value: String(n), selected: n === nextNumber }, t(`rounds.number_${n}`))));
  const census = dateInput({ name: "census_date", id: "round-census" });
  // the usual census day of the chosen year and round, until the officer types another
  let censusTyped = false;
  census.addEventListener("input", () => { censusTyped = true; });
  const usualCensus = () => {
    if (censusTyped || !/^\d{4}$/.test(year.value.trim())) return;
    const ce = Number(year.value.trim()) - 543;
    census.isoValue = number.value === "2" ? `${ce}-11-10` : `${ce}-06-10`;
  };
  year.addEventListener("input", usualCensus);
  number.addEventListener("change", usualCensus);
  usualCensus();
  const opens = dateInput({ name: "opens_at", id: "round-opens" });
  const closes = dateInput({ name: "closes_at", id: "round-closes" });
  const numberInput = (value, step = "1") => el("input", { type: "number", min: "0", step, value: String(value) });
  const cdcMin = numberInput(2);
  const cdcMax = numberInput(5);
  const lunchDays = numberInput(200);
  const milkPrice = numberInput(7.35, "0.01");
  const form = el("form", { class: "panel", "aria-labelledby": "round-create-h", novalidate: true },
    el("h2", { id: "round-create-h" }, t("rounds.create")),
    el("p", {}, t("rounds.create_intro")),
    el("div", { class: "form-grid" },
      field({ label: t("rounds.academic_year"), name: "academic_year", input: year }),
      field({ label: t("rounds.number"), name: "number", input: number }),
      field({ label: t("rounds.census_date"), name: "census_date", input: census, hint: t("rounds.census_default") }),
      field({ label: t("rounds.opens_at"), name: "opens_at", input: opens, hint: t("rounds.date_hint") }),
      field({ label: t("rounds.closes_at"), name: "closes_at", input: closes, hint: t("rounds.deadline_hint") })),
    el("details", {}, el("summary", {}, t("rounds.settings")),
      el("div", { class: "form-grid" },
        field({ label: t("rounds.cdc_min"), name: "settings.cdc_age.min_years", input: cdcMin }),
        field({ label: t("rounds.cdc_max"), name: "settings.cdc_age.max_years", input: cdcMax }),
        field({ label: t("rounds.lunch_days"), name: "settings.lunch.school.days", input: lunchDays }),
        field({ label: t("rounds.milk_price"), name: "settings.milk.school.price_per_pack", input: milkPrice }))),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("rounds.create_button"))));
  onSubmit(form, async () => {
    clearErrors(form);
    const bad = {};
    for (const [name, input] of [["census_date", census], ["opens_at", opens], ["closes_at", closes]]) {
      if (!input.isoValue) bad[name] = t("rounds.bad_date");
    }
    if (!/^\d{4}$/.test(year.value.trim())) bad.academic_year = t("fieldmsg.not_number");
    if (Object.keys(bad).length) {
      formErrors(form, { fields: bad });
      return;
    }
    const body = {
      academic_year: Number(year.value.trim()), number: Number(number.value),
      census_date: census.isoValue, opens_at: opens.isoValue, closes_at: closes.isoValue,
      settings: {
        cdc_age: { min_years: Number(cdcMin.value), max_years: Number(cdcMax.value) },
        lunch: { school: { days: Number(lunchDays.value) } },
        milk: { school: { price_per_pack: Number(milkPrice.value) } },
      },
    };
    try {
      const created = await api("POST", "/rounds", body);
      notice(t("rounds.created", { name: roundName(created) }), "ok");
    } catch (e) {
      if (!formErrors(form, { fields: flatten(e.data && e.data.errors, e.fields) })) notice(errorText(e), "error");
      return;
    }
    await ctx.refresh();
  });
  return form;
}

// nested settings errors ({settings: {cdc_age: {max_years: [...]}}}) as dotted field names,
// each in the officer's language
function flatten(raw, translated) {
  const out = { ...(translated || {}) };
  if (raw && raw.settings && typeof raw.settings === "object") {
    delete out.settings;
    Object.assign(out, settingsErrors(raw.settings));
  }
  return out;
}

// -- the settings of a round: shown to every officer, changed by the department ---------------

const TIERS = "settings.lunch.school.tiers";
let settingsRoundId = null; // the round whose settings the page shows (kept across refreshes)

// the settings the editor changes, each under a group: its path below `settings`, its label,
// a whole number or not, and its limits (as the server's RoundSettings)
const GROUPS = [
  { key: "cdc_age", hint: "rounds.s.cdc_age_hint", fields: [
    { path: "cdc_age.min_years", label: "rounds.s.min_years", whole: true, min: 0, max: 10 },
    { path: "cdc_age.max_years", label: "rounds.s.max_years", whole: true, min: 0, max: 10 }] },
  { key: "school_lunch", grades: "lunch.school.grades", tiers: true, fields: [
    { path: "lunch.school.days", label: "rounds.s.days", whole: true, min: 0, max: 366 }] },
  { key: "cdc_lunch", fields: [
    { path: "lunch.cdc.days", label: "rounds.s.days", whole: true, min: 0, max: 366 },
    { path: "lunch.cdc.rate", label: "rounds.s.rate", money: true, min: 0 }] },
  { key: "school_milk", grades: "milk.school.grades", fields: [
    { path: "milk.school.days", label: "rounds.s.days", whole: true, min: 0, max: 366 },
    { path: "milk.school.price_per_pack", label: "rounds.s.price", money: true, min: 0 },
    { path: "milk.school.packs_per_day", label: "rounds.s.packs", whole: true, min: 0, max: 10 }] },
  { key: "cdc_milk", fields: [
    { path: "milk.cdc.days", label: "rounds.s.days", whole: true, min: 0, max: 366 },
    { path: "milk.cdc.price_per_pack", label: "rounds.s.price", money: true, min: 0 },
    { path: "milk.cdc.packs_per_day", label: "rounds.s.packs", whole: true, min: 0, max: 10 }] },
];

function getIn(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

function setIn(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

const idOf = (name) => `s-${name.replace(/^settings\./, "").replace(/\./g, "-")}`;
const text = (v) => (v === null || v === undefined ? "" : String(v));

// a typed value as a number, or the reason it is not one
function parseValue(raw, spec) {
  const s = String(raw).trim().replace(/,/g, "");
  if (!s) return { error: t("fieldmsg.required") };
  if (!/^\d+(\.\d+)?$/.test(s)) return { error: t("rounds.s.err.number") };
  const v = Number(s);
  if (spec.whole && !Number.isInteger(v)) return { error: t("rounds.s.err.whole") };
  if (spec.max !== undefined && (v < spec.min || v > spec.max)) {
    return { error: t("rounds.s.err.between", { min: num(spec.min), max: num(spec.max) }) };
  }
  if (v < spec.min) return { error: t("rounds.s.err.at_least", { min: num(spec.min) }) };
  return { value: v };
}

// one server message about a setting, in the officer's language
function settingText(message) {
  const m = String(message);
  let x = /^Must be greater than or equal to ([\d.-]+) and less than or equal to ([\d.-]+)\.?$/i.exec(m);
  if (x) return t("rounds.s.err.between", { min: x[1], max: x[2] });
  x = /^Must be greater than or equal to ([\d.-]+)\.?$/i.exec(m);
  if (x) return t("rounds.s.err.at_least", { min: x[1] });
  if (/^min_years must not exceed max_years$/i.test(m)) return t("rounds.s.err.age_order");
  return fieldText(m);
}

// the server's errors of `settings` as {dotted field name: sentence}; the tiers' own rules
// (contiguous, the last open-ended) go beside the tier field they concern
function settingsErrors(raw) {
  const out = {};
  const add = (name, sentence) => { out[name] = out[name] ? `${out[name]} ${sentence}` : sentence; };
  const tierMessage = (m) => {
    let x = /^tier (\d+) must start at (\d+) pupils$/i.exec(m);
    if (x) return add(`${TIERS}.${Number(x[1]) - 1}.min_pupils`, t("rounds.s.err.tier_start", { n: x[1], min: x[2] }));
    x = /^tier (\d+) ends before it starts$/i.exec(m);
    if (x) return add(`${TIERS}.${Number(x[1]) - 1}.max_pupils`, t("rounds.s.err.tier_order", { n: x[1] }));
    if (/^only the last tier may be open-ended/i.test(m)) return add(TIERS, t("rounds.s.err.tier_open"));
    if (/^the last tier must be open-ended/i.test(m)) return add(TIERS, t("rounds.s.err.last_open"));
    if (/^Shorter than minimum length 1\.?$/i.test(m)) return add(TIERS, t("rounds.s.err.tiers"));
    return add(TIERS, settingText(m));
  };
  const walk = (prefix, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(k === "_schema" ? prefix : `${prefix}.${k}`, x);
      return;
    }
    const messages = [].concat(v).map((m) => (typeof m === "string" ? m : JSON.stringify(m)));
    if (prefix === TIERS) {
      messages.forEach(tierMessage);
      return;
    }
    const sentence = messages.map(settingText).join(" ");
    const tier = /^settings\.lunch\.school\.tiers\.(\d+)\./.exec(prefix);
    add(prefix === "settings" ? "_schema" : prefix,
      tier ? t("rounds.s.err.in_tier", { n: Number(tier[1]) + 1, message: sentence }) : sentence);
  };
  walk("settings", raw);
  return out;
}

function shown(value, spec) {
  if (value === null) return t("rounds.s.unlimited");
  if (value === undefined || value === "") return t("ov.none");
  if (Array.isArray(value)) return value.length ? value.map(gradeName).join(", ") : t("rounds.s.grades_none");
  return spec && spec.money ? num(value, 2) : num(value);
}

// every value the editor shows: [{key, label, value, spec}], for the list of changes
function leaves(settings) {
  const out = [];
  for (const group of GROUPS) {
    const title = t(`rounds.s.${group.key}`);
    for (const spec of group.fields) {
      out.push({ key: spec.path, label: `${title} · ${t(spec.label)}`, value: getIn(settings, spec.path), spec });
    }
    if (group.grades) {
      out.push({ key: group.grades, label: `${title} · ${t("rounds.s.grades")}`, value: getIn(settings, group.grades) || [] });
    }
    if (group.tiers) {
      (getIn(settings, "lunch.school.tiers") || []).forEach((tier, i) => {
        const where = `${title} · ${t("rounds.s.tier", { n: i + 1 })}`;
        out.push({ key: `tier.${i}.min`, label: `${where} · ${t("rounds.s.tier_min")}`, value: tier.min_pupils });
        out.push({ key: `tier.${i}.max`, label: `${where} · ${t("rounds.s.tier_max")}`, value: tier.max_pupils });
        out.push({ key: `tier.${i}.rate`, label: `${where} · ${t("rounds.s.rate")}`, value: tier.rate, spec: { money: true } });
      });
    }
  }
  return out;
}

function same(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) return String(a || []) === String(b || []);
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  return Number(a) === Number(b);
}

// "label: before → after" for each value the officer changed
function changes(before, after) {
  const old = new Map(leaves(before).map((l) => [l.key, l]));
  const now = new Map(leaves(after).map((l) => [l.key, l]));
  const lines = [];
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const a = old.get(key);
    const b = now.get(key);
    if (a && b && same(a.value, b.value)) continue;
    const ref = b || a;
    lines.push(t("rounds.s.change", { label: ref.label, before: a ? shown(a.value, a.spec) : t("ov.none"),
      after: b ? shown(b.value, b.spec) : t("ov.none") }));
  }
  return lines;
}

// the check boxes of the grades a subsidy covers
function gradePicker(path, chosen) {
  const name = `settings.${path}`;
  const base = idOf(name);
  const boxes = SCHOOL_GRADES.map((g) => el("input", { type: "checkbox", id: `${base}-${g}`, name, value: g,
    checked: chosen.includes(g) }));
  const node = el("div", { class: "field", dataset: { field: name } },
    el("fieldset", { class: "grade-group" }, el("legend", {}, t("rounds.s.grades")),
      el("p", { class: "field-error", id: `${base}-error`, hidden: true }),
      el("div", { class: "grade-grid" }, SCHOOL_GRADES.map((g, i) => el("span", { class: "radio" },
        boxes[i], el("label", { for: boxes[i].id }, gradeName(g)))))));
  const value = () => {
    const picked = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    // the order as read when the same grades stay chosen
    if (picked.size === chosen.length && chosen.every((g) => picked.has(g))) return [...chosen];
    return SCHOOL_GRADES.filter((g) => picked.has(g));
  };
  return { node, value };
}

// the school lunch tiers: from / to pupils and the rate of each; add and remove a tier;
// the last tier has no upper limit
function tierEditor(initial) {
  let tiers = initial.map((x) => ({ min: text(x.min_pupils), max: text(x.max_pupils), rate: text(x.rate) }));
  let inputs = [];
  const list = el("div", { class: "tier-list" });
  const read = () => {
    inputs.forEach((row, i) => {
      tiers[i] = { min: row.min.value, max: row.max ? row.max.value : tiers[i].max, rate: row.rate.value };
    });
  };
  const numberInput = (value, id, mode) => el("input", { type: "text", inputmode: mode, autocomplete: "off", id, value });
  const addButton = button(t("rounds.s.tier_add"), () => {
    read();
    const last = tiers[tiers.length - 1];
    tiers.push({ min: "", max: "", rate: last ? last.rate : "" });
    draw();
    const before = inputs[inputs.length - 2];
    (before && before.max ? before.max : inputs[inputs.length - 1].min).focus();
  }, { attrs: { id: "tier-add" } });
  const remove = (i) => {
    read();
    tiers.splice(i, 1);
    if (i === tiers.length && tiers.length) tiers[tiers.length - 1].max = "";
    else if (i === 0 && tiers.length) tiers[0].min = "1";
    else if (tiers.length && /^\d+$/.test(String(tiers[i - 1].max).trim())) tiers[i].min = String(Number(tiers[i - 1].max) + 1);
    draw();
    addButton.focus();
  };
  const draw = () => {
    inputs = [];
    list.replaceChildren(...tiers.map((tier, i) => {
      const last = i === tiers.length - 1;
      const base = `${TIERS}.${i}`;
      const row = {
        min: numberInput(tier.min, idOf(`${base}.min_pupils`), "numeric"),
        max: last ? null : numberInput(tier.max, idOf(`${base}.max_pupils`), "numeric"),
        rate: numberInput(tier.rate, idOf(`${base}.rate`), "decimal"),
      };
      // the next tier starts after this one's highest number
      if (row.max) {
        row.max.addEventListener("change", () => {
          const next = inputs[i + 1];
          const v = row.max.value.trim();
          if (next && /^\d+$/.test(v)) next.min.value = String(Number(v) + 1);
        });
      }
      inputs.push(row);
      return el("fieldset", { class: "grade-group tier", dataset: { tier: String(i + 1) } },
        el("legend", {}, t("rounds.s.tier", { n: i + 1 })),
        el("div", { class: "field-row" },
          field({ label: t("rounds.s.tier_min"), name: `${base}.min_pupils`, input: row.min }),
          row.max ? field({ label: t("rounds.s.tier_max"), name: `${base}.max_pupils`, input: row.max })
            : el("div", { class: "field" }, el("p", { class: "hint" }, t("rounds.s.tier_open"))),
          field({ label: t("rounds.s.rate"), name: `${base}.rate`, input: row.rate })),
        tiers.length > 1 ? el("div", { class: "actions" }, button(t("rounds.s.tier_remove"), () => remove(i),
          { attrs: { "aria-label": t("rounds.s.tier_remove_label", { n: i + 1 }) } })) : null);
    }));
  };
  draw();
  const node = el("div", { class: "field", dataset: { field: TIERS } },
    el("fieldset", { class: "grade-group tiers" }, el("legend", {}, t("rounds.s.tiers")),
      el("p", { class: "hint" }, t("rounds.s.tiers_hint")),
      el("p", { class: "field-error", id: `${idOf(TIERS)}-error`, hidden: true }),
      list, el("div", { class: "actions" }, addButton)));
  // [{min_pupils, max_pupils, rate}] and the errors of what is not a number
  const value = (errors) => {
    read();
    return tiers.map((tier, i) => {
      const last = i === tiers.length - 1;
      const base = `${TIERS}.${i}`;
      const one = (raw, key, spec) => {
        const r = parseValue(raw, spec);
        if (r.error) errors[`${base}.${key}`] = t("rounds.s.err.in_tier", { n: i + 1, message: r.error });
        return r.value;
      };
      return {
        min_pupils: one(tier.min, "min_pupils", { whole: true, min: 1 }),
        max_pupils: last ? null : one(tier.max, "max_pupils", { whole: true, min: 1 }),
        rate: one(tier.rate, "rate", { min: 0 }),
      };
    });
  };
  return { node, value };
}

function settingsEditor(ctx, round) {
  const original = round.settings || {};
  const scalars = [];
  const pickers = [];
  let tierBox = null;
  const groups = GROUPS.map((group) => {
    const fields = group.fields.map((spec) => {
      const name = `settings.${spec.path}`;
      const input = el("input", { type: "text", inputmode: spec.whole ? "numeric" : "decimal", autocomplete: "off",
        id: idOf(name), value: text(getIn(original, spec.path)) });
      scalars.push({ spec, input });
      return field({ label: t(spec.label), name, input });
    });
    let picker = null;
    if (group.grades) {
      picker = gradePicker(group.grades, getIn(original, group.grades) || []);
      pickers.push({ path: group.grades, picker });
    }
    if (group.tiers) tierBox = tierEditor(getIn(original, "lunch.school.tiers") || []);
    return el("fieldset", { class: "grade-group settings-group", id: `settings-${group.key}` },
      el("legend", {}, t(`rounds.s.${group.key}`)),
      group.hint ? el("p", { class: "hint" }, t(group.hint)) : null,
      el("div", { class: "form-grid" }, fields),
      picker ? picker.node : null,
      group.tiers ? tierBox.node : null);
  });
  const form = el("form", { class: "settings-form", "aria-labelledby": "settings-h", novalidate: true }, groups,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("rounds.s.save"))));

  // the whole settings object as read, with the officer's values
  const collect = () => {
    const errors = {};
    const settings = JSON.parse(JSON.stringify(original));
    for (const { spec, input } of scalars) {
      const r = parseValue(input.value, spec);
      if (r.error) errors[`settings.${spec.path}`] = r.error;
      else setIn(settings, spec.path, r.value);
    }
    for (const { path, picker } of pickers) setIn(settings, path, picker.value());
    setIn(settings, "lunch.school.tiers", tierBox.value(errors));
    return { settings, errors };
  };

  onSubmit(form, () => {
    const { settings, errors } = collect();
    return saveSettings(ctx, form, round, {
      errors, settings, lines: changes(original, settings), key: "rounds.s",
      wrapClass: "settings-changes", fieldErrors: (e) => flatten(e.data && e.data.errors, e.fields),
    });
  });
  return form;
}

// a round's settings saved after the list of changes is confirmed: errors beside their
// fields, the page again with the server's settings ("rounds.s.*" or "rounds.r.*" strings)
async function saveSettings(ctx, form, round, { errors, settings, lines, key, wrapClass, fieldErrors }) {
  clearErrors(form);
  if (Object.keys(errors).length) {
    formErrors(form, { fields: errors });
    return;
  }
  if (!lines.length) {
    notice(t(`${key}.unchanged`), "info");
    return;
  }
  const body = el("div", { class: wrapClass },
    el("div", { class: "warning" }, el("p", {}, t(`${key}.confirm_warning`))),
    el("h3", {}, t("rounds.s.confirm_changes")),
    el("ul", {}, lines.map((line) => el("li", {}, line))));
  const ok = await confirmDialog({ title: t(`${key}.confirm_title`, { name: roundName(round) }), body,
    confirmLabel: t(`${key}.save`) });
  if (!ok) return;
  try {
    await api("PATCH", `/rounds/${round.id}`, { settings });
  } catch (e) {
    if (!(e.code === "validation_error" && formErrors(form, { fields: fieldErrors(e) }))) notice(errorText(e), "error");
    return;
  }
  notice(t(`${key}.saved`, { name: roundName(round) }), "ok");
  await ctx.refresh();
}

// the settings as text, for those who do not change them
function settingsView(round) {
  const s = round.settings || {};
  const row = (label, value) => el("div", { class: "summary-row" }, el("dt", {}, label), el("dd", {}, value));
  const days = (path) => t("rounds.s.days_value", { n: num(getIn(s, path)) });
  const rate = (path) => t("rounds.s.rate_value", { amount: baht(getIn(s, path)) });
  const price = (path) => t("rounds.s.price_value", { amount: baht(getIn(s, path)) });
  const packs = (path) => t("rounds.s.packs_value", { n: num(getIn(s, path)) });
  const grades = (path) => shown(getIn(s, path) || []);
  const tiers = (getIn(s, "lunch.school.tiers") || []).map((tier, i) => ({ ...tier, n: i + 1 }));
  const block = (key, ...rows) => [el("h3", {}, t(`rounds.s.${key}`)), el("dl", { class: "summary-list" }, rows)];
  return el("div", { class: "settings-view" },
    block("cdc_age", row(t("rounds.s.cdc_age_hint"), t("rounds.s.age_range",
      { min: num(getIn(s, "cdc_age.min_years")), max: num(getIn(s, "cdc_age.max_years")) }))),
    block("school_lunch", row(t("rounds.s.days"), days("lunch.school.days")),
      row(t("rounds.s.grades"), grades("lunch.school.grades"))),
    dataTable({ caption: t("rounds.s.tiers"), rows: tiers, columns: [
      { key: "n", label: t("rounds.s.col.tier"), render: (r) => t("rounds.s.tier", { n: r.n }) },
      { key: "pupils", label: t("rounds.s.col.pupils"), render: (r) => (r.max_pupils === null || r.max_pupils === undefined
        ? t("rounds.s.tier_from", { min: num(r.min_pupils) })
        : t("rounds.s.tier_range", { min: num(r.min_pupils), max: num(r.max_pupils) })) },
      { key: "rate", label: t("rounds.s.col.rate"), num: true, render: (r) => baht(r.rate) },
    ] }),
    block("cdc_lunch", row(t("rounds.s.days"), days("lunch.cdc.days")), row(t("rounds.s.rate"), rate("lunch.cdc.rate"))),
    block("school_milk", row(t("rounds.s.days"), days("milk.school.days")),
      row(t("rounds.s.price"), price("milk.school.price_per_pack")),
      row(t("rounds.s.packs"), packs("milk.school.packs_per_day")),
      row(t("rounds.s.grades"), grades("milk.school.grades"))),
    block("cdc_milk", row(t("rounds.s.days"), days("milk.cdc.days")),
      row(t("rounds.s.price"), price("milk.cdc.price_per_pack")),
      row(t("rounds.s.packs"), packs("milk.cdc.packs_per_day"))));
}

// the settings of one round (the header's round unless another is chosen here)
async function settingsSection(ctx, rounds, department) {
  if (!rounds.length) return null;
  const known = (id) => id && rounds.some((r) => r.id === id);
  const chosenId = [settingsRoundId, ctx.round && ctx.round.id].find(known) || rounds[0].id;
  settingsRoundId = chosenId;
  const round = await api("GET", `/rounds/${chosenId}`, undefined, { signal: ctx.signal });
  const select = el("select", { id: "settings-round",
    onchange: (e) => { settingsRoundId = Number(e.target.value); ctx.refresh(); } },
  rounds.map((r) => el("option", { value: String(r.id), selected: r.id === chosenId }, roundName(r))));
  const editable = department && round.state !== "finalized";
  return el("section", { class: "panel settings", "aria-labelledby": "settings-h" },
    el("h2", { id: "settings-h" }, t("rounds.s.heading_of", { name: roundName(round) })),
    el("div", { class: "toolbar" }, field({ label: t("rounds.s.round"), name: "settings-round", input: select })),
    el("p", { class: "hint" }, editable ? t("rounds.s.intro") : department ? t("rounds.s.finalized") : t("rounds.s.readonly")),
    editable ? settingsEditor(ctx, round) : settingsView(round));
}

// -- the checks before confirming: a round's rule set, changed by the department ---------------

register({
  th: {
    "rounds.r.heading": "กฎการตรวจสอบข้อมูล",
    "rounds.r.heading_of": "กฎการตรวจสอบข้อมูลของ{name}",
    "rounds.r.intro": "กฎที่ระบบใช้ตรวจข้อมูลของสถานศึกษาและ อปท. ก่อนยืนยัน ข้อผิดพลาดต้องแก้ไขก่อนยืนยัน ข้อสังเกตต้องแก้ไขหรือชี้แจง แก้แล้วกดบันทึก ระบบจะแสดงรายการที่เปลี่ยนให้ตรวจสอบก่อนบันทึก",
    "rounds.r.readonly": "กฎการตรวจสอบข้อมูลแก้ไขได้เฉพาะเจ้าหน้าที่ของกรม",
    "rounds.r.finalized": "รอบนี้สรุปผลแล้ว จึงแก้ไขกฎการตรวจสอบข้อมูลไม่ได้",
    "rounds.r.rule.age_grade_implausible": "อายุห่างจากช่วงอายุของชั้นมากเกินไป",
    "rounds.r.rule.age_grade_outside": "อายุอยู่นอกช่วงอายุของชั้น",
    "rounds.r.rule.no_active_learners": "ไม่มีผู้เรียนในรอบนี้",
    "rounds.r.rule.total_changed": "จำนวนรวมเปลี่ยนจากรอบก่อนมาก",
    "rounds.r.rule.not_found_removals": "จำหน่ายด้วยเหตุ \"ไม่พบตัว\" มาก",
    "rounds.r.rule.likely_duplicate": "อาจเป็นผู้เรียนคนเดียวกันที่บันทึกซ้ำ",
    "rounds.r.rule.headcount_missing": "ยังไม่กรอกจำนวนนักเรียนโรงเรียนสังกัดอื่น",
    "rounds.r.rule.headcount_changed": "จำนวนนักเรียนโรงเรียนสังกัดอื่นเปลี่ยนจากรอบก่อนมาก",
    "rounds.r.applies.institution": "ใช้กับสถานศึกษา (โรงเรียนและศูนย์พัฒนาเด็กเล็ก)",
    "rounds.r.applies.lao": "ใช้กับองค์กรปกครองส่วนท้องถิ่น",
    "rounds.r.applies.both": "ใช้กับสถานศึกษาและองค์กรปกครองส่วนท้องถิ่น",
    "rounds.r.enabled": "ใช้กฎนี้",
    "rounds.r.enabled_yes": "ใช้",
    "rounds.r.enabled_no": "ไม่ใช้",
    "rounds.r.severity": "ระดับ",
    "rounds.r.severity.error": "ข้อผิดพลาด",
    "rounds.r.severity.query": "ข้อสังเกต",
    "rounds.r.severity_hint": "ข้อผิดพลาด: ต้องแก้ไขก่อนยืนยัน · ข้อสังเกต: แก้ไขหรือชี้แจงเป็นลายลักษณ์อักษร",
    "rounds.r.param.share": "สัดส่วนที่เปลี่ยนเกิน (ร้อยละ)",
    "rounds.r.param.years": "ห่างจากช่วงอายุของชั้นเกิน (ปี)",
    "rounds.r.param.min_change": "จำนวนที่เปลี่ยนอย่างน้อย (คน)",
    "rounds.r.param.min_removed": "จำนวนที่จำหน่ายอย่างน้อย (คน)",
    "rounds.r.share_value": "ร้อยละ {n}",
    "rounds.r.bands": "ช่วงอายุของแต่ละชั้น",
    "rounds.r.bands_hint": "อายุเป็นปีเต็ม ณ วันนับข้อมูล ใช้กับกฎเรื่องอายุและชั้นเรียน",
    "rounds.r.band_low": "ต่ำสุด (ปี)",
    "rounds.r.band_high": "สูงสุด (ปี)",
    "rounds.r.band_value": "{low}–{high} ปี",
    "rounds.r.band_label": "ช่วงอายุชั้น {grade}",
    "rounds.r.save": "บันทึกกฎการตรวจสอบ",
    "rounds.r.confirm_title": "ยืนยันการเปลี่ยนกฎการตรวจสอบข้อมูลของ{name}",
    "rounds.r.confirm_warning": "กฎใหม่มีผลกับการตรวจสอบข้อมูลของทุกหน่วยงานในรอบนี้ทันที หน่วยงานที่ยังไม่ยืนยันอาจพบรายการใหม่ที่ต้องแก้ไขหรือชี้แจง",
    "rounds.r.saved": "บันทึกกฎการตรวจสอบข้อมูลของ{name}แล้ว",
    "rounds.r.unchanged": "ยังไม่มีกฎที่เปลี่ยน",
    "rounds.r.err.band_order": "อายุสูงสุดต้องไม่น้อยกว่าอายุต่ำสุด",
    "rounds.r.err.band": "กรอกอายุเป็นปีเต็ม 0–30 ปี และอายุต่ำสุดไม่เกินอายุสูงสุด",
    "rounds.r.err.severity": "เลือกข้อผิดพลาดหรือข้อสังเกต",
    "rounds.r.err.enabled": "เลือกว่าจะใช้กฎนี้หรือไม่",
    "rounds.r.err.message": "ข้อความของกฎต้องมีทั้งภาษาไทยและภาษาอังกฤษ ไม่เกิน 500 ตัวอักษร",
    "rounds.r.err.rule": "กฎนี้ไม่ถูกต้อง: {message}",
  },
  en: {
    "rounds.r.heading": "Checks before confirming",
    "rounds.r.heading_of": "Checks of {name}",
    "rounds.r.intro": "The rules the data of institutions and LAOs are checked against before they confirm. Errors must be corrected before confirming; queries corrected or explained. Change them and save: the changes are listed for you to check before they are saved.",
    "rounds.r.readonly": "Only department officers change the checks",
    "rounds.r.finalized": "This round is finalized, so its checks can no longer change",
    "rounds.r.rule.age_grade_implausible": "Age far outside the grade's band",
    "rounds.r.rule.age_grade_outside": "Age outside the grade's band",
    "rounds.r.rule.no_active_learners": "No learners in the round",
    "rounds.r.rule.total_changed": "Total moved much since the previous round",
    "rounds.r.rule.not_found_removals": "Many removed as not found",
    "rounds.r.rule.likely_duplicate": "Likely the same learner recorded twice",
    "rounds.r.rule.headcount_missing": "Other-affiliation headcount missing",
    "rounds.r.rule.headcount_changed": "Other-affiliation headcount moved much since the previous round",
    "rounds.r.applies.institution": "Applies to institutions (schools and CDCs)",
    "rounds.r.applies.lao": "Applies to local administrative organizations",
    "rounds.r.applies.both": "Applies to institutions and local administrative organizations",
    "rounds.r.enabled": "Use this rule",
    "rounds.r.enabled_yes": "In use",
    "rounds.r.enabled_no": "Not used",
    "rounds.r.severity": "Severity",
    "rounds.r.severity.error": "Error",
    "rounds.r.severity.query": "Query",
    "rounds.r.severity_hint": "Error: must be corrected before confirming · Query: corrected or explained in writing",
    "rounds.r.param.share": "Change above (per cent)",
    "rounds.r.param.years": "Outside the grade's band by more than (years)",
    "rounds.r.param.min_change": "Change of at least (people)",
    "rounds.r.param.min_removed": "Removed at least (people)",
    "rounds.r.share_value": "{n}%",
    "rounds.r.bands": "Age band of each grade",
    "rounds.r.bands_hint": "Completed years at the census date; used by the age rules",
    "rounds.r.band_low": "Youngest (years)",
    "rounds.r.band_high": "Oldest (years)",
    "rounds.r.band_value": "{low}–{high} years",
    "rounds.r.band_label": "Age band of {grade}",
    "rounds.r.save": "Save the checks",
    "rounds.r.confirm_title": "Change the checks of {name}",
    "rounds.r.confirm_warning": "The new rules apply at once to the checks of every unit in this round; units not yet confirmed may find new items to correct or explain",
    "rounds.r.saved": "The checks of {name} were saved",
    "rounds.r.unchanged": "No rule has been changed yet",
    "rounds.r.err.band_order": "The oldest age must not be below the youngest",
    "rounds.r.err.band": "Enter whole years from 0 to 30, the youngest not above the oldest",
    "rounds.r.err.severity": "Choose error or query",
    "rounds.r.err.enabled": "Choose whether the rule is used",
    "rounds.r.err.message": "The rule's text needs Thai and English, each at most 500 characters",
    "rounds.r.err.rule": "This rule is not valid: {message}",
  },
});

const RULE_ORDER = ["age_grade_implausible", "age_grade_outside", "no_active_learners", "total_changed",
  "not_found_removals", "likely_duplicate", "headcount_missing", "headcount_changed"];
const RULE_APPLIES = { total_changed: "both", headcount_missing: "lao", headcount_changed: "lao" };
// each parameter's input: a share is typed as a percentage; limits as the server's
const RULE_PARAMS = {
  share: { percent: true, min: 0, max: 1000 },
  years: { whole: true, min: 0, max: 20 },
  min_change: { whole: true, min: 0, max: 100000 },
  min_removed: { whole: true, min: 0, max: 100000 },
};
const percent = (share) => String(Math.round(Number(share) * 100 * 1000) / 1000);
const ruleId = (code, part) => `r-${code}-${part}`.replace(/_/g, "-");

function ruleParamText(name, value) {
  return RULE_PARAMS[name] && RULE_PARAMS[name].percent ? t("rounds.r.share_value", { n: num(Number(percent(value))) }) : num(value);
}

// the rules as text, for those who do not change them
function rulesView(checks) {
  const rules = checks.rules || {};
  const row = (label, value) => el("div", { class: "summary-row" }, el("dt", {}, label), el("dd", {}, value));
  return el("div", { class: "rules-view" },
    el("dl", { class: "summary-list" }, RULE_ORDER.filter((c) => rules[c]).map((code) => {
      const rule = rules[code];
      const parts = [t(rule.enabled ? "rounds.r.enabled_yes" : "rounds.r.enabled_no"), t(`rounds.r.severity.${rule.severity}`),
        ...Object.entries(rule.params || {}).map(([name, v]) => `${t(`rounds.r.param.${name}`)} ${ruleParamText(name, v)}`)];
      return row(t(`rounds.r.rule.${code}`), parts.join(" · "));
    })),
    el("h3", {}, t("rounds.r.bands")),
    el("p", { class: "hint" }, t("rounds.r.bands_hint")),
    el("ul", { class: "band-list" }, SCHOOL_GRADES.filter((g) => (checks.grade_ages || {})[g]).map((g) => el("li", {},
      el("strong", {}, gradeName(g)), " ", t("rounds.r.band_value", { low: num(checks.grade_ages[g][0]), high: num(checks.grade_ages[g][1]) })))));
}

// "rule · what: before → after" for each value the officer changed
function ruleChanges(before, after) {
  const lines = [];
  const push = (label, a, b) => { if (a !== b) lines.push(t("rounds.s.change", { label, before: a, after: b })); };
  for (const code of RULE_ORDER) {
    const a = (before.rules || {})[code];
    const b = (after.rules || {})[code];
    if (!a || !b) continue;
    const name = t(`rounds.r.rule.${code}`);
    push(`${name} · ${t("rounds.r.enabled")}`, t(a.enabled ? "rounds.r.enabled_yes" : "rounds.r.enabled_no"),
      t(b.enabled ? "rounds.r.enabled_yes" : "rounds.r.enabled_no"));
    push(`${name} · ${t("rounds.r.severity")}`, t(`rounds.r.severity.${a.severity}`), t(`rounds.r.severity.${b.severity}`));
    for (const param of Object.keys(b.params || {})) {
      push(`${name} · ${t(`rounds.r.param.${param}`)}`, ruleParamText(param, (a.params || {})[param]), ruleParamText(param, b.params[param]));
    }
  }
  for (const g of SCHOOL_GRADES) {
    const a = (before.grade_ages || {})[g];
    const b = (after.grade_ages || {})[g];
    if (!a || !b) continue;
    const text = (band) => t("rounds.r.band_value", { low: num(band[0]), high: num(band[1]) });
    push(t("rounds.r.band_label", { grade: gradeName(g) }), text(a), text(b));
  }
  return lines;
}

// the server's errors of settings.checks as {field name: sentence}
function rulesErrors(raw) {
  const out = {};
  const add = (name, sentence) => { out[name] = out[name] ? `${out[name]} ${sentence}` : sentence; };
  const checks = raw && raw.checks;
  if (!checks || typeof checks !== "object") return out;
  for (const m of [].concat(checks._schema || [])) add("_schema", fieldText(m));
  for (const [code, messages] of Object.entries(checks.rules && typeof checks.rules === "object" ? checks.rules : {})) {
    for (const m of [].concat(messages).map(String)) {
      let x = /^params\.(\w+): a number from ([\d.]+) to ([\d.]+)$/.exec(m);
      if (x && RULE_PARAMS[x[1]]) {
        const spec = RULE_PARAMS[x[1]];
        const scale = spec.percent ? 100 : 1;
        add(`rules.${code}.${x[1]}`, t("rounds.s.err.between", { min: num(Number(x[2]) * scale), max: num(Number(x[3]) * scale) }));
        continue;
      }
      if (/^severity:/.test(m)) { add(`rules.${code}.severity`, t("rounds.r.err.severity")); continue; }
      if (/^enabled:/.test(m)) { add(`rules.${code}.severity`, t("rounds.r.err.enabled")); continue; }
      if (/^message:/.test(m)) { add(`rules.${code}.severity`, t("rounds.r.err.message")); continue; }
      add(`rules.${code}.severity`, t("rounds.r.err.rule", { message: fieldText(m) }));
    }
  }
  const ages = checks.grade_ages;
  if (ages && typeof ages === "object" && !Array.isArray(ages)) {
    for (const g of Object.keys(ages)) add(`bands.${g}.low`, `${gradeName(g)}: ${t("rounds.r.err.band")}`);
  } else if (ages) add("_schema", t("rounds.r.err.band"));
  return out;
}

function rulesEditor(ctx, round, checks) {
  const original = JSON.parse(JSON.stringify(checks));
  const inputs = {}; // code -> {enabled, severity, params: {name: input}}
  const ruleGroups = RULE_ORDER.filter((code) => original.rules && original.rules[code]).map((code) => {
    const rule = original.rules[code];
    const enabled = el("input", { type: "checkbox", id: ruleId(code, "enabled"), name: `rules.${code}.enabled`, checked: !!rule.enabled });
    const severity = el("select", { id: ruleId(code, "severity") },
      ["error", "query"].map((s) => el("option", { value: s, selected: rule.severity === s }, t(`rounds.r.severity.${s}`))));
    const params = {};
    const paramFields = Object.entries(rule.params || {}).map(([name, value]) => {
      const spec = RULE_PARAMS[name] || { min: 0 };
      const input = el("input", { type: "text", inputmode: spec.whole ? "numeric" : "decimal", autocomplete: "off",
        id: ruleId(code, name), value: spec.percent ? percent(value) : String(value) });
      params[name] = input;
      return field({ label: t(`rounds.r.param.${name}`), name: `rules.${code}.${name}`, input });
    });
    inputs[code] = { enabled, severity, params };
    return el("fieldset", { class: "grade-group rule-group", id: `rule-${code.replace(/_/g, "-")}`, dataset: { rule: code } },
      el("legend", {}, t(`rounds.r.rule.${code}`)),
      el("p", { class: "hint" }, t(`rounds.r.applies.${RULE_APPLIES[code] || "institution"}`)),
      el("div", { class: "rule-enabled" }, enabled, el("label", { for: enabled.id }, t("rounds.r.enabled"))),
      el("div", { class: "form-grid" },
        field({ label: t("rounds.r.severity"), name: `rules.${code}.severity`, input: severity }),
        paramFields));
  });
  const bandInputs = {};
  const bands = el("fieldset", { class: "grade-group band-group", id: "rule-bands" },
    el("legend", {}, t("rounds.r.bands")),
    el("p", { class: "hint" }, t("rounds.r.bands_hint")),
    el("div", { class: "band-grid" }, SCHOOL_GRADES.filter((g) => (original.grade_ages || {})[g]).map((g) => {
      const [low, high] = original.grade_ages[g];
      const make = (part, value) => el("input", { type: "text", inputmode: "numeric", autocomplete: "off",
        id: `band-${g}-${part}`, value: String(value) });
      bandInputs[g] = { low: make("low", low), high: make("high", high) };
      return el("fieldset", { class: "band", dataset: { grade: g } },
        el("legend", {}, gradeName(g)),
        field({ label: t("rounds.r.band_low"), name: `bands.${g}.low`, input: bandInputs[g].low }),
        field({ label: t("rounds.r.band_high"), name: `bands.${g}.high`, input: bandInputs[g].high }));
    })));
  const form = el("form", { class: "rules-form", "aria-labelledby": "rules-h", novalidate: true }, ruleGroups, bands,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("rounds.r.save"))));

  const collect = () => {
    const errors = {};
    const next = JSON.parse(JSON.stringify(original));
    for (const [code, one] of Object.entries(inputs)) {
      const rule = next.rules[code];
      rule.enabled = one.enabled.checked;
      rule.severity = one.severity.value;
      for (const [name, input] of Object.entries(one.params)) {
        const spec = RULE_PARAMS[name] || { min: 0 };
        const r = parseValue(input.value, spec);
        if (r.error) errors[`rules.${code}.${name}`] = r.error;
        else rule.params[name] = spec.percent ? Number((r.value / 100).toFixed(6)) : r.value;
      }
    }
    for (const [g, pair] of Object.entries(bandInputs)) {
      const low = parseValue(pair.low.value, { whole: true, min: 0, max: 30 });
      const high = parseValue(pair.high.value, { whole: true, min: 0, max: 30 });
      const where = (message) => `${gradeName(g)}: ${message}`;
      if (low.error) errors[`bands.${g}.low`] = where(low.error);
      if (high.error) errors[`bands.${g}.high`] = where(high.error);
      if (!low.error && !high.error) {
        if (low.value > high.value) errors[`bands.${g}.high`] = where(t("rounds.r.err.band_order"));
        else next.grade_ages[g] = [low.value, high.value];
      }
    }
    return { next, errors };
  };

  onSubmit(form, () => {
    const { next, errors } = collect();
    // the whole settings object as read, with the rules changed
    const settings = JSON.parse(JSON.stringify(round.settings || {}));
    settings.checks = next;
    return saveSettings(ctx, form, round, {
      errors, settings, lines: ruleChanges(original, next), key: "rounds.r",
      wrapClass: "rules-changes", fieldErrors: (e) => rulesErrors(e.data && e.data.errors && e.data.errors.settings),
    });
  });
  return form;
}

// the rules of the round whose settings the page shows
async function rulesSection(ctx, rounds, department) {
  if (!rounds.length || !settingsRoundId) return null;
  const round = await api("GET", `/rounds/${settingsRoundId}`, undefined, { signal: ctx.signal });
  const checks = round.settings && round.settings.checks;
  if (!checks || !checks.rules) return null;
  const editable = department && round.state !== "finalized";
  return el("section", { class: "panel rules-section", "aria-labelledby": "rules-h" },
    el("h2", { id: "rules-h" }, t("rounds.r.heading_of", { name: roundName(round) })),
    el("p", { class: "hint" }, editable ? t("rounds.r.intro") : department ? t("rounds.r.finalized") : t("rounds.r.readonly")),
    el("p", { class: "hint" }, t("rounds.r.severity_hint")),
    editable ? rulesEditor(ctx, round, checks) : rulesView(checks));
}

export default {
  id: "rounds",
  title: "rounds.title",
  levels: ["institution", "lao", "province", "department"],
  order: 60,
  async render(ctx) {
    const root = el("div", { class: "page page-rounds" });
    const list = await api("GET", "/rounds?limit=100", undefined, { signal: ctx.signal });
    const rounds = list.items || [];
    const department = ctx.user.role === "department";
    const columns = [
      { key: "round", label: t("rounds.col.round"), render: (r) => roundName(r) },
      { key: "state", label: t("rounds.col.state"), render: (r) => badge(r.state) },
      { key: "census", label: t("rounds.col.census"), render: (r) => formatDate(r.census_date) },
      { key: "opens", label: t("rounds.col.opens"), render: (r) => formatDate(r.opens_at) },
      { key: "deadline", label: t("rounds.col.deadline"), render: (r) => levelDeadlines(r) },
      { key: "settings", label: t("rounds.col.settings"), render: (r) => settingsText(r.settings) },
    ];
    if (department) {
      columns.push({ key: "actions", label: t("rounds.col.actions"), render: (r) => r.state === "finalized" ? ""
        : button(t("rounds.change_deadline"), () => changeDeadline(ctx, r),
          { attrs: { "aria-label": t("rounds.change_deadline_of", { name: roundName(r) }) } }) });
    }
    root.append(el("section", { class: "panel", "aria-labelledby": "rounds-h" },
      el("h2", { id: "rounds-h" }, t("rounds.list")),
      dataTable({ columns, rows: rounds, empty: t("rounds.empty") })));
    const settings = await settingsSection(ctx, rounds, department);
    if (settings) root.append(settings);
    const rules = await rulesSection(ctx, rounds, department);
    if (rules) root.append(rules);
    if (department) root.append(createForm(ctx, rounds));
    return root;
  },
};
