"""A call published on the broker without a valid acting user is refused by
every service (``unauthorized``), while the system itself (the gateway's
lookups, the services' timers, handlers and calls to each other) goes on."""
import json

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.context import ACTOR_KEY, Actor
from services.common.errors import LecError
from tests.system.confirmation_support import add_learners, confirm, new_round, wait_until

NO_ACTOR = {}
MALFORMED = [
    {ACTOR_KEY: "not json"},
    {ACTOR_KEY: json.dumps({"user_id": 1})},
    # a "department user" at the root path with no unit of its own
    {ACTOR_KEY: json.dumps({"user_id": 1, "username": "x", "role": "department", "org_unit_id": 0,
                            "path": "/"})},
    {ACTOR_KEY: json.dumps({"user_id": 9, "username": "x", "role": "overlord", "org_unit_id": 1,
                            "path": "/1/"})},
]


def calls(tree, round_id):
    school, lao = tree.id("school_a"), tree.id("lao_a")
    return [
        ("registry", "list_users", (), {}),
        ("registry", "get_units", ([1, school],), {}),
        ("registry", "token_states", ([tree["school_a"].user["id"]],), {}),
        ("registry", "subtree", (1,), {}),
        ("rounds", "list_rounds", (), {}),
        ("rounds", "window", (round_id, f"/1/{lao}/"), {}),
        ("enrollment", "list_learners", (round_id, school), {}),
        ("enrollment", "counts", (round_id, [school]), {}),
        ("enrollment", "seal", (round_id, school), {}),
        ("confirmation", "states", (round_id, [school]), {}),
        ("confirmation", "status", (round_id, school), {}),
        ("reporting", "summary", (round_id, school), {}),
        ("reporting", "rebuild", (round_id,), {}),
        ("registry", "health", (), {}),
    ]


@pytest.mark.parametrize("context", [NO_ACTOR] + MALFORMED, ids=["none"] + [f"malformed-{i}" for i in range(4)])
def test_every_service_refuses_a_call_without_a_valid_actor(lec_env, tree, context):
    rid = new_round(tree.admin)["id"]
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30, context_data=context) as proxy:
        for service, method, args, kwargs in calls(tree, rid):
            with pytest.raises(LecError) as caught:
                getattr(getattr(proxy, service), method)(*args, **kwargs)
            assert caught.value.code == "unauthorized", (service, method)


def test_a_valid_user_through_the_broker_is_held_to_its_subtree(lec_env, tree):
    school = tree["school_a"].user
    actor = Actor(user_id=school["id"], username=school["username"], role="institution",
                  org_unit_id=tree.id("school_a"), path=tree.units["school_a"]["path"])
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data={ACTOR_KEY: actor.to_json()}) as proxy:
        listed = proxy.registry.list_users()
        assert {u["org_unit_id"] for u in listed["items"]} == {tree.id("school_a")}


def test_the_system_still_works_end_to_end(tree):
    """Through the gateway (its lookups act as the system), a learner is added, the
    school confirms (confirmation calls registry, rounds and enrollment on the user's
    behalf) and the report (fed by the services' own event handlers) counts it."""
    rid = new_round(tree.admin)["id"]
    school = tree["school_a"]
    add_learners(school, rid, tree.id("school_a"), ["p1", "p2"])
    confirmed = confirm(school, rid, tree.id("school_a"))
    assert confirmed["state"] == "confirmed" and confirmed["counts"]["total"] == 2
    summary = f"/rounds/{rid}/reports/summary"
    params = {"org_unit_id": tree.id("lao_a")}
    wait_until(lambda: tree["lao_a"].get(summary, params=params).json()["learners"]["total"] == 2, 30,
               what="the learners in the report")
