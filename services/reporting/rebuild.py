"""Rebuilding the read model from the owners, and checking it against them.

``rebuild`` (new deployment, repair) reads the registry's units, the rounds,
every learner fact and headcount from enrollment and the confirmation states,
then, holding the read model's tables against writers (event handlers wait
meanwhile), merges them with what events brought in the meantime (a fact
changed after the rebuild started wins) and recounts every aggregate in SQL.

``check`` compares the counts of every school, CDC and other-affiliation
school with enrollment's live ``counts``, and the confirmation states with
the confirmation service's.

Command line (talks to the running reporting service)::

    python -m services.reporting.rebuild                 # every round
    python -m services.reporting.rebuild --round 12
    python -m services.reporting.rebuild --check --round 12
"""
import argparse
import json
import logging
import sys

from psycopg2.extras import execute_values
from sqlalchemy import select, text

from services.common import settings
from services.common.context import require_actor, system_context
from services.common.errors import LecError, forbidden
from services.common.jsonutil import plain
from services.reporting import domain, handlers, queries, staff
from services.reporting.models import units

log = logging.getLogger(__name__)

PAGE = 20_000          # learner facts per enrollment call
STATE_BATCH = 5_000    # units per confirmation/enrollment call
COUNT_BATCH = 2_000


def require_operator(actor):
    actor = require_actor(actor)
    if not (actor.is_system or actor.role == "department"):
        raise forbidden("only the department rebuilds or checks the reports")


# -- learning a round or unit the events have not brought yet -------------------------

def learn_reference(uow, ports, round_id, unit_id):
    """Fetch the round or the unit from its owner when the read model does not
    know it yet; True when something was learned. An unknown round stays
    ``not_found`` (the rounds service says so)."""
    need_round = round_id is not None and queries.find_round(uow, round_id) is None
    need_unit = unit_id is not None and queries.find_unit(uow, unit_id) is None
    uow.session.rollback()  # no transaction stays open while the owners answer
    if not (need_round or need_unit):
        return False
    round_data = ports.rounds.get_round(int(round_id)) if need_round else None
    found = ports.registry.get_units([int(unit_id)]) if need_unit else []
    if round_data:
        handlers.upsert_round(uow, round_data)
    for unit in found:
        handlers.apply_unit(uow, unit)
    uow.commit()
    return bool(round_data or found)


def read_report(uow, ports, round_id, unit_id, read):
    """``read(uow)``; when the round or the unit is not known yet (its event has
    not arrived), it is fetched from its owner and kept, and the read is tried
    once more (the event may also have come meanwhile)."""
    try:
        return read(uow)
    except LecError as exc:
        if exc.code != "not_found":
            raise
    uow.session.rollback()
    learn_reference(uow, ports, round_id, unit_id)
    return read(uow)


# -- rebuild -----------------------------------------------------------------------------

def _department_id(registry_rpc, root_id=None):
    """The registry's department unit (its id, usually the first unit made)."""
    if root_id:
        return int(root_id)
    unit = next(iter(registry_rpc.get_units([1])), None)
    while unit is not None and unit["type"] != "department" and unit.get("parent_id"):
        unit = next(iter(registry_rpc.get_units([unit["parent_id"]])), None)
    if unit is None or unit["type"] != "department":
        raise LecError("not_found", "the department unit is not unit 1; give its id (root_id)")
    return unit["id"]


def _all_rounds(rounds_rpc):
    items, offset = [], 0
    while True:
        page = rounds_rpc.list_rounds(limit=1000, offset=offset)
        items += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return items


def _pages(call, round_id):
    """The pages of a keyset-paged owner RPC, one at a time."""
    after = 0
    while True:
        page = call(round_id, after_id=after, limit=PAGE)
        yield page["items"]
        after = page.get("next_after")
        if not after:
            return


