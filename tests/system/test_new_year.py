"""The new school year (promotion of an institution's learners into round 1) and the
other-affiliation schools across rounds (headcount drafts, closure dates, affiliations)."""
from tests.client import CHECKS_OFF, Tree, academic_years, unique
from tests.system.enrollment_helpers import (
    add, enrollment_rows, error, eventually, learners_url, new_round, rpc,
)

SETTINGS = dict(CHECKS_OFF, cdc_age={"min_years": 2, "max_years": 5})


def two_years(admin):
    """Round 2 of one academic year (census 10 Nov 2025) and round 1 of the next
    (census 10 June 2026)."""
    y0, y1 = academic_years(2)
    source = new_round(admin, number=2, year=y0, census_date="2025-11-10", settings=SETTINGS)
    target = new_round(admin, number=1, year=y1, census_date="2026-06-10", settings=SETTINGS)
    return source, target


def promote_url(r, t, key):
    return learners_url(r, t, key) + "/promote"


def grades_of(client, r, t, key):
    items = client.ok("GET", learners_url(r, t, key), params={"limit": 1000})["items"]
    return {i["national_id"]: i for i in items}


def test_a_school_previews_then_promotes_once(admin):
    t = Tree.build(admin)
    source, target = two_years(admin)
    school = t["school_a"]
    made = {g: [add(school, source, t, "school_a", grade=g, birth=b) for _ in range(2)]
            for g, b in (("k1", "2022-03-01"), ("k3", "2020-03-01"), ("p1", "2019-03-01"),
                         ("p6", "2014-03-01"))}
    gone, _ = add(school, source, t, "school_a", grade="p1")
    school.ok("DELETE", f"/learners/{gone['id']}", 204, params={"reason": "moved_out"})
    # before the promotion: one child already studies at school b, one was entered by hand
    (elsewhere, elsewhere_body), (here, here_body) = made["p1"]
    t["school_b"].ok("POST", learners_url(target, t, "school_b"), 201, json=dict(elsewhere_body, grade="p2"))
    school.ok("POST", learners_url(target, t, "school_a"), 201, json=dict(here_body, grade="p2"))

    url = promote_url(target, t, "school_a")
    preview = school.ok("POST", url, params={"dry_run": "true"})
    assert preview["dry_run"] is True and preview["from_round_id"] == source["id"]
    moved = sorted((m["from_grade"], m["to_grade"]) for m in preview["moves"])
    assert moved == [("k1", "k2"), ("k1", "k2"), ("k3", "p1"), ("k3", "p1")], preview
    # p6 is the highest grade the school teaches: its pupils leave as graduated
    assert sorted((x["from_grade"], x["reason"]) for x in preview["leaves"]) == [("p6", "graduated")] * 2
    assert preview["already"] == 1 and preview["totals"] == {"moves": 4, "leaves": 2, "already": 1,
                                                             "conflicts": 1}
    province = {"code": t.units["province"]["code"], "name": t.units["province"]["name"]}
    conflict = preview["conflicts"][0]
    assert (conflict["learner"]["id"], conflict["code"], conflict["held_in"]) == \
        (elsewhere["id"], "duplicate_learner", province), preview
    assert "held_by" not in conflict
    names = {m["learner"]["id"]: m["learner"]["first_name"] for m in preview["moves"]}
    assert names == {c["id"]: c["first_name"] for g in ("k1", "k3") for c, _ in made[g]}
    # a preview writes nothing
    assert school.ok("GET", learners_url(target, t, "school_a"))["total"] == 1

    result = school.ok("POST", url)
    assert result["dry_run"] is False
    assert sorted((m["from_grade"], m["to_grade"]) for m in result["moves"]) == moved
    assert result["totals"] == preview["totals"]
    now = grades_of(school, target, t, "school_a")
    for g, to in (("k1", "k2"), ("k3", "p1")):
        for created, body in made[g]:
            copy = now[body["national_id"]]
            assert (copy["grade"], copy["source"], copy["carried_from"]) == (to, "promotion", created["id"])
            assert (copy["first_name"], copy["birth_date"]) == (body["first_name"], body["birth_date"])
    assert now[here_body["national_id"]]["source"] == "manual"
    assert len(now) == 5  # four promoted and the one entered by hand; no p6, nobody removed
    # the source round is untouched; a second promotion adds nothing
    assert school.ok("GET", learners_url(source, t, "school_a"))["total"] == 8
    again = school.ok("POST", url)
    assert again["totals"] == {"moves": 0, "leaves": 2, "already": 5, "conflicts": 1}, again
    assert school.ok("GET", learners_url(target, t, "school_a"))["total"] == 5
    audit = enrollment_rows("SELECT details FROM audit_log WHERE action = 'promote' AND "
                            "(details->>'institution_id')::bigint = :i ORDER BY id", i=t.id("school_a"))
    assert [(a["details"]["promoted"], a["details"]["already"]) for a in audit] == [(4, 1), (0, 5)]
    events = enrollment_rows("SELECT payload FROM outbox WHERE event_type = 'learners_added' AND "
                             "(payload->>'round_id')::bigint = :r AND "
                             "(payload->'institution'->>'id')::bigint = :i", r=target["id"], i=t.id("school_a"))
    assert [sorted(x["grade"] for x in e["payload"]["learners"]) for e in events] == \
        [["k2", "k2", "p1", "p1"]]


