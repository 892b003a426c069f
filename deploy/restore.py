"""After a service's database is restored to an earlier point: bring the system in line again.

A point-in-time restore of one service's database (``pg_restore`` of one
database, or a CloudNativePG recovery of all five to one point) leaves the
other services holding facts newer than the restored copy. Run this once the
restored service is running again::

    python -m deploy.restore enrollment --dump enrollment.dump    # backup point: when the dump was made
    python -m deploy.restore enrollment --since 2026-11-27T10:00:00+07:00   # a PITR's target time
    python -m deploy.restore enrollment --report-only   # only list what was lost

In order, it

1. lists what the restore lost, before anything is repaired: the events the
   consumers applied (their ``inbox``) since the backup point that the restored
   outbox does not have, and, for enrollment, each learner and headcount whose
   fact in reporting's read model is newer than the restored record (added,
   changed or removed after the backup point: officers enter these again);
2. moves the restored service's id sequences past every id the consumers saw,
   so that a new record never takes the id of a lost one;
3. sends again the events of the services it consumes from the backup point on
   (their outbox rows are marked unpublished; every consumer skips what its
   inbox already holds, the restored service applies what it lost);
4. waits until the restored service's outbox is published (rows created before
   the backup point and published after it are unpublished in the copy: they go
   out again and the consumers' inboxes drop them by ``event_id``);
5. drops reporting's facts that are newer than the restored records (the
   rebuild would keep them: it lets a newer version win), then rebuilds the read
   model for the rounds the lost facts belong to and checks it against the
   owners (``services.reporting.rebuild``);
6. waits until confirmation's states and enrollment's seals agree for those
   rounds (confirmation's ``verify_seals`` timer re-seals or unseals);
7. counts the failed events of every service.

It prints one JSON report; the exit status is 0 when everything converged.
It needs the databases (``LEC_PG_URL``/``<SERVICE>_DB_URL``) and the broker
(``AMQP_URI``) of the system, like ``services.common.migrate``.
"""
import argparse
import datetime as dt
import importlib
import json
import shutil
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from deploy.launcher import SERVICE_CLASSES
from services.common import settings
from services.common.context import system_context
from services.common.rpc import ClassicStandaloneReplyListener
from services.common.vocabulary import SEALED_TYPES
from services.confirmation.domain import CONFIRMED, OPEN


# ids a service hands out that other services keep: (own table, consumer, consumer's table, column)
SHARED_IDS = {
    "enrollment": (("learners", "reporting", "rp_learners", "learner_id"),
                   ("staff", "reporting", "rp_staff", "staff_id")),
}


def consumed_events(consumer):
    """``{handler name: (source service, event type)}`` of a service's event handlers."""
    module, cls = SERVICE_CLASSES[consumer].split(":")
    service_cls = getattr(importlib.import_module(module), cls)
    found = {}
    for name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ()) or ():
            source = getattr(entrypoint, "source_service", None)
            if source:
                found[name] = (source, entrypoint.event_type)
    return found


class Databases:
    """One engine per service database, made when first asked for."""

    def __init__(self):
        self.engines = {}

    def __getitem__(self, service):
        if service not in self.engines:
            self.engines[service] = create_engine(settings.database_url(service), pool_pre_ping=True)
        return self.engines[service]

    def rows(self, service, sql, **params):
        with self[service].connect() as conn:
            return conn.execute(text(sql), params).all()

    def run(self, service, sql, **params):
        with self[service].begin() as conn:
            return conn.execute(text(sql), params).rowcount

    def dispose(self):
        for engine in self.engines.values():
            engine.dispose()


def dump_time(path):
    """When a ``pg_dump -Fc`` archive was made (the start of its snapshot), from ``pg_restore -l``."""
    program = shutil.which("pg_restore")
    if program is None:
        raise SystemExit("pg_restore (PostgreSQL's client programs) is needed to read --dump; give --since")
    listing = subprocess.run([program, "-l", str(path)], check=True, capture_output=True, text=True,
                             env={"TZ": "UTC"}).stdout
    for line in listing.splitlines():
        if "Archive created at" in line:
            stamp = line.split("Archive created at", 1)[1].strip().rsplit(" ", 1)[0]
            return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    raise SystemExit(f"{path}: no creation time in the archive; give --since")


def backup_point(dbs, service):
    """The newest change the restored copy holds: its last outbox event or audit entry. Right only
    before the restored service has changed anything; ``--dump``/``--since`` say it for certain."""
    row = dbs.rows(service, "SELECT greatest((SELECT max(created_at) FROM outbox), "
                            "(SELECT max(at) FROM audit_log)) AS at")[0]
    if row.at is None:
        raise SystemExit(f"{service}: the restored database has no event and no audit entry; give --since")
    return row.at


# -- 1. what was lost -----------------------------------------------------------------------------

