"""Rounds service: academic years, windows, deadlines and extensions."""
from nameko.events import BROADCAST, event_handler
from nameko.timer import timer

from services.common import settings
from services.common.db import Database
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.common.base import HealthMixin, rpc
from services.rounds import handlers
from services.rounds.ports import Ports


class RoundsService(HealthMixin, EventRetryMixin):
    name = "rounds"
    db = Database("rounds")
    registry = ServiceRpc("registry")

    @property
    def ports(self):
        return Ports(self.registry)

    @rpc
    def create_round(self, data):
        with self.db.uow() as uow:
            return handlers.create_round(uow, data)

    @rpc
    def update_round(self, round_id, data):
        with self.db.uow() as uow:
            return handlers.update_round(uow, round_id, data)

    @rpc
    def get_round(self, round_id):
        with self.db.uow() as uow:
            return handlers.get_round(uow, round_id)

    @rpc
    def list_rounds(self, limit=None, offset=None, academic_year=None):
        with self.db.uow() as uow:
            return handlers.list_rounds(uow, limit, offset, academic_year)

    @rpc
    def add_extension(self, round_id, data):
        with self.db.uow() as uow:
            return handlers.add_extension(uow, self.ports, round_id, data)

    @rpc
    def list_extensions(self, round_id):
        with self.db.uow() as uow:
            return handlers.list_extensions(uow, round_id)

    @rpc
    def window(self, round_id, unit_path, level="institution"):
        """Is the round open for the unit at ``unit_path`` at ``level`` (its
        deadline and extensions honoured)?"""
        with self.db.uow() as uow:
            return handlers.windows(uow, round_id, [unit_path], level)[0]

    @rpc
    def round_and_window(self, round_id, unit_path):
        """The round and its window for one unit, read in one transaction."""
        with self.db.uow() as uow:
            return handlers.round_and_window(uow, round_id, unit_path)

    @rpc
    def calendar(self, round_id):
        """The round and all its extensions (what a service keeping the calendar reads on a miss)."""
        with self.db.uow() as uow:
            return handlers.calendar(uow, round_id)

    @rpc
    def windows(self, round_id, unit_paths, level="institution"):
        with self.db.uow() as uow:
            return handlers.windows(uow, round_id, list(unit_paths), level)

    @event_handler("registry", "unit_changed", handler_type=BROADCAST, reliable_delivery=False)
    def on_unit_changed(self, event):
        """Keep this process's units fresh (a missed event only waits for the TTL)."""
        self.ports.directory.on_unit_changed(event)

    @timer(interval=settings.current().rounds_tick, eager=True)
    def announce(self):
        with self.db.uow() as uow:
            handlers.announce_transitions(uow)

    @handles("confirmation", "unit_revoked")
    def on_unit_revoked(self, uow, event):
        handlers.extend_after_revocation(uow, event)

    @handles("confirmation", "round_finalized")
    def on_round_finalized(self, uow, event):
        handlers.finalize(uow, event["round"]["id"], event.get("occurred_at"))
