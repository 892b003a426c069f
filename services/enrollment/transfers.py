"""Transfers of a child between institutions (docs/transfers.md).

A receiving institution (or a unit above it) asks for a child that another
institution holds in the round. The holder answers: accepting moves the child
in one transaction (removed at the holder with reason ``moved_out``, added at
the receiver with the same identity data, both audited, one event pair);
declining needs a reason; the receiving side may withdraw a pending request.

- One pending request per child and round: the partial unique index
  ``uq_transfers_round_person_pending`` decides races (``transfer_pending``).
- Who answers: a user of the holding institution from the start; after the
  round's ``settings.requests.transfer_escalation_hours`` (48 by default) from
  the request, also its LAO; after twice that, also the province and the
  department. Escalation is measured with the database's clock.
- The holder's data sealed (confirmed): accepting is refused (``unit_confirmed``);
  the request waits on the unit that can revoke the seal (``waiting_on``).
- A learner removed while a request for them is pending cancels the request in
  the same transaction (:func:`cancel_for_learner`), so accept and removal have
  exactly one outcome: both take the learner's row ``FOR UPDATE`` first.
- The holder is named only as far as the caller may read it: otherwise only
  its province (``held_in``), as a ``duplicate_learner`` refusal does.
"""
import datetime as dt

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.common.context import require_actor
from services.common.errors import LecError, conflict, forbidden, not_found, validation_error
from services.common.hierarchy import path_ids
from services.common.jsonutil import isoformat, plain
from services.common.validation import as_id, load, page
from services.enrollment import domain
from services.enrollment.handlers import (
    learner_event, learner_row, require_active, require_institution, require_open,
)
from services.enrollment.models import learners, seals, transfers
from services.enrollment.schemas import TransferCreate, TransferDecline
from services.enrollment.sealing import lock_for_edit

PENDING_INDEX = "uq_transfers_round_person_pending"
DEFAULT_ESCALATION_HOURS = 48
DIRECTIONS = ("incoming", "outgoing")
STATES = ("pending", "accepted", "declined", "withdrawn", "cancelled")
# the level that may answer after k escalation periods
LADDER = ("institution", "lao", "province")


# -- the round's rule ---------------------------------------------------------------------------

