"""Reporting rules, pure: how a fact moves the counts, the subsidy arithmetic,
round-over-round ranking and the Thai labels of the report forms.

Nothing here touches a database or the broker.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from services.common.hierarchy import path_ids
from services.common.rounds_calendar import deadlines
from services.common import vocabulary
from services.common.vocabulary import LEVEL_OF_TYPE, SCHOOL_GRADES

NO_AGE = -1  # school grades are not broken down by age

Fact = Mapping[str, Any]
Key = Tuple[Any, ...]
# what a fact moves: (unit_id, *key) -> change
Deltas = Dict[Key, int]

# -- facts and the counts they move ---------------------------------------------


def age_key(grade: str, age_years: Optional[int]) -> int:
    """CDC children are counted by age at the census date; school pupils are not."""
    if grade != "cdc":
        return NO_AGE
    if age_years is None:
        raise ValueError("a CDC child's event must carry age_years")
    return int(age_years)


def learner_fact(learner: Mapping[str, Any]) -> Dict[str, Any]:
    """The part of a ``learner_*`` event's ``learner`` that reports count."""
    institution = learner["institution"]
    return {
        "version": int(learner["version"]),
        "institution_id": int(institution["id"]),
        "institution_path": institution["path"],
        "grade": learner["grade"],
        "sex": learner["sex"],
        "id_kind": learner["id_kind"],
        "age": age_key(learner["grade"], learner.get("age_years")),
        "active": learner.get("status", "active") == "active",
    }


def is_newer(stored_version: Optional[int], incoming_version: int) -> bool:
    """A fact replaces the stored one only when its owner's version is higher:
    redelivered and overtaken events change nothing."""
    return stored_version is None or incoming_version > stored_version


def path_deltas(old: Optional[Fact], new: Optional[Fact], path_of: Callable[[Fact], str],
                keys_of: Callable[[Fact], Iterable[Tuple[Key, int]]]) -> Deltas:
    """{(unit_id, *key): change} that moves the counts of every unit on a fact's
    path (the unit itself and each unit above it) from ``old`` to ``new``
    (either may be None), deepest units first. ``keys_of(fact)`` lists the
    fact's ``(key, n)``."""
    return signed_path_deltas(((old, -1), (new, +1)), path_of, keys_of)


def signed_path_deltas(signed: Iterable[Tuple[Optional[Fact], int]], path_of: Callable[[Fact], str],
                       keys_of: Callable[[Fact], Iterable[Tuple[Key, int]]]) -> Deltas:
    """:func:`path_deltas` of many facts at once: ``signed`` is ``[(fact, +1 | -1)]``
    (a fact that arrives, one that goes). The order is the same rule's."""
    deltas: Counter[Key] = Counter()
    depth: Dict[int, int] = {}
    for fact, sign in signed:
        if fact:
            for key, n in keys_of(fact):
                for level, unit_id in enumerate(path_ids(path_of(fact))):
                    deltas[(unit_id, *key)] += sign * n
                    depth[unit_id] = level
    # the units nearest the root are shared by the most events: their rows come
    # last, so a transaction holds them for the shortest time (and every
    # transaction takes rows in this one order)
    return {k: v for k, v in sorted(deltas.items(), key=lambda kv: (-depth[kv[0][0]], kv[0])) if v}


def _learner_path(fact: Fact) -> str:
    return fact["institution_path"]


def _learner_key(fact: Fact) -> List[Tuple[Key, int]]:
    return [((fact["grade"], fact["sex"], fact["id_kind"], fact["age"]), 1)] if fact["active"] else []


def learner_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, grade, sex, id_kind, age) -> change: an active learner counts once."""
    return path_deltas(old, new, _learner_path, _learner_key)


def signed_learner_deltas(signed: Iterable[Tuple[Optional[Fact], int]]) -> Deltas:
    """:func:`learner_deltas` of many learners (what a batch moves, in the same order)."""
    return signed_path_deltas(signed, _learner_path, _learner_key)


def headcount_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, grade) -> change: an other-affiliation school's pupils."""
    return path_deltas(old, new, lambda f: f["school_path"],
                       lambda f: [((g,), int(n)) for g, n in f["by_grade"].items()])


def headcount_tally_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, type, metric) -> change: schools with a headcount, and those closed."""
    return path_deltas(old, new, lambda f: f["school_path"],
                       lambda f: [(("other_school", "recorded"), 1)]
                       + ([(("other_school", "recorded_closed"), 1)] if f["closed"] else []))


def staff_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, position) -> change: an active staff record counts once."""
    return path_deltas(old, new, lambda f: f["institution_path"],
                       lambda f: [((f["position"],), 1)] if f["active"] else [])


