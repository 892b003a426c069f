"""Refusing a learner that another record already holds in the round.

- What the refusal says of the holder: its id (``held_by``) where the caller may
  read that institution, otherwise only its province (``held_in: {code, name}``)
  (:func:`services.enrollment.domain.holder_extra`).
- Every refusal against a recorded learner is audited (action
  ``refuse_duplicate``) in a transaction of its own: the change it refuses is
  rolled back, the audit row stays.
- Probing is limited: an account is told about at most
  ``LEC_DUPLICATE_PROBE_LIMIT`` (30) learners held by other institutions in
  ``LEC_DUPLICATE_PROBE_WINDOW`` seconds (600). Beyond that the answer is
  ``rate_limited`` with ``retry_after`` (for an import, row by row: the other
  rows still land). The count lives in the enrollment database
  (``duplicate_probes``), so it holds across replicas. Learners recorded at the
  caller's own institution (a second entry, a file imported again, rows repeated
  within a file) and the learners a carry-over skips do not count.
"""
import datetime as dt
import math
from collections import namedtuple
from contextlib import contextmanager

from sqlalchemy import delete, func, insert, literal, select, text
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common import settings
from services.common.context import require_actor
from services.common.db import UnitOfWork
from services.common.errors import LecError, conflict
from services.enrollment import domain
from services.enrollment.models import duplicate_probes, learners, staff
from services.enrollment.ports import stored_units

# the active record holding a person in a round
Holder = namedtuple("Holder", "learner_id institution_id institution_path")

# a table of people with at most one active record per person and round: the column
# that names the person, the partial unique index that says so, and what a write
# that keeps colliding with records changing hands answers
People = namedtuple("People", "number index changing_hands")
LEARNERS = People(learners.c.id_number, "uq_learners_round_person_active",
                  "the learner changed hands while being recorded; try again")
STAFF = People(staff.c.national_id, "uq_staff_round_person_active",
               "the person's post changed while being recorded; try again")


def holder(session, people, round_id, number):
    """The active record of a person in a round (a :class:`Holder`), or None."""
    table = people.number.table
    row = session.execute(select(table.c.id, table.c.institution_id, table.c.institution_path)
                          .where(table.c.round_id == round_id, people.number == number,
                                 table.c.status == "active")).first()
    return Holder(*row) if row is not None else None


def is_person_conflict(people, exc):
    """Whether an ``IntegrityError`` is a collision on ``people``'s one-active-record index."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None) == people.index


def insert_person(people):
    """An ``INSERT`` into ``people``'s table that yields no row where the person has an
    active record in the round already (for :func:`write_person`; no savepoint needed)."""
    table = people.number.table
    return pg_insert(table).on_conflict_do_nothing(
        index_elements=[table.c.round_id, people.number], index_where=table.c.status == "active")


def write_person(uow, people, statement, round_id, number, refuse):
    """Run a write that may collide with the person's active record elsewhere: an
    :func:`insert_person` (no row back is a collision) or an update (in a savepoint: a
    collision raises). A collision is refused by ``refuse(holder)`` (it raises); a holder
    gone meanwhile (removed, moved) lets the write try again."""
    for _ in range(3):
        if isinstance(statement, Insert):
            row = uow.execute(statement).first()
            if row is not None:
                return row
        else:
            try:
                with uow.session.begin_nested():
                    return uow.execute(statement).one()
            except IntegrityError as exc:
                if not is_person_conflict(people, exc):
                    raise
        found = holder(uow.session, people, round_id, number)
        if found is not None:
            refuse(found)
    raise conflict(people.changing_hands)

_PROBE_LOCK = 0x4C454450  # advisory lock class of the probe counter, one lock per account


def limits():
    """``(refusals, seconds)``: how many duplicates held elsewhere an account is told about per window."""
    return (settings.current().duplicate_probe_limit,
            settings.current().duplicate_probe_window)


def take(session, user_id, wanted):
    """Count up to ``wanted`` refusals against the account's allowance:
    ``(granted, retry_after)``, ``retry_after`` being None when all were granted,
    else the seconds until the oldest counted refusal leaves the window."""
    limit, window = limits()
    span = literal(dt.timedelta(seconds=window))
    session.execute(text("SELECT pg_advisory_xact_lock(:k, :u)"),
                    {"k": _PROBE_LOCK, "u": int(user_id) % 2**31})
    session.execute(delete(duplicate_probes).where(duplicate_probes.c.user_id == user_id,
                                                   duplicate_probes.c.at < func.now() - span))
    used, oldest, now = session.execute(
        select(func.coalesce(func.sum(duplicate_probes.c.refusals), 0), func.min(duplicate_probes.c.at),
               func.now()).where(duplicate_probes.c.user_id == user_id)).one()
    granted = max(0, min(wanted, limit - int(used)))
    if granted:
        session.execute(insert(duplicate_probes).values(user_id=user_id, refusals=granted))
    if granted == wanted:
        return granted, None
    if oldest is None:
        return granted, max(1, window)
    return granted, max(1, math.ceil((oldest + dt.timedelta(seconds=window) - now).total_seconds()))


def provinces(uow, ports, unit, holders):
    """id -> unit of the provinces of the holders the caller may not read: from
    the ports (fetching what enrollment does not know yet) or, when the registry
    cannot answer, from enrollment's table of units as it is."""
    actor = require_actor(uow.actor)
    ids = {domain.province_of(h.institution_path) for h in holders
           if h.institution_id != unit.id and not actor.can_read(h.institution_path)} - {None}
    if not ids:
        return {}
    try:
        return ports.units(ids)
    except LecError:
        return stored_units(uow.session, ids)


