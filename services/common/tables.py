"""Tables every service database has: outbox, inbox, failed events, audit log;
and the one shape of a service's copy of the registry's units (:func:`add_unit_table`).

Each service adds them to its own ``MetaData`` with :func:`add_common_tables`,
and its first migration creates them with :func:`create_common_tables`.
A later change to these tables needs a migration in every service.
"""
from types import SimpleNamespace

from sqlalchemy import (
    BigInteger, Column, Date, DateTime, Index, Integer, MetaData, Table, Text, UniqueConstraint,
    func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def add_common_tables(metadata):
    outbox = Table(
        "outbox", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        # the W3C traceparent of the change that emitted the event (the consumer continues it)
        Column("trace", Text),
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox", metadata,
        Column("handler", Text, primary_key=True),
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    failed_events = Table(
        "failed_events", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("handler", Text, nullable=False),
        Column("event_id", Text, nullable=False),
        Column("event_type", Text),
        Column("payload", JSONB, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False, server_default="1"),
        Column("first_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("handler", "event_id", name="uq_failed_events_handler_event"),
    )
    audit_log = Table(
        "audit_log", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor_id", BigInteger),
        Column("actor_username", Text),
        Column("actor_unit_id", BigInteger),
        Column("action", Text, nullable=False),
        Column("entity", Text, nullable=False),
        Column("entity_id", Text),
        Column("details", JSONB),
        Column("request_id", Text),
        Index("ix_audit_log_entity", "entity", "entity_id"),
    )
    return SimpleNamespace(outbox=outbox, inbox=inbox, failed_events=failed_events, audit_log=audit_log)


def add_unit_table(metadata):
    """The registry's units as a service last saw them (fetched, then ``unit_changed``
    events), for a service whose queries join on units or list a unit's children."""
    return Table(
        "units", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("code", Text, nullable=False),
        Column("name", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("parent_id", BigInteger),
        Column("path", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("affiliation", Text),
        Column("closed_on", Date),
        Column("version", Integer, nullable=False),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_units_parent_type", "parent_id", "type"),
    )


def add_unit_sync_table(metadata):
    """When a service's copy of the units was first read whole from the registry (one row,
    ``services.common.units.UnitTable.COMPLETE``): until then the copy is not complete."""
    return Table(
        "unit_sync", metadata,
        Column("name", Text, primary_key=True),
        Column("completed_at", DateTime(timezone=True), nullable=False),
    )


def add_outbox_trace(op):
    """The outbox's ``trace`` column, for databases made before it existed."""
    op.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS trace text")


def create_common_tables(op):
    """Called from each service's first Alembic revision."""
    metadata = MetaData()
    tables = add_common_tables(metadata)
    metadata.create_all(bind=op.get_bind(), tables=list(vars(tables).values()))
