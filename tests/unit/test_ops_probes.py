"""The operations endpoint's logic (services.common.ops) over a stand-in container:
readiness follows this process's own consumer connection, liveness its heartbeat
loop, and every entrypoint is timed under its own name."""
import json
import time
from types import SimpleNamespace

import pytest
from nameko.messaging import QueueConsumer
from prometheus_client.parser import text_string_to_metric_families

from services.common import heartbeat, ops


class FakeConnection:
    def __init__(self):
        self.connected = True


class FakeThread:
    dead = False


class WorkerCtx:
    """What the hooks read of nameko's WorkerContext (hashable, as it is)."""

    def __init__(self, method_name):
        self.entrypoint = SimpleNamespace(method_name=method_name)


def make_consumer():
    consumer = QueueConsumer.__new__(QueueConsumer)  # no container: only its callbacks are used
    consumer._gt = FakeThread()
    consumer.should_stop = False
    consumer._consumers_ready = SimpleNamespace(ready=lambda: True)
    return consumer


def make_ops(*extensions, port=-1, monkeypatch):
    monkeypatch.setenv("LEC_OPS_PORT", str(port))
    monkeypatch.setenv("LEC_OPS_HOST", "127.0.0.1")
    container = SimpleNamespace(service_name="registry", extensions=set(extensions), max_workers=7,
                                _worker_threads={})
    provider = ops.Ops()
    provider.container = container
    provider.setup()
    return provider


def start_response(captured):
    def start(status, headers):
        captured["status"] = status
        captured["headers"] = dict(headers)
    return start


def get(provider, path):
    captured = {}
    body = b"".join(provider.app({"REQUEST_METHOD": "GET", "PATH_INFO": path}, start_response(captured)))
    return int(captured["status"][:3]), body.decode()


def test_readiness_follows_this_processes_own_consumer_connection(monkeypatch):
    consumer = make_consumer()
    provider = make_ops(consumer, monkeypatch=monkeypatch)
    status, body = get(provider, "/readyz")
    assert status == 503 and json.loads(body)["reason"] == "the AMQP consumer is not connected to the broker"

    connection = FakeConnection()
    consumer.on_consume_ready(connection, None, [])  # what kombu calls after every (re)connection
    status, body = get(provider, "/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready", "service": "registry"}

    connection.connected = False  # kombu closed it: the consumer lost the broker
    assert get(provider, "/readyz")[0] == 503
    consumer.on_consume_ready(FakeConnection(), None, [])  # reconnected
    assert get(provider, "/readyz")[0] == 200

    consumer._gt.dead = True
    status, body = get(provider, "/readyz")
    assert status == 503 and "not running" in json.loads(body)["reason"]


def test_a_process_without_a_consumer_is_never_ready(monkeypatch):
    provider = make_ops(monkeypatch=monkeypatch)
    status, body = get(provider, "/readyz")
    assert status == 503 and json.loads(body)["status"] == "not_ready"


def test_liveness_follows_the_heartbeat_loop(monkeypatch):
    monkeypatch.setenv("LEC_HEARTBEAT_MAX_AGE", "10")
    beat = heartbeat.Heartbeat()
    beat.last_beat = None
    provider = make_ops(beat, monkeypatch=monkeypatch)
    assert get(provider, "/livez")[0] == 503
    beat.last_beat = time.monotonic()
    assert get(provider, "/livez") == (200, json.dumps({"status": "alive", "service": "registry"}))
    beat.last_beat = time.monotonic() - 11
    status, body = get(provider, "/livez")
    assert status == 503 and "old" in json.loads(body)["reason"]


def test_entrypoints_are_timed_under_their_names_and_workers_counted(monkeypatch):
    provider = make_ops(monkeypatch=monkeypatch)
    for name in ("health", "health", "on_unit_created"):
        ctx = WorkerCtx(name)
        provider.worker_setup(ctx)
        provider.worker_result(ctx, result=None)
        provider.worker_teardown(ctx)
    provider.container._worker_threads = {"a": 1, "b": 2}
    status, text = get(provider, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    counts = {s.labels["method"]: s.value for s in families["lec_rpc_duration_seconds"].samples
              if s.name == "lec_rpc_duration_seconds_count"}
    assert counts == {"health": 2, "on_unit_created": 1}
    assert all(s.labels["service"] == "registry" for s in families["lec_rpc_duration_seconds"].samples)
    assert families["lec_workers_busy"].samples[0].value == 2
    assert families["lec_workers_max"].samples[0].value == 7
    assert provider._started == {}
    assert get(provider, "/other")[0] == 404


def test_each_process_has_its_own_registry(monkeypatch):
    first, second = make_ops(monkeypatch=monkeypatch), make_ops(monkeypatch=monkeypatch)
    ctx = WorkerCtx("health")
    first.worker_setup(ctx)
    first.worker_result(ctx)
    assert "lec_rpc_duration_seconds_count" in get(first, "/metrics")[1]
    assert "lec_rpc_duration_seconds_count" not in get(second, "/metrics")[1]


def test_port_zero_takes_a_free_one_and_the_heartbeat_records_it(monkeypatch, tmp_path):
    provider = make_ops(port=0, monkeypatch=monkeypatch)
    try:
        assert provider.ops_port and provider.heartbeat_fields() == {"ops_port": provider.ops_port}
        monkeypatch.setenv("LEC_HEARTBEAT_FILE", str(tmp_path / "{service}.json"))
        beat = heartbeat.Heartbeat()
        beat.container = SimpleNamespace(service_name="registry", extensions={provider})
        beat.setup()
        beat._write()
        written = json.loads((tmp_path / "registry.json").read_text())
        assert written["ops_port"] == provider.ops_port and written["service"] == "registry"
    finally:
        provider.stop()
    assert make_ops(port=-1, monkeypatch=monkeypatch).heartbeat_fields() == {}


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/metrics"])
def test_only_get_is_answered(monkeypatch, path):
    provider = make_ops(monkeypatch=monkeypatch)
    captured = {}
    provider.app({"REQUEST_METHOD": "POST", "PATH_INFO": path}, start_response(captured))
    assert captured["status"].startswith("405")
