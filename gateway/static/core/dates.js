// Buddhist-era dates, shown and typed; deadlines in Asia/Bangkok wall time.
import { lang, num, t } from "./i18n.js";

const MONTHS = {
  th: ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."],
  en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
};
const BE_OFFSET = 543;
const TZ = "Asia/Bangkok";
const partsFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  second: "2-digit", hourCycle: "h23",
});

// {year, month (1-12), day, hour, minute, second} of an instant in Bangkok
export function bangkokParts(instant) {
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) return null;
  const out = {};
  for (const p of partsFormat.formatToParts(date)) if (p.type !== "literal") out[p.type] = Number(p.value);
  return out;
}

function dayText(year, month, day) {
  const l = lang();
  return l === "th" ? `${day} ${MONTHS.th[month - 1]} ${year + BE_OFFSET}` : `${day} ${MONTHS.en[month - 1]} ${year}`;
}

const pad = (n) => String(n).padStart(2, "0");

function isoDateParts(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || "").trim());
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
}

// "10 พ.ย. 2566" / "10 Nov 2023" from "2023-11-10" (a date) or an instant (its Bangkok day)
export function formatDate(value) {
  if (!value) return "–";
  const p = isoDateParts(value) || bangkokParts(value);
  if (!p) return String(value);
  return dayText(p.year, p.month, p.day);
}

// "10 พ.ย. 2566 เวลา 14.30 น." / "10 Nov 2023, 14:30" (Bangkok time)
export function formatDateTime(value) {
  if (!value) return "–";
  const p = bangkokParts(value);
  if (!p) return String(value);
  return lang() === "th"
    ? `${dayText(p.year, p.month, p.day)} เวลา ${pad(p.hour)}.${pad(p.minute)} น.`
    : `${dayText(p.year, p.month, p.day)}, ${pad(p.hour)}:${pad(p.minute)}`;
}

// the deadline's day and time: an instant at Bangkok midnight is "24.00 of the day before"
export function deadlineParts(closesAt) {
  const p = bangkokParts(closesAt);
  if (!p) return null;
  if (p.hour === 0 && p.minute === 0 && p.second === 0) {
    const before = bangkokParts(new Date(new Date(closesAt).getTime() - 1000));
    return { year: before.year, month: before.month, day: before.day, hour: 24, minute: 0 };
  }
  return { ...p };
}

// "ภายในวันที่ 10 พ.ย. 2566 (เวลา 24.00 น.)" / "by 10 Nov 2023 (24:00)"
export function deadlineText(closesAt) {
  const p = deadlineParts(closesAt);
  if (!p) return "–";
  const day = dayText(p.year, p.month, p.day);
  return lang() === "th"
    ? t("dates.deadline", { day, time: `${pad(p.hour)}.${pad(p.minute)}` })
    : t("dates.deadline", { day, time: `${pad(p.hour)}:${pad(p.minute)}` });
}

// "เหลือ 3 วัน 4 ชั่วโมง" / "3 days 4 hours left"; t("dates.closed") once passed
export function countdown(closesAt, now = Date.now()) {
  const left = new Date(closesAt).getTime() - now;
  if (!Number.isFinite(left)) return "";
  if (left <= 0) return t("dates.passed");
  const minutes = Math.floor(left / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 30) return t("dates.left_days_only", { days: num(days) });
  if (days > 0) return t("dates.left_days", { days, hours });
  if (hours > 0) return t("dates.left_hours", { hours, minutes: mins });
  return t("dates.left_minutes", { minutes: Math.max(mins, 1) });
}

function valid(year, month, day) {
  if (year < 1800 || year > 2300 || month < 1 || month > 12 || day < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

// ISO "yyyy-mm-dd" from "dd/mm/yyyy" (BE years over 2400, else CE; "-" or "." also separate)
// or from "yyyy-mm-dd"; null when it is no date
export function parseDate(text) {
  const s = String(text || "").trim();
  let year, month, day;
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  if (m) { day = Number(m[1]); month = Number(m[2]); year = Number(m[3]); }
  else {
    m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
    if (!m) return null;
    year = Number(m[1]); month = Number(m[2]); day = Number(m[3]);
  }
  if (year > 2400) year -= BE_OFFSET;
  if (!valid(year, month, day)) return null;
  return `${year}-${pad(month)}-${pad(day)}`;
}

// "10/11/2566" from "2023-11-10" (or an instant's Bangkok day)
export function inputDate(value) {
  if (!value) return "";
  const p = isoDateParts(value) || bangkokParts(value);
  return p ? `${pad(p.day)}/${pad(p.month)}/${p.year + BE_OFFSET}` : "";
}

// the instant of a Bangkok wall-clock time: bangkokInstant("2023-11-10", "24:00")
export function bangkokInstant(isoDate, time = "00:00") {
  const [h, m] = time.split(":").map(Number);
  const base = new Date(`${isoDate}T00:00:00+07:00`).getTime();
  return new Date(base + (h * 60 + m) * 60000).toISOString();
}

// today's date in Bangkok, ISO
export function today() {
  const p = bangkokParts(new Date());
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

// a text input for a BE date: placeholder วว/ดด/ปปปป (พ.ศ.); .isoValue gives ISO (or null)
export function dateInput({ name, value, id, required } = {}) {
  const input = document.createElement("input");
  input.type = "text";
  input.name = name || "date";
  input.id = id || `f-${input.name}`;
  input.inputMode = "numeric";
  input.autocomplete = "off";
  input.placeholder = t("dates.placeholder");
  input.className = "date-input";
  if (required) input.required = true;
  input.value = inputDate(value);
  input.dataset.date = "be";
  Object.defineProperty(input, "isoValue", {
    get() { return parseDate(input.value); },
    set(v) { input.value = inputDate(v); },
  });
  input.addEventListener("blur", () => {
    const iso = parseDate(input.value);
    if (iso) input.value = inputDate(iso);
  });
  return input;
}
