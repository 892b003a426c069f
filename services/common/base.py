"""What every service class mixes in: a health RPC that checks its database
and reports its outbox backlog and failed events (for ``/readyz``)."""
import logging

from nameko.rpc import rpc as nameko_rpc
from sqlalchemy import text

from services.common.errors import LecError
from services.common.inbox import failed_count
from services.common.outbox import pending_count

log = logging.getLogger(__name__)


def rpc(fn=None, **kwargs):
    """nameko's ``@rpc`` with :class:`LecError` as an expected failure: it is
    returned to the caller and logged at WARNING without a traceback."""
    kwargs.setdefault("expected_exceptions", LecError)
    if fn is None:
        return nameko_rpc(**kwargs)
    return nameko_rpc(**kwargs)(fn)


class HealthMixin:

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
