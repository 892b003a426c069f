"""Traces: the gateway's client span travels as a W3C traceparent in the RPC's
context data, the service continues it in a server span per RPC (and carries it
on to the RPCs it makes), and each consumed event is a span of its own."""
import json
import logging
import re
import types

import pytest
from nameko.events import EventHandler
from nameko.rpc import Rpc
from nameko.timer import Timer
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.rpc import RpcClient
from services.common import inbox, logs, tracing
from services.common.context import ACTOR_KEY, REQUEST_ID_KEY, TRACE_KEY, Actor
from services.common.errors import LecError
from services.common.rpc import TimedMethod

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
USER = Actor(user_id=42, username="officer", role="lao", org_unit_id=7, path="/1/3/7/")


@pytest.fixture
def spans(monkeypatch):
    """Every span ended in the test, in order (an in-memory exporter)."""
    monkeypatch.setattr(tracing, "_configured", {})
    exporter = InMemorySpanExporter()
    tracing.configure("test", exporter=exporter)
    return exporter


class FakeProxy:
    """A ClusterRpcProxy's service proxies: records the context data as nameko
    would send it (a copy at the moment of the call)."""

    def __init__(self, data, answer=None):
        self.data = data
        self.sent = []
        self.answer = answer

    def __getattr__(self, service):
        def method(name):
            def call(*args, **kwargs):
                self.sent.append((service, name, dict(self.data)))
                if isinstance(self.answer, Exception):
                    raise self.answer
                return self.answer
            return call
        return types.SimpleNamespace(**{n: method(n) for n in ("get_round", "list_units")})


def gateway_call(answer=None, **kwargs):
    client = RpcClient("memory://", 5)
    proxy = FakeProxy(client._context_data(), answer)
    client._proxy = lambda timeout: (None, proxy)
    try:
        client.call("rounds", "get_round", 1, actor=USER, request_id="req-1", **kwargs)
    except LecError:
        pass
    return proxy.sent[0][2]


class FakeWorker:
    """The worker context nameko gives the providers of one call."""

    def __init__(self, entrypoint, data):
        self.entrypoint = entrypoint
        self.data = dict(data)
        self.service_name = "rounds"


def rpc_entrypoint(name="get_round"):
    entrypoint = Rpc(expected_exceptions=LecError)
    entrypoint.method_name = name
    return entrypoint


def test_the_traceparent_round_trips_through_the_rpc_context_data(spans, caplog):
    with tracing.tracer().start_as_current_span("GET /api/v1/rounds/{round_id}", kind=SpanKind.SERVER) as http:
        sent = gateway_call()
    # the gateway: a client span, child of the request's span, named in the context data
    client = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT)
    assert client.name == "rounds.get_round" and client.parent.span_id == http.get_span_context().span_id
    match = TRACEPARENT.match(sent[TRACE_KEY])
    assert match and int(match[1], 16) == client.context.trace_id and int(match[2], 16) == client.context.span_id
    assert sent[REQUEST_ID_KEY] == "req-1" and json.loads(sent[ACTOR_KEY])["user_id"] == 42

    # the service: a server span continuing it, with the request's ids in its logs
    telemetry = tracing.WorkerTelemetry()
    worker = FakeWorker(rpc_entrypoint(), sent)
    telemetry.worker_setup(worker)
    with caplog.at_level(logging.INFO):
        logging.getLogger("services.rounds").info("reading round")
    record = caplog.records[-1]
    assert logs.ContextFilter().filter(record)
    own = trace.get_current_span().get_span_context()
    # and the RPC it makes carries its own span on
    made = {}
    method = types.SimpleNamespace(call_async=lambda *a, **k: made.update(worker.data) or
                                   types.SimpleNamespace(result=lambda: {"ok": True}))
    assert TimedMethod(method, "registry", "get_units", 5, worker.data).call_async([7]).result() == {"ok": True}
    telemetry.worker_result(worker, {"id": 1}, None)
    telemetry.worker_teardown(worker)
    assert not trace.get_current_span().get_span_context().is_valid   # detached again
    assert logs.current() == {}

    finished = spans.get_finished_spans()
    server = next(s for s in finished if s.kind == SpanKind.SERVER and s.name == "rounds.get_round")
    assert server.context.trace_id == client.context.trace_id == http.get_span_context().trace_id
    assert server.parent.span_id == client.context.span_id and server.parent.is_remote
    assert own.span_id == server.context.span_id
    assert (record.request_id, record.user_id, record.unit_id) == ("req-1", 42, 7)
    assert record.trace_id == format(client.context.trace_id, "032x")
    assert record.span_id == format(server.context.span_id, "016x")
    onward = next(s for s in finished if s.name == "registry.get_units")
    assert onward.kind == SpanKind.CLIENT and onward.parent.span_id == server.context.span_id
    assert TRACEPARENT.match(made[TRACE_KEY])[2] == format(onward.context.span_id, "016x")
    assert worker.data[TRACE_KEY] == sent[TRACE_KEY].replace(
        format(client.context.span_id, "016x"), format(server.context.span_id, "016x"))


