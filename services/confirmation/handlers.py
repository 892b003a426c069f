"""Confirmation use cases: confirm, revoke, status, and the reconciler.

Confirming an institution or an LAO is a saga across two services (no
distributed transaction):

1. begin: lock the rows (parent, unit, children), check the rules, record
   ``sealing`` with a saga id and the running process; commit.
2. seal: enrollment's ``seal`` locks the learners (headcounts) and returns
   their counts, atomically with edits.
3. record: ``confirmed`` with the sealed counts, the audit row and the
   ``unit_confirmed`` event (outbox), in one transaction, only if the saga is
   still ours.

A failure after 1 compensates: unseal, then back to ``open``. A crash leaves a
``sealing`` row; a redelivered request adopts it (the seal is idempotent and,
being sealed, the learners cannot have changed), and the reconciler unwinds
any saga whose process is gone or that outlived every RPC timeout.

Revoking records first (``unsealing``, audit, ``unit_revoked``), then unseals:
a revoked unit is never confirmed with unsealed learners. Provinces and the
department seal nothing in enrollment (their children are frozen by the
"parent confirmed" rule), so they confirm and revoke in one transaction.

Lock order everywhere: parent row (share), unit row (update), children rows
(share), by depth, so concurrent confirms and revokes serialise without deadlock.

Every use case takes the caller's unit of work (``uow``): a saga commits it once
per step, a read never commits. The rules and the state machine are in
domain.py; :func:`apply` is the one statement that changes a confirmation.
"""
import logging
import os
import uuid
from typing import Dict, List, Optional

from sqlalchemy import bindparam, func, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from services.common import hierarchy, settings
from services.common.context import require_actor
from services.common.db import COMMON
from services.common.errors import LecError, conflict, not_found, validation_error
from services.common.jsonutil import BANGKOK, plain
from services.common.validation import as_id, load
from services.common.values import Unit
from services.common.vocabulary import CONFIRMING_TYPES, SEALED_TYPES
from services.confirmation import domain
from services.confirmation.domain import (
    CONFIRMED, OPEN, SEALING, UNSEALING, Confirmation, Record, SagaLost, Transition,
)
from services.confirmation.models import confirmations, idempotency_keys
from services.confirmation.schemas import (
    ConfirmationBody, ConfirmRequest, HistoryEntry, RevocationBody, RevokeRequest, Status,
)

log = logging.getLogger(__name__)

C = confirmations.c
IDEMPOTENCY_KEY_MAX = 200
# the schemas every confirm and revoke dumps with (made once: a dump changes nothing in them)
STATUS, CONFIRMATION_BODY, REVOCATION_BODY = Status(), ConfirmationBody(), RevocationBody()


def saga_timeout():
    """Seconds after which a saga still running is taken for dead (longer than any RPC)."""
    return settings.current().confirm_saga_timeout


def crashpoint(name):
    """``LEC_CRASHPOINT=<name>`` makes the process die here (crash tests)."""
    if settings.current().crashpoint == name:
        log.error("crash point %s reached: exiting", name)
        logging.shutdown()
        os._exit(137)


# -- small helpers -----------------------------------------------------------------

