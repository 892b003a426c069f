"""The reports, read from the read model.

Every report is about one round and one org unit; the caller must be allowed
to read the unit (its own or one beneath it: ``Actor.require_read``). Counts
come from the per-unit aggregate rows, so a report on the whole country reads
as few rows as one on a single school.
"""
from collections import Counter, defaultdict
from decimal import Decimal

from sqlalchemy import BigInteger, and_, bindparam, func, literal, null, or_, select, union_all

from services.common import staff as staff_words
from services.common.context import require_actor
from services.common.errors import LecError, not_found, validation_error
from services.common.hierarchy import make_path, path_ids
from services.common.jsonutil import plain
from services.common.round_settings import RoundSettings
from services.common.rounds_calendar import previous_round, state_at
from services.common.validation import as_id, page
from services.reporting import domain, tables
from services.reporting import staff as staffing
from services.reporting.models import (
    confirmations, headcounts, learner_counts, other_counts, round_tally, rounds, staff_counts, unit_counts, units,
)

INSTITUTIONS = ("school", "cdc")
CONFIRMING = ("province", "lao", "school", "cdc")


# -- the round and the unit ----------------------------------------------------------

def now(uow):
    return uow.execute(select(func.now())).scalar_one()


def find_round(uow, round_id):
    return uow.execute(select(rounds).where(rounds.c.id == as_id(round_id, "round"))).first()


def find_unit(uow, unit_id):
    return uow.execute(select(units).where(units.c.id == as_id(unit_id, "org unit"))).first()


def round_row(uow, round_id):
    row = find_round(uow, round_id)
    if row is None:
        raise not_found("round")
    return row


def readable_unit(uow, unit_id):
    """The unit, if the caller may read it; outside its subtree it does not exist."""
    row = find_unit(uow, unit_id)
    if row is None:
        raise not_found("org unit")
    require_actor(uow.actor).require_read(row.path, "org unit")
    return row


def round_brief(row, at):
    return plain({"id": row.id, "academic_year": row.academic_year, "number": row.number,
                  "census_date": row.census_date,
                  "state": state_at(row.opens_at, row.closes_at, row.finalized_at, at)})


def unit_brief(row):
    return {"id": row.id, "code": row.code, "name": row.name, "type": row.type, "path": row.path,
            "status": row.status, "affiliation": row.affiliation}


def settings_of(round_row_):
    return RoundSettings().load(round_row_.settings or {})


def _prefix(unit):
    return unit.path + "%"


def _confirmation_brief(row):
    if row is None:
        return {"state": "open", "confirmed_at": None, "confirmed_by": None, "confirmed_by_username": None}
    return plain({"state": row.state, "confirmed_at": row.confirmed_at, "confirmed_by": row.confirmed_by,
                  "confirmed_by_username": row.confirmed_by_username})


def _confirmation_rows(uow, round_id, unit_ids):
    if not unit_ids:
        return {}
    rows = uow.execute(select(confirmations).where(confirmations.c.round_id == round_id,
                                                       confirmations.c.unit_id.in_(list(unit_ids))))
    return {r.unit_id: r for r in rows}


def _context(uow, round_id, unit_id):
    """The round (with the database's clock, in one read) and the readable unit."""
    rnd = uow.execute(select(rounds, func.now().label("at"))
                          .where(rounds.c.id == as_id(round_id, "round"))).first()
    if rnd is None:
        raise not_found("round")
    unit = readable_unit(uow, unit_id)
    return rnd, unit, {"round": round_brief(rnd, rnd.at), "org_unit": unit_brief(unit)}


# -- counts of units -----------------------------------------------------------------------

def learner_cube(uow, round_id, unit_id):
    """The unit's learners by (grade, sex, id_kind, age): rows of its aggregate."""
    return uow.execute(
        select(learner_counts.c.grade, learner_counts.c.sex, learner_counts.c.id_kind,
               learner_counts.c.age, learner_counts.c.n)
        .where(learner_counts.c.round_id == round_id, learner_counts.c.unit_id == unit_id,
               learner_counts.c.n > 0)).all()


