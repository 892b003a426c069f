"""Reports end to end: learners through the real enrollment service,
confirmations through the real confirmation service, reports through the
gateway from the reporting service's read model (fed by the broker)."""
import json
import os
import random
import subprocess
import sys
import time
import uuid

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import create_engine, text

from services.common import settings
from services.common.hierarchy import path_ids
from tests.conftest import ROOT
from tests.system.confirmation_support import confirm, learner_body, revoke, set_headcount
from tests.system.enrollment_helpers import enrollment_rows
from tests.system.reporting_support import (
    XLSX, add_learner, csv_rows, export, remove_learner, report, rounds_of_a_year, row_starting,
    sheet_rows, wait_for, wait_until_reporting_is_idle, xlsx_book,
)

REPORTS = ("summary", "progress", "budget", "comparison")


@pytest.fixture
def idle(lec_env, system):
    """For the tests that time the read model: nothing earlier tests left queued
    may be counted against it (bulk changes leave a few events, not thousands,
    so the other tests need no such wait)."""
    wait_until_reporting_is_idle(lec_env["AMQP_URI"], timeout=60)


@pytest.fixture
def rnd(admin):
    return rounds_of_a_year(admin)[2]


def total_of(client, rid, unit_id):
    s = report(client, rid, "summary", unit_id)
    return s["learners"]["total"] + s["other_schools"]["total"]


@pytest.fixture
def owner(lec_env):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.context import system_context
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data=system_context("tests")) as proxy:
        yield proxy


# -- freshness --------------------------------------------------------------------------

def test_a_change_shows_in_the_summary(idle, tree, rnd):
    """Adds and removals reach the province's summary, pushed by events, without
    anyone asking. (How soon is measured by ``make bench-events``: its freshness
    figures, p50 and p95 in tens of milliseconds against the 2-second target.)"""
    t, rid = tree, rnd["id"]
    for step in range(3):
        before = report(t["province"], rid, "summary", t.id("province"))["learners"]["total"]
        learner = add_learner(t["school_a"], rid, t.id("school_a"), "p1")
        wait_for(lambda: report(t["province"], rid, "summary", t.id("province"))
                 ["learners"]["total"] == before + 1, timeout=20)
        remove_learner(t["school_a"], learner["id"])
        wait_for(lambda: report(t["province"], rid, "summary", t.id("province"))
                 ["learners"]["total"] == before, timeout=20)


