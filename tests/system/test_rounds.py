"""Rounds: create, read, deadlines, extensions, state at the deadline's edges, events."""
import datetime as dt
import time

import pytest

from tests.client import Tree, academic_year
from tests.events import EventCollector

BKK = dt.timezone(dt.timedelta(hours=7))


def new_round(admin, **over):
    body = {"academic_year": academic_year(), "number": 1, "census_date": "2026-06-10",
            "opens_at": "2026-06-01", "closes_at": "2099-06-30"}
    body.update(over)
    return admin.ok("POST", "/rounds", 201, json=body)


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), Tree.build(admin)


def test_round_create_read_and_defaults(admin, world):
    t, _ = world
    r = new_round(admin)
    assert r["state"] == "open"
    assert r["closes_at"] == "2099-07-01T00:00:00+07:00"  # the deadline day closes at its midnight
    assert r["opens_at"] == "2026-06-01T00:00:00+07:00"
    s = r["settings"]
    assert s["cdc_age"] == {"min_years": 2, "max_years": 5}
    assert [t_["rate"] for t_ in s["lunch"]["school"]["tiers"]] == [36, 27, 24, 22]
    assert s["lunch"]["school"]["days"] == 200 and s["milk"]["school"]["days"] == 260
    assert s["milk"]["school"]["price_per_pack"] == 7.35
    # every level reads rounds
    for role in ("province", "lao_a", "school_a"):
        assert t[role].ok("GET", f"/rounds/{r['id']}")["id"] == r["id"]
        assert r["id"] in {x["id"] for x in t[role].ok("GET", "/rounds", params={"limit": 1000})["items"]}
    assert admin.get("/rounds/99999999").status_code == 404


def test_only_the_department_creates_and_changes_rounds(admin, world):
    t, _ = world
    body = {"academic_year": academic_year(), "number": 2, "census_date": "2026-11-10",
            "opens_at": "2026-11-01", "closes_at": "2026-11-30"}
    for role in ("province", "lao_a", "school_a"):
        r = t[role].post("/rounds", body)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    created = admin.ok("POST", "/rounds", 201, json=body)
    r = admin.post("/rounds", body)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert t["province"].patch(f"/rounds/{created['id']}", {"closes_at": "2026-12-31"}).status_code == 403
    changed = admin.ok("PATCH", f"/rounds/{created['id']}", json={"closes_at": "2026-12-31T17:00:00+07:00"})
    assert changed["closes_at"] == "2026-12-31T17:00:00+07:00"


@pytest.mark.parametrize("body,field", [
    ({"academic_year": 2023}, "academic_year"),
    ({"number": 3}, "number"),
    ({"opens_at": "2026-07-01", "closes_at": "2026-06-01"}, "closes_at"),
    ({"closes_at": "next tuesday"}, "closes_at"),
    ({"settings": {"cdc_age": {"min_years": 5, "max_years": 2}}}, "settings"),
    ({"settings": {"lunch": {"school": {"tiers": [{"min_pupils": 1, "max_pupils": 40, "rate": 36}]}}}}, "settings"),
    ({"settings": {"milk": {"school": {"grades": ["p1", "z9"]}}}}, "settings"),
])
def test_round_validation(admin, body, field):
    full = {"academic_year": academic_year(), "number": 1, "census_date": "2026-06-10",
            "opens_at": "2026-06-01", "closes_at": "2026-06-30"}
    full.update(body)
    r = admin.post("/rounds", full)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert field in r.json()["errors"]


def test_settings_are_per_round(admin):
    r = new_round(admin, settings={"milk": {"school": {"price_per_pack": 8.59}},
                                   "lunch": {"cdc": {"rate": 25}}})
    assert r["settings"]["milk"]["school"]["price_per_pack"] == 8.59
    assert r["settings"]["lunch"]["cdc"]["rate"] == 25
    assert r["settings"]["lunch"]["school"]["days"] == 200  # the rest keeps its defaults


