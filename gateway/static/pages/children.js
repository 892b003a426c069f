// The approval screen of an LAO, a province or the department: every unit directly
// beneath the viewed unit by name, its confirmation state, when and by whom, its
// learners; revoke a child's confirmation inline; confirm one's own unit after a summary.
import { api, errorText } from "../core/api.js";
import { formatDateTime } from "../core/dates.js";
import { num, register, t } from "../core/i18n.js";
import { badge, button, confirmDialog, dataTable, el, emptyState, notice } from "../core/ui.js";
import { OVERSIGHT, data, idempotencyKey, isOwnUnit, sortGrades, tx, windowOpen } from "./oversight.js";
import { fetchPreview, moneyBox } from "./money.js";
import { checksFailedDialog, checksSummary, diffSection, fetchChecks, fetchDiff } from "./checks.js";
import { checkTally, hasChecks } from "./checktally.js";
import { chainPanel, reopenPanel } from "./confirm.js";

register({
  th: {
    "children.title": "การยืนยันของหน่วยงานในสังกัด",
    "children.heading": "การยืนยันข้อมูลของหน่วยงานภายใต้ {name}",
    "children.progress": "ยืนยันแล้ว {confirmed} จาก {total} หน่วยงาน",
    "children.filter": "แสดง",
    "children.filter.all": "ทั้งหมด ({n})",
    "children.filter.pending": "ยังไม่ยืนยัน ({n})",
    "children.filter.confirmed": "ยืนยันแล้ว ({n})",
    "children.search": "ค้นหาชื่อหน่วยงาน",
    "children.col.name": "หน่วยงาน",
    "children.col.type": "ประเภท",
    "children.col.state": "สถานะ",
    "children.col.confirmed": "ยืนยันเมื่อ / โดย",
    "children.col.learners": "จำนวนผู้เรียน",
    "children.col.below": "สถานศึกษาที่ยืนยันแล้ว",
    "children.col.actions": "ดำเนินการ",
    "children.by": "โดย {name}",
    "children.note": "หมายเหตุ: {note}",
    "children.not_awaited.pending": "รอตรวจสอบหน่วยงาน (ไม่ต้องยืนยัน)",
    "children.not_awaited.closed": "ปิดแล้ว (ไม่ต้องยืนยัน)",
    "children.not_awaited.other": "ยืนยันพร้อม อปท.",
    "children.empty": "ไม่มีหน่วยงานในสังกัด",
    "children.empty_filter": "ไม่มีหน่วยงานที่ตรงกับเงื่อนไข",
    "children.revoke": "ยกเลิกการยืนยัน",
    "children.revoke_label": "ยกเลิกการยืนยันของ {name}",
    "children.revoke_title": "ยกเลิกการยืนยันของ {name}",
    "children.revoke_body": "เมื่อยกเลิกแล้ว {name} จะแก้ไขข้อมูลได้อีกครั้ง และต้องยืนยันใหม่ก่อนที่ {parent} จะยืนยันได้",
    "children.revoke_reason": "เหตุผลในการยกเลิก (จะแจ้งให้หน่วยงานทราบ)",
    "children.revoked": "ยกเลิกการยืนยันของ {name} แล้ว",
    "children.revoke_blocked": "{parent} ยืนยันแล้ว ต้องยกเลิกการยืนยันของ {parent} ก่อนจึงจะยกเลิกของหน่วยงานในสังกัดได้",
    "children.own.heading": "การยืนยันข้อมูลของ {name}",
    "children.own.confirmed": "ยืนยันแล้วเมื่อ {at} โดย {by}",
    "children.own.open": "ยังไม่ได้ยืนยัน",
    "children.own.learners": "ผู้เรียนรวม",
    "children.own.learners_children": "ผู้เรียนรวมของหน่วยงานในสังกัดที่ยืนยันแล้ว",
    "children.own.by_grade": "จำแนกตามชั้น",
    "children.own.other_schools": "นักเรียนโรงเรียนสังกัดอื่น (ยอดที่ อปท. บันทึก)",
    "children.own.children_all": "หน่วยงานในสังกัดยืนยันครบทุกแห่งแล้ว",
    "children.own.children_missing": "ยังยืนยันไม่ครบ: หน่วยงานต่อไปนี้ยังไม่ได้ยืนยัน",
    "children.own.cannot_yet": "ยืนยันได้เมื่อหน่วยงานในสังกัดยืนยันครบทุกแห่ง",
    "children.own.round_closed": "รอบนี้ไม่เปิดให้ยืนยันแล้ว",
    "children.confirm": "ตรวจสอบและยืนยันข้อมูลของ {name}",
    "children.confirm_title": "ยืนยันข้อมูลของ {name}",
    "children.confirm_intro": "เมื่อยืนยันแล้ว ตัวเลขต่อไปนี้จะถูกบันทึกเป็นยอดทางการและส่งต่อให้หน่วยงานระดับบน หน่วยงานในสังกัดจะแก้ไขข้อมูลไม่ได้จนกว่าจะมีการยกเลิกการยืนยัน",
    "children.confirm_button": "ยืนยันข้อมูล",
    "children.confirmed_notice": "ยืนยันข้อมูลของ {name} แล้ว",
    "children.pending_names": "ยังยืนยันไม่ได้ เพราะหน่วยงานต่อไปนี้ยังไม่ได้ยืนยัน: {names}",
    "children.viewing": "สถานะของ {name}: ",
  },
  en: {
    "children.title": "Approvals below",
    "children.heading": "Confirmations of the units under {name}",
    "children.progress": "{confirmed} of {total} units confirmed",
    "children.filter": "Show",
    "children.filter.all": "All ({n})",
    "children.filter.pending": "Not yet ({n})",
    "children.filter.confirmed": "Confirmed ({n})",
    "children.search": "Search by unit name",
    "children.col.name": "Unit",
    "children.col.type": "Type",
    "children.col.state": "State",
    "children.col.confirmed": "Confirmed at / by",
    "children.col.learners": "Learners",
    "children.col.below": "Institutions confirmed",
    "children.col.actions": "Actions",
    "children.by": "by {name}",
    "children.note": "Note: {note}",
    "children.not_awaited.pending": "Awaiting verification (not required)",
    "children.not_awaited.closed": "Closed (not required)",
    "children.not_awaited.other": "Sealed with the LAO",
    "children.empty": "There are no units below",
    "children.empty_filter": "No unit matches",
    "children.revoke": "Revoke confirmation",
    "children.revoke_label": "Revoke the confirmation of {name}",
    "children.revoke_title": "Revoke the confirmation of {name}",
    "children.revoke_body": "Once revoked, {name} can change its data again and must confirm again before {parent} can confirm.",
    "children.revoke_reason": "Reason for revoking (the unit will see it)",
    "children.revoked": "The confirmation of {name} was revoked",
    "children.revoke_blocked": "{parent} has confirmed: revoke its confirmation first to revoke one below it",
    "children.own.heading": "Confirmation of {name}",
    "children.own.confirmed": "Confirmed on {at} by {by}",
    "children.own.open": "Not confirmed yet",
    "children.own.learners": "Learners in total",
    "children.own.learners_children": "Learners of the units below that have confirmed",
    "children.own.by_grade": "By grade",
    "children.own.other_schools": "Pupils of other-affiliation schools (LAO headcounts)",
    "children.own.children_all": "Every unit below has confirmed",
    "children.own.children_missing": "Not complete: these units below have not confirmed",
    "children.own.cannot_yet": "You can confirm once every unit below has confirmed",
    "children.own.round_closed": "This round no longer accepts confirmations",
    "children.confirm": "Check and confirm the data of {name}",
    "children.confirm_title": "Confirm the data of {name}",
    "children.confirm_intro": "Once confirmed, these figures are sealed as the official counts and passed up. The units below cannot change their data until the confirmation is revoked.",
    "children.confirm_button": "Confirm",
    "children.confirmed_notice": "The data of {name} is confirmed",
    "children.pending_names": "Cannot confirm yet: these units below have not confirmed: {names}",
    "children.viewing": "State of {name}: ",
  },
});

