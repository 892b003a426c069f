"""Confirmation service: the hierarchical confirm/revoke chain, sealed counts,
and the confirmed-count events for agencies (see handlers.py for the saga)."""
import logging

from nameko.events import BROADCAST, event_handler
from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.calendar_events import RoundCalendarEvents, process_calendar
from services.common.db import Database
from services.common.errors import LecError
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.confirmation import feed, handlers, ports, requests
from services.confirmation.ports import Ports, unit_changed

log = logging.getLogger(__name__)


class ConfirmationService(HealthMixin, EventRetryMixin, RoundCalendarEvents):
    name = "confirmation"
    db = Database("confirmation")
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")
    enrollment = ServiceRpc("enrollment")

    @property
    def ports(self):
        return Ports(self.registry, self.rounds, self.enrollment, calendar=process_calendar())

    @rpc
    def confirm(self, round_id, unit_id, idempotency_key=None, data=None, unit=None):
        """``unit``: the unit's record as the caller read it for its access check (optional)."""
        with self.db.uow() as uow:
            return handlers.confirm(uow, self.ports, round_id, unit_id, idempotency_key, data, unit)

    @rpc
    def revoke(self, round_id, unit_id, reason, idempotency_key=None):
        with self.db.uow() as uow:
            return handlers.revoke(uow, self.ports, round_id, unit_id, reason, idempotency_key)

    @rpc
    def status(self, round_id, unit_id):
        with self.db.uow() as uow:
            return handlers.status(uow, self.ports, round_id, unit_id)

    @rpc
    def states(self, round_id, unit_ids):
        with self.db.uow() as uow:
            return handlers.states(uow, round_id, unit_ids)

    @rpc
    def history(self, round_id, unit_id):
        with self.db.uow() as uow:
            return handlers.history(uow, round_id, unit_id)

    # -- revocation requests and seeing upward (requests.py)
    @rpc
    def create_revocation_request(self, round_id, data):
        with self.db.uow() as uow:
            return requests.create(uow, self.ports, round_id, data)

    @rpc
    def list_revocation_requests(self, round_id, org_unit_id=None, state=None, limit=None, offset=None):
        with self.db.uow() as uow:
            return requests.list_requests(uow, self.ports, round_id, org_unit_id, state, limit, offset)

    @rpc
    def get_revocation_request(self, round_id, request_id):
        with self.db.uow() as uow:
            return requests.get_request(uow, round_id, request_id)

    @rpc
    def approve_revocation_request(self, round_id, request_id, data=None):
        with self.db.uow() as uow:
            return requests.approve(uow, self.ports, round_id, request_id, data)

    @rpc
    def decline_revocation_request(self, round_id, request_id, data):
        with self.db.uow() as uow:
            return requests.decline(uow, self.ports, round_id, request_id, data)

    @rpc
    def withdraw_revocation_request(self, round_id, request_id):
        with self.db.uow() as uow:
            return requests.withdraw(uow, round_id, request_id)

    @rpc
    def revocation_request_notices(self, round_id=None):
        """The acting user's notices: requests its unit can answer, answers to its own."""
        with self.db.uow() as uow:
            return requests.notices(uow, round_id)

    @rpc
    def revocation_request_counts(self, round_id, unit_ids):
        """``{str(unit_id): n}`` pending requests about each unit or a unit below it."""
        with self.db.uow() as uow:
            return requests.counts(uow, self.ports, round_id, unit_ids)

    @rpc
    def upward_status(self, round_id, unit_id):
        """The reduced view (state, when, by whom) of a unit above the caller's."""
        with self.db.uow() as uow:
            return requests.upward_status(uow, self.ports, round_id, unit_id)

    @rpc
    def ancestors(self, round_id, unit_id):
        with self.db.uow() as uow:
            return requests.ancestors(uow, self.ports, round_id, unit_id)

    @rpc
    def confirmed_counts(self, round_id, after=None, limit=None):
        """The change feed of confirmed counts (feed.py): agencies, department, provinces."""
        with self.db.uow() as uow:
            return feed.confirmed_counts(uow, round_id, after, limit)

    @rpc
    def ping(self):
        """A bare round trip (the benchmark's baseline)."""
        return "pong"

    @event_handler("registry", "unit_changed", handler_type=BROADCAST, reliable_delivery=False)
    def on_unit_changed(self, body):
        """Every process keeps its unit directory fresh with the registry's changes."""
        unit_changed(body)

    @handles("registry", "unit_changed")
    def keep_unit(self, uow, event):
        """The service's copy of the units (the children a unit waits for) follows the registry."""
        ports.keep_unit(uow, event)

    @timer(interval=settings.current().confirm_reconcile_interval)
    def fill_units(self):
        """Until the copy of the units is complete, fill it from the registry (once; the
        timer's first tick comes after the service's queues exist)."""
        try:
            read = ports.fill_units(self.db.engine, self.registry)
        except LecError as exc:  # the registry away: the next tick tries again
            log.warning("the copy of the units is not filled yet (%s); children are asked of the registry", exc)
            return
        if read:
            log.info("the copy of the units is complete: %d units read from the registry", read)

    @timer(interval=settings.current().confirm_reconcile_interval)
    def reconcile(self):
        """Unwind half-done sagas whose process is gone or that timed out."""
        with self.db.uow() as uow:
            handlers.reconcile(uow, self.ports)

    @timer(interval=settings.current().confirm_verify_interval)
    def verify_seals(self):
        """Cross-check recent confirmations against enrollment's seals."""
        with self.db.uow() as uow:
            handlers.verify_seals(uow, self.ports)