def escalation_hours(round_):
    """``settings.requests.transfer_escalation_hours`` of the round (48 when absent or not a
    positive number)."""
    requests = (round_.settings or {}).get("requests") or {}
    value = requests.get("transfer_escalation_hours", DEFAULT_ESCALATION_HOURS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return DEFAULT_ESCALATION_HOURS
    return value


def _db_now(session):
    return session.execute(select(func.now())).scalar_one()


def _period(hours):
    return dt.timedelta(hours=hours)


# -- who may answer -----------------------------------------------------------------------------

def _holder_ids(row):
    """``[department, province, lao, institution]`` ids above and of the holder."""
    return path_ids(row.from_path)


def answer_from(actor, row, hours):
    """When ``actor`` may answer the request (None: never; it is not on the holder's side).
    The holding institution from the request; its LAO one period later; the province and
    the department two periods later."""
    if actor.is_system:
        return row.created_at
    if not actor.can_read(row.from_path):
        return None
    steps = len(_holder_ids(row)) - len(path_ids(actor.path))  # 0 institution, 1 LAO, 2 province ..
    return row.created_at + _period(hours) * min(max(steps, 0), 2)


def answerable_by(row, hours, now):
    """``{level, unit_id, since, next_level_at}``: the highest level that may answer now."""
    if row.state != "pending":
        return None
    ids = _holder_ids(row)
    k = 0
    while k < 2 and now >= row.created_at + _period(hours) * (k + 1):
        k += 1
    unit_id = ids[-1 - k] if len(ids) > k else ids[0]
    nxt = row.created_at + _period(hours) * (k + 1) if k < 2 else None
    return {"level": LADDER[k], "unit_id": unit_id, "since": row.created_at + _period(hours) * k,
            "next_level_at": nxt}


def _require_answerer(actor, row, hours, now):
    since = answer_from(actor, row, hours)
    if since is None:
        if actor.can_read(row.to_path):
            raise forbidden("a request is answered by the institution holding the child (or the "
                            "levels above it); the requesting side may withdraw it")
        raise not_found("transfer")
    if now < since:
        raise LecError("forbidden", "the holding institution answers first; your level may answer "
                                    f"from {isoformat(since)}", {"answerable_at": isoformat(since)})


def _require_visible(actor, row):
    if not (actor.can_read(row.from_path) or actor.can_read(row.to_path)):
        raise not_found("transfer")


# -- reading ------------------------------------------------------------------------------------

def _seal_flags(session, round_id, unit_ids):
    ids = sorted({int(i) for i in unit_ids})
    if not ids:
        return {}
    rows = session.execute(select(seals.c.unit_id, seals.c.sealed).where(
        seals.c.round_id == round_id, seals.c.unit_id.in_(ids)))
    return {r.unit_id: bool(r.sealed) for r in rows}


def _waiting_on_id(row, sealed):
    """The unit that can revoke the holder's seal: its LAO, or the province when the
    LAO's own data are sealed too."""
    ids = _holder_ids(row)
    lao = ids[-2] if len(ids) >= 2 else None
    if lao is not None and not sealed.get(lao):
        return lao
    return ids[1] if len(ids) >= 3 else lao


def _unit_brief(unit, unit_id):
    return {"id": unit_id, "code": unit.code if unit else None, "name": unit.name if unit else None}


def _learner_brief(row):
    if row is None:
        return None
    return {"prefix": row.prefix, "first_name": row.first_name, "last_name": row.last_name,
            "grade": row.grade, "birth_date": row.birth_date, "sex": row.sex}


class View:
    """What one caller sees of many requests (units and seals looked up once)."""

    def __init__(self, uow, ports, rows):
        session = uow.session
        self.actor = actor = require_actor(uow.actor)
        self.now = _db_now(session)
        self.hours_of = ports.escalation_hours
        rows = list(rows)
        self.sealed = {}
        by_round = {}
        for r in rows:
            by_round.setdefault(r.round_id, set()).update(
                {r.from_institution_id, *_holder_ids(r)[-2:]})
        for round_id, ids in by_round.items():
            self.sealed[round_id] = _seal_flags(session, round_id, ids)
        learner_ids = {r.learner_id for r in rows} | {r.new_learner_id for r in rows if r.new_learner_id}
        self.learners = {l.id: l for l in session.execute(
            select(learners).where(learners.c.id.in_(sorted(learner_ids))))} if learner_ids else {}
        wanted = set()
        for r in rows:
            wanted.add(r.to_institution_id)
            if actor.can_read(r.from_path):
                wanted.add(r.from_institution_id)
            else:
                wanted.add(domain.province_of(r.from_path))
            wanted.add(_waiting_on_id(r, self.sealed.get(r.round_id, {})))
        wanted.discard(None)
        self.units = ports.units(wanted) if wanted else {}

    def sealed_holder(self, row):
        return bool(self.sealed.get(row.round_id, {}).get(row.from_institution_id))

    def dict(self, row):
        actor = self.actor
        reads_holder = actor.can_read(row.from_path)
        receiver_side = actor.can_read(row.to_path)
        data = {k: row._mapping[k] for k in (
            "id", "round_id", "state", "grade", "note", "reason", "new_learner_id", "created_at",
            "created_by", "answered_at", "answered_by", "answered_by_unit_id", "version")}
        data.update(domain.split_identity(row.id_kind, row.id_number))
        data["to_institution"] = _unit_brief(self.units.get(row.to_institution_id), row.to_institution_id)
        if reads_holder:
            data["from_institution"] = _unit_brief(self.units.get(row.from_institution_id),
                                                   row.from_institution_id)
        else:
            province = self.units.get(domain.province_of(row.from_path))
            data["held_in"] = {"code": province.code if province else None,
                               "name": province.name if province else None}
        if reads_holder:
            data["learner"] = _learner_brief(self.learners.get(row.learner_id))
        elif receiver_side and row.state == "accepted":
            data["learner"] = _learner_brief(self.learners.get(row.new_learner_id))
        hours = self.hours_of(row.round_id)
        data["answerable_by"] = answerable_by(row, hours, self.now)
        sealed = row.state == "pending" and self.sealed_holder(row)
        data["sealed"] = sealed
        data["waiting_on"] = None
        if sealed:
            unit_id = _waiting_on_id(row, self.sealed.get(row.round_id, {}))
            data["waiting_on"] = _unit_brief(self.units.get(unit_id), unit_id)
        data["history"] = list(row.history or [])
        return plain(data)


def _row(uow, transfer_id, lock=False):
    stmt = select(transfers).where(transfers.c.id == as_id(transfer_id, "transfer"))
    if lock:
        stmt = stmt.with_for_update()
    row = uow.execute(stmt).first()
    if row is None:
        raise not_found("transfer")
    return row


def transfer_place(uow, round_id, transfer_id):
    """``(round_id, from_institution_id, to_institution_id)`` of a request of the round
    (any round with ``round_id`` None), or ``not_found``."""
    try:
        row = _row(uow, transfer_id)
    except LecError:
        row = None
    if row is None or (round_id is not None and row.round_id != as_id(round_id, "round")):
        raise not_found("transfer")
    return row.round_id, row.from_institution_id, row.to_institution_id


def get_transfer(uow, ports, round_id, transfer_id):
    actor = require_actor(uow.actor)
    row = _row(uow, transfer_id)
    if round_id is not None and row.round_id != as_id(round_id, "round"):
        raise not_found("transfer")
    _require_visible(actor, row)
    return View(uow, ports, [row]).dict(row)


def list_transfers(uow, ports, round_id, unit_id, direction=None, state=None, limit=None, offset=None):
    """Requests about the unit's subtree: ``incoming`` (it holds the child and must answer),
    ``outgoing`` (it asked for the child), both when no direction is given; newest first."""
    unit = ports.unit(unit_id)
    actor = require_actor(uow.actor)
    actor.require_read(unit.path, "org unit")
    limit, offset = page(limit, offset)
    incoming = transfers.c.from_path.startswith(unit.path, autoescape=True)
    outgoing = transfers.c.to_path.startswith(unit.path, autoescape=True)
    if direction in (None, ""):
        where = [or_(incoming, outgoing)]
    elif direction == "incoming":
        where = [incoming]
    elif direction == "outgoing":
        where = [outgoing]
    else:
        raise validation_error({"direction": ["incoming or outgoing"]})
    where.append(transfers.c.round_id == as_id(round_id, "round"))
    if state not in (None, ""):
        if state not in STATES:
            raise validation_error({"state": [f"one of {', '.join(STATES)}"]})
        where.append(transfers.c.state == state)
    cond = and_(*where)
    total = uow.execute(select(func.count()).select_from(transfers).where(cond)).scalar_one()
    rows = uow.execute(select(transfers).where(cond).order_by(transfers.c.created_at.desc(),
                                                              transfers.c.id.desc())
                       .limit(limit).offset(offset)).all()
    view = View(uow, ports, rows)
    return {"items": [view.dict(r) for r in rows], "total": total}


# -- requesting ---------------------------------------------------------------------------------

def _step(actor, action, at=None, **extra):
    step = {"at": isoformat(at or dt.datetime.now(dt.timezone.utc)), "action": action,
            "by": actor.user_id or None, "unit_id": actor.org_unit_id or None}
    step.update({k: v for k, v in extra.items() if v is not None})
    return step


def _is_pending_conflict(exc):
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None) == PENDING_INDEX


