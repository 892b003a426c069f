"""Caregivers and teachers of an institution per round, through the gateway."""
import io

from openpyxl import Workbook

from tests.client import Tree
from tests.system.enrollment_helpers import (
    closed_round, enrollment_rows, error, national_id, new_round, rpc,
)


def staff_body(**over):
    body = {"national_id": national_id(), "prefix": "นางสาว", "first_name": "สมศรี",
            "last_name": "ใจดี", "position": "caregiver", "employment_type": "mission_employee",
            "qualification": "bachelor_ece", "start_date": "2020-05-16"}
    body.update(over)
    return body


def staff_url(r, t, key):
    return f"/rounds/{r['id']}/institutions/{t.id(key)}/staff"


def bad_id():
    good = national_id()
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def test_record_list_correct_and_remove_staff(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    url = staff_url(r, t, "cdc_a")
    cdc, lao = t["cdc_a"], t["lao_a"]
    first = cdc.ok("POST", url, 201, json=staff_body(position="caregiver_teacher",
                                                     employment_type="civil_servant"))
    assert first["position"] == "caregiver_teacher" and first["status"] == "active"
    # the LAO records for its CDC too
    second = lao.ok("POST", url, 201, json=staff_body(first_name="มานี"))
    assert second["institution_id"] == t.id("cdc_a")
    listed = t["province"].ok("GET", url)
    assert listed["total"] == 2
    assert [s["position"] for s in listed["items"]] == ["caregiver_teacher", "caregiver"]
    assert cdc.ok("GET", url, params={"q": "มานี"})["total"] == 1
    assert cdc.ok("GET", url, params={"position": "caregiver"})["total"] == 1

    changed = cdc.ok("PATCH", f"/staff/{second['id']}", json={"position": "caregiver_teacher",
                                                              "version": second["version"]})
    assert changed["position"] == "caregiver_teacher" and changed["version"] == second["version"] + 1
    error(cdc.patch(f"/staff/{second['id']}", {"version": second["version"], "first_name": "x"}), 409,
          "conflict")
    summary = cdc.ok("GET", url + "/summary")
    assert summary["counts"] == {"total": 2, "by_position": {"caregiver_teacher": 2, "caregiver": 0,
                                                             "teacher": 0}}
    # removal needs a reason and keeps the record
    error(cdc.delete(f"/staff/{first['id']}"), 422, "validation_error")
    resp = cdc.delete(f"/staff/{first['id']}", params={"reason": "left", "note": "ลาออก"})
    assert resp.status_code == 204, resp.text
    kept = cdc.ok("GET", f"/staff/{first['id']}")
    assert kept["status"] == "removed" and kept["removal_reason"] == "left"
    assert cdc.ok("GET", url)["total"] == 1
    assert cdc.ok("GET", url, params={"status": "all"})["total"] == 2
    assert cdc.ok("GET", url + "/summary")["removed"] == 1
    # audited, announced (no name, no ID in the events)
    audit = enrollment_rows("SELECT action FROM audit_log WHERE entity = 'staff' AND entity_id = :i "
                            "ORDER BY id", i=str(second["id"]))
    assert [a["action"] for a in audit] == ["add", "update"]
    events = enrollment_rows("SELECT event_type, payload::text AS body FROM outbox WHERE event_type LIKE "
                             "'staff_%' AND payload->'staff'->>'id' = :i ORDER BY id", i=str(first["id"]))
    assert [e["event_type"] for e in events] == ["staff_added", "staff_removed"]
    assert first["national_id"] not in events[0]["body"] and "สมศรี" not in events[0]["body"]


def test_bad_input_and_who_may(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    url = staff_url(r, t, "cdc_a")
    cdc = t["cdc_a"]
    error(cdc.post(url, staff_body(national_id=bad_id())), 422, "invalid_national_id")
    error(cdc.post(url, staff_body(position="cook")), 422, "validation_error")
    error(cdc.post(url, staff_body(employment_type="volunteer")), 422, "validation_error")
    error(cdc.post(url, staff_body(start_date="2030-01-01")), 422, "validation_error")
    error(cdc.post(url, staff_body(first_name="=cmd()")), 422, "validation_error")
    # outsiders see nothing
    error(t["school_b"].post(url, staff_body()), 404, "not_found")
    error(t["lao_b"].get(url), 404, "not_found")
    mine = cdc.ok("POST", url, 201, json=staff_body())
    error(t["lao_b"].get(f"/staff/{mine['id']}"), 404, "not_found")
    error(t["school_a"].patch(f"/staff/{mine['id']}", {"first_name": "ก"}), 404, "not_found")
    error(t["lao_b"].delete(f"/staff/{mine['id']}", params={"reason": "left"}), 404, "not_found")
    # a unit that is not an institution has no staff
    error(t["lao_a"].post(staff_url(r, t, "lao_a"), staff_body()), 404, "not_found")
    # outside the round's window
    shut = closed_round(admin)
    error(cdc.post(staff_url(shut, t, "cdc_a"), staff_body()), 409, "round_not_open")


def test_one_active_post_per_person_per_round(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    person = staff_body()
    held = t["cdc_a"].ok("POST", staff_url(r, t, "cdc_a"), 201, json=person)
    # at the same institution again
    body = error(t["cdc_a"].post(staff_url(r, t, "cdc_a"), dict(person, position="teacher")), 409,
                 "duplicate_staff")
    assert body["held_by"] == t.id("cdc_a")
    # at another LAO's school: told only the province
    body = error(t["school_b"].post(staff_url(r, t, "school_b"), dict(person, position="teacher")), 409,
                 "duplicate_staff")
    assert "held_by" not in body and body["held_in"]["code"] == t.units["province"]["code"]
    # the LAO above both may see the holder
    body = error(t["lao_a"].post(staff_url(r, t, "school_a"), person), 409, "duplicate_staff")
    assert body["held_by"] == t.id("cdc_a")
    # each refusal is audited, though the change it refused is not made
    refusals = enrollment_rows("SELECT details->>'attempt' AS attempt FROM audit_log WHERE entity = 'staff' "
                               "AND action = 'refuse_duplicate' AND (details->>'round_id')::bigint = :r",
                               r=r["id"])
    assert [x["attempt"] for x in refusals] == ["add", "add", "add"], refusals
    # another round is another census
    other = new_round(admin)
    t["school_b"].ok("POST", staff_url(other, t, "school_b"), 201, json=person)
    # after removal the person may take the post elsewhere
    assert t["cdc_a"].delete(f"/staff/{held['id']}", params={"reason": "transferred"}).status_code == 204
    moved = t["school_b"].ok("POST", staff_url(r, t, "school_b"), 201, json=dict(person, position="teacher"))
    assert moved["institution_id"] == t.id("school_b")
    # changing a record onto an ID someone holds is refused too
    someone = t["cdc_a"].ok("POST", staff_url(r, t, "cdc_a"), 201, json=staff_body())
    error(t["cdc_a"].patch(f"/staff/{someone['id']}", {"national_id": person["national_id"]}), 409,
          "duplicate_staff")


def test_sealed_institution_refuses_staff_changes(admin, lec_env):
    t = Tree.build(admin)
    r = new_round(admin)
    url = staff_url(r, t, "cdc_a")
    kept = t["cdc_a"].ok("POST", url, 201, json=staff_body())
    with rpc(lec_env) as proxy:
        proxy.enrollment.seal(r["id"], t.id("cdc_a"))
        error(t["cdc_a"].post(url, staff_body()), 409, "unit_confirmed")
        error(t["lao_a"].patch(f"/staff/{kept['id']}", {"position": "teacher"}), 409, "unit_confirmed")
        error(t["cdc_a"].delete(f"/staff/{kept['id']}", params={"reason": "left"}), 409, "unit_confirmed")
        csv = "national_id,first_name,last_name,position,employment_type\n"
        error(t["cdc_a"].post(url + "/import", data=csv.encode(), headers={"Content-Type": "text/csv"}),
              409, "unit_confirmed")
        assert t["cdc_a"].ok("GET", url + "/summary")["sealed"] is True
        proxy.enrollment.unseal(r["id"], t.id("cdc_a"))
    assert t["cdc_a"].ok("PATCH", f"/staff/{kept['id']}", json={"position": "teacher"})["position"] == "teacher"


def test_import_csv_and_xlsx_with_bad_rows(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    url = staff_url(r, t, "cdc_a")
    elsewhere = t["school_b"].ok("POST", staff_url(r, t, "school_b"), 201, json=staff_body())
    a, b = national_id(), national_id()
    lines = ["เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,ตำแหน่ง,ประเภทการจ้าง,วุฒิการศึกษา,วันที่เริ่มปฏิบัติงาน",
             f"{a},นาง,มาลี,ศรีสุข,ครูผู้ดูแลเด็ก,ข้าราชการ,ปริญญาตรี การศึกษาปฐมวัย,16/05/2563",
             f"{b},นาย,สมชาย,ใจดี,ผู้ดูแลเด็ก,พนักงานจ้างทั่วไป,,2021-06-01",
             f"{bad_id()},นาย,ผิด,เลข,ผู้ดูแลเด็ก,พนักงานจ้างทั่วไป,,",
             f"{national_id()},นาย,ไม่มี,ตำแหน่ง,แม่ครัว,พนักงานจ้างทั่วไป,,",
             f"{elsewhere['national_id']},นาง,ซ้ำ,ที่อื่น,ครู,ข้าราชการ,,",
             f"{a},นาง,มาลี,ซ้ำแถว,ครูผู้ดูแลเด็ก,ข้าราชการ,,"]
    data = ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")
    result = t["cdc_a"].ok("POST", url + "/import", data=data, headers={"Content-Type": "text/csv"})
    assert result["accepted"] == 2 and result["rows"] == 6, result
    codes = {r["row"]: r["code"] for r in result["rejected"]}
    assert codes == {4: "invalid_national_id", 5: "validation_error", 6: "duplicate_staff",
                     7: "duplicate_staff"}, result
    assert "held_by" not in result["rejected"][2] and "held_in" in result["rejected"][2]
    listed = {s["national_id"]: s for s in t["cdc_a"].ok("GET", url)["items"]}
    assert listed[a]["position"] == "caregiver_teacher" and listed[a]["start_date"] == "2020-05-16"
    assert listed[a]["employment_type"] == "civil_servant" and listed[b]["source"] == "import"
    # the same file again adds nothing
    again = t["cdc_a"].ok("POST", url + "/import", data=data, headers={"Content-Type": "text/csv"})
    assert again["accepted"] == 0 and again["unchanged"] == 2

    book = Workbook()
    sheet = book.active
    sheet.append(["national_id", "first_name", "last_name", "position", "employment_type", "start_date"])
    c = national_id()
    sheet.append([int(c), "ปรีชา", "ดีงาม", "caregiver", "government_employee", None])
    sheet.append([c, "ปรีชา", "ซ้ำ", "caregiver", "government_employee", None])
    sheet.append([national_id(), "", "ไม่มีชื่อ", "caregiver", "other", None])
    spool = io.BytesIO()
    book.save(spool)
    result = t["lao_a"].ok("POST", url + "/import", data=spool.getvalue(), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert result["accepted"] == 1, result
    assert [(r["row"], r["code"]) for r in result["rejected"]] == [(3, "duplicate_staff"),
                                                                   (4, "validation_error")]
    assert t["cdc_a"].ok("GET", url + "/summary")["counts"]["by_position"] == {
        "caregiver_teacher": 1, "caregiver": 2, "teacher": 0}
    # a file without the staff columns
    error(t["cdc_a"].post(url + "/import", data=b"name,age\nx,1\n", headers={"Content-Type": "text/csv"}),
          422, "invalid_file")
    template = t["cdc_a"].get("/staff/import-template")
    assert template.status_code == 200 and "ตำแหน่ง" in template.content.decode("utf-8-sig")


def test_staff_counts_reach_the_summary_the_progress_report_and_the_cdc_form(admin, lec_env):
    from tests.system.reporting_support import wait_for
    t = Tree.build(admin)
    r = new_round(admin)
    rid = r["id"]
    for _ in range(5):
        t["cdc_a"].ok("POST", f"/rounds/{rid}/institutions/{t.id('cdc_a')}/learners", 201, json={
            "national_id": national_id(), "first_name": "ด.ช.", "last_name": "เล็ก", "sex": "M",
            "birth_date": "2022-05-01", "grade": "cdc"})
    cdc_url = staff_url(r, t, "cdc_a")
    t["cdc_a"].ok("POST", cdc_url, 201, json=staff_body(position="caregiver_teacher"))
    t["lao_a"].ok("POST", cdc_url, 201, json=staff_body(position="caregiver"))
    gone = t["cdc_a"].ok("POST", cdc_url, 201, json=staff_body(position="caregiver"))
    t["school_a"].ok("POST", staff_url(r, t, "school_a"), 201, json=staff_body(position="teacher"))
    t["school_b"].ok("POST", staff_url(r, t, "school_b"), 201, json=staff_body(position="teacher"))
    assert t["cdc_a"].delete(f"/staff/{gone['id']}", params={"reason": "left"}).status_code == 204

    def summary(key):
        return t[key].ok("GET", f"/rounds/{rid}/reports/summary", params={"org_unit_id": t.id(key)})

    expected = {"total": 4, "by_position": {"caregiver_teacher": 1, "caregiver": 1, "teacher": 2}}
    wait_for(lambda: summary("province")["staff"] == expected, timeout=20)
    assert summary("lao_a")["staff"] == {"total": 3, "by_position": {"caregiver_teacher": 1,
                                                                     "caregiver": 1, "teacher": 1}}
    progress = t["province"].ok("GET", f"/rounds/{rid}/reports/progress",
                                params={"org_unit_id": t.id("province")})
    rows = {i["unit"]["id"]: i for i in progress["items"]}
    assert rows[t.id("lao_a")]["staff"]["total"] == 3 and rows[t.id("lao_b")]["staff"]["total"] == 1
    lao = t["lao_a"].ok("GET", f"/rounds/{rid}/reports/progress", params={"org_unit_id": t.id("lao_a")})
    rows = {i["unit"]["id"]: i for i in lao["items"]}
    assert rows[t.id("cdc_a")]["staff"]["by_position"] == {"caregiver_teacher": 1, "caregiver": 1,
                                                          "teacher": 0}
    assert rows[t.id("other_a")]["staff"]["total"] == 0
    # the CDC form: children, carers and children per carer
    wait_for(lambda: summary("lao_a")["cdc"]["total"] == 5, timeout=20)
    form = t["province"].ok("GET", f"/rounds/{rid}/reports/forms/7", params={"org_unit_id": t.id("province")})
    assert form["key"] == "cdc-staff" and form["footer"]
    keys = [c["key"] for c in form["sections"][0]["columns"]]
    row = dict(zip(keys, form["sections"][0]["rows"][0]))
    assert (row["code"], row["children"], row["caregiver_teachers"], row["caregivers"],
            row["children_per_caregiver"]) == (t.units["cdc_a"]["code"], 5, 1, 1, "2.5")
    html = t["lao_a"].get(f"/rounds/{rid}/reports/forms/7", params={"org_unit_id": t.id("lao_a"),
                                                                    "format": "html"})
    assert html.status_code == 200 and "ครูผู้ดูแลเด็ก" in html.text
    csv_text = t["province"].get(f"/rounds/{rid}/reports/progress",
                                 params={"org_unit_id": t.id("province"), "format": "csv"}).text
    assert "ผู้ดูแลเด็ก" in csv_text
    # a school is not a unit the CDC form is made for
    error(t["school_a"].get(f"/rounds/{rid}/reports/forms/7", params={"org_unit_id": t.id("school_a")}),
          422, "validation_error")
    # a rebuild of the read model reads the staff again from enrollment
    from sqlalchemy import create_engine, text

    from services.common import settings
    engine = create_engine(settings.database_url("reporting"), pool_size=1)
    try:
        with engine.begin() as conn:
            for table in ("rp_staff", "rp_staff_counts"):   # the facts and their counts lost
                conn.execute(text(f"DELETE FROM {table} WHERE round_id = :r"), {"r": rid})
    finally:
        engine.dispose()
    assert summary("province")["staff"]["total"] == 0
    with rpc(lec_env, timeout=300) as proxy:
        proxy.reporting.rebuild(rid)
    assert summary("province")["staff"] == expected
