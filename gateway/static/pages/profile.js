// Institution profiles and the self-established CDC survey.
// - "profile": a school's or CDC's address, establishment, contact officer, capacity and
//   (CDCs) buildings: shown to everyone above it, edited by the institution and its LAO;
//   a surveyed CDC's survey, documents, the province's rejection reason and resubmission.
// - "surveys": the LAO records a CDC it set up itself (the survey form with its documents);
//   the province (or department) lists the pending ones at any depth, opens their documents,
//   verifies or rejects them with a reason; everyone prints the survey form.
import { api, download, errorText, fieldText, registerFieldPattern, upload } from "../core/api.js";
import { dateInput, formatDate, formatDateTime } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit } from "../core/ui.js";
import { OVERSIGHT, data, tx } from "./oversight.js";

const MAX_BYTES = 5 * 1024 * 1024;
const FILE_TYPES = ["application/pdf", "image/jpeg", "image/png"];
const CONDITIONS = ["good", "fair", "poor"];
const FUNDING = ["lao_budget", "subsidy", "donation", "other"];
const BE = 543;

register({
  th: {
    "profile.title": "ข้อมูลพื้นฐาน",
    "profile.heading": "ข้อมูลพื้นฐานของ {name}",
    "profile.address": "ที่ตั้ง",
    "profile.line": "บ้านเลขที่ หมู่ ถนน",
    "profile.province_code": "รหัสจังหวัด (2 หลัก)",
    "profile.district_code": "รหัสอำเภอ (4 หลัก)",
    "profile.subdistrict_code": "รหัสตำบล (6 หลัก)",
    "profile.postcode": "รหัสไปรษณีย์",
    "profile.codes_hint": "รหัสเขตการปกครองของกรมการปกครอง เช่น 50 / 5001 / 500105",
    "profile.established_on": "วันที่จัดตั้ง (พ.ศ.)",
    "profile.authorisation_ref": "เอกสารอนุมัติจัดตั้ง (เลขที่คำสั่ง ลงวันที่)",
    "profile.contact": "ผู้ประสานงาน",
    "profile.contact_name": "ชื่อ-สกุล",
    "profile.position": "ตำแหน่ง",
    "profile.phone": "โทรศัพท์",
    "profile.phone_hint": "เช่น 053 123 456 หรือ 081 234 5678",
    "profile.email": "อีเมล",
    "profile.capacity": "รับเด็ก/นักเรียนได้ (คน)",
    "profile.buildings": "อาคาร",
    "profile.building_count": "จำนวนอาคาร (หลัง)",
    "profile.condition": "สภาพอาคาร",
    "profile.condition.good": "ดี",
    "profile.condition.fair": "พอใช้",
    "profile.condition.poor": "ทรุดโทรม",
    "profile.year_built": "ปีที่สร้าง (พ.ศ.)",
    "profile.survey": "แบบสำรวจศูนย์ที่ อปท. จัดตั้งเอง",
    "profile.established_by": "ผู้จัดตั้ง",
    "profile.funding_source": "แหล่งงบประมาณ",
    "profile.funding.lao_budget": "งบประมาณ อปท.",
    "profile.funding.subsidy": "เงินอุดหนุน",
    "profile.funding.donation": "เงินบริจาค",
    "profile.funding.other": "อื่น ๆ",
    "profile.children_expected": "เด็กที่คาดว่าจะรับ (คน)",
    "profile.save": "บันทึกข้อมูลพื้นฐาน",
    "profile.saved": "บันทึกข้อมูลพื้นฐานของ {name} แล้ว",
    "profile.readonly": "ข้อมูลนี้แก้ไขได้โดยสถานศึกษาและ อปท. ต้นสังกัด",
    "profile.version_conflict": "มีผู้แก้ไขข้อมูลนี้ก่อนหน้า กรุณาตรวจสอบข้อมูลล่าสุดแล้วบันทึกอีกครั้ง",
    "profile.rejected": "จังหวัดส่งกลับให้แก้ไข: {reason}",
    "profile.rejected_at": "ส่งกลับเมื่อ {when}",
    "profile.resubmit": "ส่งให้จังหวัดตรวจสอบอีกครั้ง",
    "profile.resubmitted": "ส่ง {name} ให้จังหวัดตรวจสอบอีกครั้งแล้ว",
    "profile.pending": "รอจังหวัดตรวจสอบ",
    "profile.documents": "เอกสารการจัดตั้ง",
    "profile.no_documents": "ยังไม่มีเอกสารแนบ",
    "profile.doc.col.file": "ไฟล์",
    "profile.doc.col.kind": "ประเภท",
    "profile.doc.col.size": "ขนาด",
    "profile.doc.col.at": "แนบเมื่อ",
    "profile.doc.size": "{n} กิโลไบต์",
    "profile.doc.col.actions": "ดำเนินการ",
    "profile.doc.kind.establishment_order": "คำสั่งจัดตั้ง",
    "profile.doc.kind.other": "เอกสารอื่น",
    "profile.doc.open": "เปิด",
    "profile.doc.open_label": "เปิด {name}",
    "profile.doc.delete": "ลบ",
    "profile.doc.delete_label": "ลบ {name}",
    "profile.doc.deleted": "ลบ {name} แล้ว",
    "profile.doc.file": "ไฟล์เอกสาร (PDF หรือไฟล์รูปภาพ ขนาดไม่เกิน 5 เมกะไบต์)",
    "profile.doc.kind": "ประเภทเอกสาร",
    "profile.doc.add": "แนบเอกสาร",
    "profile.doc.added": "แนบ {name} แล้ว",
    "profile.doc.too_large": "ไฟล์ {name} มีขนาด {size} เมกะไบต์ เกินกำหนด 5 เมกะไบต์",
    "profile.doc.bad_type": "ไฟล์ {name} ไม่ใช่ไฟล์ PDF หรือไฟล์รูปภาพ",
    "profile.doc.choose": "กรุณาเลือกไฟล์",
    "profile.print": "พิมพ์แบบสำรวจ",
    "profile.print_csv": "แบบสำรวจ (CSV)",
    "profile.err.phone": "หมายเลขโทรศัพท์ไม่ถูกต้อง: โทรศัพท์บ้าน 9 หลัก มือถือ 10 หลัก",
    "profile.err.code": "รหัสต้องเป็นตัวเลข {n} หลัก",
    "profile.err.nested": "รหัสต้องขึ้นต้นด้วยรหัสของเขตที่ใหญ่กว่า",
    "profile.err.year": "ปีที่สร้างไม่ถูกต้อง",
    "profile.bad_date": "กรอกวันที่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.)",
    "profile.bad_year": "กรอกปี พ.ศ. 4 หลัก เช่น 2558",
    "surveys.title": "สำรวจศูนย์พัฒนาเด็กเล็ก",
    "surveys.heading_lao": "ศูนย์พัฒนาเด็กเล็กที่ {name} จัดตั้งเอง",
    "surveys.heading_review": "ศูนย์พัฒนาเด็กเล็กรอตรวจสอบภายใต้ {name}",
    "surveys.count": "รอตรวจสอบ {pending} แห่ง · ส่งกลับให้แก้ไข {rejected} แห่ง",
    "surveys.empty": "ไม่มีศูนย์พัฒนาเด็กเล็กที่รอตรวจสอบ",
    "surveys.col.name": "ศูนย์พัฒนาเด็กเล็ก",
    "surveys.col.lao": "อปท.",
    "surveys.col.status": "สถานะ",
    "surveys.col.documents": "เอกสาร",
    "surveys.col.actions": "ดำเนินการ",
    "surveys.verify": "รับรอง",
    "surveys.verify_label": "รับรอง {name}",
    "surveys.verify_title": "รับรอง {name}",
    "surveys.verify_body": "ตรวจสอบแบบสำรวจและเอกสารการจัดตั้งของ {name} แล้วว่าถูกต้อง",
    "surveys.verified": "รับรอง {name} แล้ว",
    "surveys.reject": "ส่งกลับให้แก้ไข",
    "surveys.reject_label": "ส่งกลับ {name}",
    "surveys.reject_title": "ส่ง {name} กลับให้ อปท. แก้ไข",
    "surveys.reject_body": "ระบุสิ่งที่ต้องแก้ไข อปท. จะเห็นเหตุผลนี้",
    "surveys.reason": "เหตุผล",
    "surveys.rejected": "ส่ง {name} กลับให้แก้ไขแล้ว",
    "surveys.reason_required": "กรุณาระบุเหตุผลอย่างน้อย 3 ตัวอักษร",
    "surveys.open": "ดูข้อมูล",
    "surveys.new": "บันทึกศูนย์พัฒนาเด็กเล็กที่จัดตั้งเอง (แบบสำรวจ)",
    "surveys.new_intro": "กรอกแบบสำรวจและแนบเอกสารการจัดตั้ง ศูนย์จะรอจังหวัดตรวจสอบ",
    "surveys.code": "รหัสศูนย์",
    "surveys.name": "ชื่อศูนย์พัฒนาเด็กเล็ก",
    "surveys.submit": "ส่งแบบสำรวจ",
    "surveys.submitted": "ส่งแบบสำรวจของ {name} แล้ว รอจังหวัดตรวจสอบ",
    "surveys.upload_failed": "บันทึกศูนย์แล้ว แต่แนบเอกสารไม่สำเร็จ: {error} แนบใหม่ได้ที่หน้าข้อมูลพื้นฐานของศูนย์",
    "surveys.required": "กรุณากรอก{field}",
    "state.rejected": "ส่งกลับให้แก้ไข",
  },
  en: {
    "profile.title": "Profile",
    "profile.heading": "Profile of {name}",
    "profile.address": "Address",
    "profile.line": "House number, village, road",
    "profile.province_code": "Province code (2 digits)",
    "profile.district_code": "District code (4 digits)",
    "profile.subdistrict_code": "Subdistrict code (6 digits)",
    "profile.postcode": "Postcode",
    "profile.codes_hint": "The Department of Provincial Administration's codes, e.g. 50 / 5001 / 500105",
    "profile.established_on": "Established on (Buddhist era)",
    "profile.authorisation_ref": "Establishing order (number and date)",
    "profile.contact": "Contact officer",
    "profile.contact_name": "Name",
    "profile.position": "Position",
    "profile.phone": "Phone",
    "profile.phone_hint": "e.g. 053 123 456 or 081 234 5678",
    "profile.email": "E-mail",
    "profile.capacity": "Capacity (children or pupils)",
    "profile.buildings": "Buildings",
    "profile.building_count": "Number of buildings",
    "profile.condition": "Condition",
    "profile.condition.good": "Good",
    "profile.condition.fair": "Fair",
    "profile.condition.poor": "Poor",
    "profile.year_built": "Year built (Buddhist era)",
    "profile.survey": "Survey of a CDC the LAO set up itself",
    "profile.established_by": "Established by",
    "profile.funding_source": "Funding source",
    "profile.funding.lao_budget": "LAO budget",
    "profile.funding.subsidy": "Subsidy",
    "profile.funding.donation": "Donation",
    "profile.funding.other": "Other",
    "profile.children_expected": "Children expected",
    "profile.save": "Save the profile",
    "profile.saved": "The profile of {name} was saved",
    "profile.readonly": "The institution and its LAO edit this profile",
    "profile.version_conflict": "Someone changed this profile meanwhile: check the latest data and save again",
    "profile.rejected": "The province sent it back: {reason}",
    "profile.rejected_at": "Sent back on {when}",
    "profile.resubmit": "Resubmit to the province",
    "profile.resubmitted": "{name} was resubmitted to the province",
    "profile.pending": "Awaiting the province's check",
    "profile.documents": "Establishment documents",
    "profile.no_documents": "No document attached yet",
    "profile.doc.col.file": "File",
    "profile.doc.col.kind": "Kind",
    "profile.doc.col.size": "Size",
    "profile.doc.col.at": "Attached",
    "profile.doc.size": "{n} KB",
    "profile.doc.col.actions": "Actions",
    "profile.doc.kind.establishment_order": "Establishing order",
    "profile.doc.kind.other": "Other document",
    "profile.doc.open": "Open",
    "profile.doc.open_label": "Open {name}",
    "profile.doc.delete": "Delete",
    "profile.doc.delete_label": "Delete {name}",
    "profile.doc.deleted": "{name} was deleted",
    "profile.doc.file": "Document (PDF, JPG or PNG, at most 5 MB)",
    "profile.doc.kind": "Kind of document",
    "profile.doc.add": "Attach",
    "profile.doc.added": "{name} was attached",
    "profile.doc.too_large": "{name} is {size} MB, over the 5 MB limit",
    "profile.doc.bad_type": "{name} is not a PDF, JPG or PNG file",
    "profile.doc.choose": "Choose a file",
    "profile.print": "Print the survey form",
    "profile.print_csv": "Survey form (CSV)",
    "profile.err.phone": "Not a Thai phone number: 9 digits for a fixed line, 10 for a mobile",
    "profile.err.code": "The code is {n} digits",
    "profile.err.nested": "The code must start with the code of the area it lies in",
    "profile.err.year": "The year built is not valid",
    "profile.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era)",
    "profile.bad_year": "Enter a 4-digit Buddhist-era year, e.g. 2558",
    "surveys.title": "CDC survey",
    "surveys.heading_lao": "CDCs {name} set up itself",
    "surveys.heading_review": "CDCs awaiting a check under {name}",
    "surveys.count": "{pending} awaiting a check · {rejected} sent back",
    "surveys.empty": "No CDC awaits a check",
    "surveys.col.name": "CDC",
    "surveys.col.lao": "LAO",
    "surveys.col.status": "Status",
    "surveys.col.documents": "Documents",
    "surveys.col.actions": "Actions",
    "surveys.verify": "Verify",
    "surveys.verify_label": "Verify {name}",
    "surveys.verify_title": "Verify {name}",
    "surveys.verify_body": "You have checked the survey and establishment documents of {name}.",
    "surveys.verified": "{name} is verified",
    "surveys.reject": "Send back",
    "surveys.reject_label": "Send back {name}",
    "surveys.reject_title": "Send {name} back to its LAO",
    "surveys.reject_body": "Say what must be corrected: the LAO sees this reason.",
    "surveys.reason": "Reason",
    "surveys.rejected": "{name} was sent back",
    "surveys.reason_required": "Give a reason of at least 3 characters",
    "surveys.open": "Details",
    "surveys.new": "Record a CDC the LAO set up itself (survey)",
    "surveys.new_intro": "Fill in the survey and attach the establishment documents; the CDC then awaits the province's check.",
    "surveys.code": "CDC code",
    "surveys.name": "CDC name",
    "surveys.submit": "Submit the survey",
    "surveys.submitted": "The survey of {name} was submitted and awaits the province's check",
    "surveys.upload_failed": "The CDC was recorded but a document was not attached: {error} Attach it on the CDC's profile page.",
    "surveys.required": "Enter the {field}",
    "state.rejected": "Sent back",
  },
});

