"""The operators' routes: the token production requires, and the readiness check
that asks the services at most once per interval."""
import types

import pytest

from gateway.config import GatewayConfig
from gateway.resources import health
from services.common.errors import LecError
from services.common.settings import SERVICES


def test_production_refuses_to_start_without_an_operator_token(monkeypatch):
    monkeypatch.setenv("LEC_ENV", "production")
    for token in ("", "short-token", "change-me-to-32-or-more-random-characters"):
        with pytest.raises(RuntimeError, match="LEC_OPS_TOKEN"):
            health.check_ops_token(GatewayConfig(ops_token=token, listen_events=False))
    health.check_ops_token(GatewayConfig(ops_token="x" * 32, listen_events=False))
    monkeypatch.setenv("LEC_ENV", "development")
    health.check_ops_token(GatewayConfig(ops_token="", listen_events=False))


class CountingRpc:
    """The services' ``health`` RPC, counted."""

    def __init__(self, answer=None):
        self.calls = 0
        self.answer = answer

    def call(self, service, method, *args, **kwargs):
        assert method == "health"
        self.calls += 1
        if self.answer is None:
            raise LecError("service_unavailable", f"{service} is not running")
        return dict(self.answer, service=service)


def service_health(rpc, ttl):
    """The check with kombu's in-memory broker and ``rpc`` as the services."""
    ctx = types.SimpleNamespace(rpc=rpc, config=types.SimpleNamespace(amqp_uri="memory://"))
    return health.ServiceHealth(ctx, ttl)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_readiness_asks_the_services_once_per_interval(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(health.time, "monotonic", clock)
    rpc = CountingRpc({"ok": True, "database": "ok", "outbox_pending": 0, "failed_events": 0})
    checker = service_health(rpc, ttl=5)
    for _ in range(20):
        assert checker.current()["ready"] is True
    assert rpc.calls == len(SERVICES)  # twenty probes, one round of RPCs
    clock.now += 5
    checker.current()
    assert rpc.calls == 2 * len(SERVICES)


def test_a_failed_readiness_check_is_kept_one_second_only(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(health.time, "monotonic", clock)
    rpc = CountingRpc(None)
    checker = service_health(rpc, ttl=5)
    state = checker.current()
    assert state["ready"] is False and state["checks"]["registry"]["ok"] is False
    checker.current()
    assert rpc.calls == len(SERVICES)
    clock.now += 1
    rpc.answer = {"ok": True, "database": "ok"}
    assert checker.current()["ready"] is True
    assert rpc.calls == 2 * len(SERVICES)