def test_an_import_shows_in_the_summary_within_seconds_in_a_few_events(idle, tree, rnd):
    """4,000 rows through the gateway: enrollment announces them in four
    learners_added events (not 4,000 learner_added), and the reporting summary
    has all of them seconds after the import answers."""
    t, rid, rows = tree, rnd["id"], 4000
    grades = ["k1", "p1", "p2", "p3", "m1"]
    people = [dict(learner_body(grades[i % len(grades)]), sex="MF"[i % 2]) for i in range(rows)]
    body = "national_id,first_name,last_name,sex,birth_date,grade\n" + "".join(
        f"{p['national_id']},{p['first_name']},{p['last_name']},{p['sex']},{p['birth_date']},{p['grade']}\n"
        for p in people)
    before = report(t["province"], rid, "summary", t.id("province"))["learners"]["total"]
    r = t["school_a"].post(f"/rounds/{rid}/institutions/{t.id('school_a')}/learners/import",
                           data=body.encode(), headers={"Content-Type": "text/csv"}, timeout=120)
    assert r.status_code == 200 and r.json()["accepted"] == rows, r.text
    summary, _ = wait_for(lambda: (lambda s: s if s["learners"]["total"] == before + rows else None)(
        report(t["province"], rid, "summary", t.id("province"))), timeout=30, what="the imported learners")
    expected = {g: sum(1 for p in people if p["grade"] == g) for g in grades}
    assert summary["learners"]["by_grade"] == expected
    assert summary["learners"]["by_sex"] == {"M": rows // 2, "F": rows // 2}
    # about one event per thousand rows, none per learner
    published = enrollment_rows(
        "SELECT event_type, event_id::text AS event_id, jsonb_array_length(payload->'learners') AS n "
        "FROM outbox WHERE (payload->>'round_id')::bigint = :r", r=rid)
    assert sorted((e["event_type"], e["n"]) for e in published) == [("learners_added", 1000)] * 4
    # and reporting applied each of them once
    engine = create_engine(settings.database_url("reporting"))
    try:
        with engine.connect() as conn:
            applied = conn.execute(text("SELECT count(*) FROM inbox WHERE handler = 'on_learners_added' "
                                        "AND event_id::text = ANY(:ids)"),
                                   {"ids": [e["event_id"] for e in published]}).scalar_one()
    finally:
        engine.dispose()
    assert applied == 4


# -- the read model equals the owners' counts ----------------------------------------------

GRADES = {"school_a": ["k1", "k2", "p1", "p2", "p3", "m1"], "school_b": ["p1", "p2", "m1"], "cdc_a": ["cdc"]}
PARENT = {"school_a": "lao_a", "cdc_a": "lao_a", "school_b": "lao_b", "lao_a": "province",
          "lao_b": "province"}


def random_session(t, rid, rng, steps):
    """Adds, removals, headcounts, confirmations and revocations as users make them;
    a refusal (a confirmed unit is locked, a parent is confirmed ...) is part of the game."""
    active = {key: [] for key in GRADES}
    for _ in range(steps):
        roll = rng.random()
        key = rng.choice(list(GRADES))
        if roll < 0.5:
            r = t[key].post(f"/rounds/{rid}/institutions/{t.id(key)}/learners",
                            json={**learner_body(rng.choice(GRADES[key])), "sex": rng.choice("MF")})
            if r.status_code == 201:
                active[key].append(r.json()["id"])
            else:
                assert r.json()["code"] == "unit_confirmed", r.text
        elif roll < 0.65 and active[key]:
            lid = active[key].pop(rng.randrange(len(active[key])))
            r = t[key].delete(f"/learners/{lid}", params={"reason": "not_found"})
            if r.status_code != 204:
                assert r.json()["code"] == "unit_confirmed", r.text
                active[key].append(lid)
        elif roll < 0.75:
            r = t["lao_a"].put(f"/rounds/{rid}/institutions/{t.id('other_a')}/headcount",
                               json={"counts": {"p1": rng.randint(0, 40), "p2": rng.randint(0, 40)}})
            assert r.status_code in (200, 409), r.text
        elif roll < 0.9:
            unit = rng.choice(list(GRADES) + ["lao_a", "lao_b"])
            r = t[unit].post(f"/rounds/{rid}/confirmations/{t.id(unit)}")
            assert r.status_code in (200, 409), r.text
        else:
            unit = rng.choice(list(PARENT))
            r = t[PARENT[unit]].delete(f"/rounds/{rid}/confirmations/{t.id(unit)}",
                                       json={"reason": "แก้ไขข้อมูล"})
            assert r.status_code in (200, 409), r.text


def owners_view(owner, t, rid):
    """Live counts per institution and other school (enrollment) and every state (confirmation)."""
    leaves = ["school_a", "cdc_a", "school_b", "other_a"]
    counts = owner.enrollment.counts(rid, [t.id(k) for k in leaves])
    states = owner.confirmation.states(rid, [t.id(k) for k in ("province", "lao_a", "lao_b", "school_a",
                                                                "cdc_a", "school_b")])
    return {k: counts[str(t.id(k))] for k in leaves}, {k: v["state"] for k, v in states.items()}


def test_counts_equal_the_owners_after_a_random_session(tree, rnd, owner):
    t, rid = tree, rnd["id"]
    random_session(t, rid, random.Random(20261101), steps=45)
    counts, states = owners_view(owner, t, rid)
    expected = {key: counts[key]["total"] for key in counts}
    expected["lao_a"] = expected["school_a"] + expected["cdc_a"] + expected["other_a"]
    expected["lao_b"] = expected["school_b"]
    expected["province"] = expected["lao_a"] + expected["lao_b"]
    wait_for(lambda: total_of(t["province"], rid, t.id("province")) == expected["province"], timeout=10)
    for key, total in expected.items():
        s = report(t["province"], rid, "summary", t.id(key))
        assert s["learners"]["total"] + s["other_schools"]["total"] == total, key
        if key in ("school_a", "cdc_a", "school_b"):
            assert s["learners"]["by_grade"] == counts[key]["by_grade"], key
    assert report(t["province"], rid, "summary", t.id("other_a"))["other_schools"]["by_grade"] == \
        {g: n for g, n in counts["other_a"]["by_grade"].items() if n}
    progress = report(t["province"], rid, "progress", t.id("province"))
    for item in progress["items"]:
        assert item["state"] == states[str(item["unit"]["id"])], item
    lao = {i["unit"]["id"]: i for i in report(t["province"], rid, "progress", t.id("lao_a"))["items"]}
    for key in ("school_a", "cdc_a"):
        assert lao[t.id(key)]["state"] == states[str(t.id(key))]
        assert lao[t.id(key)]["counts"] == counts[key]
    # the operators' check agrees
    result = owner.reporting.check(rid)
    assert result["ok"], result


# -- budget, through the real confirmation chain ----------------------------------------------

def test_budget_counts_only_confirmed_schools(tree, rnd):
    t, rid = tree, rnd["id"]
    for grade in ["k1", "p1", "p2", "m1"]:           # 3 pupils with lunch and milk, one in m1
        add_learner(t["school_a"], rid, t.id("school_a"), grade)
    for _ in range(2):
        add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc")
    for _ in range(5):
        add_learner(t["school_b"], rid, t.id("school_b"), "p1")    # never confirmed
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 30, "p2": 11})
    confirm(t["school_a"], rid, t.id("school_a"))
    confirm(t["cdc_a"], rid, t.id("cdc_a"))
    confirm(t["lao_a"], rid, t.id("lao_a"))

    def ready():
        b = report(t["province"], rid, "budget", t.id("province"))
        return b if b["totals"]["all"]["units"] == 3 else None

    budget, _ = wait_for(ready, timeout=10)
    # progress rows name the account that confirmed (and its user id)
    rows = {i["unit"]["id"]: i for i in report(t["province"], rid, "progress", t.id("lao_a"))["items"]}
    for key in ("school_a", "cdc_a"):
        assert (rows[t.id(key)]["confirmed_by_username"], rows[t.id(key)]["confirmed_by"]) == \
            (t[key].user["username"], str(t[key].user["id"])), key
    assert rows[t.id("other_a")]["confirmed_by_username"] is None
    lines = {ln["unit"]["id"]: ln for ln in budget["lines"]}
    assert lines[t.id("school_a")]["lunch"] == 3 * 36 * 200
    assert lines[t.id("school_a")]["milk"] == pytest.approx(3 * 7.35 * 260)
    assert lines[t.id("cdc_a")]["lunch"] == 2 * 21 * 245
    other = lines[t.id("other_a")]
    assert (other["lunch_pupils"], other["lunch_rate"], other["lunch"]) == (41, 27.0, 41 * 27 * 200)
    assert t.id("school_b") not in lines
    assert [u["unit"]["id"] for u in budget["unconfirmed"]["items"]] == [t.id("school_b")]
    assert budget["unconfirmed"]["items"][0]["live_total"] == 5
    rows = {r["unit"]["id"]: r for r in budget["rows"]}
    assert rows[t.id("lao_a")]["lunch"] == 3 * 36 * 200 + 2 * 21 * 245 + 41 * 27 * 200
    assert t.id("lao_b") not in rows

    # a revocation takes the school out of the budget again
    revoke(t["province"], rid, t.id("lao_a"))
    revoke(t["lao_a"], rid, t.id("school_a"))
    budget, _ = wait_for(lambda: (lambda b: b if b["totals"]["all"]["units"] == 1 else None)(
        report(t["province"], rid, "budget", t.id("province"))), timeout=10)
    assert [ln["unit"]["id"] for ln in budget["lines"]] == [t.id("cdc_a")]
    assert {u["unit"]["id"] for u in budget["unconfirmed"]["items"]} == \
        {t.id("school_a"), t.id("school_b"), t.id("lao_a")}


