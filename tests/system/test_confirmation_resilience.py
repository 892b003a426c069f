"""Confirmation under failure, on a system of its own (own vhost and databases):
the department finalising the round, the service killed between seal and
record, a revocation cut short, and the broker failing in a burst of
confirmations while an agency's durable queue listens."""
import datetime as dt
import os
import threading
import time
import uuid

import pytest
from kombu import Connection, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from services.common.context import system_context
from tests.client import Client, Tree
from tests.conftest import ADMIN
from tests.events import EventCollector
from tests.system.confirmation_support import (
    add_learners, assert_valid_event, conf_path, confirm, new_round, post_learner, rabbitmqctl, refused,
    start_isolated_system, vhost_of, wait_until,
)

KEYS = ["unit_confirmed", "unit_revoked", "round_finalized"]


@pytest.fixture(scope="module")
def iso(lec_env):
    system = start_isolated_system(lec_env, "iso", "isolated")
    yield system
    system.stop()


@pytest.fixture(scope="module")
def iso_admin(iso):
    return Client(iso.url).login(*ADMIN)


@pytest.fixture
def itree(iso_admin):
    return Tree.build(iso_admin)


@pytest.fixture
def rid(iso_admin):
    return new_round(iso_admin)["id"]


@pytest.fixture
def collector(iso):
    events = EventCollector(iso.amqp_uri, "confirmation", KEYS)
    yield events
    events.close()


def enrollment_seals(iso, rid, unit_ids):
    with ClusterRpcProxy({"AMQP_URI": iso.amqp_uri}, timeout=20, context_data=system_context("tests")) as proxy:
        return proxy.enrollment.seal_state(rid, list(unit_ids))


def db_row(iso, rid, unit_id):
    engine = create_engine(iso.db_urls["confirmation"])
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT state, saga_id, saga_owner FROM confirmations "
                                     "WHERE round_id = :r AND unit_id = :u"), {"r": rid, "u": unit_id}).first()
    finally:
        engine.dispose()


def confirmation_up(iso):
    def answers():
        try:
            with ClusterRpcProxy({"AMQP_URI": iso.amqp_uri}, timeout=3,
                                 context_data=system_context("tests")) as proxy:
                return proxy.confirmation.health()["ok"]
        except Exception:
            return False
    return wait_until(answers, 60, 0.5, "the confirmation service answering")


def restart_confirmation(iso, env=None):
    iso.stop_process("confirmation")
    iso.start_service("confirmation", env=env)
    confirmation_up(iso)


