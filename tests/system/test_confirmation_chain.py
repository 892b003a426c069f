"""Confirmation through the gateway and the broker: the chain school -> LAO ->
province with sealed counts and agency events, every refusal, revocation
unwound from the top, idempotent retries, races, views and the audit trail."""
import concurrent.futures as cf
import datetime as dt

import pytest

from tests.events import EventCollector
from tests.system.confirmation_support import (
    add_learner, add_learners, assert_valid_event, by_grade, conf_path, confirm, new_round,
    now_bkk, post_learner, put_headcount, refused, revoke, set_headcount,
)

KEYS = ["unit_confirmed", "unit_revoked", "round_finalized"]


@pytest.fixture
def events(lec_env):
    collector = EventCollector(lec_env["AMQP_URI"], "confirmation", KEYS)
    yield collector
    collector.close()


@pytest.fixture
def rnd(admin):
    return new_round(admin)


def of_unit(events, event_type, unit_id):
    return [e for e in events if e["type"] == event_type and e["org_unit"]["id"] == unit_id]


def wait_events(collector, event_type, unit_ids, timeout=20):
    """Every listed unit's event arrived; returns the first of each (by unit id)."""
    for unit_id in unit_ids:
        collector.wait_for(lambda e, u=unit_id: e["type"] == event_type and e["org_unit"]["id"] == u,
                           timeout)
    return {u: of_unit(collector.events, event_type, u)[0] for u in unit_ids}


def test_the_chain_school_lao_province_seals_counts_and_tells_agencies(admin, tree, rnd, events):
    t, rid = tree, rnd["id"]
    grades = {"school_a": ["p1", "p1", "p2"], "cdc_a": ["cdc", "cdc"], "school_b": ["m1"]}
    for key, gs in grades.items():
        add_learners(t[key], rid, t.id(key), gs)
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 10, "p2": 5})

    status = t["lao_a"].ok("GET", conf_path(rid, t.id("lao_a")))
    assert status["state"] == "open" and status["children"]["total"] == 2
    assert status["pending"] == sorted([t.id("school_a"), t.id("cdc_a")])
    assert status["other_schools"]["total"] == 15  # live headcounts before the seal

    # the LAO waits for every active institution under it
    body = refused(t["lao_a"].post(conf_path(rid, t.id("lao_a"))), "children_not_confirmed")
    assert body["pending"] == sorted([t.id("school_a"), t.id("cdc_a")])

    school = confirm(t["school_a"], rid, t.id("school_a"))
    assert school["state"] == "confirmed" and school["counts_source"] == "sealed"
    assert school["counts"] == {"total": 3, "by_grade": {"p1": 2, "p2": 1}}
    assert school["confirmed_by"] == t["school_a"].user["id"]
    assert dt.datetime.fromisoformat(school["confirmed_at"]) <= now_bkk()
    # sealed: the learners cannot change under the confirmation
    refused(post_learner(t["school_a"], rid, t.id("school_a"), "p1"), "unit_confirmed")

    body = refused(t["lao_a"].post(conf_path(rid, t.id("lao_a"))), "children_not_confirmed")
    assert body["pending"] == [t.id("cdc_a")]
    confirm(t["cdc_a"], rid, t.id("cdc_a"))
    lao = confirm(t["lao_a"], rid, t.id("lao_a"))
    assert lao["counts"] == {"total": 5, "by_grade": {"cdc": 2, "p1": 2, "p2": 1}}
    assert lao["other_schools"]["total"] == 15
    assert [s["id"] for s in lao["other_schools"]["schools"]] == [t.id("other_a")]
    assert lao["children"] == {"total": 2, "confirmed": 2, "pending": [], "items": lao["children"]["items"]}
    # the LAO's seal holds its other-affiliation headcounts
    refused(put_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 11}), "unit_confirmed")

    body = refused(t["province"].post(conf_path(rid, t.id("province"))), "children_not_confirmed")
    assert body["pending"] == [t.id("lao_b")]
    confirm(t["school_b"], rid, t.id("school_b"))
    confirm(t["lao_b"], rid, t.id("lao_b"))
    province = confirm(t["province"], rid, t.id("province"))
    assert province["counts"] == {"total": 6, "by_grade": {"cdc": 2, "m1": 1, "p1": 2, "p2": 1}}
    assert province["other_schools"] == {"total": 15, "by_grade": {"p1": 10, "p2": 5}}
    assert province["children"]["confirmed"] == 2

    # every level read its progress; the department sees the province confirmed
    seen = admin.ok("GET", conf_path(rid, t.id("province")))
    assert seen["state"] == "confirmed" and seen["counts"]["total"] == 6

    # the agencies heard of each confirmation, after it committed, in the documented shape
    units = ["school_a", "cdc_a", "lao_a", "school_b", "lao_b", "province"]
    got = wait_events(events, "unit_confirmed", [t.id(k) for k in units])
    for key in units:
        event = got[t.id(key)]
        assert_valid_event(event)
        assert event["round"] == {"id": rid, "academic_year": rnd["academic_year"], "number": rnd["number"]}
        assert event["org_unit"] == {"id": t.id(key), "code": t.units[key]["code"],
                                     "type": t.units[key]["type"], "path": t.units[key]["path"]}
        assert event["version"] == 1 and event["confirmed_by"] == t[key].user["id"]
        assert event["confirmed_by_username"] == t[key].user["username"]
        assert event["confirmation_version"] >= 1
        assert "national_id" not in str(event) and "actor" not in event
    assert got[t.id("school_a")]["counts"] == school["counts"]
    assert got[t.id("lao_a")]["other_schools"]["schools"][0]["counts"]["total"] == 15
    assert got[t.id("province")]["counts"]["total"] == 6
    assert not [e for e in events.drain(0.3) if e["type"] != "unit_confirmed"
                and e["org_unit"]["path"].startswith(t.units["province"]["path"])]

    # the audit trail: who, when, counts
    trail = t["lao_a"].ok("GET", conf_path(rid, t.id("school_a")) + "/history")["items"]
    entry = next(e for e in trail if e["action"] == "confirm")
    assert entry["actor_id"] == t["school_a"].user["id"]
    assert entry["details"]["counts"] == school["counts"] and entry["at"]


