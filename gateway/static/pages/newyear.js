// The new school year: an institution's learners of round 2 of the year before move
// into round 1, one grade up. The page always previews first (who moves where, who
// leaves and why, who is held elsewhere), then promotes in one action. For the
// institution's own officers and its LAO.
import { api, errorText } from "../core/api.js";
import { num, register, t } from "../core/i18n.js";
import { button, dataTable, el, notice } from "../core/ui.js";
import { figures, fullName, gradeCell, rejectionText, withRound } from "./institution.js";
import { data, previousRound, roundName } from "./oversight.js";

register({
  th: {
    "newyear.title": "ขึ้นปีการศึกษาใหม่",
    "newyear.heading": "ขึ้นปีการศึกษาใหม่: {round}",
    "newyear.intro": "นำผู้เรียนของ{from} เข้าสู่รอบที่ 1 ของปีการศึกษาใหม่ โดยเลื่อนขึ้นหนึ่งชั้น ผู้เรียนชั้นสูงสุดที่สถานศึกษาเปิดสอนจะจบการศึกษา ตรวจดูรายการก่อนแล้วจึงกดยืนยัน",
    "newyear.intro_cdc": "นำเด็กของ{from} เข้าสู่รอบที่ 1 ของปีการศึกษาใหม่ เด็กที่อายุเกินช่วงที่กำหนด ณ วันสำรวจของรอบใหม่จะออกจากศูนย์ ตรวจดูรายการก่อนแล้วจึงกดยืนยัน",
    "newyear.source_unknown": "รอบที่ 2 ของปีการศึกษาก่อน",
    "newyear.round_one_only": "การขึ้นปีการศึกษาใหม่ทำในรอบที่ 1 เท่านั้น เลือกรอบที่ 1 ของปีการศึกษาใหม่จากเมนูรอบการสำรวจ",
    "newyear.preview": "ดูรายการก่อนเลื่อนชั้น",
    "newyear.preview_heading": "รายการที่จะดำเนินการ (ยังไม่บันทึก)",
    "newyear.result_heading": "ผลการเลื่อนชั้น",
    "newyear.promote": "เลื่อนชั้น {n} คนเข้ารอบนี้",
    "newyear.promoted": "เลื่อนชั้นผู้เรียน {n} คนเข้ารอบนี้แล้ว",
    "newyear.nothing": "ไม่มีผู้เรียนที่ต้องเลื่อนชั้นเพิ่ม",
    "newyear.moves": "เลื่อนชั้น",
    "newyear.leaves": "ออก / จบการศึกษา",
    "newyear.already": "มีในรอบนี้แล้ว",
    "newyear.conflicts": "อยู่ที่สถานศึกษาอื่น",
    "newyear.col.name": "ชื่อ-สกุล",
    "newyear.col.from": "ชั้นเดิม",
    "newyear.col.to": "ชั้นใหม่",
    "newyear.col.reason": "เหตุผล",
    "newyear.reason.graduated": "จบการศึกษา (ชั้นสูงสุดที่เปิดสอน)",
    "newyear.reason.age_out": "อายุเกินช่วงที่กำหนดของรอบใหม่",
    "newyear.moves_heading": "ผู้เรียนที่เลื่อนชั้น",
    "newyear.leaves_heading": "ผู้เรียนที่ออก",
    "newyear.conflicts_heading": "ผู้เรียนที่มีชื่ออยู่ที่สถานศึกษาอื่นในรอบนี้",
    "newyear.empty_moves": "ไม่มีผู้เรียนที่จะเลื่อนชั้น",
  },
  en: {
    "newyear.title": "New school year",
    "newyear.heading": "New school year: {round}",
    "newyear.intro": "Bring the learners of {from} into round 1 of the new school year, one grade up. Those in the highest grade the institution teaches graduate. Check the list first, then confirm.",
    "newyear.intro_cdc": "Bring the children of {from} into round 1 of the new school year. Children outside the age range at the new round's census date leave. Check the list first, then confirm.",
    "newyear.source_unknown": "round 2 of the previous school year",
    "newyear.round_one_only": "The new school year starts in round 1: choose round 1 of the new school year in the round menu.",
    "newyear.preview": "Preview the promotion",
    "newyear.preview_heading": "What will happen (nothing saved yet)",
    "newyear.result_heading": "Promotion result",
    "newyear.promote": "Promote {n} learners into this round",
    "newyear.promoted": "{n} learners promoted into this round",
    "newyear.nothing": "No more learners to promote",
    "newyear.moves": "Moving up",
    "newyear.leaves": "Leaving / graduating",
    "newyear.already": "Already in this round",
    "newyear.conflicts": "At another institution",
    "newyear.col.name": "Name",
    "newyear.col.from": "Grade before",
    "newyear.col.to": "New grade",
    "newyear.col.reason": "Reason",
    "newyear.reason.graduated": "Graduated (the highest grade taught)",
    "newyear.reason.age_out": "Outside the new round's age range",
    "newyear.moves_heading": "Learners moving up",
    "newyear.leaves_heading": "Learners leaving",
    "newyear.conflicts_heading": "Learners recorded at another institution in this round",
    "newyear.empty_moves": "No learner to move up",
  },
});

