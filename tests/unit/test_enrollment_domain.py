"""Enrollment's pure rules: identity numbers, names, grades, ages, counts."""
import datetime as dt

import pytest

from services.common.errors import LecError
from services.common.values import Round, Unit
from services.enrollment import domain

D = dt.date


def code_of(fn, *args):
    with pytest.raises(LecError) as err:
        fn(*args)
    return err.value


def test_national_id_uses_the_check_digit():
    assert domain.national_id("3100600445635") == "3100600445635"
    assert domain.national_id("1-2345-45678-78-1") == "1234545678781"
    for bad in ("3100600445636", "310060044563", "0100600445635", "91006004456XX", " ", None, 3100600445635):
        assert code_of(domain.national_id, bad).code == "invalid_national_id", bad


def test_g_code_shape_and_province():
    assert domain.g_code("G644200000001") == "G644200000001"
    assert domain.g_code(" g-6442-00000001 ") == "G644200000001"
    assert domain.g_code("G661000000123") == "G661000000123"  # Bangkok's code is 10
    for bad in ("G64420000001", "G6442000000011", "H644200000001", "G640000000001", "G64990000000A",
                "", None):
        assert code_of(domain.g_code, bad).code == "invalid_g_code", bad


def test_identity_needs_exactly_one():
    assert domain.identity({"national_id": "3100600445635"}) == ("national_id", "3100600445635")
    assert domain.identity({"g_code": "G644200000001", "national_id": ""}) == ("g_code", "G644200000001")
    assert code_of(domain.identity, {}).code == "validation_error"
    both = code_of(domain.identity, {"national_id": "3100600445635", "g_code": "G644200000001"})
    assert both.code == "validation_error" and "g_code" in both.extra["errors"]


@pytest.mark.parametrize("name,ok", [
    ("สมชาย", True), ("ณ อยุธยา", True), ("Anne-Marie", True), (" ปิ่น ", True),
    ("", False), ("   ", False), ("=SUM(A1)", False), ("+66", False), ("@me", False), ("-x", False),
    ("ab\ncd", False), ("1234", False),
])
def test_names(name, ok):
    assert (domain.name_problem(name) is None) is ok


def test_grades_fit_the_institution():
    domain.check_grade("p1", "school")
    domain.check_grade("cdc", "cdc")
    for grade, kind in (("cdc", "school"), ("p1", "cdc"), ("p7", "school"), ("k1", "other_school")):
        assert code_of(domain.check_grade, grade, kind).code == "validation_error"


def test_age_in_completed_years():
    assert domain.age_at(D(2020, 6, 10), D(2026, 6, 10)) == 6
    assert domain.age_at(D(2020, 6, 11), D(2026, 6, 10)) == 5
    assert domain.age_at(D(2020, 2, 29), D(2026, 2, 28)) == 5
    assert domain.age_at(D(2020, 2, 29), D(2026, 3, 1)) == 6


def test_cdc_age_range_at_the_census_date():
    census, rng = D(2026, 6, 10), {"min_years": 2, "max_years": 5}
    assert domain.check_age(D(2024, 6, 10), "cdc", census, rng) == 2
    assert domain.check_age(D(2020, 6, 11), "cdc", census, rng) == 5
    err = code_of(domain.check_age, D(2024, 6, 11), "cdc", census, rng)
    assert err.code == "age_out_of_range" and err.extra["age_years"] == 1
    assert code_of(domain.check_age, D(2020, 6, 10), "cdc", census, rng).code == "age_out_of_range"
    assert domain.check_age(D(2024, 6, 11), "school", census, rng) == 1  # schools: no range
    assert code_of(domain.check_age, D(2026, 6, 11), "school", census, rng).code == "validation_error"
    assert code_of(domain.check_age, D(1990, 1, 1), "school", census, rng).code == "validation_error"


def test_counts_and_headcounts():
    assert domain.counts({"p2": 3, "k1": 2, "m1": 0}) == {"total": 5, "by_grade": {"k1": 2, "p2": 3}}
    assert domain.add_counts({"total": 2, "by_grade": {"p1": 2}}, {"total": 1, "by_grade": {"p1": 1}},
                             domain.ZERO) == {"total": 3, "by_grade": {"p1": 3}}
    assert domain.headcount_by_grade({"p1": 30, "m6": 0}, closed=False) == {"p1": 30}
    assert domain.headcount_by_grade({"p1": 0}, closed=True) == {}
    assert code_of(domain.headcount_by_grade, {"p1": 3}, True).code == "conflict"
    for bad in ({"cdc": 1}, {"p1": -1}, {"p1": True}, {"p1": 100_001}, ["p1"]):
        assert code_of(domain.headcount_by_grade, bad, False).code == "validation_error"


def test_prefix_and_nationality_are_exportable_text():
    base = {"national_id": "3100600445635", "prefix": "เด็กชาย", "first_name": "ก", "last_name": "ข",
            "sex": "M", "birth_date": D(2018, 1, 1), "grade": "p1", "nationality": "ไทย"}
    round_ = Round.from_record({"id": 1, "academic_year": 2569, "number": 1, "census_date": "2026-06-10"})
    clean, age = domain.check_learner(base, "school", round_)
    assert (clean["id_kind"], clean["id_number"], age) == ("national_id", "3100600445635", 8)
    assert domain.check_learner(dict(base, prefix=None, nationality=None), "school", round_)[0]["prefix"] is None
    for field, bad in (("prefix", "ด.ช.\x07"), ("nationality", "=cmd()")):
        err = code_of(domain.check_learner, dict(base, **{field: bad}), "school", round_)
        assert err.code == "validation_error" and field in err.extra["errors"]


def test_the_facts_of_many_rows_are_each_rows_fact():
    unit = Unit(id=9, type="school", path="/1/2/3/9/")
    census = dt.date(2026, 6, 10)
    learners = [domain.Learner(id=i, version=1 + i % 3, id_kind="national_id", grade="p1", sex="MF"[i % 2],
                               birth_date=dt.date(2016 + i % 4, 6, 9 + i % 3), status="active" if i % 5 else "removed",
                               removal_reason=None if i % 5 else "moved")
                for i in range(1, 13)]
    facts = domain.Learner.facts(learners, unit, census)
    assert facts == [{"id": x.id, "version": x.version, "institution": {"id": 9, "type": "school", "path": "/1/2/3/9/"},
                      "grade": "p1", "sex": x.sex, "id_kind": "national_id",
                      "age_years": domain.age_at(x.birth_date, census), "status": x.status,
                      "removal_reason": x.removal_reason} for x in learners]
    assert [x.fact(unit, census) for x in learners] == facts
    assert {f["age_years"] for f in facts} == {6, 7, 8, 9, 10}
