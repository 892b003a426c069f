// A unit's checks before confirming as the level above sees them in a table cell:
// "explained/queries" of its subtree, its errors when there are any, a link to the
// unit's checks page. Used by the approval screen and the progress report.
import { num, register, t } from "../core/i18n.js";
import { el } from "../core/ui.js";

register({
  th: {
    "checktally.column": "ข้อสังเกตที่ชี้แจงแล้ว",
    "checktally.errors": "ข้อผิดพลาด {n}",
    "checktally.label": "ผลการตรวจสอบของ {name}: ชี้แจงข้อสังเกตแล้ว {explained} จาก {queries} ข้อ ข้อผิดพลาด {errors} ข้อ",
  },
  en: {
    "checktally.column": "Queries explained",
    "checktally.errors": "{n} errors",
    "checktally.label": "Checks of {name}: {explained} of {queries} queries explained, {errors} errors",
  },
});

// whether a report's rows carry the checks (the column is left out when they do not)
export function hasChecks(items) {
  return (items || []).some((r) => r && r.checks);
}

// the cell: "1/3 · ข้อผิดพลาด 2" linking to #/u/<id>/checks, or "–" for a unit without checks
export function checkTally(unitId, name, checks, type) {
  if (!checks || !unitId || type === "other_school") return t("ov.none");
  const errors = checks.errors || 0;
  const text = `${num(checks.explained || 0)}/${num(checks.queries || 0)}`
    + (errors > 0 ? ` · ${t("checktally.errors", { n: num(errors) })}` : "");
  return el("a", {
    href: `#/u/${unitId}/checks`, class: ["check-tally", errors > 0 ? "has-errors" : null],
    title: t("checktally.label", { name: name || "", explained: num(checks.explained || 0),
      queries: num(checks.queries || 0), errors: num(errors) }),
  }, text);
}
