"""Enrollment use cases: learners and other-school headcounts.

Each takes a unit of work (its acting user ``uow.actor``) and the service's
:class:`~services.enrollment.ports.Ports` (the institution from the registry,
the round and its window from the rounds service), checks authority, applies
the rules of ``domain`` and commits the change with its audit rows and events.
Reads take the unit of work too and never commit.
"""
from sqlalchemy import and_, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.context import require_actor
from services.common.errors import LecError, conflict, forbidden, not_found, validation_error
from services.common.jsonutil import plain
from services.common.validation import as_id, load, page
from services.common.values import Unit
from services.common.vocabulary import ALL_GRADES, INSTITUTION_TYPES
from services.enrollment import domain
from services.enrollment.duplicates import LEARNERS, insert_person, refuse_one, write_person
from services.enrollment.models import headcounts, learners, units
from services.enrollment.schemas import HeadcountSet, LearnerCreate, LearnerUpdate, Removal
from services.enrollment.sealing import headcount_counts, lock, lock_for_edit, seal_state



# -- presenting ---------------------------------------------------------------------------

def learner_dict(row):
    return plain(domain.Learner.from_row(row).as_dict())


def learner_event(row, unit, census_date):
    """A learner as events carry it: no ID number, no name."""
    return domain.Learner.from_row(row).fact(unit, census_date)


# -- who may do what -----------------------------------------------------------------------

def require_institution(unit):
    if unit.type not in INSTITUTION_TYPES:
        raise not_found("institution")


def require_reader(actor, unit, what="institution"):
    require_actor(actor).require_read(unit.path, what)


def require_recorder(actor, unit):
    """Learners are recorded by the users of the institution itself."""
    actor = require_actor(actor)
    actor.require_read(unit.path, "institution")
    if not actor.is_system and actor.org_unit_id != unit.id:
        raise forbidden("learners are recorded by the institution's own users")


def require_active(unit):
    if unit.status != "active":
        raise conflict(f"the {unit.type} is {unit.status}: only active units record data")


def require_open(window):
    if not window.open:
        closes_at = window.closes_at.isoformat() if window.closes_at else None
        raise LecError("round_not_open",
                       f"the round is {window.state} for this unit (recording closes at {closes_at})")


def check_edit(actor, unit, window):
    """Everything a change of an institution's learners needs, but the seal."""
    require_institution(unit)
    require_recorder(actor, unit)
    require_active(unit)
    require_open(window)


# -- what an edit needs ----------------------------------------------------------------------

def edit_context(ports, round_id, institution_id, uow=None):
    """The institution (re-read when not active), the round and its window for the institution
    (from the calendar this process keeps: no call while the round is held). With ``uow`` the
    unit is read in its transaction, the one the edit then writes in."""
    unit = ports.active_unit(institution_id, uow=uow)
    round_, window = ports.round_and_window(as_id(round_id, "round"), unit.path)
    return unit, round_, window


def place_context(uow, ports, place, what):
    """:func:`edit_context` of a record's ``place`` (round id, institution id, path),
    the record readable by the caller (``what`` names it when it is not)."""
    if place is None:
        raise not_found(what)
    require_actor(uow.actor).require_read(place[2], what)
    # the same transaction goes on: the window comes from this process's calendar, the unit
    # from the units table (the registry and rounds are asked only on a miss)
    return edit_context(ports, place[0], place[1], uow)


def learner_context(uow, ports, learner_id):
    """:func:`edit_context` of a learner's institution (the learner readable by the caller)."""
    return place_context(uow, ports, learner_place(uow, learner_id), "learner")


# -- reads ---------------------------------------------------------------------------------

# the statements every edit runs, built once
_LEARNER = select(learners).where(learners.c.id == bindparam("learner_id"))
_LEARNER_LOCKED = _LEARNER.with_for_update()
_PLACE = select(learners.c.round_id, learners.c.institution_id, learners.c.institution_path).where(
    learners.c.id == bindparam("learner_id"))


