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
"""
import logging
import os
import socket
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from services.common import hierarchy, settings
from services.common.context import require_actor
from services.common.db import COMMON
from services.common.errors import LecError, conflict, not_found, validation_error
from services.common.jsonutil import BANGKOK, plain
from services.common.validation import load
from services.confirmation import domain
from services.confirmation.domain import CONFIRMED, OPEN, SEALING, UNSEALING
from services.confirmation.models import confirmations, idempotency_keys
from services.confirmation.schemas import (
    ConfirmationBody, ConfirmRequest, HistoryEntry, RevocationBody, RevokeRequest, Status,
)

log = logging.getLogger(__name__)

C = confirmations.c
IDEMPOTENCY_KEY_MAX = 200


def saga_timeout():
    """Seconds after which a saga still running is taken for dead (longer than any RPC)."""
    return settings.env_float("LEC_CONFIRM_SAGA_TIMEOUT", 2 * settings.rpc_timeout() + 5)


def this_instance():
    global _INSTANCE
    if _INSTANCE is None or _INSTANCE.pid != os.getpid():
        _INSTANCE = domain.Instance(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12])
    return _INSTANCE


_INSTANCE = None


def crashpoint(name):
    """``LEC_CRASHPOINT=<name>`` makes the process die here (crash tests)."""
    if os.environ.get("LEC_CRASHPOINT") == name:
        log.error("crash point %s reached: exiting", name)
        logging.shutdown()
        os._exit(137)


class Ports:
    """The other services, as the use cases see them (timed RPC proxies)."""

    def __init__(self, registry, rounds, enrollment, instance=None):
        self.registry = registry
        self.rounds = rounds
        self.enrollment = enrollment
        self.instance = instance or this_instance()

    def units(self, ids):
        return {u["id"]: u for u in self.registry.get_units(list(ids))}

    def children(self, unit):
        types = domain.CHILD_TYPES.get(unit["type"], ())
        if not types:
            return []
        items = self.registry.list_children(unit["id"], unpaged=True)["items"]
        return [c for c in items if c["type"] in types]

    def round_ref(self, round_id):
        ref = _ROUND_REFS.get(round_id)
        if ref is None:
            r = self.rounds.get_round(round_id)
            ref = _ROUND_REFS[round_id] = {"id": r["id"], "academic_year": r["academic_year"],
                                           "number": r["number"]}
        return ref


_ROUND_REFS = {}  # id -> {id, academic_year, number}: never changes


# -- small helpers -----------------------------------------------------------------

def _int(value, what):
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise not_found(what)
    if value <= 0:
        raise not_found(what)
    return value


def _key(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > IDEMPOTENCY_KEY_MAX or not value.isprintable():
        raise validation_error({"Idempotency-Key": [f"at most {IDEMPOTENCY_KEY_MAX} printable characters"]})
    return value


def _entity(round_id, unit_id):
    return f"{round_id}:{unit_id}"


def _now(uow_or_session):
    session = getattr(uow_or_session, "session", uow_or_session)
    return session.execute(select(func.now())).scalar_one()


def _row_values(unit):
    return {"unit_id": unit["id"], "unit_type": unit["type"], "unit_code": unit.get("code"),
            "unit_path": unit["path"], "parent_id": unit.get("parent_id")}


def _parent_of(unit):
    """The parent as far as its row needs it, from the unit's path (no lookup)."""
    path = hierarchy.parent_path_of(unit["path"])
    if path is None:
        return []
    grand = hierarchy.parent_path_of(path)
    return [{"id": hierarchy.unit_id_of(path), "type": hierarchy.PARENT_TYPE[unit["type"]], "code": None,
             "path": path, "parent_id": hierarchy.unit_id_of(grand) if grand else None}]


def _ensure_rows(db, round_id, units):
    """Every unit a use case locks has a row (``open`` until confirmed)."""
    values = [dict(_row_values(u), round_id=round_id) for u in units
              if u["type"] in domain.CONFIRMING_TYPES]
    if not values:
        return
    with db.uow() as uow:
        uow.execute(pg_insert(confirmations).values(values).on_conflict_do_nothing())
        uow.commit()


