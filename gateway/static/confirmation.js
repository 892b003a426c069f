// Confirmation panel: a unit's state in the selected round, its children's
// progress, and the confirm / revoke buttons the signed-in user may use.
"use strict";
(function () {
  const { api, el, state } = window.LEC;
  const CONFIRMING = ["department", "province", "lao", "school", "cdc"];

  function countsText(c) {
    const grades = Object.entries(c.by_grade || {}).map(([g, n]) => `${g} ${n}`).join(" · ");
    return `${c.total}` + (grades ? ` (${grades})` : "");
  }

  function isStrictAncestor(unit) {
    const mine = state.user.org_unit && state.user.org_unit.path;
    return !!mine && unit.path.startsWith(mine) && unit.path !== mine;
  }

  async function act(method, path, body) {
    // one key per click: a retried request is answered, not repeated
    const key = `${method}-${path}-${Date.now()}-${Math.random().toString(16).slice(2)}`;
    const headers = { "Accept": "application/json", "Content-Type": "application/json",
      "Authorization": "Bearer " + state.token, "Idempotency-Key": key };
    const r = await fetch("/api/v1" + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await r.json();
    if (!r.ok) {
      const pending = data.pending ? ` (pending: ${data.pending.join(", ")})` : "";
      throw new Error((data.description || data.title) + pending);
    }
    return data;
  }

  async function confirmationPanel(unit, round) {
    if (!round || !CONFIRMING.includes(unit.type)) return null;
    const path = `/rounds/${round.id}/confirmations/${unit.id}`;
    const s = await api("GET", path);
    const box = el("div", { class: "panel confirmation" });
    const message = el("p", { class: "error" });
    const refresh = async () => box.replaceWith(await confirmationPanel(unit, round));

    box.append(el("h3", {}, "Confirmation · การยืนยันข้อมูล"),
      el("p", {}, "State: ", el("span", { class: "badge " + s.state }, s.state),
        s.saga ? ` (${s.saga}…)` : "",
        s.confirmed_at ? ` · ${new Date(s.confirmed_at).toLocaleString("th-TH")} by ${s.confirmed_by_username || s.confirmed_by}` : ""),
      el("p", {}, `Learners (${s.counts_source}): `, countsText(s.counts)));
    if (s.other_schools) box.append(el("p", {}, "Other-affiliation schools: ", countsText(s.other_schools)));
    if (s.revoke_reason && s.state === "open") box.append(el("p", { class: "muted" }, `Last revoked: ${s.revoke_reason}`));

    if (s.children.items.length) {
      box.append(el("p", {}, `Children confirmed: ${s.children.confirmed} / ${s.children.total}`,
        el("progress", { max: Math.max(1, s.children.total), value: s.children.confirmed })));
      const rows = s.children.items.map((c) => el("tr", { class: c.blocking ? "" : "muted" },
        el("td", {}, c.name || c.code), el("td", {}, c.type), el("td", {}, c.status),
        el("td", {}, el("span", { class: "badge " + c.state }, c.state)),
        el("td", {}, c.total === null ? "" : String(c.total))));
      box.append(el("table", {}, el("tr", {}, el("th", {}, "Unit"), el("th", {}, "Type"), el("th", {}, "Status"),
        el("th", {}, "State"), el("th", {}, "Confirmed learners")), rows));
    }

    if (s.state === "open" && unit.id === state.user.org_unit_id) {
      box.append(el("button", { onclick: async () => {
        try { await act("POST", path); refresh(); } catch (e) { message.textContent = e.message; }
      } }, "Confirm · ยืนยันข้อมูล"));
    }
    if (s.state === "confirmed" && isStrictAncestor(unit)) {
      const reason = el("input", { placeholder: "reason · เหตุผล", required: "" });
      box.append(reason, el("button", { class: "secondary", onclick: async () => {
        if (!reason.value.trim()) { message.textContent = "a reason is required"; return; }
        try { await act("DELETE", path, { reason: reason.value.trim() }); refresh(); }
        catch (e) { message.textContent = e.message; }
      } }, "Revoke · ยกเลิกการยืนยัน"));
    }
    box.append(message);
    return box;
  }

  window.LEC.panels.push(confirmationPanel);
})();
