"""Checks before confirming: what each rule of the round finds in a unit's data.

The rules are data (``services.common.checks``, in the round's settings); this
module applies them, set-based, to a batch of institutions and LAOs at once:

- institutions (schools, CDCs): a school learner's age at the census date far
  outside the band of the grade (error) or just outside it (query); no active
  learner (query); a total that moved against the previous round (query);
  learners removed as "not found" beyond a share (query); the same name and
  birth date under another ID anywhere in the round (query, to both units);
- LAOs: a total (its institutions' learners and its other-affiliation schools'
  headcounts) that moved (query); an active other-affiliation school with no
  headcount this round (error); a headcount that moved (query).

Findings are stored per unit (``check_findings``) with a tally per unit
(``check_state``), so that a province or the department sums its children's
tallies instead of scanning learners. They stay current this way: every change
of an institution's learners (or an LAO's headcounts) appends its unit, and the
institution's LAO, to ``check_dirty`` in the change's own transaction
(``sealing.lock_for_edit``, with :func:`edit_marks`); a refresh recomputes the
units queued and deletes exactly the queue rows it has seen, so a change that
commits meanwhile stays queued. The enrollment service refreshes the queue on
a timer, and a unit's own request or confirmation refreshes that unit first,
so what blocks a confirmation is always computed from the data being sealed.
"""
from datetime import timedelta
from typing import Any, Dict

