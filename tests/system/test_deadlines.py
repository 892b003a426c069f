"""Deadlines per level through the gateway: each level confirms by its own
deadline (institution <= LAO <= province, the department until finalised),
extensions per level, the automatic extension after a revocation at or after
a unit's deadline (and none before it), and the order of the deadlines."""
import datetime as dt
import json
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.client import CHECKS_OFF, Tree
from tests.events import EventCollector
from tests.system.confirmation_support import (
    conf_path, confirm, new_round, now_bkk, post_learner, refused, revoke,
)

HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def t(admin):
    return Tree.build(admin)


def at(instant):
    return instant.replace(microsecond=0)


def wait_past(instant, margin=0.2):
    remaining = (instant - now_bkk()).total_seconds() + margin
    if remaining > 0:
        time.sleep(remaining)


def window(client, rid, unit_id=None, level=None):
    params = {k: v for k, v in (("org_unit_id", unit_id), ("level", level)) if v is not None}
    return client.ok("GET", f"/rounds/{rid}/window", params=params)


def instant(text):
    return dt.datetime.fromisoformat(text)


def test_each_level_confirms_by_its_own_deadline(admin, t):
    start = now_bkk()
    inst, lao, prov = at(start) + dt.timedelta(seconds=6), at(start) + dt.timedelta(seconds=9), \
        at(start) + dt.timedelta(seconds=12)
    r = new_round(admin, opens_at=(start - 48 * HOUR).isoformat(), closes_at=inst.isoformat(),
                  deadlines={"lao": lao.isoformat(), "province": prov.isoformat()})
    rid = r["id"]
    assert {k: instant(v) for k, v in r["deadlines"].items() if v} == {
        "institution": inst, "lao": lao, "province": prov}
    assert r["deadlines"]["department"] is None
    # each user's window answers for their own level
    assert instant(window(t["school_b"], rid)["closes_at"]) == inst
    w = window(t["lao_b"], rid)
    assert w["level"] == "lao" and instant(w["closes_at"]) == lao and w["open"] is True
    assert instant(window(t["province"], rid)["closes_at"]) == prov
    assert window(t["province"], rid, level="lao")["level"] == "lao"
    assert window(t["province"], rid, t.id("school_a"))["level"] == "institution"
    dept = window(admin, rid)
    # the department's: open until finalised, showing the provinces' deadline (no date of its own)
    assert dept["level"] == "department" and instant(dept["closes_at"]) == prov and dept["open"] is True
    assert t["school_a"].get(f"/rounds/{rid}/window", params={"level": "ministry"}).status_code == 422

    for key in ("school_a", "cdc_a"):
        confirm(t[key], rid, t.id(key))

    # past the institutions' deadline: a school can no longer confirm, its LAO still can
    wait_past(inst)
    body = refused(t["school_b"].post(conf_path(rid, t.id("school_b"))), "round_not_open")
    assert body["window"]["state"] == "closed" and instant(body["window"]["closes_at"]) == inst
    assert confirm(t["lao_a"], rid, t.id("lao_a"))["state"] == "confirmed"
    refused(t["province"].post(conf_path(rid, t.id("province"))), "children_not_confirmed")

    # past the LAOs' deadline: the LAO is refused, the province is still inside its window
    wait_past(lao)
    body = refused(t["lao_b"].post(conf_path(rid, t.id("lao_b"))), "round_not_open")
    assert instant(body["window"]["closes_at"]) == lao
    refused(t["province"].post(conf_path(rid, t.id("province"))), "children_not_confirmed")
    assert window(t["province"], rid)["open"] is True

    # past the province's deadline: closed for it too; the department confirms until finalised
    wait_past(prov)
    body = refused(t["province"].post(conf_path(rid, t.id("province"))), "round_not_open")
    assert instant(body["window"]["closes_at"]) == prov
    refused(admin.post(conf_path(rid, admin.user["org_unit_id"])), "children_not_confirmed")
    assert window(admin, rid)["state"] == "open"


