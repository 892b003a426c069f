// Learners of a school or CDC: search, filter, sort and pages; add and edit with a
// GOV.UK-style error summary; remove with a reason; restore; export.
import { register, t, num } from "../core/i18n.js";
import { api, download, errorText } from "../core/api.js";
import { prefillTransfer } from "./transfers.js";
import { dateInput, formatDate } from "../core/dates.js";
import {
  badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, loading, notice, onSubmit,
  pager, uid,
} from "../core/ui.js";
import {
  PREFIXES, REASONS, editState, withRound, fullName, gradeCell, gradeName, gradesFor, learnerError, stateBanner,
} from "./institution.js";

const PAGE = 50;
const SORTS = ["grade", "name", "added", "-added"];

register({
  th: {
    "learners.title": "ผู้เรียน",
    "learners.heading": "รายชื่อผู้เรียน",
    "learners.intro": "ผู้เรียนที่สถานศึกษาบันทึกไว้ในรอบการสำรวจนี้",
    "learners.intro_cdc": "เด็กเล็กที่ศูนย์พัฒนาเด็กเล็กบันทึกไว้ในรอบการสำรวจนี้",
    "learners.count": "ผู้เรียนปัจจุบัน {active} คน · จำหน่ายออกแล้ว {removed} คน",
    "learners.search": "ค้นหาชื่อหรือเลขประจำตัว",
    "learners.filter_grade": "ชั้น",
    "learners.filter_status": "สถานะ",
    "learners.sort": "เรียงตาม",
    "learners.all_grades": "ทุกชั้น",
    "learners.status.active": "ผู้เรียนปัจจุบัน",
    "learners.status.removed": "จำหน่ายออกแล้ว",
    "learners.status.all": "ทั้งหมด",
    "learners.badge.active": "ปัจจุบัน",
    "learners.badge.removed": "จำหน่ายแล้ว",
    "learners.sort.grade": "ชั้น แล้วชื่อ",
    "learners.sort.name": "ชื่อ (ก–ฮ)",
    "learners.sort.added": "วันที่บันทึก (เก่าก่อน)",
    "learners.sort.-added": "วันที่บันทึก (ใหม่ก่อน)",
    "learners.filters": "ค้นหาและกรองรายชื่อ",
    "learners.search_button": "ค้นหา",
    "learners.add": "เพิ่มผู้เรียน",
    "learners.add_cdc": "เพิ่มเด็ก",
    "learners.export_csv": "ส่งออก CSV",
    "learners.export_xlsx": "ส่งออก Excel",
    "learners.col.id": "เลขประจำตัว",
    "learners.col.name": "ชื่อ–นามสกุล",
    "learners.col.sex": "เพศ",
    "learners.col.birth": "วันเกิด",
    "learners.col.grade": "ชั้น",
    "learners.col.status": "สถานะ",
    "learners.col.actions": "จัดการ",
    "learners.empty": "ยังไม่มีผู้เรียนในรอบนี้ เพิ่มทีละคน นำเข้าจากไฟล์ หรือยกยอดจากรอบที่ 1",
    "learners.none_found": "ไม่พบผู้เรียนตามเงื่อนไขที่ค้นหา",
    "learners.removed_as": "จำหน่ายออก: {reason}",
    "learners.edit": "แก้ไข",
    "learners.edit_of": "แก้ไข {name}",
    "learners.remove": "จำหน่ายออก",
    "learners.remove_of": "จำหน่ายออก {name}",
    "learners.restore": "นำกลับ",
    "learners.restore_of": "นำกลับ {name}",
    "learners.form.add_title": "เพิ่มผู้เรียน",
    "learners.form.add_title_cdc": "เพิ่มเด็กเล็ก",
    "learners.form.edit_title": "แก้ไขข้อมูลผู้เรียน",
    "learners.form.id_kind": "ผู้เรียนมีเลขประจำตัวประชาชนหรือไม่",
    "learners.form.kind.national_id": "มีเลขประจำตัวประชาชน 13 หลัก",
    "learners.form.kind.g_code": "ไม่มี ใช้รหัส G ของกระทรวงศึกษาธิการ",
    "learners.form.national_id": "เลขประจำตัวประชาชน 13 หลัก",
    "learners.form.g_code": "รหัส G",
    "learners.form.national_id_hint": "ตัวเลข 13 หลัก เว้นวรรคหรือขีดได้ เช่น 1-1037-02071-81-1",
    "learners.form.g_code_hint": "ตัว G ตามด้วยตัวเลข 12 หลัก เช่น G645000000001",
    "learners.form.prefix": "คำนำหน้าชื่อ",
    "learners.form.no_prefix": "ไม่ระบุ",
    "learners.form.first_name": "ชื่อ",
    "learners.form.last_name": "นามสกุล",
    "learners.form.sex": "เพศ",
    "learners.form.birth_date": "วันเกิด",
    "learners.form.birth_hint": "วัน/เดือน/ปี พ.ศ. เช่น 17/05/2561",
    "learners.form.grade": "ชั้น",
    "learners.form.choose_grade": "เลือกชั้น",
    "learners.form.nationality": "สัญชาติ",
    "learners.form.save_add": "บันทึกผู้เรียน",
    "learners.form.save_edit": "บันทึกการแก้ไข",
    "learners.form.reload": "โหลดข้อมูลล่าสุด",
    "learners.form.required": "ต้องกรอก{field}",
    "learners.form.choose": "ต้องเลือก{field}",
    "learners.form.bad_date": "กรอกวันเกิดเป็น วว/ดด/ปปปป (พ.ศ.) เช่น 17/05/2561",
    "learners.form.nothing": "ไม่มีข้อมูลที่เปลี่ยนแปลง",
    "learners.saved_add": "บันทึก {name} แล้ว",
    "learners.saved_edit": "บันทึกการแก้ไขของ {name} แล้ว",
    "learners.remove_title": "จำหน่าย {name} ออกจากรายชื่อ",
    "learners.remove_body": "ผู้เรียนจะไม่ถูกนับในรอบนี้ แต่ข้อมูลยังเก็บไว้ และนำกลับได้ขณะที่รอบยังเปิดอยู่",
    "learners.remove_reason": "เหตุผลที่จำหน่ายออก",
    "learners.remove_note": "หมายเหตุเพิ่มเติม",
    "learners.remove_note_hint": "ไม่ต้องใส่เลขประจำตัวประชาชน",
    "learners.removed": "จำหน่าย {name} ออกแล้ว",
    "learners.restore_title": "นำ {name} กลับเข้ารายชื่อ",
    "learners.restore_body": "ผู้เรียนจะกลับมาถูกนับในรอบนี้ที่ชั้น {grade}",
    "learners.restored": "นำ {name} กลับเข้ารายชื่อแล้ว",
    "learners.exported": "ดาวน์โหลดไฟล์แล้ว",
  },
  en: {
    "learners.title": "Learners",
    "learners.heading": "Learners",
    "learners.intro": "The learners the institution has recorded in this census round",
    "learners.intro_cdc": "The children the child development centre has recorded in this census round",
    "learners.count": "{active} current learners · {removed} removed",
    "learners.search": "Search by name or ID",
    "learners.filter_grade": "Grade",
    "learners.filter_status": "Status",
    "learners.sort": "Sort by",
    "learners.all_grades": "All grades",
    "learners.status.active": "Current learners",
    "learners.status.removed": "Removed",
    "learners.status.all": "All",
    "learners.badge.active": "Current",
    "learners.badge.removed": "Removed",
    "learners.sort.grade": "Grade, then name",
    "learners.sort.name": "Name (A–Z)",
    "learners.sort.added": "Date recorded (oldest first)",
    "learners.sort.-added": "Date recorded (newest first)",
    "learners.filters": "Search and filter",
    "learners.search_button": "Search",
    "learners.add": "Add a learner",
    "learners.add_cdc": "Add a child",
    "learners.export_csv": "Export CSV",
    "learners.export_xlsx": "Export Excel",
    "learners.col.id": "ID",
    "learners.col.name": "Name",
    "learners.col.sex": "Sex",
    "learners.col.birth": "Birth date",
    "learners.col.grade": "Grade",
    "learners.col.status": "Status",
    "learners.col.actions": "Actions",
    "learners.empty": "No learners in this round yet. Add them one by one, import a file, or carry them over from round 1.",
    "learners.none_found": "No learner matches the search",
    "learners.removed_as": "Removed: {reason}",
    "learners.edit": "Edit",
    "learners.edit_of": "Edit {name}",
    "learners.remove": "Remove",
    "learners.remove_of": "Remove {name}",
    "learners.restore": "Restore",
    "learners.restore_of": "Restore {name}",
    "learners.form.add_title": "Add a learner",
    "learners.form.add_title_cdc": "Add a child",
    "learners.form.edit_title": "Edit a learner",
    "learners.form.id_kind": "Does the learner have a Thai national ID?",
    "learners.form.kind.national_id": "Yes, a 13-digit national ID",
    "learners.form.kind.g_code": "No, a G-Code",
    "learners.form.national_id": "National ID (13 digits)",
    "learners.form.g_code": "G-Code",
    "learners.form.national_id_hint": "13 digits; spaces or dashes are fine, e.g. 1-1037-02071-81-1",
    "learners.form.g_code_hint": "The letter G and 12 digits, e.g. G645000000001",
    "learners.form.prefix": "Prefix",
    "learners.form.no_prefix": "None",
    "learners.form.first_name": "First name",
    "learners.form.last_name": "Last name",
    "learners.form.sex": "Sex",
    "learners.form.birth_date": "Birth date",
    "learners.form.birth_hint": "Day/month/year (Buddhist era), e.g. 17/05/2561",
    "learners.form.grade": "Grade",
    "learners.form.choose_grade": "Choose a grade",
    "learners.form.nationality": "Nationality",
    "learners.form.save_add": "Save the learner",
    "learners.form.save_edit": "Save the changes",
    "learners.form.reload": "Load the latest details",
    "learners.form.required": "Enter the {field}",
    "learners.form.choose": "Choose the {field}",
    "learners.form.bad_date": "Enter the birth date as dd/mm/yyyy (Buddhist era), e.g. 17/05/2561",
    "learners.form.nothing": "Nothing has changed",
    "learners.saved_add": "{name} is recorded",
    "learners.saved_edit": "The changes to {name} are saved",
    "learners.remove_title": "Remove {name} from the list",
    "learners.remove_body": "The learner will not be counted in this round; the record is kept and can be restored while the round is open.",
    "learners.remove_reason": "Reason for removal",
    "learners.remove_note": "Note",
    "learners.remove_note_hint": "Do not enter an ID number",
    "learners.removed": "{name} is removed",
    "learners.restore_title": "Restore {name} to the list",
    "learners.restore_body": "The learner will be counted again in this round, in grade {grade}.",
    "learners.restored": "{name} is back on the list",
    "learners.exported": "The file is downloaded",
  },
});

