// Caregivers and teachers of a school or CDC in the chosen round: counts by position, the
// list, add and edit, remove with a reason, and a CSV/XLSX import with the rejected rows.
// Recorded by the institution's users and by its LAO (and the levels above), while the round
// is open for the institution and its data are not confirmed.
import { api, download, errorText, upload } from "../core/api.js";
import { dateInput, formatDate } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import {
  button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit, uid,
} from "../core/ui.js";
import { figures, withRound } from "./institution.js";

export const POSITIONS = ["caregiver_teacher", "caregiver", "teacher"];
export const EMPLOYMENT = ["civil_servant", "government_employee", "mission_employee", "general_employee", "other"];
export const QUALIFICATIONS = ["below_bachelor", "bachelor_ece", "bachelor_other", "master_or_higher"];
const REMOVALS = ["left", "retired", "transferred", "duplicate", "deceased", "other"];
const STAFF_PREFIXES = ["นาย", "นาง", "นางสาว"];

register({
  th: {
    "staff.title": "บุคลากร",
    "staff.heading": "ครูผู้ดูแลเด็ก ผู้ดูแลเด็ก และครู",
    "staff.intro": "บุคลากรของสถานศึกษาในรอบการสำรวจนี้ ข้อมูล ณ วันเก็บข้อมูล",
    "staff.counts": "จำนวนบุคลากรจำแนกตามตำแหน่ง",
    "staff.total": "รวมทั้งหมด",
    "staff.removed_count": "นำออกแล้ว {n} คน",
    "staff.position.caregiver_teacher": "ครูผู้ดูแลเด็ก",
    "staff.position.caregiver": "ผู้ดูแลเด็ก",
    "staff.position.teacher": "ครู",
    "staff.employment.civil_servant": "ข้าราชการ",
    "staff.employment.government_employee": "พนักงานราชการ",
    "staff.employment.mission_employee": "พนักงานจ้างตามภารกิจ",
    "staff.employment.general_employee": "พนักงานจ้างทั่วไป",
    "staff.employment.other": "อื่น ๆ",
    "staff.qualification.below_bachelor": "ต่ำกว่าปริญญาตรี",
    "staff.qualification.bachelor_ece": "ปริญญาตรี การศึกษาปฐมวัย",
    "staff.qualification.bachelor_other": "ปริญญาตรี สาขาอื่น",
    "staff.qualification.master_or_higher": "ปริญญาโทขึ้นไป",
    "staff.reason.left": "ลาออก",
    "staff.reason.retired": "เกษียณอายุ",
    "staff.reason.transferred": "ย้ายไปที่อื่น",
    "staff.reason.duplicate": "บันทึกซ้ำ",
    "staff.reason.deceased": "ถึงแก่กรรม",
    "staff.reason.other": "อื่น ๆ",
    "staff.col.name": "ชื่อ–นามสกุล",
    "staff.col.id": "เลขประจำตัวประชาชน",
    "staff.col.position": "ตำแหน่ง",
    "staff.col.employment": "ประเภทการจ้าง",
    "staff.col.start": "เริ่มปฏิบัติงาน",
    "staff.col.actions": "จัดการ",
    "staff.empty": "ยังไม่มีบุคลากรในรอบนี้ เพิ่มทีละคนหรือนำเข้าจากไฟล์",
    "staff.add": "เพิ่มบุคลากร",
    "staff.edit": "แก้ไข",
    "staff.edit_of": "แก้ไข {name}",
    "staff.remove": "นำออก",
    "staff.remove_of": "นำ {name} ออก",
    "staff.form.add_title": "เพิ่มบุคลากร",
    "staff.form.edit_title": "แก้ไขข้อมูลบุคลากร",
    "staff.form.national_id": "เลขประจำตัวประชาชน 13 หลัก",
    "staff.form.national_id_hint": "ตัวเลข 13 หลัก เว้นวรรคหรือขีดได้",
    "staff.form.prefix": "คำนำหน้าชื่อ",
    "staff.form.first_name": "ชื่อ",
    "staff.form.last_name": "นามสกุล",
    "staff.form.position": "ตำแหน่ง",
    "staff.form.employment_type": "ประเภทการจ้าง",
    "staff.form.qualification": "วุฒิการศึกษา",
    "staff.form.start_date": "วันที่เริ่มปฏิบัติงาน",
    "staff.form.start_hint": "วว/ดด/ปปปป (พ.ศ.) เช่น 16/05/2563",
    "staff.form.save_add": "บันทึกบุคลากร",
    "staff.form.save_edit": "บันทึกการแก้ไข",
    "staff.form.required": "ต้องกรอก{field}",
    "staff.form.bad_date": "กรอกวันที่เป็น วว/ดด/ปปปป (พ.ศ.)",
    "staff.form.nothing": "ไม่มีข้อมูลที่เปลี่ยนแปลง",
    "staff.err.national_id": "เลขประจำตัวประชาชนไม่ถูกต้อง (ตรวจสอบหลักสุดท้าย)",
    "staff.err.duplicate_here": "บุคคลนี้มีชื่ออยู่ในสถานศึกษานี้แล้วในรอบนี้",
    "staff.err.duplicate_unit": "บุคคลนี้มีตำแหน่งอยู่ที่ {name} ในรอบนี้แล้ว",
    "staff.err.duplicate_province": "บุคคลนี้มีตำแหน่งอยู่ที่สถานศึกษาใน{name}ในรอบนี้แล้ว",
    "staff.err.duplicate_elsewhere": "บุคคลนี้มีตำแหน่งอยู่ที่สถานศึกษาอื่นในรอบนี้แล้ว",
    "staff.saved_add": "บันทึก {name} แล้ว",
    "staff.saved_edit": "บันทึกการแก้ไขของ {name} แล้ว",
    "staff.remove_title": "นำ {name} ออกจากรายชื่อบุคลากร",
    "staff.remove_body": "บุคลากรจะไม่ถูกนับในรอบนี้ แต่ข้อมูลยังเก็บไว้",
    "staff.remove_reason": "เหตุผลที่นำออก",
    "staff.removed": "นำ {name} ออกแล้ว",
    "staff.import": "นำเข้าจากไฟล์",
    "staff.import_intro": "ไฟล์ CSV หรือ Excel (.xlsx) หัวตาราง: เลขประจำตัวประชาชน, คำนำหน้า, ชื่อ, นามสกุล, ตำแหน่ง, ประเภทการจ้าง, วุฒิการศึกษา, วันที่เริ่มปฏิบัติงาน",
    "staff.import_file": "ไฟล์รายชื่อบุคลากร",
    "staff.import_button": "นำเข้า",
    "staff.import_template": "ดาวน์โหลดแบบฟอร์ม",
    "staff.import_choose": "กรุณาเลือกไฟล์",
    "staff.import_result": "นำเข้า {accepted} คน · มีอยู่แล้ว {unchanged} คน · ไม่ผ่าน {rejected} แถว",
    "staff.import_rejected": "แถวที่นำเข้าไม่ได้",
    "staff.col.row": "แถว",
    "staff.col.reason": "สาเหตุ",
    "staff.why.sealed": "ข้อมูลของสถานศึกษายืนยันแล้ว แก้ไขบุคลากรไม่ได้จนกว่าจะยกเลิกการยืนยัน",
    "staff.why.closed": "รอบนี้ปิดการบันทึกสำหรับสถานศึกษานี้แล้ว",
    "staff.why.inactive": "สถานศึกษานี้ไม่ได้เปิดดำเนินการ",
  },
  en: {
    "staff.title": "Staff",
    "staff.heading": "Caregiver teachers, caregivers and teachers",
    "staff.intro": "The institution's staff in this census round, as of the census date",
    "staff.counts": "Staff by position",
    "staff.total": "Total",
    "staff.removed_count": "{n} removed",
    "staff.position.caregiver_teacher": "Caregiver teacher",
    "staff.position.caregiver": "Caregiver",
    "staff.position.teacher": "Teacher",
    "staff.employment.civil_servant": "Civil servant",
    "staff.employment.government_employee": "Government employee",
    "staff.employment.mission_employee": "Mission employee",
    "staff.employment.general_employee": "General employee",
    "staff.employment.other": "Other",
    "staff.qualification.below_bachelor": "Below a bachelor's degree",
    "staff.qualification.bachelor_ece": "Bachelor's, early childhood education",
    "staff.qualification.bachelor_other": "Bachelor's, another field",
    "staff.qualification.master_or_higher": "Master's or higher",
    "staff.reason.left": "Resigned",
    "staff.reason.retired": "Retired",
    "staff.reason.transferred": "Moved elsewhere",
    "staff.reason.duplicate": "Recorded twice",
    "staff.reason.deceased": "Deceased",
    "staff.reason.other": "Other",
    "staff.col.name": "Name",
    "staff.col.id": "National ID",
    "staff.col.position": "Position",
    "staff.col.employment": "Employment",
    "staff.col.start": "Started",
    "staff.col.actions": "Actions",
    "staff.empty": "No staff in this round yet. Add them one by one or import a file.",
    "staff.add": "Add a staff member",
    "staff.edit": "Edit",
    "staff.edit_of": "Edit {name}",
    "staff.remove": "Remove",
    "staff.remove_of": "Remove {name}",
    "staff.form.add_title": "Add a staff member",
    "staff.form.edit_title": "Edit a staff member",
    "staff.form.national_id": "National ID (13 digits)",
    "staff.form.national_id_hint": "13 digits; spaces or dashes are fine",
    "staff.form.prefix": "Prefix",
    "staff.form.first_name": "First name",
    "staff.form.last_name": "Last name",
    "staff.form.position": "Position",
    "staff.form.employment_type": "Employment type",
    "staff.form.qualification": "Qualification",
    "staff.form.start_date": "Start date",
    "staff.form.start_hint": "dd/mm/yyyy (Buddhist era), e.g. 16/05/2563",
    "staff.form.save_add": "Save the staff member",
    "staff.form.save_edit": "Save the changes",
    "staff.form.required": "Enter the {field}",
    "staff.form.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era)",
    "staff.form.nothing": "Nothing has changed",
    "staff.err.national_id": "Not a valid national ID (check the last digit)",
    "staff.err.duplicate_here": "This person is already recorded at this institution in this round",
    "staff.err.duplicate_unit": "This person already holds a post at {name} in this round",
    "staff.err.duplicate_province": "This person already holds a post at an institution in {name} in this round",
    "staff.err.duplicate_elsewhere": "This person already holds a post at another institution in this round",
    "staff.saved_add": "{name} is recorded",
    "staff.saved_edit": "The changes to {name} are saved",
    "staff.remove_title": "Remove {name} from the staff list",
    "staff.remove_body": "The person will not be counted in this round; the record is kept.",
    "staff.remove_reason": "Reason for removal",
    "staff.removed": "{name} is removed",
    "staff.import": "Import a file",
    "staff.import_intro": "A CSV or Excel (.xlsx) file with the columns national ID, prefix, first name, last name, position, employment type, qualification, start date (Thai or English titles)",
    "staff.import_file": "Staff file",
    "staff.import_button": "Import",
    "staff.import_template": "Download the template",
    "staff.import_choose": "Choose a file",
    "staff.import_result": "{accepted} imported · {unchanged} already recorded · {rejected} rows rejected",
    "staff.import_rejected": "Rows not imported",
    "staff.col.row": "Row",
    "staff.col.reason": "Reason",
    "staff.why.sealed": "The institution's data are confirmed: staff cannot change until the confirmation is revoked",
    "staff.why.closed": "The round is closed for this institution",
    "staff.why.inactive": "This institution is not active",
  },
});