def lost_events(dbs, service, since):
    """Events of ``service`` that a consumer applied since ``since`` and the restored outbox lacks."""
    found = []
    for consumer in settings.SERVICES:
        handlers = {h: et for h, (src, et) in consumed_events(consumer).items() if src == service}
        if not handlers or consumer == service:
            continue
        seen = dbs.rows(consumer, "SELECT handler, event_id::text AS event_id, processed_at FROM inbox "
                                  "WHERE handler = ANY(:h) AND processed_at >= :since ORDER BY processed_at",
                        h=list(handlers), since=since)
        if not seen:
            continue
        held = {r.event_id for r in dbs.rows(service, "SELECT event_id::text AS event_id FROM outbox "
                                                      "WHERE event_id = ANY(CAST(:ids AS uuid[]))",
                                             ids=[r.event_id for r in seen])}
        found += [{"consumer": consumer, "handler": r.handler, "event_type": handlers[r.handler],
                   "event_id": r.event_id, "applied_at": r.processed_at.isoformat()}
                  for r in seen if r.event_id not in held]
    return found


def lost_enrollment_facts(dbs, since):
    """Learners and headcounts reporting knows in a newer state than the restored enrollment."""
    learners = []
    facts = dbs.rows("reporting", "SELECT round_id, learner_id, version, institution_id, grade, sex, active "
                                  "FROM rp_learners WHERE updated_at >= :since ORDER BY round_id, learner_id",
                     since=since)
    if facts:
        own = {r.id: r for r in dbs.rows("enrollment", "SELECT id, version, status FROM learners "
                                                       "WHERE id = ANY(:ids)",
                                         ids=[f.learner_id for f in facts])}
        for f in facts:
            mine = own.get(f.learner_id)
            if mine is not None and mine.version >= f.version:
                continue
            if mine is None:
                change = "added" if f.active else "added_and_removed"
            elif not f.active and mine.status == "active":
                change = "removed"
            else:
                change = "changed"
            learners.append({"round_id": f.round_id, "learner_id": f.learner_id, "change": change,
                             "institution_id": f.institution_id, "grade": f.grade, "sex": f.sex,
                             "version_seen": f.version, "version_restored": mine.version if mine else None})
    headcounts = []
    facts = dbs.rows("reporting", "SELECT round_id, school_id, version, total FROM rp_headcounts "
                                  "WHERE updated_at >= :since ORDER BY round_id, school_id", since=since)
    if facts:
        own = {(r.round_id, r.school_id): r.version
               for r in dbs.rows("enrollment", "SELECT round_id, school_id, version FROM headcounts "
                                               "WHERE NOT draft AND school_id = ANY(:ids)",
                                 ids=[f.school_id for f in facts])}
        headcounts = [{"round_id": f.round_id, "school_id": f.school_id, "total_seen": f.total,
                       "version_seen": f.version, "version_restored": own.get((f.round_id, f.school_id))}
                      for f in facts if own.get((f.round_id, f.school_id), 0) < f.version]
    return {"learners": learners, "headcounts": headcounts}


# -- 2. ids ---------------------------------------------------------------------------------------

def advance_sequences(dbs, service):
    moved = []
    for table, consumer, their_table, column in SHARED_IDS.get(service, ()):
        seen = dbs.rows(consumer, f"SELECT coalesce(max({column}), 0) AS n FROM {their_table}")[0].n
        row = dbs.rows(service, f"SELECT pg_get_serial_sequence('{table}', 'id') AS seq, "
                                f"coalesce((SELECT max(id) FROM {table}), 0) AS n")[0]
        if row.seq and seen > row.n:
            dbs.rows(service, "SELECT setval(:seq, greatest(:n, (SELECT last_value FROM "
                              f"{row.seq})))", seq=row.seq, n=seen)
            moved.append({"table": table, "past": seen})
    return moved


# -- 3. upstream events again ---------------------------------------------------------------------

def resend_upstream(dbs, service, since):
    """Mark the outbox rows of every service ``service`` consumes from, created since ``since``,
    unpublished: their relays send them again."""
    sources = sorted({src for src, _ in consumed_events(service).values() if src != service})
    resent = {}
    for source in sources:
        resent[source] = dbs.run(source, "UPDATE outbox SET published_at = NULL "
                                         "WHERE created_at >= :since AND published_at IS NOT NULL",
                                 since=since)
    return resent


