// The units beneath the viewed unit: search, add one (an LAO its schools, CDCs and
// schools of another affiliation), verify a pending one (province, department), close one.
import { api, errorText } from "../core/api.js";
import { dateInput, formatDate, today } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit, pager, searchBox } from "../core/ui.js";
import { AFFILIATIONS, CHILD_TYPES, OVERSIGHT, affiliationName, data, tx, saveThenRefresh } from "./oversight.js";
import { fillAffiliations } from "./headcountdrafts.js";

const LIMIT = 50;

register({
  th: {
    "units.title": "หน่วยงานในสังกัด",
    "units.heading": "หน่วยงานภายใต้ {name}",
    "units.count": "ทั้งหมด {n} หน่วยงาน",
    "units.search": "ค้นหาชื่อหรือรหัสหน่วยงาน",
    "units.status_filter": "สถานะ",
    "units.col.name": "ชื่อหน่วยงาน",
    "units.col.code": "รหัส",
    "units.col.type": "ประเภท",
    "units.col.status": "สถานะ",
    "units.col.actions": "ดำเนินการ",
    "units.closed_on": "ปิดเมื่อ {date}",
    "units.empty": "ยังไม่มีหน่วยงานในสังกัด",
    "units.empty_search": "ไม่พบหน่วยงานที่ตรงกับคำค้น",
    "units.verify": "รับรอง",
    "units.verify_label": "รับรอง {name}",
    "units.verify_title": "รับรอง {name}",
    "units.verify_body": "ตรวจสอบแล้วว่า {name} (รหัส {code}) มีอยู่จริงและอยู่ในสังกัด {parent} เมื่อรับรองแล้วหน่วยงานจะเริ่มบันทึกข้อมูลและต้องยืนยันข้อมูลในแต่ละรอบ",
    "units.verified": "รับรอง {name} แล้ว",
    "units.close": "ปิดหน่วยงาน",
    "units.close_label": "ปิด {name}",
    "units.close_title": "ปิด {name}",
    "units.close_body": "เมื่อปิดแล้ว {name} จะไม่ต้องยืนยันข้อมูลอีก และโรงเรียนสังกัดอื่นที่ปิดจะนับเป็น 0 คน การปิดยกเลิกเองไม่ได้",
    "units.close_date": "วันที่ปิด (พ.ศ.)",
    "units.closed": "ปิด {name} แล้ว",
    "units.bad_date": "กรอกวันที่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.)",
    "units.add": "เพิ่มหน่วยงานภายใต้ {name}",
    "units.add_intro_lao": "สถานศึกษาที่เพิ่มจะมีสถานะรอตรวจสอบ จนกว่าจังหวัดจะรับรอง",
    "units.code": "รหัสหน่วยงาน",
    "units.code_hint": "ตัวเลขหรือตัวอักษร ตามรหัสที่กรมกำหนด",
    "units.name": "ชื่อหน่วยงาน",
    "units.type": "ประเภท",
    "units.affiliation": "สังกัด",
    "units.affiliation_hint": "เฉพาะโรงเรียนสังกัดอื่นที่ อปท. สนับสนุนงบประมาณ",
    "units.add_button": "เพิ่มหน่วยงาน",
    "units.added": "เพิ่ม {name} แล้ว",
    "units.added_pending": "เพิ่ม {name} แล้ว รอจังหวัดรับรอง",
    "units.required": "กรุณากรอก{field}",
  },
  en: {
    "units.title": "Units",
    "units.heading": "Units under {name}",
    "units.count": "{n} units",
    "units.search": "Search by unit name or code",
    "units.status_filter": "Status",
    "units.col.name": "Name",
    "units.col.code": "Code",
    "units.col.type": "Type",
    "units.col.status": "Status",
    "units.col.actions": "Actions",
    "units.closed_on": "closed on {date}",
    "units.empty": "There are no units below yet",
    "units.empty_search": "No unit matches the search",
    "units.verify": "Verify",
    "units.verify_label": "Verify {name}",
    "units.verify_title": "Verify {name}",
    "units.verify_body": "You have checked that {name} (code {code}) exists and belongs to {parent}. Once verified it records its data and must confirm it every round.",
    "units.verified": "{name} is verified",
    "units.close": "Close",
    "units.close_label": "Close {name}",
    "units.close_title": "Close {name}",
    "units.close_body": "Once closed, {name} no longer confirms; a closed school of another affiliation counts 0. Closing cannot be undone here.",
    "units.close_date": "Closed on (Buddhist era)",
    "units.closed": "{name} is closed",
    "units.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era)",
    "units.add": "Add a unit under {name}",
    "units.add_intro_lao": "An institution you add stays pending until the province verifies it.",
    "units.code": "Unit code",
    "units.code_hint": "Digits or letters, as the department assigns them",
    "units.name": "Unit name",
    "units.type": "Type",
    "units.affiliation": "Affiliation",
    "units.affiliation_hint": "Only for schools of another affiliation that the LAO funds",
    "units.add_button": "Add the unit",
    "units.added": "{name} was added",
    "units.added_pending": "{name} was added and awaits the province's verification",
    "units.required": "Enter the {field}",
  },
});