def test_the_passages_need_the_next_grade_taught(admin):
    t = Tree.build(admin)
    source, target = two_years(admin)
    school = t["school_b"]
    for g, b in (("k3", "2020-03-01"), ("p3", "2017-03-01"), ("p5", "2015-03-01")):
        add(school, source, t, "school_b", grade=g, birth=b)
    result = school.ok("POST", promote_url(target, t, "school_b"))
    # no p1 taught: k3 leaves; p3 goes up; p5 is the school's highest grade
    assert [(m["from_grade"], m["to_grade"]) for m in result["moves"]] == [("p3", "p4")]
    assert sorted((x["from_grade"], x["reason"]) for x in result["leaves"]) == \
        [("k3", "graduated"), ("p5", "graduated")]


def test_a_cdc_keeps_its_grade_and_children_past_the_age_range_leave(admin):
    t = Tree.build(admin)
    source, target = two_years(admin)
    cdc = t["cdc_a"]
    young, _ = add(cdc, source, t, "cdc_a", grade="cdc", birth="2022-03-01")  # 3, then 4
    five, _ = add(cdc, source, t, "cdc_a", grade="cdc", birth="2020-12-01")  # 4, then 5
    old, _ = add(cdc, source, t, "cdc_a", grade="cdc", birth="2020-05-01")  # 5, then 6
    url = promote_url(target, t, "cdc_a")
    preview = t["lao_a"].ok("POST", url, params={"dry_run": "true"})  # the CDC's LAO may do it
    assert sorted(m["learner"]["id"] for m in preview["moves"]) == sorted([young["id"], five["id"]])
    assert {(m["from_grade"], m["to_grade"]) for m in preview["moves"]} == {("cdc", "cdc")}
    assert [(x["learner"]["id"], x["reason"]) for x in preview["leaves"]] == [(old["id"], "age_out")]
    # nobody else
    error(t["lao_b"].post(url), 404, "not_found")
    error(t["school_a"].post(url), 404, "not_found")
    error(t["province"].post(url), 403, "forbidden")
    result = t["lao_a"].ok("POST", url)
    assert result["totals"] == {"moves": 2, "leaves": 1, "already": 0, "conflicts": 0}
    assert sorted(i["carried_from"] for i in cdc.ok("GET", learners_url(target, t, "cdc_a"))["items"]) == \
        sorted([young["id"], five["id"]])
    assert cdc.ok("POST", url)["totals"]["moves"] == 0


def test_promotion_goes_into_an_open_unsealed_round_one(admin, lec_env):
    t = Tree.build(admin)
    source, target = two_years(admin)
    add(t["school_a"], source, t, "school_a", grade="p1")
    # only into a round 1, and only when round 2 of the year before exists
    r2 = new_round(admin, number=2, year=target["academic_year"], census_date="2026-11-10")
    error(t["school_a"].post(promote_url(r2, t, "school_a")), 422, "validation_error")
    lonely = new_round(admin, number=1, year=academic_years(2)[1])  # the year before has no rounds
    error(t["school_a"].post(promote_url(lonely, t, "school_a"), params={"dry_run": "true"}), 404, "not_found")
    with rpc(lec_env) as proxy:
        proxy.enrollment.seal(target["id"], t.id("school_a"))
    for params in ({"dry_run": "true"}, {}):
        error(t["school_a"].post(promote_url(target, t, "school_a"), params=params), 409, "unit_confirmed")
    assert t["school_a"].ok("GET", learners_url(target, t, "school_a"))["total"] == 0


# -- other-affiliation schools -----------------------------------------------------------------

def headcount_url(r, school_id):
    return f"/rounds/{r['id']}/institutions/{school_id}/headcount"


def listed(client, r, lao_id):
    return {i["school_id"]: i for i in client.ok("GET", f"/rounds/{r['id']}/laos/{lao_id}/headcounts")["items"]}


