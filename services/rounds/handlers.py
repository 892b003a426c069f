"""Rounds use cases: create, read, change the deadlines, extensions, windows
per level, the automatic extension after a revocation, and the timer that
announces openings and closings."""
import datetime as dt

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.common.context import require_actor
from services.common.errors import conflict, forbidden, not_found, validation_error
from services.common.hierarchy import is_ancestor_or_self
from services.common.jsonutil import plain
from services.common.round_settings import requests_of
from services.common.rounds_calendar import deadlines, effective_closes_at, state_at, window
from services.common.validation import load, page
from services.common.values import Unit
from services.common.vocabulary import LEVELS
from services.rounds import domain
from services.rounds.models import EVERY_LEVEL, extensions, rounds
from services.rounds.schemas import ExtensionCreate, RoundCreate, RoundUpdate

ROUND_FIELDS = ("id", "academic_year", "number", "census_date", "opens_at", "closes_at", "settings",
                "finalized_at", "created_at", "version")


def _now(uow):
    return uow.execute(select(func.now())).scalar_one()


# the override column of each level above the institutions (NULL: the default)
DEADLINE_COLUMNS = {"lao": "lao_closes_at", "province": "province_closes_at",
                    "department": "department_closes_at"}


def effective_deadlines(row):
    m = row._mapping
    return deadlines(m["closes_at"], **{level: m[col] for level, col in DEADLINE_COLUMNS.items()})


def round_dict(row, now):
    m = row._mapping
    data = {k: m[k] for k in ROUND_FIELDS}
    data["settings"] = dict(data["settings"] or {}, requests=requests_of(data["settings"]))
    data["deadlines"] = effective_deadlines(row)
    data["state"] = state_at(m["opens_at"], m["closes_at"], m["finalized_at"], now)
    return plain(data)


def ext_dict(row):
    data = dict(row._mapping)
    if data.get("level") == EVERY_LEVEL:
        data["level"] = None
    return plain(data)


def _deadline_values(given):
    """The override columns for the levels named in a ``deadlines`` body."""
    return {DEADLINE_COLUMNS[level]: at for level, at in (given or {}).items()}