def _by_grade(uow, table, round_id, unit_ids):
    """{unit_id: {grade: n}} from an aggregate table, for many units at once."""
    result = defaultdict(dict)
    if not unit_ids:
        return result
    rows = uow.execute(
        select(table.c.unit_id, table.c.grade, func.sum(table.c.n))
        .where(table.c.round_id == round_id, table.c.unit_id.in_(list(unit_ids)), table.c.n > 0)
        .group_by(table.c.unit_id, table.c.grade))
    for unit_id, grade, n in rows:
        result[unit_id][grade] = int(n)
    return result


def _tallies(uow, round_id, unit_ids):
    """{unit id: {type: {total, confirmed, recorded, recorded_closed}}} of each
    unit's subtree (itself included): units not closed, and this round's
    confirmed units and other-affiliation schools with a headcount."""
    empty = {"total": 0, "confirmed": 0, "recorded": 0, "recorded_closed": 0}
    result = defaultdict(lambda: defaultdict(lambda: dict(empty)))
    ids = list(unit_ids)
    if not ids:
        return result
    for unit_id, type_, n in uow.execute(
            select(unit_counts.c.unit_id, unit_counts.c.type, unit_counts.c.n)
            .where(unit_counts.c.unit_id.in_(ids))):
        result[unit_id][type_]["total"] = n
    for unit_id, type_, metric, n in uow.execute(
            select(round_tally.c.unit_id, round_tally.c.type, round_tally.c.metric, round_tally.c.n)
            .where(round_tally.c.round_id == round_id, round_tally.c.unit_id.in_(ids))):
        result[unit_id][type_][metric] = n
    return result


def _sum_tally(tally, types):
    return {"total": sum(tally.get(t, {}).get("total", 0) for t in types),
            "confirmed": sum(tally.get(t, {}).get("confirmed", 0) for t in types)}


def own_counts(uow, round_id, unit_ids):
    """{unit id: by_grade} of each unit's own learners plus other-school pupils."""
    result = defaultdict(Counter)
    for i in range(0, len(unit_ids), 5000):
        batch = unit_ids[i:i + 5000]
        for table in (learner_counts, other_counts):
            for unit_id, by_grade in _by_grade(uow, table, round_id, batch).items():
                result[unit_id].update(by_grade)
    return {k: dict(v) for k, v in result.items()}


def confirmation_states(uow, round_id):
    return dict(uow.execute(select(confirmations.c.unit_id, confirmations.c.state)
                                .where(confirmations.c.round_id == round_id)).all())


# -- summary ---------------------------------------------------------------------------------

def _summary_context_statement():
    unit, own = units.alias("u"), confirmations.alias("own")
    round_id, unit_id = bindparam("round_id", type_=BigInteger), bindparam("unit_id", type_=BigInteger)
    return (select(rounds, func.now().label("at"), *[c.label(f"unit_{c.name}") for c in unit.c],
                   *[own.c[k].label(f"own_{k}") for k in OWN_CONFIRMATION])
            .select_from(rounds.outerjoin(unit, unit.c.id == unit_id)
                         .outerjoin(own, and_(own.c.round_id == rounds.c.id, own.c.unit_id == unit_id)))
            .where(rounds.c.id == round_id))


def _summary_counts_statement():
    """Every aggregate row of one unit the summary shows, in one read: learners
    (grade, sex, ID kind, age), other-school pupils (grade), units in its
    subtree (type), this round's tallies (type, metric), staff (position) and
    its own children (type, confirmed or not). Each part but the last is a
    few dozen rows of the unit's own, whatever the size of the subtree; the
    children are read one by one (76 provinces at the department, an LAO's
    institutions, a province's LAOs)."""
    r, u = bindparam("round_id", type_=BigInteger), bindparam("unit_id", type_=BigInteger)
    none = null()
    conf = confirmations.alias("c")
    lc, oc, uc, rt, sc = learner_counts, other_counts, unit_counts, round_tally, staff_counts
    return union_all(
        select(literal("learners").label("part"), lc.c.grade.label("a"), lc.c.sex.label("b"),
               lc.c.id_kind.label("c"), lc.c.age.cast(BigInteger).label("d"), lc.c.n.cast(BigInteger).label("n"))
        .where(lc.c.round_id == r, lc.c.unit_id == u, lc.c.n > 0),
        select(literal("other"), oc.c.grade, none, none, none, oc.c.n)
        .where(oc.c.round_id == r, oc.c.unit_id == u, oc.c.n > 0),
        select(literal("units"), uc.c.type, none, none, none, uc.c.n).where(uc.c.unit_id == u),
        select(literal("tally"), rt.c.type, rt.c.metric, none, none, rt.c.n)
        .where(rt.c.round_id == r, rt.c.unit_id == u),
        select(literal("staff"), sc.c.position, none, none, none, sc.c.n)
        .where(sc.c.round_id == r, sc.c.unit_id == u, sc.c.n > 0),
        select(literal("children"), units.c.type, none, none,
               func.count(conf.c.unit_id).filter(conf.c.state == "confirmed"), func.count())
        .select_from(units.outerjoin(conf, and_(conf.c.round_id == r, conf.c.unit_id == units.c.id)))
        .where(units.c.parent_id == u, units.c.status != "closed")
        .group_by(units.c.type),
    )


