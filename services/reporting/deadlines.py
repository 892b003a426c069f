"""Deadlines per level, "who blocks me" and deadline reminders, from the read model.

A unit's deadline is its level's (``rp_rounds.deadlines``: institution for
schools and CDCs, then lao, province) or the latest extension granted to it or
to a unit above it for that level or for every level, whichever is later.

Reminders: a timer (every ``LEC_REMINDERS_INTERVAL`` seconds) records, for each
round open and not finalised, each active school, CDC, LAO and province not
confirmed whose deadline is less than 72, 24 or 3 hours away, one row per
threshold crossed in ``rp_reminders`` (unique per round, unit, deadline and
threshold: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``). Only the rows this
transaction inserted are announced, as ``deadline_approaching`` through the
outbox, and of several thresholds crossed at once only the smallest (the larger
ones are recorded as passed). Replicas share the work (a row inserted by one
waits out or is skipped by the other), a restart sends nothing twice, and an
extension (a new deadline) starts new reminders.
"""
import logging
from collections import defaultdict

from sqlalchemy import select, text, update

from services.common.context import require_actor
from services.common.errors import LecError, forbidden
from services.common.jsonutil import isoformat, plain
from services.common.validation import as_id, page
from services.reporting import domain, handlers, queries
from services.reporting.models import reminders, rounds, units
from services.reporting.rebuild import read_report

log = logging.getLogger(__name__)

LEVEL_OF = "CASE WHEN u.type IN ('school', 'cdc') THEN 'institution' ELSE u.type END"

# (round, unit, level, base deadline, latest extension, deadline) of each active
# unit that confirms (province, LAO, school, CDC) and is not confirmed, for the
# rounds and units the caller's conditions select
_OPEN_UNITS = f"""
    SELECT r.id AS round_id, u.id AS unit_id, u.code, u.name, u.type, u.parent_id, u.path,
           {LEVEL_OF} AS level,
           CAST(r.deadlines ->> ({LEVEL_OF}) AS timestamptz) AS base,
           (SELECT max(e.closes_at) FROM rp_extensions e
            WHERE e.round_id = r.id AND u.path LIKE e.org_unit_path || '%'
              AND (e.level IS NULL OR e.level = {LEVEL_OF})) AS ext
    FROM rp_rounds r
    JOIN rp_units u ON u.status = 'active' AND u.type IN ('province', 'lao', 'school', 'cdc')
    LEFT JOIN rp_confirmations c ON c.round_id = r.id AND c.unit_id = u.id
    WHERE c.state IS DISTINCT FROM 'confirmed' AND {{rounds}} AND {{units}}"""


def _open_units(rounds_cond, units_cond):
    return f"""
    SELECT o.*, greatest(o.base, o.ext) AS deadline, coalesce(o.ext > o.base, false) AS extended
    FROM ({_OPEN_UNITS.format(rounds=rounds_cond, units=units_cond)}) o"""


_BLOCKERS = text(f"""
    SELECT b.*, count(*) OVER () AS total, now() AS at
    FROM ({_open_units("r.id = :round_id", "u.path LIKE :prefix AND u.id <> :unit_id")}) b
    ORDER BY b.deadline NULLS LAST, b.path
    LIMIT :limit OFFSET :offset""")

_CHILDREN = text("""
    SELECT u.parent_id, count(*) AS total, count(c.unit_id) FILTER (WHERE c.state = 'confirmed') AS confirmed
    FROM rp_units u
    LEFT JOIN rp_confirmations c ON c.round_id = :round_id AND c.unit_id = u.id
    WHERE u.parent_id = ANY(:ids) AND u.status = 'active' AND u.type IN ('province', 'lao', 'school', 'cdc')
    GROUP BY u.parent_id""")