def learner_row(uow, learner_id, lock=False):
    try:
        learner_id = int(learner_id)
    except (TypeError, ValueError):
        raise not_found("learner") from None
    row = uow.execute(_LEARNER_LOCKED if lock else _LEARNER, {"learner_id": learner_id}).first()
    if row is None:
        raise not_found("learner")
    return row


def learner_place(uow, learner_id):
    """``(round_id, institution_id, institution_path)`` of a learner, or None."""
    try:
        learner_id = int(learner_id)
    except (TypeError, ValueError):
        return None
    row = uow.execute(_PLACE, {"learner_id": learner_id}).first()
    return tuple(row) if row else None


def get_learner(uow, learner_id):
    row = learner_row(uow, learner_id)
    require_actor(uow.actor).require_read(row.institution_path, "learner")
    return learner_dict(row)


_GRADE_ORDER = func.array_position(literal(list(ALL_GRADES)), learners.c.grade)


def _search(q):
    text = q.strip()
    compact = text.replace("-", "").replace(" ", "").upper()
    if compact.isdigit() or (compact[:1] == "G" and compact[1:].isdigit() and len(compact) > 1):
        return learners.c.id_number.startswith(compact, autoescape=True)
    words = [w for w in text.split() if w]
    full = func.concat_ws(" ", learners.c.prefix, learners.c.first_name, learners.c.last_name)
    return and_(*[full.icontains(w, autoescape=True) for w in words])


SORTS = ("grade", "name", "added")


def _order(sort):
    """The ORDER BY of a learner list: ``grade`` (the default: grade, then name),
    ``name`` (first name, last name) or ``added`` (oldest first); a leading ``-``
    reverses it. The id breaks ties, so pages never overlap."""
    sort = (sort or "grade").strip()
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in SORTS:
        raise validation_error({"sort": [f"one of {', '.join(SORTS)} (a leading '-' reverses it)"]})
    columns = {"grade": [_GRADE_ORDER, learners.c.first_name, learners.c.last_name],
               "name": [learners.c.first_name, learners.c.last_name],
               "added": [learners.c.created_at]}[key] + [learners.c.id]
    if descending:
        columns = [c.desc() for c in columns]
    return [learners.c.institution_path, *columns]


def list_learners(uow, ports, round_id, unit_id, q=None, grade=None, status=None, limit=None,
                  offset=None, sort=None):
    """The learners of an institution, or of every institution under a unit
    (ordered by ``sort``, see :func:`_order`)."""
    unit = ports.unit(unit_id)
    require_reader(uow.actor, unit, "org unit")
    limit, offset = page(limit, offset)
    cond = [learners.c.round_id == as_id(round_id, "round")]
    if unit.is_institution:
        cond.append(learners.c.institution_id == unit.id)
    else:
        cond.append(learners.c.institution_path.startswith(unit.path, autoescape=True))
    status = status or "active"
    if status not in ("active", "removed", "all"):
        raise validation_error({"status": ["one of active, removed, all"]})
    if status != "all":
        cond.append(learners.c.status == status)
    if grade not in (None, ""):
        if grade not in ALL_GRADES:
            raise validation_error({"grade": [f"one of {', '.join(ALL_GRADES)}"]})
        cond.append(learners.c.grade == grade)
    if q not in (None, "") and str(q).strip():
        cond.append(_search(str(q)))
    order = _order(sort)
    where = and_(*cond)
    total = uow.execute(select(func.count()).select_from(learners).where(where)).scalar_one()
    rows = uow.execute(select(learners).where(where)
                           .order_by(*order).limit(limit).offset(offset))
    return {"items": [learner_dict(r) for r in rows], "total": total}


def export_page(uow, ports, round_id, institution_id, after_id=0, limit=5000, status="active"):
    """Keyset pages of an institution's learners for the export."""
    unit = ports.unit(institution_id, "institution")
    require_institution(unit)
    require_reader(uow.actor, unit)
    limit = max(1, min(int(limit), 10_000))
    cond = [learners.c.round_id == as_id(round_id, "round"), learners.c.institution_id == unit.id,
            learners.c.id > int(after_id or 0)]
    if status != "all":
        cond.append(learners.c.status == "active")
    rows = uow.execute(select(learners).where(and_(*cond)).order_by(learners.c.id).limit(limit))
    return [learner_dict(r) for r in rows]


