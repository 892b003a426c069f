"""Database access for a nameko service: one engine per container, a unit of
work per use case, audit rows and outbox events written in the same
transaction as the change they describe.
"""
import logging
import re
import uuid
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, create_engine, event, func, insert, text
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
        pool_pre_ping=True,
        pool_timeout=kwargs.pop("pool_timeout", 30),
        pool_recycle=1800,
        hide_parameters=True,
        **kwargs,
    )
    event.listen(engine, "handle_error", scrub_database_error)
    return engine


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

_INSERT_EVENTS = text(
    f"WITH inserted AS (INSERT INTO {COMMON.outbox.name} (event_id, event_type, payload, trace) "
    "SELECT CAST(e->>'event_id' AS uuid), e->>'type', e, CAST(:trace AS text) "
    "FROM jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS t(e, n) ORDER BY n) "
    f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")


class UnitOfWork:
    """A transaction: commit applies the change, its audit rows and its events
    together; leaving the block without commit rolls everything back."""

    def __init__(self, session, actor=None, request_id=None, on_events=None, sessions=None):
        self.session = session
        self.actor = actor
        self.request_id = request_id
        self._on_events = on_events
        self._sessions = sessions
        self._emitted = False
        self.events = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def execute(self, statement, params=None):
        return self.session.execute(statement, params)

    def emit(self, event_type, body, include_actor=True):
        """Queue an event in the outbox; the relay publishes it after commit (the
        same statement notifies ``OUTBOX_CHANNEL``: the commit wakes every relay
        of the service, in whichever process)."""
        event = make_event(event_type, body, self.actor if include_actor else None)
        self.session.execute(insert(COMMON.outbox).values(
            event_id=event["event_id"], event_type=event_type, payload=event,
            trace=tracing.traceparent()).returning(func.pg_notify(OUTBOX_CHANNEL, "")))
        self._emitted = True
        self.events.append(event)
        return event

    def emit_many(self, event_type, bodies, include_actor=True):
        """Queue many events of one type (bulk changes): the batch travels to
        the database as one JSON array and is inserted by one statement.
        (The events kept in ``self.events`` hold the bodies as given.)"""
        actor = self.actor if include_actor else None
        occurred_at = isoformat(utcnow())
        events = [make_event(event_type, body, actor, occurred_at, body_is_plain=True)
                  for body in bodies]
        if events:
            self.session.execute(_INSERT_EVENTS, {"events": dumps(events),
                                                  "trace": tracing.traceparent()})
            self._emitted = True
            self.events.extend(events)
        return events

    def audit(self, action, entity, entity_id=None, details=None):
        actor = self.actor
        self.session.execute(insert(COMMON.audit_log).values(
            actor_id=actor.user_id if actor else None,
            actor_username=actor.username if actor else "system",
            actor_unit_id=actor.org_unit_id if actor else None,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            details=plain(details) if details is not None else None,
            request_id=self.request_id,
        ))

    def commit(self):
        self.session.commit()
        if self._emitted and self._on_events is not None:
            self._on_events()
        self._emitted = False

    def rollback(self):
        """Undo what the current transaction did (its events too); the next
        statement starts the next transaction."""
        self.session.rollback()
        self._emitted = False

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

    def wake_relay(self):
        if self.relay is not None:
            self.relay.wake()

    def get_dependency(self, worker_ctx):
        """``self.db.actor``: the caller's acting user, or for the service's own
        timers and event handlers its system actor (``worker_actor``)."""
        actor = worker_actor(worker_ctx)
        return DbHandle(self, actor, (worker_ctx.data or {}).get(REQUEST_ID_KEY))
