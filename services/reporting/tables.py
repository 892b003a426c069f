"""Every report as a table with Thai headings: what the CSV, XLSX and print
views are made of (``gateway.render``), and the province report
forms of the department's letter of 26 August 2019 (enclosures 2-5).

A table is ``{key, enclosure, title, subtitle: [..], sections: [{name,
columns: [{key, label, group, type}], rows: [[..]], total: [..] | None}],
footer: [..]}``; ``type`` is ``text``, ``int`` or ``money``. Pure functions of
the report dicts of ``services.reporting.queries``.
"""
from collections import Counter

from services.reporting import domain

SIGNATURE = [
    "ลงชื่อ ...................................................... ผู้รายงาน",
    "(......................................................)",
    "ตำแหน่ง ......................................................",
    "วันที่ ........ เดือน ................................ พ.ศ. ..............",
]


def col(key, label, type="int", group=None):
    return {"key": key, "label": label, "type": type, "group": group}


def section(name, columns, rows, total=None):
    return {"name": name, "columns": columns, "rows": rows, "total": total}


def table(key, title, report, sections, enclosure=None, footer=None, extra_subtitle=()):
    rnd, unit = report["round"], report["org_unit"]
    subtitle = [f"{domain.UNIT_TYPE_LABELS.get(unit['type'], '')} {unit['name']} (รหัส {unit['code']})".strip(),
                f"{domain.round_label(rnd['academic_year'], rnd['number'])} "
                f"ข้อมูล ณ วันที่ {domain.thai_date(rnd['census_date'])}",
                *extra_subtitle]
    return {"key": key, "enclosure": enclosure, "title": title, "subtitle": subtitle,
            "sections": sections, "footer": footer or []}


def totals_row(rows, columns, label_cols=1, label="รวม"):
    total = [label] + [""] * (label_cols - 1)
    for i, column in enumerate(columns[label_cols:], start=label_cols):
        if column["type"] in ("int", "money"):
            total.append(round(sum(r[i] or 0 for r in rows), 2) if column["type"] == "money"
                         else sum(r[i] or 0 for r in rows))
        else:
            total.append("")
    return total


def unit_columns():
    return [col("no", "ที่", "int"), col("code", "รหัส", "text"), col("name", "ชื่อหน่วยงาน", "text")]


def unit_cells(i, unit):
    return [i, unit["code"], unit["name"]]


# -- the live reports ----------------------------------------------------------------

def summary_table(report):
    learners, cdc, other, conf = (report["learners"], report["cdc"], report["other_schools"],
                                  report["confirmation"])
    grade_cols = [col("grade", "ชั้น", "text"), col("male", "ชาย"), col("female", "หญิง"), col("total", "รวม")]
    grade_rows = [[domain.GRADE_LABELS[g], v["M"], v["F"], v["M"] + v["F"]]
                  for g, v in learners["by_grade_sex"].items()]
    kind_rows = [["เลขประจำตัวประชาชน", learners["by_id_kind"]["national_id"]],
                 ["รหัส G-Code (ไม่มีหลักฐานทางทะเบียนราษฎร)", learners["by_id_kind"]["g_code"]]]
    age_rows = [[f"{age} ปี", n] for age, n in cdc["by_age"].items()]
    other_rows = [[domain.GRADE_LABELS[g], n] for g, n in other["by_grade"].items()]
    progress_rows = [[domain.UNIT_TYPE_LABELS[t], v["total"], v["confirmed"], v["total"] - v["confirmed"]]
                     for t, v in conf["by_type"].items()]
    two = [col("item", "รายการ", "text"), col("n", "จำนวน")]
    return table("summary", "สรุปจำนวนนักเรียนและเด็กเล็ก", report, [
        section("นักเรียนและเด็กเล็กจำแนกตามชั้นและเพศ", grade_cols, grade_rows,
                totals_row(grade_rows, grade_cols)),
        section("จำแนกตามประเภทเลขประจำตัว", two, kind_rows, totals_row(kind_rows, two)),
        section("เด็กเล็กจำแนกตามอายุ ณ วันเก็บข้อมูล", [col("age", "อายุ", "text"), col("n", "จำนวน")],
                age_rows, totals_row(age_rows, two)),
        section(f"โรงเรียนสังกัดอื่น ({other['recorded']} จาก {other['schools']} แห่ง บันทึกแล้ว)",
                [col("grade", "ชั้น", "text"), col("n", "จำนวนนักเรียน")], other_rows,
                totals_row(other_rows, two)),
        section(f"การยืนยันข้อมูล (สถานะของหน่วยงาน: {domain.STATE_LABELS[conf['state']]})",
                [col("type", "ประเภทหน่วยงาน", "text"), col("total", "ทั้งหมด"), col("confirmed", "ยืนยันแล้ว"),
                 col("open", "ยังไม่ยืนยัน")], progress_rows),
        *_staff_sections(report),
    ])


