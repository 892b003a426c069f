"""The checks above the unit in the progress report: per child, its subtree's errors,
queries and how many are explained (enrollment's ``check_tallies``), the same as the
checks report's tallies; the report for the unit itself sums its whole subtree."""
from tests.system.enrollment_helpers import learners_url
from tests.system.test_checks import checked_round, checks, pupil


def progress(client, r, unit_id):
    return client.ok("GET", f"/rounds/{r['id']}/reports/progress", params={"org_unit_id": unit_id})


def test_the_progress_report_counts_queries_explained_per_child(admin, tree):
    t = tree
    r = checked_round(admin)
    school, sid = t["school_a"], t.id("school_a")
    url = learners_url(r, t, "school_a")
    school.ok("POST", url, 201, json=pupil(age=12))                 # ป.1 at 12: an error
    near = school.ok("POST", url, 201, json=pupil(age=8))["id"]     # ป.1 at 8: a query
    school.ok("POST", url, 201, json=pupil(age=9))                  # another query
    school.ok("PUT", f"/rounds/{r['id']}/checks/{sid}/explanations",
              json={"items": [{"code": "age_grade_outside", "learner_id": near, "text": "ย้ายมาจากต่างประเทศ"}]})
    t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=pupil(age=6))
    # LAO a: the empty CDC (a query) and the other school's missing headcount (an error)
    lao_report = checks(t["lao_a"], r, t.id("lao_a"))
    checks(t["lao_b"], r, t.id("lao_b"))

    rows = {i["unit"]["id"]: i for i in progress(t["lao_a"], r, t.id("lao_a"))["items"]}
    assert rows[sid]["checks"] == {"errors": 1, "queries": 2, "explained": 1, "unexplained": 1}, rows[sid]
    assert rows[t.id("cdc_a")]["checks"] == {"errors": 0, "queries": 1, "explained": 0, "unexplained": 1}
    assert rows[t.id("other_a")]["checks"] == {"errors": 0, "queries": 0, "explained": 0, "unexplained": 0}
    by_child = {c["org_unit"]["id"]: c for c in lao_report["children"]}
    for unit_id in (sid, t.id("cdc_a")):
        assert {k: rows[unit_id]["checks"][k] for k in ("errors", "queries", "unexplained")} == \
            {k: by_child[unit_id][k] for k in ("errors", "queries", "unexplained")}, (rows[unit_id], by_child)
    # the LAO's own row in the report: its own headcount error and its institutions'
    own = progress(t["lao_a"], r, t.id("lao_a"))["checks"]
    assert own == {k: lao_report["subtree"][k] for k in ("errors", "queries", "unexplained")} | {
        "explained": lao_report["subtree"]["queries"] - lao_report["subtree"]["unexplained"]}, (own, lao_report)
    assert own["errors"] == 2 and own["queries"] == 3 and own["explained"] == 1, own

    # the province: a row per LAO summing its subtree, as the checks report's tallies
    report = checks(t["province"], r, t.id("province"))
    for _ in range(50):
        if not report["pending"]:
            break
        report = checks(t["province"], r, t.id("province"))
    tallies = {c["org_unit"]["id"]: c for c in report["children"]}
    laos = {i["unit"]["id"]: i for i in progress(t["province"], r, t.id("province"))["items"]}
    for key in ("lao_a", "lao_b"):
        seen, want = laos[t.id(key)]["checks"], tallies[t.id(key)]
        assert seen == {"errors": want["errors"], "queries": want["queries"], "unexplained": want["unexplained"],
                        "explained": want["queries"] - want["unexplained"]}, (key, seen, want)
    assert laos[t.id("lao_a")]["checks"]["explained"] == 1
    # the downloads keep their columns (the checks are JSON only)
    csv = t["province"].get(f"/rounds/{r['id']}/reports/progress",
                            params={"org_unit_id": t.id("province"), "format": "csv"})
    assert csv.status_code == 200 and csv.text.strip(), csv.text
