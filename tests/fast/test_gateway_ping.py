"""``GET /ping``: the token checked as on every route, then one RPC to enrollment's
``ping`` on behalf of the caller, and its answer."""
from tests.fast.conftest import error


def test_ping_checks_the_token_and_makes_one_rpc_as_the_caller(gw):
    gw.rpc.answer("enrollment", "ping", {"ok": True, "service": "enrollment"})
    r = gw.get("/ping", "school")
    assert r.status_code == 200, r.text
    assert r.json == {"ok": True, "service": "enrollment"}
    calls = gw.rpc.service_calls()
    assert [(c.service, c.method) for c in calls] == [("enrollment", "ping")]
    assert calls[0].actor is not None and calls[0].actor.user_id == gw.world.user_id("school")


def test_ping_without_a_valid_token_asks_nobody(gw):
    gw.rpc.answer("enrollment", "ping", {"ok": True, "service": "enrollment"})
    error(gw.get("/ping"), 401, "unauthorized")
    error(gw.get("/ping", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}), 401, "unauthorized")
    assert gw.rpc.calls_to("enrollment") == []


def test_ping_when_the_service_is_silent_is_503(gw):
    error(gw.get("/ping", "school"), 503, "service_unavailable")
