"""Operators' view of the events a service could not apply.

An event handler that fails stores the event in its service's
``failed_events`` table, and the service retries it with backoff (at most
every ten minutes) until it applies; ``/metrics`` counts them
(``lec_failed_events``). This command shows them and acts on them, straight on
the service's database (``<SVC>_DB_URL`` or ``LEC_PG_URL`` + ``LEC_DB_PREFIX``):

    python -m services.common.failed_events list [--service reporting]
    python -m services.common.failed_events show --service reporting 12
    python -m services.common.failed_events retry --service reporting 12   # or --all
    python -m services.common.failed_events discard --service reporting 12 --reason "..."

``retry`` makes the next attempt due now (the service's timer takes it within
``LEC_EVENT_RETRY_INTERVAL`` seconds). ``discard`` gives up on an event that can
never apply; the event, its error and the reason are kept in the service's
audit log, so nothing disappears without a trace.
"""
import argparse
import json
import sys

from sqlalchemy import delete, func, insert, select, update

from services.common import settings
from services.common.db import COMMON, make_engine

failed = COMMON.failed_events


def _engine(service):
    return make_engine(settings.database_url(service), pool_size=1, max_overflow=0)


def list_failed(service, event_row_id=None):
    """The service's failed events (or the one with ``event_row_id``), oldest first."""
    stmt = select(failed).order_by(failed.c.id)
    if event_row_id is not None:
        stmt = stmt.where(failed.c.id == event_row_id)
    engine = _engine(service)
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
    finally:
        engine.dispose()
    return [dict(r._mapping) for r in rows]


def retry(service, ids=None):
    """Make the next attempt due now: ``ids`` (None: every failed event). Returns how many."""
    engine = _engine(service)
    try:
        with engine.begin() as conn:
            stmt = update(failed).values(next_attempt_at=func.now())
            if ids is not None:
                stmt = stmt.where(failed.c.id.in_(ids))
            return conn.execute(stmt).rowcount
    finally:
        engine.dispose()


def discard(service, event_row_id, reason, operator):
    """Give up on one failed event: removed from the retries, kept in the audit log."""
    if not reason or not reason.strip():
        raise ValueError("a reason is required")
    engine = _engine(service)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(failed).where(failed.c.id == event_row_id).with_for_update()).first()
            if row is None:
                return None
            conn.execute(insert(COMMON.audit_log).values(
                actor_username=operator, action="discard_failed_event", entity="event",
                entity_id=row.event_id, details={
                    "handler": row.handler, "event_type": row.event_type, "attempts": row.attempts,
                    "error": row.error, "reason": reason.strip(), "payload": row.payload}))
            conn.execute(delete(failed).where(failed.c.id == event_row_id))
            return dict(row._mapping)
    finally:
        engine.dispose()


def _line(service, r):
    error = (r["error"] or "").splitlines()[0][:100] if r["error"] else ""
    return (f"{service:<12} {r['id']:>6} {r['handler']:<28} {r['event_type'] or '-':<18} "
            f"attempts {r['attempts']:>3}  next {r['next_attempt_at']:%Y-%m-%d %H:%M:%S}  {error}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="failed events of one service or of all")
    listing.add_argument("--service", choices=settings.SERVICES)
    for name in ("show", "retry", "discard"):
        p = sub.add_parser(name)
        p.add_argument("--service", choices=settings.SERVICES, required=True)
        if name == "retry":
            p.add_argument("ids", type=int, nargs="*")
            p.add_argument("--all", action="store_true")
        else:
            p.add_argument("id", type=int)
        if name == "discard":
            p.add_argument("--reason", required=True)
            p.add_argument("--operator", default="operator")
    args = parser.parse_args(argv)

    if args.command == "list":
        total = 0
        for service in [args.service] if args.service else settings.SERVICES:
            for r in list_failed(service):
                print(_line(service, r))
                total += 1
        print(f"{total} failed event(s)")
        return 0
    if args.command == "show":
        found = list_failed(args.service, args.id)
        if not found:
            print(f"no failed event {args.id} in {args.service}", file=sys.stderr)
            return 1
        print(json.dumps(found[0], ensure_ascii=False, indent=2, default=str))
        return 0
    if args.command == "retry":
        if not args.ids and not args.all:
            parser.error("give ids or --all")
        n = retry(args.service, None if args.all else args.ids)
        print(f"{n} failed event(s) due for another attempt now")
        return 0
    row = discard(args.service, args.id, args.reason, args.operator)
    if row is None:
        print(f"no failed event {args.id} in {args.service}", file=sys.stderr)
        return 1
    print(f"discarded {row['event_type']} {row['event_id']} (kept in {args.service}'s audit log)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