def test_extensions_per_level(admin, t):
    now = now_bkk()
    closes = at(now) - 2 * HOUR  # institutions and LAOs closed; the province's default a day after
    r = new_round(admin, opens_at=(now - 72 * HOUR).isoformat(), closes_at=closes.isoformat())
    rid, path = r["id"], f"/rounds/{r['id']}/extensions"
    assert instant(r["deadlines"]["lao"]) == closes
    assert instant(r["deadlines"]["province"]) == closes + 24 * HOUR
    later = at(now) + 2 * HOUR

    # an extension ends after its level's deadline, and names a level that has one
    for bad in ({"level": "province", "closes_at": later.isoformat()},
                {"level": "lao", "closes_at": (closes - HOUR).isoformat()},
                {"level": "department", "closes_at": later.isoformat()},
                {"level": "", "closes_at": later.isoformat()}):
        resp = t["province"].post(path, dict(bad, org_unit_id=t.id("lao_a")))
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == "validation_error"

    # the LAO level of lao_a: the LAO may confirm, its institutions may not
    ext = t["province"].ok("POST", path, 201, json={"org_unit_id": t.id("lao_a"), "level": "lao",
                                                    "closes_at": later.isoformat()})
    assert ext["level"] == "lao" and ext["automatic"] is False
    w = window(t["lao_a"], rid)
    assert w["open"] is True and w["extended"] is True and instant(w["closes_at"]) == later
    assert window(t["lao_a"], rid, level="institution")["open"] is False
    refused(t["school_a"].post(conf_path(rid, t.id("school_a"))), "round_not_open")

    # the institution level of school_b: the school may confirm, its LAO may not
    admin.ok("POST", path, 201, json={"org_unit_id": t.id("school_b"), "level": "institution",
                                      "closes_at": later.isoformat()})
    assert confirm(t["school_b"], rid, t.id("school_b"))["state"] == "confirmed"
    refused(t["lao_b"].post(conf_path(rid, t.id("lao_b"))), "round_not_open")

    # every level (no level): a second extension of the same unit, beside the LAO one
    every = admin.ok("POST", path, 201, json={"org_unit_id": t.id("lao_a"),
                                              "closes_at": (later + HOUR).isoformat()})
    assert every["level"] is None
    assert window(t["school_a"], rid)["open"] is True
    assert instant(window(t["lao_a"], rid)["closes_at"]) == later + HOUR
    # granting the same unit and level again replaces it
    admin.ok("POST", path, 201, json={"org_unit_id": t.id("lao_a"), "level": "lao",
                                      "closes_at": (later + 3 * HOUR).isoformat()})
    items = [e for e in t["province"].ok("GET", path)["items"] if e["org_unit_id"] == t.id("lao_a")]
    assert sorted((e["level"] or "", instant(e["closes_at"])) for e in items) == [
        ("", later + HOUR), ("lao", later + 3 * HOUR)]
    # the school sees the extensions above it with their levels
    seen = {(e["org_unit_id"], e["level"]) for e in t["school_a"].ok("GET", path)["items"]}
    assert seen == {(t.id("lao_a"), "lao"), (t.id("lao_a"), None)}


def test_a_revocation_after_the_deadline_extends_the_unit_automatically(admin, t, lec_env):
    collector = EventCollector(lec_env["AMQP_URI"], "rounds", ["extension_granted"])
    try:
        start = now_bkk()
        inst = at(start) + dt.timedelta(seconds=6)
        r = new_round(admin, opens_at=(start - 48 * HOUR).isoformat(), closes_at=inst.isoformat(),
                      settings=dict(CHECKS_OFF, requests={"revocation_extension_hours": 2}))
        rid, path = r["id"], f"/rounds/{r['id']}/extensions"
        assert r["settings"]["requests"] == {"transfer_escalation_hours": 48, "revocation_extension_hours": 2}
        for key in ("school_a", "cdc_a", "school_b"):
            confirm(t[key], rid, t.id(key))
        # revoked before the deadline: no extension (the school confirms again in time)
        revoke(t["lao_b"], rid, t.id("school_b"), "แก้ไขก่อนกำหนด")
        wait_past(inst)
        # revoked after it: the school gets the round's hours from the revocation
        revoke(t["lao_a"], rid, t.id("school_a"), "แก้ไขหลังกำหนด")
        revoked_at = now_bkk()
        event = collector.wait_for(lambda e: e["round_id"] == rid, 20)
        ext = event["extension"]
        assert ext["org_unit_id"] == t.id("school_a") and ext["level"] == "institution"
        assert ext["automatic"] is True
        closes = instant(ext["closes_at"])
        assert revoked_at - dt.timedelta(seconds=5) + 2 * HOUR <= closes <= revoked_at + 2 * HOUR
        items = admin.ok("GET", path)["items"]
        assert [(e["org_unit_id"], e["level"], e["automatic"]) for e in items] == [
            (t.id("school_a"), "institution", True)]
        # the school is open again, by the extension; its neighbours are not
        w = window(t["school_a"], rid)
        assert w["open"] is True and w["extended"] is True
        assert window(t["cdc_a"], rid)["open"] is False
        refused(t["school_b"].post(conf_path(rid, t.id("school_b"))), "round_not_open")
        assert confirm(t["school_a"], rid, t.id("school_a"))["state"] == "confirmed"
        # a second revocation inside the extension neither shortens nor adds one
        revoke(t["lao_a"], rid, t.id("school_a"), "แก้ไขอีกครั้ง")
        collector.drain(2)
        assert [e for e in collector.events if e["round_id"] == rid] == [event]
        again = admin.ok("GET", path)["items"]
        assert [(e["org_unit_id"], instant(e["closes_at"])) for e in again] == [(t.id("school_a"), closes)]
        # audited
        audit = admin.ok("GET", "/audit", params={"service": "rounds", "entity": "round", "entity_id": rid})
        assert any(a["action"] == "extend" and a["details"].get("automatic") for a in audit["items"])
    finally:
        collector.close()


