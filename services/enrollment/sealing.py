"""The seal: enrollment owns the lock and the count it seals, atomically.

Each (round, unit) has a row in ``seals``. Every change of an institution's
learners, and of the headcounts of an LAO's other-affiliation schools, first
takes that row ``FOR SHARE`` (:func:`lock_for_edit`) and is refused with
``unit_confirmed`` when it is sealed. :func:`seal` takes the row ``FOR UPDATE``,
which waits for every edit in flight to commit and holds off every later one,
then counts and records the seal in the same transaction. So an edit either
lands before the seal (and is in its count) or is refused after it; no edit
can land between the count and the seal.
"""
import collections

from sqlalchemy import bindparam, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError

from services.common import settings
from services.common.context import require_actor
from services.common.errors import LecError, conflict
from services.common.jsonutil import plain
from services.common.validation import as_id
from services.common.values import Unit
from services.common.vocabulary import SEALED_TYPES
from services.enrollment import checks, domain
from services.enrollment.models import check_dirty, headcounts, learners, seal_snapshots, seals

LOCK_NOT_AVAILABLE = "55P03"


def lock(uow, round_id, unit_id, exclusive=False):
    """Take the seal row of (round, unit), creating it on first use."""
    uow.execute(pg_insert(seals).values(round_id=round_id, unit_id=unit_id).on_conflict_do_nothing())
    stmt = select(seals).where(seals.c.round_id == round_id, seals.c.unit_id == unit_id)
    return uow.execute(stmt.with_for_update(read=not exclusive)).one()


# the seal row of (round, unit) held shared and, unless sealed, the unit queued for its checks
# (``checks.edit_marks``), in one round trip; no row back: the unit's first change in the round
_LOCK_AND_MARK = text(f"""
    WITH seal AS (SELECT sealed FROM {seals.name} WHERE round_id = :round_id AND unit_id = :unit_id FOR SHARE),
         marked AS (INSERT INTO {check_dirty.name} (round_id, unit_id)
                    SELECT :round_id, u FROM unnest(CAST(:marks AS bigint[])) AS u
                    WHERE EXISTS (SELECT 1 FROM seal WHERE NOT sealed))
    SELECT sealed FROM seal""")


def lock_for_edit(uow, round_id, unit):
    """Hold the unit's data open for this transaction, or refuse: it is sealed. The unit's
    checks are out of date from this change: it is queued for them in the same statement."""
    params = {"round_id": int(round_id), "unit_id": unit.id, "marks": checks.edit_marks(unit)}
    row = uow.execute(_LOCK_AND_MARK, params).first()
    if row is None:
        uow.execute(pg_insert(seals).values(round_id=round_id, unit_id=unit.id).on_conflict_do_nothing())
        row = uow.execute(_LOCK_AND_MARK, params).one()
    if row.sealed:
        raise LecError("unit_confirmed",
                       f"the data of {unit.type} {unit.id} are confirmed for this round; "
                       "a user of the level above must revoke the confirmation before any change")
    return row


# -- counting ---------------------------------------------------------------------------

def learner_counts(session, round_id, institution_ids):
    """institution id -> counts of its active learners."""
    ids = [int(i) for i in institution_ids]
    by_unit = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            select(learners.c.institution_id, learners.c.grade, func.count())
            .where(learners.c.round_id == round_id, learners.c.institution_id.in_(ids),
                   learners.c.status == "active")
            .group_by(learners.c.institution_id, learners.c.grade))
        for unit_id, grade, n in rows:
            by_unit[unit_id][grade] = n
    return {i: domain.counts(g) for i, g in by_unit.items()}


def headcount_rows(session, round_id, school_ids=None, lao_ids=None):
    stmt = select(headcounts).where(headcounts.c.round_id == round_id)
    if school_ids is not None:
        stmt = stmt.where(headcounts.c.school_id.in_([int(i) for i in school_ids]))
    if lao_ids is not None:
        stmt = stmt.where(headcounts.c.lao_id.in_([int(i) for i in lao_ids]))
    return session.execute(stmt).all()


