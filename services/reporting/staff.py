"""Caregivers and teachers in the read model: enrollment's ``staff_added`` /
``staff_changed`` / ``staff_removed`` events, the counts by position the
summary and the progress report show, and the CDC staff form (children per
caregiver).

An event carries the record's version: an older event than the fact held
changes nothing, so redelivered and out-of-order events leave the same rows.
Each event moves the counts by position of every unit on the record's path
(``rp_staff_counts``, as the learner counts move), so a unit's staff are one
read of a few rows at any level, the department's included.
"""
from collections import defaultdict

from sqlalchemy import func, select

from services.common import staff as vocabulary
from services.common.errors import validation_error
from services.reporting import domain
from services.reporting.handlers import by_version, move_counts, store_fact
from services.reporting.models import learner_counts, staff, staff_counts, units

FORM_KEY = "cdc-staff"
FORM_ENCLOSURE = 7


def _title():
    from services.reporting.tables import FORM_TITLES
    return FORM_TITLES[FORM_KEY][1]



# -- events ---------------------------------------------------------------------------------------

def _fact(event):
    """``(round_id, staff id, fact)`` from a staff event, or ``validation_error``."""
    record = event.get("staff") if isinstance(event, dict) else None
    try:
        institution = record["institution"]
        fact = {"version": int(record["version"]), "institution_id": int(institution["id"]),
                "institution_path": str(institution["path"]), "position": record["position"],
                "active": record["status"] == "active"}
        round_id, staff_id = int(event["round_id"]), int(record["id"])
    except (KeyError, TypeError, ValueError):
        raise validation_error({"staff": ["a staff event names round_id and staff {id, version, "
                                          "institution {id, path}, position, status}"]})
    if fact["position"] not in vocabulary.POSITIONS:
        raise validation_error({"staff.position": [f"not one of {', '.join(vocabulary.POSITIONS)}"]})
    return round_id, staff_id, fact


def apply_staff_event(uow, event):
    round_id, staff_id, fact = _fact(event)
    stored, held = store_fact(uow, staff, {"round_id": round_id, "staff_id": staff_id}, fact, by_version,
                              held_likely=event.get("type") != "staff_added")
    if stored:
        old = {k: getattr(held, k) for k in ("institution_path", "position", "active")} if held else None
        move_counts(uow, staff_counts, ("unit_id", "position"), {"round_id": round_id},
                    domain.staff_deltas(old, fact))
    return stored


def apply_staff_facts(uow, round_id, items):
    """Facts from enrollment's ``staff_facts`` (a rebuild): each as its event would."""
    for item in items:
        apply_staff_event(uow, {"round_id": round_id, "staff": item})


# -- counts ---------------------------------------------------------------------------------------

def unit_counts(uow, round_id, unit):
    """``{total, by_position}`` of the active staff at or beneath ``unit``."""
    rows = uow.execute(
        select(staff_counts.c.position, staff_counts.c.n)
        .where(staff_counts.c.round_id == round_id, staff_counts.c.unit_id == unit.id,
               staff_counts.c.n > 0)).all()
    return vocabulary.staff_counts(dict(rows))


def children_counts(uow, round_id, parent):
    """``{child id: {total, by_position}}``: each child of ``parent`` with the staff beneath it."""
    found = defaultdict(dict)
    for child_id, position, n in uow.execute(
            select(staff_counts.c.unit_id, staff_counts.c.position, staff_counts.c.n)
            .select_from(staff_counts.join(units, units.c.id == staff_counts.c.unit_id))
            .where(staff_counts.c.round_id == round_id, units.c.parent_id == parent.id,
                   staff_counts.c.n > 0)):
        found[child_id][position] = n
    return defaultdict(lambda: vocabulary.staff_counts({}),
                       {k: vocabulary.staff_counts(v) for k, v in found.items()})


def ratio(children, carers):
    """Children per caregiver (caregiver teachers and caregivers), to one decimal; None without carers."""
    return round(children / carers, 1) if carers else None