registerFieldPattern(/^a Thai phone number/, "profile.err.phone");
registerFieldPattern(/^(?<n>\d) digits$/, "profile.err.code");
registerFieldPattern(/^a (district|subdistrict) of the/, "profile.err.nested");
registerFieldPattern(/^a Christian-era year/, "profile.err.year");

// -- the form's fields --------------------------------------------------------------------

function input(name, value, attrs = {}) {
  return el("input", { type: "text", name, autocomplete: "off", value: value ?? "", ...attrs });
}

function select(name, options, value, label) {
  return el("select", { name }, el("option", { value: "" }, t("common.choose")),
    options.map((o) => el("option", { value: o, selected: value === o }, label(o))));
}

// the profile's inputs (and the survey's): {node, read() -> {profile, survey} | {errors}}
function profileFields(unit, { withSurvey = false, idPrefix = "p" } = {}) {
  const p = unit.profile || {};
  const a = p.address || {};
  const c = p.contact || {};
  const b = p.buildings || {};
  const s = unit.survey || {};
  const cdc = unit.type === "cdc";
  const f = {
    line: input("address.line", a.line, { maxlength: "300" }),
    province_code: input("address.province_code", a.province_code, { inputmode: "numeric", maxlength: "2" }),
    district_code: input("address.district_code", a.district_code, { inputmode: "numeric", maxlength: "4" }),
    subdistrict_code: input("address.subdistrict_code", a.subdistrict_code, { inputmode: "numeric", maxlength: "6" }),
    postcode: input("address.postcode", a.postcode, { inputmode: "numeric", maxlength: "5" }),
    established_on: dateInput({ name: "established_on", id: `${idPrefix}-established_on`, value: p.established_on }),
    authorisation_ref: input("authorisation_ref", p.authorisation_ref, { maxlength: "200" }),
    contact_name: input("contact.name", c.name, { maxlength: "200", autocomplete: "name" }),
    position: input("contact.position", c.position, { maxlength: "200" }),
    phone: input("contact.phone", c.phone, { type: "tel", autocomplete: "tel" }),
    email: input("contact.email", c.email, { type: "email", autocomplete: "email" }),
    capacity: input("capacity", p.capacity, { inputmode: "numeric" }),
    count: input("buildings.count", b.count, { inputmode: "numeric" }),
    condition: select("buildings.condition", CONDITIONS, b.condition, (o) => t(`profile.condition.${o}`)),
    year_built: input("buildings.year_built", b.year_built ? b.year_built + BE : "", { inputmode: "numeric", maxlength: "4" }),
    established_by: input("survey.established_by", s.established_by, { maxlength: "200" }),
    funding_source: select("survey.funding_source", FUNDING, s.funding_source, (o) => t(`profile.funding.${o}`)),
    children_expected: input("survey.children_expected", s.children_expected, { inputmode: "numeric" }),
  };
  for (const [key, node] of Object.entries(f)) if (!node.id) node.id = `${idPrefix}-${key}`;
  const fl = (label, key, hint, optional = true) => field({ label: t(label), name: f[key].name, input: f[key], hint, optional });
  const group = (legend, ...children) => el("fieldset", { class: "fieldset" }, el("legend", {}, legend), el("div", { class: "form-grid" }, children));
  const node = el("div", {},
    group(t("profile.address"), fl("profile.line", "line"), fl("profile.postcode", "postcode"),
      fl("profile.province_code", "province_code", t("profile.codes_hint")), fl("profile.district_code", "district_code"),
      fl("profile.subdistrict_code", "subdistrict_code")),
    el("div", { class: "form-grid" },
      field({ label: t("profile.established_on"), name: "established_on", input: f.established_on, hint: t("dates.hint"), optional: true }),
      fl("profile.authorisation_ref", "authorisation_ref"), fl("profile.capacity", "capacity")),
    group(t("profile.contact"), fl("profile.contact_name", "contact_name"), fl("profile.position", "position"),
      fl("profile.phone", "phone", t("profile.phone_hint")), fl("profile.email", "email")),
    cdc ? group(t("profile.buildings"), fl("profile.building_count", "count"), fl("profile.condition", "condition"),
      fl("profile.year_built", "year_built")) : null,
    withSurvey ? group(t("profile.survey"), fl("profile.established_by", "established_by", null, false),
      fl("profile.funding_source", "funding_source", null, false),
      fl("profile.children_expected", "children_expected", null, false)) : null);

  const text = (n) => (n.value.trim() === "" ? null : n.value.trim());
  const int = (n) => (n.value.trim() === "" ? null : (/^\d+$/.test(n.value.trim()) ? Number(n.value.trim()) : n.value.trim()));
  function read() {
    const errors = {};
    if (f.established_on.value.trim() && !f.established_on.isoValue) errors.established_on = t("profile.bad_date");
    let year = null;
    if (f.year_built.value.trim()) {
      const y = Number(f.year_built.value.trim());
      if (!/^\d{4}$/.test(f.year_built.value.trim()) || y < 2400) errors["buildings.year_built"] = t("profile.bad_year");
      else year = y - BE;
    }
    if (Object.keys(errors).length) return { errors };
    const profile = {
      address: { line: text(f.line), province_code: text(f.province_code), district_code: text(f.district_code),
        subdistrict_code: text(f.subdistrict_code), postcode: text(f.postcode) },
      established_on: f.established_on.isoValue || null,
      authorisation_ref: text(f.authorisation_ref),
      contact: { name: text(f.contact_name), position: text(f.position), phone: text(f.phone), email: text(f.email) },
      capacity: int(f.capacity),
    };
    if (cdc) profile.buildings = { count: int(f.count), condition: f.condition.value || null, year_built: year };
    const out = { profile };
    if (withSurvey) {
      out.survey = { established_by: text(f.established_by), funding_source: f.funding_source.value || null,
        children_expected: int(f.children_expected) };
    }
    return out;
  }
  return { node, read };
}

