// Choosing a unit anywhere in the officer's subtree: a list of the units at hand (the viewed
// unit and those directly below it) and a search box (a code or part of a name) over the whole
// subtree, GET /org-units/{id}/descendants. The search follows the ARIA combobox pattern:
// arrow keys move through the results, Enter chooses, Escape closes; each result shows the
// unit's name, type, code and the units above it. The chosen unit is named below the fields.
import { api, errorText } from "./api.js";
import { num, register, t } from "./i18n.js";
import { el, field, uid } from "./ui.js";

register({
  th: {
    "unitpicker.search": "ค้นหาหน่วยงานในสังกัด",
    "unitpicker.search_hint": "พิมพ์รหัสหรือส่วนหนึ่งของชื่อหน่วยงาน แล้วเลื่อนด้วยปุ่มลูกศรและกดปุ่มเอนเทอร์เพื่อเลือก หรือคลิกที่รายการ",
    "unitpicker.results": "หน่วยงานที่พบ",
    "unitpicker.searching": "กำลังค้นหา…",
    "unitpicker.none": "ไม่พบหน่วยงานที่ตรงกับ “{q}”",
    "unitpicker.found": "พบ {total} หน่วยงาน",
    "unitpicker.found_some": "พบ {total} หน่วยงาน แสดง {shown} รายการแรก พิมพ์เพิ่มเพื่อให้แคบลง",
    "unitpicker.code": "รหัส",
    "unitpicker.under": "สังกัด",
    "unitpicker.chosen": "หน่วยงานที่เลือก:",
    "unitpicker.nothing": "ยังไม่ได้เลือกหน่วยงาน",
    "unitpicker.placeholder": "— เลือกหน่วยงาน —",
    "unitpicker.not_allowed": "เลือกหน่วยงานนี้ไม่ได้",
  },
  en: {
    "unitpicker.search": "Search the units of your subtree",
    "unitpicker.search_hint": "Type a code or part of a unit's name, then choose from the list with the arrow keys and Enter, or click",
    "unitpicker.results": "Units found",
    "unitpicker.searching": "Searching…",
    "unitpicker.none": "No unit matches “{q}”",
    "unitpicker.found": "{total} units found",
    "unitpicker.found_some": "{total} units found; the first {shown} are shown: type more to narrow them",
    "unitpicker.code": "code",
    "unitpicker.under": "under",
    "unitpicker.chosen": "Chosen unit:",
    "unitpicker.nothing": "No unit chosen yet",
    "unitpicker.placeholder": "— choose a unit —",
    "unitpicker.not_allowed": "This unit cannot be chosen",
  },
});

// the picker's own styles, next to this module
if (!document.querySelector("link[data-unitpicker]")) {
  document.head.append(el("link", { rel: "stylesheet", href: new URL("./unitpicker.css", import.meta.url).href, dataset: { unitpicker: "1" } }));
}

const SHOWN = 20; // results shown at once
const DEBOUNCE = 250; // ms after the last key

// unit id -> name (the trail of units above a result), and the lookups under way
const names = new Map();
const lookups = new Map();

function remember(units) {
  for (const u of units || []) if (u && u.id) names.set(u.id, u.name);
}

// {id: name} of the given unit ids, read once each (GET /org-units/{id}); unknown ids are left out
export async function unitNames(ids, signal) {
  const wanted = [...new Set(ids)].filter((id) => id && !names.has(id));
  await Promise.all(wanted.map((id) => {
    if (!lookups.has(id)) {
      lookups.set(id, api("GET", `/org-units/${id}`).then((u) => { names.set(u.id, u.name); return u; })
        .catch(() => null).finally(() => lookups.delete(id)));
    }
    return lookups.get(id);
  }));
  if (signal && signal.aborted) throw new DOMException("aborted", "AbortError");
  return new Map(ids.filter((id) => names.has(id)).map((id) => [id, names.get(id)]));
}

function pathIds(path) {
  return String(path || "").split("/").filter(Boolean).map(Number);
}

// the units between the root (not shown) and the unit (not shown either)
function between(unit, rootId) {
  const ids = pathIds(unit.path);
  const from = ids.indexOf(rootId);
  return ids.slice(from + 1, -1);
}

