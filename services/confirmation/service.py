"""Confirmation service: the hierarchical confirm/revoke chain, sealed counts,
and the confirmed-count events for agencies (see handlers.py for the saga)."""
from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.db import Database
from services.common.rpc import ServiceRpc
from services.confirmation import handlers


class ConfirmationService(HealthMixin):
    name = "confirmation"
    db = Database("confirmation")
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")
    enrollment = ServiceRpc("enrollment")

    def _ports(self):
        return handlers.Ports(self.registry, self.rounds, self.enrollment)

    @rpc
    def confirm(self, round_id, unit_id, idempotency_key=None, data=None):
        return handlers.confirm(self.db, self._ports(), round_id, unit_id, idempotency_key, data)

    @rpc
    def revoke(self, round_id, unit_id, reason, idempotency_key=None):
        return handlers.revoke(self.db, self._ports(), round_id, unit_id, reason, idempotency_key)

    @rpc
    def status(self, round_id, unit_id):
        return handlers.status(self.db, self._ports(), round_id, unit_id)

    @rpc
    def states(self, round_id, unit_ids):
        return handlers.states(self.db, round_id, unit_ids)

    @rpc
    def history(self, round_id, unit_id):
        return handlers.history(self.db, round_id, unit_id)

    @rpc
    def ping(self):
        """A bare round trip (the benchmark's baseline)."""
        return "pong"

    @timer(interval=settings.env_float("LEC_CONFIRM_RECONCILE_INTERVAL", 5.0))
    def reconcile(self):
        """Unwind half-done sagas whose process is gone or that timed out."""
        handlers.reconcile(self.db, self._ports())

    @timer(interval=settings.env_float("LEC_CONFIRM_VERIFY_INTERVAL", 60.0))
    def verify_seals(self):
        """Cross-check recent confirmations against enrollment's seals."""
        handlers.verify_seals(self.db, self._ports())