function fullName(s) {
  return [s.prefix, s.first_name, s.last_name].filter(Boolean).join(" ");
}

function idShown(id) {
  return id && /^\d{13}$/.test(id) ? `${id[0]}-${id.slice(1, 5)}-${id.slice(5, 10)}-${id.slice(10, 12)}-${id[12]}` : id || "–";
}

function select(name, options, value, blank) {
  return el("select", { name }, [
    ...(blank ? [el("option", { value: "" }, t("common.choose"))] : []),
    ...options.map(([v, label]) => el("option", { value: v, selected: v === value }, label))]);
}

// a duplicate_staff refusal: where the person holds a post, as far as the caller may know
async function duplicateText(data, ctx) {
  if (data.held_by !== undefined && data.held_by !== null) {
    if (data.held_by === ctx.unit.id) return t("staff.err.duplicate_here");
    try {
      const unit = await api("GET", `/org-units/${data.held_by}`, null, { signal: ctx.signal });
      return t("staff.err.duplicate_unit", { name: unit.name });
    } catch (e) {
      return t("staff.err.duplicate_elsewhere");
    }
  }
  if (data.held_in && data.held_in.name) return t("staff.err.duplicate_province", { name: data.held_in.name });
  return t("staff.err.duplicate_elsewhere");
}

