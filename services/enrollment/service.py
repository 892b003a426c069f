"""Enrollment service: learners, other-school headcounts, bulk import, and the
seal that confirmations take of them.

Each entrypoint validates its ids, calls one use case with a unit of work and
the service's :class:`~services.enrollment.ports.Ports`, and returns its answer."""
import time

from nameko.timer import timer

from services.common import settings
from services.common.base import HealthMixin, rpc
from services.common.calendar_events import RoundCalendarEvents, process_calendar
from services.common.db import Database
from services.common.errors import LecError
from services.common.inbox import EventRetryMixin, handles
from services.common.rpc import ServiceRpc
from services.common.validation import as_id
from services.enrollment import (
    handlers, headcount_drafts, imports, newyear, review, seal_diff, sealing, staff, transfers,
)
from services.enrollment.ports import Ports



class EnrollmentService(HealthMixin, EventRetryMixin, RoundCalendarEvents):
    name = "enrollment"
    db = Database("enrollment")
    registry = ServiceRpc("registry")
    rounds = ServiceRpc("rounds")

    @property
    def ports(self):
        return Ports(self.db, self.registry, self.rounds, calendar=process_calendar())

    @rpc
    def ping(self):
        """Nothing but an answer: the gateway's ``GET /ping`` (a request's bare cost)."""
        return {"ok": True, "service": self.name}

    # -- the seal, for the confirmation service
    @rpc
    def seal(self, round_id, unit_id, unit=None, other_schools=None):
        """``unit``: the unit's record as the confirmation service holds it; ``other_schools``:
        an LAO's other-affiliation schools (active or closed) as it just read them (both optional)."""
        with self.db.uow() as uow:
            return sealing.seal(uow, self.ports, as_id(round_id, "round"), unit_id, unit, other_schools)

    @rpc
    def unseal(self, round_id, unit_id):
        with self.db.uow() as uow:
            return sealing.unseal(uow, self.ports, as_id(round_id, "round"), unit_id)

    @rpc
    def seal_diff(self, round_id, unit_id):
        """What changed since the unit's last seal (an institution's learners, an LAO's
        other-school headcounts); readable by the unit and the levels above."""
        with self.db.uow() as uow:
            return seal_diff.diff(uow, self.ports, as_id(round_id, "round"), unit_id)

    @rpc
    def seal_state(self, round_id, unit_ids):
        with self.db.uow() as uow:
            return sealing.seal_state(uow, as_id(round_id, "round"), unit_ids)

    @rpc
    def counts(self, round_id, unit_ids):
        with self.db.uow() as uow:
            return sealing.counts(uow, self.ports, as_id(round_id, "round"), unit_ids)

    # -- checks before confirming
    @rpc
    def checks(self, round_id, unit_id):
        with self.db.uow() as uow:
            return review.report(uow, self.ports, as_id(round_id, "round"), unit_id)

    @rpc
    def explain(self, round_id, unit_id, data):
        with self.db.uow() as uow:
            return review.explain(uow, self.ports, as_id(round_id, "round"), unit_id, data)

    @rpc
    def check_tallies(self, round_id, unit_ids):
        """For the levels above (the progress report): the stored check tallies of
        each unit's subtree, ``{str(id): {errors, queries, explained, unexplained,
        computed}}``; units the caller cannot read are left out."""
        with self.db.uow() as uow:
            return review.check_tallies(uow, self.ports, as_id(round_id, "round"), unit_ids)

    @timer(interval=settings.current().checks_interval)
    def refresh_checks(self):
        """Bring the stored findings of queued units up to date (a few seconds' work per tick)."""
        deadline = time.monotonic() + settings.current().checks_tick_seconds
        with self.db.uow() as uow:
            review.refresh_queued(uow, self.ports, deadline)

    # -- bulk reads for read models (trusted callers: no names, no ID numbers)
    @rpc
    def learner_facts(self, round_id, after_id=0, limit=20_000):
        with self.db.uow() as uow:
            return handlers.learner_facts(uow, self.ports, as_id(round_id, "round"), after_id, limit)

    @rpc
    def headcounts(self, round_id, after_id=0, limit=20_000):
        with self.db.uow() as uow:
            return handlers.headcount_facts(uow, as_id(round_id, "round"), after_id, limit)

    @rpc
    def staff_facts(self, round_id, after_id=0, limit=20_000):
        """Every staff record of a round as the events carry them (no names, no IDs)."""
        with self.db.uow() as uow:
            return staff.facts(uow, as_id(round_id, "round"), after_id, limit)

    # -- learners
    @rpc
    def add_learner(self, round_id, institution_id, data):
        with self.db.uow() as uow:
            return handlers.add_learner(uow, self.ports, as_id(round_id, "round"), institution_id, data)

    @rpc
    def get_learner(self, learner_id):
        with self.db.uow() as uow:
            return handlers.get_learner(uow, learner_id)

    @rpc
    def learner_path(self, learner_id):
        """The path of a learner's institution, or None (for the gateway's access check)."""
        with self.db.uow() as uow:
            place = handlers.learner_place(uow, learner_id)
        return place[2] if place else None

    @rpc
    def update_learner(self, learner_id, data):
        with self.db.uow() as uow:
            return handlers.update_learner(uow, self.ports, learner_id, data)

    @rpc
    def remove_learner(self, learner_id, data):
        with self.db.uow() as uow:
            return handlers.remove_learner(uow, self.ports, learner_id, data)

    @rpc
    def restore_learner(self, learner_id):
        with self.db.uow() as uow:
            return handlers.restore_learner(uow, self.ports, learner_id)

    @rpc
    def list_learners(self, round_id, unit_id, q=None, grade=None, status=None, limit=None,
                      offset=None, sort=None):
        with self.db.uow() as uow:
            return handlers.list_learners(uow, self.ports, as_id(round_id, "round"), unit_id, q, grade,
                                          status, limit, offset, sort)

    @rpc
    def summary(self, round_id, institution_id):
        with self.db.uow() as uow:
            return handlers.summary(uow, self.ports, as_id(round_id, "round"), institution_id)

    # -- carry-over, the new school year, import, export
    @rpc
    def carry_over(self, round_id, institution_id, dry_run=False):
        with self.db.uow() as uow:
            return imports.carry_over(uow, self.ports, as_id(round_id, "round"), institution_id, dry_run)

    @rpc
    def promote(self, round_id, institution_id, dry_run=False):
        """The new school year: round 2 of the year before into round 1, one grade up
        (``services.enrollment.newyear``); ``dry_run`` previews it."""
        with self.db.uow() as uow:
            return newyear.promote(uow, self.ports, as_id(round_id, "round"), institution_id, dry_run)

    @rpc
    def import_check(self, round_id, institution_id):
        """Whether the caller may import into the institution now (before the file is read)."""
        with self.db.uow() as uow:
            return imports.check(uow, self.ports, as_id(round_id, "round"), institution_id)

    @rpc
    def import_rows(self, round_id, institution_id, columns, rows, import_id=None, data=None):
        """One batch of an import: ``rows`` are ``[row_number, value, ...]`` in ``columns`` order,
        ``data`` more of them as COPY text (services.common.copytext); ``import_id`` (a UUID)
        is the same for every batch of one file."""
        if data is not None and type(data) is not str:
            raise LecError("validation_error", "data is text", {"errors": {"data": ["not text"]}})
        with self.db.uow() as uow:
            return imports.import_rows(uow, self.ports, as_id(round_id, "round"), institution_id,
                                       columns, rows, import_id, data=data)

    @rpc
    def export_page(self, round_id, institution_id, after_id=0, limit=5000, status="active"):
        with self.db.uow() as uow:
            return handlers.export_page(uow, self.ports, as_id(round_id, "round"), institution_id,
                                        after_id, limit, status)

    # -- transfers of a child between institutions (services.enrollment.transfers)
    @rpc
    def request_transfer(self, round_id, data):
        """A receiving institution (or a unit above it) asks for a child held elsewhere."""
        with self.db.uow() as uow:
            return transfers.create(uow, self.ports, as_id(round_id, "round"), data)

    @rpc
    def get_transfer(self, round_id, transfer_id):
        with self.db.uow() as uow:
            return transfers.get_transfer(uow, self.ports, round_id, transfer_id)

    @rpc
    def list_transfers(self, round_id, unit_id, direction=None, state=None, limit=None, offset=None):
        with self.db.uow() as uow:
            return transfers.list_transfers(uow, self.ports, as_id(round_id, "round"), unit_id,
                                            direction, state, limit, offset)

    @rpc
    def accept_transfer(self, round_id, transfer_id):
        """The holder (or the level above it, by time) hands the child over, in one transaction."""
        with self.db.uow() as uow:
            return transfers.accept(uow, self.ports, round_id, transfer_id)

    @rpc
    def decline_transfer(self, round_id, transfer_id, data):
        with self.db.uow() as uow:
            return transfers.decline(uow, self.ports, round_id, transfer_id, data)

    @rpc
    def withdraw_transfer(self, round_id, transfer_id):
        with self.db.uow() as uow:
            return transfers.withdraw(uow, self.ports, round_id, transfer_id)

    @rpc
    def transfer_notices(self, round_id=None):
        """Pending requests the acting user's unit must act on now (for ``GET /me/notices``)."""
        with self.db.uow() as uow:
            return transfers.notices(uow, self.ports, round_id)

    @rpc
    def transfer_counts(self, round_id, unit_ids):
        """``{str(unit_id): n}`` pending requests where the unit (or one below it) holds or
        receives the child."""
        with self.db.uow() as uow:
            return transfers.counts(uow, self.ports, as_id(round_id, "round"), unit_ids)

    # -- caregivers and teachers of an institution (services.enrollment.staff)
    @rpc
    def add_staff(self, round_id, institution_id, data):
        with self.db.uow() as uow:
            return staff.add(uow, self.ports, as_id(round_id, "round"), institution_id, data)

    @rpc
    def list_staff(self, round_id, institution_id, q=None, position=None, status=None, limit=None,
                   offset=None):
        with self.db.uow() as uow:
            return staff.list_staff(uow, self.ports, as_id(round_id, "round"), institution_id, q,
                                    position, status, limit, offset)

    @rpc
    def get_staff(self, staff_id):
        with self.db.uow() as uow:
            return staff.get(uow, staff_id)

    @rpc
    def staff_path(self, staff_id):
        """The path of a staff record's institution, or None (for the gateway's access check)."""
        with self.db.uow() as uow:
            found = staff.place(uow, staff_id)
        return found[2] if found else None

    @rpc
    def update_staff(self, staff_id, data):
        with self.db.uow() as uow:
            return staff.update_staff(uow, self.ports, staff_id, data)

    @rpc
    def remove_staff(self, staff_id, data):
        with self.db.uow() as uow:
            return staff.remove(uow, self.ports, staff_id, data)

    @rpc
    def staff_summary(self, round_id, institution_id):
        with self.db.uow() as uow:
            return staff.summary(uow, self.ports, as_id(round_id, "round"), institution_id)

    @rpc
    def staff_import_check(self, round_id, institution_id):
        with self.db.uow() as uow:
            return staff.import_check(uow, self.ports, as_id(round_id, "round"), institution_id)

    @rpc
    def import_staff_rows(self, round_id, institution_id, columns, rows, import_id=None):
        with self.db.uow() as uow:
            return staff.import_rows(uow, self.ports, as_id(round_id, "round"), institution_id,
                                     columns, rows, import_id)

    # -- other-affiliation schools
    @rpc
    def set_headcount(self, round_id, school_id, data):
        with self.db.uow() as uow:
            return handlers.set_headcount(uow, self.ports, as_id(round_id, "round"), school_id, data)

    @rpc
    def accept_headcount(self, round_id, school_id):
        """The LAO accepts a school's headcount drafted from the round before."""
        with self.db.uow() as uow:
            return headcount_drafts.accept(uow, self.ports, as_id(round_id, "round"), school_id)

    @rpc
    def get_headcount(self, round_id, school_id):
        with self.db.uow() as uow:
            return handlers.get_headcount(uow, self.ports, as_id(round_id, "round"), school_id)

    @rpc
    def list_headcounts(self, round_id, lao_id):
        with self.db.uow() as uow:
            return handlers.list_headcounts(uow, self.ports, as_id(round_id, "round"), lao_id)

    # -- the registry's units
    @handles("registry", "unit_changed")
    def on_unit_changed(self, uow, event):
        handlers.unit_changed(uow, self.ports, event)