// the server's nested field errors {profile: {contact: {phone: [..]}}} -> {"contact.phone": text}
function flatErrors(errors, prefix = "", out = {}) {
  for (const [k, v] of Object.entries(errors || {})) {
    const key = ["profile", "survey"].includes(k) && !prefix ? (k === "survey" ? "survey" : "") : (prefix ? `${prefix}.${k}` : k);
    if (v && typeof v === "object" && !Array.isArray(v)) flatErrors(v, key, out);
    else out[key || k] = [].concat(v).map(fieldText).join(" ");
  }
  return out;
}

function showError(form, e) {
  if (e && e.code === "validation_error" && e.data && e.data.errors) {
    const flat = flatErrors(e.data.errors);
    if (formErrors(form, flat)) return;
  }
  if (e && e.code === "conflict" && e.data && e.data.version !== undefined) {
    notice(t("profile.version_conflict"), "error");
    return;
  }
  notice(errorText(e), "error");
}

// -- documents ---------------------------------------------------------------------------------

function fileProblem(file) {
  if (!file) return t("profile.doc.choose");
  if (!FILE_TYPES.includes(file.type) && !/\.(pdf|jpe?g|png)$/i.test(file.name)) return t("profile.doc.bad_type", { name: file.name });
  if (file.size > MAX_BYTES) return t("profile.doc.too_large", { name: file.name, size: (file.size / 1048576).toFixed(1) });
  return null;
}

