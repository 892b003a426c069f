"""Rounds tables: the census windows and their per-subtree extensions."""
from sqlalchemy import (
    BigInteger, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData,
    SmallInteger, Table, Text, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import add_common_tables

metadata = MetaData()
common = add_common_tables(metadata)

rounds = Table(
    "rounds", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("academic_year", Integer, nullable=False),
    Column("number", SmallInteger, nullable=False),
    Column("census_date", Date, nullable=False),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("settings", JSONB, nullable=False),
    Column("finalized_at", DateTime(timezone=True)),
    Column("notified_state", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("academic_year", "number", name="uq_rounds_year_number"),
    CheckConstraint("number IN (1, 2)", name="ck_rounds_number"),
    CheckConstraint("opens_at < closes_at", name="ck_rounds_window"),
)

extensions = Table(
    "extensions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, ForeignKey("rounds.id"), nullable=False),
    Column("org_unit_id", BigInteger, nullable=False),
    Column("org_unit_path", Text, nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    UniqueConstraint("round_id", "org_unit_id", name="uq_extensions_round_unit"),
    Index("ix_extensions_round", "round_id"),
)
