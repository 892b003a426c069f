"""Revocation requests, and seeing the confirmations above one's unit.

A unit never revokes its own confirmation (seed 003 §8): it asks. A request
about a confirmed unit is routed to the lowest unit above it able to act: walk
up from the unit while the unit above is confirmed; the first one that is not
is ``routed_to`` (a school confirmed under an open LAO asks the LAO; under a
confirmed LAO, the province). A user of that unit, or of one above it, whose
own unit is not confirmed, approves: every confirmed unit strictly between the
approver's unit and the unit asked about is revoked, top-down, then the unit
itself, each through :func:`handlers.revoke` (its saga, unsealing, event and
audit row, with the request's reason). Routing is computed again when the
request is answered, since states may have changed meanwhile. A retry after a
partial failure skips the units already reopened.

Anyone may also read the state of the confirmations above their unit (state,
when, by whom), never their counts or children.
"""
import datetime as dt

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.common import hierarchy
from services.common.context import require_actor
from services.common.errors import LecError, conflict, forbidden, not_found, validation_error
from services.common.jsonutil import plain
from services.common.validation import load, page
from services.confirmation import domain, handlers
from services.confirmation.domain import CONFIRMED, OPEN, SEALING
from services.confirmation.models import confirmations, revocation_requests
from services.confirmation.schemas import (
    REQUEST_STATES, AncestorState, RevocationApprove, RevocationDecline, RevocationRequest,
    RevocationRequestCreate, Status,
)

C = confirmations.c
R = revocation_requests.c
PENDING, APPROVED, DECLINED, WITHDRAWN = REQUEST_STATES
ENTITY = "revocation_request"
OUTCOME_DAYS = 7  # how long a requester's notices show the answer


# -- helpers -------------------------------------------------------------------------

def _path_of(ids):
    return "/" + "".join(f"{i}/" for i in ids)