// the list's filters survive a re-render (ctx.refresh) of the same unit and round
const views = new Map();
function viewOf(ctx) {
  const key = `${ctx.unit.id}:${ctx.round.id}`;
  if (!views.has(key)) views.set(key, { q: "", grade: "", status: "active", sort: "grade", offset: 0, mode: "list", editing: null });
  return views.get(key);
}

function listPath(ctx, view) {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(view.offset), status: view.status, sort: view.sort });
  if (view.q) params.set("q", view.q);
  if (view.grade) params.set("grade", view.grade);
  return `/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners?${params}`;
}

function select(name, options, value) {
  return el("select", { name }, options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
}

function idOf(learner) {
  return learner.national_id || learner.g_code || "–";
}

// a national ID as officers write it: 1-2345-67890-12-3
function idShown(learner) {
  const id = learner.national_id;
  if (id && /^\d{13}$/.test(id)) return `${id[0]}-${id.slice(1, 5)}-${id.slice(5, 10)}-${id.slice(10, 12)}-${id[12]}`;
  return idOf(learner);
}

// -- the form ---------------------------------------------------------------------------------

function radios(name, legend, options, value, onchange) {
  const id = uid(name);
  return el("fieldset", { class: "radios", dataset: { choice: name } },
    el("legend", {}, legend),
    el("p", { class: "field-error", id: `${id}-error`, hidden: true }),
    el("div", { class: "radio-group" }, options.map(([v, label], i) => {
      const input = el("input", { type: "radio", name, value: v, id: `${id}-${i}`, checked: v === value, onchange });
      return el("div", { class: "radio" }, input, el("label", { for: `${id}-${i}` }, label));
    })));
}

function learnerForm(ctx, learner, { onDone, onCancel }) {
  const editing = !!learner;
  const cdc = ctx.unit.type === "cdc";
  const kind = learner && learner.id_kind === "g_code" ? "g_code" : "national_id";
  const idInput = el("input", { type: "text", name: "id_number", autocomplete: "off", spellcheck: "false",
    value: learner ? idOf(learner) : "", inputmode: kind === "national_id" ? "numeric" : "text" });
  const idField = field({ label: t(`learners.form.${kind}`), name: "id_number", input: idInput, hint: t(`learners.form.${kind}_hint`) });
  const setKind = (value) => {
    idField.querySelector("label").firstChild.textContent = t(`learners.form.${value}`);
    idField.querySelector(".hint").textContent = t(`learners.form.${value}_hint`);
    idInput.inputMode = value === "national_id" ? "numeric" : "text";
  };
  const kindRadios = radios("id_kind", t("learners.form.id_kind"),
    [["national_id", t("learners.form.kind.national_id")], ["g_code", t("learners.form.kind.g_code")]], kind,
    (e) => setKind(e.target.value));
  const prefix = select("prefix", [["", t("learners.form.no_prefix")], ...PREFIXES.map(([v, k]) => [v, t(`inst.prefix.${k}`)])],
    learner ? learner.prefix || "" : "");
  if (learner && learner.prefix && !PREFIXES.some(([v]) => v === learner.prefix)) {
    prefix.append(el("option", { value: learner.prefix, selected: true }, learner.prefix));
  }
  const first = el("input", { type: "text", name: "first_name", autocomplete: "off", value: learner ? learner.first_name : "" });
  const last = el("input", { type: "text", name: "last_name", autocomplete: "off", value: learner ? learner.last_name : "" });
  const sex = radios("sex", t("learners.form.sex"), [["M", t("sex.M")], ["F", t("sex.F")]], learner ? learner.sex : null);
  const birth = dateInput({ name: "birth_date", id: uid("birth"), value: learner ? learner.birth_date : "" });
  const grades = gradesFor(ctx.unit);
  const grade = select("grade", [...(grades.length > 1 ? [["", t("learners.form.choose_grade")]] : []),
    ...grades.map((g) => [g, gradeName(g)])], learner ? learner.grade : grades.length === 1 ? grades[0] : "");
  const nationality = el("input", { type: "text", name: "nationality", autocomplete: "off",
    value: learner ? learner.nationality || "" : "ไทย" });

  const title = editing ? t("learners.form.edit_title") : t(cdc ? "learners.form.add_title_cdc" : "learners.form.add_title");
  const titleId = uid("form-title");
  const form = el("form", { class: "learner-form", novalidate: true, "aria-labelledby": titleId },
    kindRadios, idField,
    el("div", { class: "field-row" },
      field({ label: t("learners.form.prefix"), name: "prefix", input: prefix, optional: true }),
      field({ label: t("learners.form.first_name"), name: "first_name", input: first }),
      field({ label: t("learners.form.last_name"), name: "last_name", input: last })),
    sex,
    el("div", { class: "field-row" },
      field({ label: t("learners.form.birth_date"), name: "birth_date", input: birth, hint: t("learners.form.birth_hint") }),
      field({ label: t("learners.form.grade"), name: "grade", input: grade }),
      field({ label: t("learners.form.nationality"), name: "nationality", input: nationality, optional: true })),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button primary" }, editing ? t("learners.form.save_edit") : t("learners.form.save_add")),
      button(t("action.cancel"), () => onCancel())));

  const values = () => {
    const chosenKind = form.querySelector("input[name=id_kind]:checked").value;
    const sexChoice = form.querySelector("input[name=sex]:checked");
    const id = idInput.value.trim();
    return {
      national_id: chosenKind === "national_id" ? id : null,
      g_code: chosenKind === "g_code" ? id : null,
      prefix: prefix.value || null,
      first_name: first.value.trim(),
      last_name: last.value.trim(),
      sex: sexChoice ? sexChoice.value : null,
      birth_date: birth.isoValue,
      grade: grade.value || null,
      nationality: nationality.value.trim() || null,
    };
  };

  // what can be told before asking the server
  const localErrors = (v) => {
    const errors = {};
    const required = (name, label) => t("learners.form.required", { field: label });
    if (!idInput.value.trim()) errors.id_number = required("id_number", idField.querySelector("label").firstChild.textContent);
    if (!v.first_name) errors.first_name = required("first_name", t("learners.form.first_name"));
    if (!v.last_name) errors.last_name = required("last_name", t("learners.form.last_name"));
    if (!v.sex) errors.sex = t("learners.form.choose", { field: t("learners.form.sex") });
    if (!birth.value.trim()) errors.birth_date = required("birth_date", t("learners.form.birth_date"));
    else if (!v.birth_date) errors.birth_date = t("learners.form.bad_date");
    if (!v.grade) errors.grade = t("learners.form.choose", { field: t("learners.form.grade") });
    return errors;
  };

  onSubmit(form, async () => {
    clearErrors(form);
    const v = values();
    const local = localErrors(v);
    if (Object.keys(local).length) { showErrors(form, local, []); return; }
    let body = v;
    if (editing) {
      body = {};
      const before = { national_id: learner.national_id, g_code: learner.g_code, prefix: learner.prefix || null,
        first_name: learner.first_name, last_name: learner.last_name, sex: learner.sex, birth_date: learner.birth_date,
        grade: learner.grade, nationality: learner.nationality || null };
      for (const [k, value] of Object.entries(v)) if ((before[k] || null) !== (value || null)) body[k] = value;
      if ("national_id" in body || "g_code" in body) { body.national_id = v.national_id; body.g_code = v.g_code; }
      if (!Object.keys(body).length) { notice(t("learners.form.nothing"), "info"); onCancel(); return; }
      body.version = learner.version;
    }
    try {
      const saved = editing
        ? await api("PATCH", `/learners/${learner.id}`, body, { signal: ctx.signal })
        : await api("POST", `/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners`, body, { signal: ctx.signal });
      await onDone(saved);
    } catch (e) {
      if (e.name === "AbortError") return;
      const { fields, lines } = await learnerError(e, ctx);
      const extra = [...lines];
      showErrors(form, fields, extra);
      if (editing && e.code === "conflict") {
        form.querySelector(".error-summary").append(button(t("learners.form.reload"), () => onCancel(true)));
      }
      const summary = form.querySelector(".error-summary");
      if (!editing && summary && e.code === "duplicate_learner" && e.data.transfer && e.data.transfer.possible) {
        // the child is recorded elsewhere: offer the request to the holder, filled in
        summary.append(button(t("tr.request_from_learners"), () => {
          prefillTransfer({ national_id: v.national_id, g_code: v.g_code, grade: v.grade });
          ctx.go("transfers");
        }, { attrs: { class: "button secondary learner-transfer" } }));
      }
    }
  });
  const box = el("section", { class: "learner-form-box panel" },
    el("h3", { id: titleId }, editing ? `${title}: ${fullName(learner)}` : title), form);
  box.form = form;
  return box;
}