def _round_row(uow, round_id, lock=False):
    try:
        round_id = int(round_id)
    except (TypeError, ValueError):
        raise not_found("round")
    stmt = select(rounds).where(rounds.c.id == round_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.execute(stmt).first()
    if row is None:
        raise not_found("round")
    return row


def _require_department(uow):
    actor = require_actor(uow.actor)
    if not (actor.is_system or actor.role == "department"):
        raise forbidden("only the department manages rounds")
    return actor


def create_round(uow, data):
    actor = _require_department(uow)
    data = load(RoundCreate(), data)
    try:
        with uow.session.begin_nested():
            round_id = uow.execute(insert(rounds).values(
                academic_year=data["academic_year"], number=data["number"],
                census_date=data["census_date"], opens_at=data["opens_at"],
                closes_at=data["closes_at"], settings=plain(data["settings"]),
                **_deadline_values(data.get("deadlines")),
                created_by=actor.user_id or None,
            ).returning(rounds.c.id)).scalar_one()
    except IntegrityError:
        raise conflict(f"round {data['number']} of academic year {data['academic_year']} exists")
    row = _round_row(uow, round_id)
    result = round_dict(row, _now(uow))
    uow.audit("create", "round", round_id, {k: result[k] for k in (
        "academic_year", "number", "census_date", "opens_at", "closes_at", "deadlines")})
    uow.emit("round_created", {"round": result})
    uow.commit()
    return result


def update_round(uow, round_id, data):
    _require_department(uow)
    data = load(RoundUpdate(), data)
    if not data:
        raise validation_error({"_schema": ["nothing to change"]})
    row = _round_row(uow, round_id, lock=True)
    if row.finalized_at is not None:
        raise conflict("the round is finalized")
    opens_at = data.get("opens_at", row.opens_at)
    closes_at = data.get("closes_at", row.closes_at)
    if opens_at >= closes_at:
        raise validation_error({"closes_at": ["must be after opens_at"]})
    values = {k: v for k, v in data.items() if k != "deadlines"}
    values.update(_deadline_values(data.get("deadlines")))
    overrides = {level: values.get(col, row._mapping[col]) for level, col in DEADLINE_COLUMNS.items()}
    problems = domain.deadline_order_problems(deadlines(closes_at, **overrides))
    if problems:
        raise validation_error({"deadlines": problems})
    if "settings" in values:
        values["settings"] = plain(values["settings"])
    now = _now(uow)
    before_dict = round_dict(row, now)
    uow.execute(update(rounds).where(rounds.c.id == row.id).values(
        **values, updated_at=func.now(), version=rounds.c.version + 1))
    before = {k: before_dict[k] for k in data}
    row = _round_row(uow, row.id)
    result = round_dict(row, _now(uow))
    uow.audit("update", "round", row.id, {"before": before, "after": {k: result[k] for k in data}})
    uow.emit("round_changed", {"round": result})
    uow.commit()
    return result


def get_round(uow, round_id):
    return round_dict(_round_row(uow, round_id), _now(uow))


def list_rounds(uow, limit=None, offset=None, academic_year=None):
    limit, offset = page(limit, offset)
    stmt = select(rounds)
    count = select(func.count()).select_from(rounds)
    if academic_year not in (None, ""):
        try:
            year = int(academic_year)
        except (TypeError, ValueError):
            raise validation_error({"academic_year": ["must be an integer"]})
        stmt = stmt.where(rounds.c.academic_year == year)
        count = count.where(rounds.c.academic_year == year)
    now = _now(uow)
    rows = uow.execute(stmt.order_by(rounds.c.academic_year.desc(), rounds.c.number.desc())
                           .limit(limit).offset(offset))
    return {"items": [round_dict(r, now) for r in rows],
            "total": uow.execute(count).scalar_one()}


def add_extension(uow, ports, round_id, data):
    """Extend the round's deadline for a unit and everything beneath it, at one
    level or at every level (the department, or a province in its subtree)."""
    actor = require_actor(uow.actor)
    data = load(ExtensionCreate(), data)
    unit = ports.directory.get(data["org_unit_id"])
    if unit is None:
        raise not_found("org unit")
    if not actor.is_system:
        if actor.role not in ("department", "province"):
            raise forbidden("extensions are granted by the department or a province")
        if not is_ancestor_or_self(actor.path, unit.path):
            raise not_found("org unit")
    row = _round_row(uow, round_id, lock=True)
    if row.finalized_at is not None:
        raise conflict("the round is finalized")
    level = data.get("level")
    if data["closes_at"] <= domain.extension_floor(effective_deadlines(row), level):
        raise validation_error({"closes_at": [
            f"an extension must end after the {level} deadline" if level
            else "an extension must end after the round's deadline"]})
    stmt = pg_insert(extensions).values(
        round_id=row.id, org_unit_id=unit.id, org_unit_path=unit.path, level=level or EVERY_LEVEL,
        closes_at=data["closes_at"], automatic=False, created_by=actor.user_id or None,
        created_at=func.clock_timestamp())
    # created_at is read after the round's row lock: a later grant has a later one (the
    # services keeping the calendar apply an extension_granted only over an older one)
    stmt = stmt.on_conflict_do_update(constraint="uq_extensions_round_unit_level", set_={
        "closes_at": stmt.excluded.closes_at, "created_by": stmt.excluded.created_by,
        "automatic": False, "created_at": func.clock_timestamp()}).returning(*extensions.c)
    ext = ext_dict(uow.execute(stmt).first())
    uow.audit("extend", "round", row.id, {"org_unit_id": unit.id, "level": level,
                                          "closes_at": ext["closes_at"]})
    uow.emit("extension_granted", {"round_id": row.id, "extension": ext})
    uow.commit()
    return ext


def list_extensions(uow, round_id):
    actor = require_actor(uow.actor)
    row = _round_row(uow, round_id)
    rows = uow.execute(select(extensions).where(extensions.c.round_id == row.id)
                           .order_by(extensions.c.org_unit_path))
    items = [ext_dict(r) for r in rows]
    # a user sees the extensions that concern its subtree or the units above it
    items = [e for e in items if actor.is_system or is_ancestor_or_self(actor.path, e["org_unit_path"])
             or is_ancestor_or_self(e["org_unit_path"], actor.path)]
    return {"items": items, "total": len(items)}


def _extensions_of(uow, round_id):
    return [(e.org_unit_path, e.closes_at, None if e.level == EVERY_LEVEL else e.level)
            for e in uow.execute(select(extensions.c.org_unit_path, extensions.c.closes_at,
                                            extensions.c.level).where(extensions.c.round_id == round_id))]


def check_level(level):
    if level not in LEVELS:
        raise validation_error({"level": [f"one of {', '.join(LEVELS)}"]})
    return level


def windows(uow, round_id, unit_paths, level="institution"):
    """Whether the round is open for each unit at ``level``, honouring the
    level's deadline and extensions (the one rule, :func:`rounds_calendar.window`,
    which every service's copy of the calendar applies too)."""
    level = check_level(level or "institution")
    row = _round_row(uow, round_id)
    now = _now(uow)
    level_deadlines = effective_deadlines(row)
    exts = _extensions_of(uow, row.id) if level in domain.DEADLINE_LEVELS else []
    return [plain(dict(window(row.opens_at, row.finalized_at, level_deadlines, exts, path, level, now),
                       round_id=row.id, unit_path=path))
            for path in unit_paths]


def round_and_window(uow, round_id, unit_path):
    """The round and its window for one unit, read together (one round trip
    for every edit of a learner instead of two)."""
    return {"round": get_round(uow, round_id), "window": windows(uow, round_id, [unit_path])[0]}


def calendar(uow, round_id):
    """The round and every extension of it: what a service keeps of the calendar
    (services.common.rounds_calendar.RoundCalendar) reads when it misses a round."""
    row = _round_row(uow, round_id)
    exts = uow.execute(select(extensions).where(extensions.c.round_id == row.id)
                           .order_by(extensions.c.id))
    return {"round": round_dict(row, _now(uow)), "extensions": [ext_dict(e) for e in exts]}


def _instant(value):
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def extend_after_revocation(uow, event):
    """A confirmation revoked at or after the unit's deadline (at its level,
    extensions included) gives the unit an automatic extension of the round's
    ``requests.revocation_extension_hours`` from the revocation; an extension
    is never shortened. Returns the extension, or None when none is due."""
    unit = Unit.from_record(event["org_unit"])
    level = unit.level
    if level not in domain.DEADLINE_LEVELS:
        return None
    row = _round_row(uow, event["round"]["id"], lock=True)
    if row.finalized_at is not None:
        return None
    revoked_at = _instant(event.get("occurred_at") or event["revoked_at"])
    deadline, _ = effective_closes_at(effective_deadlines(row)[level], _extensions_of(uow, row.id),
                                      unit.path, level)
    own = uow.execute(select(extensions.c.closes_at).where(
        extensions.c.round_id == row.id, extensions.c.org_unit_id == unit.id,
        extensions.c.level == level).with_for_update()).scalar_one_or_none()
    hours = requests_of(row.settings)["revocation_extension_hours"]
    closes_at = domain.automatic_extension(deadline, own, revoked_at, hours)
    if closes_at is None:
        return None
    stmt = pg_insert(extensions).values(
        round_id=row.id, org_unit_id=unit.id, org_unit_path=unit.path, level=level,
        closes_at=closes_at, automatic=True, created_by=None, created_at=func.clock_timestamp())
    stmt = stmt.on_conflict_do_update(constraint="uq_extensions_round_unit_level", set_={
        "closes_at": func.greatest(extensions.c.closes_at, stmt.excluded.closes_at),
        "automatic": True, "created_by": None, "created_at": func.clock_timestamp()}).returning(*extensions.c)
    ext = ext_dict(uow.execute(stmt).first())
    uow.audit("extend", "round", row.id, {"org_unit_id": unit.id, "level": level,
                                          "closes_at": ext["closes_at"], "automatic": True,
                                          "revoked_at": plain(revoked_at)})
    uow.emit("extension_granted", {"round_id": row.id, "extension": ext}, include_actor=False)
    return ext


def announce_transitions(uow):
    """Emit ``round_opened`` / ``round_closed`` for rounds whose state changed
    since it was last announced (replicas share the work with SKIP LOCKED)."""
    current = case(
        (func.now() < rounds.c.opens_at, "scheduled"),
        (func.now() < rounds.c.closes_at, "open"),
        else_="closed",
    )
    rows = uow.execute(
        select(rounds, current.label("current"))
        .where(rounds.c.finalized_at.is_(None), rounds.c.notified_state.is_distinct_from(current))
        .with_for_update(skip_locked=True)
    ).all()
    now = _now(uow)
    announced = []
    for row in rows:
        event_type = {"open": "round_opened", "closed": "round_closed"}.get(row.current)
        if event_type:
            uow.emit(event_type, {"round": round_dict(row, now)}, include_actor=False)
            announced.append((row.id, event_type))
        uow.execute(update(rounds).where(rounds.c.id == row.id).values(notified_state=row.current))
    uow.commit()
    return announced


def finalize(uow, round_id, finalized_at=None):
    row = _round_row(uow, round_id, lock=True)
    if row.finalized_at is not None:
        return False
    uow.execute(update(rounds).where(rounds.c.id == row.id).values(
        finalized_at=finalized_at or func.now(), notified_state="finalized",
        version=rounds.c.version + 1))
    uow.audit("finalize", "round", row.id, {})
    return True