def blockers_page(uow, round_id, unit_id, limit=None, offset=None):
    """The read model's half of "who blocks me": the page of units under
    ``unit_id`` not confirmed (soonest deadline first), without the owners'
    counts and contacts (the service adds them for this page only)."""
    require_actor(uow.actor)
    limit, offset = page(limit, offset)
    rnd = queries.round_row(uow, round_id)
    unit = queries.readable_unit(uow, unit_id)
    if unit.type not in ("department", "province", "lao"):
        raise forbidden("only the department, a province or an LAO waits for units beneath it")
    rows = uow.execute(_BLOCKERS, {"round_id": rnd.id, "prefix": unit.path + "%", "unit_id": unit.id,
                                       "limit": limit, "offset": offset}).all()
    at = rows[0].at if rows else queries.now(uow)
    parents = [r.unit_id for r in rows if r.type in ("province", "lao")]
    children = {}
    if parents:
        children = {r.parent_id: {"total": int(r.total), "confirmed": int(r.confirmed)}
                    for r in uow.execute(_CHILDREN, {"round_id": rnd.id, "ids": parents})}
    items = []
    for r in rows:
        seconds = (r.deadline - at).total_seconds() if r.deadline is not None else None
        item = {
            "unit": {"id": r.unit_id, "code": r.code, "name": r.name, "type": r.type, "parent_id": r.parent_id,
                     "path": r.path},
            "level": r.level, "state": "open",
            "deadline": isoformat(r.deadline), "extended": bool(r.extended),
            "seconds_left": None if seconds is None else int(seconds),
            "overdue": seconds is not None and seconds < 0,
        }
        if r.type in ("province", "lao"):
            item["children"] = children.get(r.unit_id, {"total": 0, "confirmed": 0})
        items.append(item)
    total = int(rows[0].total) if rows else _count(uow, rnd.id, unit)
    return {"round": queries.round_brief(rnd, at), "org_unit": queries.unit_brief(unit),
            "at": isoformat(at), "items": items, "total": total, "limit": limit, "offset": offset}


def blockers(uow, ports, round_id, unit_id, limit=None, offset=None):
    """The units under ``unit_id`` whose confirmation it still waits for, soonest
    deadline first, each with its checks (institutions), its open requests and
    its accounts' names (asked of their owners for this page only). What an
    owner could not answer is named in ``unavailable``: never a silent zero."""
    report = read_report(uow, ports, round_id, unit_id,
                         lambda u: blockers_page(u, round_id, unit_id, limit, offset))
    uow.session.rollback()  # no transaction stays open while the owners answer
    items = report["items"]
    ids = [item["unit"]["id"] for item in items]
    report["unavailable"] = []
    if not ids:
        return report
    institutions = [item["unit"]["id"] for item in items if item["level"] == "institution"]
    rid = report["round"]["id"]
    answers = ports.ask_optional({
        "checks": (ports.enrollment.check_tallies, (rid, institutions)) if institutions else None,
        "transfers": (ports.enrollment.transfer_counts, (rid, ids)),
        "revocations": (ports.confirmation.revocation_request_counts, (rid, ids)),
        "contacts": (ports.registry.contacts, (ids,)),
    })
    report["unavailable"] = [key for key, answer in answers.items() if answer is None]
    found = {key: answers.get(key) or {} for key in ("checks", "transfers", "revocations", "contacts")}
    for item in items:
        key = str(item["unit"]["id"])
        if item["level"] == "institution":
            tally = found["checks"].get(key) or {}
            item["checks"] = {k: int(tally.get(k) or 0) for k in ("errors", "queries", "unexplained")}
        item["requests"] = {"transfers": int(found["transfers"].get(key) or 0),
                            "revocations": int(found["revocations"].get(key) or 0)}
        item["contacts"] = found["contacts"].get(key) or []
    return report


_COUNT = text(f"""
    SELECT count(*) FROM ({_open_units("r.id = :round_id", "u.path LIKE :prefix AND u.id <> :unit_id")}) b""")


def _count(uow, round_id, unit):
    """The total when the page asked for is past the end."""
    return uow.execute(_COUNT, {"round_id": round_id, "prefix": unit.path + "%",
                                    "unit_id": unit.id}).scalar_one()


# -- reminders ----------------------------------------------------------------------------------

_DUE = text(f"""
    WITH due AS (
        SELECT d.round_id, d.unit_id, d.level, d.deadline
        FROM ({_open_units("r.finalized_at IS NULL AND r.opens_at <= now() AND r.extensions_known", "true")}) d
        WHERE d.deadline > now() AND d.deadline - make_interval(hours => :most) <= now()
    )
    INSERT INTO rp_reminders (round_id, unit_id, deadline, hours, level, emitted)
    SELECT due.round_id, due.unit_id, due.deadline, h.hours, due.level, false
    FROM due CROSS JOIN unnest(CAST(:hours AS int[])) AS h(hours)
    WHERE due.deadline - make_interval(hours => h.hours) <= now()
    ORDER BY due.round_id, due.unit_id, due.deadline, h.hours
    ON CONFLICT DO NOTHING
    RETURNING round_id, unit_id, deadline, hours, level""")


def rounds_missing_extensions(uow):
    """Rounds not finalised whose extensions have not been read from the rounds service."""
    return uow.execute(select(rounds.c.id).where(rounds.c.finalized_at.is_(None),
                                                     rounds.c.extensions_known.is_(False))).scalars().all()