def wait_published(dbs, services, timeout):
    deadline = time.monotonic() + timeout
    while True:
        pending = {s: dbs.rows(s, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")[0].n
                   for s in services}
        if not any(pending.values()) or time.monotonic() > deadline:
            return pending
        time.sleep(0.5)


# -- 5, 6. read model and seals ----------------------------------------------------------------------

def forget_newer_facts(dbs, lost):
    """Drop reporting's facts that are newer than the restored owner's records. The rebuild keeps a
    fact whose version is above the owner's (an event that came in while it ran); after a restore the
    owner's older version is the truth, so those facts go first and the rebuild puts the owner's back."""
    dropped = 0
    for kind, table, key in (("learners", "rp_learners", "learner_id"),
                             ("headcounts", "rp_headcounts", "school_id")):
        for item in lost.get(kind, ()):
            dropped += dbs.run("reporting", f"DELETE FROM {table} WHERE round_id = :r AND {key} = :k",
                               r=item["round_id"], k=item[key])
    return dropped


def rebuild_and_check(proxy, rounds):
    results = []
    for round_id in rounds:
        rebuilt = proxy.reporting.rebuild(round_id)
        checked = proxy.reporting.check(round_id)
        results.append({"round_id": round_id, "rebuilt": rebuilt["rounds"], "ok": checked["ok"],
                        "mismatches": checked["mismatches"],
                        "state_mismatches": checked["state_mismatches"]})
    return results


def seal_differences(dbs, proxy, rounds):
    """Units whose confirmation state (confirmed or open) and enrollment seal disagree."""
    differ = []
    for round_id in rounds:
        rows = dbs.rows("confirmation", "SELECT unit_id, state FROM confirmations WHERE round_id = :r "
                                        "AND state = ANY(:states) AND unit_type = ANY(:types)",
                        r=round_id, states=[OPEN, CONFIRMED], types=list(SEALED_TYPES))
        if not rows:
            continue
        seals = proxy.enrollment.seal_state(round_id, [r.unit_id for r in rows])
        for r in rows:
            sealed = bool((seals.get(str(r.unit_id)) or {}).get("sealed"))
            if (r.state == CONFIRMED) != sealed:
                differ.append({"round_id": round_id, "unit_id": r.unit_id, "state": r.state,
                               "sealed": sealed})
    return differ


def wait_seals(dbs, proxy, rounds, timeout):
    deadline = time.monotonic() + timeout
    while True:
        differ = seal_differences(dbs, proxy, rounds)
        if not differ or time.monotonic() > deadline:
            return differ
        time.sleep(1)


def failed_events(dbs):
    return {s: dbs.rows(s, "SELECT count(*) AS n FROM failed_events")[0].n for s in settings.SERVICES}


# -- the whole procedure ---------------------------------------------------------------------------

def converge(service, since=None, report_only=False, timeout=300.0, rounds=()):
    """Run the steps above for the restored ``service``; returns the report (``ok``: converged)."""
    dbs = Databases()
    try:
        since = since or backup_point(dbs, service)
        report = {"service": service, "backup_point": since.isoformat(),
                  "lost": {"events": lost_events(dbs, service, since)}}
        if service == "enrollment":
            report["lost"].update(lost_enrollment_facts(dbs, since))
        touched = set(int(r) for r in rounds)
        touched |= {x["round_id"] for kind in ("learners", "headcounts")
                    for x in report["lost"].get(kind, ())}
        report["rounds"] = sorted(touched)
        if report_only:
            return report
        report["sequences_advanced"] = advance_sequences(dbs, service)
        report["upstream_resent"] = resend_upstream(dbs, service, since)
        report["outbox_pending"] = wait_published(
            dbs, [service, *report["upstream_resent"]], timeout)
        report["reporting_facts_dropped"] = forget_newer_facts(dbs, report["lost"])
        from nameko.standalone.rpc import ClusterRpcProxy
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=timeout,
                             context_data=system_context("operator"),
                             reply_listener_cls=ClassicStandaloneReplyListener) as proxy:
            report["reporting"] = rebuild_and_check(proxy, report["rounds"])
            report["seal_differences"] = wait_seals(dbs, proxy, report["rounds"], min(timeout, 120))
        report["failed_events"] = failed_events(dbs)
        report["ok"] = (not any(report["outbox_pending"].values())
                        and all(r["ok"] for r in report["reporting"])
                        and not report["seal_differences"] and not any(report["failed_events"].values()))
        return report
    finally:
        dbs.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Bring the system in line after a service's database "
                                                 "was restored to an earlier point.")
    parser.add_argument("service", choices=settings.SERVICES)
    parser.add_argument("--since", type=dt.datetime.fromisoformat,
                        help="the backup point (ISO 8601 with offset); "
                             "default: the restored copy's last event")
    parser.add_argument("--dump",
                        help="the pg_dump -Fc archive restored: its creation time is the backup point")
    parser.add_argument("--round", type=int, action="append", default=[],
                        help="also rebuild and check this round (repeatable)")
    parser.add_argument("--report-only", action="store_true", help="list what was lost; change nothing")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    since = args.since or (dump_time(args.dump) if args.dump else None)
    if since is not None and since.tzinfo is None:
        parser.error("--since needs a UTC offset, e.g. 2026-11-27T10:00:00+07:00")
    report = converge(args.service, since=since, report_only=args.report_only,
                      timeout=args.timeout, rounds=args.round)
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0 if report.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
