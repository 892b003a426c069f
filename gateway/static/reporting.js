// Reports panel of the portal: summary, progress and budget of the open unit
// in the chosen round, with CSV / XLSX downloads and the printable province
// forms. Uses only the public API (/api/v1/rounds/{id}/reports/...).
"use strict";
(function () {
  const { api, el, panels, state } = window.LEC;
  const MEDIA = {
    csv: "text/csv",
    xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    html: "text/html",
  };
  const GRADE = { k1: "อ.1", k2: "อ.2", k3: "อ.3", p1: "ป.1", p2: "ป.2", p3: "ป.3", p4: "ป.4", p5: "ป.5",
    p6: "ป.6", m1: "ม.1", m2: "ม.2", m3: "ม.3", m4: "ม.4", m5: "ม.5", m6: "ม.6", cdc: "ศพด." };
  const num = (n) => (n ?? 0).toLocaleString("th-TH");
  const baht = (n) => (n ?? 0).toLocaleString("th-TH", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const td = (v, cls) => el("td", cls ? { class: cls } : {}, v);
  const row = (...cells) => el("tr", {}, cells);
  const head = (...labels) => el("tr", {}, labels.map((l) => el("th", {}, l)));

  // a file needs the bearer token, so it is fetched and handed over as a blob
  async function download(path, format, name) {
    const r = await fetch("/api/v1" + path, { headers: { Accept: MEDIA[format], Authorization: "Bearer " + state.token } });
    if (!r.ok) { const e = await r.json().catch(() => ({})); throw new Error(e.description || r.statusText); }
    const url = URL.createObjectURL(await r.blob());
    if (format === "html") { window.open(url, "_blank"); return; }
    const a = el("a", { href: url, download: `${name}.${format}` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function links(path, name, formats = ["csv", "xlsx"]) {
    const labels = { csv: "CSV", xlsx: "XLSX", html: "พิมพ์" };
    return el("span", { class: "downloads" }, formats.map((f) => [" ", el("a", {
      href: "#", onclick: (e) => { e.preventDefault(); download(path, f, name).catch((err) => alert(err.message)); },
    }, labels[f])]));
  }

  function summaryBlock(s, base, unit) {
    const grades = Object.entries(s.learners.by_grade_sex);
    const ages = Object.entries(s.cdc.by_age);
    const kinds = s.confirmation.by_type;
    return el("div", {},
      el("h3", {}, "สรุป · Summary ", links(base + "summary?org_unit_id=" + unit.id, `summary-${unit.code}`)),
      el("p", {}, `นักเรียนและเด็กเล็ก ${num(s.learners.total)} คน (ชาย ${num(s.learners.by_sex.M)}, หญิง ${num(s.learners.by_sex.F)}; `
        + `G-Code ${num(s.learners.by_id_kind.g_code)}) · โรงเรียนสังกัดอื่น ${num(s.other_schools.total)} คน `
        + `(${s.other_schools.recorded}/${s.other_schools.schools} แห่งบันทึกแล้ว)`),
      grades.length ? el("table", {}, head("ชั้น", "ชาย", "หญิง", "รวม"),
        grades.map(([g, v]) => row(td(GRADE[g] || g), td(num(v.M), "num"), td(num(v.F), "num"), td(num(v.M + v.F), "num")))) : "",
      ages.length ? el("p", {}, "เด็กเล็กตามอายุ: " + ages.map(([a, n]) => `${a} ปี ${num(n)}`).join(" · ")) : "",
      Object.keys(kinds).length ? el("p", {}, "ยืนยันแล้ว: " + Object.entries(kinds)
        .map(([t, v]) => `${t} ${v.confirmed}/${v.total}`).join(" · ")) : "");
  }

  function progressBlock(p, base, unit) {
    if (!p.items.length) return el("p", {}, "สถานะการยืนยัน: ", el("span", { class: "badge " + p.state }, p.state));
    return el("div", {},
      el("h3", {}, `ความก้าวหน้า · Progress (${p.confirmed}/${p.total}) `,
        links(base + "progress?org_unit_id=" + unit.id, `progress-${unit.code}`)),
      el("table", {}, head("หน่วยงาน", "สถานะ", "ยืนยันเมื่อ", "โดย", "จำนวน", "สถานศึกษายืนยัน"),
        p.items.map((i) => row(td(i.unit.name), td(i.state ? el("span", { class: "badge " + i.state }, i.state) : "-"),
          td(i.confirmed_at ? new Date(i.confirmed_at).toLocaleString("th-TH") : ""), td(i.confirmed_by_username ?? i.confirmed_by ?? ""),
          td(num(i.counts.total), "num"), td(`${i.institutions.confirmed}/${i.institutions.total}`, "num")))));
  }

  function budgetBlock(b, base, unit) {
    const t = b.totals.all;
    return el("div", {},
      el("h3", {}, "งบประมาณ (เฉพาะข้อมูลที่ยืนยันแล้ว) · Budget ",
        links(base + "budget?org_unit_id=" + unit.id, `budget-${unit.code}`)),
      el("table", {}, head("", "อาหารกลางวัน", "อาหารเสริม (นม)", "รวม", "แห่ง"),
        [["school", "โรงเรียน อปท."], ["cdc", "ศพด."], ["other_school", "โรงเรียนสังกัดอื่น"], ["all", "รวม"]].map(([k, label]) =>
          row(td(label), td(baht(b.totals[k].lunch), "num"), td(baht(b.totals[k].milk), "num"),
            td(baht(b.totals[k].total), "num"), td(num(b.totals[k].units), "num")))),
      el("p", { class: b.unconfirmed.total ? "error" : "muted" },
        `ยังไม่ยืนยัน ${num(b.unconfirmed.total)} หน่วย (ไม่นำมาคำนวณ) · confirmed total ${baht(t.total)} THB`));
  }

  async function formsBlock(unit, round, base) {
    if (!["province", "lao", "department"].includes(unit.type)) return "";
    const forms = await api("GET", `/rounds/${round.id}/reports/forms`);
    return el("div", {}, el("h3", {}, "แบบรายงานจังหวัด · Province forms"),
      el("ul", {}, forms.items.map((f) => el("li", {}, `สิ่งที่ส่งมาด้วย ${f.enclosure}: ${f.title} `,
        links(`${base}forms/${f.enclosure}?org_unit_id=${unit.id}`, `form${f.enclosure}-${unit.code}`, ["csv", "xlsx", "html"])))));
  }

  async function reportsPanel(unit, round) {
    if (!round || unit.type === "other_school") return null;
    const base = `/rounds/${round.id}/reports/`;
    const q = `?org_unit_id=${unit.id}`;
    const [s, p, b] = await Promise.all([api("GET", base + "summary" + q), api("GET", base + "progress" + q),
      api("GET", base + "budget" + q + "&limit=1")]);
    return el("section", { class: "reports" }, el("h2", {}, `รายงาน · Reports (${round.academic_year}/${round.number})`),
      summaryBlock(s, base, unit), progressBlock(p, base, unit), budgetBlock(b, base, unit),
      await formsBlock(unit, round, base));
  }

  panels.push(reportsPanel);
})();