def _staff_sections(report):
    """The caregivers and teachers by position (reports made before staff were counted have none)."""
    from services.common.staff import POSITIONS
    if "staff" not in report:
        return []
    two = [col("position", "ตำแหน่ง", "text"), col("n", "จำนวน (คน)")]
    rows = [[POSITIONS[p], n] for p, n in report["staff"]["by_position"].items()]
    return [section("ครูผู้ดูแลเด็ก ผู้ดูแลเด็ก และครู จำแนกตามตำแหน่ง", two, rows, totals_row(rows, two))]


def _staff_positions():
    from services.common.staff import POSITIONS
    return list(POSITIONS.items())


def progress_table(report):
    columns = unit_columns() + [
        col("type", "ประเภท", "text"), col("state", "สถานะการยืนยัน", "text"),
        col("confirmed_at", "ยืนยันเมื่อ", "text"), col("confirmed_by", "ผู้ยืนยัน", "text"),
        col("total", "จำนวนนักเรียน/เด็กเล็ก"), col("confirmed_total", "จำนวนที่ยืนยัน"),
        col("institutions", "สถานศึกษา (แห่ง)"), col("institutions_confirmed", "สถานศึกษายืนยันแล้ว (แห่ง)")]
    columns += [col(f"staff_{p}", label, group="บุคลากร (คน)") for p, label in _staff_positions()]
    rows = []
    for i, item in enumerate(report["items"], start=1):
        rows.append(unit_cells(i, item["unit"]) + [
            domain.UNIT_TYPE_LABELS[item["unit"]["type"]], domain.STATE_LABELS[item["state"]],
            item["confirmed_at"] or "", item["confirmed_by_username"] or item["confirmed_by"] or "",
            item["counts"]["total"],
            (item["confirmed_counts"] or {}).get("total", 0),
            item["institutions"]["total"], item["institutions"]["confirmed"]]
            + [(item.get("staff") or {}).get("by_position", {}).get(p, 0) for p, _ in _staff_positions()])
    return table("progress", "ความก้าวหน้าการบันทึกและยืนยันข้อมูล", report, [
        section(f"ยืนยันแล้ว {report['confirmed']} จาก {report['total']} หน่วยงาน", columns, rows,
                totals_row(rows, columns, label_cols=3) if rows else None)])


def _money_columns():
    return [col("lunch_pupils", "นักเรียนที่ได้รับอาหารกลางวัน"), col("lunch", "ค่าอาหารกลางวัน (บาท)", "money"),
            col("milk_pupils", "นักเรียนที่ได้รับอาหารเสริม (นม)"), col("milk", "ค่าอาหารเสริม (นม) (บาท)", "money"),
            col("total", "รวม (บาท)", "money")]