def _pending_of(session, round_id, id_number):
    return session.execute(select(transfers.c.id).where(
        transfers.c.round_id == round_id, transfers.c.id_number == id_number,
        transfers.c.state == "pending")).scalar()


def create(uow, ports, round_id, data):
    """Ask for a child held by another institution in the round (a new pending request)."""
    round_id = as_id(round_id, "round")
    raw = data.get("to_institution_id") if isinstance(data, dict) else None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise LecError("validation_error", "the request is not valid",
                       {"errors": {"to_institution_id": ["the receiving institution's id"]}})
    receiver = ports.active_unit(raw)
    round_ = ports.round(round_id)
    actor = require_actor(uow.actor)
    body = load(TransferCreate(), data)
    kind, number = domain.identity(body)
    actor.require_read(receiver.path, "institution")
    require_institution(receiver)
    require_active(receiver)
    round_id = round_.id
    held = uow.execute(select(learners).where(learners.c.round_id == round_id,
                                              learners.c.id_number == number,
                                              learners.c.status == "active")).first()
    if held is None:
        raise LecError("not_found", "no institution holds this child in the round: add the child "
                                    "directly to the learners of your institution")
    if held.institution_id == receiver.id:
        raise conflict("the child is already recorded at this institution")
    grade = body.get("grade") or held.grade
    domain.check_grade(grade, receiver.type)
    domain.check_age(held.birth_date, receiver.type, round_.census_date, domain.cdc_age_of(round_))
    values = dict(round_id=round_id, id_kind=kind, id_number=number, learner_id=held.id,
                  from_institution_id=held.institution_id, from_path=held.institution_path,
                  to_institution_id=receiver.id, to_path=receiver.path, grade=grade,
                  note=body.get("note"), created_by=actor.user_id or None,
                  created_by_unit_id=actor.org_unit_id or None,
                  history=[_step(actor, "requested", at=_db_now(uow.session), note=body.get("note"))])
    try:
        with uow.session.begin_nested():
            row = uow.execute(insert(transfers).values(**values).returning(*transfers.c)).one()
    except IntegrityError as exc:
        if not _is_pending_conflict(exc):
            raise
        pending = _pending_of(uow.session, round_id, number)
        raise LecError("transfer_pending", "a request for this child is already pending in this round",
                       {"transfer_id": pending})
    uow.audit("request", "transfer", row.id, {
        "round_id": round_id, "learner_id": held.id, "from_institution_id": held.institution_id,
        "to_institution_id": receiver.id, "grade": grade, "id_kind": kind})
    uow.commit()  # the locks go; what the caller sees is read after
    return View(uow, ports, [row]).dict(row)


