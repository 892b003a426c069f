"""Reporting service: a read model of the census built from the owners'
events, and the reports the gateway serves (summary, progress, budget,
comparison, the province forms), plus rebuild and check for operators."""
from services.common.base import HealthMixin, rpc
from services.common.db import Database
from services.common.errors import LecError
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.reporting import handlers, queries, rebuild, tables


class ReportingService(HealthMixin, EventRetryMixin):
    name = "reporting"
    db = Database("reporting", relay=False)
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")
    enrollment = ServiceRpc("enrollment")
    confirmation = ServiceRpc("confirmation")

    # -- registry and rounds
    @handles("registry", "unit_changed")
    def on_unit_changed(self, uow, event):
        handlers.apply_unit_changed(uow, event)

    @handles("rounds", "round_created")
    def on_round_created(self, uow, event):
        handlers.apply_round_event(uow, event)

    @handles("rounds", "round_changed")
    def on_round_changed(self, uow, event):
        handlers.apply_round_event(uow, event)

    @handles("rounds", "round_opened")
    def on_round_opened(self, uow, event):
        handlers.apply_round_event(uow, event)

    @handles("rounds", "round_closed")
    def on_round_closed(self, uow, event):
        handlers.apply_round_event(uow, event)

    # -- enrollment
    @handles("enrollment", "learner_added")
    def on_learner_added(self, uow, event):
        handlers.apply_learner_event(uow, event)

    @handles("enrollment", "learners_added")
    def on_learners_added(self, uow, event):
        handlers.apply_learners_added(uow, event)

    @handles("enrollment", "learner_changed")
    def on_learner_changed(self, uow, event):
        handlers.apply_learner_event(uow, event)

    @handles("enrollment", "learner_removed")
    def on_learner_removed(self, uow, event):
        handlers.apply_learner_event(uow, event)

    @handles("enrollment", "headcount_set")
    def on_headcount_set(self, uow, event):
        handlers.apply_headcount_event(uow, event)

    # -- confirmation
    @handles("confirmation", "unit_confirmed")
    def on_unit_confirmed(self, uow, event):
        handlers.apply_confirmation_event(uow, event, "confirmed")

    @handles("confirmation", "unit_revoked")
    def on_unit_revoked(self, uow, event):
        handlers.apply_confirmation_event(uow, event, "open")

    @handles("confirmation", "round_finalized")
    def on_round_finalized(self, uow, event):
        round_id = handlers.apply_finalized_event(uow, event)
        if not handlers.round_known(uow.session, round_id):
            handlers.upsert_round(uow, self.rounds.get_round(round_id))
            handlers.apply_finalized_event(uow, event)

    # -- reports
    def _read(self, round_id, unit_id, read):
        """``read(session, actor)``; when the round or the unit is not known yet
        (its event has not arrived), it is fetched from its owner and kept, and
        the read is tried once more (the event may also have come meanwhile)."""
        try:
            with self.db.session() as session:
                return read(session, self.db.actor)
        except LecError as exc:
            if exc.code != "not_found":
                raise
        rebuild.learn_reference(self.db, round_id, unit_id, self.rounds, self.registry)
        with self.db.session() as session:
            return read(session, self.db.actor)

    @rpc
    def summary(self, round_id, unit_id):
        return self._read(round_id, unit_id, lambda s, a: queries.summary(s, a, round_id, unit_id))

    @rpc
    def progress(self, round_id, unit_id):
        return self._read(round_id, unit_id, lambda s, a: queries.progress(s, a, round_id, unit_id))

    @rpc
    def budget(self, round_id, unit_id, limit=None, offset=None, preview=False):
        return self._read(round_id, unit_id,
                          lambda s, a: queries.budget(s, a, round_id, unit_id, limit, offset,
                                                      preview=bool(preview)))

    @rpc
    def comparison(self, round_id, unit_id, against=None, level=None):
        return self._read(round_id, unit_id,
                          lambda s, a: queries.comparison(s, a, round_id, unit_id, against, level))

    @rpc
    def form(self, round_id, unit_id, key):
        return self._read(round_id, unit_id, lambda s, a: queries.form_table(s, a, round_id, unit_id, key))

    @rpc
    def forms(self):
        return tables.form_index()

    @rpc
    def table(self, report, round_id, unit_id, options=None):
        """A report as a table with Thai headings, for the CSV / XLSX / print views."""
        return self._read(round_id, unit_id, lambda s, a: queries.report_table(
            s, a, report, round_id, unit_id, options or {}))

    # -- operators
    @rpc
    def rebuild(self, round_id=None, root_id=None):
        return rebuild.rebuild(self.db, round_id, self.registry, self.rounds, self.enrollment,
                               self.confirmation, root_id)

    @rpc
    def check(self, round_id):
        return rebuild.check(self.db, round_id, self.enrollment, self.confirmation)