// field messages for the form (the radio groups show theirs beside the legend)
function showErrors(form, fields, lines) {
  form.querySelectorAll("fieldset.radios").forEach((box) => {
    box.classList.remove("has-error");
    const err = box.querySelector(".field-error");
    err.hidden = true;
    err.textContent = "";
  });
  const rest = { ...fields };
  const choices = [];
  for (const name of ["sex", "id_kind"]) {
    if (!rest[name]) continue;
    const box = form.querySelector(`fieldset[data-choice=${name}]`);
    const err = box.querySelector(".field-error");
    box.classList.add("has-error");
    err.textContent = rest[name];
    err.hidden = false;
    choices.push([box, `${box.querySelector("legend").textContent}: ${rest[name]}`]);
    delete rest[name];
  }
  formErrors(form, rest, [...choices.map(([, text]) => text), ...lines]);
  // the radio groups' lines link to their first choice too
  const summary = form.querySelector(".error-summary");
  if (!summary) return;
  for (const [box, text] of choices) {
    const item = [...summary.querySelectorAll("li")].find((li) => li.textContent === text);
    const first = box.querySelector("input");
    if (item && first) {
      item.replaceChildren(el("a", { href: `#${first.id}`, onclick: (e) => { e.preventDefault(); first.focus(); } }, text));
    }
  }
}

