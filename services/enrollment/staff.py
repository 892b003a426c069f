"""Caregivers and teachers of an institution, per round.

A staff record is a post: a person (Thai national ID, check digit verified as
learners' are) in a position (``services.common.staff.POSITIONS``) at a school
or CDC in a round. A person holds at most one active post per round across
the country (``uq_staff_round_person_active``); a second one is refused with
``duplicate_staff``, saying of the holder only what the caller may know (as
``duplicate_learner`` does). Staff are recorded by the users of the
institution and of the units above it, while the round is open for the
institution, and every change takes the institution's seal row like a learner
change does (:func:`services.enrollment.sealing.lock_for_edit`), so they are
sealed with the institution's confirmation. Every change is audited and
announced (``staff_added`` / ``staff_changed`` / ``staff_removed``; no name, no
ID number in the events).
"""
import datetime as dt

from sqlalchemy import and_, func, literal, select, update

from services.common import staff as vocabulary
from services.common.context import require_actor
from services.common.errors import LecError, conflict, not_found, validation_error
from services.common.jsonutil import plain
from services.common.text import name_problem, text_problem
from services.common.validation import as_id, load, page
from services.common.values import Unit
from services.enrollment import domain
from services.enrollment.duplicates import (
    STAFF, _own_transaction, holder as holder_of, insert_person, provinces, rate_limited, take,
    write_person,
)
from services.enrollment.handlers import edit_context, place_context, require_active, require_institution, require_open
from services.enrollment.imports import import_key
from services.enrollment.models import staff
from services.enrollment.sealing import lock_for_edit, seal_state
from services.enrollment.staff_schemas import (
    EDITABLE, IMPORT_COLUMNS, StaffCreate, StaffRemoval, StaffUpdate,
)

FIELDS = ("id", "round_id", "institution_id", "national_id", "prefix", "first_name", "last_name",
          "position", "employment_type", "qualification", "start_date", "status", "removal_reason",
          "removal_note", "removed_at", "removed_by", "source", "version", "created_at", "created_by",
          "updated_at", "updated_by")
EARLIEST_START = dt.date(1950, 1, 1)


# -- rules ---------------------------------------------------------------------------------------

def check_staff(data, round_):
    """Apply the rules to loaded staff data: the values to store."""
    errors = {}
    for field in ("first_name", "last_name"):
        problem = name_problem(data[field])
        if problem:
            errors[field] = [problem]
    if data.get("prefix"):
        problem = text_problem(data["prefix"])
        if problem:
            errors["prefix"] = [problem]
    start = data.get("start_date")
    if start is not None:
        if start > round_.census_date:
            errors["start_date"] = ["is after the round's census date"]
        elif start < EARLIEST_START:
            errors["start_date"] = ["is not plausible"]
    if errors:
        raise validation_error(errors)
    clean = {k: data.get(k) for k in EDITABLE}
    clean["national_id"] = domain.national_id(data["national_id"])
    return clean


def staff_dict(row):
    return plain({k: row._mapping[k] for k in FIELDS})


def staff_event(row, unit):
    """A staff record as events carry it: no ID number, no name."""
    return {"id": row.id, "version": row.version, "institution": unit.ref(),
            "position": row.position, "employment_type": row.employment_type,
            "qualification": row.qualification, "status": row.status}


# -- who may do what -----------------------------------------------------------------------------

def check_edit(actor, unit, window):
    """Staff are recorded by the institution's users and the units above it,
    while the round is open for the institution."""
    require_institution(unit)
    require_actor(actor).require_read(unit.path, "institution")
    require_active(unit)
    require_open(window)


def staff_context(uow, ports, staff_id):
    """The institution, round and window of a staff record the caller may read."""
    return place_context(uow, ports, place(uow, staff_id), "staff")


def place(uow, staff_id):
    """``(round_id, institution_id, institution_path)`` of a staff record, or None."""
    try:
        staff_id = int(staff_id)
    except (TypeError, ValueError):
        return None
    row = uow.execute(select(staff.c.round_id, staff.c.institution_id, staff.c.institution_path)
                          .where(staff.c.id == staff_id)).first()
    return tuple(row) if row else None