def headcount_counts(row):
    if row is None or row.closed:
        return dict(domain.ZERO)
    return domain.counts(row.by_grade)


def school_entries(session, round_id, schools):
    """One entry per other-affiliation school: ``{id, code, path, closed, counts}``."""
    rows = {r.school_id: r for r in headcount_rows(session, round_id, [s.id for s in schools])}
    entries = []
    for school in sorted(schools, key=lambda s: s.path):
        row = rows.get(school.id)
        closed = school.status == "closed" or bool(row is not None and row.closed)
        entries.append({"id": school.id, "code": school.code, "path": school.path,
                        "closed": closed,
                        "counts": dict(domain.ZERO) if closed else headcount_counts(row)})
    return entries


def live_counts(session, round_id, units_by_id):
    """unit id -> live counts: institutions their active learners, other schools
    their headcount, an LAO the sum of its other schools' headcounts."""
    institutions = [i for i, u in units_by_id.items() if u.is_institution]
    result = {i: dict(domain.ZERO) for i in units_by_id}
    result.update(learner_counts(session, round_id, institutions))
    schools = [i for i, u in units_by_id.items() if u.type == "other_school"]
    for row in headcount_rows(session, round_id, school_ids=schools) if schools else ():
        result[row.school_id] = headcount_counts(row)
    laos = [i for i, u in units_by_id.items() if u.type == "lao"]
    per_lao = {i: [] for i in laos}
    for row in headcount_rows(session, round_id, lao_ids=laos) if laos else ():
        per_lao[row.lao_id].append(headcount_counts(row))
    for lao_id, parts in per_lao.items():
        result[lao_id] = domain.add_counts(*parts)
    return result


def counts(uow, ports, round_id, unit_ids):
    """``{str(unit_id): {total, by_grade}}`` live, for the levels above."""
    live = live_counts(uow, as_id(round_id, "round"), ports.units(unit_ids))
    return {str(i): live.get(int(i), {"total": 0, "by_grade": {}}) for i in unit_ids}


# -- seal, unseal, state ------------------------------------------------------------------

def _sealable(actor, unit):
    actor = require_actor(actor)
    actor.require_read(unit.path, "org unit")
    if unit.type not in SEALED_TYPES:
        raise LecError("validation_error", f"a {unit.type} has no data of its own to seal",
                       {"errors": {"unit_id": ["a school, CDC or LAO"]}})


def _sealed_result(round_id, unit, row):
    return plain({"round_id": round_id, "unit": unit.ref(), "counts": row.counts,
                  "schools": row.schools or [], "sealed_at": row.sealed_at,
                  "seal_digest": row.last_digest, "learners_digest": row.last_learners_digest})


SNAPSHOT_COLUMNS = ("version", "id_kind", "id_number", "prefix", "first_name", "last_name", "sex",
                    "birth_date", "grade", "nationality")


def _snapshot(session, round_id, unit):
    """Replace the unit's snapshot with its active learners (one INSERT ... SELECT);
    returns their ``(id_kind, id_number, grade)`` for the digest."""
    session.execute(seal_snapshots.delete().where(seal_snapshots.c.round_id == round_id,
                                                  seal_snapshots.c.unit_id == unit.id))
    if not unit.is_institution:
        return []
    source = (select(learners.c.round_id, learners.c.institution_id, learners.c.id,
                     *[learners.c[name] for name in SNAPSHOT_COLUMNS])
              .where(learners.c.round_id == round_id, learners.c.institution_id == unit.id,
                     learners.c.status == "active"))
    return session.execute(
        seal_snapshots.insert().from_select(["round_id", "unit_id", "learner_id", *SNAPSHOT_COLUMNS],
                                            source)
        .returning(seal_snapshots.c.id_kind, seal_snapshots.c.id_number, seal_snapshots.c.grade)).all()


