"""caregivers and teachers per round and institution

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("institution_id", sa.BigInteger, nullable=False),
        sa.Column("institution_path", sa.Text, nullable=False),
        sa.Column("national_id", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("position", sa.Text, nullable=False),
        sa.Column("employment_type", sa.Text, nullable=False),
        sa.Column("qualification", sa.Text),
        sa.Column("start_date", sa.Date),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("removal_reason", sa.Text),
        sa.Column("removal_note", sa.Text),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.Column("removed_by", sa.BigInteger),
        sa.Column("source", sa.Text, nullable=False, server_default="manual"),
        sa.Column("import_id", UUID(as_uuid=False)),
        sa.Column("import_row", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.BigInteger),
        sa.CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')",
                           name="ck_staff_position"),
        sa.CheckConstraint("employment_type IN ('civil_servant','government_employee','mission_employee',"
                           "'general_employee','other')", name="ck_staff_employment_type"),
        sa.CheckConstraint("status IN ('active','removed')", name="ck_staff_status"),
        sa.CheckConstraint("(status = 'removed') = (removal_reason IS NOT NULL)", name="ck_staff_removal"),
        sa.CheckConstraint("source IN ('manual','import')", name="ck_staff_source"),
    )
    op.create_index("uq_staff_round_person_active", "staff", ["round_id", "national_id"], unique=True,
                    postgresql_where=sa.text("status = 'active'"))
    op.create_index("ix_staff_institution", "staff", ["round_id", "institution_id", "status", "position"])


def downgrade():
    op.drop_table("staff")
