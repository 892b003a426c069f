"""Enrollment rules, pure: identity numbers, grades, ages, counts, removal reasons.

Nothing here touches the database or the broker; the use cases in
``handlers.py`` apply these rules and the database enforces the rest (one
active record per person and round, the seal lock).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.th import pin

from services.common.errors import LecError, validation_error
from services.common.hierarchy import path_ids
# A name must hold a letter (any script), no control characters, and must not
# start like a spreadsheet formula (it is exported to CSV and XLSX): the rules
# learner names share with org-unit names.
from services.common.text import name_problem, text_problem  # noqa: F401
from services.common.values import Round, Unit
from services.common.vocabulary import ALL_GRADES, GRADES_OF_TYPE, HEADCOUNT_GRADES

REMOVAL_REASONS: Tuple[str, ...] = ("moved_out", "not_found", "graduated", "duplicate", "deceased", "other")
SEXES: Tuple[str, ...] = ("M", "F")
ID_KINDS: Tuple[str, ...] = ("national_id", "g_code")

Counts = Dict[str, Any]

# Official two-digit province codes (ISO 3166-2:TH; 10 = Bangkok).
PROVINCE_CODES: frozenset = frozenset({
    10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33, 34,
    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
    58, 60, 61, 62, 63, 64, 65, 66, 67, 70, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85,
    86, 90, 91, 92, 93, 94, 95, 96,
})

# The Ministry of Education's G-Code (gcode.moe.go.th) for learners without
# civil registration: "G" and 12 digits = 2-digit Buddhist-era year of issue,
# 2-digit province code, 8-digit running number (e.g. G644200000001).
G_CODE = re.compile(r"^G(\d{2})(\d{2})(\d{8})$")



# -- identity ---------------------------------------------------------------------

def national_id(value: Any) -> str:
    """The 13-digit Thai personal ID, compacted, with its check digit verified."""
    if not isinstance(value, str) or not value.strip():
        raise LecError("invalid_national_id", "a national ID is 13 digits")
    try:
        return pin.validate(value)
    except StdnumError as exc:
        raise LecError("invalid_national_id",
                       f"not a valid Thai national ID: {exc.message}")  # type: ignore[attr-defined]


def g_code(value: Any) -> str:
    """A G-Code: 'G' (either case), 12 digits, a real province code in digits 3-4."""
    text = value.strip().upper().replace("-", "").replace(" ", "") if isinstance(value, str) else ""
    match = G_CODE.match(text)
    if not match:
        raise LecError("invalid_g_code", "a G-Code is the letter G followed by 12 digits")
    if int(match.group(2)) not in PROVINCE_CODES:
        raise LecError("invalid_g_code", "digits 3-4 of a G-Code are a province code")
    return text


def identity(data: Mapping[str, Any]) -> Tuple[str, str]:
    """``(id_kind, id_number)`` from exactly one of ``national_id`` / ``g_code``."""
    nid, gcode = data.get("national_id"), data.get("g_code")
    if nid not in (None, "") and gcode not in (None, ""):
        raise validation_error({"g_code": ["give either national_id or g_code, not both"]})
    if nid not in (None, ""):
        return "national_id", national_id(nid)
    if gcode not in (None, ""):
        return "g_code", g_code(gcode)
    raise validation_error({"national_id": ["national_id (or g_code for a learner without one) "
                                            "is required"]})


def split_identity(id_kind: str, id_number: str) -> Dict[str, Optional[str]]:
    return {"national_id": id_number if id_kind == "national_id" else None,
            "g_code": id_number if id_kind == "g_code" else None}


# -- who holds a learner -------------------------------------------------------------

def province_of(path: Optional[str]) -> Optional[int]:
    """The id of the province above a unit (the second id of its path), or None."""
    ids = path_ids(path or "/")
    return ids[1] if len(ids) > 1 else None


def holder_extra(actor: Any, own_unit: Any, holder_id: int, holder_path: str,
                 provinces: Mapping[int, Any]) -> Dict[str, Any]:
    """What a ``duplicate_learner`` refusal may say of the institution holding
    the learner: ``held_by`` (its id) when it is the caller's own institution or
    one the caller may read; otherwise only ``held_in``, the code and name of its
    province (``provinces``: id -> unit), so that nobody learns from a refusal
    where a child outside their subtree studies."""
    if holder_id == _field(own_unit, "id") or actor.can_read(holder_path):
        return {"held_by": holder_id}
    province = provinces.get(province_of(holder_path))  # type: ignore[arg-type]
    return {"held_in": {"code": _field(province, "code") if province else None,
                        "name": _field(province, "name") if province else None}}


def duplicate_message(extra: Mapping[str, Any], own_id: int) -> str:
    """The description of a ``duplicate_learner`` refusal with ``extra`` (:func:`holder_extra`)."""
    if extra.get("held_by") == own_id:
        where = "at this institution"
    elif "held_by" in extra:
        where = f"at institution {extra['held_by']}"
    else:
        name = (extra.get("held_in") or {}).get("name")
        where = f"at an institution in {name}" if name else "at another institution"
    return (f"this learner is already recorded in this round {where}; "
            "the holding institution must remove them first")


# -- names, grades, ages ---------------------------------------------------------------

def grades_for(institution_type: str) -> Tuple[str, ...]:
    return GRADES_OF_TYPE.get(institution_type, ())


def check_grade(grade: Any, institution_type: str) -> None:
    allowed = grades_for(institution_type)
    if grade not in allowed:
        raise validation_error({"grade": [f"a {institution_type} records grades "
                                          f"{', '.join(allowed) or '(none)'}, not {grade!r}"]})


def age_at(birth_date: dt.date, on: dt.date) -> int:
    """Age in completed years on a day (a 29 February birthday counts on 1 March)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def check_age(birth_date: dt.date, institution_type: str, census_date: dt.date,
              cdc_age: Mapping[str, Any]) -> int:
    """Nobody is born after the census date; CDC children must be inside the
    round's age range (completed years at the census date)."""
    if birth_date > census_date:
        raise validation_error({"birth_date": ["is after the round's census date"]})
    age = age_at(birth_date, census_date)
    if institution_type == "cdc":
        low, high = int(cdc_age.get("min_years", 2)), int(cdc_age.get("max_years", 5))
        if not low <= age <= high:
            raise LecError("age_out_of_range",
                           f"a CDC child must be {low}-{high} years old at the census date "
                           f"{census_date.isoformat()}; this child is {age}",
                           {"min_years": low, "max_years": high, "age_years": age})
    elif age > 30:
        raise validation_error({"birth_date": ["is not plausible for a learner"]})
    return age


