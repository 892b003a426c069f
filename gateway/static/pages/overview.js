// The unit itself: name, type, code, status, the unit it belongs to, and the units
// under it (searchable, by pages) with a link to each.
import { t, has, num, register } from "../core/i18n.js";
import { api } from "../core/api.js";
import { el, dataTable, badge, pager, field, emptyState } from "../core/ui.js";
import { formatDate } from "../core/dates.js";

register({
  th: { "overview.closed_on": "ปิดเมื่อ", "overview.child_name": "ชื่อหน่วยงาน", "overview.search_hint": "พิมพ์บางส่วนของชื่อหรือรหัส" },
  en: { "overview.closed_on": "Closed on", "overview.child_name": "Unit", "overview.search_hint": "Type part of a name or code" },
});

const PAGE_SIZE = 20;
const WITH_CHILDREN = ["department", "province", "lao"];
const LIMIT = 1000;

async function allChildren(unit, signal) {
  const items = [];
  for (let offset = 0; ; offset += LIMIT) {
    const page = await api("GET", `/org-units/${unit.id}/children?limit=${LIMIT}&offset=${offset}`, undefined, { signal });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

function readableParent(ctx) {
  const ids = ctx.unit.path.split("/").filter(Boolean).map(Number);
  const mine = ids.indexOf(ctx.user.org_unit_id);
  const at = ids.indexOf(ctx.unit.id);
  return mine >= 0 && at > mine ? ids[at - 1] : null;
}

function affiliationText(code) {
  if (!code) return null;
  return has(`affiliation.${code}`) ? t(`affiliation.${code}`) : code;
}

function details(ctx, parent) {
  const u = ctx.unit;
  const row = (label, value) => el("div", { class: "summary-row" }, el("dt", {}, label), el("dd", {}, value));
  return el("section", { class: "panel", "aria-labelledby": "overview-details" },
    el("h2", { id: "overview-details" }, t("overview.details")),
    el("dl", { class: "summary-list" },
      row(t("overview.name"), el("span", { translate: "no" }, u.name)),
      row(t("overview.type"), t(`type.${u.type}`)),
      row(t("overview.code"), el("span", { translate: "no" }, u.code)),
      row(t("overview.status"), badge(u.status)),
      u.affiliation ? row(t("overview.affiliation"), affiliationText(u.affiliation)) : null,
      u.closed_on ? row(t("overview.closed_on"), formatDate(u.closed_on)) : null,
      parent ? row(t("overview.parent"), el("a", { href: `#/u/${parent.id}/overview`, translate: "no" }, parent.name)) : null));
}

function childrenPanel(ctx, children) {
  const types = [...new Set(children.map((c) => c.type))];
  const statuses = [...new Set(children.map((c) => c.status))];
  const view = { q: "", type: "", status: "", offset: 0 };
  const results = el("div", { class: "results", id: "children-results" });
  const heading = el("h2", { id: "overview-children" }, t("overview.children", { count: num(children.length) }));

  const show = () => {
    const q = view.q.toLowerCase();
    const found = children.filter((c) => (!q || c.name.toLowerCase().includes(q) || c.code.toLowerCase().includes(q))
      && (!view.type || c.type === view.type) && (!view.status || c.status === view.status));
    if (view.offset >= found.length) view.offset = 0;
    const rows = found.slice(view.offset, view.offset + PAGE_SIZE);
    results.replaceChildren(...[
      el("p", { class: "result-count", "aria-live": "polite" }, t("common.range", {
        from: num(found.length ? view.offset + 1 : 0), to: num(Math.min(view.offset + PAGE_SIZE, found.length)), total: num(found.length),
      })),
      found.length ? dataTable({
        columns: [
          { key: "name", label: t("overview.child_name"), render: (c) => el("a", { href: `#/u/${c.id}/overview`, translate: "no" }, c.name) },
          { key: "type", label: t("overview.type"), render: (c) => t(`type.${c.type}`) },
          { key: "code", label: t("overview.code"), render: (c) => el("span", { translate: "no" }, c.code) },
          { key: "status", label: t("overview.status"), render: (c) => badge(c.status) },
        ],
        rows,
      }) : emptyState(t("overview.no_match")),
      pager({ total: found.length, limit: PAGE_SIZE, offset: view.offset, onPage: (o) => { view.offset = o; show(); heading.scrollIntoView({ block: "start" }); } }),
    ].filter(Boolean));
  };

  const search = el("input", { type: "search", name: "q", id: "children-q", autocomplete: "off" });
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { view.q = search.value.trim(); view.offset = 0; show(); }, 200);
  });
  const select = (name, values, label) => {
    const s = el("select", { name, id: `children-${name}` }, el("option", { value: "" }, t("overview.all")),
      values.map((v) => el("option", { value: v }, label(v))));
    s.addEventListener("change", () => { view[name] = s.value; view.offset = 0; show(); });
    return s;
  };
  const filters = el("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
    field({ label: t("overview.search"), name: "q", input: search, hint: t("overview.search_hint") }),
    types.length > 1 ? field({ label: t("overview.filter_type"), name: "type", input: select("type", types, (v) => t(`type.${v}`)) }) : null,
    statuses.length > 1 ? field({ label: t("overview.filter_status"), name: "status", input: select("status", statuses, (v) => t(`state.${v}`)) }) : null);
  show();
  return el("section", { class: "panel", "aria-labelledby": "overview-children" }, heading, filters, results);
}

async function render(ctx) {
  const parentId = readableParent(ctx);
  const [parent, children] = await Promise.all([
    parentId ? api("GET", `/org-units/${parentId}`, undefined, { signal: ctx.signal }) : null,
    WITH_CHILDREN.includes(ctx.unit.type) ? allChildren(ctx.unit, ctx.signal) : null,
  ]);
  const parts = [details(ctx, parent)];
  if (children) parts.push(children.length ? childrenPanel(ctx, children)
    : el("section", { class: "panel" }, el("h2", {}, t("overview.children", { count: 0 })), emptyState(t("overview.no_children"))));
  return el("div", { class: "overview" }, parts);
}

export default {
  id: "overview",
  title: "overview.title",
  levels: ["institution", "lao", "province", "department"],
  order: 0,
  render,
};