async function rowReason(item, ctx) {
  if (item.code === "duplicate_staff") {
    const same = /on row (\d+) of this file/.exec(item.message || "");
    if (same) return `${t("staff.err.duplicate_here")} (${t("staff.col.row")} ${num(Number(same[1]))})`;
    return duplicateText(item, ctx);
  }
  if (item.code === "invalid_national_id") return t("staff.err.national_id");
  return item.message || errorText(item);
}

function staffForm(ctx, person, { onDone, onCancel }) {
  const editing = !!person;
  const v0 = person || {};
  const nid = el("input", { type: "text", name: "national_id", inputmode: "numeric", autocomplete: "off", value: v0.national_id || "" });
  const listId = uid("prefixes");
  const prefix = el("input", { type: "text", name: "prefix", autocomplete: "off", list: listId, value: v0.prefix || "" });
  const first = el("input", { type: "text", name: "first_name", autocomplete: "off", value: v0.first_name || "" });
  const last = el("input", { type: "text", name: "last_name", autocomplete: "off", value: v0.last_name || "" });
  const position = select("position", POSITIONS.map((p) => [p, t(`staff.position.${p}`)]),
    v0.position || (ctx.unit.type === "cdc" ? "caregiver" : "teacher"));
  const employment = select("employment_type", EMPLOYMENT.map((p) => [p, t(`staff.employment.${p}`)]), v0.employment_type || "", true);
  const qualification = select("qualification", QUALIFICATIONS.map((p) => [p, t(`staff.qualification.${p}`)]), v0.qualification || "", true);
  const start = dateInput({ name: "start_date", id: uid("start"), value: v0.start_date || "" });
  const titleId = uid("staff-form");
  const form = el("form", { class: "panel staff-form", novalidate: true, "aria-labelledby": titleId },
    el("h2", { id: titleId }, editing ? t("staff.form.edit_title") : t("staff.form.add_title")),
    field({ label: t("staff.form.national_id"), name: "national_id", input: nid, hint: t("staff.form.national_id_hint") }),
    el("datalist", { id: listId }, STAFF_PREFIXES.map((p) => el("option", { value: p }))),
    el("div", { class: "field-row" },
      field({ label: t("staff.form.prefix"), name: "prefix", input: prefix, optional: true }),
      field({ label: t("staff.form.first_name"), name: "first_name", input: first }),
      field({ label: t("staff.form.last_name"), name: "last_name", input: last })),
    el("div", { class: "field-row" },
      field({ label: t("staff.form.position"), name: "position", input: position }),
      field({ label: t("staff.form.employment_type"), name: "employment_type", input: employment })),
    el("div", { class: "field-row" },
      field({ label: t("staff.form.qualification"), name: "qualification", input: qualification, optional: true }),
      field({ label: t("staff.form.start_date"), name: "start_date", input: start, hint: t("staff.form.start_hint"), optional: true })),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button primary" }, editing ? t("staff.form.save_edit") : t("staff.form.save_add")),
      button(t("action.cancel"), () => onCancel())));

  onSubmit(form, async () => {
    clearErrors(form);
    const v = {
      national_id: nid.value.replace(/[\s-]/g, ""), prefix: prefix.value.trim() || null,
      first_name: first.value.trim(), last_name: last.value.trim(), position: position.value,
      employment_type: employment.value || null, qualification: qualification.value || null,
      start_date: start.value.trim() ? start.isoValue : null,
    };
    const local = {};
    const need = (k) => t("staff.form.required", { field: t(`staff.form.${k}`) });
    for (const k of ["national_id", "first_name", "last_name", "employment_type"]) if (!v[k]) local[k] = need(k);
    if (start.value.trim() && !v.start_date) local.start_date = t("staff.form.bad_date");
    if (Object.keys(local).length) { formErrors(form, { fields: local }); return; }
    let body = v;
    if (editing) {
      body = {};
      for (const [k, value] of Object.entries(v)) if ((person[k] || null) !== (value || null)) body[k] = value;
      if (!Object.keys(body).length) { notice(t("staff.form.nothing"), "info"); onCancel(); return; }
      body.version = person.version;
    }
    try {
      const saved = editing
        ? await api("PATCH", `/staff/${person.id}`, body, { signal: ctx.signal })
        : await api("POST", `/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/staff`, body, { signal: ctx.signal });
      await onDone(saved);
    } catch (e) {
      if (e.name === "AbortError") return;
      if (e.code === "invalid_national_id") formErrors(form, { fields: { national_id: t("staff.err.national_id") } });
      else if (e.code === "duplicate_staff") formErrors(form, { fields: { national_id: await duplicateText(e.data || {}, ctx) } });
      else if (e.fields && Object.keys(e.fields).length) formErrors(form, e);
      else formErrors(form, {}, [errorText(e)]);
    }
  });
  return form;
}