def learner_facts(uow, ports, round_id, after_id=0, limit=20_000):
    """Keyset pages of every learner of a round (active and removed) as the
    events carry them, for a consumer that rebuilds its read model."""
    round_ = ports.round(as_id(round_id, "round"))
    limit = max(1, min(int(limit), 50_000))
    rows = uow.execute(
        select(learners, units.c.type.label("unit_type"))
        .select_from(learners.outerjoin(units, units.c.id == learners.c.institution_id))
        .where(learners.c.round_id == round_.id, learners.c.id > int(after_id or 0))
        .order_by(learners.c.id).limit(limit)).all()
    items = [learner_event(r, Unit(id=r.institution_id, path=r.institution_path,
                                   type=r.unit_type or ("cdc" if r.grade == "cdc" else "school")),
                           round_.census_date)
             for r in rows]
    return plain({"items": items, "next_after": rows[-1].id if len(rows) == limit else None})


def headcount_facts(uow, round_id, after_id=0, limit=20_000):
    """Keyset pages (by school id) of a round's headcounts as ``headcount_set`` carries them."""
    limit = max(1, min(int(limit), 50_000))
    rows = uow.execute(select(headcounts).where(
        headcounts.c.round_id == as_id(round_id, "round"), headcounts.c.school_id > int(after_id or 0),
        headcounts.c.draft.is_(False))
        .order_by(headcounts.c.school_id).limit(limit)).all()
    items = [{"round_id": r.round_id, "lao_id": r.lao_id, "version": r.version,
              "school": {"id": r.school_id, "type": "other_school", "path": r.school_path, "closed": r.closed},
              "counts": headcount_counts(r)} for r in rows]
    return plain({"items": items, "next_after": rows[-1].school_id if len(rows) == limit else None})


def summary(uow, ports, round_id, institution_id):
    """Counts of an institution's learners, removals and its seal."""
    unit = ports.unit(institution_id, "institution")
    require_institution(unit)
    require_reader(uow.actor, unit)
    round_id = as_id(round_id, "round")
    rows = uow.execute(
        select(learners.c.status, learners.c.grade, func.count())
        .where(learners.c.round_id == round_id, learners.c.institution_id == unit.id)
        .group_by(learners.c.status, learners.c.grade)).all()
    active = {g: n for s, g, n in rows if s == "active"}
    return {"round_id": round_id, "institution_id": unit.id, "counts": domain.counts(active),
            "removed": sum(n for s, g, n in rows if s == "removed"),
            "sealed": seal_state(uow, round_id, [unit.id])[str(unit.id)]}


# -- changes --------------------------------------------------------------------------------

def _refuser(uow, ports, unit, round_id, attempt):
    """``refuse(holder)`` for ``duplicates.write_person``: ``duplicate_learner`` saying
    of the holder what the caller may know, or ``rate_limited`` (see
    ``services.enrollment.duplicates``)."""
    return lambda holder: refuse_one(uow, ports, unit, round_id, holder, attempt)


def add_learner(uow, ports, round_id, institution_id, data):
    unit, round_, window = edit_context(ports, round_id, institution_id, uow)
    check_edit(uow.actor, unit, window)
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    clean, _ = domain.check_learner(load(LearnerCreate(), data), unit.type, round_)
    actor = require_actor(uow.actor)
    row = write_person(uow, LEARNERS, insert_person(LEARNERS).values(
        round_id=round_id, institution_id=unit.id, institution_path=unit.path,
        source="manual", created_by=actor.user_id or None, updated_by=actor.user_id or None,
        **clean).returning(*learners.c), round_id, clean["id_number"],
        _refuser(uow, ports, unit, round_id, "add"))
    uow.audit("add", "learner", row.id, {"round_id": round_id, "institution_id": unit.id,
                                         "grade": row.grade, "id_kind": row.id_kind})
    uow.emit("learner_added", {"round_id": round_id, "learner": learner_event(row, unit, round_.census_date)})
    uow.commit()
    return learner_dict(row)


