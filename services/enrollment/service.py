"""Enrollment service: learners, other-school headcounts, bulk import, and the
seal that confirmations take of them."""
import logging
import time

from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.context import require_actor
from services.common.db import Database
from services.common.errors import LecError, not_found
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.enrollment import (
    checks, handlers, imports, review, seal_diff, sealing, staff, transfers,
)
from services.enrollment import headcount_drafts, newyear
from services.enrollment.outside import Outside, store_units

log = logging.getLogger(__name__)


class EnrollmentService(HealthMixin, EventRetryMixin):
    name = "enrollment"
    db = Database("enrollment")
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")

    @property
    def outside(self):
        return Outside(self.db, self.registry, self.rounds)

    def _edit_context(self, round_id, institution_id):
        """The institution (fresh when not active), the round and its window."""
        unit = self.outside.active_unit(institution_id)
        round_, window = self.outside.round_and_window(round_id, unit["path"])
        return unit, round_, window

    def _learner_context(self, learner_id):
        with self.db.session() as session:
            place = handlers.learner_place(session, learner_id)
        if place is None:
            raise not_found("learner")
        require_actor(self.db.actor).require_read(place[2], "learner")
        return self._edit_context(place[0], place[1])

    def _rules(self, round_id):
        """The round (it exists) with its checks and the round they compare with."""
        round_ = self.outside.round(round_id)
        return checks.RoundRules(round_, checks.previous_round(self.rounds, round_))

    # -- the seal, for the confirmation service
    @rpc
    def seal(self, round_id, unit_id):
        round_id = handlers.as_id(round_id, "round")
        unit = self.outside.unit(unit_id)
        rules = self._rules(round_id)
        schools = self.outside.other_schools(unit["id"]) if unit["type"] == "lao" else ()
        schools = [headcount_drafts.effective(s, rules.round["census_date"]) for s in schools]
        with self.db.uow() as uow:
            return sealing.seal(uow, self.db.actor, round_id, unit, schools,
                                rules if unit["type"] in checks.CHECKED_TYPES else None)

    # -- checks before confirming
    @rpc
    def checks(self, round_id, unit_id):
        rules = self._rules(handlers.as_id(round_id, "round"))
        unit = self.outside.unit(unit_id)
        require_actor(self.db.actor).require_read(unit["path"], "org unit")
        below = review.scope_units(self.outside, self.registry, unit)
        with self.db.uow() as uow:
            return review.report(uow, self.db.actor, rules, unit, below)

    @rpc
    def explain(self, round_id, unit_id, data):
        round_id = handlers.as_id(round_id, "round")
        unit = self.outside.unit(unit_id)
        round_, window = self.outside.round_and_window(round_id, unit["path"])
        rules = checks.RoundRules(round_, checks.previous_round(self.rounds, round_))
        with self.db.uow() as uow:
            return review.explain(uow, self.db.actor, rules, unit, window, data)

    @rpc
    def check_tallies(self, round_id, unit_ids):
        """For the levels above (the progress report): the stored check tallies of
        each unit's subtree, ``{str(id): {errors, queries, explained, unexplained,
        computed}}``; units the caller cannot read are left out."""
        round_id = handlers.as_id(round_id, "round")
        actor = require_actor(self.db.actor)
        found = self.outside.units([int(i) for i in unit_ids or []])
        scope = {i: u["path"] for i, u in found.items() if u.get("path") and actor.can_read(u["path"])}
        with self.db.session() as session:
            return review.check_tallies(session, round_id, scope)

    @timer(interval=settings.env_float("LEC_CHECKS_INTERVAL", 2.0))
    def refresh_checks(self):
        """Bring the stored findings of queued units up to date (a few seconds' work per tick)."""
        budget = time.monotonic() + settings.env_float("LEC_CHECKS_TICK_SECONDS", 1.5)
        with self.db.session() as session:
            round_ids = checks.queued_rounds(session)
        for round_id in round_ids:
            try:
                rules = self._rules(round_id)
            except LecError as exc:
                if exc.code != "not_found":
                    raise
                with self.db.uow() as uow:  # no such round: nothing of it to check
                    checks.forget_round(uow.session, round_id)
                    uow.commit()
                log.warning("checks queued for round %s dropped: there is no such round", round_id)
                continue
            except Exception:  # the round cannot be read now: its queue waits for the next tick
                log.warning("checks of round %s not refreshed: the round could not be read", round_id,
                            exc_info=True)
                continue
            while time.monotonic() < budget:
                with self.db.uow() as uow:
                    done = checks.refresh_queued(uow.session, rules, 200)
                    uow.commit()
                if not done:
                    break

    @rpc
    def unseal(self, round_id, unit_id):
        round_id = handlers.as_id(round_id, "round")
        unit = self.outside.unit(unit_id)
        with self.db.uow() as uow:
            return sealing.unseal(uow, self.db.actor, round_id, unit)

    @rpc
    def seal_diff(self, round_id, unit_id):
        """What changed since the unit's last seal (an institution's learners, an LAO's
        other-school headcounts); readable by the unit and the levels above."""
        round_id = handlers.as_id(round_id, "round")
        unit = self.outside.unit(unit_id)
        require_actor(self.db.actor).require_read(unit["path"], "org unit")
        census = self.outside.round(round_id)["census_date"]  # it exists
        schools = self.outside.other_schools(unit["id"]) if unit["type"] == "lao" else ()
        schools = [headcount_drafts.effective(s, census) for s in schools]
        with self.db.session() as session:
            return seal_diff.diff(session, self.db.actor, round_id, unit, schools)

    @rpc
    def seal_state(self, round_id, unit_ids):
        with self.db.session() as session:
            return sealing.seal_state(session, handlers.as_id(round_id, "round"), unit_ids)

    @rpc
    def counts(self, round_id, unit_ids):
        units = self.outside.units(unit_ids)
        with self.db.session() as session:
            live = sealing.live_counts(session, handlers.as_id(round_id, "round"), units)
        return {str(i): live.get(int(i), {"total": 0, "by_grade": {}}) for i in unit_ids}

    # -- bulk reads for read models (trusted callers: no names, no ID numbers)
    @rpc
    def learner_facts(self, round_id, after_id=0, limit=20_000):
        round_ = self.outside.round(handlers.as_id(round_id, "round"))
        with self.db.session() as session:
            return handlers.learner_facts(session, round_, after_id, limit)

    @rpc
    def headcounts(self, round_id, after_id=0, limit=20_000):
        with self.db.session() as session:
            return handlers.headcount_facts(session, round_id, after_id, limit)

    # -- learners
    @rpc
    def add_learner(self, round_id, institution_id, data):
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.uow() as uow:
            return handlers.add_learner(uow, self.db.actor, unit, round_, window, data,
                                        self.outside.units)

    @rpc
    def get_learner(self, learner_id):
        with self.db.session() as session:
            return handlers.get_learner(session, self.db.actor, learner_id)

    @rpc
    def learner_path(self, learner_id):
        """The path of a learner's institution, or None (for the gateway's access check)."""
        with self.db.session() as session:
            place = handlers.learner_place(session, learner_id)
        return place[2] if place else None

    @rpc
    def update_learner(self, learner_id, data):
        unit, round_, window = self._learner_context(learner_id)
        with self.db.uow() as uow:
            return handlers.update_learner(uow, self.db.actor, unit, round_, window, learner_id, data,
                                           self.outside.units)

    @rpc
    def remove_learner(self, learner_id, data):
        unit, round_, window = self._learner_context(learner_id)
        with self.db.uow() as uow:
            return handlers.remove_learner(uow, self.db.actor, unit, round_, window, learner_id, data)

    @rpc
    def restore_learner(self, learner_id):
        unit, round_, window = self._learner_context(learner_id)
        with self.db.uow() as uow:
            return handlers.restore_learner(uow, self.db.actor, unit, round_, window, learner_id,
                                            self.outside.units)

    @rpc
    def list_learners(self, round_id, unit_id, q=None, grade=None, status=None, limit=None,
                      offset=None, sort=None):
        unit = self.outside.unit(unit_id)
        with self.db.session() as session:
            return handlers.list_learners(session, self.db.actor, round_id, unit, q, grade, status,
                                          limit, offset, sort)

    @rpc
    def summary(self, round_id, institution_id):
        unit = self.outside.unit(institution_id, "institution")
        with self.db.session() as session:
            return handlers.summary(session, self.db.actor, round_id, unit)

    # -- carry-over, import, export
    @rpc
    def carry_over(self, round_id, institution_id, dry_run=False):
        unit, round_, window = self._edit_context(round_id, institution_id)
        previous = imports.previous_round(self.rounds, round_)
        if dry_run:
            with self.db.session() as session:
                return imports.carry_over_preview(session, self.db.actor, unit, round_, window,
                                                  previous, self.outside.units)
        with self.db.uow() as uow:
            return imports.carry_over(uow, self.db.actor, unit, round_, window, previous,
                                      self.outside.units)

    @rpc
    def promote(self, round_id, institution_id, dry_run=False):
        """The new school year: round 2 of the year before into round 1, one grade up
        (``services.enrollment.newyear``); ``dry_run`` previews it."""
        unit, round_, window = self._edit_context(round_id, institution_id)
        source, earlier = newyear.source_rounds(self.rounds, round_)
        if dry_run:
            with self.db.session() as session:
                return newyear.preview(session, self.db.actor, unit, round_, window, source, earlier,
                                       self.outside.units)
        with self.db.uow() as uow:
            return newyear.promote(uow, self.db.actor, unit, round_, window, source, earlier,
                                   self.outside.units)

    @rpc
    def import_check(self, round_id, institution_id):
        """Whether the caller may import into the institution now (before the file is read)."""
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.session() as session:
            return imports.check(session, self.db.actor, unit, round_, window)

    @rpc
    def import_rows(self, round_id, institution_id, columns, rows, import_id=None):
        """One batch of an import: ``rows`` are ``[row_number, value, ...]`` in ``columns`` order;
        ``import_id`` (a UUID) is the same for every batch of one file."""
        import_id = imports.import_key(import_id)
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.uow() as uow:
            return imports.import_rows(uow, self.db.actor, unit, round_, window, columns, rows,
                                       import_id, self.outside.units)

    @rpc
    def export_page(self, round_id, institution_id, after_id=0, limit=5000, status="active"):
        unit = self.outside.unit(institution_id, "institution")
        with self.db.session() as session:
            return handlers.export_page(session, self.db.actor, round_id, unit, after_id, limit, status)

    # -- transfers of a child between institutions (services.enrollment.transfers)
    def _hours_of(self):
        """round id -> the round's escalation period in hours (each round read once per call)."""
        seen = {}

        def hours(round_id):
            if round_id not in seen:
                seen[round_id] = transfers.escalation_hours(self.outside.round(round_id))
            return seen[round_id]
        return hours

    def _unit_lookup(self, ids):
        return self.outside.units([i for i in ids if i is not None])

    @rpc
    def request_transfer(self, round_id, data):
        """A receiving institution (or a unit above it) asks for a child held elsewhere."""
        round_id = handlers.as_id(round_id, "round")
        raw = data.get("to_institution_id") if isinstance(data, dict) else None
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise LecError("validation_error", "the request is not valid",
                           {"errors": {"to_institution_id": ["the receiving institution's id"]}})
        receiver = self.outside.active_unit(raw)
        round_ = self.outside.round(round_id)
        with self.db.uow() as uow:
            return transfers.create(uow, self.db.actor, round_, receiver, data, self._hours_of(),
                                    self._unit_lookup)

    @rpc
    def get_transfer(self, round_id, transfer_id):
        with self.db.session() as session:
            return transfers.get_transfer(session, self.db.actor, round_id, transfer_id,
                                          self._hours_of(), self._unit_lookup)

    @rpc
    def list_transfers(self, round_id, unit_id, direction=None, state=None, limit=None, offset=None):
        unit = self.outside.unit(unit_id)
        with self.db.session() as session:
            return transfers.list_transfers(session, self.db.actor, round_id, unit, direction, state,
                                            limit, offset, self._hours_of(), self._unit_lookup)

    def _transfer_place(self, round_id, transfer_id):
        with self.db.session() as session:
            place = transfers.transfer_place(session, transfer_id)
        if place is None or (round_id is not None and place[0] != handlers.as_id(round_id, "round")):
            raise not_found("transfer")
        return place

    @rpc
    def accept_transfer(self, round_id, transfer_id):
        """The holder (or the level above it, by time) hands the child over, in one transaction."""
        round_id, holder_id, receiver_id = self._transfer_place(round_id, transfer_id)
        holder = self.outside.unit(holder_id, "institution")
        receiver = self.outside.active_unit(receiver_id)
        round_, window = self.outside.round_and_window(round_id, receiver["path"])
        with self.db.uow() as uow:
            return transfers.accept(uow, self.db.actor, transfer_id, round_, holder, receiver, window,
                                    self._hours_of(), self._unit_lookup)

    @rpc
    def decline_transfer(self, round_id, transfer_id, data):
        self._transfer_place(round_id, transfer_id)
        with self.db.uow() as uow:
            return transfers.decline(uow, self.db.actor, transfer_id, data, self._hours_of(),
                                     self._unit_lookup)

    @rpc
    def withdraw_transfer(self, round_id, transfer_id):
        self._transfer_place(round_id, transfer_id)
        with self.db.uow() as uow:
            return transfers.withdraw(uow, self.db.actor, transfer_id, self._hours_of(),
                                      self._unit_lookup)

    @rpc
    def transfer_notices(self, round_id=None):
        """Pending requests the acting user's unit must act on now (for ``GET /me/notices``)."""
        with self.db.session() as session:
            return transfers.notices(session, self.db.actor, round_id, self._hours_of(),
                                     self._unit_lookup)

    @rpc
    def transfer_counts(self, round_id, unit_ids):
        """``{str(unit_id): n}`` pending requests where the unit (or one below it) holds or
        receives the child."""
        units = self.outside.units([int(i) for i in unit_ids or []])
        with self.db.session() as session:
            return transfers.counts(session, self.db.actor, round_id, units)

    # -- caregivers and teachers of an institution (services.enrollment.staff)
    def _staff_context(self, staff_id):
        with self.db.session() as session:
            found = staff.place(session, staff_id)
        if found is None:
            raise not_found("staff")
        require_actor(self.db.actor).require_read(found[2], "staff")
        return self._edit_context(found[0], found[1])

    @rpc
    def add_staff(self, round_id, institution_id, data):
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.uow() as uow:
            return staff.add(uow, self.db.actor, unit, round_, window, data, self.outside.units)

    @rpc
    def list_staff(self, round_id, institution_id, q=None, position=None, status=None, limit=None,
                   offset=None):
        unit = self.outside.unit(institution_id, "institution")
        with self.db.session() as session:
            return staff.list_staff(session, self.db.actor, round_id, unit, q, position, status, limit,
                                    offset)

    @rpc
    def get_staff(self, staff_id):
        with self.db.session() as session:
            return staff.get(session, self.db.actor, staff_id)

    @rpc
    def staff_path(self, staff_id):
        """The path of a staff record's institution, or None (for the gateway's access check)."""
        with self.db.session() as session:
            found = staff.place(session, staff_id)
        return found[2] if found else None

    @rpc
    def update_staff(self, staff_id, data):
        unit, round_, window = self._staff_context(staff_id)
        with self.db.uow() as uow:
            return staff.update_staff(uow, self.db.actor, unit, round_, window, staff_id, data,
                                      self.outside.units)

    @rpc
    def remove_staff(self, staff_id, data):
        unit, round_, window = self._staff_context(staff_id)
        with self.db.uow() as uow:
            return staff.remove(uow, self.db.actor, unit, round_, window, staff_id, data)

    @rpc
    def staff_summary(self, round_id, institution_id):
        unit = self.outside.unit(institution_id, "institution")
        with self.db.session() as session:
            return staff.summary(session, self.db.actor, round_id, unit)

    @rpc
    def staff_import_check(self, round_id, institution_id):
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.session() as session:
            return staff.import_check(session, self.db.actor, unit, round_, window)

    @rpc
    def import_staff_rows(self, round_id, institution_id, columns, rows, import_id=None):
        import_id = imports.import_key(import_id)
        unit, round_, window = self._edit_context(round_id, institution_id)
        with self.db.uow() as uow:
            return staff.import_rows(uow, self.db.actor, unit, round_, window, columns, rows,
                                     import_id, self.outside.units)

    @rpc
    def staff_facts(self, round_id, after_id=0, limit=20_000):
        """Every staff record of a round as the events carry them (no names, no IDs)."""
        with self.db.session() as session:
            return staff.facts(session, round_id, after_id, limit)

    # -- other-affiliation schools
    def _school_context(self, round_id, school_id):
        """The school as the round sees it (a closure dated after its census date
        leaves it active), its LAO, the round and the LAO's window."""
        school = self.outside.active_unit(school_id, "school")
        lao = self.outside.unit(school["parent_id"], "LAO")
        round_, window = self.outside.round_and_window(handlers.as_id(round_id, "round"), lao["path"])
        return headcount_drafts.effective(school, round_["census_date"]), lao, window

    @rpc
    def set_headcount(self, round_id, school_id, data):
        school, lao, window = self._school_context(round_id, school_id)
        with self.db.uow() as uow:
            return handlers.set_headcount(uow, self.db.actor, school, lao, window, data)

    @rpc
    def accept_headcount(self, round_id, school_id):
        """The LAO accepts a school's headcount drafted from the round before."""
        school, lao, window = self._school_context(round_id, school_id)
        with self.db.uow() as uow:
            return headcount_drafts.accept(uow, self.db.actor, school, lao, window)

    @rpc
    def get_headcount(self, round_id, school_id):
        school = self.outside.unit(school_id, "school")
        census = self.outside.round(handlers.as_id(round_id, "round"))["census_date"]
        school = headcount_drafts.effective(school, census)
        with self.db.session() as session:
            return handlers.get_headcount(session, self.db.actor, round_id, school)

    @rpc
    def list_headcounts(self, round_id, lao_id):
        lao = self.outside.unit(lao_id, "LAO")
        require_actor(self.db.actor).require_read(lao["path"], "LAO")
        schools = self.outside.other_schools(lao["id"]) if lao["type"] == "lao" else []
        round_, window = self.outside.round_and_window(handlers.as_id(round_id, "round"), lao["path"])
        schools = [headcount_drafts.effective(s, round_["census_date"]) for s in schools]
        if schools and window.get("open"):  # drafts start a round that is open for the LAO
            previous = checks.previous_round(self.rounds, round_)
            with self.db.uow() as uow:
                headcount_drafts.ensure(uow, self.db.actor, round_["id"], previous, lao, schools)
        with self.db.session() as session:
            return handlers.list_headcounts(session, self.db.actor, round_id, lao, schools)

    # -- the registry's units
    @handles("registry", "unit_changed")
    def on_unit_changed(self, uow, event):
        unit = event["unit"]
        store_units(uow.session, [unit])
        checks.mark_everywhere(uow.session, [unit.get("id"), unit.get("parent_id")])
        if event.get("change") == "closed" and unit.get("type") == "other_school":
            handlers.school_closed(uow, unit, lambda round_id: self.outside.round(round_id)["census_date"])
