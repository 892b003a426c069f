// Bringing learners in: a CSV/XLSX file with a real progress bar, templates, a file
// of the rejected rows; and the carry-over of round 1 into round 2 with a preview.
import { register, t, num } from "../core/i18n.js";
import { api, download, errorText, saveBlob, upload } from "../core/api.js";
import {
  button, confirmDialog, dataTable, el, field, loading, notice, progressBar,
} from "../core/ui.js";
import { editState, withRound, figures, fullName, gradeCell, rejectionText, stateBanner } from "./institution.js";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

register({
  th: {
    "import.title": "นำเข้าข้อมูล",
    "import.heading": "นำเข้าผู้เรียนจากไฟล์",
    "import.intro": "นำเข้ารายชื่อผู้เรียนหลายคนพร้อมกันจากไฟล์ CSV หรือ Excel แถวที่ถูกต้องจะถูกบันทึก แถวที่ไม่ถูกต้องจะแจ้งเหตุผลให้แก้ไขแล้วนำเข้าใหม่ การนำเข้าไฟล์เดิมซ้ำจะไม่เพิ่มรายชื่อซ้ำ",
    "import.template": "แบบฟอร์มไฟล์นำเข้า",
    "import.template_hint": "หัวคอลัมน์ภาษาไทย: เลขประจำตัวประชาชน หรือ รหัส G, คำนำหน้า, ชื่อ, นามสกุล, เพศ (ชาย/หญิง), วันเกิด (วว/ดด/ปปปป พ.ศ.), ชั้น (เช่น ป.1), สัญชาติ",
    "import.template_csv": "ดาวน์โหลดแบบฟอร์ม CSV",
    "import.template_xlsx": "ดาวน์โหลดแบบฟอร์ม Excel",
    "import.file": "ไฟล์รายชื่อผู้เรียน",
    "import.file_panel": "เลือกไฟล์และนำเข้า",
    "import.file_hint": "ไฟล์ CSV หรือ Excel ที่มีหัวคอลัมน์ตามแบบฟอร์ม",
    "import.start": "นำเข้าไฟล์",
    "import.no_file": "เลือกไฟล์ที่จะนำเข้า",
    "import.wrong_type": "เลือกไฟล์ CSV หรือ Excel",
    "import.uploading": "กำลังส่งไฟล์ {percent}%",
    "import.processing": "กำลังตรวจสอบและบันทึกข้อมูล…",
    "import.done": "นำเข้าเสร็จแล้ว",
    "import.result": "ผลการนำเข้าไฟล์",
    "import.rows": "แถวข้อมูล",
    "import.accepted": "บันทึกใหม่",
    "import.unchanged": "มีอยู่แล้ว (ไม่เปลี่ยนแปลง)",
    "import.rejected": "ไม่รับ",
    "import.rejected_heading": "แถวที่ไม่รับ ({n} แถว)",
    "import.rejected_more": "แสดง {shown} แถวแรกจาก {total} แถว",
    "import.col.row": "แถวที่",
    "import.row_n": "แถวที่ {n}",
    "import.col.reason": "เหตุผล",
    "import.rejected_file": "ดาวน์โหลดแถวที่ไม่รับ (CSV)",
    "import.rejected_file_hint": "ไฟล์นี้มีข้อมูลเดิมของแถวที่ไม่รับพร้อมเหตุผล แก้ไขข้อมูลในไฟล์แล้วนำเข้าไฟล์นี้ได้อีกครั้ง (ระบบจะข้ามคอลัมน์แถวที่ เหตุผล และรหัสข้อผิดพลาด)",
    "import.rejected_file_hint_xlsx": "ไฟล์นี้มีเลขแถวของไฟล์เดิมพร้อมเหตุผล แก้ไขแถวเหล่านั้นในไฟล์เดิมแล้วนำเข้าอีกครั้ง รายชื่อที่บันทึกแล้วจะไม่ถูกเพิ่มซ้ำ",
    "import.csv.row": "แถวที่",
    "import.csv.reason": "เหตุผลที่ไม่รับ",
    "import.csv.code": "รหัสข้อผิดพลาด",
    "import.failed": "นำเข้าไม่สำเร็จ: {message}",
    "import.partial": "นำเข้าได้บางส่วนก่อนเกิดข้อผิดพลาด: {message} การนำเข้าไฟล์เดิมอีกครั้งจะเพิ่มเฉพาะรายชื่อที่ยังขาด",
    "import.carry.heading": "ยกยอดผู้เรียนจากรอบที่ 1",
    "import.carry.intro": "คัดลอกผู้เรียนปัจจุบันของรอบที่ 1 ในปีการศึกษาเดียวกันมาเป็นรายชื่อของรอบนี้ (ชั้นเดิม) ผู้ที่จำหน่ายออกแล้วจะไม่ถูกคัดลอก ดูตัวอย่างก่อนว่าจะคัดลอกใครและข้ามใคร",
    "import.carry.only_round2": "การยกยอดใช้ได้ในรอบที่ 2 เท่านั้น (คัดลอกจากรอบที่ 1 ของปีการศึกษาเดียวกัน)",
    "import.carry.preview": "ดูตัวอย่างการยกยอด",
    "import.carry.preview_heading": "ตัวอย่าง: สิ่งที่จะเกิดขึ้นเมื่อยกยอด",
    "import.carry.will_copy": "จะคัดลอก",
    "import.carry.unchanged": "มีในรอบนี้แล้ว",
    "import.carry.skipped": "จะข้าม",
    "import.carry.copy_list": "ผู้เรียนที่จะคัดลอก ({n} คน)",
    "import.carry.skip_list": "ผู้เรียนที่จะข้าม ({n} คน)",
    "import.carry.col.name": "ชื่อ–นามสกุล",
    "import.carry.col.grade": "ชั้น",
    "import.carry.col.reason": "เหตุผลที่ข้าม",
    "import.carry.nothing": "ไม่มีผู้เรียนที่ต้องคัดลอก",
    "import.carry.do": "ยกยอด {n} คน",
    "import.carry.confirm_title": "ยืนยันการยกยอดผู้เรียน",
    "import.carry.confirm_body": "คัดลอกผู้เรียน {n} คนจากรอบที่ 1 มาเป็นรายชื่อของรอบนี้ ข้าม {skipped} คน ตรวจสอบรายชื่อได้ในหน้าผู้เรียนหลังยกยอด",
    "import.carry.done": "ยกยอดแล้ว: คัดลอก {copied} คน มีอยู่แล้ว {unchanged} คน ข้าม {skipped} คน",
    "import.carry.changed": "ข้อมูลเปลี่ยนไปหลังดูตัวอย่าง: คัดลอกจริง {copied} คน",
  },
  en: {
    "import.title": "Import",
    "import.heading": "Import learners from a file",
    "import.intro": "Import many learners at once from a CSV or Excel file. Valid rows are saved; each invalid row is reported with its reason, to correct and import again. Importing the same file twice adds nobody twice.",
    "import.template": "Import template",
    "import.template_hint": "Thai column titles: national ID or G-Code, prefix, first name, last name, sex (ชาย/หญิง), birth date (dd/mm/yyyy, Buddhist era), grade (e.g. ป.1), nationality",
    "import.template_csv": "Download the CSV template",
    "import.template_xlsx": "Download the Excel template",
    "import.file": "File of learners",
    "import.file_panel": "Choose a file and import it",
    "import.file_hint": "A CSV or Excel (.xlsx) file with the column titles of the template",
    "import.start": "Import the file",
    "import.no_file": "Choose a file to import",
    "import.wrong_type": "Choose a .csv or .xlsx file",
    "import.uploading": "Sending the file: {percent}%",
    "import.processing": "Checking and saving the rows…",
    "import.done": "The import is finished",
    "import.result": "Result of importing",
    "import.rows": "Data rows",
    "import.accepted": "Added",
    "import.unchanged": "Already recorded (unchanged)",
    "import.rejected": "Rejected",
    "import.rejected_heading": "Rejected rows ({n})",
    "import.rejected_more": "The first {shown} of {total} rows are shown",
    "import.col.row": "Row",
    "import.row_n": "Row {n}",
    "import.col.reason": "Reason",
    "import.rejected_file": "Download the rejected rows (CSV)",
    "import.rejected_file_hint": "This file holds the rejected rows as they were, with their reasons. Correct them and import this file again (the row, reason and error code columns are ignored).",
    "import.rejected_file_hint_xlsx": "This file lists the rejected rows of your file with their reasons. Correct those rows in your file and import it again; learners already recorded are not added twice.",
    "import.csv.row": "row",
    "import.csv.reason": "reason rejected",
    "import.csv.code": "error code",
    "import.failed": "The import failed: {message}",
    "import.partial": "Part of the file was imported before an error: {message} Importing the same file again adds only what is missing.",
    "import.carry.heading": "Carry learners over from round 1",
    "import.carry.intro": "Copy the current learners of round 1 of the same academic year into this round (same grades); removed learners are not copied. Preview first who will be copied and who skipped.",
    "import.carry.only_round2": "Carry-over is for round 2 only (it copies round 1 of the same academic year)",
    "import.carry.preview": "Preview the carry-over",
    "import.carry.preview_heading": "Preview: what the carry-over will do",
    "import.carry.will_copy": "Will be copied",
    "import.carry.unchanged": "Already in this round",
    "import.carry.skipped": "Will be skipped",
    "import.carry.copy_list": "Learners to copy ({n})",
    "import.carry.skip_list": "Learners to skip ({n})",
    "import.carry.col.name": "Name",
    "import.carry.col.grade": "Grade",
    "import.carry.col.reason": "Reason skipped",
    "import.carry.nothing": "There is nobody to copy",
    "import.carry.do": "Carry over {n} learners",
    "import.carry.confirm_title": "Confirm the carry-over",
    "import.carry.confirm_body": "{n} learners of round 1 will be copied into this round and {skipped} skipped. Check the list on the Learners page afterwards.",
    "import.carry.done": "Carried over: {copied} copied, {unchanged} already here, {skipped} skipped",
    "import.carry.changed": "The data changed after the preview: {copied} were actually copied",
  },
});

