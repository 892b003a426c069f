"""Made-up units, rounds and learners for in-process enrollment tests.

Ids are drawn far above what the system tests' registry hands out, so the
two kinds of tests can share the enrollment database of a run.
"""
import datetime as dt
import itertools
import os
import random

from stdnum.th import pin

from services.common.context import Actor

_ids = itertools.count(50_000_000 + (os.getpid() % 1000) * 10_000)
FIRST_NAMES = ("สมชาย", "สมหญิง", "ณัฐวุฒิ", "กนกวรรณ", "ธนากร", "พิมพ์ชนก", "ปวีณา", "ศุภชัย")
LAST_NAMES = ("ใจดี", "รักไทย", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ")


def next_id():
    return next(_ids)


def national_id(rng=random):
    """A random valid 13-digit Thai ID (first digit 1-8, check digit computed)."""
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + pin.calc_check_digit(body)


def unit(type="school", parent=None, status="active", **extra):
    uid = next_id()
    lao = parent or {"id": next_id(), "path": "/1/2/"}
    if parent is None:
        lao["path"] = f"/1/2/{lao['id']}/"
    return {"id": uid, "code": f"U{uid}", "name": f"หน่วย {uid}", "type": type,
            "parent_id": lao["id"], "path": f"{lao['path']}{uid}/", "status": status,
            "affiliation": extra.get("affiliation"), "closed_on": None, "version": 1}


def lao():
    uid = next_id()
    return {"id": uid, "code": f"L{uid}", "name": f"อปท. {uid}", "type": "lao", "parent_id": 2,
            "path": f"/1/2/{uid}/", "status": "active", "affiliation": None, "closed_on": None,
            "version": 1}


def round_(number=1, census="2026-06-10", year=2569, min_years=2, max_years=5):
    return {"id": next_id(), "academic_year": year, "number": number, "census_date": census,
            "settings": {"cdc_age": {"min_years": min_years, "max_years": max_years}}}


def window(round_, open=True):
    return {"round_id": round_["id"], "open": open, "state": "open" if open else "closed",
            "closes_at": "2099-01-01T00:00:00+07:00", "extended": False}


def actor_of(unit, role="institution", user_id=7):
    return Actor(user_id=user_id, username=f"user{user_id}", role=role, org_unit_id=unit["id"],
                 path=unit["path"])


def learner(grade="p1", birth="2019-03-01", rng=random, **over):
    body = {"national_id": national_id(rng), "prefix": "เด็กชาย", "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES), "sex": "M", "birth_date": birth, "grade": grade}
    body.update(over)
    return body


def birth_for_age(census, years, days_after_birthday=30):
    census = dt.date.fromisoformat(census)
    born = census.replace(year=census.year - years) - dt.timedelta(days=days_after_birthday)
    return born.isoformat()