function fileType(file) {
  if (FILE_TYPES.includes(file.type)) return file.type;
  if (/\.pdf$/i.test(file.name)) return "application/pdf";
  if (/\.png$/i.test(file.name)) return "image/png";
  return "image/jpeg";
}

async function sendFile(unitId, file, kind) {
  const q = new URLSearchParams({ filename: file.name, kind });
  return upload(`/org-units/${unitId}/documents?${q}`, file, { contentType: fileType(file) });
}

function fileInput(id) {
  return el("input", { type: "file", id, name: "file", accept: ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" });
}

async function openDocument(unitId, doc) {
  try {
    await download(`/org-units/${unitId}/documents/${doc.id}`, doc.filename, doc.content_type);
  } catch (e) {
    notice(errorText(e), "error");
  }
}

function documentsPanel(ctx, unit, docs, editable) {
  const columns = [
    { key: "filename", label: t("profile.doc.col.file"), render: (d) => data(d.filename) },
    { key: "kind", label: t("profile.doc.col.kind"), render: (d) => t(`profile.doc.kind.${d.kind}`) },
    { key: "size", label: t("profile.doc.col.size"), render: (d) => t("profile.doc.size", { n: num(Math.max(1, Math.round(d.size / 1024))) }) },
    { key: "at", label: t("profile.doc.col.at"), render: (d) => formatDateTime(d.created_at) },
    { key: "actions", label: t("profile.doc.col.actions"), render: (d) => el("div", { class: "row-actions" },
      button(t("profile.doc.open"), () => openDocument(unit.id, d), { attrs: { "aria-label": t("profile.doc.open_label", { name: d.filename }) } }),
      editable && ["pending", "rejected"].includes(unit.status) ? button(t("profile.doc.delete"), async () => {
        try {
          await api("DELETE", `/org-units/${unit.id}/documents/${d.id}`);
          notice(tx("profile.doc.deleted", { name: data(d.filename) }), "ok");
        } catch (e) { notice(errorText(e), "error"); }
        await ctx.refresh();
      }, { attrs: { "aria-label": t("profile.doc.delete_label", { name: d.filename }) } }) : null) },
  ];
  const section = el("section", { class: "panel", "aria-labelledby": "docs-h" },
    el("h2", { id: "docs-h" }, t("profile.documents")),
    dataTable({ columns, rows: docs, empty: t("profile.no_documents") }));
  if (editable && unit.status !== "closed") {
    const file = fileInput("doc-file");
    const kind = select("kind", ["establishment_order", "other"], "establishment_order", (o) => t(`profile.doc.kind.${o}`));
    kind.id = "doc-kind";
    const form = el("form", { class: "doc-add", novalidate: true },
      el("div", { class: "form-grid" },
        field({ label: t("profile.doc.file"), name: "file", input: file }),
        field({ label: t("profile.doc.kind"), name: "kind", input: kind })),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "button secondary" }, t("profile.doc.add"))));
    onSubmit(form, async () => {
      clearErrors(form);
      const chosen = file.files[0];
      const problem = fileProblem(chosen);
      if (problem) { formErrors(form, { file: problem }); return; }
      try {
        await sendFile(unit.id, chosen, kind.value || "establishment_order");
        notice(tx("profile.doc.added", { name: data(chosen.name) }), "ok");
      } catch (e) {
        formErrors(form, { file: errorText(e) });
        return;
      }
      await ctx.refresh();
    });
    section.append(form);
  }
  return section;
}