from sqlalchemy import (
    Integer, Text, and_, column, delete, func, insert, literal, or_, select, tuple_, values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import checks as rulebook
from services.common.errors import LecError, validation_error
from services.common.hierarchy import path_ids
from services.common.jsonutil import plain
from services.common.text import text_problem
from services.common.values import Unit
from services.common.vocabulary import INSTITUTION_TYPES as INSTITUTIONS
from services.enrollment import domain
from services.enrollment.models import (
    check_dirty, check_explanations, check_findings, check_state, headcounts, learners, units,
)

CHECKED_TYPES = INSTITUTIONS + ("lao",)
LOCK_SPACE = 0x434B  # pg_advisory_xact_lock(LOCK_SPACE, unit id): one refresh of a unit at a time
GRADE_TH = {"k1": "อ.1", "k2": "อ.2", "k3": "อ.3", "p1": "ป.1", "p2": "ป.2", "p3": "ป.3", "p4": "ป.4",
            "p5": "ป.5", "p6": "ป.6", "m1": "ม.1", "m2": "ม.2", "m3": "ม.3", "m4": "ม.4", "m5": "ม.5",
            "m6": "ม.6", "cdc": "เด็กเล็ก"}


# -- the round's rules ---------------------------------------------------------------------

class RoundRules:
    """A round with its checks and the round its totals are compared with."""

    def __init__(self, round_, previous=None):
        self.round = round_
        self.id = round_.id
        self.census = round_.census_date
        self.checks = rulebook.rules_of(round_.settings)
        self.previous_id = previous.id if previous else None
        self.hash = rulebook.rules_hash({"checks": self.checks, "previous": self.previous_id}, self.census)

    def rule(self, code):
        rule = self.checks["rules"][code]
        return rule if rule["enabled"] else None


# -- the queue --------------------------------------------------------------------------------

def mark(session, round_id, unit_ids):
    """Queue units for a refresh (in the caller's transaction)."""
    ids = sorted({int(i) for i in unit_ids if i})
    if ids:
        session.execute(insert(check_dirty), [{"round_id": int(round_id), "unit_id": i} for i in ids])


def edit_marks(unit):
    """The units a change of a unit's data puts out of date: the unit and, for an
    institution, its LAO (queued by ``sealing.lock_for_edit``)."""
    ids = [unit.id]
    if unit.type in INSTITUTIONS and unit.parent_id:
        ids.append(unit.parent_id)
    return ids


def mark_everywhere(session, unit_ids):
    """A unit changed (opened, closed, renamed): queue it in every round it was checked in."""
    ids = [int(i) for i in unit_ids if i]
    if ids:
        session.execute(insert(check_dirty).from_select(
            ["round_id", "unit_id"],
            select(check_state.c.round_id, check_state.c.unit_id).where(check_state.c.unit_id.in_(ids))))


def seed(session, rules, prefix):
    """Queue every active institution and LAO under ``prefix`` whose findings are
    missing or were computed with other rules (and are not queued yet)."""
    stale = ~select(check_state.c.unit_id).where(
        check_state.c.round_id == rules.id, check_state.c.unit_id == units.c.id,
        check_state.c.rules_hash == rules.hash).exists()
    queued = ~select(check_dirty.c.id).where(check_dirty.c.round_id == rules.id,
                                             check_dirty.c.unit_id == units.c.id).exists()
    session.execute(insert(check_dirty).from_select(
        ["round_id", "unit_id"],
        select(literal(rules.id), units.c.id).where(
            units.c.path.like(prefix + "%"), units.c.type.in_(CHECKED_TYPES), units.c.status == "active",
            stale, queued)))


def pending(session, round_id, prefix):
    return session.execute(
        select(func.count(func.distinct(check_dirty.c.unit_id)))
        .select_from(check_dirty.join(units, units.c.id == check_dirty.c.unit_id))
        .where(check_dirty.c.round_id == round_id, units.c.path.like(prefix + "%"))).scalar_one()


def take(session, round_id, limit, prefix=None, settle=0.0, max_wait=0.0):
    """Up to ``limit`` queued units (rows locked, others' skipped): ``{unit_id: [queue ids]}``.

    With ``settle`` (seconds), only units whose data have been quiet that long,
    or whose oldest queued change has waited ``max_wait``: an officer typing in
    learners one after another, or a file arriving batch by batch, is refreshed
    once when they pause instead of after every change."""
    stmt = select(check_dirty.c.id, check_dirty.c.unit_id).where(check_dirty.c.round_id == round_id)
    if settle > 0:
        now = func.now()
        quiet = (select(check_dirty.c.unit_id).where(check_dirty.c.round_id == round_id)
                 .group_by(check_dirty.c.unit_id)
                 .having(or_(func.max(check_dirty.c.at) < now - literal(timedelta(seconds=settle)),
                             func.min(check_dirty.c.at) < now - literal(timedelta(seconds=max(settle, max_wait))))))
        stmt = stmt.where(check_dirty.c.unit_id.in_(quiet))
    if prefix is not None:
        stmt = stmt.where(check_dirty.c.unit_id.in_(
            select(units.c.id).where(units.c.path.like(prefix + "%"))))
    rows = session.execute(stmt.order_by(check_dirty.c.id).limit(limit)
                           .with_for_update(skip_locked=True)).all()
    taken = {}
    for queue_id, unit_id in rows:
        taken.setdefault(unit_id, []).append(queue_id)
    return taken


def forget_round(session, round_id):
    """A round that does not exist: its queue rows go."""
    session.execute(delete(check_dirty).where(check_dirty.c.round_id == round_id))


def queued_rounds(session):
    return list(session.execute(select(check_dirty.c.round_id).distinct()).scalars())


# -- the rules, set-based ---------------------------------------------------------------------

def _name_key(table):
    return (func.lower(func.btrim(table.c.first_name)), func.lower(func.btrim(table.c.last_name)))


def _share_moved(before, now, share, min_change):
    change = now - before
    return before > 0 and abs(change) >= min_change and abs(change) > share * before


def _pct(before, now):
    return f"{'+' if now >= before else '−'}{abs(now - before) * 100 / before:.1f}%" if before else "—"


def _age_findings(session, rules, institution_ids, found):
    far, near = rules.rule("age_grade_implausible"), rules.rule("age_grade_outside")
    if not (far or near) or not institution_ids:
        return
    years = int((rules.checks["rules"]["age_grade_implausible"]["params"]).get("years", 2))
    band_rows = [(g, int(b[0]), int(b[1])) for g, b in rules.checks["grade_ages"].items()
                 if g in rulebook.GRADE_AGES]
    bands = values(column("grade", Text), column("low", Integer), column("high", Integer),
                   name="bands").data(band_rows)
    age = func.date_part("year", func.age(literal(rules.census), learners.c.birth_date)).cast(Integer)
    rows = session.execute(
        select(learners.c.id, learners.c.institution_id, learners.c.grade, age.label("age"),
               bands.c.low, bands.c.high)
        .select_from(learners.join(bands, bands.c.grade == learners.c.grade))
        .where(learners.c.round_id == rules.id, learners.c.institution_id.in_(institution_ids),
               learners.c.status == "active", (age < bands.c.low) | (age > bands.c.high)))
    for learner_id, unit_id, grade, age_, low, high in rows:
        distance = low - age_ if age_ < low else age_ - high
        rule_code = "age_grade_implausible" if distance > years and far else "age_grade_outside" if near else None
        if rule_code is None:
            continue
        found.append((unit_id, rule_code, learner_id, 0,
                      {"age": age_, "grade": grade, "grade_th": GRADE_TH.get(grade, grade), "low": low,
                       "high": high, "years": years}))


def _institution_totals(session, round_id, institution_ids):
    return _totals_by_round(session, [round_id], institution_ids).get(round_id, {})


def _totals_by_round(session, round_ids, institution_ids):
    """round id -> institution id -> its active learners, for these rounds in one statement."""
    rounds = [r for r in round_ids if r is not None]
    if not rounds or not institution_ids:
        return {}
    found: Dict[Any, Dict[Any, int]] = {r: {} for r in rounds}
    for round_id, institution_id, n in session.execute(
            select(learners.c.round_id, learners.c.institution_id, func.count())
            .where(learners.c.round_id.in_(rounds), learners.c.institution_id.in_(institution_ids),
                   learners.c.status == "active")
            .group_by(learners.c.round_id, learners.c.institution_id)):
        found[round_id][institution_id] = n
    return found


def _lao_totals(session, round_id, laos):
    """LAO id -> its institutions' active learners plus its other schools' headcounts."""
    if round_id is None or not laos:
        return {}
    lao_ids = [u.id for u in laos]
    result = {i: 0 for i in lao_ids}
    owner = dict(session.execute(select(units.c.id, units.c.parent_id).where(
        units.c.parent_id.in_(lao_ids), units.c.type.in_(INSTITUTIONS))).all())
    for institution_id, n in _institution_totals(session, round_id, list(owner)).items():
        result[owner[institution_id]] += int(n)
    for lao_id, n in session.execute(
            select(headcounts.c.lao_id, func.coalesce(func.sum(headcounts.c.total), 0))
            .where(headcounts.c.round_id == round_id, headcounts.c.lao_id.in_(lao_ids),
                   headcounts.c.closed.is_(False))
            .group_by(headcounts.c.lao_id)):
        result[lao_id] += int(n)
    return result


def _total_findings(found, rule, now, before, unit_ids):
    params = rule["params"]
    share, min_change = float(params.get("share", 0.2)), int(params.get("min_change", 0))
    for unit_id in unit_ids:
        b, n = int(before.get(unit_id, 0)), int(now.get(unit_id, 0))
        if _share_moved(b, n, share, min_change):
            found.append((unit_id, "total_changed", 0, 0,
                          {"before": b, "now": n, "change_pct": _pct(b, n), "share": share,
                           "share_pct": f"{share * 100:g}"}))


def _removal_findings(session, rules, institution_ids, found):
    rule = rules.rule("not_found_removals")
    if not rule or not institution_ids:
        return
    share = float(rule["params"].get("share", 0.1))
    least = int(rule["params"].get("min_removed", 0))
    rows = session.execute(
        select(learners.c.institution_id, func.count(),
               func.count().filter(learners.c.removal_reason == "not_found"))
        .where(learners.c.round_id == rules.id, learners.c.institution_id.in_(institution_ids))
        .group_by(learners.c.institution_id))
    for unit_id, of, removed in rows:
        if removed and removed >= least and removed > share * of:
            found.append((unit_id, "not_found_removals", 0, 0,
                          {"removed": removed, "of": of, "share": share, "share_pct": f"{share * 100:g}"}))


def _duplicate_findings(session, rules, institution_ids, found):
    if not rules.rule("likely_duplicate") or not institution_ids:
        return
    a, b = learners.alias("a"), learners.alias("b")
    rows = session.execute(
        select(a.c.id, a.c.institution_id, b.c.id, b.c.institution_id, b.c.institution_path)
        .select_from(a.join(b, and_(
            b.c.round_id == a.c.round_id, b.c.status == "active", b.c.birth_date == a.c.birth_date,
            tuple_(*_name_key(b)) == tuple_(*_name_key(a)), b.c.id_number != a.c.id_number)))
        .where(a.c.round_id == rules.id, a.c.institution_id.in_(institution_ids), a.c.status == "active"))
    for learner_id, unit_id, other_id, other_unit, other_path in rows:
        found.append((unit_id, "likely_duplicate", learner_id, other_id,
                      {"other_learner_id": other_id, "other_institution_id": other_unit,
                       "other_path": other_path}))


def _headcount_findings(session, rules, laos, found):
    missing, moved = rules.rule("headcount_missing"), rules.rule("headcount_changed")
    if not laos or not (missing or moved):
        return
    schools = session.execute(select(units.c.id, units.c.code, units.c.name, units.c.parent_id).where(
        units.c.parent_id.in_([u.id for u in laos]), units.c.type == "other_school",
        units.c.status == "active")).all()
    if not schools:
        return
    ids = [s.id for s in schools]
    now = {r.school_id: r for r in session.execute(select(headcounts).where(
        headcounts.c.round_id == rules.id, headcounts.c.school_id.in_(ids)))}
    before = {}
    if rules.previous_id is not None:
        before = {r.school_id: r for r in session.execute(select(headcounts).where(
            headcounts.c.round_id == rules.previous_id, headcounts.c.school_id.in_(ids)))}
    for school in schools:
        label = f"{school.name} ({school.code})"
        row = now.get(school.id)
        if row is None or row.draft:  # a draft of the round before counts once the LAO accepts it
            if missing:
                found.append((school.parent_id, "headcount_missing", 0, school.id, {"school": label}))
            continue
        old = before.get(school.id)
        if moved and old is not None and not row.closed and not old.closed:
            params = moved["params"]
            share, least = float(params.get("share", 0.2)), int(params.get("min_change", 0))
            if _share_moved(old.total, row.total, share, least):
                found.append((school.parent_id, "headcount_changed", 0, school.id,
                              {"school": label, "before": old.total, "now": row.total,
                               "change_pct": _pct(old.total, row.total), "share": share,
                               "share_pct": f"{share * 100:g}"}))


def compute(session, rules, batch):
    """The findings of a batch of units (``{id: unit}``, institutions and LAOs):
    ``[(unit_id, code, learner_id, subject_id, facts)]``."""
    found = []
    inst = [i for i, u in batch.items() if u.is_institution and u.active]
    schools = [i for i in inst if batch[i].type == "school"]
    laos = [u for u in batch.values() if u.type == "lao" and u.active]
    _age_findings(session, rules, schools, found)
    total_rule = rules.rule("total_changed")
    previous = rules.previous_id if total_rule else None
    totals = _totals_by_round(session, [rules.id, previous], inst)  # this round and the one before
    now = totals.get(rules.id, {})
    if rules.rule("no_active_learners"):
        found.extend((i, "no_active_learners", 0, 0, {}) for i in inst if not now.get(i))
    if total_rule and rules.previous_id is not None:
        _total_findings(found, total_rule, now, totals.get(rules.previous_id, {}), inst)
        lao_ids = [u.id for u in laos]
        _total_findings(found, total_rule, _lao_totals(session, rules.id, laos),
                        _lao_totals(session, rules.previous_id, laos), lao_ids)
    _removal_findings(session, rules, inst, found)
    _duplicate_findings(session, rules, inst, found)
    _headcount_findings(session, rules, laos, found)
    return found


def refresh(session, rules, batch, queue_ids=None):
    """Recompute and store the findings of ``batch`` (``{id: unit}``); delete the
    queue rows seen (``queue_ids``, or those of the batch visible now: a change
    committed later keeps its row). Units whose likely duplicates changed are
    queued in turn. The caller commits. Returns each unit's tally ``{unit_id: {errors,
    queries, unexplained}}`` as stored (a unit without findings has none)."""
    ids = sorted(batch)
    if not ids:
        return {}
    # one refresh of a unit at a time (the timer's and a request's), taken in id order
    for unit_id in ids:
        session.execute(select(func.pg_advisory_xact_lock(LOCK_SPACE, unit_id)))
    if queue_ids is None:
        queue_ids = list(session.execute(
            select(check_dirty.c.id).where(check_dirty.c.round_id == rules.id, check_dirty.c.unit_id.in_(ids))
            .with_for_update(skip_locked=True)).scalars())
    found = compute(session, rules, batch)
    # the findings go; the likely duplicates among them tell which other units to queue
    old_pairs = {(unit_id, other) for unit_id, code, other in session.execute(
        delete(check_findings).where(check_findings.c.round_id == rules.id, check_findings.c.unit_id.in_(ids))
        .returning(check_findings.c.unit_id, check_findings.c.code,
                   check_findings.c.facts["other_institution_id"].astext)) if code == "likely_duplicate"}
    new_pairs = {(f[0], str(f[4]["other_institution_id"])) for f in found if f[1] == "likely_duplicate"}
    others = {int(other) for unit_id, other in old_pairs ^ new_pairs if other and int(other) not in batch}
    severities = {code: rule["severity"] for code, rule in rules.checks["rules"].items()}
    rows = {}
    for unit_id, code, learner_id, subject_id, facts in found:
        rows[(unit_id, code, learner_id, subject_id)] = {
            "round_id": rules.id, "unit_id": unit_id, "code": code, "learner_id": learner_id,
            "subject_id": subject_id, "unit_path": batch[unit_id].path, "severity": severities[code],
            "facts": facts}
    if rows:
        session.execute(insert(check_findings), list(rows.values()))
    tally = _tally(session, rules.id, ids)
    state_rows = [{"round_id": rules.id, "unit_id": i, "unit_path": batch[i].path, "rules_hash": rules.hash,
                   **tally.get(i, {"errors": 0, "queries": 0, "unexplained": 0})} for i in ids]
    stmt = pg_insert(check_state).values(state_rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[check_state.c.round_id, check_state.c.unit_id],
        set_={k: stmt.excluded[k] for k in ("unit_path", "rules_hash", "errors", "queries", "unexplained")}
        | {"computed_at": func.now()}))
    if queue_ids:
        session.execute(delete(check_dirty).where(check_dirty.c.id.in_(list(queue_ids))))
    mark(session, rules.id, others)
    return tally


