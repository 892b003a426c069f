"""The transactional outbox and the idempotent inbox, on real PostgreSQL and RabbitMQ."""
import threading
import time
import uuid

import pytest
from sqlalchemy import MetaData, make_url, select, text
from sqlalchemy import event as sqlalchemy_event

from services.common import settings
from services.common.db import COMMON, OUTBOX_CHANNEL, DbHandle, make_engine
from services.common.inbox import process_event
from services.common.outbox import OutboxRelay
from services.common.tables import add_common_tables
from tests.events import EventCollector
from tests.services.conftest import SYSTEM, LocalProvider


@pytest.fixture
def relay_name():
    return f"outboxtest{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def outbox_engine(lec_env):
    """A database of the common tables that no running service relays from: a
    live registry's relay polling its own outbox would otherwise publish some of
    a test's rows to the registry's exchange before the test's relay takes them."""
    live = settings.database_url("registry")
    name = make_url(live).database + "_outboxtest"
    server = make_engine(settings.with_database(live, "postgres"), pool_size=1,
                         isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(settings.with_database(live, name), pool_size=2)
    tables = MetaData()
    add_common_tables(tables)
    tables.create_all(engine)
    yield engine
    engine.dispose()
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def outbox_db(outbox_engine):
    return DbHandle(LocalProvider(outbox_engine), actor=SYSTEM)


def pending_ids(engine, marker):
    with engine.connect() as conn:
        return conn.execute(select(COMMON.outbox.c.id).where(
            COMMON.outbox.c.published_at.is_(None),
            COMMON.outbox.c.payload["marker"].astext == marker)).scalars().all()


def test_events_leave_only_after_commit(outbox_engine, outbox_db, lec_env, relay_name):
    engine, db = outbox_engine, outbox_db
    marker = uuid.uuid4().hex
    collector = EventCollector(lec_env["AMQP_URI"], relay_name, ["thing_done"])
    try:
        with db.uow() as uow:
            uow.emit("thing_done", {"marker": marker, "n": 1})
            # leaving without commit rolls back the event with the change
        assert pending_ids(engine, marker) == []
        with db.uow() as uow:
            uow.emit("thing_done", {"marker": marker, "n": 2})
            uow.commit()
        assert len(pending_ids(engine, marker)) == 1
        relay = OutboxRelay(engine, relay_name, lec_env["AMQP_URI"])
        while relay.publish_batch():
            pass
        event = collector.wait_for(lambda e: e.get("marker") == marker)
        assert event["n"] == 2 and event["type"] == "thing_done" and event["version"] == 1
        assert pending_ids(engine, marker) == []
        assert [e for e in collector.drain(0.5) if e.get("marker") == marker] == [event]
    finally:
        collector.close()


def test_rows_wait_while_the_broker_is_away(outbox_engine, outbox_db, lec_env, relay_name):
    engine, db = outbox_engine, outbox_db
    marker = uuid.uuid4().hex
    with db.uow() as uow:
        for i in range(3):
            uow.emit("thing_done", {"marker": marker, "n": i})
        uow.commit()
    dead = OutboxRelay(engine, relay_name, "pyamqp://guest:guest@127.0.0.1:1/")
    with pytest.raises(Exception):
        dead.publish_batch()
    assert len(pending_ids(engine, marker)) == 3  # nothing lost, nothing marked
    collector = EventCollector(lec_env["AMQP_URI"], relay_name, ["thing_done"])
    try:
        relay = OutboxRelay(engine, relay_name, lec_env["AMQP_URI"])
        while relay.publish_batch():
            pass
        collector.wait_for(lambda e: e.get("marker") == marker and e["n"] == 2)
        got = sorted(e["n"] for e in collector.drain(0.3) if e.get("marker") == marker)
        assert got == [0, 1, 2]  # in order of commit
        assert pending_ids(engine, marker) == []
    finally:
        collector.close()


def test_a_batch_streams_its_bodies_in_order(outbox_engine, outbox_db, lec_env, relay_name, monkeypatch):
    """The relay reads the bodies of a batch a few at a time (large events are
    never all in memory) and still publishes them in order of commit."""
    from services.common import outbox
    monkeypatch.setattr(outbox, "STREAM_ROWS", 2)
    engine, db = outbox_engine, outbox_db
    marker = uuid.uuid4().hex
    with db.uow() as uow:
        uow.emit_many("thing_done", [{"marker": marker, "n": i, "pad": "x" * 50_000} for i in range(7)])
        uow.commit()
    collector = EventCollector(lec_env["AMQP_URI"], relay_name, ["thing_done"])
    try:
        relay = OutboxRelay(engine, relay_name, lec_env["AMQP_URI"], batch_size=5)
        taken = []
        while pending_ids(engine, marker):
            taken.append(relay.publish_batch())
        assert sum(taken) >= 7 and max(taken) <= 5
        collector.wait_for(lambda e: e.get("marker") == marker and e["n"] == 6)
        got = [e["n"] for e in collector.drain(0.3) if e.get("marker") == marker]
        assert got == list(range(7))
    finally:
        collector.close()


def _raw_insert(engine, marker):
    """An outbox row written as no unit of work writes it: without the notification."""
    with engine.begin() as conn:
        conn.execute(COMMON.outbox.insert().values(
            event_id=str(uuid.uuid4()), event_type="thing_done",
            payload={"event_id": str(uuid.uuid4()), "type": "thing_done", "marker": marker}))


def start_listening(relay):
    """Run the relay and its listener in threads; back after the pass that listening
    starts with (for what was committed while nobody listened)."""
    for target in (relay.listen, relay.run):
        threading.Thread(target=target, daemon=True).start()
    assert relay.listening.wait(10)
    deadline = time.monotonic() + 10
    while relay.passes < 1 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_commit_in_another_process_wakes_the_relay_before_its_poll(
        outbox_engine, lec_env, relay_name):
    """Events committed on another connection, by a unit of work whose in-process
    wake does not reach this relay (another process of the service, in effect),
    leave at once through LISTEN/NOTIFY: the poll is set to 30 s, and a row that
    does not notify stays until then."""
    relay = OutboxRelay(outbox_engine, relay_name, lec_env["AMQP_URI"], poll_interval=30)
    other_engine = make_engine(outbox_engine.url.render_as_string(hide_password=False), pool_size=1)
    elsewhere = LocalProvider(other_engine)   # its wake_relay only counts
    collector = EventCollector(lec_env["AMQP_URI"], relay_name, ["thing_done"])
    try:
        start_listening(relay)
        assert relay.passes == 1

        silent = uuid.uuid4().hex
        _raw_insert(outbox_engine, silent)
        collector.drain(2)
        assert len(pending_ids(outbox_engine, silent)) == 1   # no notification: waits for the poll
        assert relay.passes == 1

        marker = uuid.uuid4().hex
        with DbHandle(elsewhere, actor=SYSTEM).uow() as uow:
            uow.emit("thing_done", {"marker": marker, "n": 1})
            uow.emit_many("thing_done", [{"marker": marker, "n": 2}, {"marker": marker, "n": 3}])
            uow.commit()
        assert elsewhere.wakes == 1
        started = time.monotonic()
        collector.wait_for(lambda e: e.get("marker") == marker and e["n"] == 3, timeout=10)
        assert time.monotonic() - started < relay.poll_interval / 2
        got = [e["n"] for e in collector.drain(0.3) if e.get("marker") == marker]
        assert got == [1, 2, 3]   # in order of commit
        # the pass the notification started took the silent row too, still in order
        assert pending_ids(outbox_engine, silent) == [] and pending_ids(outbox_engine, marker) == []
        assert any(e.get("marker") == silent for e in collector.events)

        rolled_back = uuid.uuid4().hex   # a rolled-back emit notifies nobody
        passes = relay.passes
        with DbHandle(elsewhere, actor=SYSTEM).uow() as uow:
            uow.emit("thing_done", {"marker": rolled_back})
        collector.drain(1)
        assert relay.passes == passes

        # a notification naming only rows this relay took (as when its own process woke it
        # for them first) starts no pass; one naming another row, or none, starts one
        with outbox_engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM outbox WHERE payload->>'marker' = :m ORDER BY id"),
                               {"m": marker}).scalars().all()
        assert len(ids) == 3
        for payload, more in ((",".join(map(str, ids)), 0), (str(ids[0]), 0), (f"{ids[0]},{ids[-1] + 10**6}", 1),
                              ("", 1), ("x", 1)):
            passes, heard = relay.passes, relay.notified
            with outbox_engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": OUTBOX_CHANNEL, "payload": payload})
            deadline = time.monotonic() + 5
            while relay.notified == heard and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.3)
            assert relay.notified == heard + 1 and relay.passes == passes + more, payload
    finally:
        relay.stop()
        collector.close()
        other_engine.dispose()