# -- exports ----------------------------------------------------------------------------------

def test_exports_open_and_carry_the_numbers(tree, admin):
    made = rounds_of_a_year(admin, numbers=(1, 2))
    t, rid, r1 = tree, made[2]["id"], made[1]["id"]
    for grade in ["p1", "p1", "p2"]:
        add_learner(t["school_a"], rid, t.id("school_a"), grade, sex="F")
    add_learner(t["school_a"], rid, t.id("school_a"), "k1", sex="M")
    add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc", sex="M")
    add_learner(t["school_b"], r1, t.id("school_b"), "p1")
    confirm(t["school_a"], rid, t.id("school_a"))
    wait_for(lambda: report(t["province"], rid, "budget", t.id("province"))["totals"]["all"]["units"] == 1)
    prov, lao = t.id("province"), t.id("lao_a")
    base = f"/rounds/{rid}/reports"

    # summary: the grade x sex table
    rows = csv_rows(export(t["province"], f"{base}/summary", "text/csv", org_unit_id=prov))
    assert row_starting(rows, "ประถมศึกษาปีที่ 1") == ["ประถมศึกษาปีที่ 1", "0", "2", "2"]
    assert row_starting(rows, "อนุบาล 1") == ["อนุบาล 1", "1", "0", "1"]
    assert row_starting(rows, "รวม")[1:4] == ["2", "3", "5"]
    book = xlsx_book(export(t["province"], f"{base}/summary", XLSX, org_unit_id=prov))
    first = sheet_rows(book.worksheets[0])
    assert row_starting(first, "ประถมศึกษาปีที่ 1")[1:4] == [0, 2, 2]
    assert row_starting(first, "รวม")[1:4] == [2, 3, 5]

    # progress: one row per LAO with live totals
    rows = csv_rows(export(t["province"], f"{base}/progress", "text/csv", org_unit_id=prov))
    header = rows[0]
    total_col = header.index("จำนวนนักเรียน/เด็กเล็ก")
    lao_row = next(r for r in rows if len(r) > 2 and r[1] == t.units["lao_a"]["code"])
    assert lao_row[total_col] == "5"
    book = xlsx_book(export(t["province"], f"{base}/progress", XLSX, org_unit_id=prov))
    lao_row = next(r for r in sheet_rows(book.worksheets[0]) if r[1] == t.units["lao_a"]["code"])
    assert lao_row[total_col] == 5

    # budget: the confirmed school's line, amounts as numbers
    book = xlsx_book(export(t["province"], f"{base}/budget", XLSX, org_unit_id=lao))
    lines = next(ws for ws in book.worksheets if "รายสถานศึกษา" in ws.title)
    line = next(r for r in sheet_rows(lines) if r[1] == t.units["school_a"]["code"])
    assert 4 * 36 * 200 in line and pytest.approx(4 * 7.35 * 260) in line
    rows = csv_rows(export(t["province"], f"{base}/budget", "text/csv", org_unit_id=lao))
    line = next(r for r in rows if len(r) > 2 and r[1] == t.units["school_a"]["code"])
    assert "28800.0" in line or "28800" in line

    # comparison against round 1 of the same year: school_b dropped by one, lao_a rose by five
    data = report(t["province"], rid, "comparison", prov, against=r1)
    assert [(i["unit"]["id"], i["change"]) for i in data["items"]] == [(lao, 5), (t.id("lao_b"), -1)]
    assert [i["unit"]["id"] for i in data["largest_drops"]] == [t.id("lao_b")]
    rows = csv_rows(export(t["province"], f"{base}/comparison", "text/csv", org_unit_id=prov, against=r1))
    assert row_starting(rows, "1", t.units["lao_a"]["code"])[3:6] == ["0", "5", "5"]
    assert row_starting(rows, "2", t.units["lao_b"]["code"])[3:6] == ["1", "0", "-1"]
    # ?format= serves the same for plain download links, with a file name
    r = t["province"].get(f"{base}/summary", params={"org_unit_id": prov, "format": "xlsx"})
    assert r.status_code == 200 and r.headers["Content-Type"] == XLSX
    assert "attachment" in r.headers["Content-Disposition"] and ".xlsx" in r.headers["Content-Disposition"]