def unit_count_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, type) -> change: a unit that is not closed counts once."""
    return path_deltas(old, new, lambda f: f["path"],
                       lambda f: [((f["type"],), 1)] if f["status"] != "closed" else [])


def confirmed_deltas(old: Optional[Fact], new: Optional[Fact]) -> Deltas:
    """(unit_id, type, "confirmed") -> change: a confirmed unit counts once."""
    return path_deltas(old, new, lambda f: f["unit_path"],
                       lambda f: [((f["unit_type"], "confirmed"), 1)] if f["state"] == "confirmed" else [])


def counts_dict(by_grade: Mapping[str, Any]) -> Dict[str, Any]:
    counts = {g: int(n) for g, n in by_grade.items() if n}
    return {"total": sum(counts.values()), "by_grade": counts}


def lies_below(unit_type: str, above_type: str) -> bool:
    """Can a unit of ``unit_type`` sit beneath one of ``above_type``? (The
    levels run from the institutions up to the department.)"""
    order = vocabulary.LEVELS
    return order.index(LEVEL_OF_TYPE[unit_type]) < order.index(LEVEL_OF_TYPE[above_type])


# -- money ------------------------------------------------------------------------

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def lunch_tier(tiers: Sequence[Mapping[str, Any]], pupils: int) -> Optional[Mapping[str, Any]]:
    """The tier whose band holds ``pupils`` (bands are contiguous from 1, the last open)."""
    for tier in tiers:
        top = tier.get("max_pupils")
        if pupils >= tier["min_pupils"] and (top is None or pupils <= top):
            return tier
    return None


def pupils_in(by_grade: Mapping[str, Any], grades: Iterable[str]) -> int:
    return sum(int(by_grade.get(g, 0)) for g in grades)


def school_subsidy(by_grade: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """Lunch and milk of one school (an LAO school or another-affiliation school)
    from its confirmed counts. The lunch rate is that of the band the school's
    lunch pupils fall in, paid for every one of them: a single pupil across a
    band edge changes the whole school's rate."""
    lunch, milk = settings["lunch"]["school"], settings["milk"]["school"]
    lunch_pupils = pupils_in(by_grade, lunch["grades"])
    tier = lunch_tier(lunch["tiers"], lunch_pupils) if lunch_pupils else None
    rate = Decimal(str(tier["rate"])) if tier else Decimal(0)
    milk_pupils = pupils_in(by_grade, milk["grades"])
    per_pupil_milk = Decimal(str(milk["price_per_pack"])) * milk["packs_per_day"] * milk["days"]
    return {
        "lunch_pupils": lunch_pupils,
        "lunch_rate": float(rate),
        "lunch_band": _band(tier),
        "lunch": money(rate * lunch_pupils * lunch["days"]),
        "milk_pupils": milk_pupils,
        "milk": money(per_pupil_milk * milk_pupils),
    }


def cdc_subsidy(children: int, settings: Mapping[str, Any]) -> Dict[str, Any]:
    """Lunch and milk of one CDC: its own per-child rates and days."""
    lunch, milk = settings["lunch"]["cdc"], settings["milk"]["cdc"]
    rate = Decimal(str(lunch["rate"]))
    per_child_milk = Decimal(str(milk["price_per_pack"])) * milk["packs_per_day"] * milk["days"]
    return {
        "lunch_pupils": children,
        "lunch_rate": float(rate),
        "lunch_band": None,
        "lunch": money(rate * children * lunch["days"]),
        "milk_pupils": children,
        "milk": money(per_child_milk * children),
    }


