"""Deadline reminders: 72, 24 and 3 hours before each level's deadline, each unit
not confirmed is reminded once (two ticks at the same moment, ticks again and a
restart of the reporting service send nothing twice), only the smallest of the
thresholds passed at once is sent, an extension (a new deadline) starts new
reminders; ``deadline_approaching`` on ``reporting.events`` as the AsyncAPI
document describes it; ``GET /me/notices`` lists them."""
import datetime as dt
import threading

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.context import system_context
from tests.events import EventCollector
from tests.system.confirmation_support import assert_valid_event, confirm, wait_until
from tests.system.enrollment_helpers import learner, learners_url, new_round

BKK = dt.timezone(dt.timedelta(hours=7))


def remind(system):
    with ClusterRpcProxy({"AMQP_URI": system.env["AMQP_URI"]}, timeout=30,
                         context_data=system_context("tests")) as proxy:
        return proxy.reporting.remind()["sent"]


def reporting_up(system):
    def answers():
        try:
            with ClusterRpcProxy({"AMQP_URI": system.env["AMQP_URI"]}, timeout=3,
                                 context_data=system_context("tests")) as proxy:
                return proxy.reporting.health()["ok"]
        except Exception:
            return False
    return wait_until(answers, 60, 0.5, "the reporting service answering")


def at(value):
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def reminders(lec_env):
    events = EventCollector(lec_env["AMQP_URI"], "reporting", ["deadline_approaching"])
    yield events
    events.close()


def mine(collector, r, unit_ids, seconds=1.0):
    collector.drain(seconds)
    return [e for e in collector.events if e["round"]["id"] == r["id"] and e["org_unit"]["id"] in unit_ids]


def test_each_unit_not_confirmed_is_reminded_once_per_deadline(system, admin, tree, reminders):
    t = tree
    r = new_round(admin)
    confirm(t["school_b"], r["id"], t.id("school_b"))
    ids = {t.id(k): k for k in ("province", "lao_a", "lao_b", "school_a", "cdc_a", "school_b")}
    # the deadline two hours away: every threshold of the institutions and LAOs is passed at
    # once (only the 3-hour reminder goes); the province's is a day later (26 h: the 72-hour one)
    closes = (dt.datetime.now(BKK) + dt.timedelta(hours=2)).replace(microsecond=0)
    r = admin.ok("PATCH", f"/rounds/{r['id']}", json={"closes_at": closes.isoformat()})
    assert at(r["deadlines"]["province"]) == closes + dt.timedelta(days=1)

    def ticks():
        remind(system)
        return {e["org_unit"]["id"] for e in mine(reminders, r, ids, 0.3)} >= set(ids) - {t.id("school_b")}
    wait_until(ticks, 30, 0.5, "the reminders of the tree's units")
    # two ticks at once, as two replicas would run them
    threads = [threading.Thread(target=remind, args=(system,)) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    remind(system)
    # the service restarted (its timer ticks at once on start): still nothing sent twice
    system.stop_process("reporting")
    system.start_service("reporting")
    reporting_up(system)
    remind(system)

    events = mine(reminders, r, ids, 2.0)
    by_unit = {}
    for event in events:
        assert_valid_event(event)
        by_unit.setdefault(event["org_unit"]["id"], []).append(event)
    assert t.id("school_b") not in by_unit, "a unit confirmed is not reminded"
    assert {ids[u]: len(e) for u, e in by_unit.items()} == {k: 1 for k in ids.values() if k != "school_b"}
    for unit_id, (event,) in by_unit.items():
        key = ids[unit_id]
        level = {"province": "province", "lao_a": "lao", "lao_b": "lao"}.get(key, "institution")
        assert event["level"] == level and event["org_unit"]["path"] == t.units[key]["path"]
        assert event["round"] == {"id": r["id"], "academic_year": r["academic_year"], "number": r["number"]}
        assert at(event["deadline"]) == at(r["deadlines"][level])
        assert event["hours_before"] == (72 if key == "province" else 3), event

    # the notices of the units: their reminder while the deadline is ahead
    notices = t["school_a"].ok("GET", "/me/notices", params={"round_id": r["id"]})
    deadline = [n for n in notices["items"] if n["kind"] == "deadline"]
    assert [(n["unit_id"], n["hours_before"], n["page"]) for n in deadline] == [(t.id("school_a"), 3, "confirm")]
    assert notices["total"] == len(notices["items"])
    assert not [n for n in t["school_b"].ok("GET", "/me/notices", params={"round_id": r["id"]})["items"]
                if n["kind"] == "deadline"]

    # LAO a's subtree gets 30 more hours: a new deadline, new reminders (72 h passed, not 24)
    later = closes + dt.timedelta(hours=30)
    admin.ok("POST", f"/rounds/{r['id']}/extensions", 201,
             json={"org_unit_id": t.id("lao_a"), "closes_at": later.isoformat()})
    extended = {t.id(k) for k in ("lao_a", "school_a", "cdc_a")}

    def new_ones():
        remind(system)
        return len([e for e in mine(reminders, r, extended, 0.3) if at(e["deadline"]) == later]) >= 3
    wait_until(new_ones, 30, 0.5, "the reminders of the new deadline")
    remind(system)
    fresh = [e for e in mine(reminders, r, ids, 1.0) if at(e["deadline"]) == later]
    assert sorted((e["org_unit"]["id"], e["hours_before"]) for e in fresh) == sorted((u, 72) for u in extended)
    # the notice follows the unit's deadline now: the one about the old deadline is gone
    deadline = [n for n in t["school_a"].ok("GET", "/me/notices", params={"round_id": r["id"]})["items"]
                if n["kind"] == "deadline"]
    assert [(n["hours_before"], at(n["deadline"])) for n in deadline] == [(72, later)]


def test_notices_list_what_waits_for_the_unit(admin, tree):
    t = tree
    r = new_round(admin)
    child = learner()
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    made = t["school_b"].ok("POST", f"/rounds/{r['id']}/transfers", 201,
                            json={"national_id": child["national_id"], "to_institution_id": t.id("school_b")})
    notices = t["school_a"].ok("GET", "/me/notices", params={"round_id": r["id"]})
    transfers = [n for n in notices["items"] if n["page"] == "transfers"]
    assert [(n["kind"], n["ref_id"], n["unit_id"], n["round_id"]) for n in transfers] == \
        [("transfer", made["id"], t.id("school_a"), r["id"])]
    # the receiver has nothing to answer; another round's notices are not this round's
    assert not [n for n in t["school_b"].ok("GET", "/me/notices", params={"round_id": r["id"]})["items"]
                if n["page"] == "transfers"]
    other = new_round(admin)
    assert t["school_a"].ok("GET", "/me/notices", params={"round_id": other["id"]})["items"] == []
    assert t["school_a"].get("/me/notices", params={"round_id": "x"}).status_code == 422
    # the newest first
    every = t["school_a"].ok("GET", "/me/notices")["items"]
    stamps = [at(n["at"]) for n in every if n["at"]]
    assert stamps == sorted(stamps, reverse=True)