def _lock(uow, round_id, ids, share=False, skip_locked=False):
    if not ids:
        return {}
    stmt = (select(confirmations).where(C.round_id == round_id, C.unit_id.in_(list(ids)))
            .order_by(C.unit_id).with_for_update(read=share, skip_locked=skip_locked))
    return {r.unit_id: r for r in uow.execute(stmt)}


def _locked_rows(uow, round_id, unit, parent_id, children):
    """Parent (share), unit (update), children (share): in this order."""
    parent = _lock(uow, round_id, [parent_id], share=True).get(parent_id) if parent_id else None
    row = _lock(uow, round_id, [unit["id"]])[unit["id"]]
    kids = _lock(uow, round_id, [c["id"] for c in children], share=True)
    return parent, row, kids


def _readable_unit(ports, actor, unit_id):
    unit = ports.units([unit_id]).get(unit_id)
    if unit is None:
        raise not_found("org unit")
    require_actor(actor).require_read(unit["path"], "org unit")
    return unit


def _request(db, ports, action, round_id, unit_id, idempotency_key):
    """What confirm and revoke start with: the acting user, the ids, the key,
    and either the answer already given to this key or the (readable) unit."""
    actor = require_actor(db.actor)
    round_id, unit_id = _int(round_id, "round"), _int(unit_id, "org unit")
    key = _key(idempotency_key)
    replay = _replay(db, actor, key, action, round_id, unit_id)
    unit = _readable_unit(ports, actor, unit_id) if replay is None else None
    return actor, round_id, key, replay, unit


