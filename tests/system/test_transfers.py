"""Transfers of a child between institutions, through the gateway and the broker:
asked for by the receiver, answered by the holder (or, by time, the levels above it),
the child moved in one step; one pending request per child; accept and removal
race to exactly one outcome; the holder named only as far as the caller may see."""
import json
import threading

import pytest

from tests.client import Tree
from tests.system.confirmation_support import confirm
from tests.system.enrollment_helpers import (
    enrollment_rows, error, learner, learners_url, new_round, rpc,
)


@pytest.fixture(scope="module")
def world(admin):
    t = Tree.build(admin)
    t.unit("school_c", "school", "lao_a")
    t.account("school_c")
    return t, new_round(admin)


def tr_url(r, tid=None, action=None):
    url = f"/rounds/{r['id']}/transfers"
    if tid is not None:
        url += f"/{tid}"
    if action:
        url += f"/{action}"
    return url


def held_at_a(t, r, **over):
    child = learner(**over)
    created = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    return created, child


def ask(client, t, r, child, to="school_b", status=201, **extra):
    body = {"national_id": child["national_id"], "to_institution_id": t.id(to), **extra}
    resp = client.post(tr_url(r), body)
    if status is None:
        return resp
    assert resp.status_code == status, resp.text
    return resp.json()


def province_of(t):
    return {"code": t.units["province"]["code"], "name": t.units["province"]["name"]}


def active_places(r, child):
    return [row["institution_id"] for row in enrollment_rows(
        "SELECT institution_id FROM learners WHERE round_id = :r AND id_number = :n AND status = 'active'",
        r=r["id"], n=child["national_id"])]


def age(tid, hours):
    """Move a request back in time (escalation is measured with the database's clock)."""
    from sqlalchemy import create_engine, text

    from services.common import settings
    engine = create_engine(settings.database_url("enrollment"), pool_size=1)
    try:
        with engine.begin() as conn:
            moved = conn.execute(text("UPDATE transfers SET created_at = created_at - make_interval("
                                      "hours => :h) WHERE id = :i"), {"h": int(hours), "i": tid})
            assert moved.rowcount == 1
    finally:
        engine.dispose()


def test_accepted_moves_the_child_in_one_step(world):
    t, r = world
    held, child = held_at_a(t, r)
    # school b finds the child recorded elsewhere: the refusal says a request is possible
    refusal = error(t["school_b"].post(learners_url(r, t, "school_b"), child), 409, "duplicate_learner")
    assert refusal["transfer"] == {"possible": True} and refusal["held_in"] == province_of(t)
    made = ask(t["school_b"], t, r, child, note="ย้ายตามผู้ปกครอง")
    assert made["state"] == "pending" and made["national_id"] == child["national_id"]
    assert made["to_institution"]["id"] == t.id("school_b")
    # the requester may not read school a: only its province, no child's data
    assert made["held_in"] == province_of(t)
    assert "from_institution" not in made and "learner" not in made
    assert made["answerable_by"]["level"] == "institution"
    assert made["answerable_by"]["unit_id"] == t.id("school_a")
    assert made["sealed"] is False and made["waiting_on"] is None
    assert [s["action"] for s in made["history"]] == ["requested"]
    text = json.dumps(made, ensure_ascii=False)
    for private in (child["first_name"], child["last_name"], t.units["school_a"]["name"],
                    t.units["school_a"]["code"]):
        assert private not in text
    # the holder lists it as incoming, with the child and its own name
    incoming = t["school_a"].ok("GET", tr_url(r), params={"direction": "incoming"})
    seen = next(i for i in incoming["items"] if i["id"] == made["id"])
    assert seen["from_institution"]["id"] == t.id("school_a")
    assert seen["learner"]["first_name"] == child["first_name"]
    assert made["id"] not in [i["id"] for i in t["school_a"].ok(
        "GET", tr_url(r), params={"direction": "outgoing"})["items"]]
    assert made["id"] in [i["id"] for i in t["school_b"].ok(
        "GET", tr_url(r), params={"direction": "outgoing", "state": "pending"})["items"]]
    # the requester cannot answer its own request
    error(t["school_b"].post(tr_url(r, made["id"], "accept")), 403, "forbidden")
    done = t["school_a"].ok("POST", tr_url(r, made["id"], "accept"))
    assert done["state"] == "accepted" and done["answered_by_unit_id"] == t.id("school_a")
    assert [s["action"] for s in done["history"]] == ["requested", "accepted"]
    # the API shows the child at b, and removed (moved_out) at a
    at_b = t["school_b"].ok("GET", learners_url(r, t, "school_b"), params={"q": child["national_id"]})
    assert [x["id"] for x in at_b["items"]] == [done["new_learner_id"]]
    assert at_b["items"][0]["first_name"] == child["first_name"]
    old = t["school_a"].ok("GET", f"/learners/{held['id']}")
    assert old["status"] == "removed" and old["removal_reason"] == "moved_out"
    assert active_places(r, child) == [t.id("school_b")]
    # once accepted the receiving side sees the child it now holds, still not school a
    seen_b = t["school_b"].ok("GET", tr_url(r, made["id"]))
    assert seen_b["learner"]["last_name"] == child["last_name"] and "from_institution" not in seen_b
    # one event pair, both sides audited
    events = enrollment_rows("SELECT event_type, payload FROM outbox WHERE event_type IN "
                             "('learner_removed', 'learner_added') AND (payload->'learner'->>'id')::bigint "
                             "IN (:a, :b) ORDER BY id", a=held["id"], b=done["new_learner_id"])
    assert [(e["event_type"], e["payload"]["learner"]["id"]) for e in events][-2:] == [
        ("learner_removed", held["id"]), ("learner_added", done["new_learner_id"])]
    audited = enrollment_rows("SELECT action, entity FROM audit_log WHERE details->>'transfer_id' = :i "
                              "OR (entity = 'transfer' AND entity_id = :i) ORDER BY id", i=str(made["id"]))
    assert [(a["action"], a["entity"]) for a in audited] == [
        ("request", "transfer"), ("remove", "learner"), ("add", "learner"), ("accept", "transfer")]
    error(t["school_a"].post(tr_url(r, made["id"], "decline"), {"reason": "สาย"}), 409, "conflict")


