"""Service-to-service RPC with a timeout on every call.

nameko's ``RpcProxy`` waits for a reply forever; :class:`ServiceRpc` waits at
most ``timeout`` seconds (``LEC_RPC_TIMEOUT``) and then raises the stable
``service_unavailable`` error.
"""
import eventlet
from nameko.exceptions import MethodNotFound, UnknownService
from nameko.rpc import RpcProxy

from services.common import settings
from services.common.errors import LecError


class TimedMethod:
    def __init__(self, method, target, name, timeout):
        self._method = method
        self._target = target
        self._name = name
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        return self.call_async(*args, **kwargs).result()

    def call_async(self, *args, **kwargs):
        try:
            reply = self._method.call_async(*args, **kwargs)
        except (UnknownService, MethodNotFound) as exc:
            raise LecError("service_unavailable", f"{self._target}.{self._name}: {exc}")
        return TimedReply(reply, self._target, self._name, self._timeout)


class TimedReply:
    def __init__(self, reply, target, name, timeout):
        self._reply = reply
        self._target = target
        self._name = name
        self._timeout = timeout

    def result(self):
        timeout = eventlet.Timeout(self._timeout)
        try:
            return self._reply.result()
        except eventlet.Timeout as exc:
            if exc is not timeout:
                raise
            raise LecError("service_unavailable",
                           f"{self._target}.{self._name} did not answer within {self._timeout:g}s")
        except (UnknownService, MethodNotFound) as exc:
            raise LecError("service_unavailable", f"{self._target}.{self._name}: {exc}")
        finally:
            timeout.cancel()


class TimedServiceProxy:
    def __init__(self, proxy, target, timeout):
        self._proxy = proxy
        self._target = target
        self._timeout = timeout

    def __getattr__(self, name):
        return TimedMethod(getattr(self._proxy, name), self._target, name, self._timeout)


class ServiceRpc(RpcProxy):
    """``RpcProxy`` whose calls give up after ``timeout`` seconds."""

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(worker_ctx)
        return TimedServiceProxy(proxy, self.target_service, self.timeout or settings.rpc_timeout())
