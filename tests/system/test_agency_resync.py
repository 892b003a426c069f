"""An agency that missed events catches up from the confirmed-counts feed: the example
subscriber (deploy/examples/agency_subscriber.py) backfills on start and when an event
shows a gap, and ends with the feed's counts."""
import sqlite3
import subprocess
import sys
import uuid

from kombu import Connection, Queue

from tests.system.agency_support import agency_client, create_agency, whole_feed
from tests.system.confirmation_support import (
    ROOT, add_learners, confirm, new_round, revoke, wait_until,
)

SUBSCRIBER = ROOT / "deploy" / "examples" / "agency_subscriber.py"


def start(amqp, queue, db, api, agency, *rounds):
    args = [sys.executable, str(SUBSCRIBER), "--amqp-uri", amqp, "--queue", queue, "--db", str(db), "-v",
            "--api-url", api.base_url + "/api/v1", "--client-id", agency["client_id"]]
    for rid in rounds:
        args += ["--round", str(rid)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"LEC_AGENCY_CLIENT_SECRET": agency["client_secret"], "PATH": "/usr/bin:/bin"})
    lines = []

    def listening():
        line = proc.stdout.readline()
        lines.append(line)
        assert line or proc.poll() is None, "".join(lines)
        return line.startswith("listening")
    wait_until(listening, 60, 0, "the subscriber listening")
    return proc, lines


def stop(proc):
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def ledger(db, rid):
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT unit_id, total FROM confirmed WHERE round_id=?", (rid,)).fetchall())


def feed_counts(client, rid):
    items, _ = whole_feed(client, rid)
    return {i["unit"]["id"]: i["counts"]["total"] for i in items if i["state"] == "confirmed"}


def test_an_agency_that_missed_events_catches_up_from_the_feed(lec_env, api, admin, tree, tmp_path):
    t, rid = tree, new_round(admin)["id"]
    made = create_agency(admin)
    reader = agency_client(api, made)
    amqp, queue, db = lec_env["AMQP_URI"], f"agency-resync-{uuid.uuid4().hex[:8]}", tmp_path / "agency.sqlite"
    add_learners(t["school_b"], rid, t.id("school_b"), ["p1"])
    confirm(t["school_b"], rid, t.id("school_b"))  # before the agency ever listened

    proc, lines = start(amqp, queue, db, api, made, rid)
    try:
        assert ledger(db, rid) == {t.id("school_b"): 1}  # the snapshot, on start
        add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p2"])
        confirm(t["school_a"], rid, t.id("school_a"))
        wait_until(lambda: ledger(db, rid).get(t.id("school_a")) == 2, 30, what="the event applied")
    finally:
        stop(proc)

    # down, and its queue lost with whatever reached it: these events never arrive
    with Connection(amqp) as conn:
        Queue(queue)(conn.default_channel).delete()
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    confirm(t["cdc_a"], rid, t.id("cdc_a"))
    confirm(t["lao_a"], rid, t.id("lao_a"))
    revoke(t["province"], rid, t.id("lao_a"), "ขอแก้ไข")
    revoke(t["lao_a"], rid, t.id("school_a"), "เพิ่มนักเรียน")
    add_learners(t["school_a"], rid, t.id("school_a"), ["p3"])
    confirm(t["school_a"], rid, t.id("school_a"))

    proc, lines = start(amqp, queue, db, api, made)  # follows the rounds it followed before
    try:
        expected = feed_counts(reader, rid)
        assert expected == {t.id("school_b"): 1, t.id("cdc_a"): 1, t.id("school_a"): 3}
        assert ledger(db, rid) == expected
        # a gap while running: an event of a round it has never read
        other = new_round(admin)["id"]
        add_learners(t["school_b"], other, t.id("school_b"), ["p2", "p2"])
        confirm(t["school_b"], other, t.id("school_b"))
        wait_until(lambda: ledger(db, other) == {t.id("school_b"): 2}, 30, what="the new round")
    finally:
        out = "".join(lines) + stop(proc)
    assert "cannot place unit_confirmed" in out and f"backfilled round {other}" in out
    assert ledger(db, rid) == feed_counts(reader, rid)