OWN_CONFIRMATION = ("state", "confirmed_at", "confirmed_by", "confirmed_by_username")
UNIT_COLUMNS = tuple(c.name for c in units.c)
# built once: the summary is read often, and these are the same two statements every time
SUMMARY_CONTEXT = _summary_context_statement()
SUMMARY_COUNTS = _summary_counts_statement()


class _Row(dict):
    """Columns read under prefixed labels, as the attributes of a row."""
    __getattr__ = dict.__getitem__


def _summary_context(uow, round_id, unit_id):
    """The round (with the database's clock), the readable unit and its own
    confirmation (None when it has none), in one read."""
    round_id, unit_id = as_id(round_id, "round"), as_id(unit_id, "org unit")
    row = uow.execute(SUMMARY_CONTEXT, {"round_id": round_id, "unit_id": unit_id}).first()
    if row is None:
        raise not_found("round")
    if row.unit_id is None:
        raise not_found("org unit")
    unit = _Row({k: getattr(row, f"unit_{k}") for k in UNIT_COLUMNS})
    require_actor(uow.actor).require_read(unit.path, "org unit")
    own = None if row.own_state is None else _Row({k: getattr(row, f"own_{k}") for k in OWN_CONFIRMATION})
    return row, unit, own


def _summary_counts(uow, round_id, unit_id):
    found = defaultdict(list)
    for part, *rest in uow.execute(SUMMARY_COUNTS, {"round_id": round_id, "unit_id": unit_id}):
        found[part].append(rest)
    return found


def summary(uow, round_id, unit_id):
    rnd, unit, own = _summary_context(uow, round_id, unit_id)
    report = {"round": round_brief(rnd, rnd.at), "org_unit": unit_brief(unit)}
    found = _summary_counts(uow, rnd.id, unit.id)
    report.update(domain.learner_totals([(g, s, k, int(a), int(n)) for g, s, k, a, n in found["learners"]]))
    other = {g: int(n) for g, _, _, _, n in found["other"]}
    empty = {"total": 0, "confirmed": 0, "recorded": 0, "recorded_closed": 0}
    tally = defaultdict(lambda: dict(empty))
    for type_, _, _, _, n in found["units"]:
        tally[type_]["total"] = int(n)
    for type_, metric, _, _, n in found["tally"]:
        tally[type_][metric] = int(n)
    schools = tally["other_school"]
    report["other_schools"] = {"schools": schools["total"], "recorded": schools["recorded"],
                               "closed": schools["recorded_closed"], **domain.counts_dict(other)}
    children = {t: {"total": int(n), "confirmed": int(c)} for t, _, _, c, n in found["children"]}
    report["confirmation"] = {
        **_confirmation_brief(own),
        "children": _sum_tally(children, CONFIRMING),
        "by_type": {t: {"total": tally[t]["total"], "confirmed": tally[t]["confirmed"]} for t in CONFIRMING
                    if domain.lies_below(t, unit.type)},
    }
    report["staff"] = staff_words.staff_counts({p: int(n) for p, _, _, _, n in found["staff"]})
    return report


# -- progress --------------------------------------------------------------------------------