function printLinks(unitId) {
  const get = (fmt, accept, ext) => async () => {
    try { await download(`/org-units/${unitId}/survey-form?format=${fmt}`, `cdc-survey-${unitId}.${ext}`, accept); } catch (e) { notice(errorText(e), "error"); }
  };
  return el("div", { class: "actions row-actions print-links" },
    button(t("profile.print"), get("html", "text/html", "html"), { attrs: { "data-print": "html" } }),
    button(t("profile.print_csv"), get("csv", "text/csv", "csv"), { attrs: { "data-print": "csv" } }));
}

// -- the profile page ---------------------------------------------------------------------------

function reviewPanel(ctx, unit) {
  if (unit.status === "rejected") {
    const canResubmit = ctx.user.role === "lao" || ctx.user.role === "department";
    return el("section", { class: "panel notice-panel rejected", role: "status", "aria-labelledby": "review-h" },
      el("h2", { id: "review-h" }, badge("rejected")),
      el("p", { class: "rejection-reason" }, tx("profile.rejected", { reason: data(unit.rejection_reason) })),
      unit.rejected_at ? el("p", { class: "hint" }, t("profile.rejected_at", { when: formatDateTime(unit.rejected_at) })) : null,
      canResubmit ? button(t("profile.resubmit"), async () => {
        try {
          await api("POST", `/org-units/${unit.id}/resubmit`);
          notice(tx("profile.resubmitted", { name: data(unit.name) }), "ok");
        } catch (e) { notice(errorText(e), "error"); }
        await ctx.refresh();
      }, { kind: "primary", attrs: { id: "resubmit" } }) : null);
  }
  if (unit.status === "pending") return el("p", {}, badge("pending"), " ", t("profile.pending"));
  return null;
}