// -- the page ---------------------------------------------------------------------------------

async function render(ctx) {
  const view = viewOf(ctx);
  const state = await editState(ctx);
  const root = el("section", { class: "page learners" });
  const counts = state.summary.counts || { total: 0 };
  const cdc = ctx.unit.type === "cdc";
  root.append(
    el("h2", {}, t("learners.heading")),
    el("p", { class: "lead" }, t(cdc ? "learners.intro_cdc" : "learners.intro")),
    el("p", { class: "count-line" }, t("learners.count", { active: num(counts.total || 0), removed: num(state.summary.removed || 0) })),
    stateBanner(state));

  const body = el("div", { class: "learners-body" });
  root.append(body);

  const showList = async () => {
    view.mode = "list";
    body.replaceChildren(loading());
    body.replaceChildren(await listView(ctx, view, state, { edit: showEdit, add: showAdd, reload: showList }));
  };
  const finish = async (message) => {
    view.mode = "list";
    view.editing = null;
    await ctx.refresh();
    notice(message, "ok");
  };
  const showAdd = () => {
    view.mode = "add";
    notice(null);
    const form = learnerForm(ctx, null, {
      onDone: (saved) => finish(t("learners.saved_add", { name: fullName(saved) })),
      onCancel: () => showList(),
    });
    body.replaceChildren(form);
    form.form.querySelector("input[name=id_kind]:checked, input").focus();
  };
  const showEdit = async (learnerId) => {
    view.mode = "edit";
    notice(null);
    view.editing = learnerId;
    body.replaceChildren(loading());
    const learner = await api("GET", `/learners/${learnerId}`, null, { signal: ctx.signal });
    const form = learnerForm(ctx, learner, {
      onDone: (saved) => finish(t("learners.saved_edit", { name: fullName(saved) })),
      onCancel: (reload) => (reload ? showEdit(learnerId) : showList()),
    });
    body.replaceChildren(form);
    form.form.querySelector("input[name=first_name]").focus();
  };

  if (view.mode === "add" && state.canEdit) showAdd();
  else if (view.mode === "edit" && state.canEdit && view.editing) await showEdit(view.editing);
  else body.append(await listView(ctx, view, state, { edit: showEdit, add: showAdd, reload: showList }));
  return root;
}

