// Census rounds: every officer sees them with their state and deadline; the
// department creates a round (Buddhist-era dates, the default rates) and moves a deadline.
import { api, errorText } from "../core/api.js";
import { countdown, dateInput, deadlineText, formatDate, today } from "../core/dates.js";
import { baht, num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit } from "../core/ui.js";
import { roundName } from "./oversight.js";

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
    "rounds.census_default": "วันนับข้อมูลตามปกติ: รอบที่ 1 วันที่ 10 มิถุนายน รอบที่ 2 วันที่ 10 พฤศจิกายน (เติมให้แล้ว แก้ได้)",
    "rounds.new_deadline": "วันสุดท้ายของการส่งข้อมูล (พ.ศ.)",
    "rounds.deadline_hint": "รับข้อมูลถึงเวลา 24.00 น. ของวันที่กรอก เช่น 30/06/2569",
    "rounds.deadline_changed": "เปลี่ยนกำหนดส่งของ{name} เป็น{deadline} แล้ว",
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
    "rounds.census_default": "The usual census days: round 1 on 10 June, round 2 on 10 November (filled in; you may change it)",
    "rounds.new_deadline": "Last day to submit (Buddhist era)",
    "rounds.deadline_hint": "Data is accepted until 24:00 of that day, e.g. 30/06/2569",
    "rounds.deadline_changed": "The deadline of {name} is now {deadline}",
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

async function changeDeadline(ctx, round) {
  const input = dateInput({ name: "closes_on", id: `deadline-${round.id}` });
  const prev = new Date(new Date(round.closes_at).getTime() - 1000).toISOString();
  input.isoValue = prev;
  const body = el("div", {}, field({ label: t("rounds.new_deadline"), name: "closes_on", input, hint: t("rounds.deadline_hint") }));
  const ok = await confirmDialog({ title: t("rounds.change_deadline_of", { name: roundName(round) }), body,
    confirmLabel: t("rounds.change_deadline") });
  if (!ok) return;
  const iso = input.isoValue;
  if (!iso) {
    notice(t("rounds.bad_date"), "error");
    return;
  }
  try {
    const saved = await api("PATCH", `/rounds/${round.id}`, { closes_at: iso });
    notice(t("rounds.deadline_changed", { name: roundName(round), deadline: deadlineText(saved.closes_at) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
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

// nested settings errors ({settings: {cdc_age: {max_years: [...]}}}) as dotted field names
function flatten(raw, translated) {
  const out = { ...(translated || {}) };
  const walk = (prefix, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(`${prefix}.${k}`, x);
    } else {
      out[prefix] = [].concat(v).join(" ");
    }
  };
  if (raw && raw.settings && typeof raw.settings === "object") {
    delete out.settings;
    walk("settings", raw.settings);
  }
  return out;
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
      { key: "deadline", label: t("rounds.col.deadline"), render: (r) => el("span", {}, deadlineText(r.closes_at),
        r.state === "open" ? el("span", { class: "countdown" }, ` · ${countdown(r.closes_at)}`) : null) },
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
    if (department) root.append(createForm(ctx, rounds));
    return root;
  },
};
