"""Who blocks me: the units under a province, an LAO or the department that have
not confirmed, each with its level's deadline (extensions per level honoured),
time left, overdue flag, children confirmed, checks, open requests and contacts."""
import datetime as dt

from tests.system.confirmation_support import confirm, wait_until
from tests.system.enrollment_helpers import closed_round, learners_url, new_round
from tests.system.test_checks import checked_round, checks, pupil


def blockers(client, r, unit_id, **params):
    return client.ok("GET", f"/rounds/{r['id']}/blockers", params={"org_unit_id": unit_id, **params})


def at(value):
    return dt.datetime.fromisoformat(value)


def rows_when(client, r, unit_id, ready, **params):
    """The blockers once the read model has caught up with the events (``ready(report)``)."""
    return wait_until(lambda: (lambda rep: rep if ready(rep) else None)(blockers(client, r, unit_id, **params)),
                      20, 0.3, "the read model catching up")


def test_a_province_sees_its_units_not_confirmed_with_their_deadlines(admin, tree):
    t = tree
    r = checked_round(admin)
    r = admin.ok("PATCH", f"/rounds/{r['id']}", json={"deadlines": {
        "lao": "2099-07-01T12:00:00+07:00", "province": "2099-07-03T12:00:00+07:00"}})
    deadlines = r["deadlines"]
    assert at(deadlines["lao"]) == at("2099-07-01T12:00:00+07:00")
    url = learners_url(r, t, "school_a")
    t["school_a"].ok("POST", url, 201, json=pupil(age=12))       # an error
    t["school_a"].ok("POST", url, 201, json=pupil(age=8))        # a query
    # a transfer school b asks for: school a (and the units above it) hold an open request
    child = pupil(age=6)
    t["school_a"].ok("POST", url, 201, json=child)
    checks(t["school_a"], r, t.id("school_a"))
    t["school_b"].ok("POST", f"/rounds/{r['id']}/transfers", 201,
                     json={"national_id": child["national_id"], "to_institution_id": t.id("school_b")})
    # LAO a and everything under it: a later deadline at every level; LAO b: the
    # institutions' deadline only, which leaves the LAO's own as it was
    every = admin.ok("POST", f"/rounds/{r['id']}/extensions", 201, json={
        "org_unit_id": t.id("lao_a"), "closes_at": "2099-07-10T17:00:00+07:00"})
    assert every["level"] is None
    admin.ok("POST", f"/rounds/{r['id']}/extensions", 201, json={
        "org_unit_id": t.id("lao_b"), "closes_at": "2099-07-20T17:00:00+07:00", "level": "institution"})

    wanted = {t.id(k) for k in ("lao_a", "lao_b", "school_a", "cdc_a", "school_b")}
    report = rows_when(t["province"], r, t.id("province"), lambda rep: (
        {i["unit"]["id"] for i in rep["items"]} == wanted
        and all(i["extended"] for i in rep["items"] if i["unit"]["id"] != t.id("lao_b"))
        and all(at(i["deadline"]) == at(deadlines["lao"]) for i in rep["items"] if i["unit"]["id"] == t.id("lao_b"))))
    assert report["total"] == 5 and report["org_unit"]["id"] == t.id("province")
    assert report["unavailable"] == []  # every figure below was read, none is a stand-in zero
    rows = {i["unit"]["id"]: i for i in report["items"]}
    # the other-affiliation school confirms nothing: it is not listed
    assert t.id("other_a") not in rows
    extended = at("2099-07-10T17:00:00+07:00")
    assert at(rows[t.id("lao_a")]["deadline"]) == extended and rows[t.id("lao_a")]["level"] == "lao"
    assert at(rows[t.id("school_a")]["deadline"]) == extended and rows[t.id("school_a")]["level"] == "institution"
    assert at(rows[t.id("cdc_a")]["deadline"]) == extended
    assert at(rows[t.id("lao_b")]["deadline"]) == at(deadlines["lao"]) and not rows[t.id("lao_b")]["extended"]
    assert at(rows[t.id("school_b")]["deadline"]) == at("2099-07-20T17:00:00+07:00")
    # soonest first, then by path
    order = [i["unit"]["id"] for i in report["items"]]
    assert order == [i["unit"]["id"] for i in sorted(report["items"], key=lambda i: (at(i["deadline"]),
                                                                                        i["unit"]["path"]))]
    assert order[0] == t.id("lao_b") and order[-1] == t.id("school_b")
    for row in report["items"]:
        assert row["state"] == "open" and row["overdue"] is False and row["seconds_left"] > 86400 * 365
    # children of the LAOs, checks of the institutions, requests, contacts
    assert rows[t.id("lao_a")]["children"] == {"total": 2, "confirmed": 0}
    assert rows[t.id("lao_b")]["children"] == {"total": 1, "confirmed": 0}
    assert "checks" not in rows[t.id("lao_a")] and "children" not in rows[t.id("school_a")]
    assert rows[t.id("school_a")]["checks"] == {"errors": 1, "queries": 1, "unexplained": 1}
    assert rows[t.id("school_b")]["checks"]["errors"] == 0
    assert rows[t.id("school_a")]["requests"] == {"transfers": 1, "revocations": 0}
    assert rows[t.id("school_b")]["requests"]["transfers"] == 1
    assert rows[t.id("lao_a")]["requests"]["transfers"] == 1
    assert rows[t.id("cdc_a")]["requests"]["transfers"] == 0
    for key in ("lao_a", "school_a", "cdc_a"):
        assert [c["username"] for c in rows[t.id(key)]["contacts"]] == [t[key].user["username"]], key
    # paging: the same order, a page at a time
    page = blockers(t["province"], r, t.id("province"), limit=2, offset=1)
    assert page["total"] == 5 and [i["unit"]["id"] for i in page["items"]] == order[1:3]
    # an LAO sees its own subtree only; a school waits for no one; outside the subtree: 404
    lao = blockers(t["lao_a"], r, t.id("lao_a"))
    assert {i["unit"]["id"] for i in lao["items"]} == {t.id("school_a"), t.id("cdc_a")}
    assert t["school_a"].get(f"/rounds/{r['id']}/blockers").status_code == 403
    assert t["lao_b"].get(f"/rounds/{r['id']}/blockers", params={"org_unit_id": t.id("lao_a")}).status_code == 404


def test_confirmed_units_block_no_one_and_past_deadlines_are_overdue(admin, tree):
    t = tree
    r = new_round(admin)
    confirm(t["school_b"], r["id"], t.id("school_b"))
    report = rows_when(t["province"], r, t.id("province"), lambda rep: (
        t.id("school_b") not in {i["unit"]["id"] for i in rep["items"]} and rep["total"] == 4))
    rows = {i["unit"]["id"]: i for i in report["items"]}
    assert set(rows) == {t.id(k) for k in ("lao_a", "lao_b", "school_a", "cdc_a")}
    assert rows[t.id("lao_b")]["children"] == {"total": 1, "confirmed": 1}
    assert blockers(t["lao_b"], r, t.id("lao_b"))["items"] == []

    closed = closed_round(admin)
    report = rows_when(t["lao_a"], closed, t.id("lao_a"), lambda rep: rep["total"] == 2)
    for row in report["items"]:
        assert row["overdue"] is True and row["seconds_left"] < -86400 + 600, row
        assert at(row["deadline"]) == at(closed["deadlines"]["institution"])
