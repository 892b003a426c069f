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
from services.common.validation import as_id, load, page
from services.confirmation import domain, handlers
from services.confirmation.domain import CONFIRMED, OPEN
from services.confirmation.schemas import (
    REQUEST_STATES, AncestorState, RevocationApprove, RevocationDecline, RevocationRequest,
    RevocationRequestCreate, Status,
)
from services.confirmation.models import revocation_requests

R = revocation_requests.c
PENDING, APPROVED, DECLINED, WITHDRAWN = REQUEST_STATES
ENTITY = "revocation_request"
OUTCOME_DAYS = 7  # how long a requester's notices show the answer


# -- helpers -------------------------------------------------------------------------

def _states(uow, round_id, ids):
    """id -> state of the units' confirmations (units never touched: open)."""
    return handlers.states_of(handlers.confirmations_of(uow, round_id, ids))


def _dump(row, actor=None, states=None):
    item = {
        "id": row.id, "round_id": row.round_id,
        "unit": {"id": row.unit_id, "code": row.unit_code, "name": row.unit_name, "type": row.unit_type},
        "state": row.state, "reason": row.reason,
        "requested_by": row.requested_by, "requested_by_username": row.requested_by_username,
        "requested_by_unit_id": row.requested_by_unit_id,
        "routed_to": {"id": row.routed_to_id, "code": row.routed_to_code, "name": row.routed_to_name,
                      "type": row.routed_to_type},
        "created_at": handlers.bkk(row.created_at), "answered_at": handlers.bkk(row.answered_at),
        "answered_by": row.answered_by, "answered_by_username": row.answered_by_username,
        "answer_reason": row.answer_reason, "revoked": list(row.revoked or []),
    }
    if actor is not None:
        pending = row.state == PENDING
        item["can_answer"] = pending and states is not None and \
            domain.a_request_is_answered_by_the_unit_it_goes_to_or_above(actor, row.unit_path, states) is None
        item["can_withdraw"] = pending and _may_withdraw(actor, row)
    return plain(RevocationRequest().dump(item))


def _may_withdraw(actor, row):
    return domain.a_request_is_withdrawn_by_its_maker_or_its_unit(actor, row.requested_by_unit_id, row.unit_id)


