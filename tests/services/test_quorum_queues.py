"""Quorum queues on the local broker: a vhost whose default queue type is
quorum (RabbitMQ 3.10+: ``rabbitmqctl add_vhost --default-queue-type quorum``).

The services declare their queues as before; the broker makes every durable,
non-exclusive, non-auto-delete queue of the vhost a quorum queue. Proved here:
a nameko service's RPC queue and its inbox-backed event handler's queue are
quorum queues and work (an event delivered twice is applied once); the outbox
relay publishes with publisher confirms into them; and an agency's queue,
declared as deploy/examples/agency_subscriber.py declares it, is a quorum
queue that receives the events. The vhost is deleted afterwards.
"""
import importlib.util
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import MetaData, make_url, select, text, update

from services.common import settings
from services.common.db import COMMON, DbHandle, make_engine
from services.common.inbox import handles
from services.common.outbox import OutboxRelay, pending_count
from services.common.rpc import ClassicStandaloneReplyListener, ServiceRpc
from services.common.tables import add_common_tables
from tests.conftest import TEST_ID
from tests.services.conftest import SYSTEM, LocalProvider

ROOT = Path(__file__).resolve().parents[2]
VHOST = f"{TEST_ID}_quorum"
SOURCE = "quorumsource"

spec = importlib.util.spec_from_file_location("agency_subscriber",
                                              ROOT / "deploy" / "examples" / "agency_subscriber.py")
agency = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agency)


def _required(message):
    if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def ctl(*args, check=True):
    return subprocess.run([shutil.which("rabbitmqctl"), "-q", *args], check=check, capture_output=True,
                          text=True, timeout=120)


def queues():
    """``{name: type}`` of the vhost's queues (``arguments`` tell the type where the column is absent)."""
    out = ctl("list_queues", "-p", VHOST, "--no-table-headers", "name", "type").stdout
    found = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] != "name":
            found[parts[0]] = parts[1]
    return found


@pytest.fixture(scope="module")
def amqp_uri(lec_env):
    if os.environ.get("LEC_TEST_AMQP_URI"):
        pytest.skip("the quorum vhost is made with rabbitmqctl: a local broker only")
    if shutil.which("rabbitmqctl") is None:
        _required("rabbitmqctl (Debian's rabbitmq-server) is needed to make the quorum vhost")
    ctl("delete_vhost", VHOST, check=False)
    made = ctl("add_vhost", VHOST, "--default-queue-type", "quorum", check=False)
    if made.returncode != 0:
        _required(f"this broker cannot give a vhost a default queue type (RabbitMQ 3.10+ can): {made.stderr}")
    ctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    try:
        yield f"pyamqp://guest:guest@127.0.0.1:5672/{VHOST}"
    finally:
        ctl("delete_vhost", VHOST, check=False)


@pytest.fixture(scope="module")
def engine(lec_env):
    """A database of the common tables (outbox, inbox, failed events) of no running service."""
    live = settings.database_url("registry")
    name = make_url(live).database + "_quorum"
    server = make_engine(settings.with_database(live, "postgres"), pool_size=1, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    made = make_engine(settings.with_database(live, name), pool_size=4)
    tables = MetaData()
    add_common_tables(tables)
    tables.create_all(made)
    yield made
    made.dispose()
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


class QuorumProbe:
    """A service shaped like LEC's: an RPC method and an inbox-backed event handler."""
    name = "quorumprobe"
    db = None         # a DbHandle, set by the test
    applied = []
    itself = ServiceRpc("quorumprobe")

    @rpc
    def echo(self, value):
        return {"echo": value}

    @rpc
    def echo_through_rpc(self, value):
        return self.itself.echo(value)

    @handles(SOURCE, "thing_done")
    def on_thing_done(self, uow, event):
        QuorumProbe.applied.append(event["n"])


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout}s")


def publish_all(relay):
    while relay.publish_batch():
        pass