def test_declined_with_a_reason_and_withdrawn(world):
    t, r = world
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    again = error(ask(t["school_b"], t, r, child, status=None), 409, "transfer_pending")
    assert again["transfer_id"] == made["id"]
    error(t["school_a"].post(tr_url(r, made["id"], "decline"), {}), 422, "validation_error")
    error(t["school_a"].post(tr_url(r, made["id"], "withdraw")), 403, "forbidden")
    declined = t["school_a"].ok("POST", tr_url(r, made["id"], "decline"),
                                json={"reason": "เด็กยังเรียนอยู่ที่นี่"})
    assert declined["state"] == "declined"
    # the requester sees the outcome and the reason
    seen = t["school_b"].ok("GET", tr_url(r, made["id"]))
    assert seen["state"] == "declined" and seen["reason"] == "เด็กยังเรียนอยู่ที่นี่"
    assert seen["history"][-1]["action"] == "declined" and seen["answerable_by"] is None
    assert active_places(r, child) == [t.id("school_a")]
    # a new request may follow; the receiving side withdraws it
    second = ask(t["school_b"], t, r, child)
    withdrawn = t["school_b"].ok("POST", tr_url(r, second["id"], "withdraw"))
    assert withdrawn["state"] == "withdrawn"
    error(t["school_a"].post(tr_url(r, second["id"], "accept")), 409, "conflict")
    assert active_places(r, child) == [t.id("school_a")]
    listed = t["school_b"].ok("GET", tr_url(r), params={"state": "withdrawn"})
    assert [i["id"] for i in listed["items"]] == [second["id"]]


def test_what_cannot_be_asked(world):
    t, r = world
    nobody = learner()
    body = error(ask(t["school_b"], t, r, nobody, status=None), 404, "not_found")
    assert "directly" in body["description"]
    _, child = held_at_a(t, r)
    error(ask(t["school_a"], t, r, child, to="school_a", status=None), 409, "conflict")
    # a CDC records cdc: a school child is not a CDC child
    error(ask(t["cdc_a"], t, r, child, to="cdc_a", status=None), 422, "validation_error")
    error(ask(t["school_b"], t, r, child, status=None, grade="cdc"), 422, "validation_error")
    # a unit outside the caller's subtree cannot receive through it
    error(ask(t["school_b"], t, r, child, to="school_c", status=None), 404, "not_found")
    error(t["school_b"].post(tr_url(r), {"national_id": child["national_id"]}), 422, "validation_error")
    # the LAO above the receiver asks on its behalf, with another grade
    made = ask(t["lao_b"], t, r, child, grade="p2")
    assert made["grade"] == "p2" and made["to_institution"]["id"] == t.id("school_b")
    t["lao_b"].ok("POST", tr_url(r, made["id"], "withdraw"))