def rebuild(uow, ports, round_id=None, root_id=None):
    """The whole read model (or one round's part) again from the owners' data,
    one transaction per step."""
    require_operator(uow.actor)
    started = queries.now(uow)
    uow.session.rollback()
    root = _department_id(ports.registry, root_id)
    all_units = ports.registry.get_units([root]) + ports.registry.subtree(root)
    handlers.lock_against_events(uow, handlers.UNIT_TABLES)
    for i in range(0, len(all_units), 5000):
        handlers.upsert_units(uow, all_units[i:i + 5000])
    recount_units(uow)
    uow.commit()
    wanted = _all_rounds(ports.rounds)
    if round_id is not None:
        wanted = [r for r in wanted if r["id"] == int(round_id)]
        if not wanted:
            raise LecError("not_found", "round not found")
    for rnd in wanted:
        handlers.upsert_round(uow, rnd)
    uow.commit()
    unit_by_id = {u["id"]: u for u in all_units}
    confirming = [u["id"] for u in all_units if u["type"] != "other_school"]
    done = []
    for rnd in wanted:
        # one connection for the whole round: its temporary tables live across the
        # commits, and go with it (it is not given back to the pool)
        with uow.session.get_bind().connect() as conn:
            try:
                counts = rebuild_round(conn, rnd["id"], started, unit_by_id, confirming,
                                       ports.enrollment, ports.confirmation)
            finally:
                conn.invalidate()
        # the caregivers and teachers, each fact as its event would
        for page in _pages(ports.enrollment.staff_facts, rnd["id"]):
            staff.apply_staff_facts(uow, rnd["id"], page)
        uow.commit()
        done.append({"round_id": rnd["id"], **counts})
        log.info("rebuilt round %s: %s", rnd["id"], counts)
    return {"units": len(all_units), "rounds": done}


def rebuild_round(conn, round_id, started, unit_by_id, confirming, enrollment_rpc, confirmation_rpc):
    """Stage the owners' snapshot of one round page by page (memory stays that
    of a page), then, with the read model's tables locked against event
    handlers, replace the round's facts with it, keeping what events changed
    after ``started``, and recount."""
    stage = Stage(conn, ("rp_learners", "rp_headcounts", "rp_confirmations"))
    learners = headcount_rows = confirmed = 0
    for page in _pages(enrollment_rpc.learner_facts, round_id):
        learners += stage.add("rp_learners", LEARNER_COLUMNS, [_learner_row(round_id, x) for x in page])
    for page in _pages(enrollment_rpc.headcounts, round_id):
        headcount_rows += stage.add("rp_headcounts", HEADCOUNT_COLUMNS,
                                    [_headcount_row(round_id, h) for h in page])
    for i in range(0, len(confirming), STATE_BATCH):
        states = confirmation_rpc.states(round_id, confirming[i:i + STATE_BATCH])
        rows = [_confirmation_row(round_id, unit_by_id[int(uid)], state, started)
                for uid, state in states.items() if int(uid) in unit_by_id]
        confirmed += sum(1 for r in rows if r[4] == "confirmed")
        stage.add("rp_confirmations", CONFIRMATION_COLUMNS, rows)
    handlers.lock_against_events(conn, handlers.ROUND_TABLES)
    _merge(conn, "rp_learners", "learner_id", LEARNER_COLUMNS, round_id, started)
    _merge(conn, "rp_headcounts", "school_id", HEADCOUNT_COLUMNS, round_id, started)
    _merge(conn, "rp_confirmations", "unit_id", CONFIRMATION_COLUMNS, round_id, started,
           newer=("version", "changed_at"))
    recount(conn, round_id)
    conn.commit()
    return {"learners": learners, "headcounts": headcount_rows, "confirmed": confirmed}


def _learner_row(round_id, learner):
    fact = domain.learner_fact(learner)
    return (round_id, int(learner["id"]), fact["version"], fact["institution_id"], fact["institution_path"],
            fact["grade"], fact["sex"], fact["id_kind"], fact["age"], fact["active"])


def _headcount_row(round_id, h):
    by_grade = {g: int(n) for g, n in (h["counts"].get("by_grade") or {}).items() if int(n)}
    return (round_id, int(h["school"]["id"]), int(h["version"]), int(h["lao_id"]), h["school"]["path"],
            bool(h["school"].get("closed")), json.dumps(by_grade), sum(by_grade.values()))


def _confirmation_row(round_id, unit, state, started):
    """A confirmation state of the owner at its ``version`` (an event with a higher one wins)."""
    confirmed = state.get("state") == "confirmed"
    counts = (state.get("counts") or {}).get("by_grade") or {}
    return (round_id, unit["id"], unit["type"], unit["path"], "confirmed" if confirmed else "open",
            int(state.get("version") or 0), started,
            state.get("confirmed_at") if confirmed else None,
            handlers.username_of(state.get("confirmed_by")) if confirmed else None,
            state.get("confirmed_by_username") if confirmed else None,
            json.dumps(domain.counts_dict(counts)) if confirmed else None,
            json.dumps(plain(state.get("other_schools"))) if confirmed else None, None)


