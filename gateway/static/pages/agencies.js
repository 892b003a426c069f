// Agencies that pull (department users): the agency clients that read the confirmed counts
// through the API with client credentials. Create one (its secret shown this once, with a
// copy button and a warning), rotate its secret (the old one and its tokens end at once),
// disable it. The feed itself is GET /api/v1/rounds/{rid}/confirmed-counts.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { register, t } from "../core/i18n.js";
import {
  badge, button, clearErrors, confirmDialog, dataTable, el, field, formErrors, notice, onSubmit, openDialog,
} from "../core/ui.js";
import { data, tx } from "./oversight.js";

register({
  th: {
    "agencies.title": "หน่วยงานภายนอก",
    "agencies.heading": "หน่วยงานภายนอกที่ดึงข้อมูลจำนวนที่ยืนยันแล้ว",
    "agencies.intro": "หน่วยงานภายนอกเข้าถึงได้เฉพาะรายการรอบสำรวจและจำนวนผู้เรียนที่ยืนยันแล้วของแต่ละหน่วยงาน (ไม่มีข้อมูลส่วนบุคคล) โดยใช้รหัสลูกค้าและรหัสลับ",
    "agencies.col.name": "หน่วยงาน",
    "agencies.col.client": "รหัสลูกค้า",
    "agencies.col.state": "สถานะ",
    "agencies.col.created": "สร้างเมื่อ",
    "agencies.col.used": "ขอโทเค็นล่าสุด",
    "agencies.col.actions": "การดำเนินการ",
    "agencies.never": "ยังไม่เคยใช้",
    "agencies.empty": "ยังไม่มีหน่วยงานภายนอก",
    "agencies.add": "เพิ่มหน่วยงานภายนอก",
    "agencies.name": "ชื่อหน่วยงาน",
    "agencies.description": "รายละเอียด",
    "agencies.description_hint": "เช่น ใช้ข้อมูลเพื่อจัดสรรงบประมาณอาหารกลางวัน",
    "agencies.create": "สร้างรหัสเข้าถึง",
    "agencies.required": "กรุณากรอกชื่อหน่วยงาน",
    "agencies.created": "สร้างรหัสเข้าถึงของ {name} แล้ว",
    "agencies.rotate": "ออกรหัสลับใหม่",
    "agencies.rotate_label": "ออกรหัสลับใหม่ของ {name}",
    "agencies.rotate_title": "ออกรหัสลับใหม่",
    "agencies.rotate_body": "รหัสลับเดิมของ {name} และโทเค็นที่ออกด้วยรหัสนั้นจะใช้ไม่ได้ทันที หน่วยงานต้องใช้รหัสลับใหม่",
    "agencies.rotated": "ออกรหัสลับใหม่ของ {name} แล้ว",
    "agencies.disable": "ระงับการเข้าถึง",
    "agencies.disable_label": "ระงับการเข้าถึงของ {name}",
    "agencies.disable_title": "ระงับการเข้าถึง",
    "agencies.disable_body": "{name} จะขอโทเค็นไม่ได้อีก และโทเค็นที่มีอยู่จะใช้ไม่ได้ทันที การระงับยกเลิกไม่ได้ (สร้างรหัสเข้าถึงใหม่แทน)",
    "agencies.disabled": "ระงับการเข้าถึงของ {name} แล้ว",
    "agencies.secret_title": "รหัสลับของ {name}",
    "agencies.secret_warning": "แสดงรหัสลับนี้ครั้งเดียวเท่านั้น คัดลอกและส่งให้หน่วยงานทางช่องทางที่ปลอดภัย ระบบไม่เก็บรหัสลับไว้ในรูปที่อ่านได้ หากหายต้องออกรหัสลับใหม่",
    "agencies.client_id": "รหัสลูกค้า",
    "agencies.client_secret": "รหัสลับ",
    "agencies.copy": "คัดลอกรหัสลับ",
    "agencies.copied": "คัดลอกรหัสลับแล้ว",
    "agencies.copy_failed": "คัดลอกไม่สำเร็จ กรุณาเลือกข้อความแล้วคัดลอกเอง",
    "agencies.done": "บันทึกรหัสลับแล้ว",
  },
  en: {
    "agencies.title": "Agencies",
    "agencies.heading": "Agencies that pull the confirmed counts",
    "agencies.intro": "An agency reads only the census rounds and each unit's confirmed learner counts (no personal data), with a client ID (client_id) and a secret (client_secret).",
    "agencies.col.name": "Agency",
    "agencies.col.client": "Client ID (client_id)",
    "agencies.col.state": "State",
    "agencies.col.created": "Created",
    "agencies.col.used": "Last token",
    "agencies.col.actions": "Actions",
    "agencies.never": "Never used",
    "agencies.empty": "No agency yet",
    "agencies.add": "Add an agency",
    "agencies.name": "Agency name",
    "agencies.description": "Description",
    "agencies.description_hint": "e.g. uses the counts to allocate the lunch budget",
    "agencies.create": "Create credentials",
    "agencies.required": "Enter the agency's name",
    "agencies.created": "The credentials of {name} are created",
    "agencies.rotate": "New secret",
    "agencies.rotate_label": "A new secret for {name}",
    "agencies.rotate_title": "Issue a new secret",
    "agencies.rotate_body": "The current secret of {name} and every token issued with it stop working at once; the agency must use the new secret.",
    "agencies.rotated": "{name} has a new secret",
    "agencies.disable": "Disable",
    "agencies.disable_label": "Disable {name}",
    "agencies.disable_title": "Disable the agency",
    "agencies.disable_body": "{name} can no longer get a token, and its tokens stop working at once. This cannot be undone (create new credentials instead).",
    "agencies.disabled": "{name} is disabled",
    "agencies.secret_title": "The secret of {name}",
    "agencies.secret_warning": "This secret is shown this once only. Copy it and give it to the agency over a safe channel: the system keeps no readable copy. If it is lost, issue a new secret.",
    "agencies.client_id": "Client ID (client_id)",
    "agencies.client_secret": "Secret (client_secret)",
    "agencies.copy": "Copy the secret",
    "agencies.copied": "The secret is copied",
    "agencies.copy_failed": "Could not copy: select the text and copy it yourself",
    "agencies.done": "I have stored the secret",
  },
});