def test_every_refusal_has_its_code(admin, tree, rnd):
    t, rid = tree, rnd["id"]
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
    # only the unit's own users confirm it
    refused(t["province"].post(conf_path(rid, t.id("lao_a"))), "forbidden", 403)
    refused(t["lao_a"].post(conf_path(rid, t.id("school_a"))), "forbidden", 403)
    refused(admin.post(conf_path(rid, t.id("province"))), "forbidden", 403)
    # outside one's subtree a unit does not exist
    refused(t["lao_b"].get(conf_path(rid, t.id("school_a"))), "not_found", 404)
    refused(t["school_a"].get(conf_path(rid, t.id("cdc_a"))), "not_found", 404)
    # a unit above is seen only as its state (docs/confirmation.md, seeing upward)
    assert set(t["school_a"].ok("GET", conf_path(rid, t.id("lao_a")))) == {
        "unit_id", "state", "confirmed_at", "confirmed_by", "confirmed_by_name"}
    refused(t["lao_b"].delete(conf_path(rid, t.id("school_a")), json={"reason": "ผิด"}), "not_found", 404)
    refused(t["school_a"].post(conf_path(99999999, t.id("school_a"))), "not_found", 404)
    assert t["school_a"].post(conf_path(rid, 99999999)).status_code == 404
    r = t["school_a"].session.post(t["school_a"].url(conf_path(rid, t.id("school_a"))),
                                   headers={"Authorization": ""})
    refused(r, "unauthorized", 401)
    # an institution never revokes itself; a revocation needs a reason
    refused(t["school_a"].delete(conf_path(rid, t.id("school_a")), json={"reason": "แก้ไข"}),
            "forbidden", 403)
    confirm(t["school_a"], rid, t.id("school_a"))
    body = refused(t["lao_a"].delete(conf_path(rid, t.id("school_a"))), "validation_error", 422)
    assert "reason" in body["errors"]
    refused(t["lao_a"].delete(conf_path(rid, t.id("school_a")), json={"reason": 7}), "validation_error", 422)
    refused(t["school_a"].post(conf_path(rid, t.id("school_a"))), "already_confirmed")
    refused(t["lao_a"].delete(conf_path(rid, t.id("cdc_a")), json={"reason": "แก้ไข"}), "not_confirmed")
    refused(t["lao_a"].post(conf_path(rid, t.id("lao_a"))), "children_not_confirmed")
    confirm(t["cdc_a"], rid, t.id("cdc_a"))
    confirm(t["lao_a"], rid, t.id("lao_a"))
    # nothing changes beneath a confirmed unit: revoking a child, or a newcomer confirming
    refused(t["province"].delete(conf_path(rid, t.id("school_a")), json={"reason": "แก้ไข"}),
            "parent_confirmed")
    t.unit("school_new", "school", "lao_a")
    t.account("school_new")
    refused(t["school_new"].post(conf_path(rid, t.id("school_new"))), "parent_confirmed")
    # the LAO itself cannot withdraw its own confirmation: the province does
    refused(t["lao_a"].delete(conf_path(rid, t.id("lao_a")), json={"reason": "แก้ไข"}), "forbidden", 403)
    revoke(t["province"], rid, t.id("lao_a"), "ข้อมูลไม่ครบ")
    refused(t["lao_a"].post(conf_path(rid, t.id("lao_a"))), "children_not_confirmed")
    # a pending institution neither confirms nor blocks
    pending = t["lao_a"].ok("POST", "/org-units", 201, json={
        "code": f"P{t.id('school_new')}x", "name": "โรงเรียนรอตรวจสอบ", "type": "school",
        "parent_id": t.id("lao_a")})
    assert pending["status"] == "pending"
    confirm(t["school_new"], rid, t.id("school_new"))
    lao = confirm(t["lao_a"], rid, t.id("lao_a"))
    assert pending["id"] not in lao["pending"]
    item = next(c for c in lao["children"]["items"] if c["id"] == pending["id"])
    assert item["blocking"] is False and item["status"] == "pending"


