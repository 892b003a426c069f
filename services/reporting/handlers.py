"""Applying the owners' events to the read model.

Each function runs inside the unit of work of ``services.common.inbox`` (which
has already made sure the event is applied once). Facts carry their owner's
version: an event older than the fact already stored changes nothing, so
redelivered and out-of-order events leave the same result. The aggregates
move by the difference between the old and the new fact, on the unit and on
every unit above it.
"""
import datetime as dt
import logging

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.db import array_literal
from services.common.jsonutil import plain
from services.common.validation import load
from services.reporting import domain
from services.reporting.models import (
    confirmations, extensions, headcounts, learners, other_counts, round_tally, rounds,
    unit_counts, units,
)
from services.reporting.schemas import (
    ConfirmationEvent, Extension, ExtensionGranted, HeadcountEvent, LearnerEvent, LearnersAdded, RoundEvent,
    UnitChanged,
)

log = logging.getLogger(__name__)

# A rebuild locks these tables against writers (in this order, the order in
# which every event handler writes them): events wait while it runs.
UNIT_TABLES = ("rp_units", "rp_unit_counts")
ROUND_TABLES = ("rp_learners", "rp_learner_counts", "rp_headcounts", "rp_other_counts", "rp_confirmations",
                "rp_round_tally", "rp_staff", "rp_staff_counts")