const views = new Map();

async function render(ctx) {
  const rid = ctx.round.id;
  const base = `/rounds/${rid}/institutions/${ctx.unit.id}/staff`;
  const key = `${ctx.unit.id}:${rid}`;
  if (!views.has(key)) views.set(key, { mode: "list", editing: null, imported: null });
  const view = views.get(key);
  const [window, summary, list] = await Promise.all([
    api("GET", `/rounds/${rid}/window?org_unit_id=${ctx.unit.id}`, null, { signal: ctx.signal }),
    api("GET", `${base}/summary`, null, { signal: ctx.signal }),
    api("GET", `${base}?limit=1000`, null, { signal: ctx.signal }),
  ]);
  let why = null;
  if (ctx.unit.status && ctx.unit.status !== "active") why = "staff.why.inactive";
  else if (summary.sealed) why = "staff.why.sealed";
  else if (!window.open) why = "staff.why.closed";
  const canEdit = !why;

  const root = el("section", { class: "page page-staff", "aria-labelledby": "staff-h" },
    el("h2", { id: "staff-h" }, t("staff.heading")),
    el("p", { class: "hint" }, t("staff.intro")));
  if (why) root.append(el("div", { class: "notice warn inline", role: "note" }, el("p", {}, t(why))));
  const counts = summary.counts || { total: 0, by_position: {} };
  root.append(el("section", { class: "panel staff-counts", "aria-label": t("staff.counts") },
    el("h2", {}, t("staff.counts")),
    figures([...POSITIONS.map((p) => [t(`staff.position.${p}`), counts.by_position[p] || 0]), [t("staff.total"), counts.total]]),
    summary.removed ? el("p", { class: "hint" }, t("staff.removed_count", { n: num(summary.removed) })) : null));

  const rerender = () => ctx.refresh();
  if (canEdit && (view.mode === "add" || view.mode === "edit")) {
    root.append(staffForm(ctx, view.mode === "edit" ? view.editing : null, {
      onDone: async (saved) => {
        notice(t(view.mode === "edit" ? "staff.saved_edit" : "staff.saved_add", { name: fullName(saved) }), "ok");
        view.mode = "list"; view.editing = null;
        await rerender();
      },
      onCancel: () => { view.mode = "list"; view.editing = null; rerender(); },
    }));
  } else if (canEdit) {
    root.append(el("div", { class: "actions" },
      button(t("staff.add"), () => { view.mode = "add"; rerender(); }, { kind: "primary" })));
  }

  const remove = async (s) => {
    const answer = await confirmDialog({
      title: t("staff.remove_title", { name: fullName(s) }), body: t("staff.remove_body"), danger: true,
      confirmLabel: t("staff.remove"),
      reason: { label: t("staff.remove_reason"), required: true,
        options: REMOVALS.map((r) => ({ value: r, label: t(`staff.reason.${r}`) })) },
    });
    if (!answer) return;
    try {
      await api("DELETE", `/staff/${s.id}`, { reason: answer.reason }, { signal: ctx.signal });
      notice(t("staff.removed", { name: fullName(s) }), "ok");
      await rerender();
    } catch (e) {
      if (e.name !== "AbortError") notice(errorText(e), "error");
    }
  };
  root.append(el("section", { class: "panel staff-list", "aria-labelledby": "staff-h" }, dataTable({
    rows: list.items || [], empty: t("staff.empty"),
    columns: [
      { key: "name", label: t("staff.col.name"), render: (s) => fullName(s) },
      { key: "national_id", label: t("staff.col.id"), render: (s) => el("span", { class: "nowrap" }, idShown(s.national_id)) },
      { key: "position", label: t("staff.col.position"), render: (s) => t(`staff.position.${s.position}`) },
      { key: "employment_type", label: t("staff.col.employment"), render: (s) => t(`staff.employment.${s.employment_type}`) },
      { key: "start_date", label: t("staff.col.start"), render: (s) => (s.start_date ? formatDate(s.start_date) : "–") },
      ...(canEdit ? [{ key: "actions", label: t("staff.col.actions"), render: (s) => el("div", { class: "row-actions" },
        button(t("staff.edit"), () => { view.mode = "edit"; view.editing = s; rerender(); },
          { attrs: { "aria-label": t("staff.edit_of", { name: fullName(s) }) } }),
        button(t("staff.remove"), () => remove(s),
          { kind: "danger", attrs: { "aria-label": t("staff.remove_of", { name: fullName(s) }) } })) }] : []),
    ],
  })));

  if (canEdit) {
    const file = el("input", { type: "file", name: "file", accept: ".csv,.xlsx,text/csv" });
    const result = el("div", { class: "import-result", "aria-live": "polite" });
    const form = el("form", { class: "panel staff-import", novalidate: true, "aria-labelledby": "staff-imp-h" },
      el("h2", { id: "staff-imp-h" }, t("staff.import")),
      el("p", { class: "hint" }, t("staff.import_intro")),
      field({ label: t("staff.import_file"), name: "file", input: file }),
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "button primary" }, t("staff.import_button")),
        button(t("staff.import_template"), () => download("/staff/import-template", "staff-template.csv"))),
      result);
    const show = async (done) => {
      const reasons = await Promise.all((done.rejected || []).map((r) => rowReason(r, ctx)));
      result.replaceChildren(
        el("p", { class: "notice ok inline" }, t("staff.import_result", {
          accepted: num(done.accepted), unchanged: num(done.unchanged), rejected: num(done.rejected_total || 0) })),
        (done.rejected || []).length ? el("h3", {}, t("staff.import_rejected")) : null,
        (done.rejected || []).length ? dataTable({
          rows: done.rejected.map((r, i) => ({ ...r, reason: reasons[i] })),
          columns: [{ key: "row", label: t("staff.col.row"), num: true }, { key: "reason", label: t("staff.col.reason") }],
        }) : null);
    };
    if (view.imported) { await show(view.imported); view.imported = null; }
    onSubmit(form, async () => {
      clearErrors(form);
      if (!file.files.length) { formErrors(form, { fields: { file: t("staff.import_choose") } }); return; }
      try {
        view.imported = await upload(`${base}/import`, file.files[0], { signal: ctx.signal });
        await rerender();
      } catch (e) {
        if (e.name !== "AbortError") formErrors(form, {}, [errorText(e)]);
      }
    });
    root.append(form);
  }
  return root;
}

export default {
  id: "staff",
  title: "staff.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc"],
  order: 17,
  render: withRound(render),
};
