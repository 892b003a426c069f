"""Rounds use cases: create, read, change the deadline, extensions, windows,
and the timer that announces openings and closings."""
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.common.context import require_actor
from services.common.errors import conflict, forbidden, not_found, validation_error
from services.common.hierarchy import is_ancestor_or_self
from services.common.jsonutil import plain
from services.common.validation import load, page
from services.rounds.domain import effective_closes_at, state_at
from services.rounds.models import extensions, rounds
from services.rounds.schemas import ExtensionCreate, RoundCreate, RoundUpdate

ROUND_FIELDS = ("id", "academic_year", "number", "census_date", "opens_at", "closes_at", "settings",
                "finalized_at", "created_at", "version")


def _now(session):
    return session.execute(select(func.now())).scalar_one()


def round_dict(row, now):
    m = row._mapping
    data = {k: m[k] for k in ROUND_FIELDS}
    data["state"] = state_at(m["opens_at"], m["closes_at"], m["finalized_at"], now)
    return plain(data)


def _round_row(session, round_id, lock=False):
    try:
        round_id = int(round_id)
    except (TypeError, ValueError):
        raise not_found("round")
    stmt = select(rounds).where(rounds.c.id == round_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        raise not_found("round")
    return row


def _require_department(actor):
    actor = require_actor(actor)
    if not (actor.is_system or actor.role == "department"):
        raise forbidden("only the department manages rounds")
    return actor


def create_round(uow, actor, data):
    actor = _require_department(actor)
    data = load(RoundCreate(), data)
    try:
        with uow.session.begin_nested():
            round_id = uow.execute(insert(rounds).values(
                academic_year=data["academic_year"], number=data["number"],
                census_date=data["census_date"], opens_at=data["opens_at"],
                closes_at=data["closes_at"], settings=plain(data["settings"]),
                created_by=actor.user_id or None,
            ).returning(rounds.c.id)).scalar_one()
    except IntegrityError:
        raise conflict(f"round {data['number']} of academic year {data['academic_year']} exists")
    row = _round_row(uow.session, round_id)
    result = round_dict(row, _now(uow.session))
    uow.audit("create", "round", round_id, {k: result[k] for k in (
        "academic_year", "number", "census_date", "opens_at", "closes_at")})
    uow.emit("round_created", {"round": result})
    uow.commit()
    return result


def update_round(uow, actor, round_id, data):
    _require_department(actor)
    data = load(RoundUpdate(), data)
    if not data:
        raise validation_error({"_schema": ["nothing to change"]})
    row = _round_row(uow.session, round_id, lock=True)
    if row.finalized_at is not None:
        raise conflict("the round is finalized")
    opens_at = data.get("opens_at", row.opens_at)
    closes_at = data.get("closes_at", row.closes_at)
    if opens_at >= closes_at:
        raise validation_error({"closes_at": ["must be after opens_at"]})
    values = {k: v for k, v in data.items()}
    if "settings" in values:
        values["settings"] = plain(values["settings"])
    uow.execute(update(rounds).where(rounds.c.id == row.id).values(
        **values, updated_at=func.now(), version=rounds.c.version + 1))
    before = {k: plain(row._mapping[k]) for k in data}
    row = _round_row(uow.session, row.id)
    result = round_dict(row, _now(uow.session))
    uow.audit("update", "round", row.id, {"before": before, "after": {k: result[k] for k in data}})
    uow.emit("round_changed", {"round": result})
    uow.commit()
    return result


def get_round(session, round_id):
    return round_dict(_round_row(session, round_id), _now(session))


def list_rounds(session, limit=None, offset=None, academic_year=None):
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
    now = _now(session)
    rows = session.execute(stmt.order_by(rounds.c.academic_year.desc(), rounds.c.number.desc())
                           .limit(limit).offset(offset))
    return {"items": [round_dict(r, now) for r in rows],
            "total": session.execute(count).scalar_one()}


def add_extension(uow, actor, round_id, data, unit):
    """``unit`` is the registry's record of ``data['org_unit_id']``."""
    actor = require_actor(actor)
    data = load(ExtensionCreate(), data)
    if unit is None:
        raise not_found("org unit")
    if not actor.is_system:
        if actor.role not in ("department", "province"):
            raise forbidden("extensions are granted by the department or a province")
        if not is_ancestor_or_self(actor.path, unit["path"]):
            raise not_found("org unit")
    row = _round_row(uow.session, round_id, lock=True)
    if row.finalized_at is not None:
        raise conflict("the round is finalized")
    if data["closes_at"] <= row.closes_at:
        raise validation_error({"closes_at": ["an extension must end after the round's deadline"]})
    stmt = pg_insert(extensions).values(
        round_id=row.id, org_unit_id=unit["id"], org_unit_path=unit["path"],
        closes_at=data["closes_at"], created_by=actor.user_id or None)
    stmt = stmt.on_conflict_do_update(constraint="uq_extensions_round_unit", set_={
        "closes_at": stmt.excluded.closes_at, "created_by": stmt.excluded.created_by,
        "created_at": func.now()}).returning(*extensions.c)
    ext = plain(dict(uow.execute(stmt).first()._mapping))
    uow.audit("extend", "round", row.id, {"org_unit_id": unit["id"], "closes_at": ext["closes_at"]})
    uow.emit("extension_granted", {"round_id": row.id, "extension": ext})
    uow.commit()
    return ext


def list_extensions(session, actor, round_id):
    actor = require_actor(actor)
    row = _round_row(session, round_id)
    rows = session.execute(select(extensions).where(extensions.c.round_id == row.id)
                           .order_by(extensions.c.org_unit_path))
    items = [plain(dict(r._mapping)) for r in rows]
    # a user sees the extensions that concern its subtree or the units above it
    items = [e for e in items if actor.is_system or is_ancestor_or_self(actor.path, e["org_unit_path"])
             or is_ancestor_or_self(e["org_unit_path"], actor.path)]
    return {"items": items, "total": len(items)}


def windows(session, round_id, unit_paths):
    """Whether the round is open for each unit, honouring extensions."""
    row = _round_row(session, round_id)
    now = _now(session)
    exts = [(e.org_unit_path, e.closes_at) for e in session.execute(
        select(extensions.c.org_unit_path, extensions.c.closes_at)
        .where(extensions.c.round_id == row.id))]
    result = []
    for path in unit_paths:
        closes_at, extended = effective_closes_at(row.closes_at, exts, path)
        state = state_at(row.opens_at, closes_at, row.finalized_at, now)
        result.append(plain({
            "round_id": row.id, "unit_path": path, "state": state, "open": state == "open",
            "opens_at": row.opens_at, "closes_at": closes_at, "extended": extended,
        }))
    return result


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
    now = _now(uow.session)
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
    row = _round_row(uow.session, round_id, lock=True)
    if row.finalized_at is not None:
        return False
    uow.execute(update(rounds).where(rounds.c.id == row.id).values(
        finalized_at=finalized_at or func.now(), notified_state="finalized",
        version=rounds.c.version + 1))
    uow.audit("finalize", "round", row.id, {})
    return True
