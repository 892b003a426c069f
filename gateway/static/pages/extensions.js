// Deadline extensions of the chosen round: a later last day for one unit and everything
// beneath it, at one level (institutions, LAOs or provinces) or every level (a province for
// its own subtree, the department anywhere). Extensions granted by themselves after a
// revocation past a unit's deadline are shown as automatic.
import { api, registerFieldPattern } from "../core/api.js";
import { dateInput, deadlineText, formatDateTime } from "../core/dates.js";
import { register, t } from "../core/i18n.js";
import { clearErrors, dataTable, el, emptyState, field, formErrors, notice, onSubmit } from "../core/ui.js";
import { unitPicker } from "../core/unitpicker.js";
import { data, roundName, tx, saveThenRefresh } from "./oversight.js";

register({
  th: {
    "extensions.title": "ขยายกำหนดส่ง",
    "extensions.heading": "การขยายกำหนดส่งของ{round}",
    "extensions.round_deadline": "กำหนดส่งของรอบ: {deadline}",
    "extensions.level_deadlines": "กำหนดส่งแต่ละระดับ: สถานศึกษา {institution} · อปท. {lao} · จังหวัด {province}",
    "extensions.col.level": "ระดับ",
    "extensions.col.kind": "ที่มา",
    "extensions.level": "ระดับที่ขยาย",
    "extensions.level_hint": "ทุกระดับ: หน่วยงานที่เลือกและหน่วยงานในสังกัดทุกระดับส่งหรือยืนยันได้ถึงวันที่กำหนด",
    "extensions.level.all": "ทุกระดับ",
    "extensions.level.institution": "สถานศึกษา",
    "extensions.level.lao": "อปท.",
    "extensions.level.province": "จังหวัด",
    "extensions.automatic": "อัตโนมัติ (หลังยกเลิกการยืนยัน)",
    "extensions.granted": "ขยายโดยเจ้าหน้าที่",
    "extensions.added_level": "ขยายกำหนดส่งของ {name} ({level}) เป็น{deadline} แล้ว",
    "extensions.after.round": "วันที่ต้องหลังกำหนดส่งของรอบ",
    "extensions.after.institution": "วันที่ต้องหลังกำหนดส่งของสถานศึกษา",
    "extensions.after.lao": "วันที่ต้องหลังกำหนดส่งของ อปท.",
    "extensions.after.province": "วันที่ต้องหลังกำหนดส่งของจังหวัด",
    "extensions.col.unit": "หน่วยงาน (รวมหน่วยงานในสังกัด)",
    "extensions.col.deadline": "กำหนดส่งใหม่",
    "extensions.col.created": "ขยายเมื่อ",
    "extensions.empty": "ยังไม่มีการขยายกำหนดส่งในรอบนี้",
    "extensions.add": "ขยายกำหนดส่งให้หน่วยงาน",
    "extensions.add_intro": "หน่วยงานที่เลือกและหน่วยงานในสังกัดทั้งหมดจะส่งข้อมูลได้ถึงเวลา 24.00 น. ของวันที่กำหนด",
    "extensions.unit": "หน่วยงาน",
    "extensions.unit_hint": "หน่วยงานนี้และหน่วยงานที่อยู่ใต้โดยตรง หน่วยงานอื่นในสังกัดทุกระดับค้นหาได้ในช่องถัดไป",
    "extensions.date": "วันสุดท้ายของการส่งข้อมูล (พ.ศ.)",
    "extensions.date_hint": "วว/ดด/ปปปป เช่น 15/07/2569",
    "extensions.button": "ขยายกำหนดส่ง",
    "extensions.added": "ขยายกำหนดส่งของ {name} เป็น{deadline} แล้ว",
    "extensions.bad_date": "กรอกวันที่ในรูปแบบ วว/ดด/ปปปป (พ.ศ.)",
    "extensions.required": "กรุณาเลือกหน่วยงาน",
    "extensions.unit_ref": "หน่วยงาน #{id}",
  },
  en: {
    "extensions.title": "Extensions",
    "extensions.heading": "Deadline extensions of {round}",
    "extensions.round_deadline": "The round's deadline: {deadline}",
    "extensions.level_deadlines": "Deadlines by level: institutions {institution} · LAOs {lao} · provinces {province}",
    "extensions.col.level": "Level",
    "extensions.col.kind": "Granted",
    "extensions.level": "Level extended",
    "extensions.level_hint": "Every level: the chosen unit and every unit below it may submit or confirm until that day",
    "extensions.level.all": "Every level",
    "extensions.level.institution": "Institutions",
    "extensions.level.lao": "LAOs",
    "extensions.level.province": "Provinces",
    "extensions.automatic": "Automatic (after a revocation)",
    "extensions.granted": "By an officer",
    "extensions.added_level": "The deadline of {name} ({level}) is now {deadline}",
    "extensions.after.round": "The day must be after the round's deadline",
    "extensions.after.institution": "The day must be after the institutions' deadline",
    "extensions.after.lao": "The day must be after the LAOs' deadline",
    "extensions.after.province": "The day must be after the provinces' deadline",
    "extensions.col.unit": "Unit (with the units below it)",
    "extensions.col.deadline": "New deadline",
    "extensions.col.created": "Granted on",
    "extensions.empty": "No deadline was extended in this round",
    "extensions.add": "Extend the deadline of a unit",
    "extensions.add_intro": "The chosen unit and every unit below it can submit until 24:00 of that day.",
    "extensions.unit": "Unit",
    "extensions.unit_hint": "This unit and those directly below it; search the next box for any other unit of your subtree",
    "extensions.date": "Last day to submit (Buddhist era)",
    "extensions.date_hint": "dd/mm/yyyy, e.g. 15/07/2569",
    "extensions.button": "Extend the deadline",
    "extensions.added": "The deadline of {name} is now {deadline}",
    "extensions.bad_date": "Enter the date as dd/mm/yyyy (Buddhist era)",
    "extensions.required": "Choose a unit",
    "extensions.unit_ref": "Unit #{id}",
  },
});

