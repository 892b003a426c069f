"""Database access for a nameko service: one engine per container, a unit of
work per use case, audit rows and outbox events written in the same
transaction as the change they describe.
"""
import datetime as dt
import logging
import re
import time
import uuid
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker

from services.common import settings, tracing
from services.common.context import REQUEST_ID_KEY, worker_actor
from services.common.jsonutil import dumps, isoformat, plain, utcnow
from services.common.tables import add_common_tables

log = logging.getLogger(__name__)

COMMON = add_common_tables(MetaData())

_psycopg_patched = False


def _cooperative_psycopg():
    """Make psycopg2 yield to other green threads while it waits on the socket."""
    global _psycopg_patched
    if _psycopg_patched:
        return
    try:
        from eventlet import patcher
        if not patcher.is_monkey_patched("socket"):
            return
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()
        _psycopg_patched = True
    except ImportError:  # pragma: no cover - eventlet is a dependency
        pass


# a pooled connection idle longer than this is tested before use (see ``_ping_when_idle``)
PING_AFTER_IDLE = 1.0


def make_engine(url, pool_size=10, **kwargs):
    """The engine of every service, tool and migration. Its errors never show the
    values of a statement: they may be a learner's name or national ID, and errors
    end up in logs. So the parameters are hidden (``hide_parameters``) and so is
    what PostgreSQL quotes of them (:func:`scrub_database_error`)."""
    _cooperative_psycopg()
    engine = create_engine(
        settings.normalise_db_url(url),
        pool_size=pool_size,
        max_overflow=kwargs.pop("max_overflow", pool_size),
        pool_timeout=kwargs.pop("pool_timeout", 30),
        pool_recycle=1800,
        hide_parameters=True,
        **kwargs,
    )
    event.listen(engine, "handle_error", scrub_database_error)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine):
    """The pool's pre-ping, for connections idle more than ``PING_AFTER_IDLE`` seconds:
    a connection given back a moment ago is used as it is (a busy service would
    otherwise pay a round trip per checkout), one that waited longer is tested
    and, if dead, replaced before the caller sees it. A database that goes away
    under load fails the statements in flight; the pool then discards every
    connection older than the failure (SQLAlchemy's disconnect handling)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def connected(dbapi_connection, record):
        record.info["lec_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def checked_in(dbapi_connection, record):
        if record is not None:
            record.info["lec_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, proxy):
        if time.monotonic() - record.info.get("lec_idle_since", 0.0) <= PING_AFTER_IDLE:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("the connection was closed while idle")


# what PostgreSQL adds to a message that quotes the statement or the row: the
# statement's line ("LINE 1: ... WHERE id_number LIKE '3100600445635%' ..."; psycopg2
# sends the values inside the statement), its caret, DETAIL ("Key (...)=(...)",
# "Failing row contains (...)") and CONTEXT
_QUOTING_LINES = re.compile(r"^(?:LINE \d+:.*|\s*\^\s*|DETAIL:.*|CONTEXT:.*)(?:\n|$)", re.M)
# a value quoted in the message itself: 'invalid input syntax for type bigint: "..."',
# 'value "..." is out of range'
_QUOTED_VALUE = re.compile(r'(:\s+|\bvalue\s+)"[^"\n]*"')


def scrub_message(message):
    """A database error message without the values it quotes."""
    return _QUOTED_VALUE.sub(r'\1"..."', _QUOTING_LINES.sub("", message))


def scrub_database_error(context):
    """``handle_error`` listener: the driver's error and SQLAlchemy's (which
    chains it) say what failed and in which statement, never with which values.
    The error's ``diag`` (constraint name, SQLSTATE) stays for the code that
    decides on it."""
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str):
            exc.args = (scrub_message(exc.args[0]),) + tuple(exc.args[1:])


def make_event(event_type, body, actor=None, occurred_at=None, body_is_plain=False):
    """The envelope every event carries: id, type, version, time, then the body."""
    event = {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": occurred_at or isoformat(utcnow()),
    }
    event.update(body if body_is_plain else plain(body))
    if actor is not None and "actor" not in event:
        event["actor"] = {"user_id": actor.user_id, "username": actor.username}
    return event


# the channel on which a commit of outbox rows wakes the relay of every process of the
# service (NOTIFY is per database, so the channel needs no service name); the notification
# goes with the insert's (sub)transaction: delivered at its commit, dropped with its rollback
OUTBOX_CHANNEL = "lec_outbox"

# the ids a notification names at most (beyond, it names none: "look"; a payload holds
# 8,000 bytes)
NOTIFY_IDS = 100

# the audit rows and events of a unit of work, written by one statement when it commits
# (or before anything else touches its session): ``:audits`` and ``:events`` are JSON
# arrays, inserted in the order they were given; the notification goes only with events,
# naming their outbox ids (a relay that took them already need not look again). The
# statement returns what it notified: the commit tells its own process's relay the same.
_WRITE_PENDING = text(
    f"WITH audited AS (INSERT INTO {COMMON.audit_log.name} "
    "(actor_id, actor_username, actor_unit_id, action, entity, entity_id, details, request_id) "
    "SELECT CAST(a->>'actor_id' AS bigint), a->>'actor_username', CAST(a->>'actor_unit_id' AS bigint), "
    "a->>'action', a->>'entity', a->>'entity_id', NULLIF(a->'details', 'null'::jsonb), a->>'request_id' "
    "FROM jsonb_array_elements(CAST(:audits AS jsonb)) WITH ORDINALITY AS t(a, n) ORDER BY n), "
    f"emitted AS (INSERT INTO {COMMON.outbox.name} (event_id, event_type, payload, trace) "
    "SELECT CAST(e->'event'->>'event_id' AS uuid), e->'event'->>'type', e->'event', e->>'trace' "
    "FROM jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS t(e, n) ORDER BY n "
    "RETURNING id) "
    f"SELECT pg_notify('{OUTBOX_CHANNEL}', news), news FROM (SELECT CASE WHEN count(*) <= {NOTIFY_IDS} "
    "THEN string_agg(CAST(id AS text), ',') ELSE '' END AS news FROM emitted HAVING count(*) > 0) AS n")


class UnitOfWork:
    """A transaction: commit applies the change, its audit rows and its events
    together; leaving the block without commit rolls everything back.

    Audit rows and events wait in the unit of work and go to the database in
    one statement, just before the commit, or before the next statement of
    the unit of work (:meth:`execute`, or anything done through
    :attr:`session`, a savepoint included): an edit's change, its audit row
    and its event cost the database one round trip for the last two. (So an
    audit row or event made inside a savepoint stays if the savepoint is rolled
    back: make them outside it.)"""

    def __init__(self, session, actor=None, request_id=None, on_events=None, sessions=None):
        self._session = session
        self.actor = actor
        self.request_id = request_id
        self._on_events = on_events
        self._sessions = sessions
        self._news = []       # what this transaction's writes notified (outbox ids)
        self._audits = []     # audit rows not written yet
        self._pending = []    # {"event", "trace"} not written yet
        self.events = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self._audits, self._pending = [], []
        try:
            self._session.rollback()
        finally:
            self._session.close()

    @property
    def session(self):
        """The session, with what waits written first (a caller's statement or savepoint
        then comes after the audit rows and events before it, as written)."""
        self.flush()
        return self._session

    def flush(self):
        """Write the audit rows and events that wait (one statement)."""
        if not (self._audits or self._pending):
            return
        audits, pending = self._audits, self._pending
        self._audits, self._pending = [], []
        written = self._session.execute(
            _WRITE_PENDING, {"audits": dumps(audits), "events": dumps(pending)}).first()
        if written is not None:   # events were written (audit rows alone notify nobody)
            self._news.append(written.news)

    def execute(self, statement, params=None):
        return self.session.execute(statement, params)

    def emit(self, event_type, body, include_actor=True):
        """Queue an event in the outbox; the relay publishes it after commit (the
        same statement notifies ``OUTBOX_CHANNEL``: the commit wakes every relay
        of the service, in whichever process)."""
        event = make_event(event_type, body, self.actor if include_actor else None)
        self._pending.append({"event": event, "trace": tracing.traceparent()})
        self.events.append(event)
        return event

    def emit_many(self, event_type, bodies, include_actor=True):
        """Queue many events of one type (bulk changes), written with the rest.
        (The events kept in ``self.events`` hold the bodies as given.)"""
        actor = self.actor if include_actor else None
        occurred_at = isoformat(utcnow())
        events = [make_event(event_type, body, actor, occurred_at, body_is_plain=True)
                  for body in bodies]
        if events:
            trace = tracing.traceparent()
            self._pending.extend({"event": event, "trace": trace} for event in events)
            self.events.extend(events)
        return events

    def audit(self, action, entity, entity_id=None, details=None):
        actor = self.actor
        self._audits.append({
            "actor_id": actor.user_id if actor else None,
            "actor_username": actor.username if actor else "system",
            "actor_unit_id": actor.org_unit_id if actor else None,
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "details": plain(details) if details is not None else None,
            "request_id": self.request_id,
        })

    def commit(self):
        self.flush()
        self._session.commit()
        news, self._news = self._news, []
        if news and self._on_events is not None:   # events were written: tell the relay
            self._on_events(news)

    def rollback(self):
        """Undo what the current transaction did (its events too); the next
        statement starts the next transaction."""
        self._audits, self._pending, self._news = [], [], []
        self._session.rollback()

    def fork(self):
        """A second unit of work of the same caller, on a connection of its own:
        for the rare use case that keeps a row locked in this one while steps
        commit in the other (an approval holding its request while each
        revocation commits)."""
        return UnitOfWork(self._sessions(), self.actor, self.request_id, self._on_events,
                          self._sessions)


class DbHandle:
    """What a service worker sees as ``self.db``."""

    def __init__(self, provider, actor=None, request_id=None):
        self._provider = provider
        self.actor = actor
        self.request_id = request_id

    @property
    def engine(self):
        return self._provider.engine

    def uow(self):
        return UnitOfWork(self._provider.Session(), self.actor, self.request_id,
                          self._provider.wake_relay, self._provider.Session)

    @contextmanager
    def session(self):
        """A read-only session (rolled back at the end)."""
        session = self._provider.Session()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


class Database(DependencyProvider):
    """Engine per container, unit of work per call, and the outbox relay.

    The database URL comes from the container config key ``<SERVICE>_DB_URL``
    or from the environment (``services.common.settings.database_url``).
    """

    def __init__(self, service_name, relay=True, on_start=None):
        self.service_name = service_name
        self.relay_enabled = relay
        self.on_start = on_start
        self.engine = None
        self.Session = None
        self.relay = None

    def setup(self):
        config = self.container.config
        url = config.get(f"{self.service_name.upper()}_DB_URL") or settings.database_url(self.service_name)
        workers = int(config.get("max_workers", 10))
        # a few connections kept open; bursts borrow more and give them back
        self.engine = make_engine(url, pool_size=settings.current().db_pool_size,
                                  max_overflow=workers + 4)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        if self.relay_enabled:
            from services.common.outbox import OutboxRelay
            self.relay = OutboxRelay(
                self.engine, self.service_name,
                config.get("AMQP_URI") or settings.amqp_uri(), config=config)

    def start(self):
        if self.on_start is not None:
            self.on_start(self.engine)
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")
            self.container.spawn_managed_thread(self.relay.listen, identifier="outbox-listen")

    def stop(self):
        if self.relay is not None:
            self.relay.stop()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.stop()

    def wake_relay(self, news=()):
        """A commit of events in this process, with what it notified: the relay is
        told at once (the notification, which reaches every process's relay, comes
        a moment later and then finds those rows taken)."""
        if self.relay is not None:
            self.relay.committed(news)

    def get_dependency(self, worker_ctx):
        """``self.db.actor``: the caller's acting user, or for the service's own
        timers and event handlers its system actor (``worker_actor``)."""
        actor = worker_actor(worker_ctx)
        return DbHandle(self, actor, (worker_ctx.data or {}).get(REQUEST_ID_KEY))


def array_literal(values):
    """A PostgreSQL array literal (``{"a",NULL,"b"}``) of texts, dates or integers: one
    parameter that the server reads as a whole, where a list would be sent as an
    ``ARRAY[...]`` expression of one constant per element to parse and plan."""
    return "{" + ",".join("NULL" if v is None else _array_element(v) for v in values) + "}"


def _array_element(value):
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