@pytest.mark.parametrize("deadlines,field", [
    ({"lao": "2099-11-29"}, "lao"),                                   # before the institutions'
    ({"lao": "2099-12-05", "province": "2099-12-04"}, "province"),    # before the LAOs'
    ({"department": "2099-11-30T23:00:00+07:00"}, "department"),     # before the provinces' default
    ({"province": "soon"}, "province"),
    ({"ministry": "2099-12-30"}, "ministry"),
])
def test_deadlines_out_of_order_are_refused(admin, deadlines, field):
    body = {"academic_year": 2561, "number": 1, "census_date": "2099-11-01", "opens_at": "2099-10-01",
            "closes_at": "2099-11-30", "deadlines": deadlines}
    resp = admin.post("/rounds", body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "validation_error"
    assert field in resp.json()["errors"]["deadlines"]


def test_deadlines_change_and_defaults_follow_closes_at(admin, t, lec_env):
    r = new_round(admin, closes_at="2099-11-30")
    rid = r["id"]
    assert r["deadlines"] == {"institution": "2099-12-01T00:00:00+07:00", "lao": "2099-12-01T00:00:00+07:00",
                              "province": "2099-12-02T00:00:00+07:00", "department": None}
    changed = admin.ok("PATCH", f"/rounds/{rid}", json={"deadlines": {"lao": "2099-12-03",
                                                                       "department": "2099-12-20"}})
    assert changed["deadlines"] == {"institution": "2099-12-01T00:00:00+07:00",
                                    "lao": "2099-12-04T00:00:00+07:00", "province": "2099-12-05T00:00:00+07:00",
                                    "department": "2099-12-21T00:00:00+07:00"}
    # moving the institutions' deadline past the LAOs' is refused, and nothing changes
    resp = admin.patch(f"/rounds/{rid}", {"closes_at": "2099-12-10"})
    assert resp.status_code == 422 and "lao" in resp.json()["errors"]["deadlines"]
    resp = admin.patch(f"/rounds/{rid}", {"deadlines": {"province": "2099-12-02"}})
    assert resp.status_code == 422 and "province" in resp.json()["errors"]["deadlines"]
    assert admin.ok("GET", f"/rounds/{rid}")["deadlines"] == changed["deadlines"]
    # null returns a level to its default, which follows closes_at
    collector = EventCollector(lec_env["AMQP_URI"], "rounds", ["round_changed"])
    try:
        back = admin.ok("PATCH", f"/rounds/{rid}", json={"closes_at": "2099-11-25", "deadlines": {"lao": None}})
        assert back["deadlines"]["lao"] == back["closes_at"] == "2099-11-26T00:00:00+07:00"
        assert back["deadlines"]["province"] == "2099-11-27T00:00:00+07:00"
        assert back["deadlines"]["department"] == "2099-12-21T00:00:00+07:00"
        event = collector.wait_for(lambda e: e["round"]["id"] == rid)
        assert event["round"]["deadlines"] == back["deadlines"]
    finally:
        collector.close()
    # only the department sets deadlines
    resp = t["province"].patch(f"/rounds/{rid}", {"deadlines": {"province": "2099-12-30"}})
    assert resp.status_code == 403


# what a window is read with (other reads, such as the checks' get_round, are not the edit's)
WINDOW_READS = ("window", "windows", "round_and_window", "calendar")


def rounds_reads(system):
    """{method: calls} of the window reads the rounds service has answered so far (its /metrics)."""
    path = system.heartbeat_file("rounds")
    port = json.loads(path.read_text())["ops_port"]
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {s.labels["method"]: s.value for f in text_string_to_metric_families(text)
            if f.name == "lec_rpc_duration_seconds" for s in f.samples
            if s.name.endswith("_count") and s.labels.get("method") in WINDOW_READS}


def test_an_extension_reaches_the_edit_check_by_its_event_without_a_call_to_rounds(admin, t, system, lec_env):
    start = now_bkk()
    closes = at(start) + dt.timedelta(seconds=4)
    r = new_round(admin, opens_at=(start - 48 * HOUR).isoformat(), closes_at=closes.isoformat())
    rid, school = r["id"], t.id("school_a")
    assert post_learner(t["school_a"], rid, school, "p1").status_code == 201  # enrollment reads the round
    wait_past(closes)
    refused(post_learner(t["school_a"], rid, school, "p1"), "round_not_open")
    collector = EventCollector(lec_env["AMQP_URI"], "rounds", ["extension_granted"])
    try:
        later = at(now_bkk()) + 2 * HOUR
        t["province"].ok("POST", f"/rounds/{rid}/extensions", 201,
                         json={"org_unit_id": t.id("lao_a"), "level": "institution", "closes_at": later.isoformat()})
        collector.wait_for(lambda e: e["round_id"] == rid, 20)
    finally:
        collector.close()
    time.sleep(1.0)  # enrollment's own copy of the event, delivered beside the collector's
    before = rounds_reads(system)
    added = post_learner(t["school_a"], rid, school, "p2")
    assert added.status_code == 201, added.text
    fixed = t["school_a"].patch(f"/learners/{added.json()['id']}", json={"last_name": "แก้ไขแล้ว"})
    assert fixed.status_code == 200, fixed.text
    assert rounds_reads(system) == before  # the window came from enrollment's calendar
    # outside the extended subtree the round stays closed
    refused(post_learner(t["school_b"], rid, t.id("school_b"), "p1"), "round_not_open")
