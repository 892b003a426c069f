"""Checks before confirming, through the gateway: every rule at its edge (one learner
either side of a share, one day either side of an age), explanations, ``checks_failed``
on confirmation, the rule set as round settings, and the tallies above the LAO."""
import datetime as dt
import itertools

from tests.client import academic_year
from tests.system.enrollment_helpers import error, learner, learners_url, new_round

CENSUS = dt.date(2026, 6, 10)
_names = itertools.count()
THAI = "กขคงจฉชซญฎฏฐฑฒณดตถทธนบปผพฟภมยรลวศษสหฬอฮ"


def unique_name():
    """A Thai name no other learner of the run has (the duplicate rule compares names)."""
    n, letters = next(_names), []
    while True:
        n, r = divmod(n, len(THAI))
        letters.append(THAI[r])
        if not n:
            break
    return "ทด" + "".join(letters) + "ะ"


def born(age, days=0):
    """The birth date that makes a child ``age`` at the census date, ``days`` later."""
    return (dt.date(CENSUS.year - age, CENSUS.month, CENSUS.day) + dt.timedelta(days=days)).isoformat()


def pupil(grade="p1", age=6, days=0, **over):
    return learner(grade=grade, birth=born(age, days), first_name=unique_name(), last_name=unique_name(), **over)


def checked_round(admin, number=1, year=None, rules=None):
    settings = {"checks": {"rules": rules or {}}}
    return new_round(admin, number=number, year=year, settings=settings)


def checks(client, r, unit_id):
    return client.ok("GET", f"/rounds/{r['id']}/checks", params={"org_unit_id": unit_id})


def codes(report, code=None):
    return sorted(i["code"] for i in report["items"] if code is None or i["code"] == code)


def test_age_for_the_grade_at_its_edges(admin, tree):
    t = tree
    r = checked_round(admin)
    school = t["school_a"]
    url = learners_url(r, t, "school_a")
    made = {}
    # ป.1 expects 6-7 at the census date; up to 2 years outside is a query, beyond an error
    for label, age, days in (("in_band", 7, 0), ("one_over", 8, 0), ("one_over_day_later", 8, 1),
                             ("two_over", 9, 0), ("three_over", 10, 0), ("three_over_day_later", 10, 1),
                             ("two_under", 4, 0), ("two_under_day_later", 4, 1), ("three_under", 3, 0)):
        made[label] = school.ok("POST", url, 201, json=pupil(age=age, days=days))["id"]
    report = checks(school, r, t.id("school_a"))
    found = {i["learner_id"]: (i["code"], i["severity"]) for i in report["items"] if i["code"].startswith("age_")}
    assert found.get(made["one_over"]) == ("age_grade_outside", "query"), report
    assert found.get(made["two_over"]) == ("age_grade_outside", "query"), report
    assert found.get(made["three_over"]) == ("age_grade_implausible", "error"), report
    assert found.get(made["three_over_day_later"]) == ("age_grade_outside", "query"), report  # 9
    assert found.get(made["two_under"]) == ("age_grade_outside", "query"), report
    assert found.get(made["two_under_day_later"]) == ("age_grade_implausible", "error"), report  # 3
    assert found.get(made["three_under"]) == ("age_grade_implausible", "error"), report
    for quiet in ("in_band", "one_over_day_later"):
        assert made[quiet] not in found, (quiet, report)
    item = next(i for i in report["items"] if i["learner_id"] == made["three_over"])
    assert "ป.1" in item["messages"]["th"] and "10" in item["messages"]["th"], item
    assert item["learner"]["id"] == made["three_over"] and item["learner"]["first_name"], item
    assert report["errors"] == 3 and report["queries"] == 4 and report["unexplained"] == 4, report


