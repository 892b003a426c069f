"""The import's staged path (``staging.PLAIN``, the rule of a plainly valid row,
run in PostgreSQL over the stage) against the full rules: on valid rows, on
every kind of bad row and on thousands of random mutations of valid rows, a
staged batch gives exactly the valid rows, clean values and rejections the
per-row reference gives, and the rule never keeps a row the full rules refuse."""
import datetime as dt
import random

import pytest
from sqlalchemy import text
from stdnum.th import pin

from services.common.values import Round, Unit
from services.enrollment import imports, staging

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


_STAGED = text(f"""
    WITH {staging.CANDIDATES}
    SELECT * FROM ranked WHERE row <> ALL(CAST(:row AS integer[]))
""")
_EMPTY = {c: "{}" for c in staging.CANDIDATE_FIELDS}


@pytest.fixture
def uow(db_for):
    with db_for("enrollment").uow() as uow:
        yield uow


class Judge:
    """Both paths over one unit of work (each batch rolled back after)."""

    def __init__(self, uow):
        self.uow = uow

    def reference(self, rows, unit=SCHOOL, columns=COLUMNS):
        batch = imports.stage_batch(self.uow, columns, rows, None, unit, ROUND, fast=False)
        self.uow.rollback()
        return _answer(batch.good, batch.rejected)

    def staged(self, rows, unit=SCHOOL, columns=COLUMNS):
        """The staged path's answer and the rows the rule kept in the stage."""
        batch = imports.stage_batch(self.uow, columns, rows, None, unit, ROUND)
        plain = [(r.row, {k: r._mapping[k] for k in CLEAN}) for r in self.uow.execute(_STAGED, _EMPTY)]
        self.uow.rollback()
        return _answer(plain + batch.good, batch.rejected), {row for row, _ in plain}

    def fast(self, rows, unit=SCHOOL, columns=COLUMNS):
        return self.staged(rows, unit, columns)[0]

    def plain(self, values, unit=SCHOOL, columns=COLUMNS):
        return bool(self.staged([[7, *values]], unit, columns)[1])


CLEAN = ("id_kind", "id_number", "prefix", "first_name", "last_name", "sex", "birth_date", "nationality",
         "grade")


def _answer(good, rejected):
    """The valid rows (row -> clean values) and the rejections, in row order."""
    return ({row: {k: clean[k] for k in CLEAN} for row, clean in sorted(good, key=lambda g: g[0])},
            sorted(rejected, key=lambda r: r["row"]))


@pytest.fixture
def judge(uow):
    return Judge(uow)


