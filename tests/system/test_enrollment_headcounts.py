"""Headcounts of other-affiliation schools: entered by the funding LAO only,
a closed school counts 0, locked by the LAO's seal."""
import pytest

from tests.client import Tree
from tests.system.enrollment_helpers import closed_round, error, eventually, new_round, rpc


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), new_round(admin)


def url(r, t, key="other_a"):
    return f"/rounds/{r['id']}/institutions/{t.id(key)}/headcount"


def test_the_funding_lao_sets_and_updates_a_headcount(world):
    t, r = world
    assert t["lao_a"].ok("GET", url(r, t))["version"] == 0  # never entered
    first = t["lao_a"].ok("PUT", url(r, t), json={"counts": {"p1": 31, "p2": 28, "k3": 0}})
    assert first["counts"] == {"total": 59, "by_grade": {"p1": 31, "p2": 28}}
    assert first["closed"] is False and first["lao_id"] == t.id("lao_a") and first["version"] == 1
    second = t["lao_a"].ok("PUT", url(r, t), json={"counts": {"p1": 30, "m1": 12}})
    assert second["counts"] == {"total": 42, "by_grade": {"p1": 30, "m1": 12}}
    assert second["version"] == 2
    for reader in ("lao_a", "province"):
        assert t[reader].ok("GET", url(r, t))["counts"]["total"] == 42
    listed = t["lao_a"].ok("GET", f"/rounds/{r['id']}/laos/{t.id('lao_a')}/headcounts")
    assert listed["total"] == 1 and listed["items"][0]["school_id"] == t.id("other_a")
    assert listed["items"][0]["counts"]["total"] == 42


def test_nobody_else_touches_it(admin, world):
    t, r = world
    body = {"counts": {"p1": 5}}
    error(t["school_a"].put(url(r, t), body), 404, "not_found")  # not in an institution's subtree
    error(t["cdc_a"].get(url(r, t)), 404, "not_found")
    error(t["lao_b"].put(url(r, t), body), 404, "not_found")
    error(t["province"].put(url(r, t), body), 403, "forbidden")
    error(admin.put(url(r, t), body), 403, "forbidden")
    # a headcount is for other-affiliation schools only
    error(t["lao_a"].put(url(r, t, "school_a"), body), 404, "not_found")


@pytest.mark.parametrize("counts", [{"p9": 1}, {"p1": -1}, {"p1": "ten"}, {"p1": 1.5}, {"cdc": 3}, []])
def test_headcount_validation(world, counts):
    t, r = world
    error(t["lao_a"].put(url(r, t), {"counts": counts}), 422, "validation_error")


def test_a_closed_school_counts_zero(admin, lec_env):
    t = Tree.build(admin)
    r = new_round(admin)
    t["lao_a"].ok("PUT", url(r, t), json={"counts": {"p1": 40}})
    with rpc(lec_env) as proxy:
        assert proxy.enrollment.counts(r["id"], [t.id("lao_a")])[str(t.id("lao_a"))]["total"] == 40
        t["province"].ok("POST", f"/org-units/{t.id('other_a')}/close", json={"closed_on": "2026-05-31"})
        # the registry's event sets the open headcount to 0
        assert eventually(lambda: t["lao_a"].ok("GET", url(r, t))["closed"], timeout=10)
        now = t["lao_a"].ok("GET", url(r, t))
        assert now["counts"] == {"total": 0, "by_grade": {}}
        assert proxy.enrollment.counts(r["id"], [t.id("lao_a"), t.id("other_a")]) == {
            str(t.id("lao_a")): {"total": 0, "by_grade": {}},
            str(t.id("other_a")): {"total": 0, "by_grade": {}}}
    error(t["lao_a"].put(url(r, t), {"counts": {"p1": 3}}), 409, "conflict")
    assert t["lao_a"].ok("PUT", url(r, t), json={"counts": {}})["counts"]["total"] == 0


def test_the_lao_seal_locks_headcounts(admin, lec_env):
    t = Tree.build(admin)
    r = new_round(admin)
    t["lao_a"].ok("PUT", url(r, t), json={"counts": {"p1": 20, "p2": 22}})
    with rpc(lec_env) as proxy:
        sealed = proxy.enrollment.seal(r["id"], t.id("lao_a"))
        assert sealed["counts"] == {"total": 42, "by_grade": {"p1": 20, "p2": 22}}
        assert sealed["schools"] == [{"id": t.id("other_a"), "code": t.units["other_a"]["code"],
                                      "path": t.units["other_a"]["path"], "closed": False,
                                      "counts": {"total": 42, "by_grade": {"p1": 20, "p2": 22}}}]
        error(t["lao_a"].put(url(r, t), {"counts": {"p1": 21}}), 409, "unit_confirmed")
        assert t["lao_a"].ok("GET", url(r, t))["sealed"] is True
        proxy.enrollment.unseal(r["id"], t.id("lao_a"))
    assert t["lao_a"].ok("PUT", url(r, t), json={"counts": {"p1": 21}})["counts"]["total"] == 21


def test_headcounts_follow_the_lao_window(admin, world):
    t, _ = world
    r = closed_round(admin)
    error(t["lao_a"].put(url(r, t), {"counts": {"p1": 1}}), 409, "round_not_open")