def _unit_of(ports, unit_id, record):
    """The unit to seal: the caller's record of it when it sent one (the confirmation
    service read it from its unit directory for this very confirmation), else ours."""
    unit_id = as_id(unit_id, "org unit")
    if isinstance(record, dict):
        try:
            unit = Unit.from_record(record)
        except (KeyError, TypeError, ValueError):
            unit = None
        if unit is not None and unit.id == unit_id:
            return unit
    return ports.unit(unit_id)


def seal(uow, ports, round_id, unit_id, unit_record=None, other_school_records=None):
    """Seal the unit's data for the round (for the confirmation service): an LAO
    its other-affiliation schools as the round sees them, an institution or LAO
    only when its checks pass (:func:`seal_data`). ``unit_record``: the unit as
    the caller holds it (see :func:`_unit_of`); ``other_school_records``: an LAO's
    other-affiliation schools (active or closed) as the caller just read them from
    the registry (kept in the units table as :meth:`Ports.other_schools` keeps them)."""
    round_, previous = ports.seal_rounds(as_id(round_id, "round"))
    unit = _unit_of(ports, unit_id, unit_record)
    rules = checks.RoundRules(round_, previous)
    if unit.type == "lao" and isinstance(other_school_records, list):
        others = ports.directory.remember(other_school_records)
    else:
        others = ports.other_schools(unit)
    schools = [domain.effective(s, round_.census_date) for s in others]
    return seal_data(uow, round_.id, unit, schools, rules if unit.type in checks.CHECKED_TYPES else None)


def seal_data(uow, round_id, unit, other_schools=(), rules=None):
    """Seal the unit's data for the round and return the counts sealed.

    ``other_schools``: for an LAO, its other-affiliation schools (units).
    ``rules`` (``checks.RoundRules``): the unit's checks are
    computed under the seal's lock, from the very data being sealed, and an
    error or a query not explained refuses the seal with ``checks_failed``.
    Sealing a sealed unit returns what was sealed the first time.
    """
    _sealable(uow.actor, unit)
    row = _lock_within(uow, round_id, unit)
    if row.sealed:
        return _sealed_result(round_id, unit, row)
    if rules is not None:
        tally = checks.refresh(uow.session, rules, {unit.id: unit}).get(unit.id) or {}
        # the findings as items (both languages) only to tell what stops the seal: the tally
        # counts exactly what blocks (every error, every query not explained)
        refused = checks.blocking(checks.items_of(uow.session, require_actor(uow.actor), rules, [unit.id])) \
            if tally.get("errors") or tally.get("unexplained") else []
        if refused:
            uow.commit()  # the findings just computed are kept; nothing is sealed
            raise LecError("checks_failed",
                           f"{len(refused)} check(s) stop the confirmation: correct each error and "
                           "explain each query first", {"items": refused})
    snapshot = _snapshot(uow.session, round_id, unit)
    if unit.type == "lao":
        schools = school_entries(uow.session, round_id, other_schools)
        counts = domain.add_counts(*[s["counts"] for s in schools])
        learners_hex = domain.schools_digest(schools)
    else:
        schools = []
        counts = domain.counts(collections.Counter(r.grade for r in snapshot))  # what the snapshot holds
        learners_hex = domain.learners_digest(snapshot)
    digest = domain.seal_digest(round_id, unit.id, counts, learners_hex)
    now = func.statement_timestamp()  # when the sealing statement ran (one value in it)
    row = uow.execute(
        update(seals).where(seals.c.round_id == round_id, seals.c.unit_id == unit.id)
        .values(sealed=True, sealed_at=now, counts=counts, schools=schools,
                last_sealed_at=now, last_counts=counts, last_schools=schools, last_digest=digest,
                last_learners_digest=learners_hex,
                version=seals.c.version + 1, updated_at=func.now())
        .returning(*seals.c)).one()
    uow.audit("seal", "unit_round", f"{round_id}:{unit.id}",
              {"round_id": round_id, "unit_id": unit.id, "counts": counts, "schools": len(schools),
               "seal_digest": digest})
    uow.emit("unit_sealed", {"round_id": round_id, "unit": unit.ref(), "counts": counts,
                             "schools": schools, "seal_digest": digest,
                             "learners_digest": learners_hex})
    uow.commit()
    return _sealed_result(round_id, unit, row)