def _replay(db, actor, key, action, round_id, unit_id):
    if key is None:
        return None
    with db.session() as session:
        row = session.execute(select(idempotency_keys).where(
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


def _bkk(value):
    return value.astimezone(BANGKOK) if value is not None else None


def _unit_ref(row):
    return {"id": row.unit_id, "code": row.unit_code, "type": row.unit_type, "path": row.unit_path}


def _event_body(schema, row, round_ref, **extra):
    body = {"round": round_ref, "org_unit": _unit_ref(row), "counts": row.counts,
            "confirmed_at": _bkk(row.confirmed_at), "confirmed_by": row.confirmed_by,
            "confirmed_by_username": row.confirmed_by_username, "confirmation_version": row.version,
            "seal_digest": row.seal_digest, "learners_digest": row.learners_digest, "note": row.note,
            **extra}
    if row.other_schools is not None:
        body["other_schools"] = row.other_schools
    return schema.dump(body)


def _deadlock_safe(fn):
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

def _children_progress(children, rows):
    items, pending, confirmed = [], [], 0
    for c in sorted(children, key=lambda c: (c.get("code") or "", c["id"])):
        row = rows.get(c["id"])
        state = row.state if row is not None else OPEN
        blocking = domain.blocks(c)
        if blocking and state == CONFIRMED:
            confirmed += 1
        elif blocking:
            pending.append(c["id"])
        items.append({"id": c["id"], "code": c.get("code"), "name": c.get("name"), "type": c["type"],
                      "status": c.get("status"), "state": domain.public_state(state),
                      "blocking": blocking,
                      "confirmed_at": _bkk(row.confirmed_at) if row is not None and state == CONFIRMED else None,
                      "total": row.counts["total"] if row is not None and state == CONFIRMED else None,
                      "note": row.note if row is not None and state == CONFIRMED else None})
    return {"total": confirmed + len(pending), "confirmed": confirmed, "pending": sorted(pending),
            "items": items}


def _status(round_id, unit, row, children, child_rows, live=None):
    """The API.md view of a unit: state, counts (sealed when confirmed; else live
    learners for an institution, or the sum of the children confirmed so far)."""
    state = row.state if row is not None else OPEN
    confirmed = state == CONFIRMED
    live = live or {}
    if confirmed:
        counts, source, other = row.counts, "sealed", row.other_schools
    elif unit["type"] in ("school", "cdc"):
        counts, source, other = live.get("counts"), "live", None
    else:
        counts, other = _counts_from_children(child_rows)
        source = "children"
        if unit["type"] == "lao":
            other = live.get("other_schools")
    progress = _children_progress(children, child_rows)
    status = {
        "unit_id": unit["id"], "round_id": round_id,
        "unit": {"id": unit["id"], "code": unit.get("code"), "type": unit["type"], "path": unit["path"]},
        "state": domain.public_state(state),
        "saga": state if state in (SEALING, UNSEALING) else None,
        "confirmed_at": _bkk(row.confirmed_at) if confirmed else None,
        "confirmed_by": row.confirmed_by if confirmed else None,
        "confirmed_by_username": row.confirmed_by_username if confirmed else None,
        "counts": domain.normalise_counts(counts), "counts_source": source,
        "other_schools": other,
        "children": progress, "pending": progress["pending"],
        "revoked_at": _bkk(row.revoked_at) if row is not None else None,
        "revoked_by": row.revoked_by if row is not None else None,
        "revoke_reason": row.revoke_reason if row is not None else None,
        "version": row.version if row is not None else 0,
        "seal_digest": row.seal_digest if confirmed else None,
        "learners_digest": row.learners_digest if confirmed else None,
        "note": row.note if confirmed else None,
    }
    return plain(Status().dump(status))


def status(db, ports, round_id, unit_id):
    round_id, unit_id = _int(round_id, "round"), _int(unit_id, "org unit")
    unit = _readable_unit(ports, db.actor, unit_id)
    ports.round_ref(round_id)  # the round exists
    children = ports.children(unit)
    with db.session() as session:
        rows = {r.unit_id: r for r in session.execute(select(confirmations).where(
            C.round_id == round_id, C.unit_id.in_([unit_id] + [c["id"] for c in children])))}
    row = rows.pop(unit_id, None)
    live = None
    if row is None or row.state != CONFIRMED:
        if unit["type"] in ("school", "cdc"):
            live = {"counts": ports.enrollment.counts(round_id, [unit_id]).get(str(unit_id))}
        elif unit["type"] == "lao":
            other = ports.enrollment.counts(round_id, [unit_id]).get(str(unit_id))
            live = {"other_schools": domain.normalise_counts(other) if other else None}
    return _status(round_id, unit, row, children, rows, live)


def states(db, round_id, unit_ids):
    """``{str(unit_id): {state, confirmed_at, counts, other_schools, confirmed_by,
    confirmed_by_username, version}}`` (``version``: the events' ``confirmation_version``;
    0 for a unit never touched)."""
    round_id = _int(round_id, "round")
    ids = [int(i) for i in unit_ids or []]
    with db.session() as session:
        rows = session.execute(select(confirmations).where(
            C.round_id == round_id, C.unit_id.in_(ids))).all() if ids else []
    result = {str(i): {"state": OPEN, "confirmed_at": None, "counts": None, "version": 0} for i in ids}
    for r in rows:
        confirmed = r.state == CONFIRMED
        result[str(r.unit_id)] = {"state": domain.public_state(r.state),
                                  "confirmed_at": _bkk(r.confirmed_at) if confirmed else None,
                                  "counts": r.counts if confirmed else None,
                                  "other_schools": r.other_schools if confirmed else None,
                                  "confirmed_by": r.confirmed_by if confirmed else None,
                                  "confirmed_by_username": r.confirmed_by_username if confirmed else None,
                                  "version": r.version}
    return plain(result)


def history(db, round_id, unit_id, limit=100):
    round_id, unit_id = _int(round_id, "round"), _int(unit_id, "org unit")
    audit = COMMON.audit_log
    with db.session() as session:
        rows = session.execute(select(audit).where(
            audit.c.entity == "confirmation", audit.c.entity_id == _entity(round_id, unit_id))
            .order_by(audit.c.id.desc()).limit(limit)).all()
    items = [plain(HistoryEntry().dump(dict(r._mapping, at=_bkk(r.at)))) for r in rows]
    return {"items": items, "total": len(items)}


# -- confirm -----------------------------------------------------------------------

def _counts_from_children(kids):
    done = [r for r in kids.values() if r.state == CONFIRMED]
    counts = domain.add_counts(r.counts for r in done)
    others = [r.other_schools for r in done if r.other_schools is not None]
    return counts, domain.add_counts(others) if others else None


def _other_schools(sealed):
    other = domain.normalise_counts(sealed.get("counts"))
    other["schools"] = [{"id": s["id"], "code": s.get("code"), "closed": bool(s.get("closed")),
                         "counts": domain.normalise_counts(s.get("counts"))}
                        for s in sealed.get("schools") or []]
    return other


def _confirm_request(data):
    """The optional body of a confirm: ``{note}`` (absent, null or blank: no note)."""
    if data is None:
        return {"note": None}
    return {"note": load(ConfirmRequest(), data).get("note")}


@_deadlock_safe
def confirm(db, ports, round_id, unit_id, idempotency_key=None, data=None):
    note = _confirm_request(data)["note"]
    actor, round_id, key, replay, unit = _request(db, ports, "confirm", round_id, unit_id,
                                                  idempotency_key)
    if replay is not None:
        return replay
    unit_id = unit["id"]
    domain.check_may_confirm(actor, unit)
    domain.check_window(unit["type"], ports.rounds.window(round_id, unit["path"], hierarchy.level_of(unit["type"])))
    round_ref = ports.round_ref(round_id)
    children = ports.children(unit)
    _ensure_rows(db, round_id, _parent_of(unit) + [unit] + children)

    if unit["type"] not in domain.SEALED_TYPES:
        return _confirm_at_once(db, ports, actor, key, round_ref, unit, children, note)

    saga_id = str(uuid.uuid4())
    with db.uow() as uow:
        parent_row, row, kids = _locked_rows(uow, round_id, unit, unit.get("parent_id"), children)
        orphaned = row.state == SEALING and domain.saga_orphaned(
            row.saga_owner, _age(uow, row), saga_timeout(), ports.instance)
        domain.check_confirm(row.state, parent_row.state if parent_row else None,
                             domain.pending_children(children, {k: r.state for k, r in kids.items()}),
                             orphaned)
        if orphaned:
            log.warning("confirm of %s in round %s adopts orphaned saga %s of %s",
                        unit_id, round_id, row.saga_id, row.saga_owner)
            uow.audit("saga_adopted", "confirmation", _entity(round_id, unit_id),
                      {"saga_id": row.saga_id, "owner": row.saga_owner, "by": str(ports.instance)})
        uow.execute(update(confirmations).where(C.round_id == round_id, C.unit_id == unit_id).values(
            state=SEALING, saga_id=saga_id, saga_owner=str(ports.instance),
            saga_started_at=func.now(), updated_at=func.now(), version=C.version + 1))
        uow.commit()

    try:
        sealed = ports.enrollment.seal(round_id, unit_id)
        crashpoint("after_seal")
        return _record_confirmation(db, actor, key, round_ref, unit, children, saga_id, sealed, note)
    except SagaLost:
        raise conflict("the confirmation was interrupted and rolled back; try again")
    except BaseException:
        _unwind(db, ports, round_id, unit_id, saga_id, SEALING, reason="confirm failed")
        raise


class SagaLost(Exception):
    """The row no longer carries our saga: someone else unwound or adopted it."""


def _age(uow, row):
    if row.saga_started_at is None:
        return None
    return (_now(uow) - row.saga_started_at).total_seconds()


def _record_confirmation(db, actor, key, round_ref, unit, children, saga_id, sealed, note=None):
    round_id = round_ref["id"]
    with db.uow() as uow:
        parent_id = unit.get("parent_id")
        _, row, kids = _locked_rows(uow, round_id, unit, parent_id, children)
        if row.state != SEALING or row.saga_id != saga_id:
            raise SagaLost()
        if unit["type"] == "lao":
            counts, _ = _counts_from_children(kids)
            other = _other_schools(sealed)
        else:
            counts, other = domain.normalise_counts(sealed.get("counts")), None
        digests = {"seal_digest": sealed.get("seal_digest"),
                   "learners_digest": sealed.get("learners_digest")}
        return _mark_confirmed(uow, actor, key, round_ref, unit, children, kids, counts, other,
                               {"saga_id": saga_id, "sealed_at": sealed.get("sealed_at")}, digests, note)


def _children_digests(round_id, unit_id, counts, kids):
    """A province's or the department's digests, from its confirmed children's."""
    learners_hex = domain.children_digest((r.unit_id, r.seal_digest) for r in kids.values()
                                          if r.state == CONFIRMED)
    return {"seal_digest": domain.seal_digest(round_id, unit_id, counts, learners_hex),
            "learners_digest": learners_hex}


def _confirm_at_once(db, ports, actor, key, round_ref, unit, children, note=None):
    round_id = round_ref["id"]
    with db.uow() as uow:
        parent_row, row, kids = _locked_rows(uow, round_id, unit, unit.get("parent_id"), children)
        domain.check_confirm(row.state, parent_row.state if parent_row else None,
                             domain.pending_children(children, {k: r.state for k, r in kids.items()}))
        counts, other = _counts_from_children(kids)
        digests = _children_digests(round_id, unit["id"], counts, kids)
        return _mark_confirmed(uow, actor, key, round_ref, unit, children, kids, counts, other, {},
                               digests, note)


def _mark_confirmed(uow, actor, key, round_ref, unit, children, kids, counts, other, details,
                    digests, note):
    round_id, unit_id = round_ref["id"], unit["id"]
    row = uow.execute(update(confirmations).where(C.round_id == round_id, C.unit_id == unit_id).values(
        state=CONFIRMED, counts=counts, other_schools=other, confirmed_at=func.now(),
        seal_digest=digests["seal_digest"], learners_digest=digests["learners_digest"], note=note,
        confirmed_by=actor.user_id, confirmed_by_username=actor.username,
        unit_code=unit.get("code"), unit_path=unit["path"],
        saga_id=None, saga_owner=None, saga_started_at=None,
        updated_at=func.now(), version=C.version + 1).returning(*confirmations.c)).first()
    uow.audit("confirm", "confirmation", _entity(round_id, unit_id), {
        "round_id": round_id, "unit_id": unit_id, "unit_type": unit["type"], "counts": counts,
        "other_schools": other, **digests, "note": note, **details})
    body = _event_body(ConfirmationBody(), row, round_ref)
    uow.emit("unit_confirmed", body, include_actor=False)
    if unit["type"] == "department":
        uow.emit("round_finalized", body, include_actor=False)
    result = _status(round_id, unit, row, children, kids)
    _remember(uow, actor, key, "confirm", round_id, unit_id, result)
    uow.commit()
    return result


# -- revoke ------------------------------------------------------------------------

@_deadlock_safe
def revoke(db, ports, round_id, unit_id, data, idempotency_key=None):
    reason = load(RevokeRequest(), data if isinstance(data, dict) else {"reason": data})["reason"]
    actor, round_id, key, replay, unit = _request(db, ports, "revoke", round_id, unit_id,
                                                  idempotency_key)
    if replay is not None:
        return replay
    unit_id = unit["id"]
    domain.check_may_revoke(actor, unit)
    round_ref = ports.round_ref(round_id)
    children = ports.children(unit)
    parent_id = unit.get("parent_id")
    with db.session() as session:
        known = session.execute(select(confirmations.c.unit_id).where(
            C.round_id == round_id, C.unit_id == unit_id)).first()
    if known is None:
        raise LecError("not_confirmed", "the unit is not confirmed")

    sealed = unit["type"] in domain.SEALED_TYPES
    saga_id = str(uuid.uuid4()) if sealed else None
    with db.uow() as uow:
        parent_row, row, kids = _locked_rows(uow, round_id, unit, parent_id, children)
        domain.check_revoke(row.state, parent_row.state if parent_row else None)
        row = uow.execute(update(confirmations).where(
            C.round_id == round_id, C.unit_id == unit_id).values(
            state=UNSEALING if sealed else OPEN, saga_id=saga_id,
            saga_owner=str(ports.instance) if sealed else None,
            saga_started_at=func.now() if sealed else None,
            revoked_at=func.now(), revoked_by=actor.user_id, revoke_reason=reason,
            updated_at=func.now(), version=C.version + 1).returning(*confirmations.c)).first()
        uow.audit("revoke", "confirmation", _entity(round_id, unit_id), {
            "round_id": round_id, "unit_id": unit_id, "unit_type": unit["type"], "reason": reason,
            "counts": row.counts, "other_schools": row.other_schools,
            "confirmed_at": row.confirmed_at, "confirmed_by": row.confirmed_by})
        uow.emit("unit_revoked", _event_body(RevocationBody(), row, round_ref, reason=reason,
                                             revoked_at=_bkk(row.revoked_at), revoked_by=actor.user_id),
                 include_actor=False)
        # at this instant the learners are still the sealed ones
        result = _status(round_id, unit, row, children, kids,
                         {"counts": row.counts, "other_schools": row.other_schools})
        _remember(uow, actor, key, "revoke", round_id, unit_id, result)
        uow.commit()

    if sealed:
        crashpoint("after_revoke_record")
        if _unwind(db, ports, round_id, unit_id, saga_id, UNSEALING, reason="revoked"):
            result = dict(result, saga=None)
    return result


# -- unwinding and the reconciler ----------------------------------------------------

def _unwind(db, ports, round_id, unit_id, saga_id, state, reason, only_orphaned=False):
    """Unseal and return the unit to ``open`` if the row still carries this saga.
    Holds the row lock across the unseal, so that nothing starts on the unit
    meanwhile. Returns True when done; False leaves it to the reconciler."""
    try:
        with db.uow() as uow:
            row = _lock(uow, round_id, [unit_id], skip_locked=only_orphaned).get(unit_id)
            if row is None or row.state != state or row.saga_id != saga_id:
                return False
            if only_orphaned and not domain.saga_orphaned(row.saga_owner, _age(uow, row),
                                                          saga_timeout(), ports.instance):
                return False
            ports.enrollment.unseal(round_id, unit_id)
            uow.execute(update(confirmations).where(
                C.round_id == round_id, C.unit_id == unit_id).values(
                state=OPEN, saga_id=None, saga_owner=None, saga_started_at=None,
                updated_at=func.now(), version=C.version + 1))
            action = "confirm_compensated" if state == SEALING else "unsealed"
            uow.audit(action, "confirmation", _entity(round_id, unit_id), {
                "saga_id": saga_id, "owner": row.saga_owner, "reason": reason})
            uow.commit()
            return True
    except Exception as exc:
        log.warning("could not unwind saga %s of unit %s in round %s (%s); the reconciler will",
                    saga_id, unit_id, round_id, exc)
        return False


def reconcile(db, ports, limit=100):
    """Repair half-done sagas whose process is gone or that outlived the timeout.
    Returns ``[(round_id, unit_id, state)]`` of those repaired."""
    with db.session() as session:
        rows = session.execute(
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
        if _unwind(db, ports, r.round_id, r.unit_id, r.saga_id, r.state, reason, only_orphaned=True):
            log.warning("reconciler unwound %s saga %s of unit %s in round %s",
                        r.state, r.saga_id, r.unit_id, r.round_id)
            repaired.append((r.round_id, r.unit_id, r.state))
    return repaired


def verify_seals(db, ports, since_hours=24, limit=500):
    """Cross-check recent rows against enrollment's seals: an ``open`` unit must
    not be sealed (a seal that arrived after its saga was unwound is undone);
    a ``confirmed`` one must be (re-sealed; a count that moved is reported)."""
    with db.session() as session:
        rows = session.execute(select(C.round_id, C.unit_id, C.state).where(
            C.state.in_((OPEN, CONFIRMED)), C.unit_type.in_(domain.SEALED_TYPES),
            C.updated_at > func.now() - func.make_interval(0, 0, 0, 0, int(since_hours)))
            .order_by(C.updated_at.desc()).limit(limit)).all()
    by_round = {}
    for r in rows:
        by_round.setdefault(r.round_id, []).append(r)
    fixed = []
    for round_id, group in by_round.items():
        seals = ports.enrollment.seal_state(round_id, [r.unit_id for r in group])
        for r in group:
            sealed = bool((seals.get(str(r.unit_id)) or {}).get("sealed"))
            if (r.state == OPEN) == sealed:
                fixed += _fix_seal(db, ports, round_id, r.unit_id, r.state)
    return fixed


def _fix_seal(db, ports, round_id, unit_id, state):
    with db.uow() as uow:
        row = _lock(uow, round_id, [unit_id], skip_locked=True).get(unit_id)
        if row is None or row.state != state:
            return []
        sealed = bool(ports.enrollment.seal_state(round_id, [unit_id])[str(unit_id)]["sealed"])
        if (state == OPEN) != sealed:
            return []  # consistent again, now that the row is ours
        if state == OPEN:
            ports.enrollment.unseal(round_id, unit_id)
            uow.audit("stray_seal_undone", "confirmation", _entity(round_id, unit_id), {})
        else:
            resealed = ports.enrollment.seal(round_id, unit_id)
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
