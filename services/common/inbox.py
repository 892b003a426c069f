"""Idempotent event handlers that never drop a message silently.

``@handles(source, event_type)`` declares a nameko event handler whose body
runs in a unit of work together with an ``inbox`` row keyed by
(handler, event_id): a redelivered event finds its row and is skipped. When
the body fails, the event is stored in ``failed_events`` and retried with
backoff by :class:`EventRetryMixin`'s timer; only if even that cannot be
written is the message returned to the queue.

The decorated method takes ``(self, uow, event)``. Each run is a span of its
own (services.common.tracing; events carry no trace context).
"""
import functools
import logging
import time
import traceback
from typing import Any

import eventlet
from nameko.events import event_handler
from nameko.timer import timer
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import settings, tracing
from services.common.db import COMMON

log = logging.getLogger(__name__)

inbox = COMMON.inbox
failed_events = COMMON.failed_events

MAX_BACKOFF_SECONDS = 600

# an event's inbox row, unless it has one (no row back: applied before), and its failure
# row gone, in one statement of the transaction that applies it (a rollback keeps both)
_CLAIM = text(
    f"WITH cleared AS (DELETE FROM {failed_events.name} WHERE handler = :handler AND event_id = :event_id) "
    f"INSERT INTO {inbox.name} (handler, event_id) VALUES (:handler, CAST(:event_id AS uuid)) "
    "ON CONFLICT DO NOTHING RETURNING event_id")


def handles(source_service, event_type, **kwargs):
    def decorator(fn):
        handler_name = fn.__name__

        @functools.wraps(fn)
        def wrapper(self, event):
            event_id = event.get("event_id") if isinstance(event, dict) else None
            started = time.perf_counter()
            with tracing.consumer_span(handler_name, **{
                    "messaging.system": "rabbitmq", "messaging.source.name": f"{source_service}.events",
                    "lec.event_type": event_type, "lec.event_id": str(event_id)}):
                applied = process_event(self.db, handler_name, event, lambda uow: fn(self, uow, event))
                log.info("event %s.%s %s by %s in %.1f ms", source_service, event_type,
                         "applied" if applied else "not applied (seen before, or kept to retry)", handler_name,
                         (time.perf_counter() - started) * 1000)
                return applied

        setattr(wrapper, "lec_handler", handler_name)  # how the retry timer recognises it
        return event_handler(source_service, event_type, requeue_on_error=True, **kwargs)(wrapper)

    return decorator


def process_event(db, handler_name, event, apply):
    event_id = event.get("event_id") if isinstance(event, dict) else None
    try:
        if not event_id:
            raise ValueError("event without event_id")
        with db.uow() as uow:
            claimed = uow.execute(_CLAIM, {"handler": handler_name, "event_id": str(event_id)}).first()
            if claimed is None:
                return False  # already applied: a redelivery
            apply(uow)
            uow.commit()
            return True
    except Exception as exc:
        log.warning("handler %s failed on event %s: %s", handler_name, event_id, exc)
        try:
            record_failure(db, handler_name, event, exc)
        except Exception:
            log.exception("could not record failed event %s; returning it to the queue", event_id)
            eventlet.sleep(1)
            raise
        return False


def record_failure(db, handler_name, event, exc):
    event_id = str((event or {}).get("event_id") or f"malformed-{id(event)}")
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
    with db.uow() as uow:
        stmt = pg_insert(failed_events).values(
            handler=handler_name, event_id=event_id,
            event_type=(event or {}).get("type") if isinstance(event, dict) else None,
            payload=event if isinstance(event, dict) else {"raw": repr(event)},
            error=error,
        )
        backoff = func.least(MAX_BACKOFF_SECONDS, func.power(2, failed_events.c.attempts))
        stmt = stmt.on_conflict_do_update(
            constraint="uq_failed_events_handler_event",
            set_={
                "attempts": failed_events.c.attempts + 1,
                "error": error,
                "next_attempt_at": func.now() + func.make_interval(0, 0, 0, 0, 0, 0, backoff),
            },
        )
        uow.execute(stmt)
        uow.commit()


class EventRetryMixin:
    """Adds a timer that re-runs failed events whose backoff has passed."""
    db: Any  # the service's Database dependency

    @timer(interval=settings.current().event_retry_interval)
    def retry_failed_events(self):
        with self.db.session() as session:
            rows = session.execute(
                select(failed_events.c.handler, failed_events.c.payload)
                .where(failed_events.c.next_attempt_at <= func.now())
                .order_by(failed_events.c.id).limit(100)
            ).all()
        for row in rows:
            method = getattr(self, row.handler, None)
            if method is None or not hasattr(method, "lec_handler"):
                self._postpone(row.handler, row.payload)
                continue
            method(row.payload)

    def _postpone(self, handler, payload):
        with self.db.uow() as uow:
            uow.execute(update(failed_events)
                        .where(failed_events.c.handler == handler,
                               failed_events.c.event_id == str(payload.get("event_id")))
                        .values(next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 1)))
            uow.commit()


def failed_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(failed_events)).scalar_one()