const profilePage = {
  id: "profile",
  title: "profile.title",
  levels: ["institution", "lao", "province", "department"],
  unitTypes: ["school", "cdc"],
  order: 15,
  async render(ctx) {
    const unit = ctx.unit;
    const role = ctx.user.role;
    // the institution itself and its LAO edit; a province or the department reads (and may edit)
    const editable = unit.status !== "closed" && ["institution", "lao", "province", "department"].includes(role);
    const docs = (await api("GET", `/org-units/${unit.id}/documents`, undefined, { signal: ctx.signal })).items || [];
    const root = el("div", { class: "page page-profile" });
    const review = reviewPanel(ctx, unit);
    if (review) root.append(review);
    const withSurvey = unit.type === "cdc" && !!unit.survey;
    const fields = profileFields(unit, { withSurvey });
    const form = el("form", { class: "panel", id: "profile-form", "aria-labelledby": "profile-h", novalidate: true },
      el("h2", { id: "profile-h" }, tx("profile.heading", { name: data(unit.name) })),
      fields.node,
      editable ? el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("profile.save")))
        : el("p", { class: "hint" }, t("profile.readonly")));
    if (!editable) form.querySelectorAll("input, select").forEach((n) => { n.disabled = true; });
    onSubmit(form, async () => {
      clearErrors(form);
      const read = fields.read();
      if (read.errors) { formErrors(form, read.errors); return; }
      const body = { profile: read.profile, version: unit.version };
      if (withSurvey && ["pending", "rejected"].includes(unit.status)) body.survey = read.survey;
      try {
        await api("PATCH", `/org-units/${unit.id}`, body);
      } catch (e) {
        showError(form, e);
        return;
      }
      notice(tx("profile.saved", { name: data(unit.name) }), "ok");
      await ctx.refresh();
    });
    root.append(form);
    if (unit.type === "cdc" || docs.length) root.append(documentsPanel(ctx, unit, docs, editable));
    if (unit.type === "cdc") root.append(el("section", { class: "panel" }, printLinks(unit.id)));
    return root;
  },
};