def test_province_forms(tree, rnd):
    t, rid = tree, rnd["id"]
    for grade, sex in [("k1", "M"), ("p1", "F"), ("p2", "F"), ("m1", "M")]:
        add_learner(t["school_a"], rid, t.id("school_a"), grade, sex=sex)
    add_learner(t["school_b"], rid, t.id("school_b"), "m4", birth_date="2010-05-01", sex="F")
    add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc", sex="M")                 # 3 years old
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 7, "p2": 8})
    wait_for(lambda: total_of(t["province"], rid, t.id("province")) == 6 + 15)
    prov = t.id("province")
    forms = t["province"].ok("GET", f"/rounds/{rid}/reports/forms")
    # the letter's enclosures 2-5 first, then the forms added since (the CDC staff form: 7)
    assert [f["enclosure"] for f in forms["items"]][:4] == [2, 3, 4, 5]
    assert {"key": "cdc-staff", "enclosure": 7} in [{"key": f["key"], "enclosure": f["enclosure"]}
                                                    for f in forms["items"]]

    def form(n):
        return t["province"].ok("GET", f"/rounds/{rid}/reports/forms/{n}", params={"org_unit_id": prov})

    # 2: LAO schools, pupils by level and sex
    f2 = form(2)
    cols = [c["key"] for c in f2["sections"][0]["columns"]]
    rows = {r[1]: dict(zip(cols, r)) for r in f2["sections"][0]["rows"]}
    a, b = rows[t.units["lao_a"]["code"]], rows[t.units["lao_b"]["code"]]
    assert (a["schools"], a["kindergarten_m"], a["primary_f"], a["lower_secondary_m"], a["all_t"]) == (1, 1, 2, 1, 4)
    assert (b["upper_secondary_f"], b["all_t"]) == (1, 1)
    assert "ปีการศึกษา" in f2["subtitle"][1] and str(t["province"].ok("GET", f"/rounds/{rid}")["academic_year"]) \
        in f2["subtitle"][1]
    # 3: LAOs providing education
    f3 = form(3)
    summary = dict(f3["sections"][0]["rows"])
    assert summary["องค์กรปกครองส่วนท้องถิ่นทั้งหมด"] == 2
    assert summary["  - มีทั้งโรงเรียนและศูนย์พัฒนาเด็กเล็ก"] == 1
    assert summary["อุดหนุนงบประมาณให้โรงเรียนสังกัดอื่น"] == 1
    # 4: other schools recorded
    f4 = form(4)
    cols = [c["key"] for c in f4["sections"][0]["columns"]]
    a = dict(zip(cols, f4["sections"][0]["rows"][0]))
    assert (a["schools"], a["recorded"], a["missing"], a["primary"], a["pupils"]) == (1, 1, 0, 15, 15)
    detail = f4["sections"][1]["rows"][0]
    assert detail[2] == t.units["other_a"]["code"] and detail[4] == "สพฐ." and detail[5] == 15
    # 5: CDC children by age at the census date
    f5 = form(5)
    cols = [c["key"] for c in f5["sections"][0]["columns"]]
    a = dict(zip(cols, f5["sections"][0]["rows"][0]))
    assert (a["cdcs"], a["age_3"], a["m"], a["t"]) == (1, 1, 1, 1)

    # printable: CSV with the Thai title, XLSX with print settings, HTML with print CSS
    path = f"/rounds/{rid}/reports/forms/2"
    rows = csv_rows(export(t["province"], path, "text/csv", org_unit_id=prov))
    assert rows[0] == ["สิ่งที่ส่งมาด้วย 2"] and rows[1][0].startswith("แบบรายงานข้อมูลทั่วไป")
    book = xlsx_book(export(t["province"], path, XLSX, org_unit_id=prov))
    ws = book.worksheets[0]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows and ws.merged_cells.ranges
    grid = sheet_rows(ws)
    lao_row = next(r for r in grid if r[1] == t.units["lao_a"]["code"])
    assert lao_row[3] == 1 and 4 in lao_row
    page = export(t["province"], path, "text/html", org_unit_id=prov).text
    assert "@page" in page and "landscape" in page and "แบบรายงานข้อมูลทั่วไป" in page and "ลงชื่อ" in page
    # a school is not a unit the forms are made for; an unknown enclosure does not exist
    r = t["school_a"].get(path)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert t["province"].get(f"/rounds/{rid}/reports/forms/9").json()["code"] == "not_found"