def _children(uow, unit):
    return uow.execute(select(units).where(units.c.parent_id == unit.id, units.c.status != "closed")
                           .order_by(units.c.type, units.c.code)).all()


def progress(uow, round_id, unit_id):
    rnd, unit, report = _context(uow, round_id, unit_id)
    children = _children(uow, unit)
    ids = [c.id for c in children]
    learners_ = _by_grade(uow, learner_counts, rnd.id, ids)
    others = _by_grade(uow, other_counts, rnd.id, ids)
    states = _confirmation_rows(uow, rnd.id, ids + [unit.id])
    below = _tallies(uow, rnd.id, ids)
    with_headcount = set(uow.execute(
        select(headcounts.c.school_id).where(headcounts.c.round_id == rnd.id,
                                             headcounts.c.school_id.in_(ids))).scalars()) if ids else set()
    staff_below = staffing.children_counts(uow, rnd.id, unit)
    items = []
    for child in children:
        by_grade = Counter(learners_.get(child.id, {}))
        by_grade.update(others.get(child.id, {}))
        row = states.get(child.id)
        confirming = child.type != "other_school"
        state = _confirmation_brief(row) if confirming else {"state": None, "confirmed_at": None,
                                                             "confirmed_by": None, "confirmed_by_username": None}
        items.append({
            "unit": unit_brief(child),
            **state,
            "counts": domain.counts_dict(by_grade),
            "confirmed_counts": plain(row.counts) if row is not None and row.state == "confirmed" else None,
            "recorded": sum(by_grade.values()) > 0 or child.id in with_headcount,
            "institutions": _sum_tally(below[child.id], INSTITUTIONS),
            "staff": staff_below[child.id],
        })
    confirming_items = [i for i in items if i["state"] is not None]
    report.update({
        **_confirmation_brief(states.get(unit.id)),
        "items": items,
        "total": len(confirming_items),
        "confirmed": sum(1 for i in confirming_items if i["state"] == "confirmed"),
        "recorded": sum(1 for i in items if i["recorded"]),
    })
    return report


# -- budget ------------------------------------------------------------------------------------

def _money_total():
    return {"lunch": Decimal(0), "milk": Decimal(0), "units": 0, "lunch_pupils": 0, "milk_pupils": 0}


def _add(total, line):
    total["lunch"] += line["lunch"]
    total["milk"] += line["milk"]
    total["units"] += 1
    total["lunch_pupils"] += line["lunch_pupils"]
    total["milk_pupils"] += line["milk_pupils"]


def _money_out(total):
    return {"lunch": float(total["lunch"]), "milk": float(total["milk"]),
            "total": float(total["lunch"] + total["milk"]), "units": total["units"],
            "lunch_pupils": total["lunch_pupils"], "milk_pupils": total["milk_pupils"]}


def confirmed_lines(uow, round_id, unit, settings):
    """One budget line per school, CDC and other-affiliation school in the
    subtree whose counts are confirmed: schools and CDCs by their own
    confirmation, other schools by their LAO's."""
    names = {}
    rows = uow.execute(
        select(confirmations, units.c.code, units.c.name, units.c.status, units.c.affiliation)
        .select_from(confirmations.outerjoin(units, units.c.id == confirmations.c.unit_id))
        .where(confirmations.c.round_id == round_id, confirmations.c.state == "confirmed",
               or_(and_(confirmations.c.unit_path.like(_prefix(unit)),
                        confirmations.c.unit_type.in_(INSTITUTIONS + ("lao",))),
                   # an other school's LAO sits above it
                   and_(confirmations.c.unit_type == "lao",
                        literal(unit.path).like(confirmations.c.unit_path + "%"))))
        .order_by(confirmations.c.unit_path)).all()
    lines = []
    for row in rows:
        if row.unit_type == "lao":
            for school in (row.other_schools or {}).get("schools") or []:
                path = school.get("path") or make_path(row.unit_path, school["id"])
                if path.startswith(unit.path):
                    names[school["id"]] = None
                    lines.append(_line(settings, "other_school", school["id"], school.get("code"), path,
                                       (school.get("counts") or {}).get("by_grade") or {}))
        else:
            lines.append(_line(settings, row.unit_type, row.unit_id, row.code, row.unit_path,
                               (row.counts or {}).get("by_grade") or {}, row.name))
    missing = [i for i, n in names.items() if n is None]
    if missing:
        found = {r.id: r for r in uow.execute(select(units).where(units.c.id.in_(missing)))}
        for line in lines:
            other = found.get(line["unit"]["id"])
            if line["unit"]["type"] == "other_school" and other is not None:
                line["unit"].update(name=other.name, code=other.code, affiliation=other.affiliation)
    return lines


