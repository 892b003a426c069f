"""Enrollment rules, pure: identity numbers, grades, ages, counts, removal reasons.

Nothing here touches the database or the broker; the use cases in
``handlers.py`` apply these rules and the database enforces the rest (one
active record per person and round, the seal lock).
"""
import datetime as dt
import re

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.th import pin

from services.common.errors import LecError, validation_error
from services.common.hierarchy import path_ids
# A name must hold a letter (any script), no control characters, and must not
# start like a spreadsheet formula (it is exported to CSV and XLSX): the rules
# learner names share with org-unit names.
from services.common.text import name_problem, text_problem  # noqa: F401

SCHOOL_GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6",
                 "m1", "m2", "m3", "m4", "m5", "m6")
CDC_GRADES = ("cdc",)
ALL_GRADES = SCHOOL_GRADES + CDC_GRADES
GRADES_OF_TYPE = {"school": SCHOOL_GRADES, "cdc": CDC_GRADES}
# other-affiliation schools report headcounts by the school grades
HEADCOUNT_GRADES = SCHOOL_GRADES

REMOVAL_REASONS = ("moved_out", "not_found", "graduated", "duplicate", "deceased", "other")
SEXES = ("M", "F")
ID_KINDS = ("national_id", "g_code")
INSTITUTION_TYPES = ("school", "cdc")
SEALABLE_TYPES = ("school", "cdc", "lao")