// -- CSV in the browser -----------------------------------------------------------------------

// rows of a CSV text (RFC 4180 quoting), for the rejected-rows file
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") { cell += "\""; i += 1; } else if (c === "\"") quoted = false; else cell += c;
    } else if (c === "\"") quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`; // never a formula in a spreadsheet
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text;
}

// the rejected rows with their reasons; the file's own cells beside them when it was a CSV
export function rejectedCsv(rejected, reasons, sourceRows) {
  const header = sourceRows && sourceRows.length ? sourceRows[0] : [];
  const lines = [[t("import.csv.row"), ...header, t("import.csv.reason"), t("import.csv.code")]];
  rejected.forEach((r, i) => {
    const cells = sourceRows && sourceRows[r.row - 1] ? sourceRows[r.row - 1] : [];
    const padded = header.length ? header.map((_, k) => cells[k] ?? "") : [];
    lines.push([r.row, ...padded, reasons[i], r.code]);
  });
  return `\ufeff${lines.map((l) => l.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

// a table whose cells hold sentences: on a phone they read left to right under their label
function textCells(node) {
  node.classList.add("text-cells");
  return node;
}

// -- the page ---------------------------------------------------------------------------------

async function render(ctx) {
  const root = el("section", { class: "page import" });
  const state = await editState(ctx);
  root.append(el("h2", {}, t("import.heading")), el("p", { class: "lead" }, t("import.intro")), stateBanner(state));
  root.append(templates(ctx));
  if (state.canEdit) root.append(importForm(ctx));
  root.append(carryOver(ctx, state));
  return root;
}

function templates(ctx) {
  const fail = (e) => notice(errorText(e), "error");
  return el("section", { class: "panel", "aria-labelledby": "import-template" },
    el("h3", { id: "import-template" }, t("import.template")),
    el("p", { class: "hint" }, t("import.template_hint")),
    el("div", { class: "toolbar" },
      button(t("import.template_csv"), () => download("/learners/import-template?format=csv", "learners-template.csv", "text/csv",
        { signal: ctx.signal }).catch(fail)),
      button(t("import.template_xlsx"), () => download("/learners/import-template?format=xlsx", "learners-template.xlsx", XLSX,
        { signal: ctx.signal }).catch(fail))));
}

function importForm(ctx) {
  const input = el("input", { type: "file", name: "file", accept: ".csv,.xlsx,text/csv," + XLSX });
  const fileField = field({ label: t("import.file"), name: "file", input, hint: t("import.file_hint") });
  const submit = el("button", { type: "submit", class: "button primary" }, t("import.start"));
  const progressBox = el("div", { class: "import-progress", "aria-live": "polite" });
  const result = el("div", { class: "import-result" });
  const form = el("form", { class: "panel", novalidate: true, "aria-labelledby": "import-file-title" },
    el("h3", { id: "import-file-title" }, t("import.file_panel")), fileField, el("div", { class: "actions" }, submit), progressBox);
  const fieldError = (message) => {
    const err = fileField.querySelector(".field-error");
    fileField.classList.toggle("has-error", !!message);
    err.textContent = message || "";
    err.hidden = !message;
    if (message) { input.setAttribute("aria-invalid", "true"); input.focus(); } else input.removeAttribute("aria-invalid");
  };
  let running = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (running) return;
    const file = input.files && input.files[0];
    if (!file) { fieldError(t("import.no_file")); return; }
    if (!/\.(csv|xlsx|txt)$/i.test(file.name)) { fieldError(t("import.wrong_type")); return; }
    fieldError(null);
    running = true;
    submit.disabled = true;
    input.disabled = true;
    submit.setAttribute("aria-busy", "true");
    result.replaceChildren();
    const bar = progressBar(t("import.uploading", { percent: 0 }));
    progressBox.replaceChildren(bar.node);
    try {
      const answer = await upload(`/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners/import`, file, {
        signal: ctx.signal,
        onProgress: (fraction, phase) => {
          if (phase === "processing") bar.set(null, t("import.processing"));
          else bar.set(fraction, t("import.uploading", { percent: Math.round(fraction * 100) }));
        },
      });
      bar.set(1, t("import.done"));
      result.replaceChildren(await resultView(ctx, file, answer));
    } catch (err) {
      if (err.name === "AbortError") return;
      progressBox.replaceChildren();
      const data = err.data || {};
      if (data.rows) {
        result.replaceChildren(el("div", { class: "notice error", role: "alert" }, el("p", {}, t("import.partial", { message: errorText(err) }))),
          await resultView(ctx, file, { accepted: 0, unchanged: 0, rejected: [], ...data }));
      } else {
        const message = err.code === "validation_error" && err.fields && (err.fields.columns || err.fields.file)
          ? t("inst.err.columns") : err.code === "invalid_file" ? t("inst.err.file") : errorText(err);
        fieldError(t("import.failed", { message }));
      }
    } finally {
      running = false;
      if (submit.isConnected) {
        submit.disabled = false;
        input.disabled = false;
        submit.removeAttribute("aria-busy");
      }
    }
  });
  return el("div", {}, form, result);
}