def test_windows_close_institutions_and_laos_but_not_provinces(admin, tree, rnd):
    t, rid = tree, rnd["id"]
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
    scheduled = new_round(admin, opens_at="2098-01-01", closes_at="2098-02-01")
    body = refused(t["school_a"].post(conf_path(scheduled["id"], t.id("school_a"))), "round_not_open")
    assert body["window"]["state"] == "scheduled"
    # the round closes; lao_a's subtree has an extension, lao_b's a short one
    past = (now_bkk() - dt.timedelta(minutes=1)).isoformat()
    admin.ok("PATCH", f"/rounds/{rid}", json={"closes_at": past})
    admin.ok("POST", f"/rounds/{rid}/extensions", 201, json={
        "org_unit_id": t.id("lao_a"), "closes_at": (now_bkk() + dt.timedelta(hours=1)).isoformat()})
    soon = now_bkk() + dt.timedelta(seconds=6)
    admin.ok("POST", f"/rounds/{rid}/extensions", 201, json={
        "org_unit_id": t.id("lao_b"), "closes_at": soon.isoformat()})
    for key in ("school_a", "cdc_a", "lao_a", "school_b", "lao_b"):
        confirm(t[key], rid, t.id(key))
    revoke(t["province"], rid, t.id("lao_b"), "ขอตรวจสอบอีกครั้ง")
    while now_bkk() < soon + dt.timedelta(seconds=0.5):
        pass
    # lao_b's extension has run out: it cannot confirm again, its province still can't
    body = refused(t["lao_b"].post(conf_path(rid, t.id("lao_b"))), "round_not_open")
    assert body["window"]["extended"] is True
    refused(t["province"].post(conf_path(rid, t.id("province"))), "children_not_confirmed")
    # with lao_b's extension renewed the chain completes; the province confirms after the close
    admin.ok("POST", f"/rounds/{rid}/extensions", 201, json={
        "org_unit_id": t.id("lao_b"), "closes_at": (now_bkk() + dt.timedelta(seconds=4)).isoformat()})
    confirm(t["lao_b"], rid, t.id("lao_b"))
    # the LAOs' deadline has passed; the province's (a day after it by default) has not
    assert t["province"].ok("GET", f"/rounds/{rid}/window", params={"level": "lao"})["state"] == "closed"
    assert t["province"].ok("GET", f"/rounds/{rid}/window")["state"] == "open"
    assert confirm(t["province"], rid, t.id("province"))["state"] == "confirmed"


