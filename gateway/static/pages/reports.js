// Reports of the viewed unit: summary, progress, budget, comparison with the round
// before, and the province report forms; each as CSV, Excel and a printable page.
import { api, download, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { baht, num, register, t } from "../core/i18n.js";
import { badge, button, dataTable, el, emptyState, notice } from "../core/ui.js";
import { GRADE_ORDER, OVERSIGHT, data, roundName, tx } from "./oversight.js";
import { checkTally, hasChecks } from "./checktally.js";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const KINDS = ["summary", "progress", "budget", "comparison", "forms"];

register({
  th: {
    "reports.title": "รายงาน",
    "reports.choose": "เลือกรายงาน",
    "reports.kind.summary": "สรุปจำนวนผู้เรียน",
    "reports.kind.progress": "ความก้าวหน้าการยืนยัน",
    "reports.kind.budget": "งบประมาณอาหารกลางวันและนม",
    "reports.kind.comparison": "เปรียบเทียบกับรอบก่อน",
    "reports.kind.forms": "แบบรายงานของจังหวัด",
    "reports.heading": "{report}: {name}",
    "reports.of_round": "{round}",
    "reports.downloads": "ดาวน์โหลดรายงานนี้",
    "reports.csv": "CSV",
    "reports.xlsx": "Excel (XLSX)",
    "reports.print": "ฉบับพิมพ์",
    "reports.download_label": "ดาวน์โหลด{report}เป็น {format}",
    "reports.downloaded": "ดาวน์โหลด {file} แล้ว",
    "reports.learners_total": "ผู้เรียนทั้งหมด",
    "reports.grade": "ชั้น",
    "reports.count": "จำนวน (คน)",
    "reports.male": "ชาย",
    "reports.female": "หญิง",
    "reports.national_id": "มีเลขประจำตัวประชาชน",
    "reports.g_code": "ใช้รหัส G",
    "reports.cdc_age": "เด็กเล็กอายุ {age} ปี",
    "reports.other_schools": "โรงเรียนสังกัดอื่น {schools} แห่ง บันทึกแล้ว {recorded} แห่ง นักเรียนรวม {total} คน",
    "reports.confirmation": "ยืนยันแล้ว {confirmed} จาก {total} หน่วยงานในสังกัด",
    "reports.by_type": "{type}: ยืนยันแล้ว {confirmed} จาก {total}",
    "reports.col.unit": "หน่วยงาน",
    "reports.col.state": "สถานะ",
    "reports.col.confirmed": "ยืนยันเมื่อ / โดย",
    "reports.col.live": "จำนวนปัจจุบัน",
    "reports.col.sealed": "จำนวนที่ยืนยัน",
    "reports.col.lunch": "อาหารกลางวัน",
    "reports.col.milk": "นม",
    "reports.col.total": "รวม",
    "reports.col.units": "สถานศึกษาที่ยืนยัน",
    "reports.col.current": "รอบนี้",
    "reports.col.against": "รอบก่อน",
    "reports.col.change": "เปลี่ยนแปลง",
    "reports.budget_total": "งบประมาณรวมจากยอดที่ยืนยันแล้ว: {total} (อาหารกลางวัน {lunch}, นม {milk})",
    "reports.budget_basis": "คำนวณจากจำนวนที่ยืนยันแล้วเท่านั้น หน่วยงานที่ยังไม่ยืนยัน {n} แห่งยังไม่นับรวม",
    "reports.compare_with": "เทียบ{current} กับ{against}: รอบนี้ {now} คน รอบก่อน {before} คน (เปลี่ยนแปลง {change})",
    "reports.no_compare": "ยังไม่มีรอบก่อนให้เปรียบเทียบ",
    "reports.by": "โดย {name}",
    "reports.forms_intro": "แบบรายงานตามหนังสือกรมส่งเสริมการปกครองท้องถิ่น เลือกแบบที่ต้องการเพื่อดาวน์โหลด",
    "reports.form": "แบบที่ {n}: {title}",
  },
  en: {
    "reports.title": "Reports",
    "reports.choose": "Choose a report",
    "reports.kind.summary": "Learner summary",
    "reports.kind.progress": "Confirmation progress",
    "reports.kind.budget": "Lunch and milk budget",
    "reports.kind.comparison": "Comparison with the previous round",
    "reports.kind.forms": "Province report forms",
    "reports.heading": "{report}: {name}",
    "reports.of_round": "{round}",
    "reports.downloads": "Download this report",
    "reports.csv": "CSV",
    "reports.xlsx": "Excel (XLSX)",
    "reports.print": "Printable page",
    "reports.download_label": "Download the {report} as {format}",
    "reports.downloaded": "{file} was downloaded",
    "reports.learners_total": "Learners in total",
    "reports.grade": "Grade",
    "reports.count": "Learners",
    "reports.male": "Male",
    "reports.female": "Female",
    "reports.national_id": "With a national ID",
    "reports.g_code": "With a G-Code",
    "reports.cdc_age": "CDC children aged {age}",
    "reports.other_schools": "{schools} other-affiliation schools, {recorded} recorded, {total} pupils",
    "reports.confirmation": "{confirmed} of {total} units below confirmed",
    "reports.by_type": "{type}: {confirmed} of {total} confirmed",
    "reports.col.unit": "Unit",
    "reports.col.state": "State",
    "reports.col.confirmed": "Confirmed at / by",
    "reports.col.live": "Current count",
    "reports.col.sealed": "Confirmed count",
    "reports.col.lunch": "Lunch",
    "reports.col.milk": "Milk",
    "reports.col.total": "Total",
    "reports.col.units": "Institutions confirmed",
    "reports.col.current": "This round",
    "reports.col.against": "Previous round",
    "reports.col.change": "Change",
    "reports.budget_total": "Budget from confirmed counts: {total} (lunch {lunch}, milk {milk})",
    "reports.budget_basis": "From confirmed counts only: {n} units that have not confirmed are not counted yet",
    "reports.compare_with": "{current} against {against}: {now} now, {before} before (change {change})",
    "reports.no_compare": "There is no earlier round to compare with yet",
    "reports.by": "by {name}",
    "reports.forms_intro": "The report forms of the department's letter. Choose one to download.",
    "reports.form": "Form {n}: {title}",
  },
});

const view = new Map();

function signed(n) {
  return `${n > 0 ? "+" : ""}${num(n)}`;
}

function downloads(ctx, path, name) {
  const base = `${ctx.unit.code || ctx.unit.id}-${ctx.round.academic_year}-${ctx.round.number}-${name}`;
  const sep = path.includes("?") ? "&" : "?";
  const one = (label, accept, ext) => button(label, async () => {
    try {
      await download(`${path}${sep}format=${ext === "html" ? "html" : ext}`, `${base}.${ext}`, accept, { signal: ctx.signal });
      notice(t("reports.downloaded", { file: `${base}.${ext}` }), "ok");
    } catch (e) {
      if (e && e.name !== "AbortError") notice(errorText(e), "error");
    }
  }, { attrs: { "aria-label": t("reports.download_label", { report: t(`reports.kind.${name.split("-")[0]}`), format: label }) } });
  return el("div", { class: "downloads" }, el("span", { class: "downloads-label" }, t("reports.downloads")),
    one(t("reports.csv"), "text/csv", "csv"), one(t("reports.xlsx"), XLSX, "xlsx"), one(t("reports.print"), "text/html", "html"));
}

function summaryView(rep) {
  const l = rep.learners || {};
  const grades = GRADE_ORDER.filter((g) => l.by_grade && l.by_grade[g] !== undefined)
    .map((g) => ({ grade: t(`grade.${g}`), count: l.by_grade[g],
      male: (l.by_grade_sex && l.by_grade_sex[g] && l.by_grade_sex[g].M) || 0,
      female: (l.by_grade_sex && l.by_grade_sex[g] && l.by_grade_sex[g].F) || 0 }));
  const out = el("div", {},
    el("p", { class: "big-number" }, t("reports.learners_total"), ": ", el("strong", {}, num(l.total))),
    el("ul", { class: "facts" },
      el("li", {}, `${t("reports.male")} ${num(l.by_sex && l.by_sex.M)} · ${t("reports.female")} ${num(l.by_sex && l.by_sex.F)}`),
      el("li", {}, `${t("reports.national_id")} ${num(l.by_id_kind && l.by_id_kind.national_id)} · ${t("reports.g_code")} ${num(l.by_id_kind && l.by_id_kind.g_code)}`)),
    dataTable({ columns: [
      { key: "grade", label: t("reports.grade") },
      { key: "male", label: t("reports.male"), num: true },
      { key: "female", label: t("reports.female"), num: true },
      { key: "count", label: t("reports.count"), num: true },
    ], rows: grades, empty: t("common.empty"), caption: t("reports.kind.summary") }));
  const cdc = rep.cdc || {};
  const ages = Object.entries(cdc.by_age || {});
  if (ages.length) out.append(el("ul", { class: "facts" }, ages.map(([age, n]) => el("li", {}, `${t("reports.cdc_age", { age })}: ${num(n)}`))));
  const o = rep.other_schools || {};
  if (o.schools) out.append(el("p", {}, t("reports.other_schools", { schools: num(o.schools), recorded: num(o.recorded), total: num(o.total) })));
  const c = rep.confirmation || {};
  if (c.children) {
    out.append(el("p", {}, t("reports.confirmation", { confirmed: num(c.children.confirmed), total: num(c.children.total) })),
      el("ul", { class: "facts" }, Object.entries(c.by_type || {}).map(([type, tally]) =>
        el("li", {}, t("reports.by_type", { type: t(`type.${type}`), confirmed: num(tally.confirmed), total: num(tally.total) })))));
  }
  return out;
}

function progressView(rep) {
  const columns = [
    { key: "unit", label: t("reports.col.unit"), render: (r) => data(r.unit.name) },
    { key: "state", label: t("reports.col.state"), render: (r) => r.state ? badge(r.state === "confirmed" ? "confirmed" : "unconfirmed") : "" },
    { key: "confirmed_at", label: t("reports.col.confirmed"), render: (r) => r.confirmed_at
      ? el("span", {}, formatDateTime(r.confirmed_at), r.confirmed_by_username ? el("br") : null,
        r.confirmed_by_username ? tx("reports.by", { name: data(r.confirmed_by_username) }) : null) : "" },
    { key: "live", label: t("reports.col.live"), num: true, render: (r) => num(r.counts && r.counts.total) },
    { key: "sealed", label: t("reports.col.sealed"), num: true, render: (r) => r.confirmed_counts ? num(r.confirmed_counts.total) : "" },
  ];
  if (hasChecks(rep.items)) {
    columns.push({ key: "checks", label: t("checktally.column"), num: true,
      render: (r) => checkTally(r.unit.id, r.unit.name, r.checks, r.unit.type) });
  }
  return dataTable({ caption: t("reports.kind.progress"), empty: t("common.empty"), rows: rep.items || [], columns });
}

function budgetView(rep) {
  const all = (rep.totals && rep.totals.all) || {};
  const out = el("div", {},
    el("p", { class: "big-number" }, t("reports.budget_total", { total: baht(all.total), lunch: baht(all.lunch), milk: baht(all.milk) })),
    el("p", { class: "hint" }, t("reports.budget_basis", { n: num(rep.unconfirmed ? rep.unconfirmed.total : 0) })));
  const rows = rep.rows && rep.rows.length ? rep.rows : (rep.lines || []);
  out.append(dataTable({ caption: t("reports.kind.budget"), empty: t("common.empty"), rows, columns: [
    { key: "unit", label: t("reports.col.unit"), render: (r) => data(r.unit.name) },
    { key: "lunch", label: t("reports.col.lunch"), num: true, render: (r) => baht(r.lunch) },
    { key: "milk", label: t("reports.col.milk"), num: true, render: (r) => baht(r.milk) },
    { key: "total", label: t("reports.col.total"), num: true, render: (r) => baht(r.total) },
  ] }));
  return out;
}

function comparisonView(rep) {
  const tot = rep.totals || {};
  return el("div", {},
    el("p", {}, t("reports.compare_with", { current: roundName(rep.round), against: roundName(rep.against),
      now: num(tot.current), before: num(tot.against), change: signed(tot.change || 0) })),
    dataTable({ caption: t("reports.kind.comparison"), empty: t("common.empty"), rows: rep.items || [], columns: [
      { key: "unit", label: t("reports.col.unit"), render: (r) => data(r.unit.name) },
      { key: "current", label: t("reports.col.current"), num: true, render: (r) => num(r.current && r.current.total) },
      { key: "against", label: t("reports.col.against"), num: true, render: (r) => num(r.against && r.against.total) },
      { key: "change", label: t("reports.col.change"), num: true, render: (r) => el("span", { class: r.change < 0 ? "down" : r.change > 0 ? "up" : null },
        signed(r.change), r.change_pct !== null && r.change_pct !== undefined ? ` (${signed(Math.round(r.change_pct * 10) / 10)}%)` : "") },
    ] }));
}

async function formsView(ctx, base) {
  const list = await api("GET", `${base}/forms?org_unit_id=${ctx.unit.id}`, undefined, { signal: ctx.signal });
  const forms = list.items || [];
  return el("div", {}, el("p", {}, t("reports.forms_intro")),
    el("ul", { class: "form-list" }, forms.map((f) => el("li", {},
      el("h3", {}, t("reports.form", { n: f.enclosure, title: f.title })),
      downloads(ctx, `${base}/forms/${f.enclosure}?org_unit_id=${ctx.unit.id}`, `forms-${f.enclosure}`)))));
}

export default {
  id: "reports",
  title: "reports.title",
  levels: OVERSIGHT,
  unitTypes: ["department", "province", "lao"],
  order: 70,
  async render(ctx) {
    const root = el("div", { class: "page page-reports" });
    if (!ctx.round) {
      root.append(emptyState(t("ov.no_round")));
      return root;
    }
    const kinds = KINDS;
    const state = view.get("kind") || "summary";
    const kind = kinds.includes(state) ? state : "summary";
    const nav = el("nav", { class: "subnav", "aria-label": t("reports.choose") },
      el("ul", {}, kinds.map((k) => el("li", {}, el("a", {
        href: `#/u/${ctx.unit.id}/reports`, "aria-current": k === kind ? "page" : null, class: k === kind ? "current" : null,
        onclick: (e) => { e.preventDefault(); view.set("kind", k); ctx.refresh(); },
      }, t(`reports.kind.${k}`))))));
    root.append(nav);
    const base = `/rounds/${ctx.round.id}/reports`;
    const query = `?org_unit_id=${ctx.unit.id}`;
    const section = el("section", { class: "panel", "aria-labelledby": "report-h" },
      el("h2", { id: "report-h" }, tx("reports.heading", { report: t(`reports.kind.${kind}`), name: data(ctx.unit.name) })),
      el("p", { class: "meta" }, roundName(ctx.round)));
    root.append(section);
    if (kind === "forms") {
      section.append(await formsView(ctx, base));
      return root;
    }
    const path = `${base}/${kind}${query}${kind === "comparison" ? "&against=previous" : ""}`;
    let report;
    try {
      report = await api("GET", path, undefined, { signal: ctx.signal });
    } catch (e) {
      if (kind === "comparison" && e.code === "not_found") {
        section.append(emptyState(t("reports.no_compare")));
        return root;
      }
      throw e;
    }
    section.append(downloads(ctx, path, kind));
    const render = { summary: summaryView, progress: progressView, budget: budgetView, comparison: comparisonView }[kind];
    section.append(render(report));
    return root;
  },
};