def _states(session, round_id, ids):
    """id -> confirmation row (units never touched have none: open)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {r.unit_id: r for r in session.execute(select(confirmations).where(
        C.round_id == round_id, C.unit_id.in_(ids)))}


def _state(rows, unit_id):
    row = rows.get(unit_id)
    return row.state if row is not None else OPEN


def route(unit_path, rows):
    """The path of the lowest unit above ``unit_path`` whose confirmation is not
    given (nor being given), or None when every unit above is confirmed."""
    ids = hierarchy.path_ids(unit_path)
    for depth in range(len(ids) - 1, 0, -1):
        if _state(rows, ids[depth - 1]) not in (CONFIRMED, SEALING):
            return _path_of(ids[:depth])
    return None


def _answer_problem(actor, unit_path, rows):
    """Why ``actor`` may not approve or decline a request about ``unit_path`` now
    (None: it may). ``rows`` holds the states of every unit on the path."""
    if not hierarchy.is_strict_ancestor(actor.path, unit_path) and not actor.is_system:
        return "a request is answered by a unit above the unit it is about"
    if not actor.is_system and _state(rows, actor.org_unit_id) in (CONFIRMED, SEALING):
        return "your unit's own confirmation is given: a unit above yours answers this request"
    target = route(unit_path, rows)
    if target is None:
        return "every unit above is confirmed: the round is finalised"
    if not actor.is_system and not hierarchy.is_ancestor_or_self(actor.path, target):
        return "the request is answered by the lowest unit above able to act, or one above it"
    return None


def _unit(ref):
    return {"id": ref["id"], "code": ref.get("code"), "name": ref.get("name"), "type": ref["type"]}


def _dump(row, actor=None, rows=None):
    item = {
        "id": row.id, "round_id": row.round_id,
        "unit": {"id": row.unit_id, "code": row.unit_code, "name": row.unit_name, "type": row.unit_type},
        "state": row.state, "reason": row.reason,
        "requested_by": row.requested_by, "requested_by_username": row.requested_by_username,
        "requested_by_unit_id": row.requested_by_unit_id,
        "routed_to": {"id": row.routed_to_id, "code": row.routed_to_code, "name": row.routed_to_name,
                      "type": row.routed_to_type},
        "created_at": handlers._bkk(row.created_at), "answered_at": handlers._bkk(row.answered_at),
        "answered_by": row.answered_by, "answered_by_username": row.answered_by_username,
        "answer_reason": row.answer_reason, "revoked": list(row.revoked or []),
    }
    if actor is not None:
        pending = row.state == PENDING
        item["can_answer"] = pending and rows is not None and _answer_problem(actor, row.unit_path, rows) is None
        item["can_withdraw"] = pending and _may_withdraw(actor, row)
    return plain(RevocationRequest().dump(item))


def _may_withdraw(actor, row):
    return actor.is_system or actor.org_unit_id in (row.requested_by_unit_id, row.unit_id)


def _load_request(session, actor, round_id, request_id, lock=False):
    stmt = select(revocation_requests).where(R.round_id == round_id, R.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None or not actor.can_read(row.unit_path):
        raise not_found("revocation request")
    return row


def _ids(round_id, request_id):
    return handlers._int(round_id, "round"), handlers._int(request_id, "revocation request")


def _check_not_finalised(ports, round_id, unit):
    window = ports.rounds.window(round_id, unit["path"])
    if window.get("state") == "finalized":
        raise conflict("the round is finalised: no confirmation is reopened")


# -- create ----------------------------------------------------------------------------

def create(db, ports, round_id, data):
    actor = require_actor(db.actor)
    round_id = handlers._int(round_id, "round")
    body = load(RevocationRequestCreate(), data)
    unit = handlers._readable_unit(ports, actor, body["unit_id"])
    ports.round_ref(round_id)  # the round exists
    if unit["type"] not in domain.CONFIRMING_TYPES or unit["type"] == "department":
        raise LecError("not_confirmed", f"a {unit['type']} has no confirmation a unit above could reopen")
    _check_not_finalised(ports, round_id, unit)
    ids = hierarchy.path_ids(unit["path"])
    with db.session() as session:
        rows = _states(session, round_id, ids)
    if _state(rows, unit["id"]) != CONFIRMED:
        raise LecError("not_confirmed", "the unit is not confirmed")
    target_path = route(unit["path"], rows)
    if target_path is None:
        raise conflict("every unit above is confirmed: the round is finalised")
    target = ports.units([hierarchy.unit_id_of(target_path)]).get(hierarchy.unit_id_of(target_path))
    if target is None:
        raise not_found("org unit")
    with db.uow() as uow:
        try:
            row = uow.execute(revocation_requests.insert().values(
                round_id=round_id, unit_id=unit["id"], unit_type=unit["type"], unit_code=unit.get("code"),
                unit_name=unit.get("name"), unit_path=unit["path"], state=PENDING, reason=body["reason"],
                requested_by=actor.user_id, requested_by_username=actor.username,
                requested_by_unit_id=actor.org_unit_id, **_routed(target),
            ).returning(*revocation_requests.c)).first()
        except IntegrityError:
            raise conflict("a request to reopen this unit's confirmation is already pending")
        uow.audit("revocation_requested", ENTITY, row.id, {
            "round_id": round_id, "unit_id": unit["id"], "reason": body["reason"],
            "routed_to": target["id"]})
        uow.commit()
    return _dump(row, actor, rows)


def _routed(target):
    return {"routed_to_id": target["id"], "routed_to_type": target["type"],
            "routed_to_code": target.get("code"), "routed_to_name": target.get("name"),
            "routed_to_path": target["path"]}


# -- read --------------------------------------------------------------------------------

def _rows_for(session, round_id, actor, requests):
    ids = {actor.org_unit_id}
    for r in requests:
        if r.state == PENDING:
            ids.update(hierarchy.path_ids(r.unit_path))
    return _states(session, round_id, ids)


def list_requests(db, ports, round_id, org_unit_id=None, state=None, limit=None, offset=None):
    """The requests about the org unit or a unit beneath it: those it can answer
    and those made by or about it (pending first, newest first)."""
    actor = require_actor(db.actor)
    round_id = handlers._int(round_id, "round")
    unit = handlers._readable_unit(ports, actor, handlers._int(org_unit_id or actor.org_unit_id, "org unit"))
    if state not in (None, "") and state not in REQUEST_STATES:
        raise validation_error({"state": [f"one of {', '.join(REQUEST_STATES)}"]})
    limit, offset = page(limit, offset)
    where = [R.round_id == round_id, R.unit_path.startswith(unit["path"], autoescape=True)]
    if state:
        where.append(R.state == state)
    with db.session() as session:
        total = session.execute(select(func.count()).select_from(revocation_requests).where(*where)).scalar_one()
        found = session.execute(select(revocation_requests).where(*where).order_by(
            (R.state == PENDING).desc(), R.created_at.desc(), R.id.desc()).limit(limit).offset(offset)).all()
        rows = _rows_for(session, round_id, actor, found)
    return {"items": [_dump(r, actor, rows) for r in found], "total": total}


def get_request(db, round_id, request_id):
    actor = require_actor(db.actor)
    round_id, request_id = _ids(round_id, request_id)
    with db.session() as session:
        row = _load_request(session, actor, round_id, request_id)
        rows = _rows_for(session, round_id, actor, [row])
    return _dump(row, actor, rows)


# -- answer ----------------------------------------------------------------------------------

def _answerable(uow, actor, round_id, request_id):
    """The pending request, locked, with the states on its path; an approved one
    returns as it is (a retried approval)."""
    row = _load_request(uow.session, actor, round_id, request_id, lock=True)
    rows = _states(uow.session, round_id, hierarchy.path_ids(row.unit_path) + [actor.org_unit_id])
    return row, rows


def _check_answer(actor, row, rows):
    if row.state != PENDING:
        raise conflict(f"the request is already {row.state}")
    problem = _answer_problem(actor, row.unit_path, rows)
    if problem is not None:
        raise forbidden(problem)


@handlers._deadlock_safe
def approve(db, ports, round_id, request_id, data=None):
    actor = require_actor(db.actor)
    round_id, request_id = _ids(round_id, request_id)
    note = load(RevocationApprove(), data if data is not None else {}).get("reason")
    with db.uow() as uow:
        row, rows = _answerable(uow, actor, round_id, request_id)
        if row.state == APPROVED:
            return _dump(row, actor, rows)
        _check_answer(actor, row, rows)
        unit = {"path": row.unit_path}
        _check_not_finalised(ports, round_id, unit)
        target_path = route(row.unit_path, rows)
        target = ports.units([hierarchy.unit_id_of(target_path)])[hierarchy.unit_id_of(target_path)]
        # every unit strictly below the approver's, down to the unit asked about
        ids = hierarchy.path_ids(row.unit_path)
        below = ids[len(hierarchy.path_ids(actor.path)):] if not actor.is_system else ids[1:]
        revoked = []
        for unit_id in below:
            current = rows.get(unit_id)
            if current is not None and current.state == CONFIRMED:
                handlers.revoke(db, ports, round_id, unit_id, {"reason": row.reason})
                revoked.append(unit_id)
            elif _revoked_for(current, row, actor):
                revoked.append(unit_id)  # reopened by an earlier attempt that failed part way
        answered = uow.execute(update(revocation_requests).where(R.id == row.id).values(
            state=APPROVED, answered_at=func.now(), answered_by=actor.user_id,
            answered_by_username=actor.username, answered_by_unit_id=actor.org_unit_id,
            answer_reason=note, revoked=revoked, **_routed(target),
        ).returning(*revocation_requests.c)).first()
        uow.audit("revocation_request_approved", ENTITY, row.id, {
            "round_id": round_id, "unit_id": row.unit_id, "reason": row.reason, "note": note,
            "revoked": revoked, "routed_to": target["id"]})
        uow.commit()
    with db.session() as session:
        rows = _rows_for(session, round_id, actor, [answered])
    return _dump(answered, actor, rows)


def _revoked_for(current, request, actor):
    return (current is not None and current.state != CONFIRMED and current.revoked_at is not None
            and current.revoked_at >= request.created_at and current.revoked_by == actor.user_id
            and current.revoke_reason == request.reason)


def decline(db, ports, round_id, request_id, data):
    actor = require_actor(db.actor)
    round_id, request_id = _ids(round_id, request_id)
    reason = load(RevocationDecline(), data if isinstance(data, dict) else {"reason": data})["reason"]
    with db.uow() as uow:
        row, rows = _answerable(uow, actor, round_id, request_id)
        _check_answer(actor, row, rows)
        answered = uow.execute(update(revocation_requests).where(R.id == row.id).values(
            state=DECLINED, answered_at=func.now(), answered_by=actor.user_id,
            answered_by_username=actor.username, answered_by_unit_id=actor.org_unit_id,
            answer_reason=reason).returning(*revocation_requests.c)).first()
        uow.audit("revocation_request_declined", ENTITY, row.id, {
            "round_id": round_id, "unit_id": row.unit_id, "reason": reason})
        uow.commit()
    return _dump(answered, actor, rows)


def withdraw(db, round_id, request_id):
    actor = require_actor(db.actor)
    round_id, request_id = _ids(round_id, request_id)
    with db.uow() as uow:
        row, rows = _answerable(uow, actor, round_id, request_id)
        if not _may_withdraw(actor, row):
            raise forbidden("a request is withdrawn by the unit that made it or the unit it is about")
        if row.state != PENDING:
            raise conflict(f"the request is already {row.state}")
        answered = uow.execute(update(revocation_requests).where(R.id == row.id).values(
            state=WITHDRAWN, answered_at=func.now(), answered_by=actor.user_id,
            answered_by_username=actor.username, answered_by_unit_id=actor.org_unit_id,
        ).returning(*revocation_requests.c)).first()
        uow.audit("revocation_request_withdrawn", ENTITY, row.id, {
            "round_id": round_id, "unit_id": row.unit_id})
        uow.commit()
    return _dump(answered, actor, rows)


# -- notices and counts, for other services ---------------------------------------------------

def notices(db, round_id=None):
    """The acting user's notices: pending requests its unit can answer now, and
    the answers (of the last week) to requests made by or about its unit."""
    actor = require_actor(db.actor)
    if actor.is_system:
        return []
    where = [R.unit_path.startswith(actor.path, autoescape=True)]
    if round_id is not None:
        where.append(R.round_id == handlers._int(round_id, "round"))
    mine = or_(R.requested_by_unit_id == actor.org_unit_id, R.unit_id == actor.org_unit_id)
    with db.session() as session:
        since = handlers._now(session) - dt.timedelta(days=OUTCOME_DAYS)
        found = session.execute(select(revocation_requests).where(*where, or_(
            and_(R.state == PENDING, R.unit_path != actor.path),
            and_(R.state.in_((APPROVED, DECLINED)), mine, R.answered_at >= since)))
            .order_by(R.created_at.desc(), R.id.desc()).limit(500)).all()
        by_round = {}
        for r in found:
            by_round.setdefault(r.round_id, []).append(r)
        rows = {rid: _rows_for(session, rid, actor, rs) for rid, rs in by_round.items()}
    items = []
    for r in found:
        if r.state == PENDING:
            if _answer_problem(actor, r.unit_path, rows[r.round_id]) is not None:
                continue
            action, at = "answer", r.created_at
        else:
            action, at = "outcome", r.answered_at
        item = _dump(r)
        items.append({"kind": "revocation_request", "round_id": r.round_id, "request_id": r.id,
                      "unit_id": r.unit_id, "at": handlers._bkk(at), "action": action, "state": r.state,
                      "title_data": {"unit": item["unit"], "routed_to": item["routed_to"],
                                     "state": r.state, "reason": r.reason,
                                     "answer_reason": r.answer_reason, "revoked": item["revoked"]}})
    return plain(items)


def counts(db, ports, round_id, unit_ids):
    """``{str(unit_id): n}``: pending requests about each unit or a unit below it
    (units the acting user cannot read are left out)."""
    actor = require_actor(db.actor)
    round_id = handlers._int(round_id, "round")
    try:
        ids = sorted({int(i) for i in unit_ids or []})
    except (TypeError, ValueError):
        raise validation_error({"unit_ids": ["a list of unit ids"]})
    units = [u for u in ports.units(ids).values() if actor.can_read(u["path"])] if ids else []
    if not units:
        return {}
    with db.session() as session:
        paths = session.execute(select(R.unit_path).where(
            R.round_id == round_id, R.state == PENDING,
            or_(*[R.unit_path.startswith(u["path"], autoescape=True) for u in units]))).scalars().all()
    return {str(u["id"]): sum(1 for p in paths if p.startswith(u["path"])) for u in units}


# -- seeing upward -----------------------------------------------------------------------------

def _upward_item(row, unit_id):
    confirmed = row is not None and row.state == CONFIRMED
    return {"unit_id": unit_id, "state": domain.public_state(row.state if row is not None else OPEN),
            "confirmed_at": handlers._bkk(row.confirmed_at) if confirmed else None,
            "confirmed_by": row.confirmed_by if confirmed else None,
            "confirmed_by_name": row.confirmed_by_username if confirmed else None}


def upward_status(db, ports, round_id, unit_id):
    """The reduced view of a unit above the caller's: state, when and by whom."""
    actor = require_actor(db.actor)
    round_id, unit_id = handlers._int(round_id, "round"), handlers._int(unit_id, "org unit")
    unit = ports.units([unit_id]).get(unit_id)
    if unit is None or not (actor.can_read(unit["path"])
                            or hierarchy.is_ancestor_or_self(unit["path"], actor.path)):
        raise not_found("org unit")
    ports.round_ref(round_id)
    with db.session() as session:
        row = _states(session, round_id, [unit_id]).get(unit_id)
    return plain(Status().dump(_upward_item(row, unit_id)))


def ancestors(db, ports, round_id, unit_id):
    """``{items}``: the confirmation state of every unit above ``unit_id`` (in the
    caller's subtree), top-down."""
    actor = require_actor(db.actor)
    round_id, unit_id = handlers._int(round_id, "round"), handlers._int(unit_id, "org unit")
    unit = handlers._readable_unit(ports, actor, unit_id)
    ports.round_ref(round_id)
    ids = hierarchy.path_ids(unit["path"])[:-1]
    units = ports.units(ids) if ids else {}
    with db.session() as session:
        rows = _states(session, round_id, ids)
    items = []
    for i in ids:
        ref = units.get(i) or {"type": None}
        item = dict(_upward_item(rows.get(i), i), code=ref.get("code"), name=ref.get("name"),
                    type=ref.get("type"))
        items.append(AncestorState().dump(item))
    return plain({"items": items})
