"""duplicate refusals against other institutions told to each account (the probing limit)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_probes",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("refusals", sa.Integer, nullable=False),
        sa.CheckConstraint("refusals > 0", name="ck_duplicate_probes_refusals"),
    )
    op.create_index("ix_duplicate_probes_user_at", "duplicate_probes", ["user_id", "at"])


def downgrade():
    op.drop_table("duplicate_probes")
