"""The outbox relay: publishes committed events, at least once, in order of commit.

Events are written to the ``outbox`` table in the transaction of their change
(:meth:`UnitOfWork.emit`). The relay, a green thread in every service
container, takes unpublished rows with ``FOR UPDATE SKIP LOCKED`` (so replicas
share the work), publishes each as a persistent message with publisher
confirms to the nameko event exchange ``<service>.events`` (routing key =
event type), and marks it published. A crash between publish and mark
re-publishes the row: consumers de-duplicate by ``event_id``.
"""
import logging
import threading
import time

from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from nameko.standalone.events import get_event_exchange
from sqlalchemy import and_, delete, func, select, update

from services.common import settings
from services.common.db import COMMON

log = logging.getLogger(__name__)

outbox = COMMON.outbox


class OutboxRelay:

    def __init__(self, engine, service_name, amqp_uri, poll_interval=None, batch_size=200,
                 config=None):
        self.engine = engine
        self.service_name = service_name
        self.exchange = get_event_exchange(service_name, config or {})
        self.amqp_uri = amqp_uri
        self.publisher = Publisher(
            amqp_uri, use_confirms=True, delivery_mode=PERSISTENT,
            declare=[self.exchange], retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5,
                          "interval_max": 1},
        )
        self.poll_interval = poll_interval or settings.env_float("LEC_OUTBOX_POLL", 1.0)
        self.batch_size = batch_size
        self.retention_hours = settings.env_float("LEC_OUTBOX_RETENTION_HOURS", 72)
        self._wake = threading.Event()
        self._stopped = False
        self._last_cleanup = 0.0
        self.published = 0

    def wake(self):
        self._wake.set()

    def stop(self):
        self._stopped = True
        self._wake.set()

    def run(self):
        failures = 0
        while not self._stopped:
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if self._stopped:
                break
            try:
                while self.publish_batch() >= self.batch_size and not self._stopped:
                    pass
                self.cleanup()
                failures = 0
            except Exception:  # broker or database away: keep the rows, try again
                failures += 1
                log.warning("outbox relay of %s failed (attempt %d); retrying",
                            self.service_name, failures, exc_info=failures == 1)
                time.sleep(min(10.0, 0.25 * 2 ** min(failures, 6)))

    def publish_batch(self):
        """Publish up to ``batch_size`` pending events; returns how many were taken."""
        error = None
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.event_type, outbox.c.payload)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            done = []
            for row in rows:
                try:
                    self.publisher.publish(
                        row.payload, exchange=self.exchange, routing_key=row.event_type,
                        headers={"lec.event_id": row.payload.get("event_id", "")},
                    )
                except Exception as exc:
                    error = exc
                    break
                done.append(row.id)
            if done:
                conn.execute(update(outbox).where(outbox.c.id.in_(done))
                             .values(published_at=func.now()))
                self.published += len(done)
        if error is not None:
            raise error
        return len(rows)

    def cleanup(self):
        now = time.monotonic()
        if now - self._last_cleanup < 600:
            return
        self._last_cleanup = now
        with self.engine.begin() as conn:
            conn.execute(delete(outbox).where(and_(
                outbox.c.published_at.is_not(None),
                outbox.c.published_at < func.now() - func.make_interval(0, 0, 0, 0, int(self.retention_hours)),
            )))


def pending_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox)
                            .where(outbox.c.published_at.is_(None))).scalar_one()


def broker_reachable(amqp_uri, timeout=3):
    with Connection(amqp_uri, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1)
        return True