def test_confirming_is_refused_until_errors_are_corrected_and_queries_explained(admin, tree):
    t = tree
    r = checked_round(admin)
    school, sid = t["school_a"], t.id("school_a")
    url = learners_url(r, t, "school_a")
    far = school.ok("POST", url, 201, json=pupil(age=12))["id"]       # ป.1 at 12: an error
    near = school.ok("POST", url, 201, json=pupil(age=8))["id"]       # ป.1 at 8: a query
    school.ok("POST", url, 201, json=pupil(age=6))
    refused = error(school.post(f"/rounds/{r['id']}/confirmations/{sid}"), 409, "checks_failed")
    assert sorted((i["code"], i["learner_id"]) for i in refused["items"]) == \
        sorted([("age_grade_implausible", far), ("age_grade_outside", near)]), refused
    assert school.ok("GET", f"/rounds/{r['id']}/confirmations/{sid}")["state"] == "open"

    # an error cannot be explained away
    base = f"/rounds/{r['id']}/checks/{sid}/explanations"
    error(school.put(base, json={"items": [{"code": "age_grade_implausible", "learner_id": far,
                                             "text": "เด็กเรียนช้า"}]}), 422, "validation_error")
    # nor can the LAO explain the school's query, nor anyone a query the unit does not have
    error(t["lao_a"].put(base, json={"items": [{"code": "age_grade_outside", "learner_id": near,
                                                "text": "ย้ายมาจากต่างประเทศ"}]}), 403, "forbidden")
    error(school.put(base, json={"items": [{"code": "no_active_learners", "text": "x"}]}), 422, "validation_error")
    # the error corrected (the grade fixed), the query explained
    version = school.ok("GET", f"/learners/{far}")["version"]
    school.ok("PATCH", f"/learners/{far}", json={"grade": "p6", "version": version})
    done = school.ok("PUT", base, json={"items": [{"code": "age_grade_outside", "learner_id": near,
                                                   "text": "ย้ายมาจากต่างประเทศ เข้าเรียนช้า 1 ปี"}]})
    assert done["saved"] == 1 and done["unexplained"] == 0 and done["blocking"] == 0, done
    confirmed = school.ok("POST", f"/rounds/{r['id']}/confirmations/{sid}")
    assert confirmed["state"] == "confirmed", confirmed
    # the level above sees the explanation; the unit can no longer change it
    seen = checks(t["lao_a"], r, sid)
    item = next(i for i in seen["items"] if i["learner_id"] == near)
    assert item["explanation"] == "ย้ายมาจากต่างประเทศ เข้าเรียนช้า 1 ปี" and item["explained_by"], item
    error(school.put(base, json={"items": [{"code": "age_grade_outside", "learner_id": near, "text": ""}]}),
          409, "unit_confirmed")
    audit = admin.ok("GET", "/audit", params={"service": "enrollment", "action": "explain", "limit": 50})
    assert any(a["entity_id"] == f"{r['id']}:{sid}" for a in audit["items"]), audit


def test_an_empty_institution_and_a_missing_headcount(admin, tree):
    t = tree
    r = checked_round(admin)
    cdc, cid = t["cdc_a"], t.id("cdc_a")
    assert codes(checks(cdc, r, cid)) == ["no_active_learners"]
    cdc.ok("POST", learners_url(r, t, "cdc_a"), 201, json=pupil(grade="cdc", age=3))
    assert codes(checks(cdc, r, cid)) == []
    # the LAO: its other-affiliation school has no headcount: an error until 0 is entered
    lao, lid = t["lao_a"], t.id("lao_a")
    school = t["school_a"]
    school.ok("POST", learners_url(r, t, "school_a"), 201, json=pupil(age=6))
    for key in ("school_a", "cdc_a"):
        t[key].ok("POST", f"/rounds/{r['id']}/confirmations/{t.id(key)}")
    report = checks(lao, r, lid)
    assert [(i["code"], i["subject_id"], i["severity"]) for i in report["items"]] == \
        [("headcount_missing", t.id("other_a"), "error")], report
    assert t.units["other_a"]["name"] in report["items"][0]["messages"]["th"], report
    refused = error(lao.post(f"/rounds/{r['id']}/confirmations/{lid}"), 409, "checks_failed")
    assert [i["code"] for i in refused["items"]] == ["headcount_missing"], refused
    lao.ok("PUT", f"/rounds/{r['id']}/institutions/{t.id('other_a')}/headcount", json={"counts": {"p1": 0}})
    assert lao.ok("POST", f"/rounds/{r['id']}/confirmations/{lid}")["state"] == "confirmed"


def test_totals_and_headcounts_against_the_previous_round(admin, tree):
    t = tree
    year = academic_year()
    rules = {"total_changed": {"params": {"share": 0.2, "min_change": 1}},
             "headcount_changed": {"params": {"share": 0.2, "min_change": 1}}}
    r1 = checked_round(admin, number=1, year=year, rules=rules)
    r2 = checked_round(admin, number=2, year=year, rules=rules)
    school, sid = t["school_a"], t.id("school_a")
    for _ in range(10):
        school.ok("POST", learners_url(r1, t, "school_a"), 201, json=pupil(age=6))
    for _ in range(12):  # +20%: not more than the share
        school.ok("POST", learners_url(r2, t, "school_a"), 201, json=pupil(age=6))
    lao, lid, other = t["lao_a"], t.id("lao_a"), t.id("other_a")
    lao.ok("PUT", f"/rounds/{r1['id']}/institutions/{other}/headcount", json={"counts": {"p1": 10}})
    lao.ok("PUT", f"/rounds/{r2['id']}/institutions/{other}/headcount", json={"counts": {"p1": 12}})
    report = checks(school, r2, sid)
    assert report["previous_round_id"] == r1["id"], report
    assert codes(report, "total_changed") == [], report
    assert codes(checks(lao, r2, lid), "headcount_changed") == []
    # one more learner and one more pupil: +30% each
    school.ok("POST", learners_url(r2, t, "school_a"), 201, json=pupil(age=6))
    lao.ok("PUT", f"/rounds/{r2['id']}/institutions/{other}/headcount", json={"counts": {"p1": 13}})
    item = next(i for i in checks(school, r2, sid)["items"] if i["code"] == "total_changed")
    assert (item["facts"]["before"], item["facts"]["now"]) == (10, 13), item
    lao_report = checks(lao, r2, lid)
    assert codes(lao_report, "headcount_changed") == ["headcount_changed"], lao_report
    # the LAO's own total: 10 + 10 before, 13 + 13 now (+30%)
    lao_total = next(i for i in lao_report["items"] if i["code"] == "total_changed")
    assert (lao_total["facts"]["before"], lao_total["facts"]["now"]) == (20, 26), lao_total
    child = next(c for c in lao_report["children"] if c["org_unit"]["id"] == sid)
    assert child["queries"] >= 1 and child["unexplained"] >= 1, lao_report


