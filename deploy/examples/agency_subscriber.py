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

Events alone cannot tell an agency what happened while it was away or before it
joined. So, given LEC's API address and an agency client's credentials (made by
the department: ``POST /api/v1/agencies``), it also backfills from the
confirmed-counts feed (``GET /api/v1/rounds/{rid}/confirmed-counts``): on start,
after every reconnect, and whenever an event arrives that it cannot place (a
round it has never read the feed of, or a revocation of a unit it never saw
confirmed). It reads from the cursor it stored last (the feed gives each unit
once, at the position of its last change, so what changed since is after it),
applies each item as an event of its ``version`` (the events'
``confirmation_version``: the higher wins, whichever came first) and stores the
new cursor in the same SQLite transaction. The queue's consumer is set up before
the backfill, so nothing falls between the snapshot and the events::

    python deploy/examples/agency_subscriber.py --amqp-uri amqp://agency:secret@mq/lec \
        --queue agency.budget --db agency.sqlite --api-url https://lec.example/api/v1 \
        --client-id lec-agency-0123abcd --client-secret "$LEC_AGENCY_SECRET"

(``--client-secret`` may be left to the ``LEC_AGENCY_CLIENT_SECRET`` variable.)

Needs only ``kombu`` (``pip install kombu``) and the standard library. The
account needs no more than (RabbitMQ permissions: configure, write, read)::

    rabbitmqctl set_permissions -p <vhost> agency-budget \
        '^agency\.budget(\..*)?$' '^agency\.budget(\..*)?$' '^(confirmation\.events|agency\.budget(\..*)?)$'

