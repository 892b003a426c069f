"""Revocation requests through the gateway and the broker: a confirmed school asks,
the request goes to the lowest unit above able to act, an approval unwinds the
chain from the top with the request's reason; declines, withdrawals and wrong
approvers; and seeing the confirmations above one's unit (state, not data)."""
import contextlib

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.context import ACTOR_KEY, Actor
from services.common.hierarchy import ROLE_OF_TYPE
from tests.events import EventCollector
from tests.system.confirmation_support import add_learners, confirm, new_round, refused

REASON = "ครูกรอกชั้นเรียนผิดสองคน ขอแก้ไข"


@pytest.fixture
def rnd(admin):
    return new_round(admin)


@pytest.fixture
def events(lec_env):
    collector = EventCollector(lec_env["AMQP_URI"], "confirmation", ["unit_revoked"])
    yield collector
    collector.close()


def reqs(rid, *tail):
    return "/".join([f"/rounds/{rid}/revocation-requests", *[str(t) for t in tail]])


def ask(client, rid, unit_id, reason=REASON, status=201):
    r = client.post(reqs(rid), {"unit_id": unit_id, "reason": reason})
    assert r.status_code == status, r.text
    return r.json()


def state_of(client, rid, unit_id):
    return client.ok("GET", f"/rounds/{rid}/confirmations/{unit_id}")["state"]


def confirmed_lao_a(t, rid):
    """school_a and cdc_a confirmed (one learner each); returns nothing."""
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    confirm(t["school_a"], rid, t.id("school_a"))
    confirm(t["cdc_a"], rid, t.id("cdc_a"))


@contextlib.contextmanager
def rpc_as(lec_env, tree, key):
    client, unit = tree[key], tree.units[key]
    actor = Actor(user_id=client.user["id"], username=client.user["username"],
                  role=ROLE_OF_TYPE[unit["type"]], org_unit_id=unit["id"], path=unit["path"])
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data={ACTOR_KEY: actor.to_json()}) as proxy:
        yield proxy


def test_a_school_under_an_open_lao_asks_the_lao_which_reopens_it(tree, rnd, lec_env):
    t, rid, sid = tree, rnd["id"], tree.id("school_a")
    confirmed_lao_a(t, rid)
    made = ask(t["school_a"], rid, sid)
    assert made["state"] == "pending" and made["routed_to"]["id"] == t.id("lao_a")
    assert made["unit"] == {"id": sid, "code": t.units["school_a"]["code"],
                            "name": t.units["school_a"]["name"], "type": "school"}
    assert made["requested_by"] == t["school_a"].user["id"] and made["requested_by_unit_id"] == sid
    assert made["can_answer"] is False and made["can_withdraw"] is True and made["revoked"] == []

    # the LAO sees it among those it can answer; the province too (above the LAO)
    listed = t["lao_a"].ok("GET", reqs(rid), params={"state": "pending"})
    assert [(i["id"], i["can_answer"]) for i in listed["items"]] == [(made["id"], True)]
    assert listed["total"] == 1
    assert t["province"].ok("GET", reqs(rid))["items"][0]["can_answer"] is True
    # notices and counts, as the other parts ask for them
    with rpc_as(lec_env, t, "lao_a") as proxy:
        notices = proxy.confirmation.revocation_request_notices(rid)
        assert [(n["kind"], n["request_id"], n["unit_id"], n["action"]) for n in notices] == \
            [("revocation_request", made["id"], sid, "answer")]
        counts = proxy.confirmation.revocation_request_counts(rid, [t.id("lao_a"), sid, t.id("cdc_a")])
        assert counts == {str(t.id("lao_a")): 1, str(sid): 1, str(t.id("cdc_a")): 0}
    with rpc_as(lec_env, t, "school_a") as proxy:
        assert proxy.confirmation.revocation_request_notices(rid) == []  # nothing to answer yet

    done = t["lao_a"].ok("POST", reqs(rid, made["id"], "approve"), json={"reason": "อนุมัติ แก้ไขได้"})
    assert done["state"] == "approved" and done["revoked"] == [sid]
    assert done["answered_by"] == t["lao_a"].user["id"] and done["answer_reason"] == "อนุมัติ แก้ไขได้"
    assert state_of(t["school_a"], rid, sid) == "open"
    assert state_of(t["lao_a"], rid, t.id("cdc_a")) == "confirmed"  # only the unit asked about
    # a retried approval answers the same; the school sees the outcome
    again = t["lao_a"].ok("POST", reqs(rid, made["id"], "approve"))
    assert again["revoked"] == [sid] and again["answered_at"] == done["answered_at"]
    mine = t["school_a"].ok("GET", reqs(rid))["items"]
    assert [(i["id"], i["state"]) for i in mine] == [(made["id"], "approved")]
    with rpc_as(lec_env, t, "school_a") as proxy:
        outcome = proxy.confirmation.revocation_request_notices(rid)
        assert [(n["request_id"], n["action"], n["state"]) for n in outcome] == \
            [(made["id"], "outcome", "approved")]
    # the school can confirm again, and ask again
    confirm(t["school_a"], rid, sid)
    assert ask(t["school_a"], rid, sid)["state"] == "pending"