def _explained():
    return select(check_explanations.c.code).where(
        check_explanations.c.round_id == check_findings.c.round_id,
        check_explanations.c.unit_id == check_findings.c.unit_id,
        check_explanations.c.code == check_findings.c.code,
        check_explanations.c.learner_id == check_findings.c.learner_id,
        check_explanations.c.subject_id == check_findings.c.subject_id).exists()


def _tally(session, round_id, unit_ids):
    rows = session.execute(
        select(check_findings.c.unit_id,
               func.count().filter(check_findings.c.severity == "error"),
               func.count().filter(check_findings.c.severity == "query"),
               func.count().filter(and_(check_findings.c.severity == "query", ~_explained())))
        .where(check_findings.c.round_id == round_id, check_findings.c.unit_id.in_(list(unit_ids)))
        .group_by(check_findings.c.unit_id))
    return {u: {"errors": e, "queries": q, "unexplained": x} for u, e, q, x in rows}


def refresh_queued(session, rules, limit, prefix=None, settle=0.0, max_wait=0.0):
    """Refresh up to ``limit`` queued units of the round (under ``prefix``; quiet
    for ``settle`` seconds, see :func:`take`); how many."""
    taken = take(session, rules.id, limit, prefix, settle, max_wait)
    if not taken:
        return 0
    batch = _units(session, taken)
    queue_ids = [q for ids in taken.values() for q in ids]
    gone = [i for i in taken if i not in batch]  # not a checked unit (any more): forget its findings
    if gone:
        session.execute(delete(check_findings).where(check_findings.c.round_id == rules.id,
                                                     check_findings.c.unit_id.in_(gone)))
        session.execute(delete(check_state).where(check_state.c.round_id == rules.id,
                                                  check_state.c.unit_id.in_(gone)))
    if batch:
        refresh(session, rules, batch, queue_ids)
    else:
        session.execute(delete(check_dirty).where(check_dirty.c.id.in_(queue_ids)))
    return len(taken)