// -- the surveys page -------------------------------------------------------------------------------

async function listByStatus(ctx, status) {
  const q = new URLSearchParams({ status, type: "cdc", limit: "200" });
  return api("GET", `/org-units/${ctx.unit.id}/descendants?${q}`, undefined, { signal: ctx.signal });
}

async function verify(ctx, unit) {
  const ok = await confirmDialog({ title: tx("surveys.verify_title", { name: data(unit.name) }),
    body: el("p", {}, tx("surveys.verify_body", { name: data(unit.name) })), confirmLabel: t("surveys.verify") });
  if (!ok) return;
  try {
    await api("POST", `/org-units/${unit.id}/verify`);
    notice(tx("surveys.verified", { name: data(unit.name) }), "ok");
  } catch (e) { notice(errorText(e), "error"); }
  await ctx.refresh();
}

async function reject(ctx, unit) {
  const reason = el("textarea", { name: "reason", id: `reason-${unit.id}`, rows: "3", maxlength: "1000" });
  const body = el("div", {}, el("p", {}, t("surveys.reject_body")),
    field({ label: t("surveys.reason"), name: "reason", input: reason }));
  const ok = await confirmDialog({ title: tx("surveys.reject_title", { name: data(unit.name) }), body,
    confirmLabel: t("surveys.reject"), danger: true });
  if (!ok) return;
  if (reason.value.trim().length < 3) { notice(t("surveys.reason_required"), "error"); return; }
  try {
    await api("POST", `/org-units/${unit.id}/reject`, { reason: reason.value.trim() });
    notice(tx("surveys.rejected", { name: data(unit.name) }), "ok");
  } catch (e) { notice(errorText(e), "error"); }
  await ctx.refresh();
}

function docsCell(unit, docs) {
  if (!docs.length) return el("span", { class: "hint" }, t("profile.no_documents"));
  return el("div", {}, docs.map((d) => el("div", {}, el("a", { href: "#", class: "doc-link", translate: "no", onclick: (e) => { e.preventDefault(); openDocument(unit.id, d); } }, d.filename))));
}