def test_a_commit_that_wakes_its_own_relay_costs_it_one_pass(outbox_engine, lec_env, relay_name):
    """The committing process tells its relay at once what it wrote; the notification
    of the same commit, whenever it comes, names rows that relay took (or is taking)
    and starts no second pass."""
    relay = OutboxRelay(outbox_engine, relay_name, lec_env["AMQP_URI"], poll_interval=30)

    class Here(LocalProvider):
        def wake_relay(self, news=()):
            relay.committed(news)

    here = Here(outbox_engine)
    collector = EventCollector(lec_env["AMQP_URI"], relay_name, ["thing_done"])
    try:
        start_listening(relay)
        marker = uuid.uuid4().hex
        passes, heard = relay.passes, relay.notified
        for n in range(10):
            with DbHandle(here, actor=SYSTEM).uow() as uow:
                uow.emit("thing_done", {"marker": marker, "n": n})
                uow.commit()
            collector.wait_for(lambda e, n=n: e.get("marker") == marker and e["n"] == n, timeout=10)
            deadline = time.monotonic() + 5
            while relay.notified < heard + n + 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        time.sleep(0.3)
        assert relay.notified == heard + 10
        assert relay.passes - passes == 10
        assert pending_ids(outbox_engine, marker) == []
    finally:
        relay.stop()
        collector.close()