def _line(settings, unit_type, unit_id, code, path, by_grade, name=None):
    amounts = domain.subsidy_for(unit_type, by_grade, settings)
    return {"unit": {"id": unit_id, "code": code, "name": name, "type": unit_type, "path": path},
            "confirmed_counts": domain.counts_dict(by_grade), **amounts}


def unconfirmed_units(uow, round_id, unit):
    """Schools and CDCs not confirmed, and LAOs whose other-school counts are not."""
    conf = confirmations.alias("c")
    other = units.alias("o")
    funds_others = select(other.c.id).where(other.c.parent_id == units.c.id, other.c.type == "other_school",
                                            other.c.status != "closed").exists()
    scope = units.c.path.like(_prefix(unit))
    if unit.type == "other_school":
        scope = units.c.id == unit.parent_id
    return uow.execute(
        select(units)
        .select_from(units.outerjoin(conf, and_(conf.c.round_id == round_id, conf.c.unit_id == units.c.id,
                                                conf.c.state == "confirmed")))
        .where(scope, units.c.status != "closed", conf.c.unit_id.is_(None),
               or_(units.c.type.in_(INSTITUTIONS), and_(units.c.type == "lao", funds_others)))
        .order_by(units.c.path)).all()


def budget(uow, round_id, unit_id, limit=None, offset=None, unpaged=False, preview=False):
    rnd, unit, report = _context(uow, round_id, unit_id)
    settings = settings_of(rnd)
    if preview:
        report["preview"] = budget_preview(uow, rnd.id, unit, settings)
    lines = confirmed_lines(uow, rnd.id, unit, settings)
    totals = {k: _money_total() for k in ("all", "school", "cdc", "other_school")}
    per_child = defaultdict(_money_total)
    child_pos = len(path_ids(unit.path))
    for line in lines:
        _add(totals["all"], line)
        _add(totals[line["unit"]["type"]], line)
        ids = path_ids(line["unit"]["path"])
        if len(ids) > child_pos:
            _add(per_child[ids[child_pos]], line)
        line["total"] = line["lunch"] + line["milk"]
        for key in ("lunch", "milk", "total"):
            line[key] = float(line[key])
    children = {c.id: c for c in _children(uow, unit)}
    missing = set(per_child) - set(children)
    if missing:
        children.update({r.id: r for r in uow.execute(select(units).where(units.c.id.in_(missing)))})
    rows = [{"unit": unit_brief(children[cid]), **_money_out(total)}
            for cid, total in sorted(per_child.items(), key=lambda kv: children[kv[0]].code)]
    pending = unconfirmed_units(uow, rnd.id, unit)
    if not unpaged:
        limit, offset = page(limit if limit not in (None, "") else 1000, offset)
        shown = pending[offset:offset + limit]
    else:
        shown = pending
    live = _by_grade(uow, learner_counts, rnd.id, [u.id for u in shown])
    live_other = _by_grade(uow, other_counts, rnd.id, [u.id for u in shown])
    report.update({
        "basis": "confirmed counts only: each school and CDC by its own confirmation, other-affiliation "
                 "schools by their LAO's; units not confirmed are listed apart and not in the amounts",
        "settings": {"lunch": settings["lunch"], "milk": settings["milk"]},
        "totals": {k: _money_out(v) for k, v in totals.items()},
        "rows": rows,
        "lines": lines if unit.type != "department" else [],
        "unconfirmed": {
            "total": len(pending),
            "items": [{"unit": unit_brief(u),
                       "live_total": sum(live.get(u.id, {}).values()) + sum(live_other.get(u.id, {}).values())}
                      for u in shown],
        },
    })
    return report


# -- budget preview ------------------------------------------------------------------------------

