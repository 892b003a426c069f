// The LAO's headcounts of the schools of another affiliation it funds: one form per
// school, grades by their Thai names, the total, and last round's counts beside them.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, button, clearErrors, el, emptyState, formErrors, notice, onSubmit, uid } from "../core/ui.js";
import { affiliationName, data, previousRound, roundName, tx, windowOpen, saveThenRefresh } from "./oversight.js";
import { draftNotice } from "./headcountdrafts.js";

const LEVELS = [
  ["kindergarten", ["k1", "k2", "k3"]],
  ["primary", ["p1", "p2", "p3", "p4", "p5", "p6"]],
  ["secondary", ["m1", "m2", "m3", "m4", "m5", "m6"]],
];

register({
  th: {
    "headcounts.title": "จำนวนนักเรียนโรงเรียนสังกัดอื่น",
    "headcounts.intro": "กรอกจำนวนนักเรียนแยกตามชั้นของโรงเรียนสังกัดอื่นที่ {name} สนับสนุนงบประมาณ แล้วกดบันทึกทีละโรงเรียน",
    "headcounts.closed_rule": "โรงเรียนที่ปิดแล้วนับเป็น 0 คนเสมอ หากโรงเรียนใดปิด ให้แจ้งปิดที่หน้า “หน่วยงานในสังกัด” แทนการกรอก 0",
    "headcounts.empty": "{name} ไม่มีโรงเรียนสังกัดอื่นในความดูแล",
    "headcounts.level.kindergarten": "ระดับอนุบาล",
    "headcounts.level.primary": "ระดับประถมศึกษา",
    "headcounts.level.secondary": "ระดับมัธยมศึกษา",
    "headcounts.total": "รวมทั้งโรงเรียน",
    "headcounts.persons": "{n} คน",
    "headcounts.code": "รหัส {code}",
    "headcounts.affiliation": "สังกัด {name}",
    "headcounts.entered": "บันทึกล่าสุด {at}",
    "headcounts.not_entered": "ยังไม่ได้บันทึกในรอบนี้",
    "headcounts.previous": "รอบก่อน ({round}): รวม {total} คน",
    "headcounts.no_previous": "ไม่มีข้อมูลของรอบก่อน",
    "headcounts.unchanged": "เท่ากับรอบก่อน",
    "headcounts.changed": "ต่างจากรอบก่อน {diff} คน",
    "headcounts.use_previous": "ใช้จำนวนเท่ารอบก่อน",
    "headcounts.used_previous": "ใส่จำนวนของรอบก่อนให้แล้ว ตรวจสอบแล้วกดบันทึก",
    "headcounts.save": "บันทึกจำนวนของ {name}",
    "headcounts.saved": "บันทึกจำนวนนักเรียนของ {name} แล้ว (รวม {total} คน)",
    "headcounts.closed": "โรงเรียนนี้ปิดแล้ว จึงนับเป็น 0 คน ไม่ต้องกรอกจำนวน",
    "headcounts.closed_save": "บันทึกว่าโรงเรียนปิด (0 คน)",
    "headcounts.sealed": "{name} ยืนยันข้อมูลแล้ว จึงแก้ไขจำนวนไม่ได้ ต้องให้หน่วยงานระดับบนยกเลิกการยืนยันก่อน",
    "headcounts.round_closed": "รอบนี้ปิดรับข้อมูลแล้ว แสดงเพื่ออ่านอย่างเดียว",
    "headcounts.not_number": "กรอกเป็นจำนวนเต็มตั้งแต่ 0 ขึ้นไป",
    "headcounts.grade_label": "{grade} (คน)",
    "headcounts.prev_grade": "รอบก่อน {n}",
  },
  en: {
    "headcounts.title": "Other-affiliation schools",
    "headcounts.intro": "Enter the pupils by grade of each school of another affiliation that {name} funds, and save each school.",
    "headcounts.closed_rule": "A closed school always counts 0. If a school has closed, close it on the Units page instead of entering 0.",
    "headcounts.empty": "{name} funds no school of another affiliation",
    "headcounts.level.kindergarten": "Kindergarten",
    "headcounts.level.primary": "Primary",
    "headcounts.level.secondary": "Secondary",
    "headcounts.total": "School total",
    "headcounts.persons": "{n} pupils",
    "headcounts.code": "Code {code}",
    "headcounts.affiliation": "Affiliation: {name}",
    "headcounts.entered": "Last saved {at}",
    "headcounts.not_entered": "Not entered in this round yet",
    "headcounts.previous": "Previous round ({round}): {total} pupils in total",
    "headcounts.no_previous": "No counts from the previous round",
    "headcounts.unchanged": "Unchanged since last round",
    "headcounts.changed": "{diff} different from last round",
    "headcounts.use_previous": "Use last round's counts",
    "headcounts.used_previous": "Last round's counts are filled in: check them and save",
    "headcounts.save": "Save the counts of {name}",
    "headcounts.saved": "The counts of {name} are saved ({total} pupils)",
    "headcounts.closed": "This school is closed, so it counts 0: nothing to enter",
    "headcounts.closed_save": "Record the school as closed (0)",
    "headcounts.sealed": "{name} has confirmed, so the counts cannot change until a unit above revokes the confirmation",
    "headcounts.round_closed": "This round no longer accepts data: read only",
    "headcounts.not_number": "Enter a whole number, 0 or more",
    "headcounts.grade_label": "{grade} (pupils)",
    "headcounts.prev_grade": "last round {n}",
  },
});