def test_inbox_applies_each_event_once_and_keeps_failures(db_for, engines):
    db = db_for("reporting")
    event = {"event_id": str(uuid.uuid4()), "type": "thing_done", "n": 1}
    applied = []

    def apply(uow):
        applied.append(event["n"])

    assert process_event(db, "handler_a", event, apply) is True
    assert process_event(db, "handler_a", event, apply) is False  # redelivery
    assert process_event(db, "handler_b", event, apply) is True   # another handler applies its own
    assert applied == [1, 1]

    failing = {"event_id": str(uuid.uuid4()), "type": "thing_done"}

    def boom(uow):
        uow.execute(text("SELECT 1"))
        raise RuntimeError("database constraint or bug")

    assert process_event(db, "handler_a", failing, boom) is False
    assert process_event(db, "handler_a", failing, boom) is False
    with engines["reporting"].connect() as conn:
        row = conn.execute(select(COMMON.failed_events).where(
            COMMON.failed_events.c.event_id == failing["event_id"])).one()
        assert row.attempts == 2 and "database constraint" in row.error
        assert row.payload == failing
        # a failed event is not marked as processed
        assert conn.execute(select(COMMON.inbox).where(
            COMMON.inbox.c.event_id == failing["event_id"])).first() is None
    # when the cause is fixed the retry applies it and clears the failure
    assert process_event(db, "handler_a", failing, apply) is True
    with engines["reporting"].connect() as conn:
        assert conn.execute(select(COMMON.failed_events).where(
            COMMON.failed_events.c.event_id == failing["event_id"])).first() is None


def test_event_without_id_is_kept_not_dropped(db_for, engines):
    db = db_for("reporting")
    assert process_event(db, "handler_x", {"type": "mystery"}, lambda uow: None) is False
    with engines["reporting"].connect() as conn:
        rows = conn.execute(select(COMMON.failed_events).where(
            COMMON.failed_events.c.handler == "handler_x")).all()
    assert rows and rows[-1].payload == {"type": "mystery"}