PREVIEW_BASIS = ("live counts now, not confirmed: each school and CDC by its own learners, each other-"
                 "affiliation school by its headcount, every one of them not closed, with the round's rates; "
                 "the change is against the counts each of them last confirmed (kept after a revocation)")
FUNDED = INSTITUTIONS + ("other_school",)
WITH_LINES = ("lao",) + FUNDED


def _funded_units(uow, unit):
    """Schools, CDCs and other-affiliation schools of the subtree, not closed."""
    return uow.execute(
        select(units.c.id, units.c.code, units.c.name, units.c.type, units.c.path, units.c.parent_id)
        .where(units.c.path.like(_prefix(unit)), units.c.type.in_(FUNDED), units.c.status != "closed")
        .order_by(units.c.path)).all()


def _live_by_grade(uow, round_id, unit):
    """{unit id: {grade: n}}: the learners of each school and CDC of the subtree
    and the headcount of each other school, by their own unit id."""
    result = defaultdict(Counter)
    for table in (learner_counts, other_counts):
        rows = uow.execute(
            select(table.c.unit_id, table.c.grade, func.sum(table.c.n))
            .select_from(table.join(units, units.c.id == table.c.unit_id))
            .where(table.c.round_id == round_id, table.c.n > 0, units.c.path.like(_prefix(unit)),
                   units.c.type.in_(FUNDED), units.c.status != "closed")
            .group_by(table.c.unit_id, table.c.grade))
        for unit_id, grade, n in rows:
            result[unit_id][grade] += int(n)
    return result


def _last_confirmed_counts(uow, round_id, unit):
    """{unit id: by_grade} of what each school, CDC and other school of the
    subtree last confirmed: its own confirmation (an other school: its LAO's),
    the one in force or, once revoked, the last one kept."""
    scope = confirmations.c.unit_path.like(_prefix(unit))
    if unit.type == "other_school":
        scope = or_(scope, confirmations.c.unit_id == unit.parent_id)
    rows = uow.execute(
        select(confirmations.c.unit_id, confirmations.c.unit_type, confirmations.c.state,
               confirmations.c.counts, confirmations.c.other_schools, confirmations.c.last_counts)
        .where(confirmations.c.round_id == round_id, scope,
               confirmations.c.unit_type.in_(INSTITUTIONS + ("lao",))))
    result = {}
    for row in rows:
        if row.state == "confirmed":
            counts, others = row.counts, row.other_schools
        elif row.last_counts:
            counts, others = row.last_counts.get("counts"), row.last_counts.get("other_schools")
        else:
            continue
        if row.unit_type == "lao":
            for school in (others or {}).get("schools") or []:
                result[int(school["id"])] = (school.get("counts") or {}).get("by_grade") or {}
        elif counts is not None:
            result[row.unit_id] = counts.get("by_grade") or {}
    return result


def _amounts(amounts):
    return {"lunch": float(amounts["lunch"]), "milk": float(amounts["milk"]),
            "total": float(amounts["lunch"] + amounts["milk"])}


def budget_preview(uow, round_id, unit, settings):
    """What the subtree's schools, CDCs and other schools would be paid on their
    counts now, beside what they last confirmed: money at stake before confirming."""
    funded = _funded_units(uow, unit)
    live = _live_by_grade(uow, round_id, unit)
    last = _last_confirmed_counts(uow, round_id, unit)
    totals = {k: _money_total() for k in ("all", "school", "cdc", "other_school")}
    confirmed_all = _money_total()
    lines = []
    for u in funded:
        by_grade = dict(live.get(u.id, {}))
        amounts = domain.subsidy_for(u.type, by_grade, settings)
        _add(totals["all"], amounts)
        _add(totals[u.type], amounts)
        before = None
        if u.id in last:
            before_amounts = domain.subsidy_for(u.type, last[u.id], settings)
            _add(confirmed_all, before_amounts)
            before = {**_amounts(before_amounts), "counts": domain.counts_dict(last[u.id])}
        if unit.type in WITH_LINES:
            lines.append({"unit": {"id": u.id, "code": u.code, "name": u.name, "type": u.type, "path": u.path},
                          "counts": domain.counts_dict(by_grade), **amounts, **_amounts(amounts),
                          "last_confirmed": before})
    return {
        "basis": PREVIEW_BASIS,
        "totals": {k: _money_out(v) for k, v in totals.items()},
        "confirmed_totals": {"all": _money_out(confirmed_all)},
        "change": {"lunch": float(totals["all"]["lunch"] - confirmed_all["lunch"]),
                   "milk": float(totals["all"]["milk"] - confirmed_all["milk"]),
                   "total": float(totals["all"]["lunch"] + totals["all"]["milk"]
                                  - confirmed_all["lunch"] - confirmed_all["milk"])},
        "lines": lines,
    }