def lock_against_events(uow, tables):
    uow.execute(text(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE"))


def store_fact(uow, table, key, fact, newer, held_likely=False):
    """Store ``fact`` at ``key`` unless the row held is at least as new
    (``newer(held_row, fact)`` says). Returns ``(stored, held row or None)``:
    the held row is what the aggregates move away from. ``held_likely`` (a change
    of something the model holds already): the row is looked for before the insert
    is tried, which saves the failed insert's round trip."""
    where = [table.c[k] == v for k, v in key.items()]
    held = None
    if held_likely:
        held = uow.execute(select(table).where(*where).with_for_update()).first()
    if held is None:
        inserted = uow.execute(pg_insert(table).values(**key, **fact).on_conflict_do_nothing()
                               .returning(*[table.c[k] for k in key])).first()
        if inserted is not None:
            return True, None
        held = uow.execute(select(table).where(*where).with_for_update()).one()
    if not newer(held, fact):
        return False, held
    values = dict(fact, updated_at=func.now()) if "updated_at" in table.c else fact
    uow.execute(update(table).where(*where).values(**values))
    return True, held


def by_version(held, fact):
    return domain.is_newer(held.version, fact["version"])


# -- reference data ---------------------------------------------------------------

UNIT_COLUMNS = ("code", "name", "type", "parent_id", "path", "depth", "status", "affiliation",
                "closed_on", "version")


def _unit_row(unit):
    row = {"id": int(unit["id"]), **{k: unit.get(k) for k in UNIT_COLUMNS}}
    row["version"] = int(row["version"] or 1)
    if isinstance(row["closed_on"], str):
        row["closed_on"] = dt.date.fromisoformat(row["closed_on"])
    return row


def apply_unit(uow, unit):
    """A registry record: stored if newer than the one held, and the unit
    counts of every unit on its path moved accordingly."""
    row = _unit_row(unit)
    fact = {k: row[k] for k in UNIT_COLUMNS}
    stored, held = store_fact(uow, units, {"id": row["id"]}, fact, by_version)
    if stored:
        old = {"type": held.type, "path": held.path, "status": held.status} if held is not None else None
        move_counts(uow, unit_counts, ("unit_id", "type"), {}, domain.unit_count_deltas(old, fact))
    return stored


def upsert_units(uow, unit_dicts):
    """Many registry records at once (a rebuild: it recounts the unit counts after)."""
    rows = [_unit_row(u) for u in unit_dicts]
    if not rows:
        return 0
    stmt = pg_insert(units).values(sorted(rows, key=lambda r: r["id"]))
    stmt = stmt.on_conflict_do_update(
        index_elements=[units.c.id],
        set_={k: stmt.excluded[k] for k in UNIT_COLUMNS},
        where=units.c.version < stmt.excluded.version,
    )
    return uow.execute(stmt).rowcount


def apply_unit_changed(uow, event):
    return apply_unit(uow, load(UnitChanged(), event)["unit"])


ROUND_COLUMNS = ("academic_year", "number", "census_date", "opens_at", "closes_at", "finalized_at",
                 "settings", "version", "deadlines")


def upsert_round(uow, round_data):
    data = load(RoundEvent(), {"round": round_data})["round"]
    row = {"id": data["id"], **{k: data.get(k) for k in ROUND_COLUMNS}}
    row["settings"] = plain(row["settings"])
    row["deadlines"] = plain(domain.level_deadlines(data["closes_at"], data.get("deadlines")))
    stmt = pg_insert(rounds).values(row)
    set_ = {k: stmt.excluded[k] for k in ROUND_COLUMNS}
    set_["finalized_at"] = func.coalesce(rounds.c.finalized_at, stmt.excluded.finalized_at)
    stmt = stmt.on_conflict_do_update(index_elements=[rounds.c.id], set_=set_,
                                      where=rounds.c.version <= stmt.excluded.version)
    return uow.execute(stmt).rowcount


def apply_round_event(uow, event):
    return upsert_round(uow, event.get("round"))


def apply_extension(uow, round_id, extension):
    """An extension granted (or learned): stored by the rounds service's id; a
    later grant of the same row (a new deadline) replaces it."""
    ext = load(Extension(), extension)
    row = {"id": ext["id"], "round_id": int(ext.get("round_id") or round_id),
           **{k: ext[k] for k in ("org_unit_id", "org_unit_path", "level", "closes_at", "automatic",
                                  "created_at")}}
    stmt = pg_insert(extensions).values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[extensions.c.id],
        set_={k: stmt.excluded[k] for k in row if k != "id"},
        where=func.coalesce(extensions.c.created_at, stmt.excluded.created_at)
        <= func.coalesce(stmt.excluded.created_at, extensions.c.created_at))
    return uow.execute(stmt).rowcount


def apply_extension_granted(uow, event):
    data = load(ExtensionGranted(), event)
    return apply_extension(uow, data["round_id"], event["extension"])


def learn_extensions(uow, round_id, items):
    """The round's extensions as the rounds service lists them (the round is then
    known to hold them all: later ones come as events)."""
    for item in items:
        apply_extension(uow, round_id, dict(item, round_id=round_id))
    uow.execute(update(rounds).where(rounds.c.id == round_id).values(extensions_known=True))


def finalize_round(uow, round_id, at):
    """The department confirmed: the round is final (the first time counts)."""
    return uow.execute(update(rounds).where(rounds.c.id == round_id, rounds.c.finalized_at.is_(None))
                       .values(finalized_at=at)).rowcount


def round_known(uow, round_id):
    return uow.execute(select(rounds.c.id).where(rounds.c.id == round_id)).first() is not None


# -- learners ---------------------------------------------------------------------

FACT_COLUMNS = ("version", "institution_id", "institution_path", "grade", "sex", "id_kind", "age", "active")


def _fact(row):
    return {k: getattr(row, k) for k in FACT_COLUMNS}


def apply_learner_event(uow, event):
    """One learner's event: applied as a batch of one (:func:`apply_learner_batch`)."""
    data = load(LearnerEvent(), event)
    fact = dict(domain.learner_fact(data["learner"]), learner_id=data["learner"]["id"])
    return apply_learner_batch(uow, data["round_id"], [fact],
                               held_likely=event.get("type") != "learner_added") > 0


# -- learners, one or many: facts stored by version, counts moved set-based ----------------

# (column, array type) of a learner fact as the statements below unnest it
BATCH_COLUMNS = (("learner_id", "bigint"), ("version", "int"), ("institution_id", "bigint"),
                 ("institution_path", "text"), ("grade", "text"), ("sex", "text"), ("id_kind", "text"),
                 ("age", "smallint"), ("active", "boolean"))
_NAMES = ", ".join(c for c, _ in BATCH_COLUMNS)
_FACTS = ("unnest(" + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in BATCH_COLUMNS) + f") AS i({_NAMES})")