def test_service_queues_are_quorum_and_the_relay_publishes_into_them(amqp_uri, engine):
    db = DbHandle(LocalProvider(engine), actor=SYSTEM)
    QuorumProbe.db, QuorumProbe.applied = db, []
    container = ServiceContainer(QuorumProbe, {"AMQP_URI": amqp_uri})
    container.start()
    try:
        types = queues()
        handler_queue = f"evt-{SOURCE}-thing_done--quorumprobe.on_thing_done"
        assert types.get("rpc-quorumprobe") == "quorum", types
        assert types.get(handler_queue) == "quorum", types
        # the service's own reply queue (ServiceRpc) stays classic
        replies = {n: t for n, t in types.items() if n.startswith("rpc.reply-quorumprobe-")}
        assert list(replies.values()) == ["classic"], types

        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=20,
                             reply_listener_cls=ClassicStandaloneReplyListener) as proxy:
            assert proxy.quorumprobe.echo(7) == {"echo": 7}
            assert proxy.quorumprobe.echo_through_rpc(8) == {"echo": 8}
            standalone = {t for n, t in queues().items() if n.startswith("rpc.reply-standalone_rpc_proxy-")}
            assert standalone == {"classic"}

        marker = uuid.uuid4().hex
        with db.uow() as uow:
            uow.emit("thing_done", {"marker": marker, "n": 1})
            uow.emit("thing_done", {"marker": marker, "n": 2})
            uow.commit()
        relay = OutboxRelay(engine, SOURCE, amqp_uri)
        try:
            publish_all(relay)
            assert relay.published == 2 and pending_count(engine) == 0  # both confirmed by the quorum queue
            wait_until(lambda: sorted(QuorumProbe.applied) == [1, 2], what="both events applied")

            # sent again (a re-published outbox, as after a restore): the inbox drops them
            with engine.begin() as conn:
                conn.execute(update(COMMON.outbox).values(published_at=None))
            publish_all(relay)
            assert relay.published == 4 and pending_count(engine) == 0
            time.sleep(1.0)
            assert sorted(QuorumProbe.applied) == [1, 2]
            with engine.connect() as conn:
                seen = conn.execute(select(COMMON.inbox.c.handler)).scalars().all()
                assert seen == ["on_thing_done", "on_thing_done"]
                assert conn.execute(select(COMMON.failed_events)).first() is None
        finally:
            relay.stop()
    finally:
        container.stop()
    # the consumer gone, the queues stay (durable) with nothing left in them
    out = ctl("list_queues", "-p", VHOST, "--no-table-headers", "name", "messages").stdout
    left = dict(line.split("\t") for line in out.splitlines() if "\t" in line)
    assert left.get(handler_queue) == "0", left


def test_an_agency_queue_is_quorum_and_receives_the_events(amqp_uri, engine, tmp_path):
    with Connection(amqp_uri) as conn:  # the confirmation service declares its exchange
        Exchange(agency.EXCHANGE, type="topic", durable=True)(conn.default_channel).declare()
    queue = f"agency.quorum-{uuid.uuid4().hex[:6]}"
    ledger = agency.Ledger(str(tmp_path / "agency.sqlite"))
    agency.run(amqp_uri, queue, ledger, idle_exit=1.0)  # declares and binds the queue, as an agency does
    assert queues().get(queue) == "quorum"

    with engine.begin() as conn:
        conn.execute(COMMON.outbox.delete())
    db = DbHandle(LocalProvider(engine), actor=SYSTEM)
    rnd = {"id": 7, "academic_year": 2569, "number": 1}
    school = {"id": 42, "code": "1050100001", "type": "school", "path": "/1/2/3/42/"}
    with db.uow() as uow:
        uow.emit("unit_confirmed", {"round": rnd, "org_unit": school, "confirmation_version": 2,
                                    "counts": {"total": 3, "by_grade": {"p1": 3}},
                                    "confirmed_at": "2026-06-10T09:00:00+07:00"})
        uow.commit()
    relay = OutboxRelay(engine, "confirmation", amqp_uri)
    try:
        publish_all(relay)
        assert relay.published == 1 and pending_count(engine) == 0
        agency.run(amqp_uri, queue, ledger, idle_exit=1.0)
        assert ledger.applied == 1
        assert ledger.unit(7, 42)["total"] == 3

        with engine.begin() as conn:  # the same event again: the agency's ledger drops it
            conn.execute(update(COMMON.outbox).values(published_at=None))
        publish_all(relay)
        agency.run(amqp_uri, queue, ledger, idle_exit=1.0)
        assert (ledger.applied, ledger.duplicates) == (1, 1)
    finally:
        relay.stop()
