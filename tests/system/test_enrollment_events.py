"""Enrollment's events, as a consumer bound to ``enrollment.events`` sees them:
the payloads of services/CONTRACTS.md, published after commit, no ID numbers or names."""
import json

import pytest

from tests.client import Tree
from tests.events import EventCollector
from tests.system.enrollment_helpers import add, error, learner, learners_url, new_round, rpc

TYPES = ["learner_added", "learner_changed", "learner_removed", "headcount_set", "unit_sealed",
         "unit_unsealed"]


@pytest.fixture
def collector(lec_env):
    c = EventCollector(lec_env["AMQP_URI"], "enrollment", TYPES)
    yield c
    c.close()


def test_events_carry_the_contract_and_no_personal_data(admin, lec_env, collector):
    t = Tree.build(admin)
    r = new_round(admin, census_date="2026-06-10")
    school = {"id": t.id("school_a"), "type": "school", "path": t.units["school_a"]["path"]}
    created, body = add(t["school_a"], r, t, "school_a", grade="p2", birth="2018-08-01", sex="F")
    t["school_a"].ok("PATCH", f"/learners/{created['id']}", json={"grade": "p3"})
    t["school_a"].ok("DELETE", f"/learners/{created['id']}", 204, params={"reason": "graduated"})
    g_learner, g_body = add(t["school_a"], r, t, "school_a", national_id=None, g_code="G655000000777")
    error(t["school_b"].post(learners_url(r, t, "school_b"), g_body), 409, "duplicate_learner")
    t["lao_a"].ok("PUT", f"/rounds/{r['id']}/institutions/{t.id('other_a')}/headcount",
                  json={"counts": {"p1": 12, "p2": 9}})
    with rpc(lec_env) as proxy:
        proxy.enrollment.seal(r["id"], t.id("school_a"))
        proxy.enrollment.unseal(r["id"], t.id("school_a"))

    def for_round(type_, **match):
        return collector.wait_for(lambda e: e["type"] == type_ and e.get("round_id") == r["id"]
                                  and all(e["learner"][k] == v for k, v in match.items()), timeout=15)

    added = for_round("learner_added", id=created["id"])
    assert added["version"] == 1 and added["event_id"] and added["occurred_at"]
    assert added["learner"] == {"id": created["id"], "version": 1, "institution": school, "grade": "p2",
                                "sex": "F", "id_kind": "national_id", "age_years": 7, "status": "active",
                                "removal_reason": None}
    changed = for_round("learner_changed", id=created["id"])
    assert changed["learner"]["grade"] == "p3" and changed["learner"]["version"] == 2
    assert changed["before"]["grade"] == "p2" and changed["before"]["version"] == 1
    removed = for_round("learner_removed", id=created["id"])
    assert removed["learner"]["status"] == "removed"
    assert removed["learner"]["removal_reason"] == "graduated" and removed["learner"]["version"] == 3
    assert for_round("learner_added", id=g_learner["id"])["learner"]["id_kind"] == "g_code"

    headcount = collector.wait_for(lambda e: e["type"] == "headcount_set" and e["round_id"] == r["id"])
    assert headcount["school"] == {"id": t.id("other_a"), "type": "other_school",
                                   "path": t.units["other_a"]["path"], "closed": False}
    assert headcount["lao_id"] == t.id("lao_a") and headcount["version"] == 1
    assert headcount["counts"] == {"total": 21, "by_grade": {"p1": 12, "p2": 9}}
    sealed = collector.wait_for(lambda e: e["type"] == "unit_sealed" and e["round_id"] == r["id"])
    assert sealed["unit"] == school and sealed["schools"] == []
    assert sealed["counts"] == {"total": 1, "by_grade": {"p1": 1}}
    unsealed = collector.wait_for(lambda e: e["type"] == "unit_unsealed" and e["round_id"] == r["id"])
    assert unsealed["unit"] == school

    mine = [e for e in collector.drain(1.0) if e.get("round_id") == r["id"]]
    # the refused duplicate emitted nothing: two learners were added in this round, no more
    assert sum(1 for e in mine if e["type"] == "learner_added") == 2
    text = json.dumps(mine, ensure_ascii=False)
    for private in (body["national_id"], body["first_name"], body["last_name"], body["birth_date"],
                    "G655000000777", g_body["first_name"]):
        assert private not in text


def test_bulk_changes_announce_their_learners_in_batches(admin, lec_env):
    """An import batch and a carry-over send learners_added: the institution once and
    each learner exactly as learner_added carries it; single changes stay single."""
    collector = EventCollector(lec_env["AMQP_URI"], "enrollment", TYPES + ["learners_added"])
    try:
        t = Tree.build(admin)
        r1 = new_round(admin, number=1, census_date="2026-06-10")
        r2 = new_round(admin, number=2, year=r1["academic_year"], census_date="2026-11-10")
        school = {"id": t.id("school_a"), "type": "school", "path": t.units["school_a"]["path"]}
        people = [learner(grade=g) for g in ("p1", "p2", "m1")]
        csv_text = "national_id,first_name,last_name,sex,birth_date,grade\n" + "".join(
            f"{p['national_id']},{p['first_name']},{p['last_name']},F,{p['birth_date']},{p['grade']}\n"
            for p in people)
        result = t["school_a"].post(learners_url(r1, t, "school_a") + "/import", data=csv_text.encode(),
                                    headers={"Content-Type": "text/csv"}).json()
        assert result["accepted"] == 3, result
        single, single_body = add(t["school_a"], r1, t, "school_a", grade="p4")
        carried = t["school_a"].ok("POST", learners_url(r2, t, "school_a") + "/carry-over")
        assert carried["copied"] == 4

        def batch(rid):
            return collector.wait_for(lambda e: e["type"] == "learners_added" and e["round_id"] == rid,
                                      timeout=15)

        with rpc(lec_env) as proxy:
            for rid, size in ((r1["id"], 3), (r2["id"], 4)):
                event = batch(rid)
                assert event["version"] == 1 and event["event_id"] and event["occurred_at"]
                assert event["institution"] == school
                assert event["actor"] == {"user_id": t["school_a"].user["id"],
                                          "username": t["school_a"].user["username"]}
                facts = {f["id"]: f for f in proxy.enrollment.learner_facts(rid)["items"]
                         if f["institution"]["id"] == school["id"]}
                learners = event["learners"]
                assert len(learners) == size and [x["id"] for x in learners] == sorted(x["id"] for x in learners)
                if rid == r1["id"]:          # the import's three; the fourth came alone
                    del facts[single["id"]]
                assert learners == [facts[i] for i in sorted(facts)]
        alone = collector.wait_for(lambda e: e["type"] == "learner_added" and e["round_id"] == r1["id"])
        assert alone["learner"]["id"] == single["id"]
        mine = [e for e in collector.drain(1.0) if e.get("round_id") in (r1["id"], r2["id"])]
        assert sorted(e["type"] for e in mine) == ["learner_added", "learners_added", "learners_added"]
        text = json.dumps(mine, ensure_ascii=False)
        for p in people + [single_body]:
            for private in (p["national_id"], p["first_name"], p["last_name"], p["birth_date"]):
                assert private not in text
    finally:
        collector.close()
