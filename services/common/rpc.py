"""Service-to-service RPC with a timeout on every call.

nameko's ``RpcProxy`` waits for a reply forever; :class:`ServiceRpc` waits at
most ``timeout`` seconds (``LEC_RPC_TIMEOUT``) and then raises the stable
``service_unavailable`` error. Each call is a client span of the current trace
(services.common.tracing): its traceparent travels in the call's context data
and the span lasts until the reply (or the timeout).
"""
import uuid

import eventlet
from kombu import Queue
from nameko.exceptions import MethodNotFound, UnknownService
from nameko.rpc import (
    RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL, ReplyListener, RpcProxy, get_rpc_exchange,
)
from nameko.standalone.rpc import SingleThreadedReplyListener

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from services.common import settings, tracing
from services.common.context import TRACE_KEY
from services.common.errors import LecError


class TimedMethod:
    def __init__(self, method, target, name, timeout, context_data=None):
        self._method = method
        self._target = target
        self._name = name
        self._timeout = timeout
        self._data = context_data  # the worker's context data, sent with the call

    def __call__(self, *args, **kwargs):
        return self.call_async(*args, **kwargs).result()

    def call_async(self, *args, **kwargs):
        span = tracing.tracer("lec.rpc").start_span(
            f"{self._target}.{self._name}", kind=SpanKind.CLIENT,
            attributes={"rpc.system": "nameko", "rpc.service": self._target, "rpc.method": self._name})
        data = self._data if self._data is not None else {}
        own = data.get(TRACE_KEY)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            tracing.inject(data)  # the callee continues from this span
            reply = self._method.call_async(*args, **kwargs)
        except (UnknownService, MethodNotFound) as exc:
            error = LecError("service_unavailable", f"{self._target}.{self._name}: {exc}")
            _end(span, error)
            raise error
        except Exception as exc:
            _end(span, exc)
            raise
        finally:
            otel_context.detach(token)
            if own is None:
                data.pop(TRACE_KEY, None)
            else:
                data[TRACE_KEY] = own
        return TimedReply(reply, self._target, self._name, self._timeout, span)


def _end(span, exc=None):
    """End an RPC's client span, noting the error it ended with (see :func:`tracing.failed`)."""
    if exc is not None:
        tracing.failed(span, exc)
    span.end()


class TimedReply:
    def __init__(self, reply, target, name, timeout, span=None):
        self._reply = reply
        self._target = target
        self._name = name
        self._timeout = timeout
        self._span = span

    def result(self):
        timeout = eventlet.Timeout(self._timeout)
        failure = None
        try:
            return self._reply.result()
        except eventlet.Timeout as exc:
            if exc is not timeout:
                failure = exc
                raise
            failure = LecError("service_unavailable",
                               f"{self._target}.{self._name} did not answer within {self._timeout:g}s")
            raise failure
        except (UnknownService, MethodNotFound) as exc:
            failure = LecError("service_unavailable", f"{self._target}.{self._name}: {exc}")
            raise failure
        except Exception as exc:
            failure = exc
            raise
        finally:
            timeout.cancel()
            span, self._span = self._span, None
            if span is not None:
                _end(span, failure)


class TimedServiceProxy:
    """A service proxy whose calls give up after ``timeout``; ``make_proxy`` makes nameko's
    proxy at the first call (most workers call nobody: an event handler, a read)."""

    def __init__(self, make_proxy, target, timeout, context_data=None):
        self._make_proxy = make_proxy
        self._proxy = None
        self._target = target
        self._timeout = timeout
        self._data = context_data

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._proxy is None:
            self._proxy = self._make_proxy()
        return TimedMethod(getattr(self._proxy, name), self._target, name, self._timeout, self._data)


def declare_classic_reply_queue(listener: ReplyListener) -> None:
    """A reply listener's ``setup`` with its queue declared ``x-queue-type: classic``. nameko
    declares each process's reply queue durable and non-exclusive (it expires unused after 5
    minutes), so a vhost whose default queue type is quorum would make every one of them a quorum
    queue (a replicated log per process and per standalone proxy); a reply queue needs no replication."""
    reply_uuid = uuid.uuid4()
    listener.routing_key = str(reply_uuid)
    listener.queue = Queue(
        RPC_REPLY_QUEUE_TEMPLATE.format(listener.container.service_name, reply_uuid),
        exchange=get_rpc_exchange(listener.container.config), routing_key=listener.routing_key,
        queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL, "x-queue-type": "classic"})
    listener.queue_consumer.register_provider(listener)


class ClassicReplyListener(ReplyListener):
    """A service's reply listener (:class:`ServiceRpc`) with a classic queue."""

    def setup(self):
        declare_classic_reply_queue(self)


class ClassicStandaloneReplyListener(SingleThreadedReplyListener):
    """For ``ClusterRpcProxy(..., reply_listener_cls=ClassicStandaloneReplyListener)``."""

    def setup(self):
        declare_classic_reply_queue(self)


class ServiceRpc(RpcProxy):
    """``RpcProxy`` whose calls give up after ``timeout`` seconds."""

    rpc_reply_listener = ClassicReplyListener()

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(lambda: super(ServiceRpc, self).get_dependency(worker_ctx),
                                 self.target_service, self.timeout or settings.rpc_timeout(),
                                 worker_ctx.data)
