"""Confirmation tables: one state per (round, org unit), the idempotency keys
of confirm/revoke requests, and the service's copy of the registry's units
(the children a unit waits for are read here, not asked of the registry)."""
from sqlalchemy import (
    BigInteger, CheckConstraint, Column, DateTime, Index, Integer, MetaData, PrimaryKeyConstraint,
    Table, Text, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.tables import add_common_tables, add_unit_sync_table, add_unit_table

metadata = MetaData()
common = add_common_tables(metadata)

# The registry's units: filled once from the registry (``unit_sync`` says when that read
# completed), kept current by its ``unit_changed`` events (services.common.units.UnitTable).
units = add_unit_table(metadata)
unit_sync = add_unit_sync_table(metadata)

# ``state``: the state machine of services.confirmation.domain.Confirmation (open, sealing,
# confirmed, unsealing). A saga in flight has its id, the process that runs it and when it started.
confirmations = Table(
    "confirmations", metadata,
    Column("round_id", BigInteger, nullable=False),
    Column("unit_id", BigInteger, nullable=False),
    Column("unit_type", Text, nullable=False),
    Column("unit_code", Text),
    Column("unit_path", Text, nullable=False),
    Column("parent_id", BigInteger),
    Column("state", Text, nullable=False, server_default="open"),
    Column("counts", JSONB),
    Column("other_schools", JSONB),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("confirmed_by", BigInteger),
    Column("confirmed_by_username", Text),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", BigInteger),
    Column("revoke_reason", Text),
    Column("saga_id", UUID(as_uuid=False)),
    Column("saga_owner", Text),
    Column("saga_started_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # what the confirmation sealed, as a digest anyone can recompute (docs/confirmation.md),
    # and the confirming user's note
    Column("seal_digest", Text),
    Column("learners_digest", Text),
    Column("note", Text),
    # the change feed's position (services.confirmation.feed): stamped at commit by a trigger,
    # from a row-locked counter per round (feed_counters), whenever the public state changes
    Column("feed_seq", BigInteger),
    PrimaryKeyConstraint("round_id", "unit_id", name="pk_confirmations"),
    CheckConstraint("state IN ('open','sealing','confirmed','unsealing')", name="ck_confirmations_state"),
    CheckConstraint("unit_type IN ('department','province','lao','school','cdc')",
                    name="ck_confirmations_unit_type"),
    CheckConstraint("(state IN ('sealing','unsealing')) = (saga_id IS NOT NULL)",
                    name="ck_confirmations_saga"),
    CheckConstraint("state <> 'confirmed' OR (counts IS NOT NULL AND confirmed_at IS NOT NULL)",
                    name="ck_confirmations_confirmed_has_counts"),
    Index("ix_confirmations_parent", "round_id", "parent_id"),
    Index("uq_confirmations_feed", "round_id", "feed_seq", unique=True),
    Index("ix_confirmations_saga", "state", "saga_started_at",
          postgresql_where=text("state IN ('sealing','unsealing')")),
)

# the last feed position handed out per round (row-locked at commit: positions commit in order)
feed_counters = Table(
    "feed_counters", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("user_id", BigInteger, nullable=False),
    Column("key", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("round_id", BigInteger, nullable=False),
    Column("unit_id", BigInteger, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
)

# A unit's request that a confirmation above it be reopened (it cannot revoke
# itself). ``routed_to`` is the lowest ancestor able to act when it was made (or
# answered); one pending request per unit and round. The names are kept as they
# were, for the lists.
revocation_requests = Table(
    "revocation_requests", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, nullable=False),
    Column("unit_id", BigInteger, nullable=False),
    Column("unit_type", Text, nullable=False),
    Column("unit_code", Text),
    Column("unit_name", Text),
    Column("unit_path", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("reason", Text, nullable=False),
    Column("requested_by", BigInteger, nullable=False),
    Column("requested_by_username", Text),
    Column("requested_by_unit_id", BigInteger, nullable=False),
    Column("routed_to_id", BigInteger, nullable=False),
    Column("routed_to_type", Text, nullable=False),
    Column("routed_to_code", Text),
    Column("routed_to_name", Text),
    Column("routed_to_path", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("answered_at", DateTime(timezone=True)),
    Column("answered_by", BigInteger),
    Column("answered_by_username", Text),
    Column("answered_by_unit_id", BigInteger),
    Column("answer_reason", Text),
    Column("revoked", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    CheckConstraint("state IN ('pending','approved','declined','withdrawn')",
                    name="ck_revocation_requests_state"),
    CheckConstraint("(state = 'pending') = (answered_at IS NULL)", name="ck_revocation_requests_answered"),
    Index("uq_revocation_requests_pending", "round_id", "unit_id", unique=True,
          postgresql_where=text("state = 'pending'")),
    # lists and counts by subtree: unit_path LIKE '<path>%'
    Index("ix_revocation_requests_round_path", "round_id", "unit_path",
          postgresql_ops={"unit_path": "text_pattern_ops"}),
)
