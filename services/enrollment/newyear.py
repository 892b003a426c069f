"""The new school year: an institution's learners of round 2 of the year before
move into round 1, one grade up, in one action (a preview first).

- Each active learner of the source round goes one grade up (k1 -> k2 ... k3 -> p1,
  p6 -> m1 ... m5 -> m6). The institution teaches the grades it had active
  learners in, in either round of the source year; those in its highest grade
  leave as ``graduated``, and so do those at the passage k3 -> p1 or p6 -> m1
  where it does not teach the next grade (m6 always leaves).
- CDC children keep the grade ``cdc``; those outside the new round's age range at
  its census date leave as ``age_out`` (the learners' age rule,
  :func:`services.enrollment.domain.check_age`).
- A learner already active here in the new round is counted in ``already``; one
  active at another institution is a conflict (``duplicate_learner``, described
  as :mod:`services.enrollment.duplicates` says, audited, not counted as probing).
  Promoting twice adds nothing the second time.
- The institution's own users and those of its LAO may do it while the round is
  open for the institution and its data are not sealed. The promotion is audited
  (``promote``) and its learners are announced in ``learners_added`` events.
"""
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.context import require_actor
from services.common.errors import LecError, forbidden, not_found, validation_error
from services.common.vocabulary import SCHOOL_GRADES
from services.enrollment import domain
from services.enrollment.duplicates import Holder, provinces, refuse
from services.enrollment.handlers import edit_context, require_active, require_institution, require_open
from services.enrollment.imports import _active_holders, emit_learners_added, source_learners
from services.enrollment.models import learners
from services.enrollment.sealing import lock_for_edit, seal_state

NEXT_GRADE = dict(zip(SCHOOL_GRADES, SCHOOL_GRADES[1:]))
PASSAGES = ("k3", "p6")  # the next grade is another level: kept only where it is taught
COPIED = ("institution_id", "institution_path", "id_kind", "id_number", "prefix", "first_name",
          "last_name", "sex", "birth_date", "nationality")


def source_rounds(ports, round_):
    """``(round 2, round 1 or None)`` of the academic year before ``round_`` (a round 1)."""
    if round_.number != 1:
        raise validation_error({"round": ["learners are promoted into round 1 of the new school year"]})
    source = ports.previous_round(round_)
    if source is None:
        raise not_found(f"round 2 of academic year {round_.academic_year - 1}")
    return source, ports.previous_round(source)


def check_promoter(actor, unit, window):
    """The institution's own users or its LAO's, while the round is open for it."""
    require_institution(unit)
    actor = require_actor(actor)
    actor.require_read(unit.path, "institution")
    if not actor.is_system and actor.org_unit_id not in (unit.id, unit.parent_id):
        raise forbidden("learners are promoted by the institution or its LAO")
    require_active(unit)
    require_open(window)
    return actor


def taught_grades(uow, unit, rounds_):
    """The grades the institution had active learners in, in any of ``rounds_``."""
    ids = [r.id for r in rounds_ if r]
    return set(uow.execute(select(learners.c.grade).distinct().where(
        learners.c.round_id.in_(ids), learners.c.institution_id == unit.id,
        learners.c.status == "active")).scalars())


def _person(row):
    return {"id": row.id, "prefix": row.prefix, "first_name": row.first_name,
            "last_name": row.last_name, "birth_date": row.birth_date.isoformat()}


def _plan(uow, unit, round_, source, earlier):
    """``(source rows, [(row, to_grade)] to move, [leave entries])`` by the new round's rules."""
    census, cdc_age = round_.census_date, domain.cdc_age_of(round_)
    rows = source_learners(uow, unit, source)
    taught = taught_grades(uow, unit, (source, earlier))
    order = {g: i for i, g in enumerate(SCHOOL_GRADES)}
    highest = max((g for g in taught if g in order), key=order.get, default=None)
    moves, leaves = [], []
    for row in rows:
        if unit.type == "cdc":
            to = "cdc"
        elif row.grade not in NEXT_GRADE or row.grade == highest \
                or (row.grade in PASSAGES and NEXT_GRADE[row.grade] not in taught):
            leaves.append({"learner": _person(row), "from_grade": row.grade, "reason": "graduated"})
            continue
        else:
            to = NEXT_GRADE[row.grade]
        try:
            domain.check_grade(to, unit.type)
            domain.check_age(row.birth_date, unit.type, census, cdc_age)
        except LecError as exc:
            reason = "age_out" if exc.code == "age_out_of_range" else exc.code
            leaves.append({"learner": _person(row), "from_grade": row.grade, "reason": reason,
                           "message": exc.description})
            continue
        moves.append((row, to))
    return rows, moves, leaves