def test_extension_gives_one_subtree_a_later_deadline(admin, world):
    t, other = world
    now = dt.datetime.now(BKK)
    # closed for every level: the provinces' default deadline is a day after the LAOs'
    r = new_round(admin, opens_at=(now - dt.timedelta(days=4)).isoformat(),
                  closes_at=(now - dt.timedelta(days=2)).isoformat())
    assert r["state"] == "closed"
    later = (now + dt.timedelta(days=5)).replace(microsecond=0).isoformat()
    path = f"/rounds/{r['id']}/extensions"
    # scope: a province for its own subtree only; LAOs and institutions cannot
    assert t["province"].post(path, {"org_unit_id": other.id("lao_a"), "closes_at": later}).status_code == 404
    assert t["lao_a"].post(path, {"org_unit_id": t.id("lao_a"), "closes_at": later}).status_code == 403
    assert t["school_a"].post(path, {"org_unit_id": t.id("school_a"), "closes_at": later}).status_code in (403, 404)
    r2 = t["province"].post(path, {"org_unit_id": t.id("lao_a"), "closes_at": "2000-01-01"})
    assert r2.status_code == 422  # an extension must end after the deadline
    ext = t["province"].ok("POST", path, 201, json={"org_unit_id": t.id("lao_a"), "closes_at": later})
    assert ext["org_unit_id"] == t.id("lao_a")

    def window(client, unit_key, tree=t):
        return client.ok("GET", f"/rounds/{r['id']}/window", params={"org_unit_id": tree.id(unit_key)})

    w = window(t["school_a"], "school_a")
    assert w["open"] is True and w["extended"] is True and w["state"] == "open"
    assert window(t["lao_a"], "lao_a")["open"] is True
    assert window(t["lao_b"], "lao_b")["open"] is False          # the sibling LAO stays closed
    assert window(t["school_b"], "school_b")["state"] == "closed"
    assert window(other["school_a"], "school_a", other)["open"] is False
    assert window(t["province"], "province")["open"] is False     # the extension is below it
    # the department may extend anything
    admin.ok("POST", path, 201, json={"org_unit_id": other.id("province"), "closes_at": later})
    assert window(other["school_a"], "school_a", other)["open"] is True


def test_round_state_at_the_deadline_edges_and_events(admin, lec_env, world):
    t, _ = world
    collector = EventCollector(lec_env["AMQP_URI"], "rounds", ["round_opened", "round_closed"])
    try:
        now = dt.datetime.now(BKK)
        closes_at = (now + dt.timedelta(seconds=4)).replace(microsecond=0) + dt.timedelta(seconds=1)
        r = new_round(admin, opens_at=(now - dt.timedelta(hours=1)).isoformat(),
                      closes_at=closes_at.isoformat())
        collector.wait_for(lambda e: e["type"] == "round_opened" and e["round"]["id"] == r["id"])
        # an instant before closes_at: open
        while dt.datetime.now(BKK) < closes_at - dt.timedelta(seconds=1.5):
            time.sleep(0.1)
        before = t["school_a"].ok("GET", f"/rounds/{r['id']}/window")
        assert before["open"] is True and before["state"] == "open"
        assert admin.ok("GET", f"/rounds/{r['id']}")["state"] == "open"
        # an instant after: closed, and the service announced it by itself
        while dt.datetime.now(BKK) < closes_at + dt.timedelta(seconds=0.2):
            time.sleep(0.05)
        after = t["school_a"].ok("GET", f"/rounds/{r['id']}/window")
        assert after["open"] is False and after["state"] == "closed"
        event = collector.wait_for(lambda e: e["type"] == "round_closed" and e["round"]["id"] == r["id"])
        assert event["round"]["state"] == "closed"
        assert event["event_id"] and event["version"] == 1
        # moving the deadline re-opens it and is announced again
        admin.ok("PATCH", f"/rounds/{r['id']}", json={"closes_at": "2099-01-01"})
        assert t["school_a"].ok("GET", f"/rounds/{r['id']}/window")["open"] is True
        reopened = [e for e in collector.drain(2.5) if e["type"] == "round_opened" and e["round"]["id"] == r["id"]]
        assert len(reopened) == 2
    finally:
        collector.close()