const view = new Map();

async function verify(ctx, unit) {
  const ok = await confirmDialog({ title: tx("units.verify_title", { name: data(unit.name) }),
    body: el("p", {}, tx("units.verify_body", { name: data(unit.name), code: data(unit.code), parent: data(ctx.unit.name) })),
    confirmLabel: t("units.verify") });
  if (!ok) return;
  try {
    await api("POST", `/org-units/${unit.id}/verify`);
    notice(tx("units.verified", { name: data(unit.name) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
  }
  await ctx.refresh();
}

async function close(ctx, unit) {
  const input = dateInput({ name: "closed_on", id: `close-${unit.id}`, value: today() });
  const body = el("div", {}, el("p", {}, tx("units.close_body", { name: data(unit.name) })),
    field({ label: t("units.close_date"), name: "closed_on", input, hint: t("dates.hint") }));
  const ok = await confirmDialog({ title: tx("units.close_title", { name: data(unit.name) }), body,
    confirmLabel: t("units.close"), danger: true });
  if (!ok) return;
  if (!input.isoValue) {
    notice(t("units.bad_date"), "error");
    return;
  }
  try {
    await api("POST", `/org-units/${unit.id}/close`, { closed_on: input.isoValue });
    notice(tx("units.closed", { name: data(unit.name) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
  }
  await ctx.refresh();
}

function addForm(ctx) {
  const types = CHILD_TYPES[ctx.unit.type] || [];
  const code = el("input", { type: "text", autocomplete: "off", maxlength: "32" });
  const name = el("input", { type: "text", autocomplete: "off", maxlength: "255" });
  const type = el("select", {}, types.map((ty) => el("option", { value: ty }, t(`type.${ty}`))));
  const affiliation = el("select", {}, el("option", { value: "" }, t("common.choose")),
    AFFILIATIONS.map((a) => el("option", { value: a }, affiliationName(a))));
  fillAffiliations(affiliation, ctx.signal);
  const affField = field({ label: t("units.affiliation"), name: "affiliation", input: affiliation, hint: t("units.affiliation_hint") });
  const sync = () => { affField.hidden = type.value !== "other_school"; };
  type.addEventListener("change", sync);
  sync();
  const form = el("form", { class: "panel", "aria-labelledby": "unit-add-h", novalidate: true },
    el("h2", { id: "unit-add-h" }, tx("units.add", { name: data(ctx.unit.name) })),
    ctx.unit.type === "lao" ? el("p", { class: "hint" }, t("units.add_intro_lao")) : null,
    el("div", { class: "form-grid" },
      field({ label: t("units.type"), name: "type", input: type }),
      field({ label: t("units.code"), name: "code", input: code, hint: t("units.code_hint") }),
      field({ label: t("units.name"), name: "name", input: name }),
      affField),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("units.add_button"))));
  onSubmit(form, async () => {
    clearErrors(form);
    const missing = {};
    if (!code.value.trim()) missing.code = t("units.required", { field: t("units.code") });
    if (!name.value.trim()) missing.name = t("units.required", { field: t("units.name") });
    if (type.value === "other_school" && !affiliation.value) missing.affiliation = t("units.required", { field: t("units.affiliation") });
    if (Object.keys(missing).length) {
      formErrors(form, { fields: missing });
      return;
    }
    const body = { code: code.value.trim(), name: name.value.trim(), type: type.value, parent_id: ctx.unit.id };
    if (type.value === "other_school") body.affiliation = affiliation.value;
    await saveThenRefresh(form, ctx, async () => {
      const created = await api("POST", "/org-units", body);
      notice(tx(created.status === "pending" ? "units.added_pending" : "units.added", { name: data(created.name) }), "ok");
    });
  });
  return form;
}

export default {
  id: "units",
  title: "units.title",
  levels: OVERSIGHT,
  unitTypes: ["department", "province", "lao"],
  order: 40,
  async render(ctx) {
    const state = view.get(ctx.unit.id) || { q: "", status: "", offset: 0 };
    view.set(ctx.unit.id, state);
    const role = ctx.user.role;
    const own = ctx.unit.id === ctx.user.org_unit_id;
    const root = el("div", { class: "page page-units" });

    const columns = [
      { key: "name", label: t("units.col.name"), render: (u) => (u.type === "lao" || u.type === "province")
        ? el("a", { href: `#/u/${u.id}/units`, translate: "no" }, u.name)
        : el("a", { href: `#/u/${u.id}`, translate: "no" }, u.name) },
      { key: "code", label: t("units.col.code"), render: (u) => data(u.code) },
      { key: "type", label: t("units.col.type"), render: (u) => u.type === "other_school"
        ? `${t("type.other_school")} (${affiliationName(u.affiliation, false)})` : t(`type.${u.type}`) },
      { key: "status", label: t("units.col.status"), render: (u) => el("span", {}, badge(u.status),
        u.status === "closed" && u.closed_on ? ` ${t("units.closed_on", { date: formatDate(u.closed_on) })}` : "") },
      { key: "actions", label: t("units.col.actions"), render: (u) => {
        const actions = [];
        if (u.status === "pending" && (role === "province" || role === "department")) {
          actions.push(button(t("units.verify"), () => verify(ctx, u),
            { kind: "primary", attrs: { "aria-label": t("units.verify_label", { name: u.name }) } }));
        }
        if (u.status !== "closed") {
          actions.push(button(t("units.close"), () => close(ctx, u),
            { kind: "secondary", attrs: { "aria-label": t("units.close_label", { name: u.name }) } }));
        }
        return actions.length ? el("div", { class: "row-actions" }, actions) : "";
      } },
    ];

    // the list reloads alone on a search, a filter or a page: the search box keeps its focus
    const listBox = el("div", { class: "list-box", "aria-live": "polite" });
    let loading = null;
    const load = async () => {
      if (loading) loading.abort();
      const mine = new AbortController();
      loading = mine;
      ctx.signal.addEventListener("abort", () => mine.abort(), { once: true });
      const params = new URLSearchParams({ limit: String(LIMIT), offset: String(state.offset) });
      if (state.q) params.set("q", state.q);
      if (state.status) params.set("status", state.status);
      // pending and rejected institutions lie two levels below a province: filtered at any depth
      const deep = state.status && ["pending", "rejected"].includes(state.status) && ["province", "department"].includes(ctx.unit.type);
      const list = await api("GET", `/org-units/${ctx.unit.id}/${deep ? "descendants" : "children"}?${params}`, undefined, { signal: mine.signal });
      listBox.replaceChildren(...[
        el("p", { class: "count" }, t("units.count", { n: num(list.total) })),
        dataTable({ columns, rows: list.items || [], empty: state.q ? t("units.empty_search") : t("units.empty"),
          caption: tx("units.heading", { name: data(ctx.unit.name) }) }),
        pager({ total: list.total, limit: LIMIT, offset: state.offset,
          onPage: (offset) => { state.offset = offset; return load().catch(failed); } }),
      ].filter(Boolean));
    };
    const failed = (e) => { if (e && e.name !== "AbortError") notice(errorText(e), "error"); };

    const status = el("select", { id: "units-status", onchange: (e) => { state.status = e.target.value; state.offset = 0; load().catch(failed); } },
      el("option", { value: "" }, t("common.all")),
      ["active", "pending", "rejected", "closed"].map((s) => el("option", { value: s, selected: state.status === s }, t(`state.${s}`))));
    const search = searchBox({ label: t("units.search"), value: state.q, name: "units-q",
      onSearch: (q) => { state.q = q; state.offset = 0; load().catch(failed); } });
    await load();
    root.append(el("section", { class: "panel", "aria-labelledby": "units-h" },
      el("h2", { id: "units-h" }, tx("units.heading", { name: data(ctx.unit.name) })),
      el("div", { class: "toolbar" }, search,
        el("div", { class: "field" }, el("label", { for: "units-status" }, t("units.status_filter")), status)),
      listBox));
    const canAdd = own || role === "department";
    if (canAdd && (CHILD_TYPES[ctx.unit.type] || []).length) root.append(addForm(ctx));
    return root;
  },
};