async function copy(input, status) {
  input.focus();
  input.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  if (!ok && navigator.clipboard && window.isSecureContext) {
    // the clipboard API may wait on a permission prompt: give up after a moment
    const timeout = new Promise((resolve) => { setTimeout(() => resolve(false), 1500); });
    ok = await Promise.race([navigator.clipboard.writeText(input.value).then(() => true, () => false), timeout]);
  }
  status.textContent = t(ok ? "agencies.copied" : "agencies.copy_failed");
}

// the secret, shown once: a read-only field, a copy button and the warning
function showSecret(agency) {
  const idInput = el("input", { type: "text", readonly: true, value: agency.client_id, id: "agency-client-id", translate: "no" });
  const secretInput = el("input", { type: "text", readonly: true, value: agency.client_secret, id: "agency-secret",
    translate: "no", autocomplete: "off", spellcheck: "false" });
  const status = el("p", { class: "hint copy-status", role: "status", "aria-live": "polite" });
  const body = el("div", { class: "agency-secret" },
    el("p", { class: "notice warn", role: "note" }, t("agencies.secret_warning")),
    field({ label: t("agencies.client_id"), name: "client_id", input: idInput }),
    field({ label: t("agencies.client_secret"), name: "client_secret", input: secretInput }),
    status);
  const copyButton = button(t("agencies.copy"), () => copy(secretInput, status), { kind: "secondary", attrs: { id: "agency-copy" } });
  const done = button(t("agencies.done"), () => d.close(true), { kind: "primary", attrs: { id: "agency-secret-done" } });
  const d = openDialog({ title: t("agencies.secret_title", { name: agency.name }), body, actions: [copyButton, done],
    className: "agency-secret-dialog", onCancel: () => d.close(true) });
  secretInput.focus();
  secretInput.select();
  return d.result;
}