def test_escalated_to_the_lao_and_then_the_province_by_time(world):
    t, r = world
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    # too early for the LAO and the province: forbidden, saying from when
    body = error(t["lao_a"].post(tr_url(r, made["id"], "accept")), 403, "forbidden")
    assert body["answerable_at"] == made["answerable_by"]["next_level_at"]
    error(t["province"].post(tr_url(r, made["id"], "decline"), {"reason": "x"}), 403, "forbidden")
    # the receiver's LAO is not on the holder's side at all
    error(t["lao_b"].post(tr_url(r, made["id"], "accept")), 403, "forbidden")
    age(made["id"], 49)
    seen = t["lao_a"].ok("GET", tr_url(r, made["id"]))
    assert seen["answerable_by"]["level"] == "lao" and seen["answerable_by"]["unit_id"] == t.id("lao_a")
    error(t["province"].post(tr_url(r, made["id"], "accept")), 403, "forbidden")
    age(made["id"], 48)
    seen = t["province"].ok("GET", tr_url(r, made["id"]))
    assert seen["answerable_by"]["level"] == "province" and seen["answerable_by"]["next_level_at"] is None
    assert seen["from_institution"]["id"] == t.id("school_a")  # the province reads the holder
    done = t["province"].ok("POST", tr_url(r, made["id"], "accept"))
    assert done["state"] == "accepted" and done["answered_by_unit_id"] == t.id("province")
    assert active_places(r, child) == [t.id("school_b")]


def test_the_lao_answers_after_the_period(world):
    t, r = world
    _, child = held_at_a(t, r)
    made = ask(t["school_c"], t, r, child, to="school_c")
    # school c shares school a's LAO but cannot read school a
    assert made["held_in"] == province_of(t)
    age(made["id"], 49)
    done = t["lao_a"].ok("POST", tr_url(r, made["id"], "decline"), json={"reason": "ตรวจสอบแล้ว"})
    assert done["state"] == "declined" and done["answered_by_unit_id"] == t.id("lao_a")


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return results


def test_two_receivers_at_once_leave_exactly_one_pending(world):
    t, r = world
    for _ in range(8):
        _, child = held_at_a(t, r)
        results = _together(lambda: ask(t["school_b"], t, r, child, status=None),
                            lambda: ask(t["school_c"], t, r, child, to="school_c", status=None))
        assert sorted(x.status_code for x in results) == [201, 409], [x.text for x in results]
        won = next(x.json() for x in results if x.status_code == 201)
        lost = next(x.json() for x in results if x.status_code == 409)
        assert lost["code"] == "transfer_pending" and lost["transfer_id"] == won["id"]
        pending = enrollment_rows("SELECT count(*) AS n FROM transfers WHERE round_id = :r AND "
                                  "id_number = :n AND state = 'pending'", r=r["id"], n=child["national_id"])
        assert pending == [{"n": 1}]


def test_accept_against_remove_has_exactly_one_outcome(world):
    t, r = world
    outcomes = set()
    for _ in range(8):
        held, child = held_at_a(t, r)
        made = ask(t["school_b"], t, r, child)
        accept, remove = _together(
            lambda: t["school_a"].post(tr_url(r, made["id"], "accept")),
            lambda: t["school_a"].delete(f"/learners/{held['id']}", params={"reason": "not_found"}))
        state = t["school_a"].ok("GET", tr_url(r, made["id"]))["state"]
        if accept.status_code == 200:
            assert remove.status_code == 409, remove.text
            assert state == "accepted" and active_places(r, child) == [t.id("school_b")]
            outcomes.add("accepted")
        else:
            assert accept.status_code == 409 and remove.status_code == 204, (accept.text, remove.text)
            assert state == "cancelled" and active_places(r, child) == []
            outcomes.add("removed")
        removed = t["school_a"].ok("GET", f"/learners/{held['id']}")
        assert removed["removal_reason"] == ("moved_out" if state == "accepted" else "not_found")
    assert outcomes  # every round had exactly one outcome


def test_a_removal_cancels_the_pending_request(world):
    t, r = world
    held, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    t["school_a"].ok("DELETE", f"/learners/{held['id']}", 204, params={"reason": "moved_out"})
    seen = t["school_b"].ok("GET", tr_url(r, made["id"]))
    assert seen["state"] == "cancelled" and seen["history"][-1]["action"] == "cancelled"


