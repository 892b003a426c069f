"""The restore drill, on a system of its own: enrollment's database is dumped,
changed, restored to the dump and brought in line with ``deploy.restore``.

What the drill proves: an event that was in the backup unpublished goes out
again and is not counted twice; reporting and confirmation, which saw changes
the restored enrollment no longer has, agree with it again (read model rebuilt
and checked, the seal of a unit confirmed after the backup put back); nothing
is left unpublished or failed; and the tool lists the changes that were lost,
so that officers can enter them again.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from services.common import settings
from services.common.context import system_context
from tests.client import Client, Tree
from tests.conftest import ADMIN
from tests.system.confirmation_support import (
    add_learners, confirm, new_round, rabbitmqctl, start_isolated_system, vhost_of, wait_until,
)
from tests.system.reporting_support import remove_learner, report

ROOT = Path(__file__).resolve().parents[2]


def _tool(name):
    """A PostgreSQL client program; its absence skips the drill, or fails it under LEC_REQUIRE_TOOLS=1."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} (Debian's postgresql-client) is needed for the restore drill"
        if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def drill(lec_env):
    if os.environ.get("LEC_TEST_AMQP_URI"):
        pytest.skip("the drill changes broker permissions with rabbitmqctl: a local broker only")
    system = start_isolated_system(lec_env, "restore", "restore")
    yield system
    system.stop()