def test_a_call_without_trace_context_starts_a_new_trace(spans):
    worker = FakeWorker(rpc_entrypoint(), {ACTOR_KEY: USER.to_json()})
    telemetry = tracing.WorkerTelemetry()
    telemetry.worker_setup(worker)
    telemetry.worker_teardown(worker)
    (server,) = spans.get_finished_spans()
    assert server.parent is None and server.kind == SpanKind.SERVER
    assert tracing.extract({TRACE_KEY: "not-a-traceparent"}) == {}


def test_an_answered_error_is_an_attribute_an_unexpected_one_fails_the_span(spans):
    telemetry = tracing.WorkerTelemetry()
    for exc in (LecError("not_found", "no such round"), RuntimeError("bug")):
        worker = FakeWorker(rpc_entrypoint(), {})
        telemetry.worker_setup(worker)
        telemetry.worker_result(worker, None, (type(exc), exc, None))
        telemetry.worker_teardown(worker)
    expected, unexpected = spans.get_finished_spans()
    assert expected.attributes["lec.error"] == "not_found" and expected.status.status_code == StatusCode.UNSET
    assert unexpected.attributes["lec.error"] == "RuntimeError" and unexpected.status.status_code == StatusCode.ERROR
    sent = gateway_call(answer=LecError("service_unavailable", "rounds is not running"))
    assert TRACE_KEY in sent
    (client,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert client.status.status_code == StatusCode.ERROR


def test_timers_bind_no_user_and_make_no_span(spans):
    timer = Timer(interval=1)
    timer.method_name = "tick"
    worker = FakeWorker(timer, {ACTOR_KEY: USER.to_json(), REQUEST_ID_KEY: "r-2"})
    telemetry = tracing.WorkerTelemetry()
    telemetry.worker_setup(worker)
    assert logs.current() == {"request_id": "r-2", "user_id": None, "unit_id": None}
    telemetry.worker_teardown(worker)
    assert spans.get_finished_spans() == ()


def test_each_consumed_event_is_a_consumer_span_of_its_own(spans, monkeypatch):
    seen = []
    monkeypatch.setattr(inbox, "process_event", lambda db, name, event, apply: seen.append(
        trace.get_current_span().get_span_context()) or True)

    class Service:
        db = None

        @inbox.handles("enrollment", "learner_added")
        def on_learner(self, uow, event):
            pass

    assert Service().on_learner({"event_id": "e-1", "type": "learner_added"}) is True
    (span,) = spans.get_finished_spans()
    assert span.kind == SpanKind.CONSUMER and span.name == "on_learner" and span.parent is None
    assert span.attributes["lec.event_id"] == "e-1" and span.attributes["lec.event_type"] == "learner_added"
    assert seen[0].span_id == span.context.span_id
    assert any(isinstance(e, EventHandler) for e in getattr(Service.on_learner, "nameko_entrypoints", ()))


def test_the_services_run_in_the_traced_container():
    import yaml
    from pathlib import Path
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "nameko.yml").read_text())
    assert config["SERVICE_CONTAINER_CLS"] == "services.common.tracing.TracedContainer"
    from nameko.containers import get_container_cls
    assert get_container_cls(config) is tracing.TracedContainer

    from services.registry.service import RegistryService
    container = tracing.TracedContainer(RegistryService, {"AMQP_URI": "memory://"})
    assert any(isinstance(d, tracing.WorkerTelemetry) for d in container.dependencies)
    assert logs._process["service"] == "registry"


def test_an_rpc_worker_logs_one_line_with_its_outcome_and_no_arguments(spans, caplog):
    telemetry = tracing.WorkerTelemetry()
    worker = FakeWorker(rpc_entrypoint("find_learners"), {REQUEST_ID_KEY: "req-7", ACTOR_KEY: USER.to_json()})
    worker.args = ("3100600445635",)
    with caplog.at_level(logging.INFO, logger="lec.rpc"):
        telemetry.worker_setup(worker)
        telemetry.worker_result(worker, None, (LecError, LecError("forbidden", "no"), None))
        telemetry.worker_teardown(worker)
    (record,) = [r for r in caplog.records if r.name == "lec.rpc"]
    assert re.fullmatch(r"rpc rounds\.find_learners forbidden in \d+\.\d ms", record.getMessage())
    assert "3100600445635" not in caplog.text


