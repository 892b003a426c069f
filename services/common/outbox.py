"""The outbox relay: publishes committed events, at least once, in order of commit.

Events are written to the ``outbox`` table in the transaction of their change
(:meth:`UnitOfWork.emit`). The relay, a green thread in every service
container, takes unpublished rows with ``FOR UPDATE SKIP LOCKED`` (so replicas
share the work), publishes them as persistent messages to the nameko event
exchange ``<service>.events`` (routing key = event type) on a channel in
confirm mode, waits for the broker's confirmations of the whole batch, and
marks the confirmed ones published. A crash between publish and mark
re-publishes the rows: consumers de-duplicate by ``event_id``.

The relay runs as soon as events are committed, from whichever process: the
statement that inserts them also notifies ``OUTBOX_CHANNEL``, delivered at
commit, and a second green thread of every container (:meth:`OutboxRelay.listen`)
LISTENs on a connection of its own and wakes its relay. A commit in the same
process also wakes it directly, a moment sooner (``UnitOfWork.commit``). The poll
(``LEC_OUTBOX_POLL``) remains the fallback: rows written while the listening
connection was down, or by anything that does not notify, leave at the next one.
"""
import collections
import itertools
import logging
import select as fd_select
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
from services.common.db import COMMON, OUTBOX_CHANNEL

log = logging.getLogger(__name__)

outbox = COMMON.outbox
STREAM_ROWS = 50   # event bodies read from the database at a time while publishing
TAKEN_KEPT = 4096   # ids of the rows a relay took lately, kept to recognise notifications of them
LISTEN_CHECK = 10.0   # seconds without a notification after which the listening connection is tested


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
        _close_quietly(self.conn)