def test_not_found_removals_beyond_the_share(admin, tree):
    t = tree
    r = checked_round(admin)
    school, sid = t["school_a"], t.id("school_a")
    made = [school.ok("POST", learners_url(r, t, "school_a"), 201, json=pupil(age=6))["id"] for _ in range(20)]
    for learner_id in made[:2]:  # 2 of 20 = 10%: not more than the share
        school.ok("DELETE", f"/learners/{learner_id}", 204, json={"reason": "not_found"})
    assert codes(checks(school, r, sid), "not_found_removals") == []
    school.ok("DELETE", f"/learners/{made[2]}", 204, json={"reason": "not_found"})  # 3 of 20 = 15%
    item = next(i for i in checks(school, r, sid)["items"] if i["code"] == "not_found_removals")
    assert (item["facts"]["removed"], item["facts"]["of"]) == (3, 20), item


def test_a_likely_duplicate_is_a_query_to_both_units_naming_only_what_each_may_read(admin, tree):
    t = tree
    r = checked_round(admin)
    twin = pupil(age=6)
    a = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=twin)["id"]
    b = t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201,
                         json=dict(twin, national_id=learner()["national_id"]))["id"]
    at_a = checks(t["school_a"], r, t.id("school_a"))
    item = next(i for i in at_a["items"] if i["code"] == "likely_duplicate")
    assert item["learner_id"] == a and "other_institution_id" not in item["facts"], item
    assert t.units["school_b"]["name"] not in item["messages"]["th"], item
    assert t.units["province"]["name"] in item["messages"]["th"], item
    # the province may read both: it is told which learner and where
    seen = checks(t["province"], r, t.id("school_a"))
    item = next(i for i in seen["items"] if i["code"] == "likely_duplicate")
    assert item["facts"]["other_learner_id"] == b and t.units["school_b"]["name"] in item["messages"]["th"], item
    # and school b has the query too
    assert codes(checks(t["school_b"], r, t.id("school_b")), "likely_duplicate") == ["likely_duplicate"]
    # the other one removed: both queries go
    t["school_b"].ok("DELETE", f"/learners/{b}", 204, json={"reason": "duplicate"})
    assert codes(checks(t["school_a"], r, t.id("school_a")), "likely_duplicate") == []


def test_the_rule_set_is_round_settings_and_the_levels_above_see_tallies(admin, tree):
    t = tree
    r = checked_round(admin, rules={"no_active_learners": {"severity": "error",
                                                           "message": {"th": "ไม่มีเด็กเลย", "en": "No child"}}})
    assert r["settings"]["checks"]["rules"]["no_active_learners"]["severity"] == "error"
    assert r["settings"]["checks"]["rules"]["likely_duplicate"]["enabled"] is True  # the default kept
    item = checks(t["cdc_a"], r, t.id("cdc_a"))["items"][0]
    assert (item["severity"], item["messages"]["th"], item["message"]) == ("error", "ไม่มีเด็กเลย", "No child")
    bad = admin.patch(f"/rounds/{r['id']}", json={"settings": {"checks": {"rules": {
        "total_changed": {"severity": "fatal", "params": {"share": -1}}, "no_such_rule": {}}}}})
    body = error(bad, 422, "validation_error")
    assert "total_changed" in str(body["errors"]) and "no_such_rule" in str(body["errors"]), body
    # the province: a tally per LAO, eventually covering every unit
    province = t["province"]
    report = checks(province, r, t.id("province"))
    for _ in range(50):
        if not report["pending"]:
            break
        report = checks(province, r, t.id("province"))
    by_lao = {c["org_unit"]["id"]: c for c in report["children"]}
    # LAO a: the empty school and CDC (errors now) and the missing headcount (an error)
    assert by_lao[t.id("lao_a")]["errors"] == 3, report
    assert by_lao[t.id("lao_b")]["errors"] == 1, report
    assert report["subtree"]["errors"] == 4 and report["items"] == [], report
    # the school's users cannot read the LAO's checks
    refused = t["school_a"].get(f"/rounds/{r['id']}/checks", params={"org_unit_id": t.id("lao_a")})
    assert refused.status_code in (403, 404), refused.text