def test_under_a_confirmed_lao_the_province_reopens_both_top_down(admin, tree, rnd, events):
    t, rid, sid, lid = tree, rnd["id"], tree.id("school_a"), tree.id("lao_a")
    confirmed_lao_a(t, rid)
    confirm(t["lao_a"], rid, lid)
    made = ask(t["school_a"], rid, sid)
    assert made["routed_to"]["id"] == t.id("province") and made["routed_to"]["type"] == "province"
    # the LAO is confirmed: it cannot answer (and sees that)
    assert t["lao_a"].ok("GET", reqs(rid, made["id"]))["can_answer"] is False
    refused(t["lao_a"].post(reqs(rid, made["id"], "approve")), "forbidden", 403)

    done = t["province"].ok("POST", reqs(rid, made["id"], "approve"))
    assert done["state"] == "approved" and done["revoked"] == [lid, sid]
    assert done["routed_to"]["id"] == t.id("province")
    assert state_of(t["lao_a"], rid, lid) == "open" and state_of(t["school_a"], rid, sid) == "open"
    assert state_of(t["lao_a"], rid, t.id("cdc_a")) == "confirmed"
    # each revocation audited with the request's reason, by the province's user
    for unit_id, client in ((lid, t["lao_a"]), (sid, t["school_a"])):
        history = client.ok("GET", f"/rounds/{rid}/confirmations/{unit_id}/history")
        revokes = [h for h in (history["items"] if isinstance(history, dict) else history)
                   if h["action"] == "revoke"]
        assert len(revokes) == 1 and revokes[0]["details"]["reason"] == REASON
        assert revokes[0]["actor_id"] == t["province"].user["id"]
    # the agencies hear it top-down: the LAO's revocation first
    for unit_id in (lid, sid):
        events.wait_for(lambda e, u=unit_id: e["org_unit"]["id"] == u and e["round"]["id"] == rid, 20)
    order = [e["org_unit"]["id"] for e in events.events if e["round"]["id"] == rid]
    assert order == [lid, sid] and {e["reason"] for e in events.events if e["round"]["id"] == rid} == {REASON}
    # the audit log holds the request and its approval
    trail = admin.ok("GET", "/audit", params={"service": "confirmation",
                                                      "entity": "revocation_request"})
    actions = {(a["action"], a["entity_id"]) for a in trail["items"]}
    assert ("revocation_request_approved", str(made["id"])) in actions
    assert ("revocation_requested", str(made["id"])) in actions


def test_declined_withdrawn_doubled_and_the_wrong_approvers(tree, rnd, lec_env):
    t, rid, sid = tree, rnd["id"], tree.id("school_a")
    # not confirmed yet: nothing to reopen
    refused(t["school_a"].post(reqs(rid), {"unit_id": sid, "reason": REASON}), "not_confirmed")
    confirmed_lao_a(t, rid)
    made = ask(t["school_a"], rid, sid)
    # one pending request per unit and round, whoever asks
    refused(t["school_a"].post(reqs(rid), {"unit_id": sid, "reason": REASON}), "conflict")
    refused(t["lao_a"].post(reqs(rid), {"unit_id": sid, "reason": REASON}), "conflict")
    # a reason is required, and it carries no national ID
    refused(t["cdc_a"].post(reqs(rid), {"unit_id": t.id("cdc_a")}), "validation_error", 422)
    refused(t["cdc_a"].post(reqs(rid), {"unit_id": t.id("cdc_a"), "reason": "เลข 1101700203451"}),
            "validation_error", 422)
    # the school itself, another LAO's user, the other school: not answerers
    refused(t["school_a"].post(reqs(rid, made["id"], "approve")), "forbidden", 403)
    refused(t["lao_b"].post(reqs(rid, made["id"], "approve")), "not_found", 404)
    refused(t["lao_b"].post(reqs(rid, made["id"], "decline"), {"reason": "ไม่อนุมัติ"}), "not_found", 404)
    refused(t["school_b"].get(reqs(rid, made["id"])), "not_found", 404)
    assert t["lao_b"].ok("GET", reqs(rid))["items"] == []
    # a decline needs a reason, which the requester sees
    refused(t["lao_a"].post(reqs(rid, made["id"], "decline"), {}), "validation_error", 422)
    declined = t["lao_a"].ok("POST", reqs(rid, made["id"], "decline"),
                             json={"reason": "ข้อมูลถูกต้องแล้ว ไม่ต้องแก้"})
    assert declined["state"] == "declined" and declined["revoked"] == []
    seen = t["school_a"].ok("GET", reqs(rid, made["id"]))
    assert seen["state"] == "declined" and seen["answer_reason"] == "ข้อมูลถูกต้องแล้ว ไม่ต้องแก้"
    assert state_of(t["school_a"], rid, sid) == "confirmed"
    refused(t["lao_a"].post(reqs(rid, made["id"], "approve")), "conflict")
    with rpc_as(lec_env, t, "school_a") as proxy:
        assert [(n["state"], n["title_data"]["answer_reason"])
                for n in proxy.confirmation.revocation_request_notices(rid)] == \
            [("declined", "ข้อมูลถูกต้องแล้ว ไม่ต้องแก้")]
    # asked again, then withdrawn (not by the LAO that answers)
    second = ask(t["school_a"], rid, sid)
    refused(t["lao_a"].post(reqs(rid, second["id"], "withdraw")), "forbidden", 403)
    gone = t["school_a"].ok("POST", reqs(rid, second["id"], "withdraw"))
    assert gone["state"] == "withdrawn" and gone["can_withdraw"] is False
    refused(t["lao_a"].post(reqs(rid, second["id"], "approve")), "conflict")
    states = t["lao_a"].ok("GET", reqs(rid), params={"org_unit_id": sid})
    assert sorted(i["state"] for i in states["items"]) == ["declined", "withdrawn"]
    refused(t["lao_a"].get(reqs(rid), params={"state": "lost"}), "validation_error", 422)