# Official two-digit province codes (ISO 3166-2:TH; 10 = Bangkok).
PROVINCE_CODES = frozenset({
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

def national_id(value):
    """The 13-digit Thai personal ID, compacted, with its check digit verified."""
    if not isinstance(value, str) or not value.strip():
        raise LecError("invalid_national_id", "a national ID is 13 digits")
    try:
        return pin.validate(value)
    except StdnumError as exc:
        raise LecError("invalid_national_id", f"not a valid Thai national ID: {exc.message}")


def g_code(value):
    """A G-Code: 'G' (either case), 12 digits, a real province code in digits 3-4."""
    text = value.strip().upper().replace("-", "").replace(" ", "") if isinstance(value, str) else ""
    match = G_CODE.match(text)
    if not match:
        raise LecError("invalid_g_code", "a G-Code is the letter G followed by 12 digits")
    if int(match.group(2)) not in PROVINCE_CODES:
        raise LecError("invalid_g_code", "digits 3-4 of a G-Code are a province code")
    return text


def identity(data):
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


def split_identity(id_kind, id_number):
    return {"national_id": id_number if id_kind == "national_id" else None,
            "g_code": id_number if id_kind == "g_code" else None}


# -- who holds a learner -------------------------------------------------------------

def province_of(path):
    """The id of the province above a unit (the second id of its path), or None."""
    ids = path_ids(path or "/")
    return ids[1] if len(ids) > 1 else None


def holder_extra(actor, own_unit, holder_id, holder_path, provinces):
    """What a ``duplicate_learner`` refusal may say of the institution holding
    the learner: ``held_by`` (its id) when it is the caller's own institution or
    one the caller may read; otherwise only ``held_in``, the code and name of its
    province (``provinces``: id -> unit), so that nobody learns from a refusal
    where a child outside their subtree studies."""
    if holder_id == own_unit["id"] or actor.can_read(holder_path):
        return {"held_by": holder_id}
    province = provinces.get(province_of(holder_path)) or {}
    return {"held_in": {"code": province.get("code"), "name": province.get("name")}}


def duplicate_message(extra, own_id):
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

def grades_for(institution_type):
    return GRADES_OF_TYPE.get(institution_type, ())


def check_grade(grade, institution_type):
    allowed = grades_for(institution_type)
    if grade not in allowed:
        raise validation_error({"grade": [f"a {institution_type} records grades "
                                          f"{', '.join(allowed) or '(none)'}, not {grade!r}"]})


def age_at(birth_date, on):
    """Age in completed years on a day (a 29 February birthday counts on 1 March)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def check_age(birth_date, institution_type, census_date, cdc_age):
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


def round_rules(round_):
    """What a round contributes to the rules: census date and CDC age range."""
    census = round_["census_date"]
    if isinstance(census, str):
        census = dt.date.fromisoformat(census)
    return census, (round_.get("settings") or {}).get("cdc_age") or {}


def check_learner(data, institution_type, round_):
    """Apply every rule to a learner loaded by the schema (dates are dates).

    Returns the values to store: the identity split into kind and number and
    the age at the census date. Raises the first rule broken, with its code.
    """
    kind, number = identity(data)
    errors = {}
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
    census, cdc_age = round_rules(round_)
    age = check_age(data["birth_date"], institution_type, census, cdc_age)
    clean = {k: data.get(k) for k in ("prefix", "first_name", "last_name", "sex", "birth_date",
                                      "nationality", "grade")}
    clean.update(id_kind=kind, id_number=number)
    return clean, age


# -- counts -----------------------------------------------------------------------------

def counts(by_grade):
    """``{"total": n, "by_grade": {...}}`` from grade -> n (zeros left out)."""
    by_grade = {g: int(n) for g, n in (by_grade or {}).items() if int(n)}
    ordered = {g: by_grade[g] for g in ALL_GRADES if g in by_grade}
    ordered.update({g: n for g, n in by_grade.items() if g not in ordered})
    return {"total": sum(ordered.values()), "by_grade": ordered}


def add_counts(*many):
    total = {}
    for c in many:
        for grade, n in (c or {}).get("by_grade", {}).items():
            total[grade] = total.get(grade, 0) + int(n)
    return counts(total)


ZERO = {"total": 0, "by_grade": {}}


def headcount_by_grade(raw, closed):
    """Validate an LAO's headcount entry ``{grade: n}``; a closed school counts 0."""
    if not isinstance(raw, dict):
        raise validation_error({"counts": ["an object of grade -> number of students"]})
    errors, clean = {}, {}
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

import hashlib  # noqa: E402
import json  # noqa: E402


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value):
    """JSON with sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def learners_digest(rows):
    """SHA-256 (hex) of the sealed active learners of an institution: one line
    ``{id_kind}:{id_number}:{grade}`` per learner, the lines sorted and joined by
    a line feed (no learner: the digest of the empty text). ``rows``: objects or
    mappings with ``id_kind``, ``id_number`` and ``grade``."""
    def get(row, key):
        return row[key] if isinstance(row, dict) else getattr(row, key)
    return _sha256("\n".join(sorted(f"{get(r, 'id_kind')}:{get(r, 'id_number')}:{get(r, 'grade')}"
                                    for r in rows)))


def schools_digest(entries):
    """SHA-256 (hex) of the other-affiliation headcounts an LAO seals: one line
    ``{school_id}:{total}:{canonical JSON of by_grade}`` per school (a closed
    school ``0`` and ``{}``), the lines sorted and joined by a line feed."""
    lines = []
    for entry in entries:
        c = counts((entry.get("counts") or {}).get("by_grade"))
        lines.append(f"{int(entry['id'])}:{c['total']}:{canonical_json(c['by_grade'])}")
    return _sha256("\n".join(sorted(lines)))


def seal_digest(round_id, unit_id, sealed_counts, learners_digest_hex):
    """SHA-256 (hex) of the canonical JSON of ``{round_id, unit_id, counts:
    {total, by_grade}, learners_digest}`` (zero grades left out of ``by_grade``)."""
    c = counts((sealed_counts or {}).get("by_grade"))
    return _sha256(canonical_json({"round_id": int(round_id), "unit_id": int(unit_id),
                                   "counts": {"total": c["total"], "by_grade": c["by_grade"]},
                                   "learners_digest": learners_digest_hex}))