registerFieldPattern(/^an extension must end after the round's deadline$/, "extensions.after.round");
for (const level of ["institution", "lao", "province"]) {
  registerFieldPattern(new RegExp(`^an extension must end after the ${level} deadline$`), `extensions.after.${level}`);
}

export default {
  id: "extensions",
  title: "extensions.title",
  levels: ["province", "department"],
  unitTypes: ["department", "province", "lao"],
  order: 65,
  async render(ctx) {
    const root = el("div", { class: "page page-extensions" });
    if (!ctx.round) {
      root.append(emptyState(t("ov.no_round")));
      return root;
    }
    const [list, children] = await Promise.all([
      api("GET", `/rounds/${ctx.round.id}/extensions`, undefined, { signal: ctx.signal }),
      api("GET", `/org-units/${ctx.unit.id}/children?status=active&limit=1000`, undefined, { signal: ctx.signal }),
    ]);
    // the units one may choose: the viewed unit and those directly below it
    const choices = [ctx.unit, ...(children.items || [])];
    const names = new Map(choices.map((u) => [u.id, u.name]));
    const extensions = (list.items || []).filter((x) => x.org_unit_path && ctx.unit.path && x.org_unit_path.startsWith(ctx.unit.path)
      || names.has(x.org_unit_id));
    const unknown = extensions.filter((x) => !names.has(x.org_unit_id)).map((x) => x.org_unit_id);
    if (unknown.length) {
      const found = await Promise.all([...new Set(unknown)].map((id) => api("GET", `/org-units/${id}`, undefined, { signal: ctx.signal })
        .catch((e) => { if (e && e.name === "AbortError") throw e; return null; })));
      for (const u of found) if (u) names.set(u.id, u.name);
    }
    root.append(el("section", { class: "panel", "aria-labelledby": "ext-h" },
      el("h2", { id: "ext-h" }, t("extensions.heading", { round: roundName(ctx.round) })),
      el("p", {}, t("extensions.round_deadline", { deadline: deadlineText(ctx.round.closes_at) })),
      ctx.round.deadlines ? el("p", { class: "hint level-deadlines" }, t("extensions.level_deadlines", {
        institution: deadlineText(ctx.round.deadlines.institution), lao: deadlineText(ctx.round.deadlines.lao),
        province: deadlineText(ctx.round.deadlines.province) })) : null,
      dataTable({ rows: extensions, empty: t("extensions.empty"), caption: t("extensions.heading", { round: roundName(ctx.round) }), columns: [
        { key: "unit", label: t("extensions.col.unit"), render: (x) => names.has(x.org_unit_id) ? data(names.get(x.org_unit_id)) : t("extensions.unit_ref", { id: x.org_unit_id }) },
        { key: "level", label: t("extensions.col.level"), render: (x) => t(`extensions.level.${x.level || "all"}`) },
        { key: "closes_at", label: t("extensions.col.deadline"), render: (x) => deadlineText(x.closes_at) },
        { key: "kind", label: t("extensions.col.kind"), render: (x) => x.automatic
          ? el("span", { class: "tag automatic" }, t("extensions.automatic")) : t("extensions.granted") },
        { key: "created_at", label: t("extensions.col.created"), render: (x) => formatDateTime(x.created_at) },
      ] })));

    // any unit of the officer's subtree: those at hand in the list, the others by searching
    const picker = unitPicker({ rootId: ctx.user.org_unit_id, nearby: choices, selected: ctx.unit, status: "active",
      label: t("extensions.unit"), hint: t("extensions.unit_hint") });
    const date = dateInput({ name: "closes_on", id: "ext-date" });
    const level = el("select", { id: "ext-level", name: "level" }, ["all", "institution", "lao", "province"].map((l) =>
      el("option", { value: l === "all" ? "" : l }, t(`extensions.level.${l}`))));
    const form = el("form", { class: "panel", "aria-labelledby": "ext-add-h", novalidate: true },
      el("h2", { id: "ext-add-h" }, t("extensions.add")),
      el("p", { class: "hint" }, t("extensions.add_intro")),
      picker.node,
      el("div", { class: "form-grid" },
        field({ label: t("extensions.level"), name: "level", input: level, hint: t("extensions.level_hint") }),
        field({ label: t("extensions.date"), name: "closes_at", input: date, hint: t("extensions.date_hint") })),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "button primary" }, t("extensions.button"))));
    onSubmit(form, async () => {
      clearErrors(form);
      const problems = {};
      if (!picker.unit) problems.org_unit_id = t("extensions.required");
      if (!date.isoValue) problems.closes_at = t("extensions.bad_date");
      if (Object.keys(problems).length) {
        formErrors(form, { fields: problems });
        return;
      }
      const chosen = picker.unit;
      const body = { org_unit_id: chosen.id, closes_at: date.isoValue };
      if (level.value) body.level = level.value;
      await saveThenRefresh(form, ctx, async () => {
        const saved = await api("POST", `/rounds/${ctx.round.id}/extensions`, body);
        notice(saved.level
          ? tx("extensions.added_level", { name: data(chosen.name), level: t(`extensions.level.${saved.level}`), deadline: deadlineText(saved.closes_at) })
          : tx("extensions.added", { name: data(chosen.name), deadline: deadlineText(saved.closes_at) }), "ok");
      });
    });
    root.append(form);
    return root;
  },
};