def test_sealed_holder_waits_on_the_unit_that_can_revoke(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    confirm(t["school_a"], r["id"], t.id("school_a"))
    seen = t["school_a"].ok("GET", tr_url(r, made["id"]))
    assert seen["sealed"] is True and seen["waiting_on"]["id"] == t.id("lao_a")
    assert seen["waiting_on"]["name"] == t.units["lao_a"]["name"]
    error(t["school_a"].post(tr_url(r, made["id"], "accept")), 409, "unit_confirmed")
    assert active_places(r, child) == [t.id("school_a")]
    # the LAO confirmed too: only the province can open it again
    confirm(t["cdc_a"], r["id"], t.id("cdc_a"))
    t["lao_a"].ok("PUT", f"/rounds/{r['id']}/institutions/{t.id('other_a')}/headcount",
                  json={"counts": {"p1": 3}})
    confirm(t["lao_a"], r["id"], t.id("lao_a"))
    seen = t["school_b"].ok("GET", tr_url(r, made["id"]))
    assert seen["sealed"] is True and seen["waiting_on"]["id"] == t.id("province")
    assert seen["state"] == "pending"


def test_outsiders_do_not_see_requests_and_the_rpcs_for_other_parts(admin, world, lec_env):
    t, r = world
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    other = Tree.build(admin)
    error(other["school_a"].get(tr_url(r, made["id"])), 404, "not_found")
    error(other["school_a"].post(tr_url(r, made["id"], "accept")), 404, "not_found")
    error(other["lao_a"].post(tr_url(r, made["id"], "withdraw")), 404, "not_found")
    error(other["province"].get(tr_url(r), params={"org_unit_id": t.id("school_a")}), 404, "not_found")
    assert made["id"] not in [i["id"] for i in other["province"].ok("GET", tr_url(r))["items"]]
    # the province of both sides sees everything
    assert made["id"] in [i["id"] for i in t["province"].ok("GET", tr_url(r))["items"]]
    with rpc(lec_env) as proxy:
        counts = proxy.enrollment.transfer_counts(r["id"], [t.id("school_a"), t.id("lao_b"),
                                                            t.id("cdc_a")])
        assert counts[str(t.id("school_a"))] >= 1 and counts[str(t.id("lao_b"))] >= 1
        assert counts[str(t.id("cdc_a"))] == 0
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.context import ACTOR_KEY, Actor
    user = t["school_a"].user
    actor = Actor(user_id=user["id"], username=user["username"], role="institution",
                  org_unit_id=t.id("school_a"), path=t.units["school_a"]["path"])
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data={ACTOR_KEY: actor.to_json()}) as proxy:
        notices = proxy.enrollment.transfer_notices(r["id"])
    mine = [n for n in notices if n["transfer_id"] == made["id"]]
    assert len(mine) == 1 and mine[0]["kind"] == "transfer" and mine[0]["unit_id"] == t.id("school_a")


def test_the_round_sets_the_escalation_period(admin):
    from tests.client import CHECKS_OFF
    t = Tree.build(admin)
    r = new_round(admin, settings=dict(CHECKS_OFF, requests={"transfer_escalation_hours": 2}))
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    created = made["created_at"]
    assert made["answerable_by"]["since"] == created
    age(made["id"], 3)  # 3 h: past one period of 2 h, not two
    seen = t["lao_a"].ok("GET", tr_url(r, made["id"]))
    assert seen["answerable_by"]["level"] == "lao", seen
    error(t["province"].post(tr_url(r, made["id"], "accept")), 403, "forbidden")
    done = t["lao_a"].ok("POST", tr_url(r, made["id"], "accept"))
    assert done["state"] == "accepted" and active_places(r, child) == [t.id("school_b")]


def test_accepting_needs_the_receivers_window_open(admin):
    from tests.system.enrollment_helpers import closed_round
    t = Tree.build(admin)
    r = closed_round(admin)
    # the round is closed but for the holder's LAO, which has an extension
    t["province"].ok("POST", f"/rounds/{r['id']}/extensions", 201,
                     json={"org_unit_id": t.id("lao_a"), "closes_at": "2099-12-31"})
    _, child = held_at_a(t, r)
    made = ask(t["school_b"], t, r, child)
    error(t["school_a"].post(tr_url(r, made["id"], "accept")), 409, "round_not_open")
    assert active_places(r, child) == [t.id("school_a")]
    assert t["school_b"].ok("GET", tr_url(r, made["id"]))["state"] == "pending"