async function resultView(ctx, file, answer) {
  const rejected = answer.rejected || [];
  const total = answer.rejected_total ?? rejected.length;
  const reasons = await Promise.all(rejected.map((r) => rejectionText(r, ctx)));
  const box = el("section", { class: "panel result", "aria-labelledby": "import-result-title", tabindex: "-1" },
    el("h3", { id: "import-result-title" }, t("import.result"), " ", el("span", { translate: "no" }, file.name)),
    figures([[t("import.rows"), answer.rows ?? 0], [t("import.accepted"), answer.accepted ?? 0],
      [t("import.unchanged"), answer.unchanged ?? 0], [t("import.rejected"), total]]));
  if (rejected.length) {
    let sourceRows = null;
    if (/\.(csv|txt)$/i.test(file.name)) {
      try { sourceRows = parseCsv((await file.text()).replace(/^\ufeff/, "")); } catch (e) { sourceRows = null; }
    }
    box.append(
      el("h4", {}, t("import.rejected_heading", { n: num(total) })),
      total > rejected.length ? el("p", { class: "hint" }, t("import.rejected_more", { shown: num(rejected.length), total: num(total) }))
        : document.createDocumentFragment(),
      el("div", { class: "toolbar" },
        button(t("import.rejected_file"), () => {
          const text = rejectedCsv(rejected, reasons, sourceRows);
          saveBlob(new Blob([text], { type: "text/csv;charset=utf-8" }), `${file.name.replace(/\.[^.]+$/, "")}-rejected.csv`);
        }, { kind: "primary" })),
      el("p", { class: "hint" }, t(sourceRows ? "import.rejected_file_hint" : "import.rejected_file_hint_xlsx")),
      textCells(dataTable({
        columns: [
          { key: "row", label: t("import.col.row"), render: (r) => t("import.row_n", { n: num(r.row) }) },
          { key: "reason", label: t("import.col.reason"), render: (r) => r.reason },
        ],
        rows: rejected.map((r, i) => ({ row: r.row, reason: reasons[i] })),
      })));
  }
  notice(t("import.done"), rejected.length ? "info" : "ok");
  setTimeout(() => box.focus(), 0);
  return box;
}

