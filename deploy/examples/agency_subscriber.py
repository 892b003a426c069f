#!/usr/bin/env python3
r"""An example agency consumer of LEC's confirmed-count events.

It binds its own durable queue to the topic exchange ``confirmation.events``
(routing keys ``unit_confirmed``, ``unit_revoked``, ``round_finalized``), and
keeps, in a SQLite file, a running table of the confirmed counts per round and
unit. Every event is applied at most once: its ``event_id`` is stored in the
same SQLite transaction as its effect, and the message is acknowledged only
after that commit, so a redelivered or re-published event changes nothing and
a crash loses nothing. Events about one unit may arrive out of order (a
redelivery after a broker restart, say): of two, the one with the higher
``confirmation_version`` is the newer, and an older one arriving late changes
nothing.

    python deploy/examples/agency_subscriber.py --amqp-uri amqp://agency:secret@mq/lec \
        --queue agency.budget --db agency.sqlite

    python deploy/examples/agency_subscriber.py --db agency.sqlite --table   # print the table

Needs only ``kombu`` (``pip install kombu``) and the standard library. The
account needs no more than (RabbitMQ permissions: configure, write, read)::

    rabbitmqctl set_permissions -p <vhost> agency-budget \
        '^agency\.budget(\..*)?$' '^agency\.budget(\..*)?$' '^(confirmation\.events|agency\.budget(\..*)?)$'

(its own queues; read on ``confirmation.events`` to bind them). Until the
exchange exists (the confirmation service declares it) it retries.
"""
import argparse
import json
import signal
import socket
import sqlite3
import sys
import time

from kombu import Connection, Consumer, Exchange, Queue, binding

EXCHANGE = "confirmation.events"
ROUTING_KEYS = ("unit_confirmed", "unit_revoked", "round_finalized")

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    received_at REAL NOT NULL
);
-- the newest event seen for each unit and round: a confirmation or its revocation.
-- Messages may arrive out of order; the higher confirmation_version wins.
CREATE TABLE IF NOT EXISTS unit_state (
    round_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('confirmed', 'revoked')),
    unit_type TEXT NOT NULL,
    unit_code TEXT,
    unit_path TEXT NOT NULL,
    total INTEGER,
    by_grade TEXT,
    other_total INTEGER,
    confirmed_at TEXT,
    event_id TEXT NOT NULL,
    PRIMARY KEY (round_id, unit_id)
);
CREATE VIEW IF NOT EXISTS confirmed AS
    SELECT round_id, unit_id, unit_type, unit_code, unit_path, total, by_grade, other_total,
           confirmed_at, event_id, version
    FROM unit_state WHERE state = 'confirmed';
