"""Batches of one import, in-process on the real enrollment database: a learner
an earlier batch of the same file added is a duplicate row; a batch sent again
(its reply lost) finds its own rows unchanged; another import of the same file
finds them unchanged too."""
import uuid

import pytest

from services.common.errors import LecError
from services.enrollment import imports
from tests.services import enrollment_fixtures as fx

COLUMNS = ["national_id", "first_name", "last_name", "sex", "birth_date", "grade"]


def rows(learners, first_row):
    return [[first_row + i, x["national_id"], x["first_name"], x["last_name"], x["sex"],
             x["birth_date"], x["grade"]] for i, x in enumerate(learners)]


def send(db_for, school, round_, batch, import_id):
    db = db_for("enrollment", fx.actor_of(school))
    with db.uow() as uow:
        return imports.import_rows(uow, fx.ports(school, round_), round_["id"], school["id"], COLUMNS, batch,
                                   import_id)


def test_batches_of_one_import(db_for):
    school, round_ = fx.unit("school"), fx.round_()
    people = [fx.learner() for _ in range(4)]
    file_id = str(uuid.uuid4())
    first = send(db_for, school, round_, rows(people[:3], 2), file_id)
    assert (first["accepted"], first["unchanged"], first["rejected"]) == (3, 0, [])

    # the same batch again (its reply was lost and it was sent again): nothing new, nothing refused
    retried = send(db_for, school, round_, rows(people[:3], 2), file_id)
    assert (retried["accepted"], retried["unchanged"], retried["rejected"]) == (0, 3, [])

    # a later batch of the file repeats row 3's learner (as it was) and row 4's (renamed)
    renamed = dict(people[2], first_name="ซ้ำ")
    later = send(db_for, school, round_, rows([people[1], renamed, people[3]], 5000), file_id)
    assert later["accepted"] == 1 and later["unchanged"] == 0
    assert later["rejected"] == [
        {"row": 5000, "code": "duplicate_learner", "held_by": school["id"],
         "message": "the same learner is on row 3 of this file"},
        {"row": 5001, "code": "duplicate_learner", "held_by": school["id"],
         "message": "the same learner is on row 4 of this file"}]

    # another import of the same rows: unchanged, or refused where the details differ
    other = send(db_for, school, round_, rows([people[1], renamed], 3), str(uuid.uuid4()))
    assert (other["accepted"], other["unchanged"]) == (0, 1)
    assert [(r["row"], r["code"]) for r in other["rejected"]] == [(4, "duplicate_learner")]
    assert "other details" in other["rejected"][0]["message"]


def test_an_import_id_must_be_a_uuid():
    assert imports.import_key(None) is None
    key = uuid.uuid4()
    assert imports.import_key(str(key).upper()) == str(key)
    with pytest.raises(LecError) as caught:
        imports.import_key("row-1")
    assert caught.value.code == "validation_error"