# -- answering ----------------------------------------------------------------------------------

def _finish(uow, row, actor, state, action, **extra):
    """Close a pending request (its row is locked) with ``state``, adding the step to its history."""
    step = _step(actor, action, at=_db_now(uow.session),
                 **{k: v for k, v in extra.items() if k in ("reason", "note")})
    values = dict(state=state, answered_at=func.now(), answered_by=actor.user_id or None,
                  answered_by_unit_id=actor.org_unit_id or None, version=transfers.c.version + 1,
                  history=list(row.history or []) + [plain(step)])
    values.update({k: v for k, v in extra.items() if k in ("reason", "new_learner_id")})
    return uow.execute(update(transfers).where(transfers.c.id == row.id).values(**values)
                       .returning(*transfers.c)).one()


def _locked_pending(uow, transfer_id):
    row = _row(uow, transfer_id, lock=True)
    if row.state != "pending":
        raise conflict(f"the request is {row.state}: it can no longer be answered",
                       state=row.state)
    return row


def accept(uow, ports, round_id, transfer_id):
    """Hand the child over: one transaction removes them at the holder (``moved_out``) and
    adds them at the receiver, audited, with the events an edit emits (the holder, or the
    level above it by time)."""
    round_id, holder_id, receiver_id = transfer_place(uow, round_id, transfer_id)
    uow.session.rollback()  # the other services are asked next: no transaction held meanwhile
    holder = ports.unit(holder_id, "institution")
    receiver = ports.active_unit(receiver_id)
    round_, window = ports.round_and_window(round_id, receiver.path)
    actor = require_actor(uow.actor)
    first = _row(uow, transfer_id)
    _require_visible(actor, first)
    hours = ports.escalation_hours(first.round_id)
    _require_answerer(actor, first, hours, _db_now(uow.session))
    require_institution(receiver)
    require_active(receiver)
    require_open(window)
    round_id = first.round_id
    # the seal rows (shared, in id order), then the learner, then the request: the order a
    # removal takes too, so that accept and remove wait for each other instead of deadlocking
    for unit in sorted((holder, receiver), key=lambda u: u.id):
        lock_for_edit(uow, round_id, unit)
    held = learner_row(uow, first.learner_id, lock=True)
    row = _locked_pending(uow, transfer_id)
    if held.status != "active" or held.institution_id != holder.id or held.id_number != row.id_number:
        raise conflict("the child is no longer held by that institution")
    data = {k: held._mapping[k] for k in ("prefix", "first_name", "last_name", "sex", "birth_date",
                                          "nationality")}
    data.update(domain.split_identity(held.id_kind, held.id_number), grade=row.grade)
    clean, _ = domain.check_learner(data, receiver.type, round_)
    user = actor.user_id or None
    removed = uow.execute(update(learners).where(learners.c.id == held.id).values(
        status="removed", removal_reason="moved_out", removal_note=f"transfer {row.id}",
        removed_at=func.now(), removed_by=user, version=learners.c.version + 1,
        updated_at=func.now(), updated_by=user).returning(*learners.c)).one()
    added = uow.execute(insert(learners).values(
        round_id=round_id, institution_id=receiver.id, institution_path=receiver.path,
        source="manual", created_by=user, updated_by=user, **clean).returning(*learners.c)).one()
    census = round_.census_date
    uow.audit("remove", "learner", removed.id, {"reason": "moved_out", "note": removed.removal_note,
                                                "grade": held.grade, "transfer_id": row.id})
    uow.audit("add", "learner", added.id, {"round_id": round_id, "institution_id": receiver.id,
                                           "grade": added.grade, "id_kind": added.id_kind,
                                           "transfer_id": row.id})
    uow.emit("learner_removed", {"round_id": round_id, "learner": learner_event(removed, holder, census)})
    uow.emit("learner_added", {"round_id": round_id, "learner": learner_event(added, receiver, census)})
    after = _finish(uow, row, actor, "accepted", "accepted", new_learner_id=added.id)
    uow.audit("accept", "transfer", row.id, {"round_id": round_id, "removed_learner_id": removed.id,
                                             "new_learner_id": added.id})
    uow.commit()  # the locks go; what the caller sees is read after
    return View(uow, ports, [after]).dict(after)