def budget_table(report):
    sections = []
    row_cols = unit_columns() + [col("units", "สถานศึกษาที่ยืนยันแล้ว (แห่ง)")] + _money_columns()
    rows = [unit_cells(i, r["unit"]) + [r["units"], r["lunch_pupils"], r["lunch"], r["milk_pupils"],
                                         r["milk"], r["total"]]
            for i, r in enumerate(report["rows"], start=1)]
    if rows:
        sections.append(section("งบประมาณจำแนกตามหน่วยงาน (เฉพาะข้อมูลที่ยืนยันแล้ว)", row_cols, rows,
                                totals_row(rows, row_cols, label_cols=3)))
    line_cols = unit_columns() + [col("type", "ประเภท", "text"), col("band", "ขนาด (คน)", "text"),
                                  col("rate", "อัตรา (บาท/คน/วัน)", "money")] + _money_columns()
    lines = [unit_cells(i, ln["unit"]) + [
        domain.UNIT_TYPE_LABELS[ln["unit"]["type"]], ln["lunch_band"] or "", ln["lunch_rate"],
        ln["lunch_pupils"], ln["lunch"], ln["milk_pupils"], ln["milk"], ln["total"]]
        for i, ln in enumerate(report["lines"], start=1)]
    if lines:
        sections.append(section("รายสถานศึกษา", line_cols, lines, totals_row(lines, line_cols, label_cols=3)))
    kinds = [("school", "โรงเรียน อปท."), ("cdc", "ศูนย์พัฒนาเด็กเล็ก"), ("other_school", "โรงเรียนสังกัดอื่น"),
             ("all", "รวมทั้งสิ้น")]
    total_cols = [col("kind", "ประเภท", "text"), col("units", "แห่ง")] + _money_columns()
    sections.append(section("สรุป", total_cols, [
        [label, report["totals"][k]["units"], report["totals"][k]["lunch_pupils"], report["totals"][k]["lunch"],
         report["totals"][k]["milk_pupils"], report["totals"][k]["milk"], report["totals"][k]["total"]]
        for k, label in kinds]))
    pending = report["unconfirmed"]["items"]
    pending_cols = unit_columns() + [col("type", "ประเภท", "text"), col("live_total", "จำนวนที่บันทึกไว้ (ยังไม่ยืนยัน)")]
    sections.append(section(f"หน่วยงานที่ยังไม่ยืนยันข้อมูล ({report['unconfirmed']['total']} แห่ง) "
                            "ไม่นำมาคำนวณงบประมาณ", pending_cols,
                            [unit_cells(i, p["unit"]) + [domain.UNIT_TYPE_LABELS[p["unit"]["type"]], p["live_total"]]
                             for i, p in enumerate(pending, start=1)]))
    return table("budget", "ประมาณการงบประมาณค่าอาหารกลางวันและอาหารเสริม (นม)", report, sections)


def comparison_table(report):
    other = report["against"]
    columns = unit_columns() + [
        col("before", f"ปีการศึกษา {other['academic_year']} ครั้งที่ {other['number']}"),
        col("current", f"ปีการศึกษา {report['round']['academic_year']} ครั้งที่ {report['round']['number']}"),
        col("change", "เพิ่ม/ลด"), col("pct", "ร้อยละ", "money")]
    rows = [unit_cells(i, it["unit"]) + [it["against"]["total"], it["current"]["total"], it["change"],
                                          it["change_pct"] if it["change_pct"] is not None else ""]
            for i, it in enumerate(report["items"], start=1)]
    total = ["รวม", "", "", report["totals"]["against"], report["totals"]["current"], report["totals"]["change"],
             report["totals"]["change_pct"] if report["totals"]["change_pct"] is not None else ""]
    return table("comparison", "เปรียบเทียบจำนวนนักเรียนระหว่างรอบการเก็บข้อมูล", report,
                 [section("เรียงตามขนาดการเปลี่ยนแปลง", columns, rows, total)])


# -- the province report forms (seed 001, enclosures 2-5) -------------------------------------

def _sex_cells(counter):
    m, f = counter.get("M", 0), counter.get("F", 0)
    return [m, f, m + f]


