"""Carry-over: round 2 starts from the institution's round-1 learners in one action."""
from tests.client import Tree
from tests.system.enrollment_helpers import (
    add, enrollment_rows, error, learners_url, new_round,
)

SETTINGS = {"cdc_age": {"min_years": 2, "max_years": 5}}


def test_carry_over_copies_active_learners_once_and_reports_the_rest(admin):
    t = Tree.build(admin)
    r1 = new_round(admin, number=1, census_date="2026-06-10", settings=SETTINGS)
    r2 = new_round(admin, number=2, year=r1["academic_year"], census_date="2026-11-10", settings=SETTINGS)
    kept = [add(t["school_a"], r1, t, "school_a", grade=g)[0] for g in ("k2", "p1", "p4", "m2")]
    removed, _ = add(t["school_a"], r1, t, "school_a", grade="p3")
    t["school_a"].ok("DELETE", f"/learners/{removed['id']}", 204, params={"reason": "moved_out"})
    moved, moved_body = add(t["school_a"], r1, t, "school_a", grade="p5")
    already, already_body = add(t["school_a"], r1, t, "school_a", grade="p6")
    # before the carry-over: one child now studies at school b, one was re-entered by hand
    t["school_b"].ok("POST", learners_url(r2, t, "school_b"), 201, json=moved_body)
    t["school_a"].ok("POST", learners_url(r2, t, "school_a"), 201, json=already_body)

    url = learners_url(r2, t, "school_a") + "/carry-over"
    result = t["school_a"].ok("POST", url)
    assert result["from_round_id"] == r1["id"]
    assert result["copied"] == 4 and result["unchanged"] == 1
    province = {"code": t.units["province"]["code"], "name": t.units["province"]["name"]}
    assert result["skipped"] == [{"learner_id": moved["id"], "code": "duplicate_learner",
                                  "held_in": province, "message": result["skipped"][0]["message"]}]
    listed = t["school_a"].ok("GET", learners_url(r2, t, "school_a"), params={"limit": 1000})["items"]
    assert listed and {i["national_id"] for i in listed} == \
        {k["national_id"] for k in kept} | {already["national_id"]}
    by_id = {i["national_id"]: i for i in listed}
    for k in kept:
        copy = by_id[k["national_id"]]
        assert (copy["grade"], copy["first_name"], copy["birth_date"]) == (k["grade"], k["first_name"],
                                                                         k["birth_date"])
        assert copy["source"] == "carry_over" and copy["carried_from"] == k["id"]
        assert copy["round_id"] == r2["id"] and copy["id"] != k["id"]
    # round 1 is untouched; doing it again adds nothing
    assert t["school_a"].ok("GET", learners_url(r1, t, "school_a"))["total"] == 6
    again = t["school_a"].ok("POST", url)
    assert (again["copied"], again["unchanged"]) == (0, 5)
    audit = enrollment_rows("SELECT details FROM audit_log WHERE action = 'carry_over' AND "
                            "(details->>'institution_id')::bigint = :i ORDER BY id", i=t.id("school_a"))
    assert [a["details"]["copied"] for a in audit] == [4, 0]


def test_carry_over_applies_round_two_rules_and_is_for_the_institution(admin):
    t = Tree.build(admin)
    r1 = new_round(admin, number=1, census_date="2026-06-10", settings=SETTINGS)
    r2 = new_round(admin, number=2, year=r1["academic_year"], census_date="2026-11-10", settings=SETTINGS)
    young, _ = add(t["cdc_a"], r1, t, "cdc_a", grade="cdc", birth="2022-01-15")
    # five at the round-1 census date, six at round 2's
    old, _ = add(t["cdc_a"], r1, t, "cdc_a", grade="cdc", birth="2020-09-01")
    url = learners_url(r2, t, "cdc_a") + "/carry-over"
    error(t["lao_a"].post(url), 403, "forbidden")
    error(t["school_b"].post(url), 404, "not_found")
    result = t["cdc_a"].ok("POST", url)
    assert result["copied"] == 1
    assert [(s["learner_id"], s["code"]) for s in result["skipped"]] == [(old["id"], "age_out_of_range")]
    assert [i["carried_from"] for i in t["cdc_a"].ok("GET", learners_url(r2, t, "cdc_a"))["items"]] == \
        [young["id"]]
    # only into a round 2, and only when its round 1 exists
    error(t["cdc_a"].post(learners_url(r1, t, "cdc_a") + "/carry-over"), 409, "conflict")
    lonely = new_round(admin, number=2)
    error(t["cdc_a"].post(learners_url(lonely, t, "cdc_a") + "/carry-over"), 404, "not_found")
