"""The import's fast path (``imports.FastRows``) against the full rules: on
valid rows, on every kind of bad row and on thousands of random mutations of
valid rows, ``classify_rows`` gives exactly what the per-row reference gives,
and the fast path never accepts a row the full rules refuse."""
import datetime as dt
import random

import pytest
from stdnum.th import pin

from services.common.values import Round, Unit
from services.enrollment import imports

COLUMNS = list(imports.IMPORT_COLUMNS)
SCHOOL = Unit(id=11, type="school", path="/1/2/3/11/")
CDC = Unit(id=12, type="cdc", path="/1/2/3/12/")
ROUND = Round(id=5, academic_year=2569, number=1, census_date=dt.date(2026, 6, 10),
              settings={"cdc_age": {"min_years": 2, "max_years": 5}})


def nid(rng):
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + pin.calc_check_digit(body)


def row(n, **over):
    values = {"national_id": "1101700203450", "g_code": None, "prefix": "เด็กชาย",
              "first_name": "สมชาย", "last_name": "ใจดี", "sex": "M", "birth_date": "2019-03-01",
              "grade": "p1", "nationality": "ไทย"}
    values.update(over)
    return [n, *(values[c] for c in COLUMNS)]


def reference(rows, unit=SCHOOL, columns=COLUMNS):
    return imports.classify_rows(columns, rows, unit, ROUND, fast=False)


def fast(rows, unit=SCHOOL, columns=COLUMNS):
    return imports.classify_rows(columns, rows, unit, ROUND)


def fast_accepts(values, unit=SCHOOL, columns=COLUMNS):
    return imports.FastRows(columns, unit, ROUND).clean(values) is not None


BAD = [
    dict(national_id="1101700203451"),                  # check digit
    dict(national_id="0101700203450"),                  # first digit 0
    dict(national_id="110170020345"),                   # 12 digits
    dict(national_id="๑๑๐๑๗๐๐๒๐๓๔๕๑"),                 # Thai digits
    dict(national_id=None, g_code="G649900000001"),     # province 99
    dict(national_id=None, g_code="G64420000001"),      # 11 digits
    dict(national_id=None, g_code=None),                # no identity
    dict(g_code="G644200000001"),                       # both
    dict(grade="m7"), dict(grade="cdc"), dict(grade="ป.1"), dict(grade=None),
    dict(sex="X"), dict(sex="m"), dict(sex=None),
    dict(birth_date="2019-02-29"), dict(birth_date="01/03/2562"), dict(birth_date="2027-01-01"),
    dict(birth_date="1990-01-01"), dict(birth_date=None), dict(birth_date="2019-3-1"),
    dict(birth_date="๒๐๑๙-๐๓-๐๑"),
    dict(first_name=None), dict(first_name=""), dict(first_name="  "), dict(first_name="ก" * 101),
    dict(first_name="=cmd"), dict(first_name="-สมชาย"), dict(first_name="สม\tชาย"),
    dict(first_name="1234"), dict(first_name="ชื่อ 1101700203450"), dict(first_name="ชื่อ\x00"),
    dict(first_name="ชื่อ\ud800"), dict(last_name="G644200000001"), dict(last_name="ๆ" * 101),
    dict(prefix="=x"), dict(prefix="ก" * 51), dict(nationality="@ไทย"), dict(nationality="ไ\x01ทย"),
    dict(first_name=5), dict(national_id=1101700203450), dict(grade=["p1"]), dict(birth_date=[1]),
]
# valid, but outside what the fast patterns recognise: the full rules take them
VALID_SUSPECTS = [
    dict(national_id="1-1017-00203-45-0"), dict(national_id=" 1101700203450"),
    dict(national_id=None, g_code="g644200000001"), dict(national_id=None, g_code="G64-4200000001"),
    dict(first_name=" สมชาย"), dict(first_name="สมชาย2"), dict(first_name="José"),
    dict(last_name="O'Brien-Smith"), dict(prefix="ด.ช.1"),
]


def test_valid_rows_take_the_fast_path_and_give_the_same_values():
    rng = random.Random(3)
    rows = [row(i + 2, national_id=nid(rng), grade=g, birth_date=f"{2022 - k}-0{1 + k % 9}-1{k % 10}")
            for i, (k, g) in enumerate((k, g) for k in range(9) for g in ("k1", "p2", "m3"))]
    rows.append(row(99, national_id=None, g_code="G644200000001", prefix=None, nationality=None))
    rows.append(row(100, national_id="3101700203456", first_name="ณ เชียงใหม่", last_name="พิมพ์ลดา"))
    for r in rows:
        assert fast_accepts(r[1:]), r
    assert fast(rows) == reference(rows)
    assert len(fast(rows)[0]) == len(rows)