# -- access ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REPORTS + ("forms/2",))
def test_every_report_follows_the_hierarchy(admin, tree, name):
    made = rounds_of_a_year(admin, numbers=(1, 2))
    t, rid = tree, made[2]["id"]
    extra = {"against": made[1]["id"]} if name == "comparison" else {}
    path = f"/rounds/{rid}/reports/{name}"
    own = t["lao_a"].get(path, params=extra)                                    # own unit by default
    assert own.status_code in (200, 422), own.text
    if name != "forms/2":
        assert own.status_code == 200 and own.json()["org_unit"]["id"] == t.id("lao_a")
        below = t["lao_a"].get(path, params={"org_unit_id": t.id("school_a"), **extra})
        assert below.status_code == 200 and below.json()["org_unit"]["id"] == t.id("school_a")
    for outside in ("lao_b", "school_b", "province"):                         # sibling, cousin, ancestor
        r = t["lao_a"].get(path, params={"org_unit_id": t.id(outside), **extra})
        assert r.status_code in (403, 404) and r.json()["code"] in ("forbidden", "not_found"), r.text
        assert t.units[outside]["code"] not in r.text
        r = t["lao_a"].get(path, params={"org_unit_id": t.id(outside), "format": "csv", **extra})
        assert r.status_code in (403, 404)
    r = t["school_a"].get(path, params={"org_unit_id": t.id("cdc_a"), **extra})   # a sibling institution
    assert r.status_code in (403, 404)
    assert t["province"].get(path, params={"org_unit_id": t.id("school_b"), **extra}).status_code in (200, 422)
    assert admin.get(path, params={"org_unit_id": t.id("province"), **extra}).status_code == 200
    assert t["lao_a"].get(path, params={"org_unit_id": "x"}).status_code == 422
    assert t["lao_a"].get(f"/rounds/99999999/reports/{name}").status_code == 404
    r = t["lao_a"].get(path, params=extra, headers={"Accept": "application/pdf"})
    assert r.status_code == 406 and r.json()["code"] == "not_acceptable"
    assert t["lao_a"].get(path, params={"format": "pdf", **extra}).status_code == 422
    assert t["lao_a"].get(path, headers={"Authorization": ""}).status_code == 401


