"""The outbox relay: publishes committed events, at least once, in order of commit.

Events are written to the ``outbox`` table in the transaction of their change
(:meth:`UnitOfWork.emit`). The relay, a green thread in every service
container, takes unpublished rows with ``FOR UPDATE SKIP LOCKED`` (so replicas
share the work), publishes them as persistent messages to the nameko event
exchange ``<service>.events`` (routing key = event type) on a channel in
confirm mode, waits for the broker's confirmations of the whole batch, and
marks the confirmed ones published. A crash between publish and mark
re-publishes the rows: consumers de-duplicate by ``event_id``.
"""
import logging
import socket
import threading
import time

import amqp
from kombu import Connection
from nameko.constants import PERSISTENT
from nameko.standalone.events import get_event_exchange
from sqlalchemy import Text, and_, cast, delete, func, select, text, update

from services.common import settings
from services.common.context import TRACE_KEY
from services.common.db import COMMON

log = logging.getLogger(__name__)

outbox = COMMON.outbox
STREAM_ROWS = 50   # event bodies read from the database at a time while publishing


class PublishIncomplete(Exception):
    """The broker did not confirm every message of a batch (nack or timeout)."""


class ConfirmingChannel:
    """One AMQP channel in confirm mode that publishes a batch and then waits
    for the broker's confirmations of all of it (pipelined, not one by one)."""

    def __init__(self, amqp_uri, exchange, confirm_timeout=10.0):
        self.conn = Connection(amqp_uri, heartbeat=0, connect_timeout=5)
        self.conn.ensure_connection(max_retries=1)
        self.channel = self.conn.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.exchange_declare(exchange=exchange.name, type=exchange.type, durable=True,
                                      auto_delete=False)
        self.exchange = exchange.name
        self.confirm_timeout = confirm_timeout
        self.tag = 0            # delivery tag of the last message sent on this channel
        self.acked_upto = 0     # every tag up to this one is confirmed
        self._acked = set()
        self.nacked = None      # lowest tag the broker refused

    def _on_ack(self, tag, multiple):
        if multiple:
            self.acked_upto = max(self.acked_upto, tag)
        else:
            self._acked.add(tag)
        while self.acked_upto + 1 in self._acked:
            self.acked_upto += 1
            self._acked.discard(self.acked_upto)
        self._acked = {t for t in self._acked if t > self.acked_upto}

    def _on_nack(self, tag, multiple):
        self.nacked = tag if self.nacked is None else min(self.nacked, tag)

    def publish_all(self, messages):
        """Send ``(routing_key, json_text, headers)`` messages; return how many
        of them, from the first, the broker confirmed."""
        first = self.tag + 1
        for routing_key, body, headers in messages:
            msg = amqp.Message(body.encode("utf-8"), content_type="application/json",
                               content_encoding="utf-8", delivery_mode=PERSISTENT,
                               application_headers=headers)
            self.channel.basic_publish(msg, exchange=self.exchange, routing_key=routing_key)
            self.tag += 1
        last = self.tag
        deadline = time.monotonic() + self.confirm_timeout
        while self.acked_upto < last and self.nacked is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self.conn.drain_events(timeout=remaining)
            except socket.timeout:
                break
        confirmed_upto = self.acked_upto
        if self.nacked is not None:
            confirmed_upto = min(confirmed_upto, self.nacked - 1)
        return max(0, min(confirmed_upto, last) - first + 1)

    def close(self):
        try:
            self.conn.release()
        except Exception:  # already broken
            pass


def event_headers(row):
    """The AMQP headers of a published event: its id, and the trace of the change
    that emitted it as nameko context data (``nameko.<key>`` headers reach the
    consumer's worker context), so that its handlers continue that trace."""
    headers = {"lec.event_id": str(row.event_id)}
    if row.trace:
        headers[f"nameko.{TRACE_KEY}"] = row.trace
    return headers


class OutboxRelay:

    def __init__(self, engine, service_name, amqp_uri, poll_interval=None, batch_size=None,
                 config=None):
        self.engine = engine
        self.service_name = service_name
        self.exchange = get_event_exchange(service_name, config or {})
        self.amqp_uri = amqp_uri
        configured = settings.current()
        self.poll_interval = poll_interval or configured.outbox_poll
        self.batch_size = batch_size or configured.outbox_batch
        self.retention_hours = configured.outbox_retention_hours
        self._wake = threading.Event()
        self._stopped = False
        self._last_cleanup = 0.0
        self._channel = None
        self.published = 0

    def wake(self):
        self._wake.set()

    def stop(self):
        self._stopped = True
        self._wake.set()
        self._drop_channel()

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
                self._drop_channel()
                log.warning("outbox relay of %s failed (attempt %d); retrying",
                            self.service_name, failures, exc_info=failures == 1)
                time.sleep(min(10.0, 0.25 * 2 ** min(failures, 6)))

    def _drop_channel(self):
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def publish_batch(self):
        """Publish up to ``batch_size`` pending events in commit order and mark
        those the broker confirmed; returns how many were taken. The rows are
        locked first; their bodies then stream to the channel ``STREAM_ROWS`` at
        a time, so that a backlog of large events (a bulk change's batches of a
        thousand learners) is never held in memory at once."""
        with self.engine.begin() as conn:
            ids = conn.execute(
                select(outbox.c.id)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).scalars().all()
            if not ids:
                return 0
            if self._channel is None:
                self._channel = ConfirmingChannel(self.amqp_uri, self.exchange)
            rows = conn.execute(
                select(outbox.c.event_type, outbox.c.event_id, outbox.c.trace,
                       cast(outbox.c.payload, Text).label("body"))
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.id)
                .execution_options(yield_per=STREAM_ROWS))
            confirmed = 0
            try:
                confirmed = self._channel.publish_all(
                    (row.event_type, row.body, event_headers(row)) for row in rows)
            finally:
                rows.close()
                if confirmed:
                    conn.execute(update(outbox).where(outbox.c.id.in_(ids[:confirmed]))
                                 .values(published_at=func.now()))
                    self.published += confirmed
        if confirmed < len(ids):
            raise PublishIncomplete(f"{len(ids) - confirmed} of {len(ids)} events not confirmed")
        return len(ids)

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


def backlog(engine):
    """Unpublished events and the age in seconds of the oldest (0 when none), for
    ``/metrics``: both read through the partial index of unpublished rows."""
    with engine.connect() as conn:
        count, oldest = conn.execute(text(
            "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) "
            f"FROM {outbox.name} WHERE published_at IS NULL")).one()
    return count, max(0.0, float(oldest))


def broker_reachable(amqp_uri, timeout=3):
    with Connection(amqp_uri, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1)
        return True