# The seal row FOR UPDATE, the transaction's lock_timeout set in the same round trip: the row
# is locked as the join hands it up, after the subquery that sets the timeout has run.
_SEAL_FOR_UPDATE = select(seals).select_from(seals).join(
    select(func.set_config("lock_timeout", bindparam("lock_timeout"), True).label("set")).subquery("t"),
    literal(True)).where(seals.c.round_id == bindparam("round_id"), seals.c.unit_id == bindparam("unit_id")) \
    .with_for_update(of=seals)
_LOCK_TIMEOUT = select(func.set_config("lock_timeout", bindparam("lock_timeout"), True))
_NEW_SEAL = pg_insert(seals).values(round_id=bindparam("round_id"), unit_id=bindparam("unit_id")) \
    .on_conflict_do_nothing().returning(*seals.c)


def _lock_within(uow, round_id, unit):
    """The seal row FOR UPDATE, waiting at most ``LEC_SEAL_LOCK_TIMEOUT`` seconds
    for the changes in flight (a bulk import holds the lock batch after batch).
    One round trip when the row exists; a row inserted here is this transaction's
    until it commits."""
    params = {"round_id": int(round_id), "unit_id": unit.id,
              "lock_timeout": f"{int(settings.current().seal_lock_timeout * 1000)}ms"}
    try:
        row = uow.execute(_SEAL_FOR_UPDATE, params).first()
        if row is None:  # the unit's first seal or change of the round (the timeout not set yet)
            uow.execute(_LOCK_TIMEOUT, params)
            row = uow.execute(_NEW_SEAL, params).first() or uow.execute(_SEAL_FOR_UPDATE, params).one()
        return row
    except OperationalError as exc:
        if getattr(getattr(exc, "orig", None), "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        raise conflict(f"the data of {unit.type} {unit.id} are being changed (an import?); "
                       "try again when the change is done")


def unseal(uow, ports, round_id, unit_id):
    """Open the unit's data again (a revoked confirmation). Idempotent. What the
    last seal held (``last_*``, the snapshot) stays, for :mod:`seal_diff`."""
    round_id = as_id(round_id, "round")
    unit = ports.unit(unit_id)
    _sealable(uow.actor, unit)
    row = _lock_within(uow, round_id, unit)
    if row.sealed:
        uow.execute(update(seals).where(seals.c.round_id == round_id, seals.c.unit_id == unit.id)
                    .values(sealed=False, sealed_at=None, counts=None, schools=None,
                            version=seals.c.version + 1, updated_at=func.now()))
        uow.audit("unseal", "unit_round", f"{round_id}:{unit.id}",
                  {"round_id": round_id, "unit_id": unit.id, "counts_were": row.counts})
        uow.emit("unit_unsealed", {"round_id": round_id, "unit": unit.ref()})
    uow.commit()
    return {"round_id": round_id, "unit_id": unit.id, "sealed": False}


def seal_state(uow, round_id, unit_ids):
    """``{str(unit_id): {sealed, counts, sealed_at}}`` (never sealed: sealed false)."""
    round_id = as_id(round_id, "round")
    ids = [int(i) for i in unit_ids]
    state = {str(i): {"sealed": False, "counts": None, "sealed_at": None} for i in ids}
    if ids:
        rows = uow.execute(select(seals).where(seals.c.round_id == round_id,
                                                   seals.c.unit_id.in_(ids)))
        for row in rows:
            if row.sealed:
                state[str(row.unit_id)] = plain({"sealed": True, "counts": row.counts,
                                                 "sealed_at": row.sealed_at})
    return state