def _locked_learner(uow, learner_id, round_, unit):
    """Seal row first (shared), then the learner row: the order every edit uses."""
    lock_for_edit(uow, round_.id, unit)
    return learner_row(uow, learner_id, lock=True)


def update_learner(uow, ports, learner_id, data):
    unit, round_, window = learner_context(uow, ports, learner_id)
    check_edit(uow.actor, unit, window)
    row = _locked_learner(uow, learner_id, round_, unit)
    if row.status != "active":
        raise conflict("a removed learner cannot be changed; add them again")
    changes = load(LearnerUpdate(), data, partial=True)
    expected = changes.pop("version", None)
    if expected is not None and expected != row.version:
        raise conflict(f"the learner was changed meanwhile (version {row.version}, not {expected})")
    if not changes:
        raise validation_error({"_schema": ["nothing to change"]})
    merged = {k: row._mapping[k] for k in ("prefix", "first_name", "last_name", "sex", "birth_date",
                                          "nationality", "grade")}
    if "national_id" in changes or "g_code" in changes:
        merged.update(national_id=changes.pop("national_id", None), g_code=changes.pop("g_code", None))
    else:
        merged.update(domain.split_identity(row.id_kind, row.id_number))
    merged.update(changes)
    for field in ("first_name", "last_name", "sex", "birth_date", "grade"):
        if merged.get(field) is None:
            raise validation_error({field: ["may not be null"]})
    clean, _ = domain.check_learner(merged, unit.type, round_)
    changed = {k: v for k, v in clean.items() if row._mapping[k] != v}
    if not changed:
        return learner_dict(row)
    actor = require_actor(uow.actor)
    change = update(learners).where(learners.c.id == row.id).values(
        **changed, version=learners.c.version + 1, updated_at=func.now(),
        updated_by=actor.user_id or None).returning(*learners.c)
    if "id_number" in changed:  # the person named now may be held elsewhere
        after = write_person(uow, LEARNERS, change, row.round_id, clean["id_number"],
                             _refuser(uow, ports, unit, row.round_id, "update"))
    else:
        after = uow.execute(change).one()
    census = round_.census_date
    uow.audit("update", "learner", row.id, {
        "fields": sorted(changed),
        "before": {k: row._mapping[k] for k in changed if k != "id_number"},
        "after": {k: v for k, v in changed.items() if k != "id_number"}})
    uow.emit("learner_changed", {"round_id": row.round_id,
                                 "learner": learner_event(after, unit, census),
                                 "before": learner_event(row, unit, census)})
    uow.commit()
    return learner_dict(after)


def remove_learner(uow, ports, learner_id, data):
    unit, round_, window = learner_context(uow, ports, learner_id)
    check_edit(uow.actor, unit, window)
    removal = load(Removal(), data or {})
    row = _locked_learner(uow, learner_id, round_, unit)
    if row.status != "active":
        raise conflict("the learner is already removed")
    actor = require_actor(uow.actor)
    after = uow.execute(update(learners).where(learners.c.id == row.id).values(
        status="removed", removal_reason=removal["reason"], removal_note=removal["note"],
        removed_at=func.now(), removed_by=actor.user_id or None, version=learners.c.version + 1,
        updated_at=func.now(), updated_by=actor.user_id or None).returning(*learners.c)).one()
    census = round_.census_date
    uow.audit("remove", "learner", row.id, {"reason": removal["reason"], "note": removal["note"],
                                            "grade": row.grade})
    from services.enrollment.transfers import cancel_for_learner  # (it imports this module)
    cancel_for_learner(uow, row)  # a pending request for the learner ends with them
    uow.emit("learner_removed", {"round_id": row.round_id,
                                 "learner": learner_event(after, unit, census)})
    uow.commit()
    return learner_dict(after)