-- every revocation received, with its reason
CREATE TABLE IF NOT EXISTS withdrawn (
    round_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    confirmed_at TEXT,
    reason TEXT,
    PRIMARY KEY (round_id, unit_id, version)
);
CREATE TABLE IF NOT EXISTS rounds (
    round_id INTEGER PRIMARY KEY,
    academic_year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    finalized_at TEXT
);
"""


class Ledger:
    """The agency's own store: de-duplication and the running table, in SQLite."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.applied = 0
        self.duplicates = 0
        self.stale = 0

    def apply(self, event):
        """Apply one event exactly once; returns False for a duplicate."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute("INSERT OR IGNORE INTO seen (event_id, type, received_at) VALUES (?, ?, ?)",
                             (event["event_id"], event["type"], time.time()))
            if cur.rowcount == 0:
                db.execute("ROLLBACK")
                self.duplicates += 1
                return False
            rnd, unit = event["round"], event["org_unit"]
            db.execute("INSERT OR IGNORE INTO rounds (round_id, academic_year, number) VALUES (?, ?, ?)",
                       (rnd["id"], rnd["academic_year"], rnd["number"]))
            key = (rnd["id"], unit["id"])
            if event["type"] in ("unit_confirmed", "unit_revoked"):
                version = int(event["confirmation_version"])
                held = db.execute("SELECT version FROM unit_state WHERE round_id=? AND unit_id=?",
                                  key).fetchone()
                confirmed = event["type"] == "unit_confirmed"
                if not confirmed:
                    db.execute("INSERT OR IGNORE INTO withdrawn VALUES (?, ?, ?, ?, ?)",
                               key + (version, event.get("confirmed_at"), event.get("reason")))
                if held is not None and held[0] >= version:
                    self.stale += 1  # an older state of the unit arriving late: already superseded
                else:
                    counts = event.get("counts") or {}
                    db.execute(
                        "INSERT OR REPLACE INTO unit_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        key + (version, "confirmed" if confirmed else "revoked", unit["type"],
                               unit.get("code"), unit["path"],
                               counts.get("total") if confirmed else None,
                               json.dumps(counts.get("by_grade") or {}, sort_keys=True) if confirmed else None,
                               (event.get("other_schools") or {}).get("total") if confirmed else None,
                               event.get("confirmed_at"), event["event_id"]))
            elif event["type"] == "round_finalized":
                db.execute("UPDATE rounds SET finalized_at=? WHERE round_id=?",
                           (event["confirmed_at"], rnd["id"]))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.applied += 1
        return True

    def table(self, round_id=None):
        """Confirmed units and learners per round and unit type."""
        sql = ("SELECT c.round_id, r.academic_year, r.number, r.finalized_at IS NOT NULL, c.unit_type, "
               "COUNT(*), SUM(c.total), COALESCE(SUM(c.other_total), 0) FROM confirmed c "
               "JOIN rounds r USING (round_id)")
        args = ()
        if round_id is not None:
            sql += " WHERE c.round_id = ?"
            args = (round_id,)
        sql += " GROUP BY c.round_id, c.unit_type ORDER BY c.round_id, c.unit_type"
        return [dict(zip(("round_id", "academic_year", "number", "finalized", "unit_type", "units",
                          "learners", "other_school_learners"), row))
                for row in self.db.execute(sql, args)]

    def unit(self, round_id, unit_id):
        row = self.db.execute("SELECT total, by_grade, confirmed_at, event_id FROM confirmed "
                              "WHERE round_id=? AND unit_id=?", (round_id, unit_id)).fetchone()
        if row is None:
            return None
        return {"total": row[0], "by_grade": json.loads(row[1]), "confirmed_at": row[2], "event_id": row[3]}


def print_table(ledger, out=sys.stdout):
    rows = ledger.table()
    out.write(f"{'round':>12} {'type':<11} {'units':>7} {'learners':>10} {'other':>9}\n")
    for r in rows:
        label = f"{r['academic_year']}/{r['number']}" + ("*" if r["finalized"] else "")
        out.write(f"{label:>12} {r['unit_type']:<11} {r['units']:>7} {r['learners']:>10} "
                  f"{r['other_school_learners']:>9}\n")
    out.write(f"applied {ledger.applied}, duplicates ignored {ledger.duplicates}, "
              f"superseded {ledger.stale}\n")
    out.flush()


def run(amqp_uri, queue_name, ledger, idle_exit=None, verbose=False):
    # LEC's exchange is only checked (a passive declare needs no permission): an agency's
    # account may read it and bind its own queues, never configure or publish to it
    exchange = Exchange(EXCHANGE, type="topic", durable=True, passive=True)
    queue = Queue(queue_name, durable=True, auto_delete=False,
                  bindings=[binding(exchange, routing_key=key) for key in ROUTING_KEYS])
    stopping = {"flag": False}

    def stop(signum, frame):
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def on_message(body, message):
        event = body if isinstance(body, dict) else json.loads(body)
        fresh = ledger.apply(event)
        message.ack()  # only after the effect is committed
        if verbose:
            unit = event["org_unit"]
            print(f"{'applied' if fresh else 'duplicate'} {event['type']} {event['event_id']} "
                  f"unit {unit['id']} ({unit['type']}) total {event['counts']['total']}", flush=True)

    probe = Connection(amqp_uri)
    recoverable = tuple(probe.connection_errors) + tuple(probe.channel_errors) + (OSError,)
    last = time.monotonic()
    while not stopping["flag"]:
        try:
            with Connection(amqp_uri, heartbeat=20) as conn:
                conn.ensure_connection(max_retries=3)
                with Consumer(conn, queues=[queue], callbacks=[on_message], accept=["json"],
                              prefetch_count=50):
                    print(f"listening on {queue_name}", flush=True)
                    while not stopping["flag"]:
                        try:
                            conn.drain_events(timeout=1)
                            last = time.monotonic()
                        except socket.timeout:
                            conn.heartbeat_check()
                            if idle_exit is not None and time.monotonic() - last > idle_exit:
                                stopping["flag"] = True
        except recoverable as exc:  # the broker went away: reconnect, nothing is lost
            if stopping["flag"]:
                break
            print(f"connection lost ({exc}); reconnecting", file=sys.stderr, flush=True)
            time.sleep(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--queue", default="agency.confirmed-counts")
    parser.add_argument("--db", default="agency.sqlite", help="SQLite file (created if missing)")
    parser.add_argument("--idle-exit", type=float, default=None,
                        help="stop after this many seconds without a message")
    parser.add_argument("--table", action="store_true", help="print the table and exit")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    ledger = Ledger(args.db)
    if not args.table:
        run(args.amqp_uri, args.queue, ledger, args.idle_exit, args.verbose)
    print_table(ledger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
