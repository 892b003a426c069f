"""What changed since a unit's last seal: its learners (an institution) or its
other-affiliation schools' headcounts (an LAO), against what the seal held.

The seal keeps a snapshot of the learners it sealed (``seal_snapshots``) and,
in ``seals.last_*``, its counts and an LAO's school entries; they stay when the
unit is unsealed. Learners are matched by their record id: a learner removed
and restored unchanged is the same record, with the same values, and is not a
change. ID numbers are never shown: a changed identity is ``id_changed``.
"""
from sqlalchemy import and_, exists, or_, select

from services.common.context import require_actor
from services.common.errors import LecError
from services.common.jsonutil import plain
from services.common.validation import as_id
from services.common.vocabulary import SEALED_TYPES
from services.enrollment import domain
from services.enrollment.models import learners, seal_snapshots, seals
from services.enrollment.sealing import learner_counts, school_entries

LIMIT = 1000
# the fields compared, besides the identity (``id_changed``)
COMPARED = ("prefix", "first_name", "last_name", "sex", "birth_date", "grade", "nationality")
SHOWN = ("prefix", "first_name", "last_name", "grade")

L, S = learners.c, seal_snapshots.c


def diff(uow, ports, round_id, unit_id):
    """``{unit_id, round_id, last_sealed_at, sealed, added, removed, changed,
    counts: {then, now}, schools, truncated}`` (see docs/confirmation.md); an
    LAO's other-affiliation schools as the round sees them."""
    round_id = as_id(round_id, "round")
    unit = ports.unit(unit_id)
    require_actor(uow.actor).require_read(unit.path, "org unit")
    census = ports.round(round_id).census_date  # it exists
    other_schools = [domain.effective(s, census) for s in ports.other_schools(unit)]
    session = uow.session
    if unit.type not in SEALED_TYPES:
        raise LecError("validation_error", f"a {unit.type} seals no data of its own",
                       {"errors": {"unit_id": ["a school, CDC or LAO"]}})
    row = session.execute(select(seals).where(seals.c.round_id == round_id,
                                              seals.c.unit_id == unit.id)).first()
    lao = unit.type == "lao"
    entries = school_entries(session, round_id, other_schools) if lao else []
    now = (domain.add_counts(*[e["counts"] for e in entries]) if lao
           else learner_counts(session, round_id, [unit.id])[unit.id])
    result = {"unit_id": unit.id, "round_id": round_id, "sealed": bool(row is not None and row.sealed),
              "last_sealed_at": None, "added": [], "removed": [], "changed": [], "schools": [],
              "counts": {"then": None, "now": now}, "truncated": False}
    if row is None or row.last_sealed_at is None:
        return plain(result)
    result["last_sealed_at"] = row.last_sealed_at
    result["counts"]["then"] = domain.counts((row.last_counts or {}).get("by_grade"))
    if lao:
        result["schools"] = _schools(row.last_schools or [], entries)
    else:
        lists = {"added": _added(session, round_id, unit.id),
                 "removed": _removed(session, round_id, unit.id),
                 "changed": _changed(session, round_id, unit.id)}
        for name, items in lists.items():
            result[name] = items[:LIMIT]
            result["truncated"] = result["truncated"] or len(items) > LIMIT
    return plain(result)


def _snapshot_of(round_id, unit_id):
    return and_(S.round_id == round_id, S.unit_id == unit_id)


def _active_here(round_id, unit_id):
    return and_(L.round_id == round_id, L.institution_id == unit_id, L.status == "active")


def _added(session, round_id, unit_id):
    """Active learners the last seal did not hold."""
    sealed = exists().where(_snapshot_of(round_id, unit_id), S.learner_id == L.id)
    rows = session.execute(select(L.id, *[L[f] for f in SHOWN])
                           .where(_active_here(round_id, unit_id), ~sealed)
                           .order_by(L.id).limit(LIMIT + 1))
    return [dict(learner_id=r.id, **{f: r._mapping[f] for f in SHOWN}) for r in rows]


def _removed(session, round_id, unit_id):
    """Learners the last seal held that are not active here now (with why, when removed)."""
    rows = session.execute(
        select(S.learner_id, *[S[f] for f in SHOWN], L.status, L.institution_id, L.removal_reason)
        .select_from(seal_snapshots.outerjoin(learners, L.id == S.learner_id))
        .where(_snapshot_of(round_id, unit_id),
               or_(L.id.is_(None), L.status != "active", L.institution_id != unit_id))
        .order_by(S.learner_id).limit(LIMIT + 1))
    return [dict(learner_id=r.learner_id, **{f: r._mapping[f] for f in SHOWN},
                 removal_reason=r.removal_reason if r.status == "removed" else None) for r in rows]


def _changed(session, round_id, unit_id):
    """Learners active now and at the seal whose compared fields or identity differ."""
    now = [L[f].label(f"now_{f}") for f in COMPARED]
    then = [S[f].label(f"then_{f}") for f in COMPARED]
    id_changed = or_(S.id_kind != L.id_kind, S.id_number != L.id_number).label("id_changed")
    rows = session.execute(
        select(S.learner_id, id_changed, *now, *then)
        .select_from(seal_snapshots.join(learners, L.id == S.learner_id))
        .where(_snapshot_of(round_id, unit_id), _active_here(round_id, unit_id),
               or_(S.id_kind != L.id_kind, S.id_number != L.id_number,
                   *[S[f].is_distinct_from(L[f]) for f in COMPARED]))
        .order_by(S.learner_id).limit(LIMIT + 1))
    items = []
    for r in rows:
        m = r._mapping
        fields = {f: {"before": m[f"then_{f}"], "after": m[f"now_{f}"]}
                  for f in COMPARED if m[f"then_{f}"] != m[f"now_{f}"]}
        items.append({"learner_id": r.learner_id, "first_name": m["now_first_name"],
                      "last_name": m["now_last_name"], "fields": fields,
                      "id_changed": bool(r.id_changed)})
    return items


def _schools(sealed_entries, entries):
    """An LAO's other schools whose headcount differs from the last seal's
    (``before``/``after`` null: the school was not there then / is not now)."""
    before = {int(e["id"]): e for e in sealed_entries}
    after = {int(e["id"]): e for e in entries}
    changed = []
    for school_id in sorted(set(before) | set(after)):
        b, a = before.get(school_id), after.get(school_id)
        then = domain.counts((b["counts"] or {}).get("by_grade")) if b else None
        now = domain.counts((a["counts"] or {}).get("by_grade")) if a else None
        if then != now:
            changed.append({"id": school_id, "code": (a or b).get("code"), "before": then, "after": now})
    return changed