function reasonText(item) {
  const key = `newyear.reason.${item.reason}`;
  const text = t(key);
  return text === key ? item.message || item.reason : text;
}

async function resultView(ctx, answer) {
  const totals = answer.totals || {};
  const box = el("section", { class: "panel newyear-result", "aria-live": "polite" },
    el("h3", {}, t(answer.dry_run ? "newyear.preview_heading" : "newyear.result_heading")),
    figures([[t("newyear.moves"), totals.moves || 0], [t("newyear.leaves"), totals.leaves || 0],
      [t("newyear.already"), totals.already || 0], [t("newyear.conflicts"), totals.conflicts || 0]]));
  box.append(el("h4", {}, t("newyear.moves_heading")), dataTable({
    columns: [
      { key: "name", label: t("newyear.col.name"), render: (m) => data(fullName(m.learner)) },
      { key: "from", label: t("newyear.col.from"), render: (m) => gradeCell(m.from_grade) },
      { key: "to", label: t("newyear.col.to"), render: (m) => gradeCell(m.to_grade) },
    ],
    rows: answer.moves, empty: t("newyear.empty_moves"),
  }));
  if ((answer.leaves || []).length) {
    box.append(el("h4", {}, t("newyear.leaves_heading")), dataTable({
      columns: [
        { key: "name", label: t("newyear.col.name"), render: (m) => data(fullName(m.learner)) },
        { key: "from", label: t("newyear.col.from"), render: (m) => gradeCell(m.from_grade) },
        { key: "reason", label: t("newyear.col.reason"), render: reasonText },
      ],
      rows: answer.leaves,
    }));
  }
  if ((answer.conflicts || []).length) {
    const reasons = await Promise.all(answer.conflicts.map((c) => rejectionText(c, ctx)));
    box.append(el("h4", {}, t("newyear.conflicts_heading")), dataTable({
      columns: [
        { key: "name", label: t("newyear.col.name"), render: (m) => data(fullName(m.learner)) },
        { key: "reason", label: t("newyear.col.reason"), render: (m) => reasons[answer.conflicts.indexOf(m)] },
      ],
      rows: answer.conflicts,
    }));
  }
  return box;
}

async function render(ctx) {
  const root = el("section", { class: "page page-newyear" },
    el("h2", {}, t("newyear.heading", { round: roundName(ctx.round) })));
  if (Number(ctx.round.number) !== 1) {
    root.append(el("p", { class: "notice info inline" }, t("newyear.round_one_only")));
    return root;
  }
  const source = previousRound(ctx.round, ctx.rounds);
  const from = source ? roundName(source) : t("newyear.source_unknown");
  root.append(el("p", {}, t(ctx.unit.type === "cdc" ? "newyear.intro_cdc" : "newyear.intro", { from })));
  const out = el("div", { class: "newyear-out" });
  const url = `/rounds/${ctx.round.id}/institutions/${ctx.unit.id}/learners/promote`;
  const actions = el("div", { class: "actions" });

  const show = async (answer) => {
    out.replaceChildren(await resultView(ctx, answer));
    actions.replaceChildren(previewButton);
    if (answer.dry_run && answer.moves.length) {
      actions.append(button(t("newyear.promote", { n: num(answer.moves.length) }), async () => {
        try {
          const done = await api("POST", url, null, { signal: ctx.signal });
          notice(t("newyear.promoted", { n: num(done.moves.length) }), "ok");
          await show(done);
        } catch (e) {
          if (e && e.name === "AbortError") return;
          notice(errorText(e), "error");
        }
      }, { kind: "primary" }));
    } else if (answer.dry_run) {
      out.append(el("p", { class: "notice info inline" }, t("newyear.nothing")));
    }
  };
  const previewButton = button(t("newyear.preview"), async () => {
    try {
      await show(await api("POST", `${url}?dry_run=true`, null, { signal: ctx.signal }));
    } catch (e) {
      if (e && e.name === "AbortError") return;
      notice(errorText(e), "error");
    }
  });
  actions.append(previewButton);
  root.append(actions, out);
  return root;
}

export default {
  id: "newyear",
  title: "newyear.title",
  levels: ["institution", "lao"],
  unitTypes: ["school", "cdc"],
  order: 17,
  render: withRound(render),
};