def _units(session, ids):
    rows = session.execute(select(units).where(units.c.id.in_(list(ids)), units.c.type.in_(CHECKED_TYPES)))
    return {r.id: Unit.from_record(r._mapping) for r in rows}


# -- reading ------------------------------------------------------------------------------------

def _item(row, names, actor):
    facts = dict(row.facts)
    code = row.code
    item = {"code": code, "severity": row.severity, "org_unit_id": row.unit_id,
            "learner_id": row.learner_id or None, "subject_id": row.subject_id or None}
    if code == "likely_duplicate":
        other_path = facts.pop("other_path", None)
        other_unit = facts.get("other_institution_id")
        if actor.can_read(other_path or "/-/"):
            unit = names.get(other_unit) or {}
            facts["other"] = f"learner {facts['other_learner_id']} at {unit.get('name', other_unit)}"
            facts["other_th"] = f"ผู้เรียนรหัส {facts['other_learner_id']} ที่ {unit.get('name', other_unit)}"
        else:
            province = names.get(domain.province_of(other_path)) or {}
            facts.pop("other_learner_id", None)
            facts.pop("other_institution_id", None)
            facts["other"] = f"at an institution in {province.get('name', 'another province')}"
            facts["other_th"] = f"ที่สถานศึกษาแห่งหนึ่งใน{province.get('name', 'จังหวัดอื่น')}"
    item["facts"] = facts
    return item