def test_a_school_sees_the_confirmations_above_it_not_their_data(tree, rnd):
    t, rid, sid, lid = tree, rnd["id"], tree.id("school_a"), tree.id("lao_a")
    confirmed_lao_a(t, rid)
    lao = confirm(t["lao_a"], rid, lid)
    chain = t["school_a"].ok("GET", f"/rounds/{rid}/confirmations/{sid}/ancestors")["items"]
    assert [i["type"] for i in chain] == ["department", "province", "lao"]
    assert [i["unit_id"] for i in chain[1:]] == [t.id("province"), lid]
    top, province, mine = chain
    assert top["state"] == "open" and province["state"] == "open" and province["confirmed_at"] is None
    assert mine["state"] == "confirmed" and mine["confirmed_at"] == lao["confirmed_at"]
    assert mine["confirmed_by"] == t["lao_a"].user["id"]
    assert mine["confirmed_by_name"] == t["lao_a"].user["username"]
    assert mine["name"] == t.units["lao_a"]["name"]
    # the LAO's own confirmation, reduced: no counts, no children
    view = t["school_a"].ok("GET", f"/rounds/{rid}/confirmations/{lid}")
    assert view == {"unit_id": lid, "state": "confirmed", "confirmed_at": lao["confirmed_at"],
                    "confirmed_by": t["lao_a"].user["id"],
                    "confirmed_by_name": t["lao_a"].user["username"]}
    assert set(t["lao_a"].ok("GET", f"/rounds/{rid}/confirmations/{lid}")) >= {"counts", "children"}
    # not its data, nor a sibling's, nor another subtree's chain
    refused(t["school_a"].get(f"/rounds/{rid}/confirmations/{lid}/history"), "not_found", 404)
    refused(t["school_a"].get(f"/rounds/{rid}/confirmations/{lid}/diff"), "not_found", 404)
    refused(t["school_a"].get(f"/rounds/{rid}/confirmations/{t.id('cdc_a')}"), "not_found", 404)
    refused(t["school_a"].get(f"/rounds/{rid}/confirmations/{t.id('lao_b')}"), "not_found", 404)
    refused(t["school_b"].get(f"/rounds/{rid}/confirmations/{sid}/ancestors"), "not_found", 404)


def test_routing_is_computed_again_when_answered(tree, rnd):
    t, rid, sid, lid = tree, rnd["id"], tree.id("school_a"), tree.id("lao_a")
    confirmed_lao_a(t, rid)
    confirm(t["lao_a"], rid, lid)
    made = ask(t["school_a"], rid, sid)
    assert made["routed_to"]["id"] == t.id("province")
    # meanwhile the province reopens the LAO for a reason of its own: the LAO can act now
    t["province"].ok("DELETE", f"/rounds/{rid}/confirmations/{lid}", json={"reason": "ตรวจสอบยอดรวมใหม่"})
    assert t["lao_a"].ok("GET", reqs(rid, made["id"]))["can_answer"] is True
    done = t["lao_a"].ok("POST", reqs(rid, made["id"], "approve"))
    assert done["revoked"] == [sid] and done["routed_to"]["id"] == lid
    assert state_of(t["school_a"], rid, sid) == "open"
