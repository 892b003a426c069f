"""A CDC's caregivers and teachers in a real browser, in Thai (one page in English), each
result checked through the API afterwards: the CDC officer is refused an ID with a wrong
check digit, records two caregivers, imports a file (one row refused and shown), sees the
counts by position and removes one person with a reason; the LAO reads the CDC's staff.
Every page: axe-core serious/critical 0, nothing wider than 390 px, no missing translation,
no page error. The scenario: tests/browser/scenario_staff.py."""
import pytest

from tests.client import PASSWORD
from tests.system.enrollment_helpers import national_id, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario


@pytest.mark.timeout(600)
def test_the_staff_page(system, admin, tree):
    t = tree
    r = new_round(admin)
    rid, cid = r["id"], t.id("cdc_a")
    people = [{"national_id": national_id(), "prefix": "นางสาว", "first_name": "วนิดา", "last_name": "รักเด็ก",
               "start": "16/05/2563"},
              {"national_id": national_id(), "prefix": "นาง", "first_name": "สุภาพร", "last_name": "ดูแลดี",
               "start": "01/06/2558"}]
    good = national_id()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    imported = {"national_id": national_id(), "first_name": "ประภา", "last_name": "นำเข้า"}
    csv = ("เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,ตำแหน่ง,ประเภทการจ้าง,วุฒิการศึกษา,วันที่เริ่มปฏิบัติงาน\n"
           f"{imported['national_id']},นาง,{imported['first_name']},{imported['last_name']},ผู้ดูแลเด็ก,"
           "พนักงานจ้างทั่วไป,ต่ำกว่าปริญญาตรี,01/07/2565\n"
           f"{bad},นาย,ผิด,หลักสุดท้าย,ผู้ดูแลเด็ก,พนักงานจ้างทั่วไป,,\n")
    seen = run_scenario(
        system, "scenario_staff", password=PASSWORD, round_id=rid,
        cdc={"username": t["cdc_a"].user["username"], "unit_id": cid},
        lao={"username": t["lao_a"].user["username"]},
        people=people, bad_id=bad, csv=csv, remove_name=f"นาง {imported['first_name']} {imported['last_name']}")
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen)

    c = seen["cdc"]
    assert "ยังไม่มีบุคลากรในรอบนี้" in c["empty"], c
    assert "เลขประจำตัวประชาชนไม่ถูกต้อง" in c["bad_id_error"], c
    assert all(n and "บันทึก" in n for n in c["added"]), c
    assert "นำเข้า 1 คน" in c["import_result"] and "ไม่ผ่าน 1 แถว" in c["import_result"], c
    assert len(c["rejected_rows"]) == 1 and c["rejected_rows"][0].startswith("3"), c
    assert "เลขประจำตัวประชาชนไม่ถูกต้อง" in c["rejected_rows"][0], c
    assert "ครูผู้ดูแลเด็ก\n1" in c["figures"] and "ผู้ดูแลเด็ก\n2" in c["figures"], c
    assert "รวมทั้งหมด\n3" in c["figures"], c
    assert len(c["names"]) == 3, c
    assert "นำ" in c["removed"] and imported["first_name"] in c["removed"], c
    assert "ผู้ดูแลเด็ก\n1" in c["figures_after"] and "รวมทั้งหมด\n2" in c["figures_after"], c
    assert c["en_heading"] == "Caregiver teachers, caregivers and teachers", c
    assert sorted(c["en_positions"]) == ["Caregiver", "Caregiver teacher"], c
    assert "Total\n2" in c["en_figures"], c
    assert len(seen["lao"]["names"]) == 2, seen["lao"]

    # ... through the API: who is recorded, how, and the removal kept
    listed = t["cdc_a"].ok("GET", f"/rounds/{rid}/institutions/{cid}/staff", params={"status": "all"})
    by_id = {s["national_id"]: s for s in listed["items"]}
    assert set(by_id) == {people[0]["national_id"], people[1]["national_id"], imported["national_id"]}
    first, second, third = (by_id[people[0]["national_id"]], by_id[people[1]["national_id"]],
                            by_id[imported["national_id"]])
    assert (first["position"], first["employment_type"], first["start_date"]) == (
        "caregiver", "mission_employee", "2020-05-16"), first
    assert (second["position"], second["employment_type"], second["start_date"]) == (
        "caregiver_teacher", "civil_servant", "2015-06-01"), second
    assert (third["source"], third["status"], third["removal_reason"]) == ("import", "removed", "left"), third
    summary = t["lao_a"].ok("GET", f"/rounds/{rid}/institutions/{cid}/staff/summary")
    assert summary["counts"] == {"total": 2, "by_position": {"caregiver_teacher": 1, "caregiver": 1, "teacher": 0}}
