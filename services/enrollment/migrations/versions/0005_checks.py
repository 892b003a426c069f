"""checks before confirming: findings, explanations, per-unit state, the refresh queue

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEY = [sa.Column("round_id", sa.BigInteger, primary_key=True, autoincrement=False),
       sa.Column("unit_id", sa.BigInteger, primary_key=True, autoincrement=False)]


def _key():
    return [c.copy() for c in KEY]


def upgrade():
    op.execute("CREATE INDEX ix_learners_name_key ON learners (round_id, lower(btrim(first_name)), "
               "lower(btrim(last_name)), birth_date) WHERE status = 'active'")
    op.create_table(
        "check_findings", *_key(),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("learner_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("subject_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("unit_path", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("facts", JSONB, nullable=False),
        sa.CheckConstraint("severity IN ('error','query')", name="ck_check_findings_severity"),
    )
    op.create_table(
        "check_explanations", *_key(),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("learner_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("subject_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("length(text) BETWEEN 1 AND 1000", name="ck_check_explanations_text"),
    )
    op.create_table(
        "check_state", *_key(),
        sa.Column("unit_path", sa.Text, nullable=False),
        sa.Column("rules_hash", sa.Text, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("queries", sa.Integer, nullable=False),
        sa.Column("unexplained", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_check_state_path", "check_state", ["round_id", "unit_path"],
                    postgresql_ops={"unit_path": "text_pattern_ops"})
    op.create_table(
        "check_dirty",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("unit_id", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_check_dirty_unit", "check_dirty", ["round_id", "unit_id"])


def downgrade():
    for name in ("check_dirty", "check_state", "check_explanations", "check_findings"):
        op.drop_table(name)
    op.drop_index("ix_learners_name_key", table_name="learners")
