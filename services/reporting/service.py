"""Reporting service: a read model of the census built from the owners'
events, and the reports the gateway serves (summary, progress, budget,
comparison, the province forms), plus rebuild and check for operators."""
import logging

from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.db import Database
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.reporting import deadlines, handlers, queries, rebuild, staff, tables
from services.reporting.ports import Ports

log = logging.getLogger(__name__)


class ReportingService(HealthMixin, EventRetryMixin):
    name = "reporting"
    # its outbox carries ``deadline_approaching`` (exchange ``reporting.events``)
    db = Database("reporting", relay=True)
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")
    enrollment = ServiceRpc("enrollment")
    confirmation = ServiceRpc("confirmation")

    @property
    def ports(self):
        return Ports(self.registry, self.rounds, self.enrollment, self.confirmation)

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

    @handles("rounds", "extension_granted")
    def on_extension_granted(self, uow, event):
        handlers.apply_extension_granted(uow, event)

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

    # caregivers and teachers (services.reporting.staff)
    @handles("enrollment", "staff_added")
    def on_staff_added(self, uow, event):
        staff.apply_staff_event(uow, event)

    @handles("enrollment", "staff_changed")
    def on_staff_changed(self, uow, event):
        staff.apply_staff_event(uow, event)

    @handles("enrollment", "staff_removed")
    def on_staff_removed(self, uow, event):
        staff.apply_staff_event(uow, event)

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
        handlers.apply_round_finalized(uow, self.ports, event)

    # -- reports
    def _report(self, round_id, unit_id, read):
        with self.db.uow() as uow:
            return rebuild.read_report(uow, self.ports, round_id, unit_id, read)

    @rpc
    def summary(self, round_id, unit_id):
        return self._report(round_id, unit_id, lambda uow: queries.summary(uow, round_id, unit_id))

    @rpc
    def progress(self, round_id, unit_id):
        return self._report(round_id, unit_id, lambda uow: queries.progress(uow, round_id, unit_id))

    @rpc
    def budget(self, round_id, unit_id, limit=None, offset=None, preview=False):
        return self._report(round_id, unit_id, lambda uow: queries.budget(
            uow, round_id, unit_id, limit, offset, preview=bool(preview)))

    @rpc
    def comparison(self, round_id, unit_id, against=None, level=None):
        return self._report(round_id, unit_id, lambda uow: queries.comparison(
            uow, round_id, unit_id, against, level))

    @rpc
    def form(self, round_id, unit_id, key):
        return self._report(round_id, unit_id, lambda uow: queries.form_table(uow, round_id, unit_id, key))

    @rpc
    def forms(self):
        return tables.form_index()

    @rpc
    def table(self, report, round_id, unit_id, options=None):
        """A report as a table with Thai headings, for the CSV / XLSX / print views."""
        return self._report(round_id, unit_id, lambda uow: queries.report_table(
            uow, report, round_id, unit_id, options or {}))

    # -- who blocks me, reminders, notices
    @rpc
    def blockers(self, round_id, unit_id, limit=None, offset=None):
        with self.db.uow() as uow:
            return deadlines.blockers(uow, self.ports, round_id, unit_id, limit, offset)

    @rpc
    def notices(self, round_id=None):
        """The deadline reminders of the acting user's unit whose deadline has not passed."""
        with self.db.uow() as uow:
            return deadlines.unit_reminders(uow, round_id)

    @timer(interval=settings.current().reminders_interval, eager=True)
    def send_reminders(self):
        try:
            self._remind()
        except Exception:  # the next tick tries again
            log.warning("deadline reminders failed; trying again on the next tick", exc_info=True)

    def _remind(self):
        with self.db.uow() as uow:
            return deadlines.send_reminders(uow, self.ports)

    @rpc
    def remind(self):
        """Operators (and tests): run the reminders' tick now; how many were sent."""
        rebuild.require_operator(self.db.actor)
        return {"sent": len(self._remind())}

    # -- operators
    @rpc
    def rebuild(self, round_id=None, root_id=None):
        with self.db.uow() as uow:
            return rebuild.rebuild(uow, self.ports, round_id, root_id)

    @rpc
    def check(self, round_id):
        with self.db.uow() as uow:
            return rebuild.check(uow, self.ports, round_id)
