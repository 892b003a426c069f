"""One file with every kind of bad row, imported on the real enrollment database
through the import's staged path (COPY into the stage, the plainly valid rows
recognised there) and through the full per-row rules (the reference), each into
a round of its own set up alike: the answers (accepted,
unchanged, every rejected row with its code, message and holder) and the
learners stored are the same."""
import datetime as dt
import uuid

from sqlalchemy import text

from services.common.db import array_literal
from services.enrollment import imports
from tests.services import enrollment_fixtures as fx

COLUMNS = list(imports.IMPORT_COLUMNS)
STORED = ("id_kind, id_number, prefix, first_name, last_name, sex, birth_date, nationality, grade, "
          "status, source, import_row, institution_id")


def values(person):
    return [person.get(c) for c in COLUMNS]


def send(db_for, unit, user_id, round_, others, columns, rows, fast, import_id=None):
    db = db_for("enrollment", fx.actor_of(unit, user_id=user_id))
    with db.uow() as uow:
        return imports.import_rows(uow, fx.ports(unit, *others, round_), round_["id"], unit["id"],
                                   columns, rows, import_id or str(uuid.uuid4()), fast=fast)


def stored(engines, round_):
    with engines["enrollment"].connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT {STORED} FROM learners WHERE round_id = :r ORDER BY id_number"), {"r": round_["id"]})]


def file_rows(school, kept, changed, elsewhere, fresh):
    """Rows 2.. of a file: valid rows (fast and not) and every kind of bad row."""
    p = [fx.learner(national_id=n) for n in fresh]
    rows = [
        values(p[0]),
        values(dict(p[1], national_id=None, g_code="G644200000001")),
        values(dict(p[2], national_id="-".join((p[2]["national_id"][:1], p[2]["national_id"][1:])))),
        values(dict(p[3], prefix=None, nationality="ไทย", first_name="ณ เชียงใหม่")),
        values(dict(p[4], national_id=p[4]["national_id"][:12]
                    + str((int(p[4]["national_id"][12]) + 1) % 10))),               # check digit
        values(dict(p[5], national_id=None, g_code="G649900000001")),        # not a province
        values(dict(p[5], national_id=None, g_code="G6442")),                # too short
        values(dict(p[6], grade="x9")),                                      # unknown grade
        values(dict(p[6], grade="cdc")),                                     # not taught at a school
        values(dict(p[7], birth_date="2027-01-01")),                         # after the census date
        values(dict(p[7], birth_date="1980-01-01")),                         # too old
        values(dict(p[8], birth_date="2019-02-30")),                         # no such date
        values(dict(p[8], birth_date="30/01/2562")),                         # not ISO
        values(dict(p[9], sex="X")),
        values(dict(p[9], first_name=None)),
        values(dict(p[10], last_name="")),
        values(dict(p[10], grade=None, sex=None)),
        values(dict(p[11], national_id=None)),                               # no identity
        values(dict(p[11], g_code="G644200000002")),                         # both
        values(dict(p[12], first_name="ก" * 101)),                           # over-long
        values(dict(p[12], prefix="ด" * 51)),
        values(dict(p[13], first_name="=HYPERLINK()")),
        values(dict(p[13], last_name="บุญ 1101700203450")),
        values(dict(p[14], nationality="ไ\x07ทย")),
        values(p[0]),                                                        # in-file duplicate
        values(dict(p[0], first_name="อื่น")),                               # in-file, other details
        values(kept),                                                        # held here, same: unchanged
        values(dict(changed, first_name="เปลี่ยน")),                         # held here, other details
        values(elsewhere),                                                   # held at another school
        values(dict(p[15], first_name="José", last_name="O'Brien")),
        values(dict(p[16], grade="m6", birth_date="2011-12-31")),
        values(p[2]),                                # plain, naming the learner of a suspect row (4)
    ]
    return [[n, *r] for n, r in enumerate(rows, start=2)]


def test_fast_path_answers_and_stores_exactly_as_the_full_rules(db_for, engines):
    lao = fx.lao()
    school, other = fx.unit("school", parent=lao), fx.unit("school", parent=lao)
    held = [fx.learner() for _ in range(3)]
    fresh = [fx.national_id() for _ in range(17)]
    rows = file_rows(school, held[0], held[1], held[2], fresh)
    answers, tables = [], []
    for user_id, fast in ((801, True), (802, False)):
        round_ = fx.round_()
        setup = [[2 + i, *values(x)] for i, x in enumerate(held[:2])]
        assert send(db_for, school, user_id, round_, [other], COLUMNS, setup, False)["accepted"] == 2
        assert send(db_for, other, user_id, round_, [school], COLUMNS,
                    [[2, *values(held[2])]], False)["accepted"] == 1
        answer = send(db_for, school, user_id, round_, [other], COLUMNS, rows, fast)
        answers.append(answer)
        tables.append([r[:-1] + ("here" if r[-1] == school["id"] else "other",)
                       for r in stored(engines, round_)])
    assert answers[0] == answers[1]
    assert tables[0] == tables[1]
    fast_answer = answers[0]
    assert fast_answer["rows"] == 32 and fast_answer["unchanged"] == 1
    assert fast_answer["accepted"] == 6, fast_answer
    rejected = {r["row"]: r for r in fast_answer["rejected"]}
    assert len(rejected) == 32 - 6 - 1
    assert rejected[26]["message"] == "the same learner is on row 2 of this file"
    assert rejected[33]["message"] == "the same learner is on row 4 of this file"
    assert "held_in" in rejected[30] and "held_by" not in rejected[30]  # a school it cannot read
    assert "other details" in rejected[29]["message"]
    codes = {r["code"] for r in fast_answer["rejected"]}
    assert codes == {"invalid_national_id", "invalid_g_code", "validation_error", "duplicate_learner"}


def test_cdc_ages_at_the_census_date_on_both_paths(db_for, engines):
    lao = fx.lao()
    cdc = fx.unit("cdc", parent=lao)
    people = [fx.learner(grade="cdc", birth=fx.birth_for_age("2026-06-10", years, days))
              for years, days in ((1, 30), (2, 0), (2, 30), (5, 30), (6, 0), (6, -1), (3, 1))]
    answers, tables = [], []
    for user_id, fast in ((803, True), (804, False)):
        round_ = fx.round_()
        rows = [[n, *values(p)] for n, p in enumerate(people, start=2)]
        answers.append(send(db_for, cdc, user_id, round_, [], COLUMNS, rows, fast))
        tables.append(stored(engines, round_))
    assert answers[0] == answers[1] and tables[0] == tables[1]
    assert answers[0]["accepted"] == 5
    assert [r["code"] for r in answers[0]["rejected"]] == ["age_out_of_range"] * 2


def test_array_literals_carry_any_text(engines):
    texts = ["a", None, "NULL", "", " x ", 'qu"ote', "back\\slash", "{,}", "ณ เชียงใหม่", "\\\"", "a\nb"]
    with engines["enrollment"].connect() as conn:
        row = conn.execute(text("SELECT CAST(:t AS text[]), CAST(:d AS date[]), CAST(:i AS integer[]), "
                                "CAST(:b AS boolean[])"), {
            "t": array_literal(texts), "d": array_literal([dt.date(2019, 3, 1), None]),
            "i": array_literal([2, 30]), "b": array_literal([True, False, None])}).one()
    assert tuple(row) == (texts, [dt.date(2019, 3, 1), None], [2, 30], [True, False, None])