// the filter and search of each viewed unit survive a refresh
const view = new Map();

function gradeList(byGrade) {
  const rows = sortGrades(byGrade);
  if (!rows.length) return null;
  return el("ul", { class: "grade-counts" },
    rows.map(([g, n]) => el("li", {}, el("span", {}, t(`grade.${g}`)), " ", el("strong", {}, num(n)))));
}

// a unit's confirmation state as a badge key ("open" reads as "not confirmed yet" here)
function stateKey(state) {
  return state === "confirmed" || state === "sealing" || state === "unsealing" ? state : "unconfirmed";
}

function notAwaitedText(child) {
  if (child.type === "other_school") return t("children.not_awaited.other");
  return t(child.status === "closed" ? "children.not_awaited.closed" : "children.not_awaited.pending");
}

function namesOf(ids, children) {
  const byId = new Map(children.map((c) => [c.id, c.name || c.code]));
  return data(ids.map((id) => byId.get(id) || `#${id}`).join(", "));
}

async function revoke(ctx, child) {
  const answer = await confirmDialog({
    title: tx("children.revoke_title", { name: data(child.name) }),
    body: el("p", {}, tx("children.revoke_body", { name: data(child.name), parent: data(ctx.unit.name) })),
    confirmLabel: t("children.revoke"),
    danger: true,
    reason: { label: t("children.revoke_reason"), required: true },
  });
  if (!answer) return;
  try {
    await api("DELETE", `/rounds/${ctx.round.id}/confirmations/${child.id}`, { reason: answer.reason },
      { headers: { "Idempotency-Key": idempotencyKey() } });
    notice(tx("children.revoked", { name: data(child.name) }), "ok");
  } catch (e) {
    notice(errorText(e), "error");
  }
  await ctx.refresh();
}

