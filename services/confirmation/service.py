"""Confirmation service: the hierarchical confirm/revoke chain, sealed counts,
and the confirmed-count events for agencies (see handlers.py for the saga)."""
from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.db import Database
from services.common.rpc import ServiceRpc
from services.confirmation import feed, handlers, requests


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

    # -- revocation requests and seeing upward (requests.py)
    @rpc
    def create_revocation_request(self, round_id, data):
        return requests.create(self.db, self._ports(), round_id, data)

    @rpc
    def list_revocation_requests(self, round_id, org_unit_id=None, state=None, limit=None, offset=None):
        return requests.list_requests(self.db, self._ports(), round_id, org_unit_id, state, limit, offset)

    @rpc
    def get_revocation_request(self, round_id, request_id):
        return requests.get_request(self.db, round_id, request_id)

    @rpc
    def approve_revocation_request(self, round_id, request_id, data=None):
        return requests.approve(self.db, self._ports(), round_id, request_id, data)

    @rpc
    def decline_revocation_request(self, round_id, request_id, data):
        return requests.decline(self.db, self._ports(), round_id, request_id, data)

    @rpc
    def withdraw_revocation_request(self, round_id, request_id):
        return requests.withdraw(self.db, round_id, request_id)

    @rpc
    def revocation_request_notices(self, round_id=None):
        """The acting user's notices: requests its unit can answer, answers to its own."""
        return requests.notices(self.db, round_id)

    @rpc
    def revocation_request_counts(self, round_id, unit_ids):
        """``{str(unit_id): n}`` pending requests about each unit or a unit below it."""
        return requests.counts(self.db, self._ports(), round_id, unit_ids)

    @rpc
    def upward_status(self, round_id, unit_id):
        """The reduced view (state, when, by whom) of a unit above the caller's."""
        return requests.upward_status(self.db, self._ports(), round_id, unit_id)

    @rpc
    def ancestors(self, round_id, unit_id):
        return requests.ancestors(self.db, self._ports(), round_id, unit_id)

    @rpc
    def confirmed_counts(self, round_id, after=None, limit=None):
        """The change feed of confirmed counts (feed.py): agencies, department, provinces."""
        return feed.confirmed_counts(self.db, round_id, after, limit)

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
