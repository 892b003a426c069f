"""The institution officer's whole job in the portal, in Thai, in a real browser
(tests/browser/scenario_institution.py), every result checked through the API: add a
learner with a Buddhist-era birth date (after a Thai message for a bad ID), correct the
name, remove with a reason, restore, filter, import a file with a bad row and download the
rejected rows, carry round 1 over with a preview, confirm after the summary step; a closed
round and a sealed unit offer no changes and say why; a CDC officer adds a child. Every
page: no serious or critical axe-core violation, no sideways scrolling at 390 px, no
missing translation, no page error."""
import csv
import io

import pytest

from tests.client import CHECKS_OFF, PASSWORD, Tree
from tests.system.enrollment_helpers import (
    add, closed_round, learner, learners_url, national_id, new_round,
)
from tests.system.portal_support import assert_clean, axe_figures, run_scenario

SETTINGS = {**CHECKS_OFF, "cdc_age": {"min_years": 2, "max_years": 5}}
CONFIRM_NOTE = "นักเรียนย้ายเข้าตามผู้ปกครองที่มาทำงานในพื้นที่ 3 คน"


def _import_csv(good, bad_id):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "ชั้น", "สัญชาติ"])
    for body in good:
        writer.writerow([body["national_id"], "เด็กชาย", body["first_name"], body["last_name"], "ชาย",
                         "03/02/2560", "ป.3", "ไทย"])
    writer.writerow([bad_id, "เด็กหญิง", "ขวัญใจ", "ผิดเลข", "หญิง", "04/03/2560", "ป.3", "ไทย"])
    return buffer.getvalue()