def _written(engine, marker):
    """The audit rows and outbox events carrying ``marker``, in the order written."""
    with engine.connect() as conn:
        audits = conn.execute(
            select(COMMON.audit_log.c.action, COMMON.audit_log.c.entity, COMMON.audit_log.c.entity_id,
                   COMMON.audit_log.c.details, COMMON.audit_log.c.actor_username,
                   COMMON.audit_log.c.request_id)
            .where(COMMON.audit_log.c.entity == marker).order_by(COMMON.audit_log.c.id)).all()
        events = conn.execute(
            select(COMMON.outbox.c.event_type, COMMON.outbox.c.payload, COMMON.outbox.c.trace)
            .where(COMMON.outbox.c.payload["marker"].astext == marker).order_by(COMMON.outbox.c.id)).all()
    return [tuple(a) for a in audits], [(e.event_type, e.payload["n"]) for e in events]


def test_audit_rows_and_events_wait_for_the_commit_and_go_in_order(outbox_engine, outbox_db):
    engine, marker = outbox_engine, uuid.uuid4().hex
    statements = []

    def count(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        db = DbHandle(LocalProvider(engine), actor=SYSTEM, request_id="req-1")
        with db.uow() as uow:
            uow.execute(text("SELECT 1"))
            before = len(statements)
            uow.audit("first", marker, 7, {"a": [1, 2], "when": "x"})
            uow.emit("thing_done", {"marker": marker, "n": 1})
            uow.audit("second", marker, None, None)
            uow.emit_many("thing_done", [{"marker": marker, "n": 2}, {"marker": marker, "n": 3}])
            assert len(statements) == before, "nothing is written before the commit"
            assert _written(engine, marker) == ([], [])
            before = len(statements)
            uow.commit()
        assert len(statements) == before + 1, "the audit rows and events are one statement"
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    audits, events = _written(engine, marker)
    assert audits == [("first", marker, "7", {"a": [1, 2], "when": "x"}, SYSTEM.username, "req-1"),
                      ("second", marker, None, None, SYSTEM.username, "req-1")]
    assert events == [("thing_done", 1), ("thing_done", 2), ("thing_done", 3)]


def test_what_waits_is_written_before_the_next_statement_and_lost_with_a_rollback(outbox_engine, outbox_db):
    engine, marker = outbox_engine, uuid.uuid4().hex
    with outbox_db.uow() as uow:
        uow.audit("kept", marker)
        uow.emit("thing_done", {"marker": marker, "n": 1})
        # a savepoint taken after them, and rolled back, does not take them back
        try:
            with uow.session.begin_nested():
                uow.execute(text("SELECT 1/0"))
        except Exception:
            pass
        uow.audit("also kept", marker)
        uow.commit()
    assert _written(engine, marker) == ([("kept", marker, None, None, SYSTEM.username, None),
                                         ("also kept", marker, None, None, SYSTEM.username, None)],
                                        [("thing_done", 1)])
    other = uuid.uuid4().hex
    with outbox_db.uow() as uow:
        uow.audit("dropped", other)
        uow.emit("thing_done", {"marker": other, "n": 1})
        uow.rollback()
        uow.audit("after the rollback", other)
        uow.commit()
    with outbox_db.uow() as uow:
        uow.audit("never committed", other)
        uow.emit("thing_done", {"marker": other, "n": 2})
    assert _written(engine, other) == ([("after the rollback", other, None, None, SYSTEM.username, None)], [])


def _backend_pid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_idle_past_the_limit_is_tested_and_replaced_when_dead(outbox_engine, monkeypatch):
    from services.common import db as db_module
    engine = make_engine(outbox_engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        pid = _backend_pid(engine)
        assert _backend_pid(engine) == pid and pings == [], "a connection used a moment ago is not pinged"
        with outbox_engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.0)
        time.sleep(0.05)
        replaced = _backend_pid(engine)   # the dead connection is found by the ping, not by the caller
        assert pings and replaced != pid
        pings.clear()
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 60.0)
        assert _backend_pid(engine) == replaced and pings == []
    finally:
        engine.dispose()