def _key(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > IDEMPOTENCY_KEY_MAX or not value.isprintable():
        raise validation_error({"Idempotency-Key": [f"at most {IDEMPOTENCY_KEY_MAX} printable characters"]})
    return value


def _entity(round_id, unit_id):
    return f"{round_id}:{unit_id}"


def now(uow):
    """The database's time (the transaction's)."""
    return uow.execute(select(func.now())).scalar_one()


def _row_values(unit: Unit):
    return {"unit_id": unit.id, "unit_type": unit.type, "unit_code": unit.code,
            "unit_path": unit.path, "parent_id": unit.parent_id}


def _parent_of(unit: Unit) -> List[Unit]:
    """The parent as far as its row needs it, from the unit's path (no lookup)."""
    path = hierarchy.parent_path_of(unit.path)
    if path is None:
        return []
    grand = hierarchy.parent_path_of(path)
    return [Unit(id=hierarchy.unit_id_of(path), type=hierarchy.PARENT_TYPE[unit.type], path=path,
                 parent_id=hierarchy.unit_id_of(grand) if grand else None)]


def ensure_rows(uow, round_id, units, commit=True):
    """Every unit a use case locks has a row (``open`` until confirmed); commits unless
    ``commit`` is false (the caller then locks the rows in the same transaction: the rows
    are inserted parent first, in the order every use case locks them)."""
    values = [dict(_row_values(u), round_id=round_id) for u in units if u.type in CONFIRMING_TYPES]
    if not values:
        return
    uow.execute(pg_insert(confirmations).values(values).on_conflict_do_nothing())
    if commit:
        uow.commit()


def _lock(uow, round_id, ids, share=False, skip_locked=False) -> Dict[int, Confirmation]:
    if not ids:
        return {}
    stmt = (select(confirmations).where(C.round_id == round_id, C.unit_id.in_(list(ids)))
            .order_by(C.unit_id).with_for_update(read=share, skip_locked=skip_locked))
    return {r.unit_id: Confirmation.from_row(r) for r in uow.execute(stmt)}


def _locking(name, unit_ids, share):
    rows = select(confirmations).where(C.round_id == bindparam("round_id"), unit_ids)
    return select(literal(name).label("role"), rows.order_by(C.unit_id).with_for_update(read=share)
                  .subquery(name))


# Parent (share), unit (update), children (share), in this order, in one round trip: the
# branches of a UNION ALL run one after the other, each locking its rows as it reads them.
_LOCKED_ROWS = union_all(
    _locking("parent", C.unit_id == bindparam("parent_id"), True),
    _locking("unit", C.unit_id == bindparam("unit_id"), False),
    _locking("children", C.unit_id.in_(bindparam("children", expanding=True)), True))


def _locked_rows(uow, round_id, unit: Unit, children):
    """Parent (share), unit (update), children (share): in this order, one statement."""
    found: Dict[str, Dict[int, Confirmation]] = {"parent": {}, "unit": {}, "children": {}}
    for r in uow.execute(_LOCKED_ROWS, {"round_id": round_id, "parent_id": unit.parent_id, "unit_id": unit.id,
                                        "children": [c.id for c in children]}):
        found[r.role][r.unit_id] = Confirmation.from_row(r)
    parent = found["parent"].get(unit.parent_id) if unit.parent_id else None
    return parent, found["unit"][unit.id], found["children"]


def confirmations_of(uow, round_id, ids) -> Dict[int, Confirmation]:
    """id -> confirmation, unlocked (units never touched have none: open)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {r.unit_id: Confirmation.from_row(r) for r in uow.execute(select(confirmations).where(
        C.round_id == round_id, C.unit_id.in_(ids)))}


def states_of(rows: Dict[int, Confirmation]) -> Dict[int, str]:
    return {k: r.state for k, r in rows.items()}


def apply(uow, row: Confirmation, step: Transition, **unit_values) -> Confirmation:
    """The one way a confirmation changes state: the transition's values, the
    time of this statement where it says so, the version one up. (The statement's
    time, not the transaction's: the transaction began before its locks were
    granted, and ``confirmed_at`` is when the confirmation was recorded.)"""
    values = dict(step.values, state=step.state, updated_at=func.now(), version=C.version + 1,
                  **unit_values)
    values.update({column: func.clock_timestamp() for column in step.stamped})
    changed = uow.execute(update(confirmations).where(
        C.round_id == row.round_id, C.unit_id == row.unit_id).values(**values)
        .returning(*confirmations.c)).first()
    return Confirmation.from_row(changed)


def readable_unit(ports, actor, unit_id) -> Unit:
    unit = ports.unit(unit_id)
    if unit is None:
        raise not_found("org unit")
    require_actor(actor).require_read(unit.path, "org unit")
    return unit


def _given_unit(actor, unit_id, record) -> Optional[Unit]:
    """The unit as the caller already read it from its own unit directory (the gateway
    resolves the URL's unit before it calls): the same entry, under the same refresh rule,
    without asking the registry again. Anything that is not that unit's record is ignored."""
    if not isinstance(record, dict):
        return None
    try:
        unit = Unit.from_record(record)
    except (KeyError, TypeError, ValueError):
        return None
    if unit.id != unit_id:
        return None
    require_actor(actor).require_read(unit.path, "org unit")
    return unit


def _request(uow, ports, action, round_id, unit_id, idempotency_key, unit_record=None):
    """What confirm and revoke start with: the acting user, the ids, the key,
    and either the answer already given to this key or the (readable) unit."""
    actor = require_actor(uow.actor)
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    key = _key(idempotency_key)
    replay = _replay(uow, actor, key, action, round_id, unit_id)
    unit = None
    if replay is None:
        unit = _given_unit(actor, unit_id, unit_record) or readable_unit(ports, actor, unit_id)
    return actor, round_id, key, replay, unit


def _replay(uow, actor, key, action, round_id, unit_id):
    if key is None:
        return None
    row = uow.execute(select(idempotency_keys).where(
        idempotency_keys.c.user_id == actor.user_id, idempotency_keys.c.key == key)).first()
    if row is None:
        return None
    if (row.action, row.round_id, row.unit_id) != (action, round_id, unit_id):
        raise conflict("this Idempotency-Key was already used for another request")
    return row.response


def _remember(uow, actor, key, action, round_id, unit_id, response):
    if key is not None:
        uow.execute(pg_insert(idempotency_keys).values(
            user_id=actor.user_id, key=key, action=action, round_id=round_id, unit_id=unit_id,
            response=response).on_conflict_do_nothing())


def bkk(value):
    return value.astimezone(BANGKOK) if value is not None else None


def _unit_ref(row):
    return {"id": row.unit_id, "code": row.unit_code, "type": row.unit_type, "path": row.unit_path}


def _event_body(schema, row: Confirmation, round_ref, **extra):
    body = {"round": round_ref, "org_unit": _unit_ref(row), "counts": row.counts,
            "confirmed_at": bkk(row.confirmed_at), "confirmed_by": row.confirmed_by,
            "confirmed_by_username": row.confirmed_by_username, "confirmation_version": row.version,
            "seal_digest": row.seal_digest, "learners_digest": row.learners_digest, "note": row.note,
            **extra}
    if row.other_schools is not None:
        body["other_schools"] = row.other_schools
    return schema.dump(body)


def deadlock_safe(fn):
    """A lost lock race surfaces as ``conflict`` (retry), never as a 500."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DBAPIError as exc:
            code = getattr(getattr(exc, "orig", None), "pgcode", None)
            if code in ("40P01", "40001", "55P03"):
                raise conflict("a concurrent change got in the way; try again")
            raise
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


# -- status ------------------------------------------------------------------------

def _children_progress(children: List[Unit], rows: Dict[int, Confirmation]):
    pending = domain.a_unit_confirms_after_all_active_children(children, states_of(rows))
    items, confirmed = [], 0
    for c in sorted(children, key=lambda c: (c.code or "", c.id)):
        row = rows.get(c.id)
        done = row is not None and row.confirmed
        blocking = domain.pending_and_closed_units_do_not_block(c)
        confirmed += blocking and done
        items.append({"id": c.id, "code": c.code, "name": c.name, "type": c.type,
                      "status": c.status, "state": domain.public_state(row.state if row else OPEN),
                      "blocking": blocking,
                      "confirmed_at": bkk(row.confirmed_at) if done else None,
                      "total": row.counts["total"] if done else None,
                      "note": row.note if done else None})
    return {"total": confirmed + len(pending), "confirmed": confirmed, "pending": pending, "items": items}


def _status(round_id, unit: Unit, row: Optional[Confirmation], children, child_rows, live=None):
    """The API.md view of a unit: state, counts (sealed when confirmed; else live
    learners for an institution, or the sum of the children confirmed so far)."""
    state = row.state if row is not None else OPEN
    confirmed = state == CONFIRMED
    live = live or {}
    if confirmed:
        counts, source, other = row.counts, "sealed", row.other_schools
    elif unit.is_institution:
        counts, source, other = live.get("counts"), "live", None
    else:
        counts, other = domain.counts_of_confirmed_children(child_rows.values())
        source = "children"
        if unit.type == "lao":
            other = live.get("other_schools")
    progress = _children_progress(children, child_rows)
    status = {
        "unit_id": unit.id, "round_id": round_id,
        "unit": {"id": unit.id, "code": unit.code, "type": unit.type, "path": unit.path},
        "state": domain.public_state(state),
        "saga": state if state in (SEALING, UNSEALING) else None,
        "confirmed_at": bkk(row.confirmed_at) if confirmed else None,
        "confirmed_by": row.confirmed_by if confirmed else None,
        "confirmed_by_username": row.confirmed_by_username if confirmed else None,
        "counts": domain.normalise_counts(counts), "counts_source": source,
        "other_schools": other,
        "children": progress, "pending": progress["pending"],
        "revoked_at": bkk(row.revoked_at) if row is not None else None,
        "revoked_by": row.revoked_by if row is not None else None,
        "revoke_reason": row.revoke_reason if row is not None else None,
        "version": row.version if row is not None else 0,
        "seal_digest": row.seal_digest if confirmed else None,
        "learners_digest": row.learners_digest if confirmed else None,
        "note": row.note if confirmed else None,
    }
    return plain(STATUS.dump(status))


def status(uow, ports, round_id, unit_id):
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    unit = readable_unit(ports, uow.actor, unit_id)
    ports.round_ref(round_id)  # the round exists
    children = ports.children(unit, uow.session)
    rows = confirmations_of(uow, round_id, [unit_id] + [c.id for c in children])
    row = rows.pop(unit_id, None)
    live = None
    if row is None or not row.confirmed:
        if unit.is_institution:
            live = {"counts": ports.live_counts(round_id, unit_id)}
        elif unit.type == "lao":
            other = ports.live_counts(round_id, unit_id)
            live = {"other_schools": domain.normalise_counts(other) if other else None}
    return _status(round_id, unit, row, children, rows, live)


def states(uow, round_id, unit_ids):
    """``{str(unit_id): {state, confirmed_at, counts, other_schools, confirmed_by,
    confirmed_by_username, version}}`` (``version``: the events' ``confirmation_version``;
    0 for a unit never touched)."""
    round_id = as_id(round_id, "round")
    ids = [int(i) for i in unit_ids or []]
    result = {str(i): {"state": OPEN, "confirmed_at": None, "counts": None, "version": 0} for i in ids}
    for r in confirmations_of(uow, round_id, ids).values():
        confirmed = r.confirmed
        result[str(r.unit_id)] = {"state": domain.public_state(r.state),
                                  "confirmed_at": bkk(r.confirmed_at) if confirmed else None,
                                  "counts": r.counts if confirmed else None,
                                  "other_schools": r.other_schools if confirmed else None,
                                  "confirmed_by": r.confirmed_by if confirmed else None,
                                  "confirmed_by_username": r.confirmed_by_username if confirmed else None,
                                  "version": r.version}
    return plain(result)


def history(uow, round_id, unit_id, limit=100):
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    audit = COMMON.audit_log
    rows = uow.execute(select(audit).where(
        audit.c.entity == "confirmation", audit.c.entity_id == _entity(round_id, unit_id))
        .order_by(audit.c.id.desc()).limit(limit)).all()
    items = [plain(HistoryEntry().dump(dict(r._mapping, at=bkk(r.at)))) for r in rows]
    return {"items": items, "total": len(items)}


# -- confirm -----------------------------------------------------------------------

def _other_schools(sealed):
    other = domain.normalise_counts(sealed.get("counts"))
    other["schools"] = [{"id": s["id"], "code": s.get("code"), "closed": bool(s.get("closed")),
                         "counts": domain.normalise_counts(s.get("counts"))}
                        for s in sealed.get("schools") or []]
    return other


def _note(data):
    """The optional body of a confirm: ``{note}`` (absent, null or blank: no note)."""
    return None if data is None else load(ConfirmRequest(), data).get("note")


def _pending(children, kids):
    return domain.a_unit_confirms_after_all_active_children(children, states_of(kids))


@deadlock_safe
def confirm(uow, ports, round_id, unit_id, idempotency_key=None, data=None, unit_record=None):
    """Confirm the actor's own unit. ``unit_record``: the unit as the caller already read it
    (see :func:`_given_unit`); without it the unit comes from the unit directory."""
    note = _note(data)
    actor, round_id, key, replay, unit = _request(uow, ports, "confirm", round_id, unit_id,
                                                  idempotency_key, unit_record)
    if replay is not None:
        return replay
    domain.only_the_unit_itself_confirms(actor, unit)
    domain.an_other_affiliation_school_confirms_with_its_lao(unit)
    if not unit.active:  # refused for its status: make sure of it first
        unit = ports.unit(unit.id, fresh=True) or unit
    domain.only_an_active_unit_confirms(unit)
    domain.each_level_confirms_inside_its_own_window(unit.type, ports.window(round_id, unit))
    round_ref = ports.round_ref(round_id)
    children, other_schools = ports.children_and_other_schools(unit, uow.session)
    ensure_rows(uow, round_id, _parent_of(unit) + [unit] + children, commit=False)

    if not unit.is_sealed_by_enrollment:
        return _confirm_at_once(uow, actor, key, round_ref, unit, children, note)

    saga_id = str(uuid.uuid4())
    parent, row, kids = _locked_rows(uow, round_id, unit, children)
    orphaned = row.state == SEALING and domain.saga_orphaned(
        row.saga_owner, _age(uow, row), saga_timeout(), ports.instance)
    step = row.begin_seal(parent, _pending(children, kids), saga_id, str(ports.instance), orphaned)
    if orphaned:
        log.warning("confirm of %s in round %s adopts orphaned saga %s of %s",
                    unit.id, round_id, row.saga_id, row.saga_owner)
        uow.audit("saga_adopted", "confirmation", _entity(round_id, unit.id),
                  {"saga_id": row.saga_id, "owner": row.saga_owner, "by": str(ports.instance)})
    apply(uow, row, step)
    uow.commit()

    try:
        sealed = ports.seal(round_id, unit, other_schools)
        crashpoint("after_seal")
        return _record_confirmation(uow, actor, key, round_ref, unit, children, saga_id, sealed, note)
    except SagaLost:
        uow.rollback()
        raise conflict("the confirmation was interrupted and rolled back; try again")
    except BaseException:
        _unwind(uow, ports, round_id, unit.id, saga_id, SEALING, reason="confirm failed")
        raise


def _age(uow, row: Confirmation):
    if row.saga_started_at is None:
        return None
    return (now(uow) - row.saga_started_at).total_seconds()


def _record_confirmation(uow, actor, key, round_ref, unit, children, saga_id, sealed, note=None):
    _, row, kids = _locked_rows(uow, round_ref["id"], unit, children)
    if unit.type == "lao":
        counts, _ = domain.counts_of_confirmed_children(kids.values())
        other = _other_schools(sealed)
    else:
        counts, other = domain.normalise_counts(sealed.get("counts")), None
    record = Record(counts, other, sealed.get("seal_digest"), sealed.get("learners_digest"), note)
    step = row.confirm(actor, record, saga_id=saga_id)
    return _mark_confirmed(uow, actor, key, round_ref, unit, children, row, kids, step,
                           {"saga_id": saga_id, "sealed_at": sealed.get("sealed_at")})


def _confirm_at_once(uow, actor, key, round_ref, unit, children, note=None):
    round_id = round_ref["id"]
    parent, row, kids = _locked_rows(uow, round_id, unit, children)
    pending = _pending(children, kids)
    counts, other = domain.counts_of_confirmed_children(kids.values())
    # a province's or the department's digests, from its confirmed children's
    learners_hex = domain.children_digest((r.unit_id, r.seal_digest) for r in kids.values() if r.confirmed)
    record = Record(counts, other, domain.seal_digest(round_id, unit.id, counts, learners_hex),
                    learners_hex, note)
    step = row.confirm(actor, record, parent=parent, pending=pending)
    return _mark_confirmed(uow, actor, key, round_ref, unit, children, row, kids, step, {})


def _mark_confirmed(uow, actor, key, round_ref, unit, children, row, kids, step, details):
    round_id = round_ref["id"]
    row = apply(uow, row, step, unit_code=unit.code, unit_path=unit.path)
    uow.audit("confirm", "confirmation", _entity(round_id, unit.id), {
        "round_id": round_id, "unit_id": unit.id, "unit_type": unit.type, "counts": row.counts,
        "other_schools": row.other_schools, "seal_digest": row.seal_digest,
        "learners_digest": row.learners_digest, "note": row.note, **details})
    body = _event_body(CONFIRMATION_BODY, row, round_ref)
    uow.emit("unit_confirmed", body, include_actor=False)
    if unit.type == "department":
        uow.emit("round_finalized", body, include_actor=False)
    result = _status(round_id, unit, row, children, kids)
    _remember(uow, actor, key, "confirm", round_id, unit.id, result)
    uow.commit()
    return result


# -- revoke ------------------------------------------------------------------------

@deadlock_safe
def revoke(uow, ports, round_id, unit_id, data, idempotency_key=None):
    reason = load(RevokeRequest(), data if isinstance(data, dict) else {"reason": data})["reason"]
    actor, round_id, key, replay, unit = _request(uow, ports, "revoke", round_id, unit_id,
                                                  idempotency_key)
    if replay is not None:
        return replay
    domain.revocation_only_from_above(actor, unit)
    round_ref = ports.round_ref(round_id)
    children = ports.children(unit, uow.session)
    if not confirmations_of(uow, round_id, [unit.id]):
        raise LecError("not_confirmed", "the unit is not confirmed")

    sealed = unit.is_sealed_by_enrollment
    saga_id = str(uuid.uuid4()) if sealed else None
    parent, row, kids = _locked_rows(uow, round_id, unit, children)
    row = apply(uow, row, row.revoke(parent, actor, reason, saga_id, str(ports.instance)))
    uow.audit("revoke", "confirmation", _entity(round_id, unit.id), {
        "round_id": round_id, "unit_id": unit.id, "unit_type": unit.type, "reason": reason,
        "counts": row.counts, "other_schools": row.other_schools,
        "confirmed_at": row.confirmed_at, "confirmed_by": row.confirmed_by})
    uow.emit("unit_revoked", _event_body(REVOCATION_BODY, row, round_ref, reason=reason,
                                         revoked_at=bkk(row.revoked_at), revoked_by=actor.user_id),
             include_actor=False)
    # at this instant the learners are still the sealed ones
    result = _status(round_id, unit, row, children, kids,
                     {"counts": row.counts, "other_schools": row.other_schools})
    _remember(uow, actor, key, "revoke", round_id, unit.id, result)
    uow.commit()

    if sealed:
        crashpoint("after_revoke_record")
        if _unwind(uow, ports, round_id, unit.id, saga_id, UNSEALING, reason="revoked"):
            result = dict(result, saga=None)
    return result


# -- unwinding and the reconciler ----------------------------------------------------

def _unwind(uow, ports, round_id, unit_id, saga_id, state, reason, only_orphaned=False):
    """Unseal and return the unit to ``open`` if the row still carries this saga
    (whatever the transaction held is rolled back first). Holds the row lock
    across the unseal, so that nothing starts on the unit meanwhile. Returns
    True when done; False leaves it to the reconciler."""
    try:
        uow.rollback()
        row = _lock(uow, round_id, [unit_id], skip_locked=only_orphaned).get(unit_id)
        step = row.unwind(saga_id, state) if row is not None else None
        if step is None or (only_orphaned and not domain.saga_orphaned(
                row.saga_owner, _age(uow, row), saga_timeout(), ports.instance)):
            uow.rollback()
            return False
        ports.unseal(round_id, unit_id)
        apply(uow, row, step)
        action = "confirm_compensated" if state == SEALING else "unsealed"
        uow.audit(action, "confirmation", _entity(round_id, unit_id), {
            "saga_id": saga_id, "owner": row.saga_owner, "reason": reason})
        uow.commit()
        return True
    except Exception as exc:
        log.warning("could not unwind saga %s of unit %s in round %s (%s); the reconciler will",
                    saga_id, unit_id, round_id, exc)
        try:
            uow.rollback()
        except Exception:  # the connection itself is gone: the session is closed at the end
            pass
        return False


def reconcile(uow, ports, limit=100):
    """Repair half-done sagas whose process is gone or that outlived the timeout.
    Returns ``[(round_id, unit_id, state)]`` of those repaired."""
    rows = uow.execute(
        select(C.round_id, C.unit_id, C.state, C.saga_id, C.saga_owner,
               (func.extract("epoch", func.now() - C.saga_started_at)).label("age"))
        .where(C.state.in_((SEALING, UNSEALING)))
        .order_by(C.saga_started_at).limit(limit)).all()
    repaired = []
    timeout = saga_timeout()
    for r in rows:
        age = float(r.age) if r.age is not None else None
        if not domain.saga_orphaned(r.saga_owner, age, timeout, ports.instance):
            continue
        reason = "orphaned confirmation" if r.state == SEALING else "revocation completed"
        if _unwind(uow, ports, r.round_id, r.unit_id, r.saga_id, r.state, reason, only_orphaned=True):
            log.warning("reconciler unwound %s saga %s of unit %s in round %s",
                        r.state, r.saga_id, r.unit_id, r.round_id)
            repaired.append((r.round_id, r.unit_id, r.state))
    return repaired


def verify_seals(uow, ports, since_hours=24, limit=500):
    """Cross-check recent rows against enrollment's seals: an ``open`` unit must
    not be sealed (a seal that arrived after its saga was unwound is undone);
    a ``confirmed`` one must be (re-sealed; a count that moved is reported)."""
    rows = uow.execute(select(C.round_id, C.unit_id, C.state).where(
        C.state.in_((OPEN, CONFIRMED)), C.unit_type.in_(SEALED_TYPES),
        C.updated_at > func.now() - func.make_interval(0, 0, 0, 0, int(since_hours)))
        .order_by(C.updated_at.desc()).limit(limit)).all()
    uow.rollback()
    by_round = {}
    for r in rows:
        by_round.setdefault(r.round_id, []).append(r)
    fixed = []
    for round_id, group in by_round.items():
        seals = ports.seal_state(round_id, [r.unit_id for r in group])
        for r in group:
            sealed = bool((seals.get(str(r.unit_id)) or {}).get("sealed"))
            if (r.state == OPEN) == sealed:
                fixed += _fix_seal(uow, ports, round_id, r.unit_id, r.state)
    return fixed


def _fix_seal(uow, ports, round_id, unit_id, state):
    row = _lock(uow, round_id, [unit_id], skip_locked=True).get(unit_id)
    if row is None or row.state != state:
        uow.rollback()
        return []
    sealed = bool(ports.seal_state(round_id, [unit_id])[str(unit_id)]["sealed"])
    if (state == OPEN) != sealed:
        uow.rollback()
        return []  # consistent again, now that the row is ours
    if state == OPEN:
        ports.unseal(round_id, unit_id)
        uow.audit("stray_seal_undone", "confirmation", _entity(round_id, unit_id), {})
    else:
        resealed = ports.seal(round_id, unit_id)
        recorded = row.other_schools if row.unit_type == "lao" else row.counts
        same = domain.normalise_counts(recorded) == domain.normalise_counts(resealed.get("counts"))
        uow.audit("resealed", "confirmation", _entity(round_id, unit_id),
                  {"recorded": recorded, "sealed": resealed.get("counts"), "same": same,
                   "same_digest": row.seal_digest is not None
                   and row.seal_digest == resealed.get("seal_digest")})
        if not same:
            log.error("unit %s in round %s: the re-sealed counts differ from the confirmed ones",
                      unit_id, round_id)
    uow.commit()
    return [(round_id, unit_id, state)]