export default {
  id: "agencies",
  title: "agencies.title",
  levels: ["department"],
  unitTypes: ["department"],
  order: 92,
  async render(ctx) {
    const root = el("div", { class: "page page-agencies" });
    const list = await api("GET", "/agencies?limit=1000", undefined, { signal: ctx.signal });
    const rows = list.items || [];

    const act = async (agency, kind) => {
      const name = agency.name;
      const ok = await confirmDialog({
        title: t(`agencies.${kind}_title`), body: t(`agencies.${kind}_body`, { name }),
        confirmLabel: t(`agencies.${kind}`), danger: kind === "disable" });
      if (!ok) return;
      try {
        const saved = await api("POST", `/agencies/${agency.id}/${kind}`);
        if (kind === "rotate") await showSecret(saved);
        await ctx.refresh();
        notice(tx(kind === "rotate" ? "agencies.rotated" : "agencies.disabled", { name: data(name) }), "ok");
      } catch (e) {
        notice(errorText(e), "error");
      }
    };

    root.append(el("section", { class: "panel", "aria-labelledby": "agencies-h" },
      el("h2", { id: "agencies-h" }, t("agencies.heading")),
      el("p", { class: "hint" }, t("agencies.intro")),
      dataTable({ rows, empty: t("agencies.empty"),
        rowAttrs: (a) => ({ "data-agency": String(a.id) }), columns: [
          { key: "name", label: t("agencies.col.name"), render: (a) => el("span", {}, data(a.name),
            a.description ? el("span", { class: "hint" }, " · ", data(a.description)) : null) },
          { key: "client_id", label: t("agencies.col.client"), render: (a) => el("code", { translate: "no" }, a.client_id) },
          { key: "active", label: t("agencies.col.state"), render: (a) => badge(a.active ? "active" : "disabled") },
          { key: "created_at", label: t("agencies.col.created"), render: (a) => formatDateTime(a.created_at) },
          { key: "last_token_at", label: t("agencies.col.used"), render: (a) => a.last_token_at ? formatDateTime(a.last_token_at) : t("agencies.never") },
          { key: "actions", label: t("agencies.col.actions"), render: (a) => a.active ? el("div", { class: "row-actions" },
            button(t("agencies.rotate"), () => act(a, "rotate"), { attrs: { "aria-label": t("agencies.rotate_label", { name: a.name }) } }),
            button(t("agencies.disable"), () => act(a, "disable"), { kind: "danger", attrs: { "aria-label": t("agencies.disable_label", { name: a.name }) } }))
            : "–" },
        ] })));

    const name = el("input", { type: "text", id: "agency-name", name: "name", maxlength: "255", required: true });
    const description = el("input", { type: "text", id: "agency-description", name: "description", maxlength: "1000" });
    const form = el("form", { class: "panel", "aria-labelledby": "agency-add-h", novalidate: true },
      el("h2", { id: "agency-add-h" }, t("agencies.add")),
      el("div", { class: "form-grid" },
        field({ label: t("agencies.name"), name: "name", input: name }),
        field({ label: t("agencies.description"), name: "description", input: description, hint: t("agencies.description_hint"), optional: true })),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("agencies.create"))));
    onSubmit(form, async () => {
      clearErrors(form);
      if (!name.value.trim()) {
        formErrors(form, { fields: { name: t("agencies.required") } });
        return;
      }
      const body = { name: name.value.trim() };
      if (description.value.trim()) body.description = description.value.trim();
      try {
        const made = await api("POST", "/agencies", body);
        await showSecret(made);
        await ctx.refresh();
        notice(tx("agencies.created", { name: data(made.name) }), "ok");
      } catch (e) {
        formErrors(form, e);
      }
    });
    root.append(form);
    return root;
  },
};