def _row(uow, staff_id, lock=False):
    try:
        staff_id = int(staff_id)
    except (TypeError, ValueError):
        raise not_found("staff") from None
    stmt = select(staff).where(staff.c.id == staff_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.execute(stmt).first()
    if row is None:
        raise not_found("staff")
    return row


# -- reads ---------------------------------------------------------------------------------------

def get(uow, staff_id):
    row = _row(uow, staff_id)
    require_actor(uow.actor).require_read(row.institution_path, "staff")
    return staff_dict(row)


def list_staff(uow, ports, round_id, institution_id, q=None, position=None, status=None, limit=None,
               offset=None):
    unit = ports.unit(institution_id, "institution")
    require_institution(unit)
    require_actor(uow.actor).require_read(unit.path, "institution")
    limit, offset = page(limit, offset)
    cond = [staff.c.round_id == as_id(round_id, "round"), staff.c.institution_id == unit.id]
    status = status or "active"
    if status not in ("active", "removed", "all"):
        raise validation_error({"status": ["one of active, removed, all"]})
    if status != "all":
        cond.append(staff.c.status == status)
    if position not in (None, ""):
        if position not in vocabulary.POSITIONS:
            raise validation_error({"position": [f"one of {', '.join(vocabulary.POSITIONS)}"]})
        cond.append(staff.c.position == position)
    if q not in (None, "") and str(q).strip():
        text = str(q).strip()
        compact = text.replace("-", "").replace(" ", "")
        if compact.isdigit():
            cond.append(staff.c.national_id.startswith(compact, autoescape=True))
        else:
            full = func.concat_ws(" ", staff.c.prefix, staff.c.first_name, staff.c.last_name)
            cond.append(and_(*[full.icontains(w, autoescape=True) for w in text.split()]))
    where = and_(*cond)
    total = uow.execute(select(func.count()).select_from(staff).where(where)).scalar_one()
    rows = uow.execute(select(staff).where(where).order_by(
        func.array_position(literal(list(vocabulary.POSITIONS)), staff.c.position), staff.c.first_name,
        staff.c.last_name, staff.c.id).limit(limit).offset(offset))
    return {"items": [staff_dict(r) for r in rows], "total": total}


def counts(session, round_id, institution_ids):
    """institution id -> ``{total, by_position}`` of its active staff."""
    ids = [int(i) for i in institution_ids]
    found = {i: {} for i in ids}
    if ids:
        for unit_id, position, n in session.execute(
                select(staff.c.institution_id, staff.c.position, func.count())
                .where(staff.c.round_id == round_id, staff.c.institution_id.in_(ids),
                       staff.c.status == "active")
                .group_by(staff.c.institution_id, staff.c.position)):
            found[unit_id][position] = n
    return {i: vocabulary.staff_counts(c) for i, c in found.items()}


def summary(uow, ports, round_id, institution_id):
    unit = ports.unit(institution_id, "institution")
    require_institution(unit)
    require_actor(uow.actor).require_read(unit.path, "institution")
    round_id = as_id(round_id, "round")
    session = uow.session
    removed = session.execute(select(func.count()).select_from(staff).where(
        staff.c.round_id == round_id, staff.c.institution_id == unit.id,
        staff.c.status == "removed")).scalar_one()
    return {"round_id": round_id, "institution_id": unit.id,
            "counts": counts(session, round_id, [unit.id])[unit.id], "removed": removed,
            "sealed": seal_state(uow, round_id, [unit.id])[str(unit.id)]["sealed"]}


def facts(uow, round_id, after_id=0, limit=20_000):
    """Keyset pages of every staff record of a round as the events carry them
    (for a consumer that rebuilds its read model)."""
    from services.enrollment.models import units
    limit = max(1, min(int(limit), 50_000))
    rows = uow.execute(
        select(staff, units.c.type.label("unit_type"))
        .select_from(staff.outerjoin(units, units.c.id == staff.c.institution_id))
        .where(staff.c.round_id == as_id(round_id, "round"), staff.c.id > int(after_id or 0))
        .order_by(staff.c.id).limit(limit)).all()
    items = [staff_event(r, Unit(id=r.institution_id, path=r.institution_path, type=r.unit_type or "cdc"))
             for r in rows]
    return plain({"items": items, "next_after": rows[-1].id if len(rows) == limit else None})


# -- duplicates ------------------------------------------------------------------------------------

def _duplicate(uow, ports, unit, holder):
    """The ``duplicate_staff`` answer about ``holder``: its institution's id where
    the caller may read it, else only its province."""
    actor = require_actor(uow.actor)
    places = provinces(uow, ports, unit, [holder])
    extra = domain.holder_extra(actor, unit, holder.institution_id, holder.institution_path, places)
    if extra.get("held_by") == unit.id:
        where = "at this institution"
    elif "held_by" in extra:
        where = f"at institution {extra['held_by']}"
    else:
        name = (extra.get("held_in") or {}).get("name")
        where = f"at an institution in {name}" if name else "at another institution"
    return {"code": "duplicate_staff", "message": f"this person already holds an active post in this "
                                                  f"round {where}; that post must be removed first",
            **extra}


def _answers(uow, ports, unit, round_id, refusals, attempt):
    """The answers to ``refusals`` (``[(row, Holder)]``), in their order: ``duplicate_staff``
    (:func:`_duplicate`), or ``rate_limited`` beyond the account's allowance of people found
    at other institutions (the learners' limit on probing, ``services.enrollment.duplicates``).
    The refusal is audited in a transaction of its own (the change it refuses is rolled back)."""
    if not refusals:
        return []
    actor = require_actor(uow.actor)
    foreign = sum(1 for _, h in refusals if h.institution_id != unit.id)
    answers, told = [], 0
    with _own_transaction(uow) as side:
        granted, retry_after = foreign, None
        if foreign and not actor.is_system:
            granted, retry_after = take(side.session, actor.user_id, foreign)
        for row, holder in refusals:
            if holder.institution_id != unit.id:
                told += 1
                if told > granted:
                    answers.append(dict(rate_limited(retry_after),
                                        message="too many people found recorded at other institutions "
                                                f"in a short time; try again in {retry_after} seconds"))
                    continue
            answers.append(_duplicate(uow, ports, unit, holder))
        side.audit("refuse_duplicate", "staff", refusals[0][1].learner_id if len(refusals) == 1 else None, {
            "round_id": round_id, "institution_id": unit.id, "attempt": attempt,
            "refusals": [{"row": row, "staff_id": h.learner_id, "held_by": h.institution_id, "answer": a["code"]}
                         for (row, h), a in zip(refusals, answers)]})
        side.commit()
    return answers


def _refuse(uow, ports, unit, round_id, holder, attempt):
    answer = dict(_answers(uow, ports, unit, round_id, [(None, holder)], attempt)[0])
    code, message = answer.pop("code"), answer.pop("message")
    raise LecError(code, message, answer)


# -- changes -----------------------------------------------------------------------------------------

def add(uow, ports, round_id, institution_id, data):
    unit, round_, window = edit_context(ports, round_id, institution_id)
    check_edit(uow.actor, unit, window)
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    clean = check_staff(load(StaffCreate(), data), round_)
    actor = require_actor(uow.actor)
    source = "manual"
    row = write_person(uow, STAFF, insert_person(STAFF).values(
        round_id=round_id, institution_id=unit.id, institution_path=unit.path, source=source,
        created_by=actor.user_id or None, updated_by=actor.user_id or None, **clean)
        .returning(*staff.c), round_id, clean["national_id"],
        lambda holder: _refuse(uow, ports, unit, round_id, holder, "add"))
    uow.audit("add", "staff", row.id, {"round_id": round_id, "institution_id": unit.id,
                                       "position": row.position, "source": source})
    uow.emit("staff_added", {"round_id": round_id, "staff": staff_event(row, unit)})
    uow.commit()
    return staff_dict(row)


def _locked(uow, staff_id, round_, unit):
    """Seal row first (shared), then the staff row: the order every edit uses."""
    lock_for_edit(uow, round_.id, unit)
    return _row(uow, staff_id, lock=True)


def update_staff(uow, ports, staff_id, data):
    unit, round_, window = staff_context(uow, ports, staff_id)
    check_edit(uow.actor, unit, window)
    row = _locked(uow, staff_id, round_, unit)
    if row.status != "active":
        raise conflict("a removed post cannot be changed; add the person again")
    changes = load(StaffUpdate(), data, partial=True)
    expected = changes.pop("version", None)
    if expected is not None and expected != row.version:
        raise conflict(f"the record was changed meanwhile (version {row.version}, not {expected})")
    if not changes:
        raise validation_error({"_schema": ["nothing to change"]})
    merged = {k: row._mapping[k] for k in EDITABLE}
    merged.update(changes)
    for field in ("national_id", "first_name", "last_name", "position", "employment_type"):
        if merged.get(field) is None:
            raise validation_error({field: ["may not be null"]})
    clean = check_staff(merged, round_)
    changed = {k: v for k, v in clean.items() if row._mapping[k] != v}
    if not changed:
        return staff_dict(row)
    actor = require_actor(uow.actor)
    change = update(staff).where(staff.c.id == row.id).values(
        **changed, version=staff.c.version + 1, updated_at=func.now(),
        updated_by=actor.user_id or None).returning(*staff.c)
    if "national_id" in changed:  # the person named now may hold a post elsewhere
        after = write_person(uow, STAFF, change, row.round_id, clean["national_id"],
                             lambda holder: _refuse(uow, ports, unit, row.round_id, holder, "update"))
    else:
        after = uow.execute(change).one()
    uow.audit("update", "staff", row.id, {
        "fields": sorted(changed),
        "before": {k: row._mapping[k] for k in changed if k != "national_id"},
        "after": {k: v for k, v in changed.items() if k != "national_id"}})
    uow.emit("staff_changed", {"round_id": row.round_id, "staff": staff_event(after, unit),
                               "before": staff_event(row, unit)})
    uow.commit()
    return staff_dict(after)


def remove(uow, ports, staff_id, data):
    unit, round_, window = staff_context(uow, ports, staff_id)
    check_edit(uow.actor, unit, window)
    removal = load(StaffRemoval(), data or {})
    row = _locked(uow, staff_id, round_, unit)
    if row.status != "active":
        raise conflict("the post is already removed")
    actor = require_actor(uow.actor)
    after = uow.execute(update(staff).where(staff.c.id == row.id).values(
        status="removed", removal_reason=removal["reason"], removal_note=removal["note"],
        removed_at=func.now(), removed_by=actor.user_id or None, version=staff.c.version + 1,
        updated_at=func.now(), updated_by=actor.user_id or None).returning(*staff.c)).one()
    uow.audit("remove", "staff", row.id, {"reason": removal["reason"], "note": removal["note"],
                                          "position": row.position})
    uow.emit("staff_removed", {"round_id": row.round_id, "staff": staff_event(after, unit)})
    uow.commit()
    return staff_dict(after)


# -- import ----------------------------------------------------------------------------------------

def import_check(uow, ports, round_id, institution_id):
    unit, round_, window = edit_context(ports, round_id, institution_id)
    check_edit(uow.actor, unit, window)
    if seal_state(uow, round_.id, [unit.id])[str(unit.id)]["sealed"]:
        raise LecError("unit_confirmed", "the institution's data are confirmed for this round")
    return {"round_id": round_.id, "institution": unit.ref(), "open": True}


def _rejection(row_number, exc):
    message = exc.description
    errors = exc.extra.get("errors") if exc.code == "validation_error" else None
    if errors:
        message = "; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in errors.items())
    entry = {"row": row_number, "code": exc.code, "message": message}
    entry.update({k: exc.extra[k] for k in ("held_by", "held_in") if k in exc.extra})
    return entry


def import_rows(uow, ports, round_id, institution_id, columns, rows, import_id=None):
    """One batch of a staff file: rows ``[row_number, value, ...]`` in ``columns``
    order. A row whose person is already active here with the same details is
    ``unchanged`` (a file imported twice adds nothing); held elsewhere (or here
    with other details, or on an earlier row of the same file) it is rejected
    as ``duplicate_staff``; a row breaking a rule is rejected with its code."""
    import_id = import_key(import_id)
    unit, round_, window = edit_context(ports, round_id, institution_id)
    check_edit(uow.actor, unit, window)
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise validation_error({"columns": [f"unknown: {', '.join(unknown)}"]}, "unknown import columns")
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    actor = require_actor(uow.actor)
    schema = StaffCreate()
    rejected, refused, seen, added, unchanged = [], [], {}, [], 0
    for entry in rows:
        row_number, values = int(entry[0]), entry[1:]
        raw = {c: (v if v not in ("", None) else None) for c, v in zip(columns, values)}
        try:
            clean = check_staff(load(schema, raw), round_)
        except LecError as exc:
            rejected.append(_rejection(row_number, exc))
            continue
        if clean["national_id"] in seen:
            rejected.append({"row": row_number, "code": "duplicate_staff", "held_by": unit.id,
                             "message": f"the same person is on row {seen[clean['national_id']]} "
                                        "of this file"})
            continue
        seen[clean["national_id"]] = row_number
        holder = holder_of(uow.session, STAFF, round_id, clean["national_id"])
        if holder is not None:
            record = _row(uow, holder.learner_id)
            if holder.institution_id == unit.id and all(record._mapping[k] == clean[k] for k in EDITABLE):
                unchanged += 1
                continue
            refused.append((row_number, holder))
            continue
        row = uow.execute(insert_person(STAFF).values(
            round_id=round_id, institution_id=unit.id, institution_path=unit.path,
            source="import", import_id=import_id, import_row=row_number,
            created_by=actor.user_id or None, updated_by=actor.user_id or None, **clean)
            .returning(*staff.c)).first()
        if row is None:  # recorded by another change since the look above
            holder = holder_of(uow.session, STAFF, round_id, clean["national_id"])
            rejected.append({"row": row_number, "code": "duplicate_staff",
                             "message": "recorded meanwhile by another change",
                             **({} if holder is None else
                                {k: v for k, v in _duplicate(uow, ports, unit, holder).items()
                                 if k in ("held_by", "held_in")})})
            continue
        added.append(row)
        uow.emit("staff_added", {"round_id": round_id, "staff": staff_event(row, unit)})
    rejected += [{"row": row_number, **answer} for (row_number, _), answer in
                 zip(refused, _answers(uow, ports, unit, round_id, refused, "import"))]
    if added:
        uow.audit("import", "staff", None, {
            "round_id": round_id, "institution_id": unit.id, "rows": len(rows),
            "accepted": len(added), "staff_ids": sorted(r.id for r in added)})
    uow.commit()
    return {"accepted": len(added), "unchanged": unchanged,
            "rejected": sorted(rejected, key=lambda r: r["row"]), "rows": len(rows)}