def cdc_age_of(round_: Round) -> Mapping[str, Any]:
    """The round's CDC age range (``{min_years, max_years}``; empty: the defaults)."""
    return (round_.settings or {}).get("cdc_age") or {}


def check_learner(data: Mapping[str, Any], institution_type: str,
                  round_: Round) -> Tuple[Dict[str, Any], int]:
    """Apply every rule to a learner loaded by the schema (dates are dates).

    Returns the values to store: the identity split into kind and number and
    the age at the census date. Raises the first rule broken, with its code.
    """
    kind, number = identity(data)
    errors: Dict[str, Any] = {}
    for field in ("first_name", "last_name"):
        problem = name_problem(data[field])
        if problem:
            errors[field] = [problem]
    for field in ("prefix", "nationality"):
        problem = text_problem(data[field]) if data.get(field) else None
        if problem:
            errors[field] = [problem]
    if errors:
        raise validation_error(errors)
    check_grade(data["grade"], institution_type)
    age = check_age(data["birth_date"], institution_type, round_.census_date, cdc_age_of(round_))
    clean = {k: data.get(k) for k in ("prefix", "first_name", "last_name", "sex", "birth_date",
                                      "nationality", "grade")}
    clean.update(id_kind=kind, id_number=number)
    return clean, age


# -- counts -----------------------------------------------------------------------------