def test_revocation_is_unwound_from_the_top(admin, tree, rnd, events):
    t, rid = tree, rnd["id"]
    add_learners(t["school_b"], rid, t.id("school_b"), ["p1", "p2"])
    for key in ("school_a", "cdc_a", "lao_a", "school_b", "lao_b", "province"):
        confirm(t[key], rid, t.id(key))
    # school_b wants to add a learner: its LAO cannot revoke it while the LAO is confirmed ...
    refused(t["lao_b"].delete(conf_path(rid, t.id("school_b")), json={"reason": "เพิ่มนักเรียนย้ายเข้า"}),
            "parent_confirmed")
    # ... and the province cannot revoke the LAO while the province is confirmed
    refused(t["province"].delete(conf_path(rid, t.id("lao_b")), json={"reason": "แก้ไข"}),
            "parent_confirmed")
    # so it is unwound from the top: department -> province -> LAO -> school
    gone = revoke(admin, rid, t.id("province"), "จังหวัดขอแก้ไข")
    assert gone["state"] == "open" and gone["revoke_reason"] == "จังหวัดขอแก้ไข"
    revoke(t["province"], rid, t.id("lao_b"), "อปท. ขอแก้ไข")
    r = t["lao_b"].delete(conf_path(rid, t.id("school_b")), params={"reason": "นักเรียนย้ายเข้า"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "open" and r.json()["saga"] is None
    # unsealed: the school edits and confirms again with the new count
    add_learner(t["school_b"], rid, t.id("school_b"), "p3")
    assert confirm(t["school_b"], rid, t.id("school_b"))["counts"]["total"] == 3
    assert confirm(t["lao_b"], rid, t.id("lao_b"))["counts"]["total"] == 3
    assert confirm(t["province"], rid, t.id("province"))["counts"]["total"] == 3

    revoked = wait_events(events, "unit_revoked", [t.id("province"), t.id("lao_b"), t.id("school_b")])
    for unit_id, reason in ((t.id("province"), "จังหวัดขอแก้ไข"), (t.id("school_b"), "นักเรียนย้ายเข้า")):
        assert revoked[unit_id]["reason"] == reason
        assert_valid_event(revoked[unit_id])
    assert revoked[t.id("school_b")]["counts"]["total"] == 2  # the counts withdrawn
    assert revoked[t.id("province")]["revoked_by"] == admin.user["id"]
    events.wait_for(lambda e: e["type"] == "unit_confirmed" and e["org_unit"]["id"] == t.id("province")
                    and e["counts"]["total"] == 3)
    # the order agencies see for school_b: confirmed (2), revoked, confirmed (3), each with a
    # higher confirmation_version than the one before (the order to trust when messages overtake)
    for key in ("school_b", "lao_b", "province"):
        mine = [e for e in events.events if e["org_unit"]["id"] == t.id(key)]
        assert [e["type"] for e in mine] == ["unit_confirmed", "unit_revoked", "unit_confirmed"], key
        versions = [e["confirmation_version"] for e in mine]
        assert versions == sorted(set(versions)) and versions[0] >= 1, (key, versions)
        # a revocation repeats who confirmed what it withdraws
        assert [e["confirmed_by_username"] for e in mine] == [t[key].user["username"]] * 3, key
    seq = [(e["type"], e["counts"]["total"]) for e in events.events if e["org_unit"]["id"] == t.id("school_b")]
    assert seq == [("unit_confirmed", 2), ("unit_revoked", 2), ("unit_confirmed", 3)]
    final = t["lao_b"].ok("GET", conf_path(rid, t.id("school_b")))
    assert final["version"] == [e for e in events.events if e["org_unit"]["id"] == t.id("school_b")][-1][
        "confirmation_version"]
    trail = t["lao_b"].ok("GET", conf_path(rid, t.id("school_b")) + "/history")["items"]
    entry = next(e for e in trail if e["action"] == "revoke")
    assert entry["actor_id"] == t["lao_b"].user["id"] and entry["details"]["reason"] == "นักเรียนย้ายเข้า"
    assert entry["details"]["counts"]["total"] == 2
    assert [e["action"] for e in trail][:2] == ["confirm", "unsealed"]


def test_retries_with_an_idempotency_key_do_not_act_twice(tree, rnd, events):
    t, rid = tree, rnd["id"]
    add_learners(t["school_a"], rid, t.id("school_a"), ["k1", "k2"])
    first = confirm(t["school_a"], rid, t.id("school_a"), headers={"Idempotency-Key": "c-1"})
    again = confirm(t["school_a"], rid, t.id("school_a"), headers={"Idempotency-Key": "c-1"})
    assert again == first
    refused(t["school_a"].post(conf_path(rid, t.id("school_a"))), "already_confirmed")
    refused(t["school_a"].post(conf_path(rid, t.id("cdc_a")), headers={"Idempotency-Key": "c-1"}),
            "not_found", 404)
    r1 = revoke(t["lao_a"], rid, t.id("school_a"), headers={"Idempotency-Key": "r-1"})
    r2 = revoke(t["lao_a"], rid, t.id("school_a"), headers={"Idempotency-Key": "r-1"})
    assert r1["revoked_at"] == r2["revoked_at"] and r2["state"] == "open"
    refused(t["lao_a"].delete(conf_path(rid, t.id("school_a")), json={"reason": "อีกครั้ง"}), "not_confirmed")
    # the same key for something else is a conflict, not a replay
    refused(t["lao_a"].delete(conf_path(rid, t.id("cdc_a")), json={"reason": "อีกครั้ง"},
                              headers={"Idempotency-Key": "r-1"}), "conflict")
    events.wait_for(lambda e: e["type"] == "unit_revoked" and e["org_unit"]["id"] == t.id("school_a"))
    mine = [e for e in events.drain(1.0) if e["org_unit"]["id"] == t.id("school_a")]
    assert [e["type"] for e in mine] == ["unit_confirmed", "unit_revoked"]


def test_concurrent_confirms_of_one_unit_act_once(tree, rnd, events):
    t, rid = tree, rnd["id"]
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"] * 3)
    with cf.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: t["cdc_a"].post(conf_path(rid, t.id("cdc_a"))), range(8)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code != 200} <= {"already_confirmed", "conflict"}
    events.wait_for(lambda e: e["org_unit"]["id"] == t.id("cdc_a"))
    assert len({e["event_id"] for e in events.drain(1.0) if e["org_unit"]["id"] == t.id("cdc_a")}) == 1
    trail = t["lao_a"].ok("GET", conf_path(rid, t.id("cdc_a")) + "/history")["items"]
    assert [e["action"] for e in trail].count("confirm") == 1


def test_a_confirmation_racing_edits_seals_exactly_the_learners(tree, rnd):
    t, rid = tree, rnd["id"]
    client, iid = t["school_a"], t.id("school_a")
    add_learners(client, rid, iid, ["p1"] * 3)

    def edit(_):
        r = post_learner(client, rid, iid, "p2")
        return r.status_code, (r.json() or {}).get("code")

    with cf.ThreadPoolExecutor(6) as pool:
        edits = [pool.submit(edit, i) for i in range(12)]
        confirmed = pool.submit(confirm, client, rid, iid)
        results = [f.result() for f in edits]
        counts = confirmed.result()["counts"]
    assert {r for r in results if r[0] != 201} <= {(409, "unit_confirmed")}
    landed = sum(1 for r in results if r[0] == 201)
    listed = client.ok("GET", f"/rounds/{rid}/institutions/{iid}/learners", params={"limit": 1000})
    assert counts["total"] == listed["total"] == 3 + landed
    assert counts["by_grade"] == by_grade(["p1"] * 3 + ["p2"] * landed)


def test_a_confirm_racing_a_revoke_ends_consistent(admin, tree, rnd):
    """The LAO confirms while the province revokes one of its schools, many times:
    never an LAO confirmed above an open school, never an open school sealed."""
    t, rid = tree, rnd["id"]
    for key in ("school_a", "cdc_a"):
        confirm(t[key], rid, t.id(key))
    outcomes = set()
    for i in range(6):
        with cf.ThreadPoolExecutor(2) as pool:
            lao = pool.submit(t["lao_a"].post, conf_path(rid, t.id("lao_a")))
            rev = pool.submit(t["province"].delete, conf_path(rid, t.id("cdc_a")), json={"reason": f"รอบ {i}"})
            lao, rev = lao.result(), rev.result()
        lao_state = t["province"].ok("GET", conf_path(rid, t.id("lao_a")))["state"]
        cdc_state = t["province"].ok("GET", conf_path(rid, t.id("cdc_a")))["state"]
        outcomes.add((lao.status_code, rev.status_code))
        assert not (lao_state == "confirmed" and cdc_state != "confirmed")
        assert (lao.status_code == 200) == (lao_state == "confirmed")
        assert (rev.status_code == 200) == (cdc_state == "open")
        if cdc_state == "open":  # unsealed: an edit lands
            add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc")
        else:
            refused(post_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc"), "unit_confirmed")
        # back to the start: LAO open, the CDC confirmed
        if lao_state == "confirmed":
            revoke(t["province"], rid, t.id("lao_a"))
        if cdc_state == "open":
            confirm(t["cdc_a"], rid, t.id("cdc_a"))
    assert outcomes <= {(200, 409), (409, 200)}


def test_status_views_follow_the_hierarchy(admin, tree, rnd):
    t, rid = tree, rnd["id"]
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p3"])
    live = t["school_a"].ok("GET", conf_path(rid, t.id("school_a")))
    assert live == {**live, "unit_id": t.id("school_a"), "state": "open", "counts_source": "live",
                    "confirmed_at": None, "confirmed_by": None,
                    "counts": {"total": 2, "by_grade": {"p1": 1, "p3": 1}},
                    "children": {"total": 0, "confirmed": 0, "pending": [], "items": []}}
    for who in ("lao_a", "province"):
        assert t[who].ok("GET", conf_path(rid, t.id("school_a")))["counts"]["total"] == 2
    assert admin.ok("GET", conf_path(rid, t.id("school_a")))["unit"]["path"] == t.units["school_a"]["path"]
    confirm(t["school_a"], rid, t.id("school_a"))
    prov = t["province"].ok("GET", conf_path(rid, t.id("province")))
    assert prov["children"] == {"total": 2, "confirmed": 0, "pending": sorted([t.id("lao_a"), t.id("lao_b")]),
                                "items": prov["children"]["items"]}
    lao = t["lao_a"].ok("GET", conf_path(rid, t.id("lao_a")))
    assert lao["children"]["confirmed"] == 1 and lao["pending"] == [t.id("cdc_a")]
    assert lao["counts"] == {"total": 2, "by_grade": {"p1": 1, "p3": 1}} and lao["counts_source"] == "children"
    item = next(c for c in lao["children"]["items"] if c["id"] == t.id("school_a"))
    assert item["state"] == "confirmed" and item["total"] == 2 and item["name"]
    # institutions and other LAOs see nothing above or beside them
    refused(t["cdc_a"].get(conf_path(rid, t.id("school_a"))), "not_found", 404)
    refused(t["school_b"].get(conf_path(rid, t.id("lao_a")) + "/history"), "not_found", 404)


def test_the_gateway_documents_and_serves_confirmation(api):
    doc = api.get("/api/v1/openapi.json").json()
    ops = doc["paths"]["/rounds/{id}/confirmations/{unit_id}"]
    assert set(ops) == {"get", "post", "delete"}
    assert ops["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Status")
    assert {"reason"} <= {p["name"] for p in ops["delete"]["parameters"]}
    assert "get" in doc["paths"]["/rounds/{id}/confirmations/{unit_id}/history"]
    assert '<script type="module" src="/static/app.js"></script>' in api.get("/").text
    pages = api.get(api.base_url + "/static/pages/index.js")
    assert pages.status_code == 200 and 'from "./children.js"' in pages.text and 'from "./confirm.js"' in pages.text
    for name in ("children", "confirm"):
        assert api.get(api.base_url + f"/static/pages/{name}.js").status_code == 200, name