function newSurveyForm(ctx) {
  const blank = { type: "cdc", profile: {}, survey: {} };
  const code = el("input", { type: "text", id: "s-code", autocomplete: "off", maxlength: "32" });
  const name = el("input", { type: "text", id: "s-name", autocomplete: "off", maxlength: "255" });
  const fields = profileFields(blank, { withSurvey: true, idPrefix: "s" });
  const file = fileInput("s-file");
  const form = el("form", { class: "panel", id: "survey-form", "aria-labelledby": "survey-new-h", novalidate: true },
    el("h2", { id: "survey-new-h" }, t("surveys.new")),
    el("p", { class: "hint" }, t("surveys.new_intro")),
    el("div", { class: "form-grid" },
      field({ label: t("surveys.code"), name: "code", input: code, hint: t("units.code_hint") }),
      field({ label: t("surveys.name"), name: "name", input: name })),
    fields.node,
    field({ label: t("profile.doc.file"), name: "file", input: file }),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("surveys.submit"))));
  onSubmit(form, async () => {
    clearErrors(form);
    const problems = {};
    if (!code.value.trim()) problems.code = t("surveys.required", { field: t("surveys.code") });
    if (!name.value.trim()) problems.name = t("surveys.required", { field: t("surveys.name") });
    const chosen = file.files[0];
    const fileIssue = fileProblem(chosen);
    if (fileIssue) problems.file = fileIssue;
    const read = fields.read();
    if (read.errors) Object.assign(problems, read.errors);
    if (Object.keys(problems).length) { formErrors(form, problems); return; }
    const clean = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => [k, v && typeof v === "object" ? clean(v) : v]).filter(([, v]) => !(v && typeof v === "object" && !Object.keys(v).length)));
    let created;
    try {
      created = await api("POST", "/org-units", { code: code.value.trim(), name: name.value.trim(), type: "cdc",
        parent_id: ctx.unit.id, profile: clean(read.profile), survey: clean(read.survey) });
    } catch (e) {
      showError(form, e);
      return;
    }
    try {
      await sendFile(created.id, chosen, "establishment_order");
      notice(tx("surveys.submitted", { name: data(created.name) }), "ok");
    } catch (e) {
      notice(t("surveys.upload_failed", { error: errorText(e) }), "error");
    }
    await ctx.refresh();
  });
  return form;
}

const surveysPage = {
  id: "surveys",
  title: "surveys.title",
  levels: OVERSIGHT,
  unitTypes: ["lao", "province", "department"],
  order: 42,
  async render(ctx) {
    const role = ctx.user.role;
    const reviewer = role === "province" || role === "department";
    const [pending, rejected] = await Promise.all([listByStatus(ctx, "pending"), listByStatus(ctx, "rejected")]);
    const rows = [...(pending.items || []), ...(rejected.items || [])];
    const docs = new Map(await Promise.all(rows.map(async (u) => [u.id,
      (await api("GET", `/org-units/${u.id}/documents`, undefined, { signal: ctx.signal })).items || []])));
    const columns = [
      { key: "name", label: t("surveys.col.name"), render: (u) => el("a", { href: `#/u/${u.id}/profile`, translate: "no" }, u.name) },
      { key: "status", label: t("surveys.col.status"), render: (u) => el("div", {}, badge(u.status),
        u.status === "rejected" ? el("div", { class: "rejection-reason" }, data(u.rejection_reason)) : null) },
      { key: "documents", label: t("surveys.col.documents"), render: (u) => docsCell(u, docs.get(u.id) || []) },
      { key: "actions", label: t("surveys.col.actions"), render: (u) => {
        const actions = [el("a", { href: `#/u/${u.id}/profile`, class: "button secondary" }, t("surveys.open"))];
        if (reviewer && u.status === "pending") {
          actions.push(button(t("surveys.verify"), () => verify(ctx, u), { kind: "primary", attrs: { "aria-label": t("surveys.verify_label", { name: u.name }) } }));
          actions.push(button(t("surveys.reject"), () => reject(ctx, u), { kind: "danger", attrs: { "aria-label": t("surveys.reject_label", { name: u.name }) } }));
        }
        if (!reviewer && u.status === "rejected") {
          actions.push(button(t("profile.resubmit"), async () => {
            try {
              await api("POST", `/org-units/${u.id}/resubmit`);
              notice(tx("profile.resubmitted", { name: data(u.name) }), "ok");
            } catch (e) { notice(errorText(e), "error"); }
            await ctx.refresh();
          }, { attrs: { "aria-label": `${t("profile.resubmit")}: ${u.name}` } }));
        }
        return el("div", { class: "row-actions" }, actions);
      } },
    ];
    const root = el("div", { class: "page page-surveys" });
    root.append(el("section", { class: "panel", "aria-labelledby": "surveys-h" },
      el("h2", { id: "surveys-h" }, tx(ctx.unit.type === "lao" ? "surveys.heading_lao" : "surveys.heading_review", { name: data(ctx.unit.name) })),
      el("p", { class: "count" }, t("surveys.count", { pending: num(pending.total), rejected: num(rejected.total) })),
      dataTable({ columns, rows, empty: t("surveys.empty") }),
      printLinks(ctx.unit.id)));
    if (ctx.unit.type === "lao" && (role === "lao" || role === "department" || role === "province") && ctx.unit.status !== "closed") {
      root.append(newSurveyForm(ctx));
    }
    return root;
  },
};

export default [profilePage, surveysPage];
