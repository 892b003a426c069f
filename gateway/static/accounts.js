// Units and accounts below the signed-in user: add a unit under the open one,
// verify pending institutions, close a unit; list, create, reset and disable
// the accounts of the open unit. The API decides what is allowed; the page
// only offers what the levels may do.
"use strict";
(function () {
  const { api, el, state, panels, explain } = window.LEC;
  const CHILD_TYPES = { department: ["province"], province: ["lao"], lao: ["school", "cdc", "other_school"] };
  const NO_ACCOUNTS = ["other_school"];

  function message() { return el("p", { class: "error" }); }
  const reopen = (unit) => window.LEC.openUnit(unit.id);

  async function unitsPanel(unit) {
    const types = CHILD_TYPES[unit.type];
    if (!types) return null;
    const mine = state.user.org_unit;
    const above = mine && unit.path.startsWith(mine.path);
    if (!above) return null;
    const msg = message();
    const box = el("div", { class: "panel units" }, el("h3", {}, "Manage units · จัดการหน่วยงาน"));

    const typeSel = el("select", { name: "type" }, types.map((t) => el("option", { value: t }, t)));
    const affiliation = el("input", { name: "affiliation", placeholder: "affiliation (obec, bpp ...)", size: "16" });
    box.append(el("form", { class: "inline", onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const body = { code: f.get("code"), name: f.get("name"), type: f.get("type"), parent_id: unit.id };
      if (body.type === "other_school") body.affiliation = f.get("affiliation");
      try { await api("POST", "/org-units", body); reopen(unit); } catch (e) { msg.textContent = explain(e); }
    } },
    "Add: ", typeSel, " ", el("input", { name: "code", placeholder: "code", size: "10", required: "" }), " ",
    el("input", { name: "name", placeholder: "name", size: "28", required: "" }), " ", affiliation, " ",
    el("button", { type: "submit" }, "Add")));

    const children = await api("GET", `/org-units/${unit.id}/children?limit=1000`);
    const canVerify = ["department", "province"].includes(state.user.role);
    const rows = [];
    for (const c of children.items) {
      const actions = [];
      if (c.status === "pending" && canVerify) {
        actions.push(el("button", { onclick: async () => {
          try { await api("POST", `/org-units/${c.id}/verify`); reopen(unit); } catch (e) { msg.textContent = explain(e); }
        } }, "Verify"));
      }
      if (c.status !== "closed") {
        const day = el("input", { type: "date", value: new Date().toISOString().slice(0, 10) });
        actions.push(" ", day, " ", el("button", { class: "secondary", onclick: async () => {
          if (!confirm(`Close ${c.name}?`)) return;
          try { await api("POST", `/org-units/${c.id}/close`, { closed_on: day.value }); reopen(unit); }
          catch (e) { msg.textContent = explain(e); }
        } }, "Close"));
      }
      rows.push(el("tr", {}, el("td", {}, c.name), el("td", {}, c.type),
        el("td", {}, el("span", { class: "badge " + c.status }, c.status)), el("td", {}, actions)));
    }
    if (rows.length) {
      box.append(el("table", {}, el("tr", {}, el("th", {}, "Unit"), el("th", {}, "Type"), el("th", {}, "Status"),
        el("th", {}, "")), rows));
    }
    box.append(msg);
    return box;
  }

  async function accountsPanel(unit) {
    if (NO_ACCOUNTS.includes(unit.type)) return null;
    const users = await api("GET", `/users?org_unit_id=${unit.id}&limit=1000`);
    const msg = message();
    const box = el("div", { class: "panel accounts" }, el("h3", {}, `Accounts · ผู้ใช้งาน (${users.total})`));
    // accounts are reset or disabled by a user of a unit above theirs, not by colleagues
    const ownUnit = unit.id === state.user.org_unit_id;
    const rows = users.items.map((u) => {
      const self = u.id === state.user.id;
      const actions = self ? [el("span", { class: "muted" }, "you (Password, above)")]
        : ownUnit ? [el("span", { class: "muted" }, "changed by a unit above")] : [
        el("button", { class: "secondary", onclick: async () => {
          const password = prompt(`New password for ${u.username} (8 characters or more, not easy to guess)`);
          if (!password) return;
          try { await api("PATCH", `/users/${u.id}`, { password }); msg.textContent = `${u.username}: password reset`; }
          catch (e) { msg.textContent = explain(e); }
        } }, "Reset password"), " ",
        el("button", { class: "secondary", onclick: async () => {
          try { await api("PATCH", `/users/${u.id}`, { active: !u.active }); reopen(unit); }
          catch (e) { msg.textContent = explain(e); }
        } }, u.active ? "Disable" : "Enable")];
      return el("tr", {}, el("td", {}, u.username), el("td", {}, u.role),
        el("td", {}, el("span", { class: "badge " + (u.active ? "active" : "closed") }, u.active ? "active" : "disabled")),
        el("td", {}, u.last_login_at ? new Date(u.last_login_at).toLocaleString("th-TH") : "-"), el("td", {}, actions));
    });
    box.append(el("table", {}, el("tr", {}, el("th", {}, "Username"), el("th", {}, "Role"), el("th", {}, "Status"),
      el("th", {}, "Last sign-in"), el("th", {}, "")), rows));
    box.append(el("form", { class: "inline", onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      try {
        await api("POST", "/users", { username: f.get("username"), password: f.get("password"), org_unit_id: unit.id });
        reopen(unit);
      } catch (e) { msg.textContent = explain(e); }
    } }, "New account: ", el("input", { name: "username", placeholder: "username", required: "", size: "18" }), " ",
    el("input", { name: "password", type: "password", placeholder: "password (8+)", minlength: "8", required: "", size: "14" }),
    " ", el("button", { type: "submit" }, "Create")), msg);
    return box;
  }

  panels.push(unitsPanel, accountsPanel);
})();