class Stage:
    """Temporary tables (``tmp_<table>``) shaped like the read model's, filled a
    page at a time and committed as they go (cooperatively: COPY cannot run
    under the green-thread wait callback)."""

    def __init__(self, conn, tables):
        self.conn = conn
        for table in tables:
            conn.execute(text(f"CREATE TEMP TABLE tmp_{table} (LIKE {table} INCLUDING DEFAULTS)"))
        conn.commit()

    def add(self, table, columns, rows):
        if rows:
            raw = self.conn.connection  # the driver's own connection, below the Connection's transaction
            with raw.cursor() as cur:
                execute_values(cur, f"INSERT INTO tmp_{table} ({', '.join(columns)}) VALUES %s", rows,
                               page_size=5000)
            raw.commit()
        return len(rows)


LEARNER_COLUMNS = ("round_id", "learner_id", "version", "institution_id", "institution_path", "grade",
                   "sex", "id_kind", "age", "active")
HEADCOUNT_COLUMNS = ("round_id", "school_id", "version", "lao_id", "school_path", "closed", "by_grade", "total")
CONFIRMATION_COLUMNS = ("round_id", "unit_id", "unit_type", "unit_path", "state", "version", "changed_at",
                        "confirmed_at", "confirmed_by", "confirmed_by_username", "counts", "other_schools",
                        "reason")


def _merge(conn, table, key, columns, round_id, started, newer=("version",)):
    """The staged snapshot replaces the round's rows, except those that events
    changed since ``started`` to something newer (``newer``: the columns that
    order a fact's states) than the snapshot's."""
    cols = ", ".join(columns)
    held = ", ".join(f"{table}.{c}" for c in newer)
    staged = ", ".join(f"excluded.{c}" for c in newer)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("round_id", key))
    conn.execute(text(f"""
        DELETE FROM {table} f WHERE f.round_id = :r AND f.updated_at < :started
          AND NOT EXISTS (SELECT 1 FROM tmp_{table} t WHERE t.{key} = f.{key})"""),
                 {"r": round_id, "started": started})
    conn.execute(text(f"""
        INSERT INTO {table} ({cols}) SELECT {cols} FROM tmp_{table}
        ON CONFLICT (round_id, {key}) DO UPDATE SET {updates}, updated_at = now()
        WHERE ROW({held}) <= ROW({staged})"""))


# every unit on a path: the unit itself and each unit above it
ANCESTORS = "CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from {path}), '/')::bigint[]) AS a(unit_id)"

RECOUNT_LEARNERS = f"""
INSERT INTO rp_learner_counts (round_id, unit_id, grade, sex, id_kind, age, n)
SELECT :r, a.unit_id, i.grade, i.sex, i.id_kind, i.age, sum(i.n)
FROM (SELECT institution_path, grade, sex, id_kind, age, count(*) AS n
      FROM rp_learners WHERE round_id = :r AND active
      GROUP BY institution_path, grade, sex, id_kind, age) i
{ANCESTORS.format(path="i.institution_path")}
GROUP BY a.unit_id, i.grade, i.sex, i.id_kind, i.age
"""

RECOUNT_OTHERS = f"""
INSERT INTO rp_other_counts (round_id, unit_id, grade, n)
SELECT :r, a.unit_id, g.key, sum(g.value::int)
FROM rp_headcounts h
CROSS JOIN LATERAL jsonb_each_text(h.by_grade) AS g
{ANCESTORS.format(path="h.school_path")}
WHERE h.round_id = :r
GROUP BY a.unit_id, g.key
HAVING sum(g.value::int) > 0
"""


RECOUNT_TALLY = f"""
INSERT INTO rp_round_tally (round_id, unit_id, type, metric, n)
SELECT :r, a.unit_id, c.unit_type, 'confirmed', count(*)
FROM rp_confirmations c {ANCESTORS.format(path="c.unit_path")}
WHERE c.round_id = :r AND c.state = 'confirmed'
GROUP BY a.unit_id, c.unit_type
UNION ALL
SELECT :r, a.unit_id, 'other_school', 'recorded', count(*)
FROM rp_headcounts h {ANCESTORS.format(path="h.school_path")}
WHERE h.round_id = :r
GROUP BY a.unit_id
UNION ALL
SELECT :r, a.unit_id, 'other_school', 'recorded_closed', count(*)
FROM rp_headcounts h {ANCESTORS.format(path="h.school_path")}
WHERE h.round_id = :r AND h.closed
GROUP BY a.unit_id
"""