def decline(uow, ports, round_id, transfer_id, data):
    transfer_place(uow, round_id, transfer_id)
    actor = require_actor(uow.actor)
    body = load(TransferDecline(), data if data is not None else {})
    if not body["reason"].strip():
        raise validation_error({"reason": ["a reason is required"]})
    row = _locked_pending_visible(uow, actor, transfer_id)
    _require_answerer(actor, row, ports.escalation_hours(row.round_id), _db_now(uow.session))
    after = _finish(uow, row, actor, "declined", "declined", reason=body["reason"])
    uow.audit("decline", "transfer", row.id, {"round_id": row.round_id, "reason": body["reason"]})
    uow.commit()  # the locks go; what the caller sees is read after
    return View(uow, ports, [after]).dict(after)


def withdraw(uow, ports, round_id, transfer_id):
    """The requesting side takes its pending request back."""
    transfer_place(uow, round_id, transfer_id)
    actor = require_actor(uow.actor)
    row = _locked_pending_visible(uow, actor, transfer_id)
    if not actor.can_read(row.to_path):
        raise forbidden("a request is withdrawn by the side that made it")
    after = _finish(uow, row, actor, "withdrawn", "withdrawn")
    uow.audit("withdraw", "transfer", row.id, {"round_id": row.round_id})
    uow.commit()  # the locks go; what the caller sees is read after
    return View(uow, ports, [after]).dict(after)