def counts(by_grade: Optional[Mapping[str, Any]]) -> Counts:
    """``{"total": n, "by_grade": {...}}`` from grade -> n (zeros left out)."""
    by_grade = {g: int(n) for g, n in (by_grade or {}).items() if int(n)}
    ordered = {g: by_grade[g] for g in ALL_GRADES if g in by_grade}
    ordered.update({g: n for g, n in by_grade.items() if g not in ordered})
    return {"total": sum(ordered.values()), "by_grade": ordered}


def add_counts(*many: Optional[Mapping[str, Any]]) -> Counts:
    total: Dict[str, int] = {}
    for c in many:
        for grade, n in (c or {}).get("by_grade", {}).items():
            total[grade] = total.get(grade, 0) + int(n)
    return counts(total)


ZERO: Counts = {"total": 0, "by_grade": {}}


def headcount_by_grade(raw: Any, closed: bool) -> Dict[str, int]:
    """Validate an LAO's headcount entry ``{grade: n}``; a closed school counts 0."""
    if not isinstance(raw, dict):
        raise validation_error({"counts": ["an object of grade -> number of students"]})
    errors: Dict[str, Any] = {}
    clean: Dict[str, int] = {}
    for grade, n in raw.items():
        if grade not in HEADCOUNT_GRADES:
            errors[grade] = [f"not a school grade ({', '.join(HEADCOUNT_GRADES)})"]
        elif not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100_000:
            errors[grade] = ["a whole number from 0 to 100000"]
        else:
            clean[grade] = n
    if errors:
        raise validation_error({"counts": errors})
    if closed and any(clean.values()):
        raise LecError("conflict", "the school is closed: its headcount is 0")
    return counts({} if closed else clean)["by_grade"]


# -- the seal's digests (docs/confirmation.md, "A seal anyone can verify") ------------------



def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def learners_digest(rows: Iterable[Any]) -> str:
    """SHA-256 (hex) of the sealed active learners of an institution: one line
    ``{id_kind}:{id_number}:{grade}`` per learner, the lines sorted and joined by
    a line feed (no learner: the digest of the empty text). ``rows``: objects or
    mappings with ``id_kind``, ``id_number`` and ``grade``."""
    def get(row: Any, key: str) -> Any:
        return row[key] if isinstance(row, dict) else getattr(row, key)
    return _sha256("\n".join(sorted(f"{get(r, 'id_kind')}:{get(r, 'id_number')}:{get(r, 'grade')}"
                                    for r in rows)))