# the key of a count, and the order in which every statement below writes counts (the
# deepest units first, then by key in code-point order), so that no two events wait on
# each other in a cycle
_COUNT_KEY = "a.unit_id, d.grade, d.sex, d.id_kind, d.age"
_COUNT_ORDER = 'a.depth DESC, a.unit_id, d.grade COLLATE "C", d.sex COLLATE "C", d.id_kind COLLATE "C", d.age'
_UNITS_ON_PATH = ("CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from d.path), '/')::bigint[]) "
                  "WITH ORDINALITY AS a(unit_id, depth)")


def _move_into_counts(deltas):
    """``INSERT`` of summed ``deltas`` (a query of round_id, the key and n) into the counts."""
    return (f"INSERT INTO rp_learner_counts (round_id, unit_id, grade, sex, id_kind, age, n) {deltas} "
            "ON CONFLICT (round_id, unit_id, grade, sex, id_kind, age) "
            "DO UPDATE SET n = rp_learner_counts.n + excluded.n")


# ``domain.signed_learner_deltas`` in SQL: the signed facts' counts (``:d_*`` arrays)
# summed per (unit, key) for every unit on their paths
SUMMED_LEARNER_DELTAS = f"""
    SELECT :round_id AS round_id, {_COUNT_KEY}, sum(d.n)::int AS n
    FROM unnest(CAST(:d_path AS text[]), CAST(:d_grade AS text[]), CAST(:d_sex AS text[]),
                CAST(:d_id_kind AS text[]), CAST(:d_age AS smallint[]), CAST(:d_n AS int[]))
         AS d(path, grade, sex, id_kind, age, n)
    {_UNITS_ON_PATH}
    GROUP BY a.depth, {_COUNT_KEY}
    HAVING sum(d.n) <> 0
    ORDER BY {_COUNT_ORDER}"""

# the new facts' counts, from the rows just inserted, when they are every fact given
_INSERTED_DELTAS = f"""
    SELECT :round_id AS round_id, {_COUNT_KEY}, count(*)::int AS n
    FROM (SELECT institution_path AS path, grade, sex, id_kind, age FROM inserted
          WHERE active AND (SELECT count(*) FROM inserted) = :facts) AS d
    {_UNITS_ON_PATH}
    GROUP BY a.depth, {_COUNT_KEY}
    ORDER BY {_COUNT_ORDER}"""

# learners the read model does not hold yet, inserted; when that is every fact given
# (``:facts``), their counts move in the same statement. A learner held already (or being
# stored by a concurrent event, which this waits for) is left to the statements below.
_INSERT_NEW_LEARNERS = text(f"""
    WITH inserted AS (
        INSERT INTO rp_learners (round_id, {_NAMES})
        SELECT :round_id, {_NAMES} FROM {_FACTS} ORDER BY i.learner_id
        ON CONFLICT (round_id, learner_id) DO NOTHING
        RETURNING learner_id, institution_path, grade, sex, id_kind, age, active),
    counted AS ({_move_into_counts(_INSERTED_DELTAS)})
    SELECT learner_id FROM inserted""")

# the held facts an older version holds, replaced, and the counts moved from the old
# facts to the new (``:d_*``), in one statement
_UPDATE_LEARNERS_AND_COUNTS = text(f"""
    WITH updated AS (
        UPDATE rp_learners l SET {", ".join(f"{c} = i.{c}" for c, _ in BATCH_COLUMNS[1:])}, updated_at = now()
        FROM {_FACTS}
        WHERE l.round_id = :round_id AND l.learner_id = i.learner_id AND l.version < i.version)
    {_move_into_counts(SUMMED_LEARNER_DELTAS)}""")


def signed_fact_arrays(round_id, signed):
    """The parameters of ``SUMMED_LEARNER_DELTAS``: ``signed`` is ``[(fact, +1 | -1)]``
    (a learner who is not active counts nowhere)."""
    signed = [(f, n) for f, n in signed if f["active"]]
    return {"round_id": round_id, "d_path": array_literal([f["institution_path"] for f, _ in signed]),
            **{f"d_{k}": array_literal([f[k] for f, _ in signed]) for k in ("grade", "sex", "id_kind", "age")},
            "d_n": array_literal([n for _, n in signed])}


