"""How fast reporting applies learners: single ``learner_added`` events against
batched ``learners_added`` events, in the same run, and how soon the summary
shows a bulk import made through the gateway.

    make bench-events                                        # 20,000 and 100,000 learners; a 100,000-row import
    python -m bench.report.events --learners 5000 --import-rows 5000      # a quick run

It starts its own system (every service and the gateway, databases
``lec_benchev_*`` and the broker vhost ``lec_benchev``, made afresh and dropped
afterwards), creates a province, an LAO and two schools, then:

1. for each size N, publishes to ``enrollment.events`` the events enrollment
   would send for N learners of one school (each way in a round of its own):
   (a) N ``learner_added`` events, one a learner (what single changes send, and
   what every bulk change sent before it was batched), and (b) N / 1,000
   ``learners_added`` events (what an import batch or a carry-over sends now);
   it times from the first publish until reporting's counts at the department
   hold all N, and prints events/s and learners/s applied both ways;
2. imports a CSV of ``--import-rows`` learners through the gateway in one
   request and polls the gateway's summary of the school until it shows them
   all: the import's time, how long after it answered the summary was
   complete, and how many events enrollment published for it;
3. freshness of single changes: ``--changes`` times, adds one learner through
   the gateway and polls the summary until it counts them, then removes the
   learner and polls until it no longer does; prints how long after each
   change answered the summary showed it (p50, p95, max), beside the summary's
   own round trip measured by the same polls.
"""
import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
from kombu import Connection, Exchange, Producer

from bench.common import bench_env, import_file, make_schools, national_id, running_system, write_csv
from services.common import settings
from services.common.hierarchy import path_ids
from services.common.jsonutil import isoformat, utcnow

PER_EVENT = 1000          # as enrollment batches them (services.enrollment.imports.LEARNERS_PER_EVENT)
WAYS = ("single", "batched")
GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3")
ACTOR = {"user_id": 1, "username": "bench.school"}


def say(*args):
    print(*args, flush=True)


# -- the events ----------------------------------------------------------------------------

def learner_facts(school, n, seed=0):
    """N learners of ``school`` as enrollment's events carry them (ids 1..N)."""
    rng = random.Random(seed)
    ref = {"id": school["id"], "type": school["type"], "path": school["path"]}
    return [{"id": i, "version": 1, "institution": ref, "grade": rng.choice(GRADES), "sex": rng.choice("MF"),
             "id_kind": "g_code" if rng.random() < 0.05 else "national_id", "age_years": rng.randint(4, 17),
             "status": "active", "removal_reason": None} for i in range(1, n + 1)]


def _event(event_type, body):
    return {"event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
            "occurred_at": isoformat(utcnow()), **body, "actor": ACTOR}


def learner_events(way, round_id, school, n, seed=0):
    """The events of N learners added to ``school``: one a learner, or in batches."""
    facts = learner_facts(school, n, seed)
    if way == "single":
        return [_event("learner_added", {"round_id": round_id, "learner": f}) for f in facts]
    institution = facts[0]["institution"] if facts else None
    return [_event("learners_added", {"round_id": round_id, "institution": institution,
                                      "learners": facts[i:i + PER_EVENT]})
            for i in range(0, n, PER_EVENT)]


def publish(amqp_uri, events):
    """Publish to enrollment's exchange as its outbox relay does (persistent, JSON)."""
    exchange = Exchange("enrollment.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.channel(), exchange=exchange, serializer="json")
        for event in events:
            producer.publish(event, routing_key=event["type"], delivery_mode=2)


# -- what reporting has applied --------------------------------------------------------------

def _dsn(service):
    return settings.database_url(service).replace("postgresql+psycopg2://", "postgresql://")


def applied(cur, round_id, unit_id):
    """Learners the read model counts at a unit in a round."""
    cur.execute("SELECT coalesce(sum(n), 0) FROM rp_learner_counts WHERE round_id = %s AND unit_id = %s",
                (round_id, unit_id))
    return int(cur.fetchone()[0])


def measure(amqp_uri, way, round_id, school, n, timeout=None, seed=0):
    """Push N learners one way and wait until reporting counts them all at the
    department. Returns ``{way, learners, events, seconds, publish_seconds}``."""
    events = learner_events(way, round_id, school, n, seed)
    top = path_ids(school["path"])[0]
    timeout = timeout or max(120.0, n / 50)
    with psycopg2.connect(_dsn("reporting")) as conn, conn.cursor() as cur:
        conn.autocommit = True
        before = applied(cur, round_id, top)
        started = time.perf_counter()
        publish(amqp_uri, events)
        published = time.perf_counter() - started
        while applied(cur, round_id, top) < before + n:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{way}: reporting applied {applied(cur, round_id, top) - before:,} of {n:,} "
                                 f"learners in {timeout:.0f}s")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    return {"way": way, "learners": n, "events": len(events), "seconds": seconds, "publish_seconds": published}


def show(result):
    r = result
    say(f"   {r['way']:<8} {r['learners']:>9,} learners in {r['events']:>7,} events: {r['seconds']:>8.2f}s "
        f"= {r['events'] / r['seconds']:>8,.1f} events/s, {r['learners'] / r['seconds']:>9,.0f} learners/s "
        f"(published in {r['publish_seconds']:.2f}s)")


# -- an import through the gateway ------------------------------------------------------------