@pytest.mark.parametrize("over", BAD, ids=[repr(b)[:40] for b in BAD])
def test_bad_rows_are_suspects_and_refused_as_before(over):
    values = row(7, **over)
    assert not fast_accepts(values[1:])
    good, rejected = fast([values])
    assert good == {} and rejected == reference([values])[1] and len(rejected) == 1


@pytest.mark.parametrize("over", VALID_SUSPECTS, ids=[repr(b)[:40] for b in VALID_SUSPECTS])
def test_valid_suspects_are_accepted_by_the_full_rules(over):
    values = row(7, **over)
    assert not fast_accepts(values[1:])
    assert fast([values]) == reference([values])
    assert len(fast([values])[0]) == 1


def test_cdc_ages_and_grades():
    rows = [row(2, grade="cdc", birth_date="2022-06-10"), row(3, grade="cdc", birth_date="2024-06-11"),
            row(4, grade="cdc", birth_date="2020-06-10"), row(5, grade="cdc", birth_date="2020-06-11"),
            row(6, grade="p1", birth_date="2022-06-10")]
    for n, r in enumerate(rows):
        r[1] = nid(random.Random(n))
    good, rejected = fast(rows, CDC)
    assert (good, rejected) == reference(rows, CDC)
    assert sorted(r for r, _ in good.values()) == [2, 5]
    assert [r["code"] for r in rejected] == ["age_out_of_range", "age_out_of_range", "validation_error"]


def test_in_file_duplicates_name_the_first_row_whatever_path_each_row_took():
    rows = [row(2, national_id=" 1101700203450"), row(3), row(4, first_name="อื่น"), row(5, sex="X")]
    assert fast(rows) == reference(rows)
    assert [r["row"] for r in fast(rows)[1]] == [3, 4, 5]


def test_fewer_columns_short_rows_and_repeated_columns():
    columns = ["national_id", "first_name", "last_name", "sex", "birth_date", "grade"]
    rows = [[2, "1101700203450", "สมชาย", "ใจดี", "M", "2019-03-01", "p1"],
            [3, "3101700203456", "สมชาย", "ใจดี", "M", "2019-03-01"],
            [4, "1101700203468", "สมชาย", "ใจดี", "M", "2019-03-01", "p1", "extra"]]
    assert fast(rows, columns=columns) == reference(rows, columns=columns)
    twice = columns + ["grade"]
    rows = [[2, "1101700203450", "สมชาย", "ใจดี", "M", "2019-03-01", "p1", "m9"]]
    assert fast(rows, columns=twice) == reference(rows, columns=twice)


ALPHABET = ["", " ", "0", "9", "๑", "-", "=", "\t", "\x00", "G", "g", ".", "'", "é", "ก", "ั", "ๆ",
            "ฯ", "ไ", "A", "z", "@", "\u200b", "\ud800", "ญ"]


def mutate(rng, value):
    if value is None or rng.random() < 0.1:
        return rng.choice([None, "", " ", "x"])
    chars = list(value)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        at = rng.randint(0, len(chars))
        if op < 0.4:
            chars.insert(at, rng.choice(ALPHABET))
        elif op < 0.7 and chars:
            del chars[min(at, len(chars) - 1)]
        elif chars:
            chars[min(at, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars)


@pytest.mark.parametrize("unit", [SCHOOL, CDC], ids=["school", "cdc"])
def test_random_mutations_agree_with_the_full_rules(unit):
    rng = random.Random(20260610 + unit.id)
    base = dict(grade="cdc", birth_date="2022-01-15") if unit.type == "cdc" else {}
    rows = []
    for n in range(3000):
        values = row(n + 2, national_id=nid(rng), **base)
        for _ in range(rng.randint(0, 2)):
            at = rng.randint(1, len(COLUMNS))
            values[at] = mutate(rng, values[at])
        rows.append(values)
    got, expected = fast(rows, unit), reference(rows, unit)
    assert got == expected
    assert 0 < len(got[0]) < len(rows) and got[1]