async function listView(ctx, view, state, actions) {
  const wrap = el("div", { class: "learner-list" });
  const cdc = ctx.unit.type === "cdc";
  const grades = gradesFor(ctx.unit);

  // the toolbar: add and export
  const toolbar = el("div", { class: "toolbar" },
    state.canEdit ? button(t(cdc ? "learners.add_cdc" : "learners.add"), () => actions.add(), { kind: "primary" }) : null,
    button(t("learners.export_csv"), async () => {
      await download(`/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners/export?format=csv&headers=th`,
        `learners-${ctx.unit.code || ctx.unit.id}.csv`, "text/csv", { signal: ctx.signal }).catch((e) => notice(errorText(e), "error"));
    }),
    button(t("learners.export_xlsx"), async () => {
      await download(`/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners/export?format=xlsx&headers=th`,
        `learners-${ctx.unit.code || ctx.unit.id}.xlsx`,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", { signal: ctx.signal })
        .catch((e) => notice(errorText(e), "error"));
    }));

  // filters: changing any of them lists again from the first page
  const results = el("div", { class: "results", "aria-live": "polite" });
  const q = el("input", { type: "search", name: "q", value: view.q, autocomplete: "off" });
  const grade = select("grade", [["", t("learners.all_grades")], ...grades.map((g) => [g, gradeName(g)])], view.grade);
  const status = select("status", ["active", "removed", "all"].map((s) => [s, t(`learners.status.${s}`)]), view.status);
  const sort = select("sort", SORTS.map((s) => [s, t(`learners.sort.${s}`)]), view.sort);
  const filters = el("form", { class: "filters", role: "search", "aria-label": t("learners.filters") },
    field({ label: t("learners.search"), name: "q", input: q }),
    grades.length > 1 ? field({ label: t("learners.filter_grade"), name: "grade", input: grade }) : null,
    field({ label: t("learners.filter_status"), name: "status", input: status }),
    field({ label: t("learners.sort"), name: "sort", input: sort }),
    el("div", { class: "filter-submit" }, el("button", { type: "submit", class: "button secondary" }, t("learners.search_button"))));
  let timer = null;
  const apply = () => {
    view.q = q.value.trim();
    view.grade = grade.value;
    view.status = status.value;
    view.sort = sort.value;
    view.offset = 0;
    load();
  };
  filters.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(timer); apply(); });
  q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(apply, 350); });
  for (const s of [grade, status, sort]) s.addEventListener("change", apply);

  let loadCount = 0;
  const load = async () => {
    const mine = ++loadCount;
    results.replaceChildren(loading());
    let page;
    try {
      page = await api("GET", listPath(ctx, view), null, { signal: ctx.signal });
    } catch (e) {
      if (e.name === "AbortError") return;
      results.replaceChildren(el("div", { class: "notice error", role: "alert" }, el("p", {}, errorText(e))));
      return;
    }
    if (mine !== loadCount) return;
    const pages = pager({ total: page.total, limit: PAGE, offset: view.offset, onPage: (offset) => { view.offset = offset; load(); } });
    results.replaceChildren(table(ctx, page, view, state, actions), ...(pages ? [pages] : []));
  };
  wrap.append(toolbar, filters, results);
  await load();
  return wrap;
}