def items_of(session, actor, rules, unit_ids):
    """The stored findings of units, as API items (messages in both languages)."""
    if not unit_ids:
        return []
    rows = session.execute(
        select(check_findings, check_explanations.c.text, check_explanations.c.updated_at,
               check_explanations.c.updated_by, learners.c.prefix, learners.c.first_name,
               learners.c.last_name, learners.c.grade)
        .select_from(check_findings
                     .outerjoin(check_explanations, and_(
                         check_explanations.c.round_id == check_findings.c.round_id,
                         check_explanations.c.unit_id == check_findings.c.unit_id,
                         check_explanations.c.code == check_findings.c.code,
                         check_explanations.c.learner_id == check_findings.c.learner_id,
                         check_explanations.c.subject_id == check_findings.c.subject_id))
                     .outerjoin(learners, learners.c.id == check_findings.c.learner_id))
        .where(check_findings.c.round_id == rules.id, check_findings.c.unit_id.in_(list(unit_ids)))
        .order_by(check_findings.c.unit_id, check_findings.c.severity, check_findings.c.code,
                  check_findings.c.learner_id, check_findings.c.subject_id)).all()
    wanted = set()
    for row in rows:
        if row.code == "likely_duplicate":
            wanted.add(row.facts.get("other_institution_id"))
            wanted.add(domain.province_of(row.facts.get("other_path")))
    names = {r.id: {"name": r.name, "code": r.code} for r in session.execute(
        select(units.c.id, units.c.name, units.c.code).where(units.c.id.in_([w for w in wanted if w])))}
    items = []
    for row in rows:
        item = _item(row, names, actor)
        rule = rules.checks["rules"][row.code]
        values = {**rule["params"], **item["facts"]}
        item["messages"] = {lang: rulebook.render(rule["message"][lang], values) for lang in ("th", "en")}
        item["message"] = item["messages"]["en"]
        if row.learner_id and row.first_name is not None:
            item["learner"] = {"id": row.learner_id, "prefix": row.prefix, "first_name": row.first_name,
                               "last_name": row.last_name, "grade": row.grade}
        item["explanation"] = row.text
        if row.text is not None:
            item["explained_at"] = row.updated_at
            item["explained_by"] = row.updated_by
        items.append(plain(item))
    return items


