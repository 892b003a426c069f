"""The new school year in a real browser, each result checked through the API afterwards:
a school with two อ.3 children (the school teaches ป.1), a ป.1 pupil and a ป.6 pupil (its
highest grade) in round 2 of one year previews the promotion into round 1 of the next, then
promotes; a second preview (in English) finds nothing more to do. The LAO accepts the
headcounts of its two other-affiliation schools drafted from the round before, one in Thai
and one in English. Every page: axe-core serious/critical 0, nothing wider than 390 px, no
missing translation, no page error, no untranslated text outside the test's own data. The
scenario: tests/browser/scenario_newyear.py."""
import pytest

from tests.client import CHECKS_OFF, PASSWORD, academic_years
from tests.system.enrollment_helpers import learner, learners_url, new_round
from tests.system.portal_support import assert_clean, run_scenario


@pytest.mark.timeout(600)
def test_the_new_school_year_pages(system, admin, tree):
    t = tree
    y0, y1 = academic_years(2)
    source = new_round(admin, number=2, year=y0, census_date="2025-11-10", settings=CHECKS_OFF)
    target = new_round(admin, number=1, year=y1, census_date="2026-06-10", settings=CHECKS_OFF)
    school, sid = t["school_a"], t.id("school_a")
    people = [learner(grade="k3", birth="2020-03-01", prefix="เด็กชาย", first_name="ก้องภพ", last_name="ขึ้นชั้น", sex="M"),
              learner(grade="k3", birth="2020-04-01", prefix="เด็กหญิง", first_name="ขวัญข้าว", last_name="ขึ้นชั้น"),
              learner(grade="p1", birth="2019-02-01", prefix="เด็กหญิง", first_name="จิราพร", last_name="ขึ้นชั้น"),
              learner(grade="p6", birth="2014-02-01", prefix="เด็กชาย", first_name="ชยพล", last_name="จบชั้นสูงสุด", sex="M")]
    made = [school.ok("POST", learners_url(source, t, "school_a"), 201, json=p) for p in people]
    lao, lid = t["lao_a"], t.id("lao_a")
    second = t.unit("other_b", "other_school", "lao_a", affiliation="bpp")
    others = [{"id": t.id("other_a"), "name": t.units["other_a"]["name"]},
              {"id": second["id"], "name": second["name"]}]
    lao.ok("PUT", f"/rounds/{source['id']}/institutions/{others[0]['id']}/headcount", json={"counts": {"p1": 21, "p2": 19}})
    lao.ok("PUT", f"/rounds/{source['id']}/institutions/{others[1]['id']}/headcount", json={"counts": {"m1": 8}})

    seen = run_scenario(
        system, "scenario_newyear", password=PASSWORD, round_id=target["id"],
        school={"username": school.user["username"], "unit_id": sid},
        lao={"username": lao.user["username"], "unit_id": lid}, others=others)
    assert_clean(seen)
    own_data = [u["name"] for u in t.units.values()] + [u["code"] for u in t.units.values()] + \
        [c.user["username"] for c in t.clients.values()]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    s = seen["school"]
    assert "ขึ้นปีการศึกษาใหม่" in s["heading"] and str(y1) in s["heading"], s
    assert f"ปีการศึกษา {y0} รอบที่ 2" in s["intro"], s
    assert "ยังไม่บันทึก" in s["preview_heading"] and s["before_api"] == 0, s
    rows = " | ".join(s["preview_rows"])
    assert "ก้องภพ" in rows and "อ.3" in rows and "ป.1" in rows and "ป.2" in rows, s
    assert any("ชยพล" in r and "จบการศึกษา" in r for r in s["preview_rows"]), s
    assert s["promote_label"] == "เลื่อนชั้น 3 คนเข้ารอบนี้", s
    assert "เลื่อนชั้นผู้เรียน 3 คน" in s["notice"] and s["after_api"] == 3, s
    assert "New school year" in s["en_heading"] and "No more learners to promote" in s["en_nothing"], s
    assert s["en_buttons"] == 0, s
    # ... through the API: the grades one up, the p6 pupil not in the new round
    now = school.ok("GET", learners_url(target, t, "school_a"), params={"limit": 100})["items"]
    assert sorted((i["carried_from"], i["grade"]) for i in now) == \
        sorted([(made[0]["id"], "p1"), (made[1]["id"], "p1"), (made[2]["id"], "p2")])
    assert {i["source"] for i in now} == {"promotion"}

    la = seen["lao"]
    assert len(la["drafts"]) == 2 and all("ร่างจากรอบก่อน" in d for d in la["drafts"]), la
    assert f"ปีการศึกษา {y0} รอบที่ 2" in la["drafts"][0], la
    assert "รับรองจำนวนนักเรียน" in la["notice"] and la["drafts_after"] == 1, la
    assert (la["first_api"]["draft"], la["first_api"]["counts"]["total"]) == (False, 40), la
    assert len(la["en_drafts"]) == 1 and "Draft from the previous round" in la["en_drafts"][0], la
    assert "accepted" in la["en_notice"] and la["en_drafts_after"] == 0, la
    assert (la["second_api"]["draft"], la["second_api"]["counts"]["total"]) == (False, 8), la
    assert la["affiliations_en"][1:] == [a["name_en"] for a in lao.ok("GET", "/affiliations")["items"]], la
    listed = lao.ok("GET", f"/rounds/{target['id']}/laos/{lid}/headcounts")["items"]
    assert {(i["school_id"], i["draft"], i["counts"]["total"]) for i in listed} == \
        {(others[0]["id"], False, 40), (others[1]["id"], False, 8)}
