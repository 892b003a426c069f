"""revocation requests: a unit asks the lowest ancestor able to act to reopen its confirmation

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revocation_requests",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("unit_id", sa.BigInteger, nullable=False),
        sa.Column("unit_type", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text),
        sa.Column("unit_name", sa.Text),
        sa.Column("unit_path", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.BigInteger, nullable=False),
        sa.Column("requested_by_username", sa.Text),
        sa.Column("requested_by_unit_id", sa.BigInteger, nullable=False),
        sa.Column("routed_to_id", sa.BigInteger, nullable=False),
        sa.Column("routed_to_type", sa.Text, nullable=False),
        sa.Column("routed_to_code", sa.Text),
        sa.Column("routed_to_name", sa.Text),
        sa.Column("routed_to_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_by", sa.BigInteger),
        sa.Column("answered_by_username", sa.Text),
        sa.Column("answered_by_unit_id", sa.BigInteger),
        sa.Column("answer_reason", sa.Text),
        sa.Column("revoked", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.CheckConstraint("state IN ('pending','approved','declined','withdrawn')",
                           name="ck_revocation_requests_state"),
        sa.CheckConstraint("(state = 'pending') = (answered_at IS NULL)",
                           name="ck_revocation_requests_answered"),
    )
    op.create_index("uq_revocation_requests_pending", "revocation_requests", ["round_id", "unit_id"],
                    unique=True, postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_revocation_requests_round_path", "revocation_requests", ["round_id", "unit_path"],
                    postgresql_ops={"unit_path": "text_pattern_ops"})


def downgrade():
    op.drop_table("revocation_requests")