def tallies_by_child(session, round_id, rules_hash, unit):
    """``{child id: {errors, queries, unexplained, units}}`` of the unit's subtree
    from the stored tallies (active units only)."""
    depth = len(path_ids(unit.path))
    child = func.split_part(check_state.c.unit_path, "/", depth + 2)
    rows = session.execute(
        select(child.label("child"), func.sum(check_state.c.errors), func.sum(check_state.c.queries),
               func.sum(check_state.c.unexplained), func.count())
        .select_from(check_state.join(units, and_(units.c.id == check_state.c.unit_id,
                                                  units.c.status == "active")))
        .where(check_state.c.round_id == round_id, check_state.c.unit_path.like(unit.path + "%"),
               check_state.c.unit_id != unit.id)
        .group_by(child)).all()
    return {int(c): {"errors": int(e), "queries": int(q), "unexplained": int(x), "units": int(n)}
            for c, e, q, x, n in rows if c}


def own_tally(items):
    errors = sum(1 for i in items if i["severity"] == "error")
    queries = sum(1 for i in items if i["severity"] == "query")
    unexplained = sum(1 for i in items if i["severity"] == "query" and not i.get("explanation"))
    return {"errors": errors, "queries": queries, "unexplained": unexplained}


def blocking(items):
    """What stops a confirmation: every error and every query not explained."""
    return [i for i in items if i["severity"] == "error" or not i.get("explanation")]