BAD = [
    dict(national_id="1101700203451"),                  # check digit
    dict(national_id="0101700203450"),                  # first digit 0
    dict(national_id="0101700203451"),                  # first digit 0, check digit right
    dict(national_id="9101700203455"),                  # first digit 9, check digit right
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


def test_valid_rows_stay_in_the_stage_and_give_the_same_values(judge):
    rng = random.Random(3)
    rows = [row(i + 2, national_id=nid(rng), grade=g, birth_date=f"{2022 - k}-0{1 + k % 9}-1{k % 10}")
            for i, (k, g) in enumerate((k, g) for k in range(9) for g in ("k1", "p2", "m3"))]
    rows.append(row(99, national_id=None, g_code="G644200000001", prefix=None, nationality=None))
    rows.append(row(100, national_id="3101700203456", first_name="ณ เชียงใหม่", last_name="พิมพ์ลดา"))
    rows.append(row(101, national_id="3101700203464", prefix="", nationality=""))
    answer, plain = judge.staged(rows)
    assert plain == {r[0] for r in rows}
    assert answer == judge.reference(rows)
    assert len(answer[0]) == len(rows)
    assert answer[0][99]["id_kind"] == "g_code" and answer[0][101]["prefix"] is None
    assert answer[0][2]["birth_date"] == dt.date(2022, 1, 10)


@pytest.mark.parametrize("over", BAD, ids=[repr(b)[:40] for b in BAD])
def test_bad_rows_are_suspects_and_refused_as_before(judge, over):
    values = row(7, **over)
    assert not judge.plain(values[1:])
    good, rejected = judge.fast([values])
    assert good == {} and rejected == judge.reference([values])[1] and len(rejected) == 1


@pytest.mark.parametrize("over", VALID_SUSPECTS, ids=[repr(b)[:40] for b in VALID_SUSPECTS])
def test_valid_suspects_are_accepted_by_the_full_rules(judge, over):
    values = row(7, **over)
    assert not judge.plain(values[1:])
    assert judge.fast([values]) == judge.reference([values])
    assert len(judge.fast([values])[0]) == 1


def test_cdc_ages_and_grades(judge):
    rows = [row(2, grade="cdc", birth_date="2022-06-10"), row(3, grade="cdc", birth_date="2024-06-11"),
            row(4, grade="cdc", birth_date="2020-06-10"), row(5, grade="cdc", birth_date="2020-06-11"),
            row(6, grade="p1", birth_date="2022-06-10"), row(7, grade="cdc", birth_date="2024-06-10")]
    for n, r in enumerate(rows):
        r[1] = nid(random.Random(n))
    (good, rejected), plain = judge.staged(rows, CDC)
    assert (good, rejected) == judge.reference(rows, CDC)
    assert sorted(good) == [2, 5, 7] and plain == {2, 5, 7}
    assert [r["code"] for r in rejected] == ["age_out_of_range", "age_out_of_range", "validation_error"]


def test_a_range_of_no_ages_keeps_nothing_in_the_stage(judge):
    odd = Round(id=6, academic_year=2569, number=1, census_date=dt.date(2026, 6, 10),
                settings={"cdc_age": {"min_years": 4, "max_years": 3}})
    assert staging.birth_range("cdc", odd.census_date, (("max_years", 3), ("min_years", 4))) == (None, None)
    rules = staging.Rules(Unit(id=12, type="cdc", path="/1/2/3/12/"), odd)
    assert rules.params["born_from"] > rules.params["born_to"]


def test_every_day_of_a_leap_year_and_its_edges_agree_with_the_full_rules(judge):
    start = dt.date(2019, 12, 25)
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range(375)]
    days += ["2019-02-29", "2020-02-30", "2021-04-31", "2021-13-01", "2021-00-10", "0000-01-01",
             "1995-06-10", "1995-06-11", "2026-06-10", "2026-06-11", "9999-12-31"]
    rows = [row(n, national_id=nid(random.Random(n)), birth_date=day) for n, day in enumerate(days, 2)]
    assert judge.fast(rows) == judge.reference(rows)


def test_fewer_columns_short_rows_and_repeated_columns(judge):
    columns = ["national_id", "first_name", "last_name", "sex", "birth_date", "grade"]
    rows = [[2, "1101700203450", "สมชาย", "ใจดี", "M", "2019-03-01", "p1"],
            [3, "3101700203456", "สมชาย", "ใจดี", "M", "2019-03-01"],
            [4, "1101700203468", "สมชาย", "ใจดี", "M", "2019-03-01", "p1", "extra"]]
    answer, plain = judge.staged(rows, columns=columns)
    assert answer == judge.reference(rows, columns=columns) and plain == {2, 4}
    twice = columns + ["grade"]
    rows = [[2, "1101700203450", "สมชาย", "ใจดี", "M", "2019-03-01", "p1", "m9"]]
    assert judge.fast(rows, columns=twice) == judge.reference(rows, columns=twice)


def test_rows_as_copy_text_and_as_values_meet_in_one_batch(uow):
    lines = imports.CopyText(len(COLUMNS))
    assert lines.add(2, row(2)[1:]) and lines.add(3, row(3, first_name="\\.")[1:])
    batch = imports.stage_batch(uow, COLUMNS, [row(4, national_id="3101700203456", first_name="ก\nข")],
                                lines.text(), SCHOOL, ROUND)
    assert (batch.rows, batch.first, batch.last) == (3, 2, 4)
    assert [r["row"] for r in batch.rejected] == [3, 4]
    assert uow.execute(text("SELECT array_agg(row) FROM import_stage")).scalar() == [2]


def test_a_batch_that_is_not_copy_text_is_refused_with_a_code(uow):
    with pytest.raises(imports.LecError) as caught:
        imports.stage_batch(uow, COLUMNS, [], "x,1,2\n", SCHOOL, ROUND)
    assert caught.value.code == "validation_error"


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
def test_random_mutations_agree_with_the_full_rules(judge, unit):
    rng = random.Random(20260610 + unit.id)
    base = dict(grade="cdc", birth_date="2022-01-15") if unit.type == "cdc" else {}
    rows = []
    for n in range(3000):
        values = row(n + 2, national_id=nid(rng), **base)
        for _ in range(rng.randint(0, 2)):
            at = rng.randint(1, len(COLUMNS))
            values[at] = mutate(rng, values[at])
        rows.append(values)
    got, expected = judge.fast(rows, unit), judge.reference(rows, unit)
    assert got == expected
    assert 0 < len(got[0]) < len(rows) and got[1]

