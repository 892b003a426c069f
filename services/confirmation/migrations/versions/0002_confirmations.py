"""confirmations and idempotency keys

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "confirmations",
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("unit_id", sa.BigInteger, nullable=False),
        sa.Column("unit_type", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text),
        sa.Column("unit_path", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger),
        sa.Column("state", sa.Text, nullable=False, server_default="open"),
        sa.Column("counts", JSONB),
        sa.Column("other_schools", JSONB),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_by", sa.BigInteger),
        sa.Column("confirmed_by_username", sa.Text),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.BigInteger),
        sa.Column("revoke_reason", sa.Text),
        sa.Column("saga_id", UUID(as_uuid=False)),
        sa.Column("saga_owner", sa.Text),
        sa.Column("saga_started_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("round_id", "unit_id", name="pk_confirmations"),
        sa.CheckConstraint("state IN ('open','sealing','confirmed','unsealing')",
                           name="ck_confirmations_state"),
        sa.CheckConstraint("unit_type IN ('department','province','lao','school','cdc')",
                           name="ck_confirmations_unit_type"),
        sa.CheckConstraint("(state IN ('sealing','unsealing')) = (saga_id IS NOT NULL)",
                           name="ck_confirmations_saga"),
        sa.CheckConstraint("state <> 'confirmed' OR (counts IS NOT NULL AND confirmed_at IS NOT NULL)",
                           name="ck_confirmations_confirmed_has_counts"),
    )
    op.create_index("ix_confirmations_parent", "confirmations", ["round_id", "parent_id"])
    op.create_index("ix_confirmations_saga", "confirmations", ["state", "saga_started_at"],
                    postgresql_where=sa.text("state IN ('sealing','unsealing')"))
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("unit_id", sa.BigInteger, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
    )


def downgrade():
    op.drop_table("idempotency_keys")
    op.drop_index("ix_confirmations_saga", table_name="confirmations")
    op.drop_index("ix_confirmations_parent", table_name="confirmations")
    op.drop_table("confirmations")