def _load_request(uow, actor, round_id, request_id, lock=False):
    stmt = select(revocation_requests).where(R.round_id == round_id, R.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.execute(stmt).first()
    if row is None or not actor.can_read(row.unit_path):
        raise not_found("revocation request")
    return row


def _ids(round_id, request_id):
    return as_id(round_id, "round"), as_id(request_id, "revocation request")


# -- create ----------------------------------------------------------------------------

def create(uow, ports, round_id, data):
    actor = require_actor(uow.actor)
    round_id = as_id(round_id, "round")
    body = load(RevocationRequestCreate(), data)
    unit = handlers.readable_unit(ports, actor, body["unit_id"])
    ports.round_ref(round_id)  # the round exists
    domain.only_a_confirmation_with_a_unit_above_is_requested_back(unit)
    domain.a_finalised_round_reopens_nothing(ports.window_at(round_id, unit.path))
    states = _states(uow, round_id, hierarchy.path_ids(unit.path))
    if states.get(unit.id) != CONFIRMED:
        raise LecError("not_confirmed", "the unit is not confirmed")
    target_path = domain.revocation_request_goes_to_the_lowest_ancestor_able_to_act(unit.path, states)
    if target_path is None:
        raise conflict("every unit above is confirmed: the round is finalised")
    target = ports.unit(hierarchy.unit_id_of(target_path))
    if target is None:
        raise not_found("org unit")
    try:
        row = uow.execute(revocation_requests.insert().values(
            round_id=round_id, unit_id=unit.id, unit_type=unit.type, unit_code=unit.code,
            unit_name=unit.name, unit_path=unit.path, state=PENDING, reason=body["reason"],
            requested_by=actor.user_id, requested_by_username=actor.username,
            requested_by_unit_id=actor.org_unit_id, **_routed(target),
        ).returning(*revocation_requests.c)).first()
    except IntegrityError:
        raise conflict("a request to reopen this unit's confirmation is already pending")
    uow.audit("revocation_requested", ENTITY, row.id, {
        "round_id": round_id, "unit_id": unit.id, "reason": body["reason"], "routed_to": target.id})
    uow.commit()
    return _dump(row, actor, states)


def _routed(target):
    return {"routed_to_id": target.id, "routed_to_type": target.type, "routed_to_code": target.code,
            "routed_to_name": target.name, "routed_to_path": target.path}


# -- read --------------------------------------------------------------------------------

def _states_for(uow, round_id, actor, requests):
    ids = {actor.org_unit_id}
    for r in requests:
        if r.state == PENDING:
            ids.update(hierarchy.path_ids(r.unit_path))
    return _states(uow, round_id, ids)


def list_requests(uow, ports, round_id, org_unit_id=None, state=None, limit=None, offset=None):
    """The requests about the org unit or a unit beneath it: those it can answer
    and those made by or about it (pending first, newest first)."""
    actor = require_actor(uow.actor)
    round_id = as_id(round_id, "round")
    unit = handlers.readable_unit(ports, actor, as_id(org_unit_id or actor.org_unit_id, "org unit"))
    if state not in (None, "") and state not in REQUEST_STATES:
        raise validation_error({"state": [f"one of {', '.join(REQUEST_STATES)}"]})
    limit, offset = page(limit, offset)
    where = [R.round_id == round_id, R.unit_path.startswith(unit.path, autoescape=True)]
    if state:
        where.append(R.state == state)
    total = uow.execute(select(func.count()).select_from(revocation_requests).where(*where)).scalar_one()
    found = uow.execute(select(revocation_requests).where(*where).order_by(
        (R.state == PENDING).desc(), R.created_at.desc(), R.id.desc()).limit(limit).offset(offset)).all()
    states = _states_for(uow, round_id, actor, found)
    return {"items": [_dump(r, actor, states) for r in found], "total": total}


def get_request(uow, round_id, request_id):
    actor = require_actor(uow.actor)
    round_id, request_id = _ids(round_id, request_id)
    row = _load_request(uow, actor, round_id, request_id)
    return _dump(row, actor, _states_for(uow, round_id, actor, [row]))


# -- answer ----------------------------------------------------------------------------------

def _answerable(uow, actor, round_id, request_id):
    """The request, locked, with the states on its path and of the actor's unit."""
    row = _load_request(uow, actor, round_id, request_id, lock=True)
    return row, _states(uow, round_id, hierarchy.path_ids(row.unit_path) + [actor.org_unit_id])


def _check_answer(actor, row, states):
    if row.state != PENDING:
        raise conflict(f"the request is already {row.state}")
    problem = domain.a_request_is_answered_by_the_unit_it_goes_to_or_above(actor, row.unit_path, states)
    if problem is not None:
        raise forbidden(problem)


def _answered(uow, row, actor, state, **values):
    return uow.execute(update(revocation_requests).where(R.id == row.id).values(
        state=state, answered_at=func.now(), answered_by=actor.user_id,
        answered_by_username=actor.username, answered_by_unit_id=actor.org_unit_id, **values,
    ).returning(*revocation_requests.c)).first()


@handlers.deadlock_safe
def approve(uow, ports, round_id, request_id, data=None):
    """Approve a request: the chain is reopened top-down, each unit through
    :func:`handlers.revoke` in a unit of work of its own, while this one keeps
    the request locked, so that no second answer races the approval; the
    request is marked approved once every revocation is done. A crash part way
    leaves it pending, and a retry skips the units already reopened."""
    actor = require_actor(uow.actor)
    round_id, request_id = _ids(round_id, request_id)
    note = load(RevocationApprove(), data if data is not None else {}).get("reason")
    row, states = _answerable(uow, actor, round_id, request_id)
    if row.state == APPROVED:
        return _dump(row, actor, states)
    _check_answer(actor, row, states)
    domain.a_finalised_round_reopens_nothing(ports.window_at(round_id, row.unit_path))
    target_path = domain.revocation_request_goes_to_the_lowest_ancestor_able_to_act(row.unit_path, states)
    target = ports.units([hierarchy.unit_id_of(target_path)])[hierarchy.unit_id_of(target_path)]
    below = domain.an_approval_reopens_the_chain_from_the_top(actor, row.unit_path)
    rows = handlers.confirmations_of(uow, round_id, below)
    to_revoke = [i for i in below if i in rows and rows[i].confirmed]
    revoked = [i for i in below if i in to_revoke or _revoked_for(rows.get(i), row, actor)]
    for unit_id in to_revoke:
        with uow.fork() as step:
            handlers.revoke(step, ports, round_id, unit_id, {"reason": row.reason})
    answered = _answered(uow, row, actor, APPROVED, answer_reason=note, revoked=revoked, **_routed(target))
    uow.audit("revocation_request_approved", ENTITY, row.id, {
        "round_id": round_id, "unit_id": row.unit_id, "reason": row.reason, "note": note,
        "revoked": revoked, "routed_to": target.id})
    uow.commit()
    return _dump(answered, actor, _states_for(uow, round_id, actor, [answered]))


def _revoked_for(current, request, actor):
    """Reopened for this request by an earlier attempt that failed part way?"""
    return (current is not None and not current.confirmed and current.revoked_at is not None
            and current.revoked_at >= request.created_at and current.revoked_by == actor.user_id
            and current.revoke_reason == request.reason)


def decline(uow, ports, round_id, request_id, data):
    actor = require_actor(uow.actor)
    round_id, request_id = _ids(round_id, request_id)
    reason = load(RevocationDecline(), data if isinstance(data, dict) else {"reason": data})["reason"]
    row, states = _answerable(uow, actor, round_id, request_id)
    _check_answer(actor, row, states)
    answered = _answered(uow, row, actor, DECLINED, answer_reason=reason)
    uow.audit("revocation_request_declined", ENTITY, row.id, {
        "round_id": round_id, "unit_id": row.unit_id, "reason": reason})
    uow.commit()
    return _dump(answered, actor, states)


def withdraw(uow, round_id, request_id):
    actor = require_actor(uow.actor)
    round_id, request_id = _ids(round_id, request_id)
    row, states = _answerable(uow, actor, round_id, request_id)
    if not _may_withdraw(actor, row):
        raise forbidden("a request is withdrawn by the unit that made it or the unit it is about")
    if row.state != PENDING:
        raise conflict(f"the request is already {row.state}")
    answered = _answered(uow, row, actor, WITHDRAWN)
    uow.audit("revocation_request_withdrawn", ENTITY, row.id, {
        "round_id": round_id, "unit_id": row.unit_id})
    uow.commit()
    return _dump(answered, actor, states)


# -- notices and counts, for other services ---------------------------------------------------

def notices(uow, round_id=None):
    """The acting user's notices: pending requests its unit can answer now, and
    the answers (of the last week) to requests made by or about its unit."""
    actor = require_actor(uow.actor)
    if actor.is_system:
        return []
    where = [R.unit_path.startswith(actor.path, autoescape=True)]
    if round_id is not None:
        where.append(R.round_id == as_id(round_id, "round"))
    mine = or_(R.requested_by_unit_id == actor.org_unit_id, R.unit_id == actor.org_unit_id)
    since = handlers.now(uow) - dt.timedelta(days=OUTCOME_DAYS)
    found = uow.execute(select(revocation_requests).where(*where, or_(
        and_(R.state == PENDING, R.unit_path != actor.path),
        and_(R.state.in_((APPROVED, DECLINED)), mine, R.answered_at >= since)))
        .order_by(R.created_at.desc(), R.id.desc()).limit(500)).all()
    by_round = {}
    for r in found:
        by_round.setdefault(r.round_id, []).append(r)
    states = {rid: _states_for(uow, rid, actor, rs) for rid, rs in by_round.items()}
    items = []
    for r in found:
        if r.state == PENDING:
            if domain.a_request_is_answered_by_the_unit_it_goes_to_or_above(
                    actor, r.unit_path, states[r.round_id]) is not None:
                continue
            action, at = "answer", r.created_at
        else:
            action, at = "outcome", r.answered_at
        item = _dump(r)
        items.append({"kind": "revocation_request", "round_id": r.round_id, "request_id": r.id,
                      "unit_id": r.unit_id, "at": handlers.bkk(at), "action": action, "state": r.state,
                      "title_data": {"unit": item["unit"], "routed_to": item["routed_to"],
                                     "state": r.state, "reason": r.reason,
                                     "answer_reason": r.answer_reason, "revoked": item["revoked"]}})
    return plain(items)


def counts(uow, ports, round_id, unit_ids):
    """``{str(unit_id): n}``: pending requests about each unit or a unit below it
    (units the acting user cannot read are left out)."""
    actor = require_actor(uow.actor)
    round_id = as_id(round_id, "round")
    try:
        ids = sorted({int(i) for i in unit_ids or []})
    except (TypeError, ValueError):
        raise validation_error({"unit_ids": ["a list of unit ids"]})
    units = [u for u in ports.units(ids).values() if actor.can_read(u.path)] if ids else []
    if not units:
        return {}
    paths = uow.execute(select(R.unit_path).where(
        R.round_id == round_id, R.state == PENDING,
        or_(*[R.unit_path.startswith(u.path, autoescape=True) for u in units]))).scalars().all()
    return {str(u.id): sum(1 for p in paths if p.startswith(u.path)) for u in units}


# -- seeing upward -----------------------------------------------------------------------------

def _upward_item(row, unit_id):
    confirmed = row is not None and row.confirmed
    return {"unit_id": unit_id, "state": domain.public_state(row.state if row is not None else OPEN),
            "confirmed_at": handlers.bkk(row.confirmed_at) if confirmed else None,
            "confirmed_by": row.confirmed_by if confirmed else None,
            "confirmed_by_name": row.confirmed_by_username if confirmed else None}


def upward_status(uow, ports, round_id, unit_id):
    """The reduced view of a unit above the caller's: state, when and by whom."""
    actor = require_actor(uow.actor)
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    unit = ports.unit(unit_id)
    if unit is None or not (actor.can_read(unit.path) or hierarchy.is_ancestor_or_self(unit.path, actor.path)):
        raise not_found("org unit")
    ports.round_ref(round_id)
    row = handlers.confirmations_of(uow, round_id, [unit_id]).get(unit_id)
    return plain(Status().dump(_upward_item(row, unit_id)))


def ancestors(uow, ports, round_id, unit_id):
    """``{items}``: the confirmation state of every unit above ``unit_id`` (in the
    caller's subtree), top-down."""
    actor = require_actor(uow.actor)
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    unit = handlers.readable_unit(ports, actor, unit_id)
    ports.round_ref(round_id)
    ids = hierarchy.path_ids(unit.path)[:-1]
    units = ports.units(ids) if ids else {}
    rows = handlers.confirmations_of(uow, round_id, ids)
    items = []
    for i in ids:
        ref = units.get(i)
        item = dict(_upward_item(rows.get(i), i), code=ref.code if ref else None,
                    name=ref.name if ref else None, type=ref.type if ref else None)
        items.append(AncestorState().dump(item))
    return plain({"items": items})