def restore_learner(uow, ports, learner_id):
    """Make a removed learner active again (a removal made by mistake), while the
    round is open for the institution and its data are not sealed. A person has
    one active record in a round: when another record of the same person is
    active (here or elsewhere) the restore is refused as ``duplicate_learner``,
    described as :mod:`services.enrollment.duplicates` says. Audited; the
    learner is announced again as ``learner_added``."""
    unit, round_, window = learner_context(uow, ports, learner_id)
    check_edit(uow.actor, unit, window)
    row = _locked_learner(uow, learner_id, round_, unit)
    if row.status != "removed":
        raise conflict("the learner is not removed")
    actor = require_actor(uow.actor)
    after = write_person(uow, LEARNERS, update(learners).where(learners.c.id == row.id).values(
        status="active", removal_reason=None, removal_note=None, removed_at=None, removed_by=None,
        version=learners.c.version + 1, updated_at=func.now(),
        updated_by=actor.user_id or None).returning(*learners.c),
        row.round_id, row.id_number, _refuser(uow, ports, unit, row.round_id, "restore"))
    census = round_.census_date
    uow.audit("restore", "learner", row.id, {"round_id": row.round_id, "institution_id": unit.id,
                                             "grade": row.grade, "removal_reason": row.removal_reason})
    uow.emit("learner_added", {"round_id": row.round_id, "learner": learner_event(after, unit, census)})
    uow.commit()
    return learner_dict(after)


# -- other-affiliation schools' headcounts ---------------------------------------------------

def headcount_dict(round_id, school, row, sealed):
    return plain({
        "round_id": round_id, "school_id": school.id, "lao_id": school.parent_id,
        "closed": school.status == "closed" or bool(row is not None and row.closed),
        "counts": headcount_counts(row) if school.status != "closed" else dict(domain.ZERO),
        "version": row.version if row is not None else 0,
        "updated_at": row.updated_at if row is not None else None, "sealed": sealed,
        # started from the round before and not yet accepted (services.enrollment.headcount_drafts)
        "draft": bool(row is not None and row.draft),
        "draft_from": row.draft_from if row is not None and row.draft else None})


def _require_other_school(unit):
    if unit.type != "other_school":
        raise not_found("school of another affiliation")


def school_context(ports, round_id, school_id):
    """The school as the round sees it (a closure dated after its census date
    leaves it active), its LAO, the round and the LAO's window."""
    school = ports.active_unit(school_id, "school")
    lao = ports.unit(school.parent_id, "LAO")
    round_, window = ports.round_and_window(as_id(round_id, "round"), lao.path)
    return domain.effective(school, round_.census_date), lao, round_, window


def get_headcount(uow, ports, round_id, school_id):
    school = ports.unit(school_id, "school")
    round_id = as_id(round_id, "round")
    school = domain.effective(school, ports.round(round_id).census_date)
    _require_other_school(school)
    require_reader(uow.actor, school, "school")
    row = uow.execute(select(headcounts).where(headcounts.c.round_id == round_id,
                                               headcounts.c.school_id == school.id)).first()
    sealed = seal_state(uow, round_id, [school.parent_id])[str(school.parent_id)]["sealed"]
    return headcount_dict(round_id, school, row, sealed)


def list_headcounts(uow, ports, round_id, lao_id):
    """Every other-affiliation school of an LAO with its headcount (drafts of the
    round before are started first while the round is open for the LAO)."""
    from services.enrollment.headcount_drafts import ensure  # (it imports this module)
    lao = ports.unit(lao_id, "LAO")
    require_reader(uow.actor, lao, "LAO")
    schools = ports.other_schools(lao)
    round_, window = ports.round_and_window(as_id(round_id, "round"), lao.path)
    schools = [domain.effective(s, round_.census_date) for s in schools]
    if schools and window.open:
        ensure(uow, round_.id, ports.previous_round(round_), lao, schools)
    if lao.type != "lao":
        raise not_found("LAO")
    round_id = round_.id
    rows = {r.school_id: r for r in uow.execute(select(headcounts).where(
        headcounts.c.round_id == round_id, headcounts.c.lao_id == lao.id))}
    sealed = seal_state(uow, round_id, [lao.id])[str(lao.id)]["sealed"]
    items = [dict(headcount_dict(round_id, s, rows.get(s.id), sealed), code=s.code, name=s.name)
             for s in sorted(schools, key=lambda s: s.code)]
    return {"items": items, "total": len(items)}