def test_comparison_rounds_and_years(admin, tree):
    made = rounds_of_a_year(admin, numbers=(1, 2), previous_year=True)
    t = tree
    r1, r2, last = made[1]["id"], made[2]["id"], made["previous_year"]["id"]
    for rid, n_a, n_b in ((last, 1, 6), (r1, 3, 4), (r2, 5, 1)):
        for _ in range(n_a):
            add_learner(t["school_a"], rid, t.id("school_a"), "p1")
        for _ in range(n_b):
            add_learner(t["school_b"], rid, t.id("school_b"), "p1")
    wait_for(lambda: total_of(t["province"], r2, t.id("province")) == 6
             and total_of(t["province"], last, t.id("province")) == 7)
    prov = t.id("province")
    # round 2 against round 1 (the default for a round 2)
    c = report(t["province"], r2, "comparison", prov)
    assert c["against"]["id"] == r1
    assert [(i["unit"]["id"], i["change"]) for i in c["items"]] == [(t.id("lao_b"), -3), (t.id("lao_a"), 2)]
    assert c["largest_drops"][0]["unit"]["id"] == t.id("lao_b")
    assert c["largest_rises"][0]["unit"]["id"] == t.id("lao_a")
    assert c["totals"] == {"current": 6, "against": 7, "change": -1, "change_pct": -14.3}
    # against the previous year, institution by institution
    c = report(t["province"], r2, "comparison", prov, against="previous_year", level="institutions")
    assert c["against"]["id"] == last
    assert [(i["unit"]["id"], i["change"]) for i in c["items"]][:2] == [(t.id("school_b"), -5),
                                                                        (t.id("school_a"), 4)]
    assert report(t["province"], r2, "comparison", prov, status=422, level="galaxy")["code"] == "validation_error"


