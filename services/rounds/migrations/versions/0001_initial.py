"""rounds, extensions, outbox, inbox, audit

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_common_tables(op)
    op.create_table(
        "rounds",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("number", sa.SmallInteger, nullable=False),
        sa.Column("census_date", sa.Date, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settings", JSONB, nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True)),
        sa.Column("notified_state", sa.Text),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("academic_year", "number", name="uq_rounds_year_number"),
        sa.CheckConstraint("number IN (1, 2)", name="ck_rounds_number"),
        sa.CheckConstraint("opens_at < closes_at", name="ck_rounds_window"),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("org_unit_id", sa.BigInteger, nullable=False),
        sa.Column("org_unit_path", sa.Text, nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.UniqueConstraint("round_id", "org_unit_id", name="uq_extensions_round_unit"),
    )
    op.create_index("ix_extensions_round", "extensions", ["round_id"])


def downgrade():
    op.drop_table("extensions")
    op.drop_table("rounds")
    for name in ("audit_log", "failed_events", "inbox", "outbox"):
        op.drop_table(name)