def set_headcount(uow, ports, round_id, school_id, data):
    """The funding LAO enters a school's headcount by grade; closed schools count 0."""
    school, lao, round_, window = school_context(ports, round_id, school_id)
    _require_other_school(school)
    actor = require_actor(uow.actor)
    actor.require_read(school.path, "school")
    if not actor.is_system and actor.org_unit_id != school.parent_id:
        raise forbidden("the headcount is entered by the LAO that funds the school")
    if school.status == "pending":
        raise conflict("the school is pending verification")
    require_open(window)
    body = load(HeadcountSet(), data)
    closed = school.status == "closed"
    by_grade = domain.headcount_by_grade(body["counts"], closed)
    counts = domain.counts(by_grade)
    round_id = round_.id
    lock_for_edit(uow, round_id, lao)
    row = _upsert_headcount(uow, round_id, school, closed, counts, actor.user_id or None)
    uow.audit("set", "headcount", f"{round_id}:{school.id}", {"counts": counts, "closed": closed})
    _emit_headcount(uow, round_id, school, row)
    uow.commit()
    return headcount_dict(round_id, school, row, False)


def _upsert_headcount(uow, round_id, school, closed, counts, user_id):
    stmt = pg_insert(headcounts).values(
        round_id=round_id, school_id=school.id, lao_id=school.parent_id,
        school_path=school.path, closed=closed, total=counts["total"],
        by_grade=counts["by_grade"], updated_by=user_id)
    return uow.execute(stmt.on_conflict_do_update(
        index_elements=[headcounts.c.round_id, headcounts.c.school_id],
        set_={"closed": closed, "total": counts["total"], "by_grade": counts["by_grade"],
              "draft": False, "draft_from": None, "version": headcounts.c.version + 1, "updated_at": func.now(),
              "updated_by": user_id}).returning(*headcounts.c)).one()


def _emit_headcount(uow, round_id, school, row):
    uow.emit("headcount_set", {
        "round_id": round_id,
        "school": dict(school.ref(), closed=row.closed),
        "lao_id": row.lao_id, "counts": headcount_counts(row), "version": row.version})


def unit_changed(uow, ports, event):
    """The registry's ``unit_changed``: the unit's new record replaces the one kept
    (newest version wins), the checks of it and its parent are queued again, and
    a closed school of another affiliation counts 0 from its closure on."""
    from services.enrollment.checks import mark_everywhere  # (it imports this module)
    from services.enrollment.ports import save_units
    unit = Unit.from_record(event["unit"])
    save_units(uow.session, [unit])
    mark_everywhere(uow.session, [unit.id, unit.parent_id])
    if event.get("change") == "closed" and unit.type == "other_school":
        school_closed(uow, ports, unit)


def school_closed(uow, ports, school):
    """A school of another affiliation closed: its headcounts that are not
    sealed by the LAO's confirmation become 0 (a sealed count stays as sealed),
    in the rounds whose census date is on or after the closure's effective date
    ``closed_on``."""
    round_ids = uow.execute(select(headcounts.c.round_id).where(
        headcounts.c.school_id == school.id, headcounts.c.closed.is_(False))).scalars().all()
    changed = 0
    for round_id in round_ids:
        if not domain.closed_for(school, ports.round(round_id).census_date):
            continue
        if lock(uow, round_id, school.parent_id).sealed:
            continue
        row = _upsert_headcount(uow, round_id, school, True, dict(domain.ZERO), None)
        uow.audit("close", "headcount", f"{round_id}:{school.id}",
                  {"closed_on": school.closed_on})
        _emit_headcount(uow, round_id, school, row)
        changed += 1
    return changed