// -- carry-over -------------------------------------------------------------------------------

function carryOver(ctx, state) {
  const box = el("section", { class: "panel", "aria-labelledby": "carry-title" },
    el("h3", { id: "carry-title" }, t("import.carry.heading")));
  if (Number(ctx.round.number) !== 2) {
    box.append(el("p", { class: "hint" }, t("import.carry.only_round2")));
    return box;
  }
  box.append(el("p", {}, t("import.carry.intro")));
  if (!state.canEdit) return box;
  const out = el("div", { class: "carry-preview", "aria-live": "polite" });
  const url = `/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners/carry-over`;
  box.append(el("div", { class: "toolbar" }, button(t("import.carry.preview"), async () => {
    out.replaceChildren(loading());
    try {
      const preview = await api("POST", `${url}?dry_run=true`, null, { signal: ctx.signal });
      out.replaceChildren(await previewView(ctx, url, preview));
    } catch (e) {
      if (e.name === "AbortError") return;
      out.replaceChildren(el("div", { class: "notice error", role: "alert" }, el("p", {}, errorText(e))));
    }
  })), out);
  return box;
}

async function previewView(ctx, url, preview) {
  const skipped = preview.skipped || [];
  const reasons = await Promise.all(skipped.map((s) => rejectionText(s, ctx)));
  const nameCol = { key: "name", label: t("import.carry.col.name"), render: (l) => fullName(l) };
  const gradeCol = { key: "grade", label: t("import.carry.col.grade"), render: (l) => gradeCell(l.grade) };
  const box = el("div", { class: "preview" },
    el("h4", {}, t("import.carry.preview_heading")),
    figures([[t("import.carry.will_copy"), preview.copied], [t("import.carry.unchanged"), preview.unchanged],
      [t("import.carry.skipped"), skipped.length]]));
  if (preview.learners && preview.learners.length) {
    box.append(el("details", { class: "carry-list", open: preview.learners.length <= 20 },
      el("summary", {}, t("import.carry.copy_list", { n: num(preview.learners.length) })),
      dataTable({ columns: [nameCol, gradeCol], rows: preview.learners })));
  }
  if (skipped.length) {
    box.append(el("h5", {}, t("import.carry.skip_list", { n: num(skipped.length) })),
      textCells(dataTable({ columns: [nameCol, gradeCol, { key: "reason", label: t("import.carry.col.reason"), render: (s) => s.reason }],
        rows: skipped.map((s, i) => ({ ...s, reason: reasons[i] })) })));
  }
  if (!preview.copied) {
    box.append(el("p", { class: "hint" }, t("import.carry.nothing")));
    return box;
  }
  box.append(el("div", { class: "actions" }, button(t("import.carry.do", { n: num(preview.copied) }), async () => {
    const ok = await confirmDialog({
      title: t("import.carry.confirm_title"),
      body: t("import.carry.confirm_body", { n: num(preview.copied), skipped: num(skipped.length) }),
      confirmLabel: t("import.carry.do", { n: num(preview.copied) }),
    });
    if (!ok) return;
    let done;
    try {
      done = await api("POST", url, null, { signal: ctx.signal });
    } catch (e) {
      if (e.name !== "AbortError") notice(errorText(e), "error");
      return;
    }
    await ctx.refresh();
    const message = t("import.carry.done", { copied: num(done.copied), unchanged: num(done.unchanged), skipped: num((done.skipped || []).length) });
    notice(done.copied !== preview.copied ? `${message} — ${t("import.carry.changed", { copied: num(done.copied) })}` : message, "ok");
  }, { kind: "primary" })));
  return box;
}

export default {
  id: "import",
  title: "import.title",
  levels: ["institution"],
  unitTypes: ["school", "cdc"],
  order: 12,
  render: withRound(render),
};