def _band(tier: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not tier:
        return None
    top = tier.get("max_pupils")
    return f"{tier['min_pupils']}-{top}" if top is not None else f"{tier['min_pupils']}+"


def subsidy_for(unit_type: str, by_grade: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    if unit_type == "cdc":
        return cdc_subsidy(sum(int(n) for n in by_grade.values()), settings)
    return school_subsidy(by_grade, settings)


# -- round over round -----------------------------------------------------------------

def rank_changes(items: Sequence[Mapping[str, Any]], top: int = 10) -> Tuple[
        List[Mapping[str, Any]], List[Mapping[str, Any]], List[Mapping[str, Any]]]:
    """Largest moves first (by size of the change), and the largest drops and rises apart."""
    ordered = sorted(items, key=lambda i: (-abs(i["change"]), i["unit"]["code"]))
    drops = sorted((i for i in items if i["change"] < 0), key=lambda i: (i["change"], i["unit"]["code"]))
    rises = sorted((i for i in items if i["change"] > 0), key=lambda i: (-i["change"], i["unit"]["code"]))
    return ordered, drops[:top], rises[:top]


def change_pct(current: float, before: float) -> Optional[float]:
    if before == 0:
        return None
    return round(100.0 * (current - before) / before, 1)


# -- Thai labels ---------------------------------------------------------------------

GRADE_LABELS = {
    "k1": "อนุบาล 1", "k2": "อนุบาล 2", "k3": "อนุบาล 3",
    "p1": "ประถมศึกษาปีที่ 1", "p2": "ประถมศึกษาปีที่ 2", "p3": "ประถมศึกษาปีที่ 3",
    "p4": "ประถมศึกษาปีที่ 4", "p5": "ประถมศึกษาปีที่ 5", "p6": "ประถมศึกษาปีที่ 6",
    "m1": "มัธยมศึกษาปีที่ 1", "m2": "มัธยมศึกษาปีที่ 2", "m3": "มัธยมศึกษาปีที่ 3",
    "m4": "มัธยมศึกษาปีที่ 4", "m5": "มัธยมศึกษาปีที่ 5", "m6": "มัธยมศึกษาปีที่ 6",
    "cdc": "เด็กเล็ก (ศพด.)",
}

# school levels of the province forms
SCHOOL_LEVELS = (
    ("kindergarten", "ก่อนประถมศึกษา (อนุบาล)", SCHOOL_GRADES[0:3]),
    ("primary", "ประถมศึกษา", SCHOOL_GRADES[3:9]),
    ("lower_secondary", "มัธยมศึกษาตอนต้น", SCHOOL_GRADES[9:12]),
    ("upper_secondary", "มัธยมศึกษาตอนปลาย", SCHOOL_GRADES[12:15]),
)

UNIT_TYPE_LABELS = {
    "department": "กรมส่งเสริมการปกครองท้องถิ่น", "province": "จังหวัด", "lao": "องค์กรปกครองส่วนท้องถิ่น",
    "school": "โรงเรียน", "cdc": "ศูนย์พัฒนาเด็กเล็ก", "other_school": "โรงเรียนสังกัดอื่น",
}

AFFILIATION_LABELS = {
    "obec": "สพฐ.", "bpp": "ตชด.", "opec": "สช.", "moi": "มท.", "bma": "กทม.",
}

STATE_LABELS = {"confirmed": "ยืนยันแล้ว", "open": "ยังไม่ยืนยัน", None: "-"}

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")


def be_year(year_ce: int) -> int:
    return year_ce + 543


def thai_date(value: Union[str, dt.date]) -> str:
    """``2023-11-10`` -> ``10 พฤศจิกายน 2566`` (Buddhist era)."""
    day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {be_year(day.year)}"


def round_label(academic_year: int, number: int) -> str:
    """Academic years are kept in the Buddhist era already."""
    return f"ปีการศึกษา {academic_year} (ครั้งที่ {number})"


# -- summing the per-unit counts -----------------------------------------------------

def learner_totals(rows: Iterable[Sequence[Any]]) -> Dict[str, Any]:
    """Totals of one unit from its count rows ``(grade, sex, id_kind, age, n)``:
    learners by grade, sex, ID kind and level; CDC children by age and sex."""
    by_grade: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    by_grade_sex: Dict[str, Counter[str]] = {}
    cdc_by_age: Counter[str] = Counter()
    cdc_by_sex: Counter[str] = Counter()
    for grade, sex, id_kind, age, n in rows:
        if not n:
            continue
        by_grade[grade] += n
        by_sex[sex] += n
        by_kind[id_kind] += n
        by_grade_sex.setdefault(grade, Counter())[sex] += n
        if grade == "cdc":
            cdc_by_age[str(age)] += n
            cdc_by_sex[sex] += n
    levels: Dict[str, int] = {key: sum(by_grade.get(g, 0) for g in grades) for key, _, grades in SCHOOL_LEVELS}
    levels["cdc"] = by_grade.get("cdc", 0)
    return {
        "learners": {
            "total": sum(by_grade.values()),
            "by_grade": dict(sorted(by_grade.items(), key=lambda kv: GRADE_ORDER[kv[0]])),
            "by_sex": {"M": by_sex.get("M", 0), "F": by_sex.get("F", 0)},
            "by_id_kind": {"national_id": by_kind.get("national_id", 0), "g_code": by_kind.get("g_code", 0)},
            "by_level": levels,
            "by_grade_sex": {g: {"M": c.get("M", 0), "F": c.get("F", 0)}
                             for g, c in sorted(by_grade_sex.items(), key=lambda kv: GRADE_ORDER[kv[0]])},
        },
        "cdc": {
            "total": by_grade.get("cdc", 0),
            "by_age": dict(sorted(cdc_by_age.items(), key=lambda kv: int(kv[0]))),
            "by_sex": {"M": cdc_by_sex.get("M", 0), "F": cdc_by_sex.get("F", 0)},
        },
    }


GRADE_ORDER = {g: i for i, g in enumerate(GRADE_LABELS)}


# -- deadlines per level and reminders ----------------------------------------------------

REMINDER_HOURS = (72, 24, 3)     # hours before a level's deadline that a unit not confirmed is reminded


def _aware(value: Any) -> Optional[dt.datetime]:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def level_deadlines(closes_at: Any, given: Optional[Mapping[str, Any]] = None) -> Dict[str, Optional[dt.datetime]]:
    """The effective deadline of each level: those the rounds service gave, the
    defaults for the others (the rounds' calendar rule)."""
    given = given or {}
    institution = _aware(given.get("institution")) or _aware(closes_at)
    if institution is None:
        raise ValueError("a round carries its institutions' deadline")
    return deadlines(institution, _aware(given.get("lao")), _aware(given.get("province")),
                     _aware(given.get("department")))