function optionLabel(u) {
  return `${u.name} (${t(`type.${u.type}`)} · ${u.code})`;
}

// unitPicker({rootId, nearby, selected, id, name, label, hint, status, accept, onChange})
// -> {node, value (the chosen id or null), unit (the chosen unit or null), choose(unit)}
//  rootId:   the unit whose subtree is searched (the officer's own)
//  nearby:   the units offered in the list at once
//  status:   only units of this status are found (e.g. "active")
//  accept:   (unit) -> whether it may be chosen (the others are not listed)
export function unitPicker({ rootId, nearby = [], selected = null, id = "f-org_unit_id", name = "org_unit_id",
  label, hint, status = null, accept = () => true, onChange = null }) {
  remember(nearby);
  const known = new Map(nearby.filter(accept).map((u) => [u.id, u]));
  const select = el("select", { id, name, translate: "no" });
  const placeholder = el("option", { value: "" }, t("unitpicker.placeholder"));
  const fill = () => {
    select.replaceChildren(...(known.size ? [] : [placeholder]),
      ...[...known.values()].map((u) => el("option", { value: String(u.id) }, optionLabel(u))));
  };
  fill();

  const listId = uid("unit-results");
  const statusId = uid("unit-status");
  const search = el("input", {
    type: "text", id: `${id}-search`, name: `${name}-search`, role: "combobox", autocomplete: "off",
    autocapitalize: "none", spellcheck: "false", maxlength: "100",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
  });
  const list = el("ul", { id: listId, role: "listbox", class: "unit-results", "aria-label": t("unitpicker.results"), hidden: true });
  const line = el("p", { id: statusId, class: "unit-search-status hint", "aria-live": "polite" });
  const chosen = el("p", { class: "unit-chosen", "aria-live": "polite" });

  let current = null; // the chosen unit
  let results = []; // the units listed
  let active = -1; // the option under the keyboard
  let timer = null;
  let controller = null;
  let generation = 0;

  function showChosen() {
    if (!current) {
      chosen.replaceChildren(el("span", { class: "muted" }, t("unitpicker.nothing")));
      return;
    }
    chosen.replaceChildren(el("span", { class: "unit-chosen-label" }, t("unitpicker.chosen")), " ",
      el("strong", { translate: "no", class: "unit-chosen-name" }, current.name), " ",
      el("span", { class: "unit-chosen-meta" }, `(${t(`type.${current.type}`)} · ${t("unitpicker.code")} `,
        el("span", { translate: "no" }, current.code), ")"));
    chosen.dataset.unit = String(current.id);
  }

  function choose(unit, { focus = false } = {}) {
    if (!unit || !accept(unit)) return;
    remember([unit]);
    if (!known.has(unit.id)) {
      known.set(unit.id, unit);
      fill();
    }
    current = unit;
    select.value = String(unit.id);
    showChosen();
    close();
    search.value = "";
    line.textContent = "";
    if (focus) select.focus();
    if (onChange) onChange(unit);
  }

  function close() {
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function open() {
    if (!results.length) return;
    list.hidden = false;
    search.setAttribute("aria-expanded", "true");
  }

  function highlight(index) {
    const options = [...list.querySelectorAll("[role=option]")];
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", String(i === active)));
    search.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  }

  function trail(u) {
    const above = between(u, rootId).map((i) => names.get(i)).filter(Boolean);
    return above.join(" › ");
  }

  function renderResults(found, total, q) {
    results = found;
    active = -1;
    list.replaceChildren(...found.map((u) => {
      const parents = el("span", { class: "unit-option-parents", translate: "no" }, trail(u));
      const option = el("li", { role: "option", id: uid("unit-option"), "aria-selected": "false", class: "unit-option", dataset: { id: String(u.id) } },
        el("span", { class: "unit-option-name", translate: "no" }, u.name),
        el("span", { class: "unit-option-meta" },
          el("span", {}, t(`type.${u.type}`)), " · ", el("span", {}, `${t("unitpicker.code")} `), el("span", { translate: "no" }, u.code),
          between(u, rootId).length ? [" · ", el("span", {}, `${t("unitpicker.under")} `), parents] : null));
      option.addEventListener("mousedown", (e) => e.preventDefault()); // the search box keeps the focus
      option.addEventListener("click", () => choose(u));
      return option;
    }));
    if (!found.length) line.textContent = t("unitpicker.none", { q });
    else if (total > found.length) line.textContent = t("unitpicker.found_some", { total: num(total), shown: num(found.length) });
    else line.textContent = t("unitpicker.found", { total: num(total) });
    if (found.length) open(); else close();
    // the names of the units above the results, filled in as they arrive
    const missing = found.flatMap((u) => between(u, rootId)).filter((i) => !names.has(i));
    if (missing.length) {
      const mine = generation;
      unitNames(missing).then(() => {
        if (mine !== generation) return;
        for (const option of list.querySelectorAll("[role=option]")) {
          const u = found.find((x) => String(x.id) === option.dataset.id);
          const span = option.querySelector(".unit-option-parents");
          if (u && span) span.textContent = trail(u);
        }
      }).catch(() => {});
    }
  }

  async function run(q) {
    const mine = ++generation;
    if (controller) controller.abort();
    if (!q) {
      results = [];
      list.replaceChildren();
      close();
      line.textContent = "";
      delete search.dataset.q;
      return;
    }
    controller = new AbortController();
    line.textContent = t("unitpicker.searching");
    search.dataset.busy = "true";
    const params = new URLSearchParams({ q, limit: String(SHOWN) });
    if (status) params.set("status", status);
    try {
      const answer = await api("GET", `/org-units/${rootId}/descendants?${params}`, undefined, { signal: controller.signal });
      if (mine !== generation) return;
      const found = (answer.items || []).filter(accept);
      remember(found);
      renderResults(found, answer.total - ((answer.items || []).length - found.length), q);
      search.dataset.q = q;
    } catch (e) {
      if (e.name === "AbortError" || mine !== generation) return;
      results = [];
      list.replaceChildren();
      close();
      line.textContent = errorText(e);
    } finally {
      if (mine === generation) delete search.dataset.busy;
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    const q = search.value.trim();
    timer = setTimeout(() => run(q), DEBOUNCE);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!results.length) return;
      e.preventDefault();
      if (list.hidden) open();
      highlight(active < 0 ? (e.key === "ArrowDown" ? 0 : -1) : active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter") {
      if (!list.hidden && active >= 0 && results[active]) {
        e.preventDefault(); // a choice, not the form's submission
        choose(results[active]);
      } else if (!list.hidden || search.value.trim()) {
        e.preventDefault(); // typing a name never submits the form by accident
      }
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); e.stopPropagation(); close(); } else if (search.value) { search.value = ""; run(""); }
    }
  });
  search.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== search) close(); }, 150));
  search.addEventListener("focus", () => { if (results.length && search.value.trim()) open(); });
  select.addEventListener("change", () => {
    const unit = known.get(Number(select.value));
    if (unit && unit !== current) {
      current = unit;
      showChosen();
      if (onChange) onChange(unit);
    }
  });

  let first = null;
  if (selected) {
    const wanted = typeof selected === "object" ? selected.id : Number(selected);
    first = known.get(wanted) || (typeof selected === "object" && accept(selected) ? selected : null);
  }
  if (!first) first = [...known.values()][0] || null;
  if (first) {
    if (!known.has(first.id)) { known.set(first.id, first); fill(); }
    current = first;
    select.value = String(first.id);
  }
  showChosen();

  const node = el("div", { class: "unit-picker" },
    field({ label: label || t("unitpicker.results"), name, input: select, hint }),
    el("div", { class: "field unit-search", dataset: { field: `${name}-search` } },
      el("label", { for: search.id }, t("unitpicker.search")),
      el("p", { class: "hint", id: `${search.id}-hint` }, t("unitpicker.search_hint")),
      el("div", { class: "unit-combo" }, search, list),
      line),
    chosen);
  search.setAttribute("aria-describedby", `${search.id}-hint ${statusId}`);

  return {
    node,
    get value() { return current ? current.id : null; },
    get unit() { return current; },
    choose,
  };
}
