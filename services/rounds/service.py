"""Rounds service: academic years, windows, deadlines and extensions."""
from nameko.timer import timer

from services.common import settings
from services.common.db import Database
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.common.base import HealthMixin, rpc
from services.rounds import handlers


class RoundsService(HealthMixin, EventRetryMixin):
    name = "rounds"
    db = Database("rounds")
    registry = ServiceRpc("registry")

    @rpc
    def create_round(self, data):
        with self.db.uow() as uow:
            return handlers.create_round(uow, self.db.actor, data)

    @rpc
    def update_round(self, round_id, data):
        with self.db.uow() as uow:
            return handlers.update_round(uow, self.db.actor, round_id, data)

    @rpc
    def get_round(self, round_id):
        with self.db.session() as session:
            return handlers.get_round(session, round_id)

    @rpc
    def list_rounds(self, limit=None, offset=None, academic_year=None):
        with self.db.session() as session:
            return handlers.list_rounds(session, limit, offset, academic_year)

    @rpc
    def add_extension(self, round_id, data):
        unit_id = data.get("org_unit_id") if isinstance(data, dict) else None
        units = self.registry.get_units([unit_id]) if isinstance(unit_id, int) else []
        with self.db.uow() as uow:
            return handlers.add_extension(uow, self.db.actor, round_id, data,
                                          units[0] if units else None)

    @rpc
    def list_extensions(self, round_id):
        with self.db.session() as session:
            return handlers.list_extensions(session, self.db.actor, round_id)

    @rpc
    def window(self, round_id, unit_path, level="institution"):
        """Is the round open for the unit at ``unit_path`` at ``level`` (its
        deadline and extensions honoured)?"""
        with self.db.session() as session:
            return handlers.windows(session, round_id, [unit_path], level)[0]

    @rpc
    def round_and_window(self, round_id, unit_path):
        """The round and its window for one unit, read in one session (one round trip
        for every edit of a learner instead of two)."""
        with self.db.session() as session:
            round_ = handlers.get_round(session, round_id)
            return {"round": round_, "window": handlers.windows(session, round_id, [unit_path])[0]}

    @rpc
    def windows(self, round_id, unit_paths, level="institution"):
        with self.db.session() as session:
            return handlers.windows(session, round_id, list(unit_paths), level)

    @timer(interval=settings.env_float("LEC_ROUNDS_TICK", 1.0), eager=True)
    def announce(self):
        with self.db.uow() as uow:
            handlers.announce_transitions(uow)

    @handles("confirmation", "unit_revoked")
    def on_unit_revoked(self, uow, event):
        handlers.extend_after_revocation(uow, event)

    @handles("confirmation", "round_finalized")
    def on_round_finalized(self, uow, event):
        handlers.finalize(uow, event["round"]["id"], event.get("occurred_at"))