def libpq_url(url):
    """The database URL as pg_dump/pg_restore take it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def scalar(url, sql, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def rpc(system):
    return ClusterRpcProxy({"AMQP_URI": system.amqp_uri}, timeout=30, context_data=system_context("tests"))


def enrollment_answers(system):
    def answers():
        try:
            with rpc(system) as proxy:
                return proxy.enrollment.health()["ok"]
        except Exception:
            return False
    return wait_until(answers, 90, 0.5, "the enrollment service answering")


def block_enrollment_events(system, blocked):
    """Refuse (or allow again) publishing to ``enrollment.events`` in the system's vhost; the
    enrollment service is restarted so that its relay opens a channel under the new permissions."""
    write = r"^(?!enrollment\.events$).*" if blocked else ".*"
    if blocked:
        system.stop_process("enrollment")
    rabbitmqctl("set_permissions", "-p", vhost_of(system.amqp_uri), "guest", ".*", write, ".*")
    if blocked:
        system.start_service("enrollment")
        enrollment_answers(system)


def summary_total(client, rid, unit_id):
    return report(client, rid, "summary", unit_id)["learners"]["total"]


def test_a_restored_enrollment_converges_and_reports_what_was_lost(drill):
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    admin = Client(drill.url).login(*ADMIN)
    t = Tree.build(admin)
    rid = new_round(admin)["id"]
    school_a, school_b = t.id("school_a"), t.id("school_b")
    db = drill.db_urls

    # 1. before the backup: learners at two schools, seen by reporting
    kept = add_learners(t["school_a"], rid, school_a, ["p1", "p1", "p2"])
    add_learners(t["school_b"], rid, school_b, ["p1", "p2"])
    wait_until(lambda: summary_total(admin, rid, school_a) == 3, 30, 0.3, "reporting seeing school A")

    # one more learner whose event cannot be published yet: the backup holds it unpublished
    block_enrollment_events(drill, True)
    try:
        pending = add_learners(t["school_a"], rid, school_a, ["k1"])[0]
        unpublished = scalar(db["enrollment"], "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert unpublished >= 1
        pending_event = scalar(
            db["enrollment"], "SELECT event_id::text FROM outbox WHERE published_at IS NULL "
                              "AND payload->'learner'->>'id' = :i", i=str(pending["id"]))
        assert pending_event, "the learner's event is waiting in enrollment's outbox"

        # 2. the backup point
        dump = Path(tempfile.mkdtemp(prefix="lec-restore-")) / "enrollment.dump"
        subprocess.run([pg_dump, "-Fc", "-f", str(dump), libpq_url(db["enrollment"])], check=True,
                       capture_output=True, timeout=120)
    finally:
        block_enrollment_events(drill, False)
    wait_until(lambda: summary_total(admin, rid, school_a) == 4, 60, 0.3, "the waiting event published")
    assert scalar(db["reporting"], "SELECT count(*) FROM inbox WHERE event_id = CAST(:e AS uuid)",
                  e=pending_event) == 1

    # 3. after the backup: two learners added, one removed, school B confirmed (and sealed)
    lost = add_learners(t["school_a"], rid, school_a, ["p2", "p3"])
    remove_learner(t["school_a"], kept[0]["id"])
    confirm(t["school_b"], rid, school_b)
    wait_until(lambda: summary_total(admin, rid, school_a) == 5, 30, 0.3,
               "reporting seeing the later changes")
    with rpc(drill) as proxy:
        assert proxy.enrollment.seal_state(rid, [school_b])[str(school_b)]["sealed"]

    # 4. enrollment back to the backup point
    drill.stop_process("enrollment")
    subprocess.run([pg_restore, "--clean", "--if-exists", "--no-owner", "-d", libpq_url(db["enrollment"]),
                    str(dump)], check=True, capture_output=True, timeout=300)
    assert scalar(db["enrollment"], "SELECT count(*) FROM learners WHERE round_id = :r AND status = 'active'",
                  r=rid) == 6
    assert scalar(db["enrollment"], "SELECT published_at IS NULL FROM outbox "
                                    "WHERE event_id = CAST(:e AS uuid)",
                  e=pending_event), "the restored copy holds the event unpublished"
    drill.start_service("enrollment")
    enrollment_answers(drill)

    # 5. the documented convergence procedure
    try:
        done = subprocess.run([sys.executable, "-m", "deploy.restore", "enrollment", "--dump", str(dump),
                               "--timeout", "120"], cwd=ROOT, env=dict(drill.env, AMQP_URI=drill.amqp_uri),
                              capture_output=True, text=True, timeout=600)
    finally:
        shutil.rmtree(dump.parent, ignore_errors=True)
    assert done.stdout, done.stderr
    result = json.loads(done.stdout)
    assert done.returncode == 0, json.dumps(result, indent=2)

    # the tool lists what the restore lost: the two learners added and the removal
    changes = {(x["learner_id"], x["change"]) for x in result["lost"]["learners"]}
    assert changes == {(lost[0]["id"], "added"), (lost[1]["id"], "added"), (kept[0]["id"], "removed")}, \
        json.dumps(result, indent=2)
    assert all(x["round_id"] == rid and x["institution_id"] == school_a for x in result["lost"]["learners"])
    lost_types = sorted(e["event_type"] for e in result["lost"]["events"] if e["consumer"] == "reporting")
    assert lost_types == ["learner_added", "learner_added", "learner_removed"]
    assert pending_event not in {e["event_id"] for e in result["lost"]["events"]}
    assert result["rounds"] == [rid]
    assert [r["round_id"] for r in result["reporting"]] == [rid] and result["reporting"][0]["ok"]

    # 6. everything agrees with the restored enrollment again
    with rpc(drill) as proxy:
        owner = proxy.enrollment.counts(rid, [school_a, school_b])
        assert proxy.enrollment.seal_state(rid, [school_b])[str(school_b)]["sealed"]
        assert proxy.reporting.check(rid)["ok"]
    assert owner[str(school_a)]["total"] == 4 and owner[str(school_b)]["total"] == 2
    for unit_id in (school_a, school_b):
        summary = report(admin, rid, "summary", unit_id)["learners"]
        assert summary["total"] == owner[str(unit_id)]["total"]
    # the event sent twice was applied once
    assert scalar(db["reporting"], "SELECT count(*) FROM inbox WHERE event_id = CAST(:e AS uuid)",
                  e=pending_event) == 1
    assert scalar(db["enrollment"], "SELECT published_at IS NOT NULL FROM outbox "
                                    "WHERE event_id = CAST(:e AS uuid)", e=pending_event)
    assert scalar(db["reporting"], "SELECT count(*) FROM rp_learners WHERE round_id = :r AND active",
                  r=rid) == 6
    # a new learner takes an id no consumer has seen
    fresh = add_learners(t["school_a"], rid, school_a, ["p1"])[0]
    assert fresh["id"] > max(x["id"] for x in lost)
    wait_until(lambda: summary_total(admin, rid, school_a) == 5, 30, 0.3, "reporting seeing the new learner")
    for service in settings.SERVICES:
        wait_until(lambda: scalar(db[service], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
                   30, 0.3, f"{service}'s outbox published")
        assert scalar(db[service], "SELECT count(*) FROM failed_events") == 0, service