def test_a_new_round_starts_from_drafts_the_lao_accepts_or_edits(admin):
    t = Tree.build(admin)
    y0, y1 = academic_years(2)
    checked = {"checks": {"rules": {}}}
    r1 = new_round(admin, number=1, year=y0)
    r2 = new_round(admin, number=2, year=y0, census_date="2026-11-10", settings=checked)
    next_r1 = new_round(admin, number=1, year=y1, census_date="2027-06-10")
    lao, lid, first = t["lao_a"], t.id("lao_a"), t.id("other_a")
    second = t.unit("other_b", "other_school", "lao_a", affiliation="bpp")["id"]
    lao.ok("PUT", headcount_url(r1, first), json={"counts": {"p1": 30, "p2": 20}})
    lao.ok("PUT", headcount_url(r1, second), json={"counts": {"m1": 12}})

    drafts = listed(lao, r2, lid)
    assert (drafts[first]["draft"], drafts[first]["draft_from"]) == (True, r1["id"])
    assert drafts[first]["counts"] == {"total": 50, "by_grade": {"p1": 30, "p2": 20}}
    assert drafts[second]["draft"] is True and drafts[second]["counts"]["total"] == 12
    assert listed(lao, r2, lid) == drafts  # reading again makes nothing new
    # a draft is not an entered headcount for the checks
    report = lao.ok("GET", f"/rounds/{r2['id']}/checks", params={"org_unit_id": lid})
    assert sorted(i["subject_id"] for i in report["items"] if i["code"] == "headcount_missing") == \
        sorted([first, second]), report
    # nobody but the LAO accepts
    error(t["province"].post(headcount_url(r2, first) + "/accept"), 403, "forbidden")
    error(t["lao_b"].post(headcount_url(r2, first) + "/accept"), 404, "not_found")
    accepted = lao.ok("POST", headcount_url(r2, first) + "/accept")
    assert (accepted["draft"], accepted["counts"]["total"], accepted["version"]) == (False, 50, 2)
    assert lao.ok("POST", headcount_url(r2, first) + "/accept")["version"] == 2  # idempotent
    edited = lao.ok("PUT", headcount_url(r2, second), json={"counts": {"m1": 10, "m2": 3}})
    assert (edited["draft"], edited["counts"]["total"]) == (False, 13)
    report = lao.ok("GET", f"/rounds/{r2['id']}/checks", params={"org_unit_id": lid})
    assert [i for i in report["items"] if i["code"] == "headcount_missing"] == [], report
    audit = enrollment_rows("SELECT action FROM audit_log WHERE entity = 'headcount' AND entity_id = :e ORDER BY id",
                            e=f"{r2['id']}:{first}")
    assert [a["action"] for a in audit] == ["accept"]
    # round 1 of the next year starts from round 2
    following = listed(lao, next_r1, lid)
    assert following[second]["counts"]["total"] == 13 and following[second]["draft_from"] == r2["id"]
    # a school without a headcount in the round before starts empty: nothing to accept
    third = t.unit("other_c", "other_school", "lao_a", affiliation="opec")["id"]
    assert listed(lao, r2, lid)[third]["version"] == 0
    error(lao.post(headcount_url(r2, third) + "/accept"), 404, "not_found")


def test_a_closure_zeroes_only_the_rounds_from_its_date(admin):
    t = Tree.build(admin)
    (year,) = academic_years(1)
    r1 = new_round(admin, number=1, year=year, census_date="2026-06-10")
    r2 = new_round(admin, number=2, year=year, census_date="2026-11-10")
    lao, school = t["lao_a"], t.id("other_a")
    lao.ok("PUT", headcount_url(r1, school), json={"counts": {"p1": 40}})
    lao.ok("PUT", headcount_url(r2, school), json={"counts": {"p1": 38}})
    t["province"].ok("POST", f"/org-units/{school}/close", json={"closed_on": "2026-10-31"})
    assert eventually(lambda: lao.ok("GET", headcount_url(r2, school))["closed"], timeout=10)
    assert lao.ok("GET", headcount_url(r2, school))["counts"]["total"] == 0
    kept = lao.ok("GET", headcount_url(r1, school))
    assert (kept["closed"], kept["counts"]["total"]) == (False, 40), kept
    assert listed(lao, r1, t.id("lao_a"))[school]["counts"]["total"] == 40
    # round 1 may still be corrected; round 2 takes only 0
    assert lao.ok("PUT", headcount_url(r1, school), json={"counts": {"p1": 41}})["counts"]["total"] == 41
    error(lao.put(headcount_url(r2, school), {"counts": {"p1": 1}}), 409, "conflict")


def test_affiliations_are_a_list_that_filters_and_validates(admin):
    t = Tree.build(admin)
    listing = t["lao_a"].ok("GET", "/affiliations")
    assert [a["code"] for a in listing["items"]] == ["obec", "bpp", "opec", "other"]
    assert listing["items"][1]["short_th"] == "ตชด."
    bpp = t.unit("other_bpp", "other_school", "lao_a", affiliation="bpp")
    children = f"/org-units/{t.id('lao_a')}/children"
    found = t["lao_a"].ok("GET", children, params={"affiliation": "bpp"})
    assert [u["id"] for u in found["items"]] == [bpp["id"]] and found["total"] == 1
    assert [u["id"] for u in t["lao_a"].ok("GET", children, params={"affiliation": "obec"})["items"]] == \
        [t.id("other_a")]
    assert len(t["lao_a"].ok("GET", children)["items"]) == 4
    error(t["lao_a"].get(children, params={"affiliation": "navy"}), 422, "validation_error")
    body = {"code": unique("OTH"), "name": "โรงเรียนทดสอบ", "type": "other_school",
            "parent_id": t.id("lao_a"), "affiliation": "navy"}
    error(admin.post("/org-units", body), 422, "validation_error")