def apply_learners_added(uow, event):
    data = load(LearnersAdded(), event)
    facts = {}
    for learner in data["learners"]:
        fact = dict(domain.learner_fact(learner), learner_id=learner["id"])
        held = facts.get(fact["learner_id"])
        if held is None or domain.is_newer(held["version"], fact["version"]):
            facts[fact["learner_id"]] = fact
    return apply_learner_batch(uow, data["round_id"], [facts[k] for k in sorted(facts)])


def _arrays(facts):
    """The facts' columns, each one array literal (read whole by the server)."""
    return {c: array_literal([f[c] for f in facts]) for c, _ in BATCH_COLUMNS}


# built once (every learner's change runs it)
_HELD = (select(learners).where(learners.c.round_id == bindparam("round_id"),
                                learners.c.learner_id.in_(bindparam("ids", expanding=True)))
         .order_by(learners.c.learner_id).with_for_update())


def _held(uow, round_id, facts):
    """The rows held for ``facts``' learners, locked in id order."""
    if not facts:
        return {}
    return {r.learner_id: r for r in uow.execute(
        _HELD, {"round_id": round_id, "ids": [f["learner_id"] for f in facts]})}


def apply_learner_batch(uow, round_id, facts, held_likely=False):
    """Store learner facts (distinct learners, in id order): a fact replaces the held
    one only when its version is higher, and the counts move from the old facts to
    the new. New learners cost one statement (the insert moves their counts); held
    ones are locked in id order, then replaced and their counts moved in one more.
    ``held_likely`` (changes of learners held already): the held rows are looked for
    first. Returns how many facts were stored."""
    if not facts:
        return 0
    inserted = set()
    if held_likely:
        held = _held(uow, round_id, facts)
        if len(held) < len(facts):  # some are new after all (their first event comes later)
            return apply_learner_batch(uow, round_id, facts)
    else:
        inserted = set(uow.execute(_INSERT_NEW_LEARNERS, dict(_arrays(facts), round_id=round_id,
                                                              facts=len(facts))).scalars())
        if len(inserted) == len(facts):
            return len(inserted)
        held = _held(uow, round_id, [f for f in facts if f["learner_id"] not in inserted])
    newer = [f for f in facts if f["learner_id"] in held
             and domain.is_newer(held[f["learner_id"]].version, f["version"])]
    signed = [(f, 1) for f in facts if f["learner_id"] in inserted]
    for f in newer:
        signed += [(_fact(held[f["learner_id"]]), -1), (f, 1)]
    if newer or signed:
        uow.execute(_UPDATE_LEARNERS_AND_COUNTS,
                    dict(_arrays(newer), **signed_fact_arrays(round_id, signed)))
    return len(inserted) + len(newer)


LEARNER_KEY = ("unit_id", "grade", "sex", "id_kind", "age")
OTHER_KEY = ("unit_id", "grade")
TALLY_KEY = ("unit_id", "type", "metric")


def move_counts(uow, table, key_names, fixed, deltas):
    """Add ``deltas`` ({key tuple: change}) to the ``n`` of an aggregate table
    (``fixed``: the columns every row shares, such as the round), in one upsert.

    Rows are written in the order of ``deltas`` (``domain.path_deltas``: the
    deepest units first, the department last), the same for every event: no two
    events wait on each other in a cycle, and the rows every event shares are
    held for the shortest time. A count below zero, or a decrement of a count
    that does not exist, is refused by the table's trigger: an impossible
    history fails loudly."""
    if not deltas:
        return
    stmt = pg_insert(table).values([dict(zip(key_names, key), **fixed, n=change)
                                    for key, change in deltas.items()])
    uow.execute(stmt.on_conflict_do_update(index_elements=[*fixed, *key_names],
                                           set_={"n": table.c.n + stmt.excluded.n}))


# -- other-affiliation schools ---------------------------------------------------------

def apply_headcount_event(uow, event):
    data = load(HeadcountEvent(), event)
    school = data["school"]
    by_grade = {g: n for g, n in data["counts"]["by_grade"].items() if n}
    fact = {"version": data["version"], "lao_id": data["lao_id"], "school_path": school["path"],
            "closed": bool(school["closed"]), "by_grade": by_grade, "total": sum(by_grade.values())}
    return apply_headcount(uow, data["round_id"], school["id"], fact)


