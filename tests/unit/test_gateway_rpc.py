"""The gateway's RPC client passes the acting user and request id through
nameko's supported ``context_data``, never through the proxy's private worker
context."""
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcProxy

from gateway.rpc import RpcClient
from services.common.context import ACTOR_KEY

ROOT = Path(__file__).resolve().parents[2]


def test_the_gateway_never_touches_a_private_worker_context():
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "gateway").rglob("*.py")
                 if "_worker_ctx" in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_nameko_sends_the_mapping_it_was_given_as_it_is_at_each_call():
    """What the client relies on: nameko keeps the ``context_data`` mapping (not a
    copy) and reads it when a message is sent."""
    data = {}
    proxy = ClusterRpcProxy({"AMQP_URI": "memory://"}, context_data=data)
    data[ACTOR_KEY] = {"user_id": 7}
    assert proxy._worker_ctx.context_data[ACTOR_KEY] == {"user_id": 7}
    data.clear()
    assert ACTOR_KEY not in proxy._worker_ctx.context_data


def test_each_thread_has_one_context_data_mapping():
    client = RpcClient("memory://", 5)
    assert client._context_data() is client._context_data()
