"""RPC from gunicorn threads: one nameko ``ClusterRpcProxy`` per thread
(a proxy shared between threads deadlocks), created lazily after fork, with a
timeout on every call. The acting user and request id travel as context data:
each thread's proxies are given one ``context_data`` mapping of that thread,
which nameko keeps (it copies it into the headers of every message it sends),
so the mapping is filled anew before each call. Each call is a client span of
the request's trace; its W3C traceparent travels with the request id, and the
service continues the trace from it (services.common.tracing)."""
import logging
import socket
import threading

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.amqp.publish import UndeliverableMessage
from nameko.exceptions import MethodNotFound, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import logs, tracing
from services.common.context import ACTOR_KEY, REQUEST_ID_KEY
from services.common.errors import LecError
from services.common.rpc import ClassicStandaloneReplyListener

log = logging.getLogger(__name__)


class RpcClient:
    def __init__(self, amqp_uri, timeout):
        self.config = {"AMQP_URI": amqp_uri}
        self.timeout = timeout
        self._local = threading.local()

    def _context_data(self):
        """This thread's context data, shared by all of its proxies."""
        data = getattr(self._local, "context_data", None)
        if data is None:
            data = self._local.context_data = {}
        return data

    def _proxy(self, timeout):
        key = timeout or self.timeout
        proxies = getattr(self._local, "proxies", None)
        if proxies is None:
            proxies = self._local.proxies = {}
        if key not in proxies:
            holder = ClusterRpcProxy(self.config, context_data=self._context_data(), timeout=key,
                                     reply_listener_cls=ClassicStandaloneReplyListener)
            proxies[key] = (holder, holder.start())
        return proxies[key]

    def _discard(self, timeout):
        key = timeout or self.timeout
        holder, _ = getattr(self._local, "proxies", {}).pop(key, (None, None))
        if holder is not None:
            try:
                holder.stop()
            except Exception:  # the connection is already broken
                pass

    def call(self, service, method, *args, actor=None, request_id=None, timeout=None, **kwargs):
        try:
            _, proxy = self._proxy(timeout)
        except (OSError, AMQPError, KombuError) as exc:
            raise LecError("service_unavailable", f"message broker unavailable: {exc}")
        data = self._context_data()
        data.clear()
        if actor is not None:
            data[ACTOR_KEY] = actor.to_json()
        # the gateway's own calls for a request (token states, units) carry its id too
        request_id = request_id or logs.current().get("request_id")
        if request_id:
            data[REQUEST_ID_KEY] = request_id
        with tracing.client_span(f"{service}.{method}", data, **{
                "rpc.system": "nameko", "rpc.service": service, "rpc.method": method}):
            return self._send(proxy, service, method, timeout, args, kwargs)

    def _send(self, proxy, service, method, timeout, args, kwargs):
        try:
            return getattr(getattr(proxy, service), method)(*args, **kwargs)
        except LecError:
            raise
        except RpcTimeout:
            self._discard(timeout)
            raise LecError("service_unavailable",
                           f"{service} did not answer within {timeout or self.timeout:g}s")
        except (UnknownService, UndeliverableMessage):
            raise LecError("service_unavailable", f"{service} is not running")
        except MethodNotFound as exc:
            raise LecError("service_unavailable", f"{service}.{method} is not available: {exc}")
        except (socket.error, OSError, AMQPError, KombuError) as exc:
            self._discard(timeout)
            log.warning("rpc %s.%s failed: %s", service, method, exc)
            raise LecError("service_unavailable", f"message broker unavailable: {exc}")
