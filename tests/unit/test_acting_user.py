"""Every RPC carries a valid acting user, or it is refused before any worker
runs; a service's own timers and handlers act as its named system actor."""
import json
from types import SimpleNamespace

import pytest
from nameko.timer import Timer

from services.common.base import TolerantRpc
from services.common.context import (
    ACTOR_KEY, Actor, actor_from_context, require_call_actor, system_context, worker_actor,
)
from services.common.errors import LecError

USER = Actor(user_id=5, username="lao.suthep", role="lao", org_unit_id=7, path="/1/3/7/")


def malformed():
    good = json.loads(USER.to_json())
    yield "not json"
    yield json.dumps([1, 2])
    yield json.dumps({})
    yield json.dumps(dict(good, role="king"))
    yield json.dumps(dict(good, role="system"))                 # the system is user 0 at /
    yield json.dumps(dict(good, org_unit_id=8))                 # not the unit its path ends at
    yield json.dumps(dict(good, path="/1/3/7"))
    yield json.dumps(dict(good, path="/"))
    yield json.dumps(dict(good, user_id="5"))
    yield json.dumps(dict(good, user_id=True))
    yield json.dumps(dict(good, user_id=0))
    yield json.dumps(dict(good, username=""))
    yield json.dumps(dict(good, extra="field"))
    yield json.dumps({k: v for k, v in good.items() if k != "path"})


@pytest.mark.parametrize("raw", list(malformed()))
def test_a_malformed_actor_is_no_actor(raw):
    assert actor_from_context({ACTOR_KEY: raw}) is None
    with pytest.raises(LecError) as caught:
        require_call_actor({ACTOR_KEY: raw})
    assert caught.value.code == "unauthorized"


def test_users_and_the_named_system_are_actors():
    assert require_call_actor({ACTOR_KEY: USER.to_json()}) == USER
    assert require_call_actor(system_context("gateway")) == Actor.system("gateway")
    for data in (None, {}, {ACTOR_KEY: ""}):
        with pytest.raises(LecError):
            require_call_actor(data)


def _rpc_message(headers):
    return SimpleNamespace(headers=headers, properties={}, delivery_info={"routing_key": "svc.method"})


def test_the_rpc_entrypoint_refuses_a_call_without_an_actor_before_any_worker():
    spawned = []
    entrypoint = TolerantRpc.__new__(TolerantRpc)
    entrypoint.container = SimpleNamespace(
        spawn_worker=lambda *a, **k: spawned.append(k), config={}, service_name="svc")
    entrypoint.method_name = "method"
    entrypoint.check_signature = lambda args, kwargs: None
    body = {"args": [], "kwargs": {}}
    for headers in ({}, {"nameko.lec_actor": "{}"}):
        with pytest.raises(LecError) as caught:
            entrypoint.handle_message(body, _rpc_message(headers))
        assert caught.value.code == "unauthorized"
    assert spawned == []
    entrypoint.handle_message(body, _rpc_message({"nameko.lec_actor": USER.to_json()}))
    assert spawned and spawned[0]["context_data"][ACTOR_KEY] == USER.to_json()


def test_timers_and_handlers_act_as_their_service_and_pass_it_on():
    timer = Timer.__new__(Timer)
    ctx = SimpleNamespace(entrypoint=timer, service_name="rounds", data={ACTOR_KEY: USER.to_json()})
    assert worker_actor(ctx) == Actor.system("rounds")
    assert ctx.data[ACTOR_KEY] == Actor.system("rounds").to_json()  # what its RPCs carry
    rpc = TolerantRpc.__new__(TolerantRpc)
    assert worker_actor(SimpleNamespace(entrypoint=rpc, service_name="rounds", data={})) is None