function totalOf(byGrade) {
  return Object.values(byGrade || {}).reduce((a, b) => a + (Number(b) || 0), 0);
}

function sameCounts(a, b) {
  const grades = LEVELS.flatMap(([, g]) => g);
  return grades.every((g) => (Number((a || {})[g]) || 0) === (Number((b || {})[g]) || 0));
}

function schoolForm(ctx, school, previous, prevRound, editable) {
  const formId = uid("hc");
  const inputs = {};
  const current = (school.counts && school.counts.by_grade) || {};
  const totalNode = el("strong", { "aria-live": "polite" });
  const compareNode = el("p", { class: "compare" });
  const prevBy = previous && previous.counts ? previous.counts.by_grade || {} : null;

  const values = () => Object.fromEntries(Object.entries(inputs).map(([g, input]) => [g, input.value.trim()]));
  const update = () => {
    const v = values();
    const total = totalOf(Object.fromEntries(Object.entries(v).map(([g, x]) => [g, /^\d+$/.test(x) ? Number(x) : 0])));
    totalNode.textContent = t("headcounts.persons", { n: num(total) });
    if (prevBy) {
      const diff = total - totalOf(prevBy);
      compareNode.textContent = sameCounts(v, prevBy) ? t("headcounts.unchanged")
        : t("headcounts.changed", { diff: `${diff > 0 ? "+" : ""}${num(diff)}` });
    }
  };

  const heading = el("h3", { id: `${formId}-h`, translate: "no" }, school.name);
  const meta = el("p", { class: "meta" }, tx("headcounts.code", { code: data(school.code) }),
    school.affiliation ? ` · ${t("headcounts.affiliation", { name: affiliationName(school.affiliation) })}` : "",
    " · ", school.version ? t("headcounts.entered", { at: formatDateTime(school.updated_at) }) : t("headcounts.not_entered"));
  const prevLine = el("p", { class: "previous" }, previous && previous.version
    ? t("headcounts.previous", { round: roundName(prevRound), total: num(previous.counts ? previous.counts.total : 0) })
    : t("headcounts.no_previous"));

  const form = el("form", { class: "panel headcount-form", "aria-labelledby": `${formId}-h`, novalidate: true },
    heading, meta, prevLine, draftNotice(ctx, school, editable));

  if (school.closed) {
    form.append(el("p", { class: "notice info" }, t("headcounts.closed")));
    if (editable && !school.version) {
      form.append(el("div", { class: "actions" },
        el("button", { type: "submit", class: "button secondary" }, t("headcounts.closed_save"))));
      onSubmit(form, async () => {
        try {
          await api("PUT", `/rounds/${ctx.round.id}/institutions/${school.school_id}/headcount`, { counts: {} });
          notice(tx("headcounts.saved", { name: data(school.name), total: num(0) }), "ok");
        } catch (e) {
          notice(errorText(e), "error");
        }
        await ctx.refresh();
      });
    }
    return form;
  }

  for (const [level, grades] of LEVELS) {
    const fs = el("fieldset", { class: "grade-group" }, el("legend", {}, t(`headcounts.level.${level}`)));
    const grid = el("div", { class: "grade-grid" });
    for (const g of grades) {
      const id = `${formId}-${g}`;
      const input = el("input", { id, name: g, type: "text", inputmode: "numeric", pattern: "[0-9]*",
        autocomplete: "off", value: current[g] ? String(current[g]) : "0", disabled: !editable,
        "aria-describedby": prevBy ? `${id}-prev ${id}-error` : `${id}-error` });
      input.addEventListener("input", update);
      inputs[g] = input;
      grid.append(el("div", { class: "field grade-field", dataset: { field: g } },
        el("label", { for: id }, t(`grade.${g}`)),
        prevBy ? el("p", { class: "hint prev-count", id: `${id}-prev` }, t("headcounts.prev_grade", { n: num(prevBy[g] || 0) })) : null,
        el("p", { class: "field-error", id: `${id}-error`, hidden: true }),
        input));
    }
    fs.append(grid);
    form.append(fs);
  }
  form.append(el("p", { class: "total" }, t("headcounts.total"), ": ", totalNode), compareNode);
  update();

  if (editable) {
    const actions = el("div", { class: "actions" },
      el("button", { type: "submit", class: "button primary" }, tx("headcounts.save", { name: data(school.name) })));
    if (prevBy) {
      actions.append(button(t("headcounts.use_previous"), () => {
        for (const [g, input] of Object.entries(inputs)) input.value = String(prevBy[g] || 0);
        update();
        notice(t("headcounts.used_previous"), "info");
        inputs.k1.focus();
      }));
    }
    form.append(actions);
    onSubmit(form, async () => {
      clearErrors(form);
      const v = values();
      const bad = Object.fromEntries(Object.entries(v).filter(([, x]) => !/^\d{1,6}$/.test(x))
        .map(([g]) => [g, t("headcounts.not_number")]));
      if (Object.keys(bad).length) {
        formErrors(form, { fields: Object.fromEntries(Object.entries(bad)) });
        return;
      }
      const counts = Object.fromEntries(Object.entries(v).filter(([, x]) => Number(x) > 0).map(([g, x]) => [g, Number(x)]));
      await saveThenRefresh(form, ctx, async () => {
        const saved = await api("PUT", `/rounds/${ctx.round.id}/institutions/${school.school_id}/headcount`, { counts });
        notice(tx("headcounts.saved", { name: data(school.name), total: num(saved && saved.counts ? saved.counts.total : totalOf(counts)) }), "ok");
      });
    });
  }
  return form;
}

