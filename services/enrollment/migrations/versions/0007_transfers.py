"""transfers of a child between institutions: one pending request per child and round

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "transfers",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("id_kind", sa.Text, nullable=False),
        sa.Column("id_number", sa.Text, nullable=False),
        sa.Column("learner_id", sa.BigInteger, nullable=False),
        sa.Column("from_institution_id", sa.BigInteger, nullable=False),
        sa.Column("from_path", sa.Text, nullable=False),
        sa.Column("to_institution_id", sa.BigInteger, nullable=False),
        sa.Column("to_path", sa.Text, nullable=False),
        sa.Column("grade", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("reason", sa.Text),
        sa.Column("new_learner_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_by_unit_id", sa.BigInteger),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_by", sa.BigInteger),
        sa.Column("answered_by_unit_id", sa.BigInteger),
        sa.Column("history", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("state IN ('pending','accepted','declined','withdrawn','cancelled')",
                           name="ck_transfers_state"),
        sa.CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_transfers_id_kind"),
        sa.CheckConstraint("state <> 'accepted' OR new_learner_id IS NOT NULL",
                           name="ck_transfers_accepted"),
        sa.CheckConstraint("state <> 'declined' OR reason IS NOT NULL", name="ck_transfers_declined"),
    )
    op.create_index("uq_transfers_round_person_pending", "transfers", ["round_id", "id_number"],
                    unique=True, postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_transfers_from", "transfers", ["round_id", "from_path"],
                    postgresql_ops={"from_path": "text_pattern_ops"})
    op.create_index("ix_transfers_to", "transfers", ["round_id", "to_path"],
                    postgresql_ops={"to_path": "text_pattern_ops"})


def downgrade():
    op.drop_table("transfers")