def schools_digest(entries: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 (hex) of the other-affiliation headcounts an LAO seals: one line
    ``{school_id}:{total}:{canonical JSON of by_grade}`` per school (a closed
    school ``0`` and ``{}``), the lines sorted and joined by a line feed."""
    lines: list = []
    for entry in entries:
        c = counts((entry.get("counts") or {}).get("by_grade"))
        lines.append(f"{int(entry['id'])}:{c['total']}:{canonical_json(c['by_grade'])}")
    return _sha256("\n".join(sorted(lines)))


def seal_digest(round_id: int, unit_id: int, sealed_counts: Optional[Mapping[str, Any]],
                learners_digest_hex: str) -> str:
    """SHA-256 (hex) of the canonical JSON of ``{round_id, unit_id, counts:
    {total, by_grade}, learners_digest}`` (zero grades left out of ``by_grade``)."""
    c = counts((sealed_counts or {}).get("by_grade"))
    return _sha256(canonical_json({"round_id": int(round_id), "unit_id": int(unit_id),
                                   "counts": {"total": c["total"], "by_grade": c["by_grade"]},
                                   "learners_digest": learners_digest_hex}))


# -- other-affiliation schools across rounds -------------------------------------------------

def _field(unit: Any, name: str) -> Any:
    """A field of a :class:`Unit` or of a unit's record."""
    return unit.get(name) if isinstance(unit, Mapping) else getattr(unit, name)


def _day(value: Any) -> Optional[dt.date]:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def closed_for(school: Any, census_date: Any) -> bool:
    """Whether a school is closed for a round with this census date: closed, and
    its closure effective on or before the census date (no date: every round)."""
    if _field(school, "status") != "closed":
        return False
    closed_on = _day(_field(school, "closed_on"))
    return closed_on is None or closed_on <= _day(census_date)  # type: ignore[operator]


def effective(school: Any, census_date: Any) -> Any:
    """The school (a :class:`Unit`, or its record) as a round with this census date
    sees it: a closure dated after the census date leaves it active for that round."""
    if _field(school, "status") == "closed" and not closed_for(school, census_date):
        return dict(school, status="active") if isinstance(school, Mapping) \
            else dataclasses.replace(school, status="active")
    return school


# -- a learner ------------------------------------------------------------------------------

LEARNER_FIELDS: Tuple[str, ...] = (
    "id", "round_id", "institution_id", "id_kind", "prefix", "first_name", "last_name", "sex",
    "birth_date", "nationality", "grade", "status", "removal_reason", "removal_note", "removed_at",
    "removed_by", "source", "carried_from", "version", "created_at", "created_by", "updated_at",
    "updated_by")


@dataclass(frozen=True)
class Learner:
    """A learner's record in one round (a row of ``learners``; a bulk insert returns
    only what the events need, so the rest may be missing)."""
    id: int
    version: int
    id_kind: str
    grade: str
    sex: str
    birth_date: dt.date
    status: str
    removal_reason: Optional[str] = None
    id_number: Optional[str] = None
    round_id: Optional[int] = None
    institution_id: Optional[int] = None
    institution_path: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    prefix: Optional[str] = None
    nationality: Optional[str] = None
    removal_note: Optional[str] = None
    removed_at: Optional[dt.datetime] = None
    removed_by: Optional[int] = None
    source: Optional[str] = None
    carried_from: Optional[int] = None
    created_at: Optional[dt.datetime] = None
    created_by: Optional[int] = None
    updated_at: Optional[dt.datetime] = None
    updated_by: Optional[int] = None

    @classmethod
    def from_row(cls, row: Any) -> "Learner":
        m = row._mapping if hasattr(row, "_mapping") else row
        return cls(**{k: m[k] for k in cls.__dataclass_fields__ if k in m})

    def as_dict(self) -> Dict[str, Any]:
        """The learner as the API shows it (its ID number as ``national_id`` or ``g_code``)."""
        data = {k: getattr(self, k) for k in LEARNER_FIELDS}
        data.update(split_identity(self.id_kind, self.id_number or ""))
        return data

    def fact(self, institution: Unit, census_date: dt.date) -> Dict[str, Any]:
        """The learner as events carry it: no ID number, no name."""
        return Learner.facts([self], institution, census_date)[0]

    @staticmethod
    def facts(rows: Iterable[Any], institution: Unit, census_date: dt.date) -> List[Dict[str, Any]]:
        """:meth:`fact` of many rows of one institution (learners or rows holding the
        same fields), without a ``Learner`` for each: a bulk change's thousands."""
        ref = institution.ref()
        ages: Dict[dt.date, int] = {}
        facts = []
        for r in rows:
            age = ages.get(r.birth_date)
            if age is None:
                age = ages[r.birth_date] = age_at(r.birth_date, census_date)
            facts.append({"id": r.id, "version": r.version, "institution": ref, "grade": r.grade,
                          "sex": r.sex, "id_kind": r.id_kind, "age_years": age, "status": r.status,
                          "removal_reason": r.removal_reason})
        return facts
