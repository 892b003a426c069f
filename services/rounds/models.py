"""Rounds tables: the census windows and their per-subtree extensions."""
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData,
    SmallInteger, Table, Text, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import add_common_tables

EVERY_LEVEL = "all"  # an extension's level when it extends every level

DEADLINE_ORDER = (
    "COALESCE(lao_closes_at, closes_at) >= closes_at"
    " AND COALESCE(province_closes_at, COALESCE(lao_closes_at, closes_at) + interval '1 day')"
    " >= COALESCE(lao_closes_at, closes_at)"
    " AND (department_closes_at IS NULL OR department_closes_at >= COALESCE("
    "province_closes_at, COALESCE(lao_closes_at, closes_at) + interval '1 day'))"
)

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
    # the deadlines of the levels above the institutions; NULL: the default
    # (LAO = closes_at, province = the LAOs' + 1 day, department = none)
    Column("lao_closes_at", DateTime(timezone=True)),
    Column("province_closes_at", DateTime(timezone=True)),
    Column("department_closes_at", DateTime(timezone=True)),
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
    CheckConstraint(DEADLINE_ORDER, name="ck_rounds_deadline_order"),
)

extensions = Table(
    "extensions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, ForeignKey("rounds.id"), nullable=False),
    Column("org_unit_id", BigInteger, nullable=False),
    Column("org_unit_path", Text, nullable=False),
    Column("level", Text, nullable=False, server_default=EVERY_LEVEL),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("automatic", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    UniqueConstraint("round_id", "org_unit_id", "level", name="uq_extensions_round_unit_level"),
    CheckConstraint("level IN ('all', 'institution', 'lao', 'province')", name="ck_extensions_level"),
    Index("ix_extensions_round", "round_id"),
)