# -- the CDC staff form -----------------------------------------------------------------------------

def cdc_rows(uow, round_id, unit):
    """Every CDC at or beneath ``unit`` (not closed), with its LAO, children and carers."""
    lao = units.alias("lao")
    cdcs = uow.execute(
        select(units.c.id, units.c.code, units.c.name, lao.c.name.label("lao_name"))
        .select_from(units.outerjoin(lao, lao.c.id == units.c.parent_id))
        .where(units.c.type == "cdc", units.c.status != "closed",
               units.c.path.startswith(unit.path, autoescape=True))
        .order_by(units.c.path)).all()
    ids = [c.id for c in cdcs]
    children, carers = {}, defaultdict(dict)
    if ids:
        children = dict(uow.execute(
            select(learner_counts.c.unit_id, func.sum(learner_counts.c.n))
            .where(learner_counts.c.round_id == round_id, learner_counts.c.unit_id.in_(ids),
                   learner_counts.c.grade == "cdc")
            .group_by(learner_counts.c.unit_id)).all())
        for unit_id, position, n in uow.execute(
                select(staff.c.institution_id, staff.c.position, func.count())
                .where(staff.c.round_id == round_id, staff.c.institution_id.in_(ids), staff.c.active)
                .group_by(staff.c.institution_id, staff.c.position)):
            carers[unit_id][position] = n
    rows = []
    for cdc in cdcs:
        by_position = vocabulary.by_position(carers.get(cdc.id))
        n_children = int(children.get(cdc.id) or 0)
        caring = sum(by_position[p] for p in vocabulary.CAREGIVING)
        rows.append({"unit": {"id": cdc.id, "code": cdc.code, "name": cdc.name}, "lao_name": cdc.lao_name,
                     "children": n_children, "caregiver_teachers": by_position["caregiver_teacher"],
                     "caregivers": by_position["caregiver"], "children_per_caregiver": ratio(n_children, caring)})
    return rows


def form_table(uow, round_id, unit_id):
    """The CDC staff form of a unit (a CDC, an LAO, a province or the department)."""
    from services.reporting import queries, tables
    rnd, unit, report = queries._context(uow, round_id, unit_id)
    if unit.type not in ("department", "province", "lao", "cdc"):
        raise validation_error({"org_unit_id": ["the CDC staff form is made for a CDC, an LAO, "
                                                "a province or the department"]})
    col, section = tables.col, tables.section
    columns = [col("no", "ที่", "int"), col("lao", "องค์กรปกครองส่วนท้องถิ่น", "text"),
               col("code", "รหัส", "text"), col("name", "ศูนย์พัฒนาเด็กเล็ก", "text"),
               col("children", "จำนวนเด็กเล็ก (คน)"),
               col("caregiver_teachers", vocabulary.POSITIONS["caregiver_teacher"] + " (คน)"),
               col("caregivers", vocabulary.POSITIONS["caregiver"] + " (คน)"),
               col("children_per_caregiver", "เด็กต่อผู้ดูแล 1 คน", "text")]
    rows = [[i, r["lao_name"] or "", r["unit"]["code"], r["unit"]["name"], r["children"],
             r["caregiver_teachers"], r["caregivers"],
             "-" if r["children_per_caregiver"] is None else f"{r['children_per_caregiver']:.1f}"]
            for i, r in enumerate(cdc_rows(uow, rnd.id, unit), start=1)]
    total = None
    if rows:
        total = tables.totals_row(rows, columns, label_cols=4)
        overall = ratio(total[4], total[5] + total[6])
        total[7] = "-" if overall is None else f"{overall:.1f}"
    return {"key": FORM_KEY, "enclosure": FORM_ENCLOSURE, "title": _title(),
            "subtitle": tables.table(FORM_KEY, _title(), report, [])["subtitle"],
            "sections": [section("ศูนย์พัฒนาเด็กเล็ก", columns, rows, total)],
            "footer": tables.SIGNATURE}


def is_form(form):
    return str(form) in (FORM_KEY, str(FORM_ENCLOSURE))