def in_background(fn, *args, **kwargs):
    result = {}

    def run():
        try:
            result["response"] = fn(*args, **kwargs)
        except Exception as exc:  # the request may die with the service
            result["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def crash(iso, env_value, fn, *args, **kwargs):
    """Run ``fn`` against a confirmation service that dies at crash point ``env_value``."""
    restart_confirmation(iso, env={"LEC_CRASHPOINT": env_value})
    proc = iso.procs["confirmation"]
    thread, result = in_background(fn, *args, **kwargs)
    assert proc.wait(timeout=60) == 137, "the service did not reach its crash point"
    iso.kill("confirmation")
    return thread, result


def close_other_provinces(admin, keep):
    """Close every other province of this isolated world (leaves first), so that
    the department waits for ``keep`` only: closed units do not block."""
    dept = admin.user["org_unit_id"]
    today = dt.date.today().isoformat()

    def children(unit_id):
        return admin.ok("GET", f"/org-units/{unit_id}/children", params={"limit": 1000})["items"]

    def close(unit):
        for child in children(unit["id"]):
            close(child)
        if unit["status"] != "closed":
            admin.ok("POST", f"/org-units/{unit['id']}/close", json={"closed_on": today})

    for province in children(dept):
        if province["id"] != keep and province["status"] != "closed":
            close(province)


def test_the_department_finalises_the_round(iso, iso_admin, itree, rid, collector):
    t = itree
    close_other_provinces(iso_admin, keep=t.id("province"))
    dept = iso_admin.user["org_unit_id"]
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p2"])
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    for key in ("school_a", "cdc_a", "lao_a", "school_b", "lao_b"):
        confirm(t[key], rid, t.id(key))
    body = refused(iso_admin.post(conf_path(rid, dept)), "children_not_confirmed")
    assert body["pending"] == [t.id("province")]
    confirm(t["province"], rid, t.id("province"))
    final = confirm(iso_admin, rid, dept)
    assert final["state"] == "confirmed" and final["counts"]["total"] == 3
    assert final["children"] == {"total": 1, "confirmed": 1, "pending": [], "items": final["children"]["items"]}

    finalized = collector.wait_for(lambda e: e["type"] == "round_finalized" and e["round"]["id"] == rid)
    assert_valid_event(finalized)
    assert finalized["org_unit"]["id"] == dept and finalized["counts"]["total"] == 3
    dept_confirmed = collector.wait_for(lambda e: e["type"] == "unit_confirmed" and e["org_unit"]["id"] == dept)
    assert dept_confirmed["event_id"] != finalized["event_id"]
    # the rounds service heard it: the round is finalized, and nothing moves any more
    wait_until(lambda: iso_admin.ok("GET", f"/rounds/{rid}")["state"] == "finalized", 20, what="finalized")
    refused(iso_admin.delete(conf_path(rid, dept), json={"reason": "ยกเลิก"}), "forbidden", 403)
    refused(iso_admin.delete(conf_path(rid, t.id("province")), json={"reason": "ยกเลิก"}), "parent_confirmed")
    t.unit("late", "school", "lao_b")
    t.account("late")
    body = refused(t["late"].post(conf_path(rid, t.id("late"))), "round_not_open")
    assert body["window"]["state"] == "finalized"


def test_a_crash_between_seal_and_record_converges_to_confirmed(iso, itree, rid, collector):
    """The request is still in the broker when the service comes back: it is
    delivered again and completes the confirmation it began (the seal being
    idempotent, the counts are those sealed, equal to the learners)."""
    t = itree
    sid = t.id("school_a")
    add_learners(t["school_a"], rid, sid, ["p1", "p1", "p2"])
    thread, result = crash(iso, "after_seal", t["school_a"].post, conf_path(rid, sid), timeout=90)
    # half done: sealed in enrollment, not recorded here
    assert enrollment_seals(iso, rid, [sid])[str(sid)]["sealed"] is True
    assert db_row(iso, rid, sid).state == "sealing"
    iso.start_service("confirmation")
    status = wait_until(lambda: (lambda s: s if s.get("state") == "confirmed" else None)(
        t["lao_a"].get(conf_path(rid, sid)).json()), 60, what="confirmed")
    assert status["counts"] == {"total": 3, "by_grade": {"p1": 2, "p2": 1}} and status["saga"] is None
    seal = enrollment_seals(iso, rid, [sid])[str(sid)]
    assert seal["sealed"] is True and seal["counts"]["total"] == 3
    refused(post_learner(t["school_a"], rid, sid, "p1"), "unit_confirmed")
    event = collector.wait_for(lambda e: e["type"] == "unit_confirmed" and e["org_unit"]["id"] == sid, 30)
    assert event["counts"] == status["counts"]
    copies = [e for e in collector.drain(1.0) if e["org_unit"]["id"] == sid]
    assert {e["event_id"] for e in copies} == {event["event_id"]}
    trail = [e["action"] for e in t["lao_a"].ok("GET", conf_path(rid, sid) + "/history")["items"]]
    assert trail.count("confirm") == 1
    assert "saga_adopted" in trail or "confirm_compensated" in trail
    thread.join(60)
    if "response" in result:  # the redelivered request answered the waiting gateway
        assert result["response"].status_code in (200, 503)


def test_a_crash_with_the_request_lost_is_unwound_by_the_reconciler(iso, itree, rid, collector):
    """The request is gone (purged while the service was down): nothing will
    finish it, so the reconciler compensates: unsealed, open, no event."""
    t = itree
    sid = t.id("cdc_a")
    add_learners(t["cdc_a"], rid, sid, ["cdc", "cdc"])
    crash(iso, "after_seal", t["cdc_a"].post, conf_path(rid, sid), timeout=90)
    rabbitmqctl("purge_queue", "-p", vhost_of(iso.amqp_uri), "rpc-confirmation")
    assert enrollment_seals(iso, rid, [sid])[str(sid)]["sealed"] is True
    assert db_row(iso, rid, sid).state == "sealing"
    iso.start_service("confirmation")
    confirmation_up(iso)
    wait_until(lambda: db_row(iso, rid, sid).state == "open", 30, what="unwound")
    status = t["cdc_a"].ok("GET", conf_path(rid, sid))
    assert status["state"] == "open" and status["saga"] is None
    assert enrollment_seals(iso, rid, [sid])[str(sid)]["sealed"] is False
    trail = [e["action"] for e in t["lao_a"].ok("GET", conf_path(rid, sid) + "/history")["items"]]
    assert trail == ["confirm_compensated"]
    assert not [e for e in collector.drain(1.5) if e["org_unit"]["id"] == sid]
    # cleanly open: the CDC edits and confirms, the counts are its learners now
    add_learners(t["cdc_a"], rid, sid, ["cdc"])
    assert confirm(t["cdc_a"], rid, sid)["counts"] == {"total": 3, "by_grade": {"cdc": 3}}


def test_a_revocation_cut_short_is_completed(iso, itree, rid, collector):
    t = itree
    sid = t.id("school_b")
    add_learners(t["school_b"], rid, sid, ["k1"])
    confirm(t["school_b"], rid, sid)
    thread, result = crash(iso, "after_revoke_record", t["lao_b"].delete, conf_path(rid, sid),
                           json={"reason": "ขอแก้ไข"}, timeout=90)
    assert db_row(iso, rid, sid).state == "unsealing"
    assert enrollment_seals(iso, rid, [sid])[str(sid)]["sealed"] is True
    iso.start_service("confirmation")
    wait_until(lambda: db_row(iso, rid, sid).state == "open", 60, what="revocation completed")
    assert enrollment_seals(iso, rid, [sid])[str(sid)]["sealed"] is False
    add_learners(t["school_b"], rid, sid, ["k2"])
    revoked = collector.wait_for(lambda e: e["type"] == "unit_revoked" and e["org_unit"]["id"] == sid, 30)
    assert revoked["reason"] == "ขอแก้ไข" and revoked["counts"]["total"] == 1
    assert len({e["event_id"] for e in collector.drain(1.0)
                if e["type"] == "unit_revoked" and e["org_unit"]["id"] == sid}) == 1
    assert confirm(t["school_b"], rid, sid)["counts"]["total"] == 2


class RestartPolicy(threading.Thread):
    """What compose's ``restart: unless-stopped`` (or Kubernetes) does: a nameko
    container that cannot send an RPC reply while the broker is away exits;
    it is started again."""

    def __init__(self, system):
        super().__init__(daemon=True)
        self.system = system
        self.restarted = []
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            for name in list(self.system.dead()):
                self.restarted.append(name)
                self.system.procs.pop(name)
                if name == "gateway":
                    self.system.start_gateway()
                else:
                    self.system.start_service(name)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def break_vhost(iso, seconds, on_broken=lambda: None):
    """Cut every connection of the system's vhost and refuse new ones for a while."""
    vhost = vhost_of(iso.amqp_uri)
    rabbitmqctl("clear_permissions", "-p", vhost, "guest")
    try:
        rabbitmqctl("close_all_connections", "--vhost", vhost, "test: broker outage")
        on_broken()
        time.sleep(seconds)
    finally:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def restart_broker(iso, seconds, on_broken=lambda: None):
    rabbitmqctl("stop_app")
    try:
        on_broken()
        time.sleep(seconds)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup", check=False)


def outage_of(request, outage):
    """The whole-broker restart also hits the session's main system: supervise it
    too, and give its gateway fresh connections afterwards."""
    if outage is not restart_broker:
        return outage
    main = request.getfixturevalue("system")

    def both(iso, seconds, on_broken):
        with RestartPolicy(main):
            restart_broker(iso, seconds, on_broken)
            main.restart("gateway")
            main.wait_ready(timeout=120)
    return both


OUTAGES = [
    pytest.param(break_vhost, id="vhost-outage"),
    pytest.param(restart_broker, id="broker-restart", marks=pytest.mark.skipif(
        os.environ.get("LEC_TEST_BROKER_RESTART") != "1",
        reason="restarts the whole broker: set LEC_TEST_BROKER_RESTART=1 (make test does)")),
]


@pytest.mark.parametrize("outage", OUTAGES)
def test_no_event_is_lost_when_the_broker_fails_in_a_burst(request, iso, iso_admin, rid, outage):
    outage = outage_of(request, outage)
    trees = [Tree.build(iso_admin) for _ in range(3)]
    chain = ("school_a", "cdc_a", "school_b", "lao_a", "lao_b")
    units = [(t, key) for t in trees for key in chain]
    for t in trees:
        for key in chain[:3]:
            add_learners(t[key], rid, t.id(key), ["cdc"] if key == "cdc_a" else ["p1", "p2"])
    queue = f"agency-test-{uuid.uuid4().hex[:8]}"
    agency = EventCollector(iso.amqp_uri, "confirmation", KEYS, durable=True, queue_name=queue)
    agency.close()  # the durable queue collects while nobody listens

    def confirm_until_done(t, key):
        """Retry through the outage; the Idempotency-Key makes each retry safe."""
        headers = {"Idempotency-Key": f"burst-{t.id(key)}"}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                r = t[key].post(conf_path(rid, t.id(key)), headers=headers, timeout=40)
                if r.status_code == 200:
                    return r.json()
                assert r.status_code in (409, 502, 503, 504), r.text
                failures.append((key, r.status_code, r.text))
            except Exception as exc:
                failures.append((key, exc))
            time.sleep(0.5)
        raise AssertionError(f"{key} never confirmed: {failures[-3:]}")

    done, failures = [], []
    broken = threading.Event()

    def run_chain(t):
        for i, key in enumerate(chain):
            done.append(confirm_until_done(t, key))
            if i == 0:  # the rest of the burst meets the outage
                broken.wait(60)

    def break_when_started():
        wait_until(lambda: len(done) >= len(trees), 30, 0.02, "the burst under way")
        outage(iso, 3, on_broken=broken.set)

    workers = [threading.Thread(target=run_chain, args=(t,), daemon=True) for t in trees]
    with RestartPolicy(iso) as policy:
        for worker in workers:
            worker.start()
        break_when_started()
        for worker in workers:
            worker.join(150)
    # the services ride the outage out: nothing had to be started again
    assert policy.restarted == []
    assert len(done) == len(units)
    assert failures, "no request met the outage"

    agency = EventCollector(iso.amqp_uri, "confirmation", KEYS, durable=True, queue_name=queue)
    try:
        wanted = {t.id(key) for t, key in units}
        wait_until(lambda: wanted <= {e["org_unit"]["id"] for e in agency.drain(0.5)
                                      if e["type"] == "unit_confirmed"}, 90, 0.1, "every event")
        agency.drain(1.0)
        mine = [e for e in agency.events if e["org_unit"]["id"] in wanted]
        per_unit = {}
        for event in mine:
            per_unit.setdefault(event["org_unit"]["id"], set()).add(event["event_id"])
        # each confirmation once, however often it was delivered
        assert all(len(ids) == 1 for ids in per_unit.values()), per_unit
        for event in mine:
            assert_valid_event(event)
    finally:
        agency.close()
        with Connection(iso.amqp_uri) as conn:
            Queue(queue).bind(conn.default_channel).delete()
    confirmation_up(iso)
    with ClusterRpcProxy({"AMQP_URI": iso.amqp_uri}, timeout=10, context_data=system_context("tests")) as proxy:
        wait_until(lambda: proxy.confirmation.health()["outbox_pending"] == 0, 30, what="outbox drained")


def test_a_service_that_is_down_answers_503_and_catches_up_when_back(iso, itree, rid):
    """Reporting stopped: its routes answer 503 ``service_unavailable`` (after the RPC
    timeout, never a 500), /readyz?verbose says which service is missing, the rest of the
    system goes on, and once reporting is back its read model has every change."""
    t = itree
    url = f"/rounds/{rid}/reports/summary"
    params = {"org_unit_id": t.id("lao_a")}
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
    wait_until(lambda: t["lao_a"].get(url, params=params).json()["learners"]["total"] == 1, 10,
               what="the first learner in the summary")
    iso.stop_process("reporting")
    try:
        resp = t["lao_a"].get(url, params=params)
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "service_unavailable"
        # the gateway stays ready (its own readiness); the operators' view names the service
        ready = Client(iso.url).get("/readyz", params={"verbose": "1"})
        assert ready.status_code == 200 and ready.json()["system"] == "degraded"
        checks = ready.json()["services"]
        assert checks["reporting"]["ok"] is False and checks["enrollment"]["ok"] is True
        # the rest of the system goes on: learners, a confirmation
        add_learners(t["school_a"], rid, t.id("school_a"), ["p2", "p3"])
        confirm(t["school_a"], rid, t.id("school_a"))
    finally:
        iso.start_service("reporting")
    iso.wait_ready(timeout=60)
    summary = wait_until(lambda: (lambda s: s if s["learners"]["total"] == 3 else None)(
        t["lao_a"].get(url, params=params).json()), 30, what="reporting catching up")
    assert summary["learners"]["by_grade"] == {"p1": 1, "p2": 1, "p3": 1}
    progress = t["lao_a"].get(f"/rounds/{rid}/reports/progress", params=params).json()
    row = next(r for r in progress["items"] if r["unit"]["id"] == t.id("school_a"))
    assert row["state"] == "confirmed"
