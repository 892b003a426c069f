"""Reporting service: a read model of the census built from the owners'
events, and the reports the gateway serves (summary, progress, budget,
comparison, the province forms), plus rebuild and check for operators."""
import logging

from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.db import Database
from services.common.errors import LecError
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.reporting import deadlines, handlers, queries, rebuild, staff, tables

log = logging.getLogger(__name__)


def _optional(reply, what):
    """The answer of a counts/notices RPC of another part of the system, or None
    when that service does not offer it (yet) or fails: the list stands without it."""
    if reply is None:
        return None
    try:
        return reply.result()
    except Exception as exc:  # noqa: BLE001 - MethodNotFound, service_unavailable, remote errors
        log.warning("%s unavailable: %s", what, getattr(exc, "message", None) or exc)
        return None


def _start(method, *args):
    try:
        return method.call_async(*args)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not ask %s: %s", getattr(method, "_name", method), exc)
        return None


class ReportingService(HealthMixin, EventRetryMixin):
    name = "reporting"
    # its outbox carries ``deadline_approaching`` (exchange ``reporting.events``)
    db = Database("reporting", relay=True)
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

    # -- who blocks me, reminders, notices
    @rpc
    def blockers(self, round_id, unit_id, limit=None, offset=None):
        """The units under ``unit_id`` whose confirmation it still waits for, soonest
        deadline first, each with its checks (institutions), its open requests and
        its accounts' names (asked of their owners for this page only)."""
        report = self._read(round_id, unit_id, lambda s, a: deadlines.blockers_page(
            s, a, round_id, unit_id, limit, offset))
        items = report["items"]
        ids = [item["unit"]["id"] for item in items]
        report["unavailable"] = []
        if not ids:
            return report
        institutions = [item["unit"]["id"] for item in items if item["level"] == "institution"]
        rid = report["round"]["id"]
        replies = {
            "checks": _start(self.enrollment.check_tallies, rid, institutions) if institutions else None,
            "transfers": _start(self.enrollment.transfer_counts, rid, ids),
            "revocations": _start(self.confirmation.revocation_request_counts, rid, ids),
            "contacts": _start(self.registry.contacts, ids),
        }
        found, unavailable = {}, []
        for key, reply in replies.items():
            answer = _optional(reply, key)
            if answer is None and (reply is not None or key != "checks" or institutions):
                unavailable.append(key)  # said in the answer: never a silent zero
            found[key] = answer or {}
        report["unavailable"] = unavailable
        for item in items:
            key = str(item["unit"]["id"])
            if item["level"] == "institution":
                tally = found["checks"].get(key) or {}
                item["checks"] = {k: int(tally.get(k) or 0) for k in ("errors", "queries", "unexplained")}
            item["requests"] = {"transfers": int(found["transfers"].get(key) or 0),
                                "revocations": int(found["revocations"].get(key) or 0)}
            item["contacts"] = found["contacts"].get(key) or []
        return report

    @rpc
    def notices(self, round_id=None):
        """The deadline reminders of the acting user's unit whose deadline has not passed."""
        with self.db.session() as session:
            return deadlines.unit_reminders(session, self.db.actor, round_id)

    @timer(interval=settings.env_float("LEC_REMINDERS_INTERVAL", 60.0), eager=True)
    def send_reminders(self):
        try:
            self._remind()
        except Exception:  # the next tick tries again
            log.warning("deadline reminders failed; trying again on the next tick", exc_info=True)

    def _remind(self):
        with self.db.session() as session:
            missing = deadlines.rounds_missing_extensions(session)
        for round_id in missing:
            try:
                items = self.rounds.list_extensions(round_id)["items"]
            except LecError as exc:
                if exc.code != "not_found":
                    # this round waits for the next tick; the others are reminded now
                    log.warning("extensions of round %s unavailable: %s", round_id, exc)
                    continue
                # a round its owner does not know has no extensions: one bad round never
                # stops the reminders of every other
                log.warning("round %s is unknown to the rounds service; no extensions", round_id)
                items = []
            with self.db.uow() as uow:
                handlers.learn_extensions(uow, round_id, items)
                uow.commit()
        with self.db.uow() as uow:
            return deadlines.remind(uow)

    @rpc
    def remind(self):
        """Operators (and tests): run the reminders' tick now; how many were sent."""
        rebuild.require_operator(self.db.actor)
        return {"sent": len(self._remind())}

    # -- operators
    @rpc
    def rebuild(self, round_id=None, root_id=None):
        return rebuild.rebuild(self.db, round_id, self.registry, self.rounds, self.enrollment,
                               self.confirmation, root_id)

    @rpc
    def check(self, round_id):
        return rebuild.check(self.db, round_id, self.enrollment, self.confirmation)
