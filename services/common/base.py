"""What every service class mixes in: a health RPC that checks its database
and reports its outbox backlog and failed events (for ``/readyz``), and a
heartbeat file for per-process liveness probes, the operations endpoint of
each process (probes and metrics, services.common.ops), and the reading of its
audit log."""
import logging
import socket
from typing import Any

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcConsumer
from sqlalchemy import text

from services.common import audit, settings
from services.common.context import require_call_actor
from services.common.errors import LecError
from services.common.heartbeat import Heartbeat
from services.common.inbox import failed_count
from services.common.ops import Ops
from services.common.outbox import pending_count

log = logging.getLogger(__name__)


class BrokerTolerantRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, except that a reply that cannot be sent because
    the broker is away does not kill the service: the request stays unacked,
    so the broker delivers it again once the connection is back (handlers are
    idempotent to that, and the caller has given up or retries)."""

    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
        except (OSError, socket.error, AMQPError, KombuError) as exc:
            log.warning("could not send an RPC reply (%s); the request will be redelivered", exc)
            return result, exc_info


class TolerantRpc(Rpc):
    """Also refuses (``unauthorized``, answered to the caller) a call that carries
    no valid acting user, before any worker runs it."""
    rpc_consumer = BrokerTolerantRpcConsumer()

    def handle_message(self, body, message):
        require_call_actor(self.unpack_message_headers(message))
        return super().handle_message(body, message)


def rpc(fn=None, **kwargs):
    """The RPC entrypoint of every service: survives broker outages (see
    :class:`BrokerTolerantRpcConsumer`) and treats :class:`LecError` as an
    expected failure, returned to the caller and logged without a traceback."""
    kwargs.setdefault("expected_exceptions", LecError)
    if fn is None:
        return TolerantRpc.decorator(**kwargs)
    return TolerantRpc.decorator(**kwargs)(fn)


class ProductionCheck(DependencyProvider):
    """Stops the service from starting in production with unsafe settings
    (``services.common.settings.check_production``)."""

    def setup(self):
        settings.check_production(f"the {self.container.service_name} service")

    def get_dependency(self, worker_ctx):
        return None


class HealthMixin:
    db: Any  # the service's Database dependency
    name: str  # the service's name
    # a sign of life of this very process (LEC_HEARTBEAT_FILE), for liveness probes
    heartbeat = Heartbeat()
    production_check = ProductionCheck()
    # /livez, /readyz and /metrics of this very process on LEC_OPS_PORT
    ops = Ops()

    @rpc
    def audit_entries(self, filters=None, limit=None, offset=None, scope=None):
        """The service's audit log, newest first (department users; province and
        LAO users with the ``scope`` of their subtree; see services.common.audit)."""
        with self.db.session() as session:
            return audit.entries(session, self.db.actor, self.name, filters, limit, offset, scope)

    @rpc
    def health(self):
        try:
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return {
                "service": self.name,
                "ok": True,
                "database": "ok",
                "outbox_pending": pending_count(self.db.engine),
                "failed_events": failed_count(self.db.engine),
            }
        except Exception as exc:
            log.warning("health check of %s failed: %s", self.name, exc)
            raise LecError("service_unavailable", f"{self.name}: database unavailable")