def _school_cube(rows):
    """Level x sex counters and G-Code pupils of school grades, from cube rows."""
    levels = {key: Counter() for key, _, _ in domain.SCHOOL_LEVELS}
    level_of = {g: key for key, _, grades in domain.SCHOOL_LEVELS for g in grades}
    all_sex, g_code = Counter(), 0
    for grade, sex, id_kind, _age, n in rows:
        if grade not in level_of:
            continue
        levels[level_of[grade]][sex] += n
        all_sex[sex] += n
        if id_kind == "g_code":
            g_code += n
    return levels, all_sex, g_code


FORM_TITLES = {
    "lao-schools": (2, "แบบรายงานข้อมูลทั่วไปเกี่ยวกับการจัดการศึกษาโรงเรียนสังกัดองค์กรปกครองส่วนท้องถิ่น "
                       "(สำหรับจังหวัดรายงาน)"),
    "lao-education": (3, "แบบรายงานจำนวนองค์กรปกครองส่วนท้องถิ่นที่จัดการศึกษา (สำหรับจังหวัดรายงาน)"),
    "other-schools": (4, "แบบรายงานการบันทึกข้อมูลโรงเรียนสังกัดอื่น (สำหรับจังหวัดรายงาน)"),
    "cdcs": (5, "แบบรายงานข้อมูลศูนย์พัฒนาเด็กเล็กขององค์กรปกครองส่วนท้องถิ่นในระดับจังหวัด"),
    # made by services.reporting.staff (per CDC: children, carers, children per carer)
    "cdc-staff": (7, "แบบรายงานจำนวนครูผู้ดูแลเด็กและผู้ดูแลเด็กของศูนย์พัฒนาเด็กเล็ก (อัตราส่วนเด็กต่อผู้ดูแล)"),
}


def form(key, data, sections, extra_subtitle=()):
    enclosure, title = FORM_TITLES[key]
    return table(key, title, data, sections, enclosure=enclosure, footer=SIGNATURE,
                 extra_subtitle=extra_subtitle)


def form_lao_schools(data):
    """Enclosure 2: general information on the LAOs' schools."""
    columns = unit_columns() + [col("schools", "จำนวนโรงเรียน (แห่ง)")]
    for key, label, _ in domain.SCHOOL_LEVELS:
        columns += [col(f"{key}_m", "ชาย", group=label), col(f"{key}_f", "หญิง", group=label),
                    col(f"{key}_t", "รวม", group=label)]
    columns += [col("all_m", "ชาย", group="รวมทั้งสิ้น"), col("all_f", "หญิง", group="รวมทั้งสิ้น"),
                col("all_t", "รวม", group="รวมทั้งสิ้น"), col("g_code", "ไม่มีเลขประจำตัวประชาชน (G-Code)"),
                col("confirmed", "โรงเรียนที่ยืนยันข้อมูลแล้ว (แห่ง)")]
    rows = []
    for group in data["groups"]:
        schools = group["tally"].get("school", {"total": 0, "confirmed": 0})
        levels, all_sex, g_code = _school_cube(group["cube"])
        if not schools["total"] and not sum(all_sex.values()):
            continue
        cells = unit_cells(len(rows) + 1, group["unit"]) + [schools["total"]]
        for key, _, _ in domain.SCHOOL_LEVELS:
            cells += _sex_cells(levels[key])
        rows.append(cells + _sex_cells(all_sex) + [g_code, schools["confirmed"]])
    return form("lao-schools", data, [section("โรงเรียนสังกัดองค์กรปกครองส่วนท้องถิ่น", columns, rows,
                                              totals_row(rows, columns, label_cols=3))])