# -- comparison ----------------------------------------------------------------------------------

def _against(uow, rnd, against):
    if against in (None, "", "previous", "previous_year"):
        found = previous_round(uow.execute(select(rounds.c.id, rounds.c.academic_year, rounds.c.number)),
                               rnd, against or "previous")
        if found is None:
            raise LecError("not_found", "there is no such earlier round to compare with")
        return round_row(uow, found.id)
    try:
        other_id = int(against)
    except (TypeError, ValueError):
        raise validation_error({"against": ["a round id, 'previous' or 'previous_year'"]})
    return round_row(uow, other_id)


def _totals_by_unit(uow, table, round_ids, where):
    rows = uow.execute(
        select(table.c.round_id, table.c.unit_id, func.sum(table.c.n))
        .select_from(table.join(units, units.c.id == table.c.unit_id))
        .where(table.c.round_id.in_(round_ids), where)
        .group_by(table.c.round_id, table.c.unit_id))
    return {(r, u): int(n) for r, u, n in rows}


def _unit_total(uow, round_id, unit_id):
    """Learners and other-school pupils of one unit in one round."""
    return sum(sum(_by_grade(uow, table, round_id, [unit_id]).get(unit_id, {}).values())
               for table in (learner_counts, other_counts))


def comparison(uow, round_id, unit_id, against=None, level=None):
    rnd, unit, report = _context(uow, round_id, unit_id)
    other = _against(uow, rnd, against)
    level = level or "children"
    if level == "children":
        where = units.c.parent_id == unit.id
    elif level == "institutions":
        where = and_(units.c.path.like(_prefix(unit)), units.c.type.in_(INSTITUTIONS + ("other_school",)))
    else:
        raise validation_error({"level": ["children or institutions"]})
    members = uow.execute(select(units).where(where).order_by(units.c.code)).all()
    ids = (rnd.id, other.id)
    learners_ = _totals_by_unit(uow, learner_counts, ids, where)
    others = _totals_by_unit(uow, other_counts, ids, where)

    def figures(round_id_, unit_id_):
        a, b = learners_.get((round_id_, unit_id_), 0), others.get((round_id_, unit_id_), 0)
        return {"learners": a, "other_schools": b, "total": a + b}

    items = []
    for member in members:
        current, before = figures(rnd.id, member.id), figures(other.id, member.id)
        if member.status == "closed" and not current["total"] and not before["total"]:
            continue
        items.append({"unit": unit_brief(member), "current": current, "against": before,
                      "change": current["total"] - before["total"],
                      "change_pct": domain.change_pct(current["total"], before["total"])})
    ordered, drops, rises = domain.rank_changes(items)
    cur_total, old_total = _unit_total(uow, rnd.id, unit.id), _unit_total(uow, other.id, unit.id)
    report.update({
        "against": round_brief(other, now(uow)),
        "level": level,
        "totals": {"current": cur_total, "against": old_total, "change": cur_total - old_total,
                   "change_pct": domain.change_pct(cur_total, old_total)},
        "items": ordered,
        "largest_drops": drops,
        "largest_rises": rises,
    })
    return report


# -- the province report forms ---------------------------------------------------------------------

FORM_GROUPS = {"department": "province", "province": "lao", "lao": "lao"}


