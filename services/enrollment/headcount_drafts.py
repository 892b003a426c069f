"""Other-affiliation schools across rounds: headcount drafts and closure dates.

- A new round starts each school's headcount as a *draft* of the round before
  (round 1 of the same year for round 2; round 2 of the year before for round 1).
  Drafts are made when the LAO's headcounts of the round are first read
  (:func:`ensure`, idempotent: one row per round and school, ``ON CONFLICT DO
  NOTHING``), while the round is open for the LAO and its data are not sealed. A draft announces nothing
  and does not count as entered for the ``headcount_missing`` check until the
  LAO accepts it (:func:`accept`) or enters the school's headcount (the PUT).
- A closure has an effective date (the registry's ``closed_on``): a school is
  closed for a round only when the round's census date is on or after it
  (:func:`effective`); an earlier round keeps its headcount.
"""
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.context import require_actor
from services.common.errors import conflict, forbidden, not_found
from services.enrollment import domain
from services.enrollment.domain import closed_for, effective
from services.enrollment.handlers import (
    _emit_headcount, _require_other_school, headcount_dict, require_open, school_context,
)
from services.enrollment.models import headcounts
from services.enrollment.sealing import lock_for_edit, seal_state

__all__ = ["accept", "closed_for", "effective", "ensure"]


def ensure(uow, round_id, previous, lao, schools):
    """Start the headcount of each active school of the LAO that has none in the
    round as a draft of its headcount in ``previous``; returns how many were made."""
    if previous is None or not schools:
        return 0
    if seal_state(uow, round_id, [lao.id])[str(lao.id)]["sealed"]:
        return 0
    active = {s.id: s for s in schools if s.active}
    if not active:
        return 0
    have = set(uow.execute(select(headcounts.c.school_id).where(
        headcounts.c.round_id == round_id, headcounts.c.school_id.in_(list(active)))).scalars())
    wanted = [i for i in active if i not in have]
    if not wanted:
        return 0
    before = uow.execute(select(headcounts).where(
        headcounts.c.round_id == previous.id, headcounts.c.school_id.in_(wanted),
        headcounts.c.closed.is_(False))).all()
    if not before:
        return 0
    user = getattr(uow.actor, "user_id", None) or None
    rows = uow.execute(pg_insert(headcounts).values([
        {"round_id": round_id, "school_id": r.school_id, "lao_id": lao.id,
         "school_path": active[r.school_id].path, "closed": False, "total": r.total,
         "by_grade": r.by_grade, "draft": True, "draft_from": previous.id, "updated_by": user}
        for r in sorted(before, key=lambda r: r.school_id)]).on_conflict_do_nothing(
        index_elements=[headcounts.c.round_id, headcounts.c.school_id]).returning(
        headcounts.c.school_id)).scalars().all()
    if rows:
        uow.audit("draft", "headcounts", f"{round_id}:{lao.id}", {
            "round_id": round_id, "from_round_id": previous.id, "lao_id": lao.id,
            "school_ids": sorted(rows)})
    uow.commit()
    return len(rows)


def accept(uow, ports, round_id, school_id):
    """The funding LAO accepts a school's draft headcount as it stands (idempotent:
    an accepted or entered headcount is answered as it is)."""
    school, lao, round_, window = school_context(ports, round_id, school_id)
    _require_other_school(school)
    actor = require_actor(uow.actor)
    actor.require_read(school.path, "school")
    if not actor.is_system and actor.org_unit_id != school.parent_id:
        raise forbidden("the headcount is accepted by the LAO that funds the school")
    if school.status == "pending":
        raise conflict("the school is pending verification")
    require_open(window)
    round_id = round_.id
    lock_for_edit(uow, round_id, lao)
    row = uow.execute(select(headcounts).where(
        headcounts.c.round_id == round_id, headcounts.c.school_id == school.id)
        .with_for_update()).first()
    if row is None:
        raise not_found("headcount draft")
    if row.draft:
        row = uow.execute(update(headcounts).where(
            headcounts.c.round_id == round_id, headcounts.c.school_id == school.id).values(
            draft=False, version=headcounts.c.version + 1, updated_at=func.now(),
            updated_by=actor.user_id or None)
            .returning(*headcounts.c)).one()
        uow.audit("accept", "headcount", f"{round_id}:{school.id}", {
            "counts": domain.counts(row.by_grade), "from_round_id": row.draft_from})
        _emit_headcount(uow, round_id, school, row)
    uow.commit()
    return headcount_dict(round_id, school, row, False)