def form_lao_education(data):
    """Enclosure 3: the number of LAOs that provide education."""
    yes = "✓"
    columns = unit_columns() + [
        col("schools", "โรงเรียน (แห่ง)"), col("cdcs", "ศูนย์พัฒนาเด็กเล็ก (แห่ง)"),
        col("others", "โรงเรียนสังกัดอื่นที่อุดหนุน (แห่ง)"), col("provides", "จัดการศึกษา", "text"),
        col("state", "ยืนยันข้อมูลระดับ อปท.", "text")]
    rows, tallies = [], Counter()
    for group in data["groups"]:
        t = group["tally"]
        schools, cdcs, others = (t.get(k, {}).get("total", 0) for k in ("school", "cdc", "other_school"))
        provides = bool(schools or cdcs)
        tallies["all"] += 1
        tallies["provides"] += provides
        tallies["schools"] += bool(schools)
        tallies["cdcs"] += bool(cdcs)
        tallies["both"] += bool(schools and cdcs)
        tallies["others"] += bool(others)
        tallies["none"] += not (provides or others)
        rows.append(unit_cells(len(rows) + 1, group["unit"]) + [
            schools, cdcs, others, yes if provides else "-",
            domain.STATE_LABELS[group["confirmation"]["state"]]])
    summary_rows = [
        ["องค์กรปกครองส่วนท้องถิ่นทั้งหมด", tallies["all"]],
        ["จัดการศึกษา (มีโรงเรียนหรือศูนย์พัฒนาเด็กเล็ก)", tallies["provides"]],
        ["  - มีโรงเรียนในสังกัด", tallies["schools"]],
        ["  - มีศูนย์พัฒนาเด็กเล็กในสังกัด", tallies["cdcs"]],
        ["  - มีทั้งโรงเรียนและศูนย์พัฒนาเด็กเล็ก", tallies["both"]],
        ["อุดหนุนงบประมาณให้โรงเรียนสังกัดอื่น", tallies["others"]],
        ["ไม่ได้จัดการศึกษาและไม่ได้อุดหนุนโรงเรียนสังกัดอื่น", tallies["none"]],
    ]
    return form("lao-education", data, [
        section("สรุปจำนวนองค์กรปกครองส่วนท้องถิ่น", [col("item", "รายการ", "text"), col("n", "จำนวน (แห่ง)")],
                summary_rows),
        section("รายองค์กรปกครองส่วนท้องถิ่น", columns, rows, totals_row(rows, columns, label_cols=3)),
    ])


def form_other_schools(data):
    """Enclosure 4: the other-affiliation school data recorded."""
    columns = unit_columns() + [
        col("schools", "โรงเรียนสังกัดอื่น (แห่ง)"), col("recorded", "บันทึกข้อมูลแล้ว (แห่ง)"),
        col("missing", "ยังไม่บันทึก (แห่ง)"), col("closed", "ยุบเลิก/ปิด (แห่ง)")]
    for key, label, _ in domain.SCHOOL_LEVELS:
        columns.append(col(key, label, group="จำนวนนักเรียน"))
    columns += [col("pupils", "รวม", group="จำนวนนักเรียน"), col("state", "ยืนยันข้อมูลแล้ว", "text")]
    rows = []
    for group in data["groups"]:
        schools = group["tally"].get("other_school", {}).get("total", 0)
        if not schools and not group["headcounts"]["recorded"]:
            continue
        by_grade = group["other_by_grade"]
        rows.append(unit_cells(len(rows) + 1, group["unit"]) + [
            schools, group["headcounts"]["recorded"], group["headcounts"]["missing"],
            group["headcounts"]["closed"]]
            + [domain.pupils_in(by_grade, grades) for _, _, grades in domain.SCHOOL_LEVELS]
            + [sum(by_grade.values()), domain.STATE_LABELS[group["confirmation"]["state"]]])
    detail_cols = [col("no", "ที่", "int"), col("lao", "องค์กรปกครองส่วนท้องถิ่น", "text"),
                   col("code", "รหัสโรงเรียน", "text"), col("name", "ชื่อโรงเรียน", "text"),
                   col("affiliation", "สังกัด", "text"), col("pupils", "จำนวนนักเรียน"),
                   col("status", "สถานะ", "text")]
    detail = []
    for school in data["other_schools"]:
        status = ("ยุบเลิก/ปิด" if school["closed"] else "บันทึกแล้ว") if school["recorded"] else "ยังไม่บันทึก"
        detail.append([len(detail) + 1, school["lao_name"], school["code"], school["name"],
                       domain.AFFILIATION_LABELS.get(school["affiliation"], school["affiliation"] or ""),
                       school["total"], status])
    return form("other-schools", data, [
        section("รายองค์กรปกครองส่วนท้องถิ่น", columns, rows, totals_row(rows, columns, label_cols=3)),
        section("รายโรงเรียน", detail_cols, detail, totals_row(detail, detail_cols, label_cols=5)),
    ])