def send_reminders(uow, ports):
    """The reminders' tick: first the extensions of the rounds not read yet from
    the rounds service (a round it does not know has none; a round whose list
    is unavailable waits for the next tick), then :func:`remind`."""
    missing = rounds_missing_extensions(uow)
    uow.session.rollback()
    for round_id in missing:
        try:
            items = ports.rounds.list_extensions(round_id)["items"]
        except LecError as exc:
            if exc.code != "not_found":
                log.warning("extensions of round %s unavailable: %s", round_id, exc)
                continue
            log.warning("round %s is unknown to the rounds service; no extensions", round_id)
            items = []
        handlers.learn_extensions(uow, round_id, items)
        uow.commit()
    return remind(uow)


def remind(uow, hours=domain.REMINDER_HOURS):
    """One tick: record the reminders now due and announce the new ones; returns
    the events emitted."""
    inserted = uow.execute(_DUE, {"hours": list(hours), "most": max(hours)}).all()
    if not inserted:
        uow.commit()
        return []
    smallest = {}
    for row in inserted:
        key = (row.round_id, row.unit_id, row.deadline)
        if key not in smallest or row.hours < smallest[key].hours:
            smallest[key] = row
    chosen = sorted(smallest.values(), key=lambda r: (r.round_id, r.unit_id, r.deadline))
    round_rows = {r.id: r for r in uow.execute(select(rounds).where(
        rounds.c.id.in_(sorted({r.round_id for r in chosen}))))}
    unit_rows = {u.id: u for u in uow.execute(select(units).where(
        units.c.id.in_(sorted({r.unit_id for r in chosen}))))}
    bodies = []
    for row in chosen:
        rnd, unit = round_rows[row.round_id], unit_rows[row.unit_id]
        bodies.append({
            "round": {"id": rnd.id, "academic_year": rnd.academic_year, "number": rnd.number},
            "org_unit": {"id": unit.id, "code": unit.code, "name": unit.name, "type": unit.type,
                         "path": unit.path},
            "level": row.level, "deadline": isoformat(row.deadline), "hours_before": row.hours,
        })
    events = uow.emit_many("deadline_approaching", bodies, include_actor=False)
    for row, event in zip(chosen, events):
        uow.execute(update(reminders).where(
            reminders.c.round_id == row.round_id, reminders.c.unit_id == row.unit_id,
            reminders.c.deadline == row.deadline, reminders.c.hours == row.hours)
            .values(emitted=True, event_id=event["event_id"]))
    by_round = defaultdict(int)
    for row in chosen:
        by_round[row.round_id] += 1
    for round_id, n in sorted(by_round.items()):
        uow.audit("remind", "round", round_id, {"reminders": n, "recorded": sum(
            1 for r in inserted if r.round_id == round_id)})
    uow.commit()
    return events


# -- notices: the reminders of a unit, its deadline not past -------------------------------------

_UNIT_REMINDERS = text(f"""
    SELECT m.round_id, m.unit_id, m.deadline, m.hours, m.level, m.created_at, m.event_id,
           r.academic_year, r.number
    FROM rp_reminders m
    JOIN rp_rounds r ON r.id = m.round_id
    JOIN ({_open_units("r.finalized_at IS NULL AND (CAST(:round_id AS bigint) IS NULL OR r.id = :round_id)",
                       "u.id = :unit_id")}) d
      ON d.round_id = m.round_id AND d.unit_id = m.unit_id AND d.deadline = m.deadline
    WHERE m.unit_id = :unit_id AND m.emitted AND m.deadline > now()
      AND (CAST(:round_id AS bigint) IS NULL OR m.round_id = :round_id)
    ORDER BY m.created_at DESC""")


def unit_reminders(uow, round_id=None):
    """The reminders sent to the acting user's unit about its current deadline
    (not yet passed, the unit still not confirmed), as notices."""
    actor = require_actor(uow.actor)
    if actor.is_system or not actor.org_unit_id:
        return []
    rid = None if round_id in (None, "") else as_id(round_id, "round_id")
    rows = uow.execute(_UNIT_REMINDERS, {"round_id": rid, "unit_id": int(actor.org_unit_id)}).all()
    return [plain({"kind": "deadline", "round_id": r.round_id, "unit_id": r.unit_id, "at": isoformat(r.created_at),
                   "level": r.level, "deadline": isoformat(r.deadline), "hours_before": r.hours,
                   "round": {"id": r.round_id, "academic_year": r.academic_year, "number": r.number},
                   "event_id": r.event_id})
            for r in rows]
