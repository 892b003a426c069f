"""Restoring a removed learner, sorting the list, previewing a carry-over, and the
import template: what the institution's pages rely on, through the API."""
import csv
import datetime as dt
import io

import openpyxl

from tests.client import Tree
from tests.system.enrollment_helpers import (
    BKK, add, enrollment_rows, error, eventually, learner, learners_url, new_round,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SETTINGS = {"cdc_age": {"min_years": 2, "max_years": 5}}


def test_a_removed_learner_is_restored_once_and_announced(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    school = t["school_a"]
    kept, body = add(school, r, t, "school_a", grade="p2")
    school.ok("DELETE", f"/learners/{kept['id']}", 204, params={"reason": "moved_out", "note": "ย้ายตามผู้ปกครอง"})
    # only the institution's own users, and only a removed learner
    error(t["lao_a"].post(f"/learners/{kept['id']}/restore"), 403, "forbidden")
    error(t["school_b"].post(f"/learners/{kept['id']}/restore"), 404, "not_found")
    error(school.post("/learners/987654321/restore"), 404, "not_found")

    back = school.ok("POST", f"/learners/{kept['id']}/restore")
    assert (back["status"], back["removal_reason"], back["removal_note"], back["removed_at"]) == \
        ("active", None, None, None)
    assert back["version"] == kept["version"] + 2
    assert school.ok("GET", f"/learners/{kept['id']}")["status"] == "active"
    error(school.post(f"/learners/{kept['id']}/restore"), 409, "conflict")
    listed = school.ok("GET", learners_url(r, t, "school_a"))
    assert [i["id"] for i in listed["items"]] == [kept["id"]]
    audit = enrollment_rows("SELECT actor_id, details FROM audit_log WHERE action = 'restore' "
                            "AND entity_id = :i", i=str(kept["id"]))
    assert [(a["actor_id"], a["details"]["removal_reason"]) for a in audit] == \
        [(school.user["id"], "moved_out")]
    # announced like an add: the report counts the learner again
    url = f"/rounds/{r['id']}/reports/summary"
    assert eventually(lambda: school.ok("GET", url, params={"org_unit_id": t.id("school_a")})
                      ["learners"]["total"] == 1, timeout=20)


def test_restore_refuses_a_person_recorded_again_and_a_sealed_or_closed_unit(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    school = t["school_a"]
    first, body = add(school, r, t, "school_a", grade="p1")
    school.ok("DELETE", f"/learners/{first['id']}", 204, params={"reason": "moved_out"})
    # the child moved to school b: restoring at school a is a duplicate
    t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=body)
    refused = error(school.post(f"/learners/{first['id']}/restore"), 409, "duplicate_learner")
    assert "held_in" in refused and "held_by" not in refused
    assert school.ok("GET", f"/learners/{first['id']}")["status"] == "removed"

    other, _ = add(school, r, t, "school_a", grade="p3")
    school.ok("DELETE", f"/learners/{other['id']}", 204, params={"reason": "not_found"})
    school.ok("POST", f"/rounds/{r['id']}/confirmations/{t.id('school_a')}")
    error(school.post(f"/learners/{other['id']}/restore"), 409, "unit_confirmed")
    t["lao_a"].ok("DELETE", f"/rounds/{r['id']}/confirmations/{t.id('school_a')}",
                  json={"reason": "แก้ไขข้อมูล"})
    now = dt.datetime.now(BKK)
    admin.ok("PATCH", f"/rounds/{r['id']}", json={"closes_at": (now - dt.timedelta(minutes=1)).isoformat()})
    error(school.post(f"/learners/{other['id']}/restore"), 409, "round_not_open")
    assert school.ok("GET", f"/learners/{other['id']}")["status"] == "removed"


def test_the_list_sorts_by_name_grade_or_when_added(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    school = t["school_a"]
    made = [add(school, r, t, "school_a", grade=g, first_name=n)[0]
            for g, n in (("p3", "ข้าวหอม"), ("k1", "คนึง"), ("m2", "กมล"))]
    url = learners_url(r, t, "school_a")

    def names(sort):
        return [i["first_name"] for i in school.ok("GET", url, params={"sort": sort})["items"]]
    assert names("name") == ["กมล", "ข้าวหอม", "คนึง"]
    assert names("-name") == ["คนึง", "ข้าวหอม", "กมล"]
    assert names("grade") == ["คนึง", "ข้าวหอม", "กมล"]
    assert names("added") == ["ข้าวหอม", "คนึง", "กมล"]
    assert names("-added") == ["กมล", "คนึง", "ข้าวหอม"]
    paged = school.ok("GET", url, params={"sort": "name", "limit": 1, "offset": 1})
    assert (paged["total"], [i["id"] for i in paged["items"]]) == (3, [made[0]["id"]])
    error(school.get(url, params={"sort": "age"}), 422, "validation_error")


def test_a_carry_over_preview_writes_nothing_and_matches_the_action(admin):
    t = Tree.build(admin)
    r1 = new_round(admin, number=1, census_date="2026-06-10", settings=SETTINGS)
    r2 = new_round(admin, number=2, year=r1["academic_year"], census_date="2026-11-10", settings=SETTINGS)
    kept = [add(t["school_a"], r1, t, "school_a", grade=g)[0] for g in ("k2", "p1")]
    moved, moved_body = add(t["school_a"], r1, t, "school_a", grade="p5")
    t["school_b"].ok("POST", learners_url(r2, t, "school_b"), 201, json=moved_body)
    url = learners_url(r2, t, "school_a") + "/carry-over"
    error(t["lao_a"].post(url, params={"dry_run": "true"}), 403, "forbidden")

    preview = t["school_a"].ok("POST", url, params={"dry_run": "true"})
    assert preview["dry_run"] is True and preview["copied"] == 2 and preview["unchanged"] == 0
    assert [(p["learner_id"], p["first_name"], p["grade"]) for p in preview["learners"]] == \
        [(k["id"], k["first_name"], k["grade"]) for k in kept]
    assert [(s["learner_id"], s["code"], s["first_name"]) for s in preview["skipped"]] == \
        [(moved["id"], "duplicate_learner", moved["first_name"])]
    assert "held_in" in preview["skipped"][0]
    assert t["school_a"].ok("GET", learners_url(r2, t, "school_a"))["total"] == 0
    assert enrollment_rows("SELECT id FROM audit_log WHERE action IN ('carry_over', 'refuse_duplicate') "
                           "AND (details->>'institution_id')::bigint = :i", i=t.id("school_a")) == []

    done = t["school_a"].ok("POST", url)
    assert (done["dry_run"], done["copied"], [s["learner_id"] for s in done["skipped"]]) == \
        (False, 2, [moved["id"]])
    again = t["school_a"].ok("POST", url, params={"dry_run": "1"})
    assert (again["copied"], again["unchanged"], again["learners"]) == (0, 2, [])


def test_the_import_template_has_the_thai_titles_the_import_reads(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    school = t["school_a"]
    titles = ["เลขประจำตัวประชาชน", "รหัส G", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "ชั้น",
              "สัญชาติ"]
    got = school.get("/learners/import-template", params={"format": "csv"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "learners-template.csv" in got.headers["content-disposition"]
    text = got.content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == titles
    book = school.get("/learners/import-template", params={"format": "xlsx"})
    assert book.status_code == 200 and book.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert [c.value for c in sheet[1]] == titles
    error(school.get("/learners/import-template", params={"format": "pdf"}), 422, "validation_error")
    error(admin.__class__(admin.base_url).get("/learners/import-template"), 401, "unauthorized")

    # the template, filled in, imports
    row = learner(grade="p2")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(titles)
    writer.writerow([row["national_id"], "", "เด็กหญิง", row["first_name"], row["last_name"], "หญิง",
                     "17/05/2561", "ป.2", "ไทย"])
    result = school.ok("POST", learners_url(r, t, "school_a") + "/import",
                       data=buffer.getvalue().encode("utf-8"), headers={"Content-Type": "text/csv"})
    assert (result["accepted"], result["rejected"]) == (1, [])
    imported = school.ok("GET", learners_url(r, t, "school_a"))["items"][0]
    assert (imported["birth_date"], imported["grade"], imported["sex"]) == ("2018-05-17", "p2", "F")