(its own queues; read on ``confirmation.events`` to bind them). Until the
exchange exists (the confirmation service declares it) it retries.
"""
import argparse
import json
import os
import signal
import socket
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

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
-- how far the feed of each round has been read (its next_cursor)
CREATE TABLE IF NOT EXISTS feed_cursor (
    round_id INTEGER PRIMARY KEY,
    cursor TEXT NOT NULL,
    read_at REAL NOT NULL
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
        self.backfilled = 0

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
                confirmed = event["type"] == "unit_confirmed"
                if not confirmed:
                    db.execute("INSERT OR IGNORE INTO withdrawn VALUES (?, ?, ?, ?, ?)",
                               key + (version, event.get("confirmed_at"), event.get("reason")))
                self._set_state(db, key, version, confirmed, unit, event.get("counts"),
                                (event.get("other_schools") or {}).get("total"),
                                event.get("confirmed_at"), event["event_id"])
            elif event["type"] == "round_finalized":
                db.execute("UPDATE rounds SET finalized_at=? WHERE round_id=?",
                           (event["confirmed_at"], rnd["id"]))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.applied += 1
        return True

    def _set_state(self, db, key, version, confirmed, unit, counts, other_total, confirmed_at, source):
        """The unit's newest state, unless a state at least as new is held (returns whether applied)."""
        held = db.execute("SELECT version FROM unit_state WHERE round_id=? AND unit_id=?", key).fetchone()
        if held is not None and held[0] >= version:
            self.stale += 1  # an older state of the unit arriving late: already superseded
            return False
        counts = counts or {}
        db.execute(
            "INSERT OR REPLACE INTO unit_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            key + (version, "confirmed" if confirmed else "revoked", unit["type"], unit.get("code"),
                   unit["path"], counts.get("total") if confirmed else None,
                   json.dumps(counts.get("by_grade") or {}, sort_keys=True) if confirmed else None,
                   other_total if confirmed else None, confirmed_at, source))
        return True

    # -- the feed ---------------------------------------------------------------------
    def cursor(self, round_id):
        row = self.db.execute("SELECT cursor FROM feed_cursor WHERE round_id=?", (round_id,)).fetchone()
        return row[0] if row else None

    def rounds_followed(self):
        return [r[0] for r in self.db.execute("SELECT round_id FROM feed_cursor ORDER BY round_id")]

    def apply_page(self, rnd, page):
        """One page of the round's confirmed-counts feed and its next cursor, in one transaction:
        each item is the unit's state at its ``version``; the higher version wins, as with events."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR IGNORE INTO rounds (round_id, academic_year, number) VALUES (?, ?, ?)",
                       (rnd["id"], rnd["academic_year"], rnd["number"]))
            for item in page["items"]:
                unit, confirmed = item["unit"], item["state"] == "confirmed"
                key = (rnd["id"], unit["id"])
                if self._set_state(db, key, int(item["version"]), confirmed, unit, item.get("counts"),
                                   None, item.get("confirmed_at"), f"feed:{item['cursor']}"):
                    self.backfilled += 1
            db.execute("INSERT OR REPLACE INTO feed_cursor VALUES (?, ?, ?)",
                       (rnd["id"], page["next_cursor"], time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def cannot_place(self, event):
        """An event that shows something was missed: of a round whose feed was never read, or
        the revocation of a unit never seen confirmed."""
        rnd, unit = event.get("round") or {}, event.get("org_unit") or {}
        if rnd.get("id") is None or self.cursor(rnd["id"]) is None:
            return True
        if event.get("type") == "unit_revoked":
            held = self.db.execute("SELECT 1 FROM unit_state WHERE round_id=? AND unit_id=?",
                                   (rnd["id"], unit.get("id"))).fetchone()
            return held is None
        return False

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


class Feed:
    """LEC's API as an agency client sees it: a token by client credentials (taken again
    when it expires), the rounds, and the confirmed-counts feed page by page."""

    def __init__(self, api_url, client_id, client_secret, timeout=30):
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.token = None

    def _request(self, method, path, body=None, auth=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read().decode())

    def sign_in(self):
        answer = self._request("POST", "/auth/token", {
            "grant_type": "client_credentials", "client_id": self.client_id,
            "client_secret": self.client_secret}, auth=False)
        self.token = answer["access_token"]

    def get(self, path):
        if self.token is None:
            self.sign_in()
        try:
            return self._request("GET", path)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
            self.sign_in()  # expired (or the secret rotated: then this fails loudly)
            return self._request("GET", path)

    def rounds(self):
        return self.get("/rounds?limit=1000")["items"]

    def round(self, round_id):
        return self.get(f"/rounds/{int(round_id)}")

    def page(self, round_id, cursor=None, limit=500):
        query = urllib.parse.urlencode({k: v for k, v in (("after", cursor), ("limit", limit)) if v})
        return self.get(f"/rounds/{int(round_id)}/confirmed-counts?{query}")


def backfill(feed, ledger, round_ids=None, verbose=False):
    """Read each round's feed from the ledger's cursor to its end (every round the ledger
    follows, or listed by the API when it follows none yet, plus ``round_ids``)."""
    wanted = set(round_ids or ()) | set(ledger.rounds_followed())
    if not wanted:
        wanted = {r["id"] for r in feed.rounds()}
    for round_id in sorted(wanted):
        rnd = feed.round(round_id)
        cursor, pages = ledger.cursor(round_id), 0
        while True:
            page = feed.page(round_id, cursor)
            ledger.apply_page(rnd, page)
            cursor, pages = page["next_cursor"], pages + 1
            if not page["has_more"]:
                break
        if verbose:
            print(f"backfilled round {round_id} ({pages} page(s))", flush=True)
    return sorted(wanted)


def print_table(ledger, out=sys.stdout):
    rows = ledger.table()
    out.write(f"{'round':>12} {'type':<11} {'units':>7} {'learners':>10} {'other':>9}\n")
    for r in rows:
        label = f"{r['academic_year']}/{r['number']}" + ("*" if r["finalized"] else "")
        out.write(f"{label:>12} {r['unit_type']:<11} {r['units']:>7} {r['learners']:>10} "
                  f"{r['other_school_learners']:>9}\n")
    out.write(f"applied {ledger.applied}, duplicates ignored {ledger.duplicates}, "
              f"superseded {ledger.stale}, backfilled {ledger.backfilled}\n")
    out.flush()


def run(amqp_uri, queue_name, ledger, idle_exit=None, verbose=False, feed=None, round_ids=None):
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
        if feed is not None and ledger.cannot_place(event):
            # a gap: catch up from the feed first (the event is then applied or found older)
            print(f"cannot place {event.get('type')} {event.get('event_id')}: backfilling", flush=True)
            backfill(feed, ledger, [event["round"]["id"]], verbose)
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
                    if feed is not None:
                        # on start and after every reconnect: what happened meanwhile, from the
                        # feed (the queue is bound already, so nothing falls in between)
                        backfill(feed, ledger, round_ids, verbose)
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
    parser.add_argument("--api-url", help="LEC's API, e.g. https://lec.example/api/v1: backfill "
                                              "from the confirmed-counts feed")
    parser.add_argument("--client-id", help="the agency client's client_id")
    parser.add_argument("--client-secret", default=os.environ.get("LEC_AGENCY_CLIENT_SECRET"),
                        help="its client_secret (default: $LEC_AGENCY_CLIENT_SECRET)")
    parser.add_argument("--round", type=int, action="append", default=[],
                        help="a round to follow (repeatable; default: those followed, or every round)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    ledger = Ledger(args.db)
    if not args.table:
        feed = None
        if args.api_url:
            if not (args.client_id and args.client_secret):
                parser.error("--api-url needs --client-id and --client-secret")
            feed = Feed(args.api_url, args.client_id, args.client_secret)
        run(args.amqp_uri, args.queue, ledger, args.idle_exit, args.verbose, feed, args.round)
    print_table(ledger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