def form_cdcs(data):
    """Enclosure 5: CDC data at province level."""
    age = data["settings"]["cdc_age"]
    ages = list(range(age["min_years"], age["max_years"] + 1))
    seen = {int(a) for g in data["groups"] for grade, _s, _k, a, _n in g["cube"] if grade == "cdc"}
    outside = sorted(seen - set(ages))
    columns = unit_columns() + [col("cdcs", "ศูนย์พัฒนาเด็กเล็ก (แห่ง)"), col("confirmed", "ยืนยันข้อมูลแล้ว (แห่ง)")]
    columns += [col(f"age_{a}", f"{a} ปี", group="เด็กเล็กจำแนกตามอายุ") for a in ages]
    if outside:
        columns.append(col("age_other", "อายุอื่น", group="เด็กเล็กจำแนกตามอายุ"))
    columns += [col("m", "ชาย", group="รวม"), col("f", "หญิง", group="รวม"), col("t", "รวม", group="รวม"),
                col("g_code", "ไม่มีเลขประจำตัวประชาชน (G-Code)")]
    rows = []
    for group in data["groups"]:
        cdcs = group["tally"].get("cdc", {"total": 0, "confirmed": 0})
        by_age, by_sex, g_code = Counter(), Counter(), 0
        for grade, sex, id_kind, a, n in group["cube"]:
            if grade == "cdc":
                by_age[int(a)] += n
                by_sex[sex] += n
                g_code += n if id_kind == "g_code" else 0
        if not cdcs["total"] and not sum(by_sex.values()):
            continue
        cells = unit_cells(len(rows) + 1, group["unit"]) + [cdcs["total"], cdcs["confirmed"]]
        cells += [by_age.get(a, 0) for a in ages]
        if outside:
            cells.append(sum(by_age.get(a, 0) for a in outside))
        rows.append(cells + _sex_cells(by_sex) + [g_code])
    return form("cdcs", data, [section("ศูนย์พัฒนาเด็กเล็กจำแนกตามองค์กรปกครองส่วนท้องถิ่น", columns, rows,
                                       totals_row(rows, columns, label_cols=3))],
                extra_subtitle=[f"อายุเด็กเล็กนับเป็นปีเต็ม ณ วันที่ {domain.thai_date(data['round']['census_date'])}"])


FORMS = {
    "lao-schools": form_lao_schools,
    "lao-education": form_lao_education,
    "other-schools": form_other_schools,
    "cdcs": form_cdcs,
}

REPORTS = {
    "summary": summary_table,
    "progress": progress_table,
    "budget": budget_table,
    "comparison": comparison_table,
}


def form_key(form):
    """``lao-schools`` or ``2`` (its enclosure number) -> the form's key, or None."""
    if form in FORM_TITLES:
        return form
    return next((k for k, (enclosure, _) in FORM_TITLES.items() if str(enclosure) == str(form)), None)


def form_index():
    """The forms, in the order of the letter's enclosures."""
    return [{"key": key, "enclosure": enclosure, "title": title}
            for key, (enclosure, title) in sorted(FORM_TITLES.items(), key=lambda kv: kv[1][0])]
