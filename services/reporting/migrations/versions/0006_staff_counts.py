"""staff counts by position in the read model

Revision ID: 0006
Revises: 0005

``rp_staff`` keeps each staff record of enrollment as its latest event said
(position, institution, active or not; no name, no ID number).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rp_staff",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("staff_id", sa.BigInteger, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("institution_id", sa.BigInteger, nullable=False),
        sa.Column("institution_path", sa.Text, nullable=False),
        sa.Column("position", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')",
                           name="ck_rp_staff_position"),
    )
    op.create_index("ix_rp_staff_path", "rp_staff", ["round_id", "institution_path"],
                    postgresql_ops={"institution_path": "text_pattern_ops"})


def downgrade():
    op.drop_table("rp_staff")