# -- explanations ------------------------------------------------------------------------------

def _key_of(item, errors, n):
    code = item.get("code")
    if code not in rulebook.DEFAULT_RULES:
        errors[f"items.{n}.code"] = ["not a rule code"]
        return None
    key = []
    for field in ("learner_id", "subject_id"):
        value = item.get(field)
        if value in (None, ""):
            key.append(0)
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            key.append(value)
        else:
            errors[f"items.{n}.{field}"] = ["a positive whole number"]
            return None
    return (code, *key)


def explain(session, actor, rules, unit, items, audit):
    """Store (or, with an empty text, withdraw) explanations of the unit's current
    queries. ``audit(details)`` records the change. The caller commits."""
    if not isinstance(items, list) or not items or len(items) > 1000:
        raise validation_error({"items": ["a list of 1-1000 {code, learner_id?, subject_id?, text}"]})
    errors, wanted = {}, {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"items.{n}"] = ["an object {code, learner_id?, subject_id?, text}"]
            continue
        key = _key_of(item, errors, n)
        words = item.get("text")
        if not isinstance(words, str) or len(words) > 1000:
            errors[f"items.{n}.text"] = ["a text of at most 1000 characters (empty withdraws it)"]
            continue
        words = words.strip()
        problem = text_problem(words) if words else None
        if problem:
            errors[f"items.{n}.text"] = [problem]
        if key is not None:
            wanted[key] = words
    if errors:
        raise validation_error(errors)
    current = {(r.code, r.learner_id, r.subject_id): r.severity for r in session.execute(
        select(check_findings.c.code, check_findings.c.learner_id, check_findings.c.subject_id,
               check_findings.c.severity)
        .where(check_findings.c.round_id == rules.id, check_findings.c.unit_id == unit.id))}
    for n, key in enumerate(wanted):
        if current.get(key) != "query":
            what = "an error cannot be explained away: correct the data" if current.get(key) == "error" \
                else "the unit has no such query now"
            raise LecError("validation_error", what, {"errors": {"items": [f"{key[0]}: {what}"]}})
    for (code, learner_id, subject_id), words in wanted.items():
        where = and_(check_explanations.c.round_id == rules.id, check_explanations.c.unit_id == unit.id,
                     check_explanations.c.code == code, check_explanations.c.learner_id == learner_id,
                     check_explanations.c.subject_id == subject_id)
        if not words:
            session.execute(delete(check_explanations).where(where))
            continue
        stmt = pg_insert(check_explanations).values(
            round_id=rules.id, unit_id=unit.id, code=code, learner_id=learner_id, subject_id=subject_id,
            text=words, updated_by=actor.user_id)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[check_explanations.c.round_id, check_explanations.c.unit_id,
                            check_explanations.c.code, check_explanations.c.learner_id,
                            check_explanations.c.subject_id],
            set_={"text": stmt.excluded.text, "updated_by": stmt.excluded.updated_by,
                  "updated_at": func.now()}))
    audit({"round_id": rules.id, "unit_id": unit.id,
           "items": [{"code": k[0], "learner_id": k[1] or None, "subject_id": k[2] or None,
                      "withdrawn": not w} for k, w in wanted.items()]})
    mark(session, rules.id, [unit.id])
    return len(wanted)