def _locked_pending_visible(uow, actor, transfer_id):
    row = _row(uow, transfer_id, lock=True)
    _require_visible(actor, row)
    if row.state != "pending":
        raise conflict(f"the request is {row.state}: it can no longer be answered", state=row.state)
    return row


def cancel_for_learner(uow, learner):
    """A learner removed at the holder: its pending request (if any) is cancelled in the
    same transaction (the removal holds the learner's row, as an accept would)."""
    rows = uow.execute(select(transfers).where(
        transfers.c.round_id == learner.round_id, transfers.c.id_number == learner.id_number,
        transfers.c.learner_id == learner.id, transfers.c.state == "pending")
        .with_for_update()).all()
    actor = require_actor(uow.actor)
    for row in rows:
        _finish(uow, row, actor, "cancelled", "cancelled", reason="the learner was removed")
        uow.audit("cancel", "transfer", row.id, {"round_id": row.round_id, "learner_id": learner.id})
    return len(rows)


# -- for the notices and the levels above ------------------------------------------------------

def notices(uow, ports, round_id=None):
    """Pending requests the caller's unit must act on now: those it may answer, and those
    waiting on it because the holder's data are sealed."""
    actor = require_actor(uow.actor)
    if actor.is_system:
        return []
    cond = [transfers.c.state == "pending",
            transfers.c.from_path.startswith(actor.path, autoescape=True)]
    if round_id is not None:
        cond.append(transfers.c.round_id == as_id(round_id, "round"))
    rows = uow.execute(select(transfers).where(and_(*cond))
                       .order_by(transfers.c.created_at).limit(500)).all()
    if not rows:
        return []
    view = View(uow, ports, rows)
    result = []
    for row in rows:
        since = answer_from(actor, row, ports.escalation_hours(row.round_id))
        if view.sealed_holder(row):
            if _waiting_on_id(row, view.sealed.get(row.round_id, {})) != actor.org_unit_id:
                continue
            at = row.created_at
        elif since is None or view.now < since:
            continue
        else:
            at = since
        to_unit = _unit_brief(view.units.get(row.to_institution_id), row.to_institution_id)
        from_unit = _unit_brief(view.units.get(row.from_institution_id), row.from_institution_id)
        result.append(plain({
            "kind": "transfer", "round_id": row.round_id, "transfer_id": row.id,
            "unit_id": actor.org_unit_id, "at": at,
            "title_data": {"to_code": to_unit.get("code"), "to_name": to_unit.get("name"),
                           "from_code": from_unit.get("code"), "from_name": from_unit.get("name"),
                           "grade": row.grade, "sealed": view.sealed_holder(row)}}))
    return result


def counts(uow, ports, round_id, unit_ids):
    """``{str(unit_id): n}``: pending requests where the unit (or one below it) holds or
    receives the child; units the caller cannot read are left out."""
    units_by_id = ports.units([int(i) for i in unit_ids or []])
    actor = require_actor(uow.actor)
    round_id = as_id(round_id, "round")
    result = {}
    for unit_id, unit in units_by_id.items():
        if not unit.path or not actor.can_read(unit.path):
            continue
        n = uow.execute(select(func.count()).select_from(transfers).where(
            transfers.c.round_id == round_id, transfers.c.state == "pending",
            or_(transfers.c.from_path.startswith(unit.path, autoescape=True),
                transfers.c.to_path.startswith(unit.path, autoescape=True)))).scalar_one()
        result[str(unit_id)] = n
    return result