def apply_headcount(uow, round_id, school_id, fact):
    stored, held = store_fact(uow, headcounts, {"round_id": round_id, "school_id": school_id}, fact,
                              by_version)
    if stored:
        old = {"school_path": held.school_path, "by_grade": held.by_grade, "closed": held.closed} \
            if held is not None else None
        fixed = {"round_id": round_id}
        move_counts(uow, other_counts, OTHER_KEY, fixed, domain.headcount_deltas(old, fact))
        move_counts(uow, round_tally, TALLY_KEY, fixed, domain.headcount_tally_deltas(old, fact))
    return stored


# -- confirmations ---------------------------------------------------------------------

def username_of(who, actor=None):
    """``confirmed_by`` may be a name or a user record; the event's actor stands in."""
    if isinstance(who, dict):
        who = who.get("username") or who.get("user_id")
    if who is None and isinstance(actor, dict):
        who = actor.get("username")
    return None if who is None else str(who)


def confirmation_fact(event, state):
    data = load(ConfirmationEvent(), event)
    unit = data["org_unit"]
    confirmed = state == "confirmed"
    counts = data.get("counts") or {}
    return data["round"]["id"], {
        "unit_id": unit["id"],
        "unit_type": unit["type"],
        "unit_path": unit["path"],
        "state": state,
        "version": data.get("confirmation_version") or 0,
        "changed_at": data["occurred_at"],
        "confirmed_at": (data.get("confirmed_at") or data["occurred_at"]) if confirmed else None,
        "confirmed_by": username_of(data.get("confirmed_by"), data.get("actor")) if confirmed else None,
        "confirmed_by_username": data.get("confirmed_by_username") if confirmed else None,
        "counts": domain.counts_dict(counts.get("by_grade") or {}) if confirmed and counts else None,
        "other_schools": plain(data.get("other_schools")) if confirmed else None,
        "reason": data.get("reason"),
    }


def apply_confirmation_event(uow, event, state):
    round_id, fact = confirmation_fact(event, state)
    return apply_confirmation(uow, round_id, fact)


def by_confirmation_version(held, fact):
    """A unit's confirmation events are ordered by their ``confirmation_version``
    (the confirmation service's version of the unit's row, higher on every
    confirm and revoke), not by the clocks that stamped them. Events from before
    they carried one (version 0) fall back on ``occurred_at`` among themselves."""
    return (held.version, held.changed_at) < (fact["version"], fact["changed_at"])


def apply_confirmation(uow, round_id, fact):
    """The unit's state after its newest confirmation event."""
    fact = dict(fact)
    key = {"round_id": round_id, "unit_id": fact.pop("unit_id")}
    if fact["state"] == "confirmed":
        # what the unit last confirmed: a revocation (which carries no counts) keeps it
        fact["last_counts"] = {"version": fact["version"], "counts": fact["counts"],
                               "other_schools": fact["other_schools"]}
    stored, held = store_fact(uow, confirmations, key, fact, by_confirmation_version)
    if stored:
        old = {"unit_type": held.unit_type, "unit_path": held.unit_path, "state": held.state} \
            if held is not None else None
        move_counts(uow, round_tally, TALLY_KEY, {"round_id": round_id}, domain.confirmed_deltas(old, fact))
    elif "last_counts" in fact and (held.last_counts or {}).get("version", -1) < fact["version"]:
        # a confirmation that arrives after its own revocation is still the last one confirmed
        uow.execute(update(confirmations).where(*[confirmations.c[k] == v for k, v in key.items()])
                    .values(last_counts=fact["last_counts"]))
    return stored


def apply_finalized_event(uow, event):
    """``round_finalized``: the department confirmed, so the round is final."""
    round_id, fact = confirmation_fact(event, "confirmed")
    apply_confirmation(uow, round_id, fact)
    finalize_round(uow, round_id, fact["changed_at"])
    return round_id


def apply_round_finalized(uow, ports, event):
    """The department confirmed the round; a round the events have not brought
    yet is fetched from the rounds service first."""
    round_id = apply_finalized_event(uow, event)
    if not round_known(uow, round_id):
        upsert_round(uow, ports.rounds.get_round(round_id))
        apply_finalized_event(uow, event)