def _ids(payload):
    """The outbox ids a notification names, or None (it names none: look)."""
    if not payload:
        return None
    try:
        return [int(i) for i in payload.split(",")]
    except ValueError:
        return None


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
        self._conn = None
        self.published = 0
        self.passes = 0                     # times the relay has looked for events
        self.notified = 0                   # notifications heard
        # ids of the rows this relay took lately: a notification naming only those is
        # news of a commit the relay has acted on already (its process woke it)
        self._taken: collections.deque = collections.deque(maxlen=TAKEN_KEPT)
        self._taken_set: set = set()
        self._news_lock = threading.Lock()
        self._news: set = set()      # ids notified since the last look
        self._unknown_news = False   # a notification that named no ids
        self._in_pass = False
        self.listening = threading.Event()  # set while ``listen`` has its LISTEN in place

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
            self._begin_pass()
            if self._stopped:
                break
            try:
                while self.publish_batch() >= self.batch_size and not self._stopped:
                    pass
                self.passes += 1
                self.cleanup()
                failures = 0
            except Exception:  # broker or database away: keep the rows, try again
                failures += 1
                self._drop_channel()
                log.warning("outbox relay of %s failed (attempt %d); retrying",
                            self.service_name, failures, exc_info=failures == 1)
                time.sleep(min(10.0, 0.25 * 2 ** min(failures, 6)))
            finally:
                self._end_pass()

    def _begin_pass(self):
        with self._news_lock:
            self._wake.clear()
            # what was heard until now, this pass sees (committed before its first look)
            self._in_pass, self._news, self._unknown_news = True, set(), False

    def _end_pass(self):
        # news heard during the pass of rows it did not take: look again
        with self._news_lock:
            self._in_pass = False
            if self._unrequited():
                self.wake()

    def heard(self, payloads):
        """Notifications of commits (each naming the outbox ids it wrote, or nothing):
        the relay is woken unless it took all those rows already. During a pass they
        wait for its end: the pass may be taking them as they arrive."""
        with self._news_lock:
            self.notified += len(payloads)
            self._weigh(payloads)

    def committed(self, payloads=()):
        """A commit in this process, with what it notified: weighed as its notification
        will be, whichever of the two comes first (the other then finds the rows taken,
        or waits for the pass taking them). Given nothing, the relay looks."""
        with self._news_lock:
            self._weigh(payloads or [""])

    def _weigh(self, payloads):
        for payload in payloads:
            ids = _ids(payload)
            if ids is None:
                self._unknown_news = True
            else:
                self._news.update(ids)
        # woken under the lock: a pass starting now clears the wake with the news
        if not self._in_pass and self._unrequited():
            self.wake()

    def _unrequited(self):
        """Was anything heard that this relay has not taken? (Forgets what was heard.)"""
        again = self._unknown_news or any(i not in self._taken_set for i in self._news)
        self._news, self._unknown_news = set(), False
        return again

    def listen(self):
        """Wake the relay at every ``NOTIFY`` on ``OUTBOX_CHANNEL`` (a commit of
        events by any process of the service), on a connection of its own
        (cooperative under eventlet: it waits in ``select``). When the
        connection fails it is opened again; the relay is woken each time
        listening starts, for what committed while nobody listened."""
        failures = 0
        while not self._stopped:
            conn = None
            try:
                conn = self._listening_connection()
                failures = 0
                self.listening.set()
                self.wake()
                while not self._stopped:
                    if not fd_select.select([conn], [], [], LISTEN_CHECK)[0]:
                        with conn.cursor() as cursor:   # still there? (a dead one hears nothing)
                            cursor.execute("SELECT 1")
                    conn.poll()
                    if conn.notifies:
                        news = [n.payload for n in conn.notifies]
                        conn.notifies.clear()
                        self.heard(news)
            except Exception:  # database away: the poll carries on meanwhile
                if self._stopped:
                    break
                failures += 1
                log.warning("outbox listener of %s failed (attempt %d); retrying",
                            self.service_name, failures, exc_info=failures == 1)
                time.sleep(min(10.0, 0.25 * 2 ** min(failures, 6)))
            finally:
                self.listening.clear()
                _close_quietly(conn)

    def _took(self, ids):
        taken, known = self._taken, self._taken_set
        for i in ids:
            if len(taken) == taken.maxlen:
                known.discard(taken[0])
            taken.append(i)
            known.add(i)

    def _listening_connection(self):
        """A DBAPI connection outside the pool, in autocommit, listening."""
        pooled = self.engine.raw_connection()
        pooled.detach()
        conn = pooled.dbapi_connection
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"LISTEN {OUTBOX_CHANNEL}")
        return conn

    def _drop_channel(self):
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
        conn, self._conn = self._conn, None
        _close_quietly(conn)

    def publish_batch(self):
        """Publish up to ``batch_size`` pending events in commit order and mark
        those the broker confirmed; returns how many were taken. The first
        ``STREAM_ROWS`` rows are locked and read in one statement (the usual
        pass: a few events, four round trips to the database); the rest of a
        batch is locked next and its bodies stream to the channel
        ``STREAM_ROWS`` at a time, so that a backlog of large events (a bulk
        change's batches of a thousand learners) is never held in memory at once."""
        conn = self._connection()
        with conn.begin():
            head = min(STREAM_ROWS, self.batch_size)
            first = conn.execute(
                select(outbox.c.id, outbox.c.event_type, outbox.c.event_id, outbox.c.trace,
                       cast(outbox.c.payload, Text).label("body"))
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(head)
                .with_for_update(skip_locked=True)
            ).all()
            if not first:
                return 0
            ids = [row.id for row in first]
            if len(first) == head and self.batch_size > head:
                ids += conn.execute(
                    select(outbox.c.id)
                    .where(outbox.c.published_at.is_(None), outbox.c.id > ids[-1])
                    .order_by(outbox.c.id)
                    .limit(self.batch_size - head)
                    .with_for_update(skip_locked=True)
                ).scalars().all()
            self._took(ids)
            if self._channel is None:
                self._channel = ConfirmingChannel(self.amqp_uri, self.exchange)
            rest = None
            if len(ids) > len(first):
                rest = conn.execute(
                    select(outbox.c.event_type, outbox.c.event_id, outbox.c.trace,
                           cast(outbox.c.payload, Text).label("body"))
                    .where(outbox.c.id.in_(ids[len(first):]))
                    .order_by(outbox.c.id)
                    .execution_options(yield_per=STREAM_ROWS))
            confirmed = 0
            try:
                confirmed = self._channel.publish_all(
                    (row.event_type, row.body, event_headers(row))
                    for row in itertools.chain(first, rest if rest is not None else ()))
            finally:
                if rest is not None:
                    rest.close()
                if confirmed:
                    conn.execute(update(outbox).where(outbox.c.id.in_(ids[:confirmed]))
                                 .values(published_at=func.now()))
                    self.published += confirmed
        if confirmed < len(ids):
            raise PublishIncomplete(f"{len(ids) - confirmed} of {len(ids)} events not confirmed")
        return len(ids)

    def _connection(self):
        """The relay's own connection, kept between passes (no checkout and ping
        before each); dropped on a failure, opened again at the next pass."""
        if self._conn is None:
            self._conn = self.engine.connect()
        return self._conn

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


def _close_quietly(conn):
    """Close a connection (of the database or the broker) that may be broken already."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # already broken
        pass


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