def _answer(source, round_id, dry_run, moves, leaves, already, conflicts):
    moves = [{"learner": _person(row), "from_grade": row.grade, "to_grade": to} for row, to in moves]
    conflicts = sorted(conflicts, key=lambda c: c["learner"]["id"])
    return {"round_id": round_id, "from_round_id": source.id, "dry_run": dry_run,
            "moves": moves, "leaves": leaves, "already": already, "conflicts": conflicts,
            "totals": {"moves": len(moves), "leaves": len(leaves), "already": already,
                       "conflicts": len(conflicts)}}


def promote(uow, ports, round_id, institution_id, dry_run=False):
    """The new school year: round 2 of the year before into ``round_id`` (a round 1),
    one grade up (:func:`_promote`); ``dry_run`` previews it (:func:`_preview`)."""
    unit, round_, window = edit_context(ports, round_id, institution_id)
    source, earlier = source_rounds(ports, round_)
    if dry_run:
        return _preview(uow, ports, unit, round_, window, source, earlier)
    return _promote(uow, ports, unit, round_, window, source, earlier)


def _preview(uow, ports, unit, round_, window, source, earlier):
    """What :func:`_promote` would do now, writing nothing."""
    actor = check_promoter(uow.actor, unit, window)
    round_id = round_.id
    session = uow.session
    if seal_state(uow, round_id, [unit.id])[str(unit.id)]["sealed"]:
        raise LecError("unit_confirmed", "the institution's data are confirmed for this round")
    _, moves, leaves = _plan(uow, unit, round_, source, earlier)
    holders = _active_holders(session, round_id, {row.id_number for row, _ in moves})
    elsewhere = [Holder(h.id, h.institution_id, h.institution_path) for h in holders.values()
                 if h.institution_id != unit.id]
    places = provinces(uow, ports, unit, elsewhere)
    kept, already, conflicts = [], 0, []
    for row, to in moves:
        holder = holders.get(row.id_number)
        if holder is None:
            kept.append((row, to))
        elif holder.institution_id == unit.id:
            already += 1
        else:
            extra = domain.holder_extra(actor, unit, holder.institution_id, holder.institution_path, places)
            conflicts.append({"learner": _person(row), "code": "duplicate_learner",
                              "message": domain.duplicate_message(extra, unit.id), **extra})
    return _answer(source, round_id, True, kept, leaves, already, conflicts)


def _promote(uow, ports, unit, round_, window, source, earlier):
    """Move the institution's learners of ``source`` into ``round_`` one grade up."""
    actor = check_promoter(uow.actor, unit, window)
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    census = round_.census_date
    _, moves, leaves = _plan(uow, unit, round_, source, earlier)
    inserted = []
    if moves:
        user = actor.user_id or None
        values = [dict({c: row._mapping[c] for c in COPIED}, round_id=round_id, grade=to,
                       source="promotion", carried_from=row.id, created_by=user, updated_by=user)
                  for row, to in sorted(moves, key=lambda m: m[0].id_number)]
        inserted = uow.execute(pg_insert(learners).values(values).on_conflict_do_nothing(
            index_elements=[learners.c.round_id, learners.c.id_number],
            index_where=learners.c.status == "active").returning(*learners.c)).all()
    done = {r.carried_from for r in inserted}
    left = {row.id_number: row for row, _ in moves if row.id not in done}
    already, held = 0, []
    for number, holder in _active_holders(uow.session, round_id, left.keys()).items():
        if holder.institution_id == unit.id:
            already += 1
        else:
            held.append((left[number], Holder(holder.id, holder.institution_id, holder.institution_path)))
    answers = refuse(uow, ports, unit, round_id, [(None, h) for _, h in held], "promote",
                     counted=False)
    conflicts = [{"learner": _person(row), **answer} for (row, _), answer in zip(held, answers)]
    if inserted:
        emit_learners_added(uow, round_id, unit, census, inserted)
    uow.audit("promote", "learners", None, {
        "round_id": round_id, "from_round_id": source.id, "institution_id": unit.id,
        "promoted": len(inserted), "already": already, "left": len(leaves),
        "conflicts": len(conflicts), "learner_ids": sorted(r.id for r in inserted)})
    uow.commit()
    by_id = {row.id: to for row, to in moves}
    sources = {row.id: row for row, _ in moves}
    moved = [(sources[r.carried_from], by_id[r.carried_from])
             for r in sorted(inserted, key=lambda r: r.carried_from)]
    return _answer(source, round_id, False, moved, leaves, already, conflicts)