def import_and_wait(client, rnd, school, rows, workdir, timeout=600):
    path = Path(workdir) / f"learners-{rows}.csv"
    write_csv(path, rows, salt=3)
    summary = f"/rounds/{rnd['id']}/reports/summary"
    seconds, result = import_file(client, rnd, school, path)
    answered = time.perf_counter()
    if result["accepted"] != rows:
        raise SystemExit(f"the import accepted {result['accepted']:,} of {rows:,} rows: {result}")
    while client.call("GET", summary, params={"org_unit_id": school["id"]})["learners"]["total"] < rows:
        if time.perf_counter() - answered > timeout:
            raise SystemExit(f"the summary did not show {rows:,} learners within {timeout}s of the import")
        time.sleep(0.1)
    lag = time.perf_counter() - answered
    with psycopg2.connect(_dsn("enrollment")) as conn, conn.cursor() as cur:
        cur.execute("SELECT event_type, count(*), sum(coalesce(jsonb_array_length(payload->'learners'), 1)) "
                    "FROM outbox WHERE (payload->>'round_id')::bigint = %s GROUP BY 1", (rnd["id"],))
        events = {t: (int(c), int(s)) for t, c, s in cur.fetchall()}
    path.unlink()
    return {"rows": rows, "import_seconds": seconds, "lag": lag, "events": events}


# -- freshness of single changes ------------------------------------------------------------------

def freshness(client, rnd, school, changes, timeout=60):
    """Add a learner, wait until the summary counts it; remove it, wait until it does
    not. Returns (lags, polls): seconds from each change's answer until the summary
    showed it, and the round trip of every summary request made meanwhile."""
    summary = f"/rounds/{rnd['id']}/reports/summary"
    learners = f"/rounds/{rnd['id']}/institutions/{school['id']}/learners"
    params = {"org_unit_id": school["id"]}
    lags, polls = [], []

    def total():
        started = time.perf_counter()
        n = client.call("GET", summary, params=params)["learners"]["total"]
        polls.append(time.perf_counter() - started)
        return n

    def wait_for(target):
        answered = time.perf_counter()
        while total() != target:
            if time.perf_counter() - answered > timeout:
                raise SystemExit(f"the summary did not show a change within {timeout}s")
            time.sleep(0.01)
        lags.append(time.perf_counter() - answered)

    base = total()
    for i in range(changes):
        learner = client.call("POST", learners, 201, json={
            "national_id": national_id(50_000_000 + i, salt=17), "prefix": "เด็กหญิง", "first_name": "ทดสอบ",
            "last_name": "ความสด", "sex": "F", "birth_date": "2018-05-01", "grade": "p1"})
        wait_for(base + 1)
        client.call("DELETE", f"/learners/{learner['id']}", 204, params={"reason": "duplicate"})
        wait_for(base)
    return lags, polls


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the run -------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[20_000, 100_000],
                        help="learners pushed each way (default 20000 100000)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the import (0: none)")
    parser.add_argument("--changes", type=int, default=100,
                        help="single adds (each then removed) timed for freshness (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    args = parser.parse_args(argv)

    env = bench_env(vhost="lec_benchev", db_prefix="lec_benchev_")
    results, imported, fresh = [], None, None
    with running_system(env, "bench-events-logs", keep=args.keep) as system:
        rnd, schools = make_schools(system.url, [args.import_rows, 0], f"{int(time.time()) % 100000}")
        (import_school, client), (school, school_client) = schools
        say(f"\nreporting applying learners of one school ({school['path']}), "
            f"{PER_EVENT:,} learners to a batched event:")
        round_id = 900_000_000
        for n in args.learners:
            for way in WAYS:
                round_id += 1
                results.append(measure(env["AMQP_URI"], way, round_id, school, n))
                show(results[-1])
        if args.import_rows:
            say(f"\nimporting {args.import_rows:,} rows through the gateway ...")
            with tempfile.TemporaryDirectory(prefix="lec-bench-") as workdir:
                imported = import_and_wait(client, rnd, import_school, args.import_rows, workdir)
        if args.changes:
            say(f"\n{args.changes} single adds and removals through the gateway, the summary polled ...")
            fresh = freshness(school_client, rnd, school, args.changes)

    say("\nsummary:")
    say(f"   {'learners':>9} {'way':<8} {'events':>7} {'seconds':>8} {'events/s':>9} {'learners/s':>10}")
    for r in results:
        say(f"   {r['learners']:>9,} {r['way']:<8} {r['events']:>7,} {r['seconds']:>8.2f} "
            f"{r['events'] / r['seconds']:>9,.1f} {r['learners'] / r['seconds']:>10,.0f}")
    for n in args.learners:
        single, batched = (next(r for r in results if r["learners"] == n and r["way"] == w) for w in WAYS)
        say(f"   {n:>9,} learners: batched events are applied {single['seconds'] / batched['seconds']:.0f}x "
            "as fast as single ones")
    if imported:
        i = imported
        kinds = ", ".join(f"{c:,} {t} ({s:,} learners)" for t, (c, s) in sorted(i["events"].items()))
        say(f"   import of {i['rows']:,} rows through the gateway: answered in {i['import_seconds']:.1f}s "
            f"({i['rows'] / i['import_seconds']:,.0f} rows/s); the summary showed all of them "
            f"{i['lag']:.1f}s later ({i['import_seconds'] + i['lag']:.1f}s from the start); events: {kinds}")
    if fresh:
        lags, polls = fresh
        say(f"   freshness, {len(lags)} single changes: the summary showed each "
            f"p50 {quantile(lags, 0.5) * 1000:.0f} ms, p95 {quantile(lags, 0.95) * 1000:.0f} ms, "
            f"max {max(lags) * 1000:.0f} ms after the change answered; the summary request itself: "
            f"p50 {quantile(polls, 0.5) * 1000:.1f} ms, p95 {quantile(polls, 0.95) * 1000:.1f} ms "
            f"({len(polls)} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