# -- delivery through the broker ----------------------------------------------------------------

def test_redelivered_and_out_of_order_events_through_the_broker(lec_env, admin, tree):
    """Events as enrollment would send them, newest first and twice: the service applies each once."""
    t = tree
    rid = rounds_of_a_year(admin)[2]["id"]
    school = t.units["school_a"]
    learner_id = random.SystemRandom().randrange(10**12, 10**13)

    def event(version, status, grade):
        return {"event_id": str(uuid.uuid4()), "type": "learner_changed", "version": 1,
                "occurred_at": "2026-11-01T10:00:00+07:00", "round_id": rid,
                "learner": {"id": learner_id, "version": version,
                            "institution": {"id": school["id"], "type": "school", "path": school["path"]},
                            "grade": grade, "sex": "F", "id_kind": "g_code", "age_years": 7,
                            "status": status, "removal_reason": None}}

    v1, v2, v3 = event(1, "active", "p1"), event(2, "active", "p2"), event(3, "active", "p3")
    exchange = Exchange("enrollment.events", type="topic", durable=True)
    with Connection(lec_env["AMQP_URI"]) as conn:
        producer = Producer(conn)
        for body, key in ((v3, "learner_changed"), (v1, "learner_added"), (v3, "learner_changed"),
                          (v2, "learner_changed"), (v1, "learner_added")):
            producer.publish(body, exchange=exchange, routing_key=key, serializer="json",
                             declare=[exchange], delivery_mode=2)
    summary, _ = wait_for(lambda: (lambda s: s if s["learners"]["total"] == 1 else None)(
        report(t["school_a"], rid, "summary")), timeout=10)
    time.sleep(1.0)  # let every copy arrive
    summary = report(t["school_a"], rid, "summary")
    assert summary["learners"]["by_grade"] == {"p3": 1}
    assert summary["learners"]["by_id_kind"] == {"national_id": 0, "g_code": 1}


# -- rebuild and check ----------------------------------------------------------------------------

def _cli(lec_env, *args):
    env = dict(os.environ, **lec_env)
    return subprocess.run([sys.executable, "-m", "services.reporting.rebuild", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_rebuild_recomputes_the_read_model_and_check_compares_it(lec_env, tree, rnd, owner):
    t, rid = tree, rnd["id"]
    for grade in ["p1", "p2", "k3"]:
        add_learner(t["school_a"], rid, t.id("school_a"), grade)
    gone = add_learner(t["school_b"], rid, t.id("school_b"), "m2")
    add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc")
    remove_learner(t["school_b"], gone["id"])
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 9})
    confirm(t["school_a"], rid, t.id("school_a"))
    prov = t.id("province")
    wait_for(lambda: report(t["province"], rid, "progress", t.id("lao_a"))["confirmed"] == 1
             and total_of(t["province"], rid, prov) == 4 + 9)
    before = {name: report(t["province"], rid, name, prov) for name in ("summary", "progress", "budget")}

    engine = create_engine(settings.database_url("reporting"))
    try:
        with engine.begin() as conn:
            for table in ("rp_learners", "rp_learner_counts", "rp_headcounts", "rp_other_counts",
                          "rp_confirmations"):
                conn.execute(text(f"DELETE FROM {table} WHERE round_id = :r"), {"r": rid})
        assert total_of(t["province"], rid, prov) == 0
        broken = _cli(lec_env, "--check", "--round", str(rid))
        assert broken.returncode == 1, broken.stdout + broken.stderr
        found = json.loads(broken.stdout)
        assert not found["ok"] and {m["unit"]["id"] for m in found["mismatches"]} >= \
            {t.id("school_a"), t.id("cdc_a"), t.id("other_a")}

        done = _cli(lec_env, "--round", str(rid))
        assert done.returncode == 0, done.stdout + done.stderr
        rebuilt = json.loads(done.stdout)["rounds"][0]
        assert (rebuilt["round_id"], rebuilt["learners"], rebuilt["headcounts"]) == (rid, 5, 1)
        for name, data in before.items():
            assert report(t["province"], rid, name, prov) == data, name
        ok = _cli(lec_env, "--check", "--round", str(rid))
        assert ok.returncode == 0 and json.loads(ok.stdout)["ok"], ok.stdout + ok.stderr

        # a corrupted count is found by the check
        with engine.begin() as conn:
            conn.execute(text("UPDATE rp_learner_counts SET n = n + 1 WHERE round_id = :r AND unit_id = :u "
                              "AND n > 0"), {"r": rid, "u": t.id("cdc_a")})
        result = owner.reporting.check(rid)
        assert not result["ok"] and [m["unit"]["id"] for m in result["mismatches"]] == [t.id("cdc_a")]
        owner.reporting.rebuild(rid)
        assert owner.reporting.check(rid)["ok"]
    finally:
        engine.dispose()


