"""The RPC entrypoint of every service survives a reply it cannot send."""
from types import SimpleNamespace

import nameko.rpc
import pytest

from services.common.base import BrokerTolerantRpcConsumer, TolerantRpc, rpc
from services.common.errors import LecError


def _consumer():
    consumer = BrokerTolerantRpcConsumer()
    consumer.container = SimpleNamespace(config={"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1/"})
    acked = []
    consumer.queue_consumer = SimpleNamespace(ack_message=acked.append)
    return consumer, acked


def test_a_reply_lost_to_a_broker_outage_leaves_the_request_for_redelivery(monkeypatch):
    def broker_gone(self, result, exc_info):
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(nameko.rpc.Responder, "send_response", broker_gone)
    consumer, acked = _consumer()
    message = SimpleNamespace(properties={})
    assert consumer.handle_result(message, {"ok": True}, None) == ({"ok": True}, None)
    assert acked == []  # not acknowledged: the broker delivers it again
    # nameko's own consumer lets the error escape, which stops the whole service
    with pytest.raises(ConnectionResetError):
        nameko.rpc.RpcConsumer.handle_result(consumer, message, {"ok": True}, None)


def test_replies_that_go_out_are_acknowledged(monkeypatch):
    monkeypatch.setattr(nameko.rpc.Responder, "send_response", lambda self, r, e: (r, e))
    consumer, acked = _consumer()
    message = SimpleNamespace(properties={})
    consumer.handle_result(message, 1, None)
    assert acked == [message]


def test_the_service_decorator_uses_the_tolerant_entrypoint():
    @rpc
    def method(self):
        pass

    entrypoints = getattr(method, "nameko_entrypoints")
    assert {type(e) for e in entrypoints} == {TolerantRpc}
    assert all(e.expected_exceptions == LecError for e in entrypoints)


def test_a_worker_that_calls_nobody_makes_no_service_proxy():
    """``ServiceRpc`` hands a worker a proxy made at its first call, once."""
    from services.common.rpc import TimedServiceProxy

    made = []

    class Method:
        def call_async(self, *args, **kwargs):
            raise RuntimeError("not called here")

    class Proxy:
        def __getattr__(self, name):
            return Method()

    def make():
        made.append(1)
        return Proxy()

    proxy = TimedServiceProxy(make, "registry", 5.0, {})
    assert made == []
    assert not hasattr(proxy, "_hidden") and made == []   # no proxy for private names
    first, second = proxy.get_units, proxy.subtree
    assert made == [1]
    assert first._name == "get_units" and second._name == "subtree" and first._timeout == 5.0
