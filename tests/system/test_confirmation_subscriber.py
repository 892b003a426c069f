"""The example agency subscriber (deploy/examples/agency_subscriber.py), run as
a program: a durable queue, de-duplication by event_id across restarts, and a
running table of confirmed counts."""
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from tests.events import EventCollector
from tests.system.confirmation_support import (
    ROOT, add_learners, confirm, new_round, rabbitmqctl, revoke, vhost_of, wait_until,
)

SUBSCRIBER = ROOT / "deploy" / "examples" / "agency_subscriber.py"


def start(amqp, queue, db):
    return subprocess.Popen([sys.executable, str(SUBSCRIBER), "--amqp-uri", amqp, "--queue", queue,
                             "--db", str(db), "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def stop(proc):
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def rows(db, sql, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def confirmed_total(db, rid, unit_id):
    found = rows(db, "SELECT total FROM confirmed WHERE round_id=? AND unit_id=?", rid, unit_id)
    return found[0][0] if found else None


def test_the_example_subscriber_keeps_a_deduplicated_table(lec_env, admin, tree, tmp_path):
    t, rid = tree, new_round(admin)["id"]
    amqp, queue, db = lec_env["AMQP_URI"], f"agency-example-{uuid.uuid4().hex[:8]}", tmp_path / "agency.sqlite"
    watcher = EventCollector(amqp, "confirmation", ["unit_confirmed"])
    proc = start(amqp, queue, db)
    try:
        wait_until(lambda: proc.stdout.readline().startswith("listening"), 30, 0, "the subscriber listening")
        add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p2"])
        add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
        for key in ("school_a", "cdc_a", "lao_a"):
            confirm(t[key], rid, t.id(key))
        wait_until(lambda: confirmed_total(db, rid, t.id("lao_a")) == 3, 30, what="the LAO in the table")
        # the same event delivered again (a relay retry): nothing changes
        original = watcher.wait_for(lambda e: e["org_unit"]["id"] == t.id("school_a"))
        with Connection(amqp) as conn:
            conn.Producer().publish(original, exchange=Exchange("confirmation.events", type="topic"),
                                    routing_key="unit_confirmed", serializer="json",
                                    declare=[Exchange("confirmation.events", type="topic", durable=True)])
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM seen WHERE event_id=?", original["event_id"])[0][0]
                   == 1, 10, what="the original seen")
    finally:
        out = stop(proc)
    assert f"duplicate unit_confirmed {original['event_id']}" in out
    assert "duplicates ignored 1" in out

    # while it is down, the durable queue keeps what happens
    revoke(t["province"], rid, t.id("lao_a"), "ขอแก้ไข")
    revoke(t["lao_a"], rid, t.id("school_a"), "เพิ่มนักเรียน")
    add_learners(t["school_a"], rid, t.id("school_a"), ["p3"])
    confirm(t["school_a"], rid, t.id("school_a"))
    proc = start(amqp, queue, db)
    try:
        wait_until(lambda: confirmed_total(db, rid, t.id("school_a")) == 3, 30, what="the new count")
        wait_until(lambda: confirmed_total(db, rid, t.id("lao_a")) is None, 30, what="the LAO withdrawn")
    finally:
        out = stop(proc)
        watcher.close()
        with Connection(amqp) as conn:
            Queue(queue).bind(conn.default_channel).delete()
    assert confirmed_total(db, rid, t.id("cdc_a")) == 1
    assert rows(db, "SELECT reason FROM withdrawn WHERE unit_id=?", t.id("lao_a")) == [("ขอแก้ไข",)]
    table = subprocess.run([sys.executable, str(SUBSCRIBER), "--db", str(db), "--table"],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    assert "school" in table and "cdc" in table and "lao" not in table.split("applied")[0]


def test_an_agency_account_with_the_documented_permissions_reads_and_cannot_meddle(lec_env, admin, tree,
                                                                                  tmp_path):
    """The RabbitMQ permissions the subscriber documents are enough for it, and keep the
    agency away from LEC's exchange and from other queues."""
    if os.environ.get("LEC_TEST_AMQP_URI") or not shutil.which("rabbitmqctl"):
        pytest.skip("needs the local broker's rabbitmqctl to make an account")
    from amqp.exceptions import AccessRefused

    t, rid = tree, new_round(admin)["id"]
    vhost = vhost_of(lec_env["AMQP_URI"])
    name, secret = f"agency-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    prefix = f"agency\\.{name[7:]}"
    rabbitmqctl("add_user", name, secret)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, name, f"^{prefix}(\\..*)?$", f"^{prefix}(\\..*)?$",
                    f"^(confirmation\\.events|{prefix}(\\..*)?)$")
        amqp = f"pyamqp://{name}:{secret}@127.0.0.1:5672/{vhost}"
        queue, db = f"agency.{name[7:]}.counts", tmp_path / "agency.sqlite"
        proc = start(amqp, queue, db)
        try:
            wait_until(lambda: proc.stdout.readline().startswith("listening"), 30, 0, "the subscriber listening")
            add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p2"])
            confirm(t["school_a"], rid, t.id("school_a"))
            wait_until(lambda: confirmed_total(db, rid, t.id("school_a")) == 2, 30, what="the count")
        finally:
            stop(proc)
        with Connection(amqp) as conn:
            for meddle in (
                lambda ch: Exchange("confirmation.events", type="topic", durable=True)(ch).declare(),
                lambda ch: Queue("someone.else", durable=True)(ch).declare(),
            ):
                with pytest.raises(AccessRefused):
                    meddle(conn.channel())
        with Connection(amqp, transport_options={"confirm_publish": True}) as conn:
            with pytest.raises(AccessRefused):  # nor may it publish as LEC
                conn.Producer().publish({"type": "unit_confirmed"}, exchange="confirmation.events",
                                        routing_key="unit_confirmed", serializer="json")
    finally:
        rabbitmqctl("delete_user", name, check=False)
        with Connection(lec_env["AMQP_URI"]) as conn:
            Queue(f"agency.{name[7:]}.counts").bind(conn.default_channel).delete()