def test_the_gateway_request_is_the_parent_of_its_rpcs_and_logs_its_ids(spans, caplog):
    import falcon
    import falcon.testing

    from gateway.middleware import ActorLogs, RequestId, Telemetry

    client = RpcClient("memory://", 5)
    proxy = FakeProxy(client._context_data(), {"id": 1})
    client._proxy = lambda timeout: (None, proxy)

    class Thing:
        def on_get(self, req, resp, id):
            resp.media = client.call("rounds", "get_round", id, actor=req.context.actor,
                                     request_id=req.context.request_id)

    class SignedIn:
        def process_resource(self, req, resp, resource, params):
            req.context.actor = USER

    app = falcon.App(middleware=[RequestId(), Telemetry(), SignedIn(), ActorLogs()])
    app.add_route("/things/{id:int}", Thing())
    caplog.handler.addFilter(logs.ContextFilter())  # as every handler of the gateway has
    with caplog.at_level(logging.INFO, logger="lec.http"):
        answer = falcon.testing.TestClient(app).simulate_get("/things/5", headers={"X-Request-ID": "req-42"})
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "req-42"
    server = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER)
    rpc = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT)
    assert server.name == "GET /things/{id:int}" and server.attributes["http.response.status_code"] == 200
    assert rpc.parent.span_id == server.context.span_id and server.parent is None
    assert TRACEPARENT.match(proxy.sent[0][2][TRACE_KEY])[1] == format(server.context.trace_id, "032x")
    (line,) = [r for r in caplog.records if r.name == "lec.http"]
    assert re.fullmatch(r"GET /things/\{id:int\} 200 in \d+\.\d ms", line.getMessage())
    assert (line.request_id, line.user_id, line.unit_id) == ("req-42", 42, 7)
    assert line.trace_id == format(server.context.trace_id, "032x")
    assert logs.current() == {} and not trace.get_current_span().get_span_context().is_valid

    # a caller's traceparent is continued
    given = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    falcon.testing.TestClient(app).simulate_get("/things/6", headers={"traceparent": given})
    continued = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER][-1]
    assert format(continued.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(continued.parent.span_id, "016x") == "b7ad6b7169203331"


def test_the_gateways_own_calls_for_a_request_carry_its_request_id(spans):
    token = logs.bind(request_id="req-own")
    try:
        client = RpcClient("memory://", 5)
        proxy = FakeProxy(client._context_data(), [])
        client._proxy = lambda timeout: (None, proxy)
        client.call("registry", "list_units", [1], actor=Actor.system("gateway"))
        client.call("registry", "list_units", [1], actor=Actor.system("gateway"), request_id="given")
    finally:
        logs.unbind(token)
    assert [sent[2][REQUEST_ID_KEY] for sent in proxy.sent] == ["req-own", "given"]


def test_an_event_carries_the_trace_of_its_change_into_its_handler(spans, monkeypatch):
    """The outbox row keeps the traceparent of the change; the relay sends it as a
    ``nameko.lec_trace`` header, which nameko hands to the consumer as context
    data; the handler's consumer span is then a child in the same trace."""
    from services.common.outbox import event_headers

    with tracing.tracer().start_as_current_span("learner recorded") as change:
        carried = tracing.traceparent()
    assert TRACEPARENT.match(carried)
    row = types.SimpleNamespace(event_id="e-9", trace=carried)
    headers = event_headers(row)
    assert headers == {"lec.event_id": "e-9", f"nameko.{TRACE_KEY}": carried}
    assert event_headers(types.SimpleNamespace(event_id="e-10", trace=None)) == {"lec.event_id": "e-10"}

    monkeypatch.setattr(inbox, "process_event", lambda db, name, event, apply: True)

    class Service:
        db = None

        @inbox.handles("enrollment", "learner_added")
        def on_learner(self, uow, event):
            pass

    handler = next(e for e in Service.on_learner.nameko_entrypoints if isinstance(e, EventHandler))
    handler.method_name = "on_learner"
    # nameko strips the "nameko." prefix of the message headers into the worker's context data
    worker = FakeWorker(handler, {TRACE_KEY: headers[f"nameko.{TRACE_KEY}"]})
    telemetry = tracing.WorkerTelemetry()
    telemetry.worker_setup(worker)
    try:
        Service().on_learner({"event_id": "e-9", "type": "learner_added"})
    finally:
        telemetry.worker_teardown(worker)
    consumer = next(s for s in spans.get_finished_spans() if s.name == "on_learner")
    assert consumer.context.trace_id == change.get_span_context().trace_id
    assert consumer.parent is not None and consumer.parent.span_id == change.get_span_context().span_id
