"""The checks before confirming in a real browser, in Thai (one page in English), each result
checked through the API afterwards: a school with a ป.1 learner aged 12 (an error), one aged 8
(a query) and one aged 6; a CDC with no learner (a query). The school officer reads both items,
finds the confirm button disabled, corrects the grade on the learners page, explains the query
and confirms (after a refusal: a learner recorded meanwhile, listed in a dialog); the LAO reads its units' tallies and the school's explanation (read only) and
revokes the school's confirmation, after which the school sees what changed since; the
province reads a tally per LAO; the department changes the share of "total changed" from 20 %
to 30 %. Every page: axe-core serious/critical 0, nothing wider than 390 px, no missing
translation, no page error, no untranslated text outside the test's own data. The scenario:
tests/browser/scenario_checks.py."""
import datetime as dt

import pytest

from tests.client import PASSWORD, unique
from tests.system.enrollment_helpers import learner, learners_url, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario

CENSUS = dt.date(2026, 6, 10)


def born(age):
    return dt.date(CENSUS.year - age, CENSUS.month, CENSUS.day).isoformat()


@pytest.mark.timeout(900)
def test_the_checks_pages(system, admin, tree):
    t = tree
    # the default rules (not switched off): the census date of new_round is 10 June 2026
    r = new_round(admin, settings={"checks": {"rules": {}}})
    rid = r["id"]
    school, sid = t["school_a"], t.id("school_a")
    url = learners_url(r, t, "school_a")
    people = {
        "far": learner(grade="p1", birth=born(12), prefix="เด็กชาย", first_name="ธนกฤต", last_name="อายุเกินชั้น", sex="M"),
        "near": learner(grade="p1", birth=born(8), prefix="เด็กหญิง", first_name="พรรณิภา", last_name="เข้าเรียนช้า"),
        "normal": learner(grade="p1", birth=born(6), prefix="เด็กหญิง", first_name="ปวีณา", last_name="ตามเกณฑ์"),
    }
    made = {key: school.ok("POST", url, 201, json=body) for key, body in people.items()}

    def name(key):
        b = people[key]
        return f"{b['prefix']} {b['first_name']} {b['last_name']}"

    before = school.ok("GET", f"/rounds/{rid}/checks", params={"org_unit_id": sid})
    assert sorted((i["code"], i["learner_id"]) for i in before["items"]) == sorted(
        [("age_grade_implausible", made["far"]["id"]), ("age_grade_outside", made["near"]["id"])]), before
    department_user = unique("dept.ck.")
    admin.ok("POST", "/users", 201, json={"username": department_user, "password": PASSWORD,
                                          "org_unit_id": admin.user["org_unit_id"]})
    explanation = "ย้ายมาจากต่างประเทศ เข้าเรียนช้ากว่าเกณฑ์ 1 ปี"
    units = t.units

    seen = run_scenario(
        system, "scenario_checks", password=PASSWORD, round_id=rid,
        school={"username": school.user["username"], "unit_id": sid, "name": units["school_a"]["name"]},
        lao={"username": t["lao_a"].user["username"], "unit_id": t.id("lao_a")},
        province={"username": t["province"].user["username"], "unit_id": t.id("province")},
        department={"username": department_user, "unit_id": admin.user["org_unit_id"]},
        cdc={"id": t.id("cdc_a"), "name": units["cdc_a"]["name"]},
        far={"id": made["far"]["id"], "name": name("far")},
        near={"id": made["near"]["id"], "name": name("near")},
        normal={"id": made["normal"]["id"], "first_name": people["normal"]["first_name"], "name": name("normal")},
        explanation=explanation, revoke_reason="ขอแก้ไขชื่อผู้เรียน", new_first_name="ปวีณ์ธิดา",
        race_learner=learner(grade="p1", birth=born(12), prefix="เด็กชาย", first_name="ภาคิน", last_name="มาทีหลัง", sex="M"))
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen)
    # no English left on the Thai pages, but for the test's own data (unit, account and code names)
    own_data = [u["name"] for u in units.values()] + [u["code"] for u in units.values()] + \
        [c.user["username"] for c in t.clients.values()] + [department_user]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    # the school's checks page: the error first, then the query, both in Thai with the learner
    s = seen["school"]
    assert s["order"] == ["age_grade_implausible", "age_grade_outside"], s
    assert "อายุ 12 ปี" in s["errors"][0] and "ป.1" in s["errors"][0] and people["far"]["first_name"] in s["errors"][0], s
    assert "อายุ 8 ปี" in s["queries"][0] and "โปรดชี้แจง" in s["queries"][0], s
    assert people["near"]["first_name"] in s["queries"][0], s
    assert (s["error_boxes"], s["query_boxes"]) == (0, 1), s
    assert "ข้อผิดพลาด" in s["figures"] and "ยังไม่ชี้แจง" in s["figures"], s
    assert "ยังยืนยันข้อมูลไม่ได้" in s["statement"], s
    # the confirm page held the button back, and said why
    assert s["confirm_disabled"] is True and "ชี้แจงข้อสังเกตครบ" in s["confirm_reason"], s
    assert "ยังยืนยันไม่ได้: มี 2 รายการ" in s["confirm_summary"], s
    # the grade corrected, the query explained, then confirmed
    assert "บันทึกการแก้ไข" in s["fixed_notice"] and s["after_fix_errors"] == 0, s
    assert s["char_count"] == f"{len(explanation)}/1,000 ตัวอักษร", s
    assert "บันทึกคำชี้แจงแล้ว 1 รายการ" in s["saved_notice"], s
    assert explanation in s["saved"] and school.user["username"] in s["saved"], s
    assert "ผ่านการตรวจสอบแล้ว" in s["statement_after"], s
    assert s["confirm_enabled"] is True and "ผ่านการตรวจสอบแล้ว" in s["confirm_summary_after"], s
    # a learner recorded meanwhile: the server's refusal listed in a dialog, the button held back again
    assert (s["race_added"], s["race_removed"]) == (201, 204), s
    assert "ยังยืนยันข้อมูลไม่ได้" in s["race_dialog"] and "อายุ 12 ปี" in s["race_dialog"] and "ภาคิน" in s["race_dialog"], s
    assert s["race_disabled"] is True and s["confirm_enabled_again"] is True, s
    assert s["confirmed_api"] == "confirmed" and "ยืนยันข้อมูลแล้ว" in s["confirmed_notice"], s
    # ... through the API: the grade, the explanation (who wrote it), the confirmation
    assert school.ok("GET", f"/learners/{made['far']['id']}")["grade"] == "p6"
    after = school.ok("GET", f"/rounds/{rid}/checks", params={"org_unit_id": sid})
    assert [(i["code"], i["learner_id"]) for i in after["items"]] == [("age_grade_outside", made["near"]["id"])], after
    item = after["items"][0]
    assert item["explanation"] == explanation and item["explained_by"] == school.user["id"], item
    assert after["blocking"] == 0, after
    history = school.ok("GET", f"/rounds/{rid}/confirmations/{sid}/history")
    assert any(h["action"] == "confirm" and h["actor_id"] == school.user["id"] for h in history["items"]), history

    # the LAO: its missing headcount, its units' tallies, the school's explanation read only
    lao = seen["lao"]
    assert any(units["other_a"]["name"] in e and "ยังไม่ได้กรอกจำนวนนักเรียน" in e for e in lao["errors"]), lao
    assert {units["school_a"]["name"], units["cdc_a"]["name"]} <= set(lao["names"]), lao
    cdc_row = next(row for row in lao["rows"] if units["cdc_a"]["name"] in row)
    assert cdc_row.split()[-3:] == ["0", "1", "1"], cdc_row  # errors, queries, not explained
    school_row = next(row for row in lao["rows"] if units["school_a"]["name"] in row)
    assert school_row.split()[-3:] == ["0", "1", "0"], school_row
    assert lao["school_hash"] == f"#/u/{sid}/checks", lao
    assert (lao["school_boxes"], lao["school_buttons"]) == (0, 0), lao
    assert explanation in lao["school_queries"][0] and school.user["username"] in lao["school_queries"][0], lao
    assert "ยืนยันข้อมูลแล้ว" in lao["school_statement"], lao
    assert len(lao["cdc_queries"]) == 1 and "ยังไม่มีผู้เรียนในรอบนี้" in lao["cdc_queries"][0], lao
    assert "ยังไม่ได้ชี้แจง" in lao["cdc_queries"][0] and lao["cdc_boxes"] == 0, lao
    assert "ผลการตรวจสอบข้อมูล" in lao["own"] and "ยังยืนยันไม่ได้" in lao["own"], lao
    assert "ยกเลิกการยืนยันของ" in lao["revoked_notice"], lao
    assert lao["en_heading"] == "Checks before confirming" and "No headcount entered" in lao["en_errors"][0], lao
    lao_report = t["lao_a"].ok("GET", f"/rounds/{rid}/checks", params={"org_unit_id": t.id("lao_a")})
    by_unit = {c["org_unit"]["id"]: c for c in lao_report["children"]}
    assert (by_unit[t.id("cdc_a")]["queries"], by_unit[t.id("cdc_a")]["unexplained"]) == (1, 1), lao_report
    assert school.ok("GET", f"/rounds/{rid}/confirmations/{sid}")["state"] == "open"

    # after the revoke: the school's confirm page lists the change since the last confirmation
    d = seen["diff"]
    assert d["patch"] == 200, d
    assert "เปลี่ยนแปลงจากการยืนยันครั้งก่อน" in d["diff"] and "ครั้งก่อน 3 คน" in d["diff"], d
    assert f"ชื่อ: {people['normal']['first_name']} → ปวีณ์ธิดา" in d["diff"], d
    # ... and the LAO sees the same change on the school's checks page
    lao_diff = seen["lao_diff"]["diff"]
    assert f"ชื่อ: {people['normal']['first_name']} → ปวีณ์ธิดา" in lao_diff, seen["lao_diff"]
    assert d["confirm_enabled"] is True, d

    # the province: a tally per LAO
    pv = seen["province"]
    assert any(units["lao_a"]["name"] in row for row in pv["rows"]), pv
    assert "กำลังคำนวณอีก 2 หน่วย" in pv["pending_shown"] and pv["pending"] == 0, pv

    # the department: total_changed's share from 20 % to 30 %
    dp = seen["department"]
    assert "กฎการตรวจสอบข้อมูล" in dp["heading"], dp
    assert {"จำนวนรวมเปลี่ยนจากรอบก่อนมาก", "อายุอยู่นอกช่วงอายุของชั้น", "ช่วงอายุของแต่ละชั้น", "ป.1"} <= set(dp["legends"]), dp
    assert dp["share_before"] == "20" and dp["share_after"] == "30", dp
    assert "กรอกเป็นตัวเลข" in dp["bad_error"], dp
    assert "จำนวนรวมเปลี่ยนจากรอบก่อนมาก · สัดส่วนที่เปลี่ยนเกิน (ร้อยละ): ร้อยละ 20 → ร้อยละ 30" in dp["dialog"], dp
    assert dp["dialog"].count("→") == 1, dp["dialog"]
    assert "บันทึกกฎการตรวจสอบข้อมูลของ" in dp["notice"], dp
    saved = admin.ok("GET", f"/rounds/{rid}")["settings"]["checks"]
    assert saved["rules"]["total_changed"]["params"]["share"] == 0.3, saved
    assert saved["rules"]["total_changed"]["params"]["min_change"] == 5, saved
    assert saved["rules"]["headcount_changed"]["params"]["share"] == 0.2, saved
    assert saved["grade_ages"]["p1"] == [6, 7], saved