@pytest.mark.timeout(900)
def test_the_institution_officer_does_the_whole_job_in_the_browser(system, admin):
    t = Tree.build(admin)
    school, cdc = t["school_a"], t["cdc_a"]
    r1 = new_round(admin, number=1, census_date="2026-06-10", settings=SETTINGS)
    r2 = new_round(admin, number=2, year=r1["academic_year"], census_date="2026-11-10",
                   closes_at="2098-12-31", settings=SETTINGS)
    closed = closed_round(admin)
    # round 1: three learners to carry over, one of whom school b has recorded in round 2
    made = [add(school, r1, t, "school_a", grade=g) for g in ("k3", "p2", "p5")]
    carried = [created for created, _ in made]
    t["school_b"].ok("POST", learners_url(r2, t, "school_b"), 201, json=made[2][1])
    # round 2 already holds two p1 learners
    for _ in range(2):
        add(school, r2, t, "school_a", grade="p1")

    nid = national_id()
    bad = nid[:-1] + str((int(nid[-1]) + 1) % 10)
    new = {"national_id": nid, "prefix": "เด็กหญิง", "first_name": "กัญญาณัฐ", "last_name": "ทดลองระบบ",
           "sex": "F", "birth_be": "17/05/2561", "grade": "p2"}
    good_rows = [learner(grade="p3"), learner(grade="p3")]
    bad_row_id = "1234567890123"
    child_id = national_id()
    child = {"national_id": child_id, "prefix": "เด็กชาย", "first_name": "ภูมิ", "last_name": "เล็กดี", "sex": "M",
             "birth_be": "15/01/2565", "grade": "cdc"}
    result = run_scenario(
        system, "scenario_institution", password=PASSWORD,
        school={"username": school.user["username"], "unit_id": t.id("school_a")},
        cdc={"username": cdc.user["username"], "unit_id": t.id("cdc_a")},
        lao={"username": t["lao_a"].user["username"]},
        round2=r2["id"], closed_round=closed["id"], learner=new, bad_national_id=bad,
        new_first_name="กัญญารัตน์", other_last_name="ทดลองระบบสอง", filter_grade="p1", filter_grade_th="ป.1",
        csv=_import_csv(good_rows, bad_row_id), child=child, confirm_note=CONFIRM_NOTE)
    print("axe:", axe_figures(result))
    assert_clean(result)
    assert result["clean_text"] == {}
    # no English left on the Thai pages, but for the test's own data (unit and account names)
    data = [u["name"] for u in t.units.values()] + [c.user["username"] for c in t.clients.values()]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in data)]
             for c in result["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    # the bad ID: a Thai message beside the field and in the summary, nothing saved
    assert "เลขประจำตัวประชาชนไม่ถูกต้อง" in result["id_error"]
    assert "มีข้อมูลที่ต้องแก้ไข" in result["error_summary"] and "เลขประจำตัวประชาชนไม่ถูกต้อง" in result["error_summary"]
    assert school.ok("GET", learners_url(r2, t, "school_a"), params={"q": bad})["total"] == 0

    # added with the BE date as the right day; shown back in BE; then renamed
    saved = school.ok("GET", f"/learners/{result['learner_id']}")
    assert saved["national_id"] == nid and saved["birth_date"] == "2018-05-17" and saved["grade"] == "p2"
    assert saved["prefix"] == "เด็กหญิง" and saved["sex"] == "F"
    assert "17 พ.ค. 2561" in result["added_row"] and "ป.2" in result["added_row"]
    assert result["edit_birth_shown"] == "17/05/2561"
    # the edit met another change (explained in Thai), reloaded, and was made again over it
    assert result["other_change"] == 200
    assert "มีผู้อื่นแก้ไขข้อมูล" in result["conflict_summary"]
    assert saved["first_name"] == "กัญญารัตน์" and saved["last_name"] == "ทดลองระบบสอง"
    assert "บันทึก" in result["added_notice"] and "บันทึกการแก้ไข" in result["edited_notice"]
    # removed with the reason, then restored: active again, its history in the versions
    assert "เหตุผลที่จำหน่ายออก" in result["remove_dialog"] and "ย้ายออก" in result["remove_dialog"]
    assert "จำหน่าย" in result["removed_notice"] and "นำ" in result["restored_notice"]
    assert saved["status"] == "active" and saved["removal_reason"] is None and saved["version"] == 5
    assert result["removed_rows"] == 1
    # the grade filter shows exactly the p1 learners
    assert result["filtered_rows"] == school.ok("GET", learners_url(r2, t, "school_a"),
                                                params={"grade": "p1"})["total"] == 2
    assert result["english_heading"] == "Learners"
    # the export: every active learner, Thai titles
    exported = list(csv.DictReader(io.StringIO(result["export_file"])))
    assert result["export_name"].endswith(".csv") and "เลขประจำตัวประชาชน" in exported[0]
    assert nid in {row["เลขประจำตัวประชาชน"] for row in exported} and len(exported) == 3

    # import: the template's Thai titles; two rows in, the bad one reported in Thai with its row
    assert result["template_name"] == "learners-template.csv"
    assert result["template_head"].startswith("เลขประจำตัวประชาชน,รหัส G,คำนำหน้า,ชื่อ,นามสกุล")
    assert result["button_disabled_while_running"] is True
    assert "บันทึกใหม่" in result["import_result"] and "เลขประจำตัวประชาชนไม่ถูกต้อง" in result["import_result"]
    rows = list(csv.reader(io.StringIO(result["rejected_file"])))
    assert rows[0][0] == "แถวที่" and rows[0][-2:] == ["เหตุผลที่ไม่รับ", "รหัสข้อผิดพลาด"]
    assert len(rows) == 2 and rows[1][0] == "4" and bad_row_id in rows[1]
    assert "เลขประจำตัวประชาชนไม่ถูกต้อง" in rows[1][-2] and rows[1][-1] == "invalid_national_id"
    imported = school.ok("GET", learners_url(r2, t, "school_a"), params={"grade": "p3", "limit": 100})["items"]
    assert {i["national_id"] for i in imported} == {b["national_id"] for b in good_rows}

    # carry-over: the preview named who is copied and who skipped, then it happened
    assert "จะคัดลอก" in result["carry_preview"] and "จะข้าม" in result["carry_preview"]
    assert carried[0]["first_name"] in result["carry_preview"]
    assert t.units["province"]["name"] in result["carry_preview"]
    assert "2" in result["carry_dialog"]
    listed = school.ok("GET", learners_url(r2, t, "school_a"), params={"limit": 100})["items"]
    assert {i["carried_from"] for i in listed if i["source"] == "carry_over"} == {carried[0]["id"], carried[1]["id"]}

    # confirmed after the summary step: the counts it showed are the ones sealed
    state = school.ok("GET", f"/rounds/{r2['id']}/confirmations/{t.id('school_a')}")
    assert state["state"] == "confirmed" and state["confirmed_by_username"] == school.user["username"]
    assert state["note"] == CONFIRM_NOTE, state  # the note typed in the confirm step, stored
    assert f"หมายเหตุ: {CONFIRM_NOTE}" in result["confirmed_state"], result["confirmed_state"]
    total = state["counts"]["total"]
    assert total == 7  # 2 p1 + the new one + 2 imported + 2 carried
    assert "ตรวจสอบก่อนยืนยัน" in result["confirm_summary"] and str(total) in result["confirm_summary"]
    assert f"ยืนยัน {total} คน" in result["confirm_dialog"] and "ป.1" in result["confirm_dialog"]
    assert "ยืนยันเมื่อ" in result["confirmed_state"] and school.user["username"] in result["confirmed_state"]
    # the money at stake, on the page and in the dialog: the API's preview total, Thai-formatted
    budget = school.ok("GET", f"/rounds/{r2['id']}/reports/budget",
                       params={"org_unit_id": t.id("school_a"), "preview": "true"})
    line = next(ln for ln in budget["preview"]["lines"] if ln["unit"]["id"] == t.id("school_a"))
    assert line["counts"]["total"] == total and line["total"] > 0
    for shown in (result["confirm_money"], result["confirm_dialog_money"]):
        assert shown["total"] == f"{line['total']:,.2f}", (shown, line)
        assert float(shown["amount"]) == pytest.approx(line["total"])
        assert f"ค่าอาหารกลางวัน {line['lunch']:,.2f} บาท" in shown["text"], shown
        assert f"อาหารเสริม (นม) {line['milk']:,.2f} บาท" in shown["text"], shown
        assert "ต่อปีการศึกษา" in shown["text"] and "ยังไม่เคยยืนยันในรอบนี้" in shown["text"], shown
    assert f"รวม {line['total']:,.2f} บาท" in result["confirm_summary"]
    assert f"รวม {line['total']:,.2f} บาท" in result["confirm_dialog"]
    # sealed and closed: no add, edit, import or confirm, and the reason in Thai
    assert (result["sealed_add_buttons"], result["sealed_edit_buttons"], result["sealed_file_inputs"]) == (0, 0, 0)
    assert "ยืนยันข้อมูลรอบนี้แล้ว" in result["sealed_banner"]
    assert (result["closed_confirm_buttons"], result["closed_add_buttons"]) == (0, 0)
    assert "ปิดรับข้อมูลแล้ว" in result["closed_banner"]

    # the LAO reads the school's list, without the school's buttons
    assert (result["lao_add_buttons"], result["lao_row_buttons"]) == (0, 0)
    assert "แสดงข้อมูลอย่างเดียว" in result["lao_banner"]
    assert result["lao_rows"] == school.ok("GET", learners_url(r2, t, "school_a"))["total"]

    # the CDC: one grade, the child recorded
    assert result["cdc_grade_options"] == ["เด็กเล็ก"]
    children = cdc.ok("GET", learners_url(r2, t, "cdc_a"))["items"]
    assert [(c["national_id"], c["grade"], c["birth_date"]) for c in children] == [(child_id, "cdc", "2022-01-15")]