export default {
  id: "headcounts",
  title: "headcounts.title",
  levels: ["lao", "province", "department"],
  unitTypes: ["lao"],
  order: 20,
  async render(ctx) {
    const root = el("div", { class: "page page-headcounts" });
    if (!ctx.round) {
      root.append(emptyState(t("ov.no_round")));
      return root;
    }
    const prevRound = previousRound(ctx.round, ctx.rounds);
    const [list, previous, open] = await Promise.all([
      api("GET", `/rounds/${ctx.round.id}/laos/${ctx.unit.id}/headcounts`, undefined, { signal: ctx.signal }),
      prevRound
        ? api("GET", `/rounds/${prevRound.id}/laos/${ctx.unit.id}/headcounts`, undefined, { signal: ctx.signal })
          .catch((e) => { if (e && e.name === "AbortError") throw e; return null; })
        : Promise.resolve(null),
      windowOpen(ctx),
    ]);
    const schools = list.items || [];
    const prevBy = new Map(((previous && previous.items) || []).map((s) => [s.school_id, s]));
    root.append(el("h2", {}, t("headcounts.title")));
    if (!schools.length) {
      root.append(el("div", { class: "empty" }, el("p", {}, tx("headcounts.empty", { name: data(ctx.unit.name) }))));
      return root;
    }
    const sealed = schools.some((s) => s.sealed);
    const mine = ctx.user.org_unit_id === ctx.unit.id;
    const editable = mine && open && !sealed;
    root.append(el("p", {}, tx("headcounts.intro", { name: data(ctx.unit.name) })),
      el("p", { class: "hint" }, t("headcounts.closed_rule")));
    if (sealed) root.append(el("p", { class: "notice info" }, badge("confirmed"), " ", tx("headcounts.sealed", { name: data(ctx.unit.name) })));
    else if (!open) root.append(el("p", { class: "notice info" }, t("headcounts.round_closed")));
    for (const school of schools) root.append(schoolForm(ctx, school, prevBy.get(school.school_id), prevRound, editable));
    return root;
  },
};