async function ownSection(ctx, status, children, open) {
  const unit = ctx.unit;
  const section = el("section", { class: "panel", "aria-labelledby": "own-heading" },
    el("h2", { id: "own-heading" }, tx("children.own.heading", { name: data(unit.name) })));
  if (status.state === "confirmed") {
    section.append(el("p", {}, badge("confirmed"), " ",
      tx("children.own.confirmed", { at: formatDateTime(status.confirmed_at),
        by: data(status.confirmed_by_username) })));
  } else {
    section.append(el("p", {}, badge(stateKey(status.state)), " ", t("children.own.open")));
  }
  if (unit.type !== "department") {
    // the confirmations above, and a request to reopen this one once it is given
    const base = `/rounds/${ctx.round.id}`;
    const [above, asked] = await Promise.all([
      api("GET", `${base}/confirmations/${unit.id}/ancestors`, null, { signal: ctx.signal }),
      api("GET", `${base}/revocation-requests?org_unit_id=${unit.id}&limit=20`, null, { signal: ctx.signal }),
    ]);
    const requests = (asked.items || []).filter((r) => r.unit.id === unit.id);
    const reopen = status.saga ? null : reopenPanel(ctx, requests, status.state === "confirmed");
    if (reopen) section.append(reopen);
    section.append(chainPanel(above.items || []));
  }
  const learnersLabel = status.counts_source === "children" ? t("children.own.learners_children") : t("children.own.learners");
  const summary = el("div", { class: "summary" },
    el("p", {}, learnersLabel, ": ", el("strong", {}, num(status.counts && status.counts.total))),
    gradeList(status.counts && status.counts.by_grade));
  if (status.other_schools && status.other_schools.total) {
    summary.append(el("p", {}, t("children.own.other_schools"), ": ", el("strong", {}, num(status.other_schools.total))));
  }
  const pending = (status.children && status.children.pending) || [];
  const tally = status.children || { total: 0, confirmed: 0 };
  summary.append(el("p", {}, t("children.progress", { confirmed: num(tally.confirmed), total: num(tally.total) })));
  if (pending.length) {
    summary.append(el("div", { class: "warning" },
      el("p", {}, t("children.own.children_missing")),
      el("ul", {}, pending.map((id) => el("li", {}, namesOf([id], children))))));
  } else if (tally.total) {
    summary.append(el("p", { class: "ok-text" }, t("children.own.children_all")));
  }
  section.append(summary);
  if (status.state !== "open" || status.saga) return section;
  // an LAO's money at stake: its institutions and other schools on the counts recorded now
  const preview = unit.type === "lao" ? fetchPreview(ctx) : null;
  const money = () => (preview ? moneyBox(preview, { scope: "all", level: 3 }) : null);
  if (preview) section.append(money());
  // an LAO's checks before confirming and what changed since its last confirmation
  let blocked = false;
  const reasonId = "own-disabled-reason";
  if (unit.type === "lao" && open) {
    const [report, diff] = await Promise.all([fetchChecks(ctx), fetchDiff(ctx)]);
    const changes = diffSection(diff, { headingLevel: "h3", lao: true });
    if (changes) section.append(changes);
    const checks = checksSummary(ctx, report, { headingLevel: "h3" });
    section.append(checks.node);
    blocked = checks.blocking > 0;
  }
  if (!open) {
    section.append(el("p", { class: "hint" }, t("children.own.round_closed")));
    return section;
  }
  if (pending.length) {
    section.append(el("p", { class: "hint" }, t("children.own.cannot_yet")));
    return section;
  }
  if (blocked) section.append(el("p", { class: "hint disabled-reason", id: reasonId }, t("checks.disabled_reason")));
  section.append(button(tx("children.confirm", { name: data(unit.name) }), async () => {
    const body = el("div", {}, el("p", {}, t("children.confirm_intro")),
      el("p", {}, learnersLabel, ": ", el("strong", {}, num(status.counts && status.counts.total))),
      gradeList(status.counts && status.counts.by_grade),
      el("p", {}, t("children.progress", { confirmed: num(tally.confirmed), total: num(tally.total) })), money());
    const ok = await confirmDialog({ title: tx("children.confirm_title", { name: data(unit.name) }), body,
      confirmLabel: t("children.confirm_button") });
    if (!ok) return;
    try {
      await api("POST", `/rounds/${ctx.round.id}/confirmations/${unit.id}`, undefined,
        { headers: { "Idempotency-Key": idempotencyKey() } });
      notice(tx("children.confirmed_notice", { name: data(unit.name) }), "ok");
    } catch (e) {
      if (e.code === "children_not_confirmed" && e.data && e.data.pending) {
        notice(tx("children.pending_names", { names: namesOf(e.data.pending, children) }), "error");
      } else if (e.code === "checks_failed" && e.data && Array.isArray(e.data.items)) {
        await checksFailedDialog(ctx, e.data.items);
      } else {
        notice(errorText(e), "error");
      }
    }
    await ctx.refresh();
  }, { kind: "primary", disabled: blocked, attrs: blocked ? { "aria-describedby": reasonId } : {} }));
  return section;
}

