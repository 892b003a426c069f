"""Traces across the gateway, the RPCs between services and the event handlers.

The gateway starts a server span per HTTP request and a client span per RPC;
the W3C ``traceparent`` of the client span travels in the RPC's context data
under :data:`TRACE_KEY` (next to the request id and the acting user), so the
service continues the same trace in a server span per RPC
(:class:`WorkerTelemetry`), and a service's own RPCs (``ServiceRpc``) carry
it on. Every consumed event is handled in a span of its own
(services/common/inbox.py): the public events carry no trace context, so a
handler starts a new trace.

Spans are always made (the logs show their trace and span ids); they are sent
over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. New traces are
sampled at ``LEC_TRACE_SAMPLE_RATIO``; a continued one follows its caller.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Iterator, Mapping, MutableMapping, Optional

from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from services.common import logs, settings
from services.common.context import REQUEST_ID_KEY, TRACE_KEY, actor_from_context
from services.common.errors import LecError

log = logging.getLogger("lec.rpc")

TRACEPARENT = "traceparent"
_propagator = TraceContextTextMapPropagator()
_lock = threading.Lock()
_configured: dict[str, Any] = {}


def configure(service: str, exporter: Any = None) -> Any:
    """This process's tracer provider, made once: spans named for ``service``,
    sampled at ``LEC_TRACE_SAMPLE_RATIO``, exported to ``exporter`` (tests pass an
    in-memory one) or, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, over
    OTLP/HTTP. Call it after forking: the exporter runs a thread of its own."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    with _lock:
        if "provider" in _configured and exporter is None:
            return _configured["provider"]
        now = settings.current()
        provider = TracerProvider(resource=Resource.create({"service.name": f"lec-{service}"}),
                                  sampler=ParentBased(TraceIdRatioBased(now.trace_ratio)))
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        elif now.otel_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            endpoint = now.otel_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        _configured["provider"] = provider
        return provider


def tracer(name: str = "lec") -> trace.Tracer:
    """A tracer of this process's provider (configured with a default name when
    nothing has configured it yet)."""
    provider = _configured.get("provider") or configure("process")
    return provider.get_tracer(name)


def traceparent() -> Optional[str]:
    """The W3C traceparent of the current span (None outside any span)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def inject(data: MutableMapping[str, Any]) -> None:
    """Put the current span's traceparent into RPC context data (or remove a
    stale one when there is no current span)."""
    value = traceparent()
    if value:
        data[TRACE_KEY] = value
    else:
        data.pop(TRACE_KEY, None)


def extract(data: Optional[Mapping[str, Any]]) -> otel_context.Context:
    """The trace context that RPC context data carries (an empty context when
    it carries none or a malformed one: the span then starts a new trace)."""
    value = (data or {}).get(TRACE_KEY)
    if not isinstance(value, str):
        return otel_context.Context()
    return _propagator.extract({TRACEPARENT: value}, context=otel_context.Context())


def failed(span: Any, exc: BaseException) -> None:
    """Note ``exc`` on ``span``: an answer to the user (a :class:`LecError`, such
    as ``not_found``) is only an attribute; anything else, and an unavailable
    service, marks the span failed."""
    code = getattr(exc, "code", None)
    span.set_attribute("lec.error", code if isinstance(code, str) else type(exc).__name__)
    if not isinstance(exc, LecError) or exc.code == "service_unavailable":
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


@contextlib.contextmanager
def client_span(name: str, data: MutableMapping[str, Any], **attributes: Any) -> Iterator[Any]:
    """A client span around one outgoing RPC, its traceparent put into ``data``."""
    with tracer("lec.rpc").start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes,
                                                 record_exception=False,
                                                 set_status_on_exception=False) as span:
        inject(data)
        try:
            yield span
        except Exception as exc:
            failed(span, exc)
            raise


@contextlib.contextmanager
def consumer_span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span around the handling of one consumed event: a child of the trace of
    the change that emitted it when the event carried one (see
    :class:`WorkerTelemetry`), else a trace of its own."""
    with tracer("lec.events").start_as_current_span(name, kind=SpanKind.CONSUMER, attributes=attributes,
                                                    record_exception=False,
                                                    set_status_on_exception=False) as span:
        try:
            yield span
        except Exception as exc:
            failed(span, exc)
            raise


class WorkerTelemetry(DependencyProvider):
    """Every worker of a service runs with its request id and acting user bound
    for the logs; an RPC worker also in a server span that continues the
    caller's trace. The worker's context data then carries the worker's own
    span, so the RPCs it makes continue the trace from there. Each RPC ends
    with one line in the ``lec.rpc`` log: method, outcome (``ok`` or the error
    code) and time, never its arguments (``health``, which probes call every
    few seconds, at debug level)."""

    def worker_setup(self, worker_ctx: Any) -> None:
        data = worker_ctx.data
        is_rpc = isinstance(worker_ctx.entrypoint, Rpc)
        actor = actor_from_context(data) if is_rpc else None
        state: dict[str, Any] = {"log": logs.bind(
            request_id=data.get(REQUEST_ID_KEY),
            user_id=actor.user_id if actor is not None else None,
            unit_id=(actor.org_unit_id or None) if actor is not None else None)}
        if is_rpc:
            name = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
            state.update(name=name, started=time.perf_counter(), outcome="ok")
            span = tracer("lec.rpc").start_span(
                name, context=extract(data), kind=SpanKind.SERVER,
                attributes={"rpc.system": "nameko", "rpc.service": worker_ctx.service_name,
                            "rpc.method": worker_ctx.entrypoint.method_name})
            state["span"] = span
            state["context"] = otel_context.attach(trace.set_span_in_context(span))
            inject(data)
        elif isinstance(data.get(TRACE_KEY), str):
            # an event whose change was traced: its handler's span joins that trace
            state["context"] = otel_context.attach(extract(data))
        worker_ctx.lec_telemetry = state

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        state = getattr(worker_ctx, "lec_telemetry", {})
        span = state.get("span")
        if span is None or not exc_info:
            return
        failed(span, exc_info[1])
        code = getattr(exc_info[1], "code", None)
        state["outcome"] = code if isinstance(code, str) else type(exc_info[1]).__name__

    def worker_teardown(self, worker_ctx: Any) -> None:
        state = getattr(worker_ctx, "lec_telemetry", None)
        if not state:
            return
        if "started" in state:
            # the readiness probes' health checks come every few seconds: debug only
            level = logging.DEBUG if worker_ctx.entrypoint.method_name == "health" else logging.INFO
            log.log(level, "rpc %s %s in %.1f ms", state["name"], state["outcome"],
                    (time.perf_counter() - state["started"]) * 1000)
        if "context" in state:
            otel_context.detach(state["context"])
        if "span" in state:
            state["span"].end()
        logs.unbind(state["log"])
        worker_ctx.lec_telemetry = {}


class TracedContainer(ServiceContainer):
    """nameko's service container with :class:`WorkerTelemetry` added to every
    service (``SERVICE_CONTAINER_CLS`` in deploy/nameko.yml), and the process's
    logs and traces named after the service."""

    def __init__(self, service_cls: Any, config: Any) -> None:
        super().__init__(service_cls, config)
        logs.set_service(self.service_name)
        configure(self.service_name)
        bound = WorkerTelemetry().bind(self.interface, "lec_telemetry")
        self.dependencies.add(bound)