function table(ctx, page, view, state, actions) {
  const filtered = view.q || view.grade || view.status !== "active";
  const columns = [
    { key: "name", label: t("learners.col.name"), render: (l) => fullName(l) },
    { key: "id", label: t("learners.col.id"), render: (l) => el("span", { class: "mono", translate: "no" }, idShown(l)) },
    { key: "sex", label: t("learners.col.sex"), render: (l) => t(`sex.${l.sex}`) },
    { key: "birth_date", label: t("learners.col.birth"), render: (l) => formatDate(l.birth_date) },
    { key: "grade", label: t("learners.col.grade"), render: (l) => gradeCell(l.grade) },
    { key: "status", label: t("learners.col.status"), render: (l) => (l.status === "removed"
      ? el("span", {}, badge("removed", t("learners.badge.removed")), " ",
        el("span", { class: "hint" }, t(`inst.reason.${l.removal_reason}`)))
      : badge("active", t("learners.badge.active"))) },
  ];
  if (state.canEdit) {
    columns.push({ key: "actions", label: t("learners.col.actions"), render: (l) => el("div", { class: "row-actions" },
      l.status === "active"
        ? [button(t("learners.edit"), () => actions.edit(l.id), { attrs: { "aria-label": t("learners.edit_of", { name: fullName(l) }) } }),
          button(t("learners.remove"), () => remove(ctx, l), { kind: "danger", attrs: { "aria-label": t("learners.remove_of", { name: fullName(l) }) } })]
        : button(t("learners.restore"), () => restore(ctx, l), { attrs: { "aria-label": t("learners.restore_of", { name: fullName(l) }) } })) });
  }
  return dataTable({
    columns, rows: page.items, empty: filtered ? t("learners.none_found") : t("learners.empty"),
    rowAttrs: (l) => ({ dataset: { learnerId: String(l.id) }, class: l.status === "removed" ? "removed" : null }),
  });
}