function childRows(status, progress) {
  const extra = new Map(((progress && progress.items) || []).map((r) => [r.unit && r.unit.id, r]));
  return ((status.children && status.children.items) || []).map((c) => {
    const p = extra.get(c.id) || {};
    const liveTotal = p.counts ? p.counts.total : null;
    return {
      ...c,
      name: c.name || (p.unit && p.unit.name) || c.code,
      confirmed_by_username: c.state === "confirmed" && p.state === "confirmed" ? p.confirmed_by_username : null,
      learners: c.state === "confirmed" && c.total !== null ? c.total : liveTotal,
      below: p.institutions || null,
      checks: p.checks || null,
    };
  });
}

export default {
  id: "children",
  title: "children.title",
  levels: OVERSIGHT,
  unitTypes: ["lao", "province", "department"],
  order: 10,
  async render(ctx) {
    const root = el("div", { class: "page page-children" });
    if (!ctx.round) {
      root.append(emptyState(t("ov.no_round")));
      return root;
    }
    const base = `/rounds/${ctx.round.id}`;
    const [status, progress, open] = await Promise.all([
      api("GET", `${base}/confirmations/${ctx.unit.id}`, undefined, { signal: ctx.signal }),
      api("GET", `${base}/reports/progress?org_unit_id=${ctx.unit.id}`, undefined, { signal: ctx.signal })
        .catch((e) => { if (e && e.name === "AbortError") throw e; return null; }),
      windowOpen(ctx),
    ]);
    const rows = childRows(status, progress);
    const own = isOwnUnit(ctx);
    if (own) root.append(await ownSection(ctx, status, rows, open));
    else {
      root.append(el("p", { class: "unit-state" }, tx("children.viewing", { name: data(ctx.unit.name) }), badge(stateKey(status.state)),
        status.state === "confirmed"
          ? [" ", tx("children.own.confirmed", { at: formatDateTime(status.confirmed_at), by: data(status.confirmed_by_username) })]
          : ""));
    }

    const awaited = rows.filter((r) => r.blocking);
    const counts = { all: rows.length, pending: awaited.filter((r) => r.state !== "confirmed").length,
      confirmed: awaited.filter((r) => r.state === "confirmed").length };
    const state = view.get(ctx.unit.id) || { filter: "all", q: "" };
    view.set(ctx.unit.id, state);

    const section = el("section", { class: "panel", "aria-labelledby": "children-heading" },
      el("h2", { id: "children-heading" }, tx("children.heading", { name: data(ctx.unit.name) })),
      el("p", {}, t("children.progress", { confirmed: num(counts.confirmed), total: num(awaited.length) }), " ",
        el("progress", { max: String(Math.max(1, awaited.length)), value: String(counts.confirmed),
          "aria-label": t("children.progress", { confirmed: num(counts.confirmed), total: num(awaited.length) }) })));
    root.append(section);

    const tableBox = el("div", { class: "table-box" });
    // nothing beneath a confirmed unit changes: the reason stands where the revoke button would
    const parentConfirmed = status.state === "confirmed" || status.state === "sealing";
    const columns = [
      { key: "name", label: t("children.col.name"), render: (r) => (r.type === "lao" || r.type === "province")
        ? el("a", { href: `#/u/${r.id}/children`, translate: "no" }, r.name)
        : r.type === "other_school" ? data(r.name) : el("a", { href: `#/u/${r.id}`, translate: "no" }, r.name) },
      { key: "type", label: t("children.col.type"), render: (r) => t(`type.${r.type}`) },
      { key: "state", label: t("children.col.state"), render: (r) => r.blocking ? badge(stateKey(r.state))
        : el("span", { class: "muted" }, notAwaitedText(r)) },
      { key: "confirmed_at", label: t("children.col.confirmed"), render: (r) => r.state === "confirmed"
        ? el("span", {}, formatDateTime(r.confirmed_at),
          r.confirmed_by_username ? el("br") : null,
          r.confirmed_by_username ? tx("children.by", { name: data(r.confirmed_by_username) }) : null,
          r.note ? el("br") : null,
          r.note ? el("span", { class: "confirm-note" }, tx("children.note", { note: data(r.note) })) : null)
        : t("ov.none") },
      { key: "learners", label: t("children.col.learners"), num: true, render: (r) => num(r.learners) },
    ];
    if (rows.some((r) => (r.type === "lao" || r.type === "province") && r.below && r.below.total)) {
      columns.push({ key: "below", label: t("children.col.below"), num: true,
        render: (r) => (r.type === "lao" || r.type === "province") && r.below && r.below.total
          ? `${num(r.below.confirmed)} / ${num(r.below.total)}` : t("ov.none") });
    }
    if (hasChecks(progress && progress.items)) {
      columns.push({ key: "checks", label: t("checktally.column"), num: true,
        render: (r) => r.blocking ? checkTally(r.id, r.name, r.checks, r.type) : t("ov.none") });
    }
    columns.push({ key: "actions", label: t("children.col.actions"), render: (r) => {
      if (r.state !== "confirmed") return "";
      // the unit's name stands twice in the sentence: a node of its own each time
      if (parentConfirmed) {
        return el("span", { class: "muted small revoke-blocked" }, tx("children.revoke_blocked", { parent: data(ctx.unit.name) })
          .map((part) => (part instanceof Node ? part.cloneNode(true) : part)));
      }
      return button(t("children.revoke"), () => revoke(ctx, r),
        { kind: "danger", attrs: { "aria-label": t("children.revoke_label", { name: r.name }) } });
    } });

    const draw = () => {
      const q = state.q.trim().toLowerCase();
      const shown = rows.filter((r) => (state.filter === "all"
        || (state.filter === "pending" && r.blocking && r.state !== "confirmed")
        || (state.filter === "confirmed" && r.blocking && r.state === "confirmed"))
        && (!q || String(r.name).toLowerCase().includes(q) || String(r.code || "").toLowerCase().includes(q)));
      tableBox.replaceChildren(dataTable({ columns, rows: shown,
        empty: rows.length ? t("children.empty_filter") : t("children.empty"),
        caption: tx("children.heading", { name: data(ctx.unit.name) }) }));
    };

    const filters = el("fieldset", { class: "filters" }, el("legend", {}, t("children.filter")),
      ["all", "pending", "confirmed"].map((key) => {
        const id = `children-filter-${key}`;
        return el("span", { class: "radio" },
          el("input", { type: "radio", name: "children-filter", id, value: key,
            checked: state.filter === key,
            onchange: () => { state.filter = key; draw(); } }),
          el("label", { for: id }, t(`children.filter.${key}`, { n: num(counts[key]) })));
      }));
    const search = el("input", { type: "search", id: "children-q", value: state.q,
      oninput: (ev) => { state.q = ev.target.value; draw(); } });
    section.append(el("div", { class: "toolbar" }, filters,
      el("div", { class: "field" }, el("label", { for: "children-q" }, t("children.search")), search)), tableBox);
    draw();
    return root;
  },
};