RECOUNT_STAFF = f"""
INSERT INTO rp_staff_counts (round_id, unit_id, position, n)
SELECT :r, a.unit_id, s.position, count(*)
FROM rp_staff s {ANCESTORS.format(path="s.institution_path")}
WHERE s.round_id = :r AND s.active
GROUP BY a.unit_id, s.position
"""

RECOUNT_UNITS = f"""
INSERT INTO rp_unit_counts (unit_id, type, n)
SELECT a.unit_id, u.type, count(*)
FROM rp_units u {ANCESTORS.format(path="u.path")}
WHERE u.status <> 'closed'
GROUP BY a.unit_id, u.type
"""


def recount(uow, round_id):
    """Every aggregate of the round, from its facts."""
    for table, sql in (("rp_learner_counts", RECOUNT_LEARNERS), ("rp_other_counts", RECOUNT_OTHERS),
                       ("rp_round_tally", RECOUNT_TALLY), ("rp_staff_counts", RECOUNT_STAFF)):
        uow.execute(text(f"DELETE FROM {table} WHERE round_id = :r"), {"r": round_id})
        uow.execute(text(sql), {"r": round_id})


def recount_units(uow):
    """The unit counts, from the units (with the unit tables locked against event handlers)."""
    uow.execute(text("DELETE FROM rp_unit_counts"))
    uow.execute(text(RECOUNT_UNITS))


# -- check -------------------------------------------------------------------------------------

def check(uow, ports, round_id):
    """Compare every institution's and other school's counts (and the
    confirmation states) with the owners'. ``ok`` is False on any difference."""
    require_operator(uow.actor)
    enrollment_rpc, confirmation_rpc = ports.enrollment, ports.confirmation
    rnd = queries.round_row(uow, round_id)
    members = uow.execute(select(units.c.id, units.c.code, units.c.type, units.c.path)
                          .where(units.c.type.in_(("school", "cdc", "other_school")))
                          .order_by(units.c.id)).all()
    ours = queries.own_counts(uow, rnd.id, [m.id for m in members])
    our_states = queries.confirmation_states(uow, rnd.id)
    uow.session.rollback()
    mismatches, owner_total = [], 0
    for i in range(0, len(members), COUNT_BATCH):
        batch = members[i:i + COUNT_BATCH]
        theirs = enrollment_rpc.counts(rnd.id, [m.id for m in batch])
        for m in batch:
            owner = domain.counts_dict((theirs.get(str(m.id)) or {}).get("by_grade") or {})
            owner_total += owner["total"]
            mine = domain.counts_dict(ours.get(m.id, {}))
            if owner != mine:
                mismatches.append({"unit": {"id": m.id, "code": m.code, "type": m.type},
                                   "reporting": mine, "owner": owner})
    state_mismatches = []
    if confirmation_rpc is not None:
        theirs = {}
        ids = [r.id for r in uow.execute(select(units.c.id).where(units.c.type != "other_school"))]
        uow.session.rollback()
        for i in range(0, len(ids), STATE_BATCH):
            theirs.update(confirmation_rpc.states(rnd.id, ids[i:i + STATE_BATCH]))
        for unit_id in ids:
            owner_state = (theirs.get(str(unit_id)) or {}).get("state", "open")
            mine = our_states.get(unit_id, "open")
            if owner_state != mine:
                state_mismatches.append({"unit_id": unit_id, "reporting": mine, "owner": owner_state})
    return {"round_id": rnd.id, "units_checked": len(members), "owner_total": owner_total,
            "reporting_total": sum(sum(v.values()) for v in ours.values()),
            "mismatches": mismatches, "state_mismatches": state_mismatches,
            "ok": not mismatches and not state_mismatches}


# -- command line --------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description="Rebuild the reporting read model from the owners' "
                                                 "data, or check it against them.")
    parser.add_argument("--round", type=int, help="only this round (required with --check)")
    parser.add_argument("--check", action="store_true", help="compare with the owners; change nothing")
    parser.add_argument("--root", type=int, help="the department unit's id, when it is not 1")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    if args.check and args.round is None:
        parser.error("--check needs --round")
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.rpc import ClassicStandaloneReplyListener
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # an operator's tool: it acts as the system, named
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=args.timeout,
                         context_data=system_context("operator"),
                         reply_listener_cls=ClassicStandaloneReplyListener) as proxy:
        try:
            if args.check:
                result = proxy.reporting.check(args.round)
            else:
                result = proxy.reporting.rebuild(args.round, args.root)
        except LecError as exc:
            print(f"{exc.code}: {exc.description}", file=sys.stderr)
            return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