async function remove(ctx, learner) {
  const name = fullName(learner);
  const note = el("textarea", { name: "note", rows: "2", maxlength: "500" });
  const noteField = field({ label: t("learners.remove_note"), name: "note", input: note, hint: t("learners.remove_note_hint"), optional: true });
  const pending = confirmDialog({
    title: t("learners.remove_title", { name }),
    body: el("div", {}, el("p", {}, t("learners.remove_body")), noteField),
    confirmLabel: t("learners.remove"),
    danger: true,
    reason: { label: t("learners.remove_reason"), required: true, options: REASONS.map((r) => ({ value: r, label: t(`inst.reason.${r}`) })) },
  });
  // the reason first, then the optional note
  const reasonField = document.querySelector("dialog[open] .field[data-field=reason]");
  if (reasonField) reasonField.after(noteField);
  const answer = await pending;
  if (!answer) return;
  try {
    await api("DELETE", `/learners/${learner.id}`, { reason: answer.reason, note: note.value.trim() || null }, { signal: ctx.signal });
  } catch (e) {
    if (e.name !== "AbortError") notice(errorText(e), "error");
    return;
  }
  await ctx.refresh();
  notice(t("learners.removed", { name }), "ok");
}

async function restore(ctx, learner) {
  const name = fullName(learner);
  const ok = await confirmDialog({
    title: t("learners.restore_title", { name }),
    body: t("learners.restore_body", { grade: gradeName(learner.grade) }),
    confirmLabel: t("learners.restore"),
  });
  if (!ok) return;
  try {
    await api("POST", `/learners/${learner.id}/restore`, null, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") return;
    const { fields, lines } = await learnerError(e, ctx);
    notice([...Object.values(fields), ...lines].join(" "), "error");
    return;
  }
  await ctx.refresh();
  notice(t("learners.restored", { name }), "ok");
}

export default {
  id: "learners",
  title: "learners.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc"],
  order: 10,
  render: withRound(render),
};
