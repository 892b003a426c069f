// Enrollment panels: an institution's learners (list, search, add, remove,
// file import, export, carry-over) and the headcounts of an LAO's schools of
// other affiliations. Each panel is a function (unit, round) -> element.
"use strict";
(function () {
  const { api, panels, el, state } = window.LEC;
  const GRADES = {
    school: ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6"],
    cdc: ["cdc"],
  };
  const HEADCOUNT_GRADES = GRADES.school;
  const REASONS = { moved_out: "ย้ายออก", not_found: "ไม่มีตัวตน", graduated: "จบการศึกษา",
    duplicate: "ซ้ำ", deceased: "เสียชีวิต", other: "อื่น ๆ" };
  const PAGE = 50;

  function authHeaders(extra = {}) {
    return Object.assign({ Authorization: "Bearer " + state.token }, extra);
  }

  async function sendFile(path, file) {
    const type = /\.xlsx$/i.test(file.name)
      ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
    const r = await fetch("/api/v1" + path, { method: "POST", headers: authHeaders({ "Content-Type": type }), body: file });
    const data = await r.json();
    if (!r.ok) { const e = new Error(data.description || data.title); e.data = data; throw e; }
    return data;
  }

  async function download(path, name) {
    const r = await fetch("/api/v1" + path, { headers: authHeaders() });
    if (!r.ok) throw new Error((await r.json()).description);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function field(label, input) { return el("label", {}, label + " ", input); }
  function select(name, values, labels = {}) {
    return el("select", { name }, values.map((v) => el("option", { value: v }, labels[v] || v)));
  }

  async function learnersPanel(unit, round) {
    if (!round || !GRADES[unit.type]) return null;
    const base = `/rounds/${round.id}/institutions/${unit.id}/learners`;
    const mine = state.user.org_unit_id === unit.id;
    const message = el("p", { class: "error" });
    const info = el("p", { class: "muted" });
    const summary = el("p", {});
    const table = el("table", {});
    const pager = el("div", {});
    let offset = 0, q = "";

    function fail(e) { message.textContent = e.message + (e.data && e.data.held_by ? ` (#${e.data.held_by})` : ""); }

    async function refresh() {
      message.textContent = "";
      const s = await api("GET", `${base}/summary`);
      const grades = Object.entries(s.counts.by_grade).map(([g, n]) => `${g}: ${n}`).join(" · ");
      summary.replaceChildren(`ผู้เรียน ${s.counts.total} คน `, el("span", { class: "muted" }, grades),
        s.sealed.sealed ? el("span", { class: "badge confirmed" }, " ยืนยันแล้ว · sealed") : "");
      const list = await api("GET", `${base}?limit=${PAGE}&offset=${offset}&q=${encodeURIComponent(q)}`);
      const head = el("tr", {}, ["ID", "ชื่อ-นามสกุล", "เพศ", "วันเกิด", "ชั้น", ""].map((h) => el("th", {}, h)));
      const rows = list.items.map((l) => el("tr", {},
        el("td", {}, l.national_id || l.g_code),
        el("td", {}, [l.prefix, l.first_name, l.last_name].filter(Boolean).join(" ")),
        el("td", {}, l.sex), el("td", {}, l.birth_date), el("td", {}, l.grade),
        el("td", {}, mine && !s.sealed.sealed ? removeButton(l) : "")));
      table.replaceChildren(head, ...rows);
      pager.replaceChildren(`${list.total === 0 ? 0 : offset + 1}–${offset + list.items.length} / ${list.total} `,
        el("button", { class: "secondary", onclick: () => { offset = Math.max(0, offset - PAGE); refresh().catch(fail); } }, "‹"),
        " ",
        el("button", { class: "secondary", onclick: () => { if (offset + PAGE < list.total) { offset += PAGE; refresh().catch(fail); } } }, "›"));
    }

    function removeButton(learner) {
      const reason = select("reason", Object.keys(REASONS), REASONS);
      return el("span", {}, reason, " ", el("button", { class: "secondary", onclick: async () => {
        if (!confirm(`นำ ${learner.first_name} ${learner.last_name} ออก (${REASONS[reason.value]})?`)) return;
        try { await api("DELETE", `/learners/${learner.id}?reason=${reason.value}`); await refresh(); } catch (e) { fail(e); }
      } }, "นำออก"));
    }

    const search = el("form", { onsubmit: (ev) => { ev.preventDefault(); q = new FormData(ev.target).get("q"); offset = 0; refresh().catch(fail); } },
      el("input", { name: "q", placeholder: "ชื่อ หรือ เลขประจำตัว · name or ID" }), " ", el("button", { type: "submit" }, "ค้นหา"));

    const parts = [el("h3", {}, "ผู้เรียน · Learners"), summary, search, message, table, pager];
    parts.push(el("p", {},
      el("button", { class: "secondary", onclick: () => download(`${base}/export?format=csv`, `learners-${unit.code}.csv`).catch(fail) }, "ส่งออก CSV"), " ",
      el("button", { class: "secondary", onclick: () => download(`${base}/export?format=xlsx`, `learners-${unit.code}.xlsx`).catch(fail) }, "ส่งออก XLSX")));

    if (mine) {
      const add = el("form", { onsubmit: async (ev) => {
        ev.preventDefault();
        const data = Object.fromEntries([...new FormData(ev.target)].filter(([, v]) => v !== ""));
        try { await api("POST", base, data); ev.target.reset(); info.textContent = "บันทึกแล้ว · saved"; await refresh(); }
        catch (e) { fail(e); }
      } },
        field("เลขประจำตัวประชาชน", el("input", { name: "national_id", inputmode: "numeric", maxlength: "17" })),
        field("หรือ G-Code", el("input", { name: "g_code", maxlength: "13" })),
        field("คำนำหน้า", el("input", { name: "prefix" })),
        field("ชื่อ", el("input", { name: "first_name", required: "" })),
        field("นามสกุล", el("input", { name: "last_name", required: "" })),
        field("เพศ", select("sex", ["M", "F"], { M: "ชาย", F: "หญิง" })),
        field("วันเกิด", el("input", { name: "birth_date", type: "date", required: "" })),
        field("ชั้น", select("grade", GRADES[unit.type])),
        field("สัญชาติ", el("input", { name: "nationality", value: "ไทย" })),
        el("button", { type: "submit" }, "เพิ่มผู้เรียน · Add"));
      const file = el("input", { type: "file", accept: ".csv,.xlsx,text/csv" });
      const report = el("div", {});
      const upload = el("button", { onclick: async () => {
        if (!file.files.length) return;
        report.textContent = "กำลังนำเข้า … importing …";
        try {
          const r = await sendFile(`${base}/import`, file.files[0]);
          report.replaceChildren(el("p", {}, `นำเข้า ${r.accepted} · มีอยู่แล้ว ${r.unchanged} · ไม่ผ่าน ${r.rejected_total}`),
            r.rejected.length ? el("table", {}, el("tr", {}, el("th", {}, "แถว"), el("th", {}, "code"), el("th", {}, "message")),
              r.rejected.slice(0, 200).map((x) => el("tr", {}, el("td", { class: "num" }, x.row), el("td", {}, x.code),
                el("td", {}, x.message + (x.held_by ? ` (#${x.held_by})` : ""))))) : "");
          await refresh();
        } catch (e) { report.textContent = ""; fail(e); }
      } }, "นำเข้าไฟล์ · Import");
      parts.push(el("details", {}, el("summary", {}, "เพิ่มผู้เรียน · Add a learner"), add, info));
      parts.push(el("details", {}, el("summary", {}, "นำเข้าจากไฟล์ CSV / XLSX · Import a file"),
        el("p", { class: "muted" }, "หัวคอลัมน์: เลขประจำตัวประชาชน (หรือ รหัส G), คำนำหน้า, ชื่อ, นามสกุล, เพศ, วันเกิด, ชั้น, สัญชาติ"),
        file, " ", upload, report));
      if (Number(round.number) === 2) {
        parts.push(el("p", {}, el("button", { class: "secondary", onclick: async () => {
          try {
            const r = await api("POST", `${base}/carry-over`);
            info.textContent = `ยกยอดจากรอบที่ 1: ${r.copied} คน · มีอยู่แล้ว ${r.unchanged} · ข้าม ${r.skipped.length}`;
            await refresh();
          } catch (e) { fail(e); }
        } }, "ยกยอดผู้เรียนจากรอบที่ 1 · Carry over round 1")));
      }
    }
    await refresh();
    return el("div", {}, parts);
  }

  function headcountRow(round, school, editable, onSaved) {
    const inputs = HEADCOUNT_GRADES.map((g) => el("input", { type: "number", min: "0", size: "3",
      value: school.counts.by_grade[g] || "", "aria-label": g }));
    const save = el("button", { onclick: async () => {
      const counts = {};
      HEADCOUNT_GRADES.forEach((g, i) => { if (inputs[i].value !== "") counts[g] = Number(inputs[i].value); });
      try { await api("PUT", `/rounds/${round.id}/institutions/${school.school_id}/headcount`, { counts }); await onSaved(); }
      catch (e) { alert(e.message); }
    } }, "บันทึก");
    const cells = editable && !school.closed && !school.sealed ? inputs.map((i) => el("td", {}, i))
      : HEADCOUNT_GRADES.map((g) => el("td", { class: "num" }, school.counts.by_grade[g] || ""));
    return el("tr", {}, el("td", {}, school.name || `#${school.school_id}`,
      school.closed ? el("span", { class: "badge closed" }, " ปิด") : ""),
    ...cells, el("td", { class: "num" }, school.counts.total),
    el("td", {}, editable && !school.closed && !school.sealed ? save : (school.sealed ? "sealed" : "")));
  }

  async function headcountPanel(unit, round) {
    if (!round || unit.type !== "lao") return null;
    const box = el("div", {});
    async function refresh() {
      const list = await api("GET", `/rounds/${round.id}/laos/${unit.id}/headcounts`);
      if (!list.total) { box.replaceChildren(); return; }
      const editable = state.user.org_unit_id === unit.id;
      box.replaceChildren(el("h3", {}, "จำนวนนักเรียนโรงเรียนสังกัดอื่น · Other-affiliation schools"),
        el("table", {}, el("tr", {}, el("th", {}, "โรงเรียน"), HEADCOUNT_GRADES.map((g) => el("th", {}, g)),
          el("th", {}, "รวม"), el("th", {}, "")),
        list.items.map((s) => headcountRow(round, s, editable, refresh))));
    }
    await refresh();
    return box;
  }

  panels.push(learnersPanel, headcountPanel);
})();