def form_data(uow, round_id, unit_id, detail=True):
    """What the province forms are made of, per group: the LAOs of a province
    (the provinces for the department; the LAO itself for an LAO)."""
    rnd, unit, report = _context(uow, round_id, unit_id)
    if unit.type not in FORM_GROUPS:
        raise validation_error({"org_unit_id": ["the report forms are made for a province, "
                                                "the department or an LAO"]})
    if unit.type == "lao":
        groups = [unit]
    else:
        groups = uow.execute(select(units).where(
            units.c.parent_id == unit.id, units.c.type == FORM_GROUPS[unit.type], units.c.status != "closed")
            .order_by(units.c.code)).all()
    ids = [g.id for g in groups]
    cubes = defaultdict(list)
    if ids:
        for row in uow.execute(
                select(learner_counts.c.unit_id, learner_counts.c.grade, learner_counts.c.sex,
                       learner_counts.c.id_kind, learner_counts.c.age, learner_counts.c.n)
                .where(learner_counts.c.round_id == rnd.id, learner_counts.c.unit_id.in_(ids),
                       learner_counts.c.n > 0)):
            cubes[row.unit_id].append(tuple(row)[1:])
    tally = _tallies(uow, rnd.id, ids)
    others = _other_schools(uow, rnd.id, unit, groups[0].depth if groups else unit.depth)
    missing = Counter(s_["group"] for s_ in others if not s_["recorded"] and s_["status"] != "closed")
    other_by_grade = _by_grade(uow, other_counts, rnd.id, ids)
    states = _confirmation_rows(uow, rnd.id, ids)
    report["settings"] = settings_of(rnd)
    report["groups"] = [{
        "unit": unit_brief(g), "cube": cubes.get(g.id, []), "tally": tally[g.id],
        "headcounts": {"recorded": tally[g.id]["other_school"]["recorded"],
                       "closed": tally[g.id]["other_school"]["recorded_closed"],
                       "missing": missing.get(g.id, 0)},
        "other_by_grade": other_by_grade.get(g.id, {}),
        "confirmation": _confirmation_brief(states.get(g.id)),
    } for g in groups]
    report["other_schools"] = others if detail and unit.type != "department" else []
    return report


def _other_schools(uow, round_id, unit, group_depth):
    """Every other-affiliation school beneath ``unit`` with its headcount, and the
    id of its ancestor at ``group_depth`` (the form's row it belongs to)."""
    lao = units.alias("lao")
    group_key = func.split_part(units.c.path, "/", group_depth + 2).cast(BigInteger)
    rows = uow.execute(
        select(units.c.id, units.c.code, units.c.name, units.c.affiliation, units.c.status,
               lao.c.name.label("lao_name"), headcounts.c.closed, headcounts.c.total,
               headcounts.c.school_id.is_not(None).label("recorded"), group_key.label("group"))
        .select_from(units.join(lao, lao.c.id == units.c.parent_id)
                     .outerjoin(headcounts, and_(headcounts.c.round_id == round_id,
                                                 headcounts.c.school_id == units.c.id)))
        .where(units.c.type == "other_school", units.c.path.like(_prefix(unit)),
               or_(units.c.status != "closed", headcounts.c.school_id.is_not(None)))
        .order_by(units.c.path)).all()
    return [{"id": r.id, "code": r.code, "name": r.name, "affiliation": r.affiliation, "status": r.status,
             "lao_name": r.lao_name, "closed": bool(r.closed), "total": r.total or 0,
             "recorded": bool(r.recorded), "group": r.group} for r in rows]


# -- tables ------------------------------------------------------------------------------------------

def form_table(uow, round_id, unit_id, form):
    """A province form by its key or its enclosure number (2-5)."""
    key = tables.form_key(form)
    if key is None:
        raise not_found("report form")
    if key == staffing.FORM_KEY:
        return staffing.form_table(uow, round_id, unit_id)
    return tables.FORMS[key](form_data(uow, round_id, unit_id))


def report_table(uow, report, round_id, unit_id, options):
    """Any report as a table (for CSV, XLSX and printing)."""
    if report in tables.FORMS:
        return form_table(uow, round_id, unit_id, report)
    if report == "summary":
        data = summary(uow, round_id, unit_id)
    elif report == "progress":
        data = progress(uow, round_id, unit_id)
    elif report == "budget":
        data = budget(uow, round_id, unit_id, unpaged=True)
    elif report == "comparison":
        data = comparison(uow, round_id, unit_id, options.get("against"), options.get("level"))
    else:
        raise not_found("report")
    return tables.REPORTS[report](data)