@contextmanager
def _own_transaction(uow):
    """A unit of work beside ``uow``: it commits whatever ``uow`` does."""
    with UnitOfWork(Session(bind=uow.session.get_bind()), uow.actor, uow.request_id) as side:
        yield side


def rate_limited(retry_after):
    return {"code": "rate_limited", "retry_after": retry_after,
            "message": "too many learners found recorded at other institutions in a short time; "
                       f"try again in {retry_after} seconds"}


def refuse(uow, ports, unit, round_id, refusals, attempt, counted=True):
    """The answers to ``refusals`` (``[(row, Holder)]``, ``row`` None for a
    single change), in their order: ``{code: "duplicate_learner", message,
    held_by | held_in}``, or ``{code: "rate_limited", message, retry_after}``
    for the refusals against other institutions beyond the account's allowance
    (``counted``). Writes the audit row and the count in a transaction of its own."""
    if not refusals:
        return []
    actor = require_actor(uow.actor)
    holders = [h for _, h in refusals]
    places = provinces(uow, ports, unit, holders)
    foreign = sum(1 for h in holders if h.institution_id != unit.id)
    answers, told = [], 0
    with _own_transaction(uow) as side:
        granted, retry_after = foreign, None
        if counted and foreign and not actor.is_system:
            granted, retry_after = take(side.session, actor.user_id, foreign)
        for row, holder in refusals:
            if holder.institution_id != unit.id:
                told += 1
                if told > granted:
                    answers.append(rate_limited(retry_after))
                    continue
            extra = domain.holder_extra(actor, unit, holder.institution_id, holder.institution_path, places)
            if row is None and attempt == "add" and holder.institution_id != unit.id:
                extra["transfer"] = {"possible": True}  # the caller may ask the holder for the child
            answers.append({"code": "duplicate_learner",
                            "message": domain.duplicate_message(extra, unit.id), **extra})
        side.audit("refuse_duplicate", "learner" if len(refusals) == 1 else "learners",
                   holders[0].learner_id if len(refusals) == 1 else None, {
                       "round_id": round_id, "institution_id": unit.id, "attempt": attempt,
                       "refusals": [{"row": row, "learner_id": h.learner_id, "held_by": h.institution_id,
                                     "answer": a["code"]} for (row, h), a in zip(refusals, answers)]})
        side.commit()
    return answers


def refuse_one(uow, ports, unit, round_id, holder, attempt):
    """Refuse a single change: raises ``duplicate_learner`` or ``rate_limited``."""
    answer = dict(refuse(uow, ports, unit, round_id, [(None, holder)], attempt)[0])
    code, message = answer.pop("code"), answer.pop("message")
    raise LecError(code, message, answer)