def test_only_the_department_rebuilds(tree, rnd, lec_env):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.context import ACTOR_KEY, Actor
    from services.common.errors import LecError
    unit = tree.units["province"]
    actor = Actor(user_id=5, username="p", role="province", org_unit_id=unit["id"], path=unit["path"])
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data={ACTOR_KEY: actor.to_json()}) as proxy:
        for call in (lambda: proxy.reporting.rebuild(rnd["id"]), lambda: proxy.reporting.check(rnd["id"])):
            with pytest.raises(LecError) as err:
                call()
            assert err.value.code == "forbidden"


# -- documentation and portal ------------------------------------------------------------------------

def test_reports_are_in_the_openapi_document_and_the_portal(api):
    doc = api.get("/api/v1/openapi.json").json()
    for name in REPORTS + ("forms", "forms/{enclosure}"):
        op = doc["paths"][f"/rounds/{{id}}/reports/{name}"]["get"]
        assert op["security"] == [{"bearer": []}], name
    summary = doc["paths"]["/rounds/{id}/reports/summary"]["get"]
    content = summary["responses"]["200"]["content"]
    assert {"application/json", "text/csv", XLSX, "text/html"} <= set(content)
    assert {p["name"] for p in summary["parameters"]} >= {"id", "org_unit_id", "format"}
    assert '<script type="module" src="/static/app.js"></script>' in api.get("/").text
    assert 'from "./reports.js"' in api.get(api.base_url + "/static/pages/index.js").text
    script = api.get(api.base_url + "/static/pages/reports.js")
    assert script.status_code == 200 and 'id: "reports"' in script.text


def test_a_round_the_events_have_not_brought_yet_is_fetched_from_its_owner(tree, rnd):
    engine = create_engine(settings.database_url("reporting"))
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rp_rounds WHERE id = :r"), {"r": rnd["id"]})
        summary = report(tree["lao_a"], rnd["id"], "summary")
        assert summary["round"]["id"] == rnd["id"] and summary["round"]["state"] == "open"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT academic_year FROM rp_rounds WHERE id = :r"),
                                {"r": rnd["id"]}).scalar_one() == rnd["academic_year"]
    finally:
        engine.dispose()
    assert tree["lao_a"].get("/rounds/987654321/reports/summary").json()["code"] == "not_found"


# -- the event benchmark ---------------------------------------------------------------------------

def test_the_event_benchmark_measures_both_ways(lec_env, tree):
    """bench.report.events at a small size against this system: each way pushes its
    learners in the events it says, and the read model counts every one of them."""
    from bench.report import events as bench
    school = tree.units["school_a"]
    round_id = random.SystemRandom().randrange(10**9, 2 * 10**9)
    results = [bench.measure(lec_env["AMQP_URI"], way, round_id + i, school, 1500, timeout=60)
               for i, way in enumerate(bench.WAYS)]
    assert [(r["way"], r["learners"], r["events"]) for r in results] == \
        [("single", 1500, 1500), ("batched", 1500, 2)]
    assert all(r["seconds"] > 0 for r in results)
    engine = create_engine(settings.database_url("reporting"))
    try:
        with engine.connect() as conn:
            for i in range(len(results)):
                counts = dict(conn.execute(text(
                    "SELECT unit_id, sum(n) FROM rp_learner_counts WHERE round_id = :r GROUP BY unit_id"),
                    {"r": round_id + i}).all())
                assert counts == {u: 1500 for u in path_ids(school["path"])}
    finally:
        engine.dispose()
