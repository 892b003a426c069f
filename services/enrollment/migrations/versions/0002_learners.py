"""learners, headcounts, seals, units

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _now():
    return sa.func.now()


def upgrade():
    op.create_table(
        "units",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("affiliation", sa.Text),
        sa.Column("closed_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_index("ix_units_parent_type", "units", ["parent_id", "type"])

    op.create_table(
        "seals",
        sa.Column("round_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("unit_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sealed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("sealed_at", sa.DateTime(timezone=True)),
        sa.Column("counts", JSONB),
        sa.Column("schools", JSONB),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.CheckConstraint("NOT sealed OR (sealed_at IS NOT NULL AND counts IS NOT NULL)",
                           name="ck_seals_sealed_has_counts"),
    )

    op.create_table(
        "learners",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("institution_id", sa.BigInteger, nullable=False),
        sa.Column("institution_path", sa.Text, nullable=False),
        sa.Column("id_kind", sa.Text, nullable=False),
        sa.Column("id_number", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("nationality", sa.Text),
        sa.Column("grade", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("removal_reason", sa.Text),
        sa.Column("removal_note", sa.Text),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.Column("removed_by", sa.BigInteger),
        sa.Column("source", sa.Text, nullable=False, server_default="manual"),
        sa.Column("carried_from", sa.BigInteger),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_by", sa.BigInteger),
        sa.CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_learners_id_kind"),
        sa.CheckConstraint("sex IN ('M','F')", name="ck_learners_sex"),
        sa.CheckConstraint("status IN ('active','removed')", name="ck_learners_status"),
        sa.CheckConstraint("(status = 'removed') = (removal_reason IS NOT NULL)", name="ck_learners_removal"),
        sa.CheckConstraint("source IN ('manual','import','carry_over')", name="ck_learners_source"),
    )
    op.create_index("uq_learners_round_person_active", "learners", ["round_id", "id_number"],
                    unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_index("ix_learners_institution", "learners",
                    ["round_id", "institution_id", "status", "grade"])
    op.create_index("ix_learners_path", "learners", ["round_id", "institution_path"],
                    postgresql_ops={"institution_path": "text_pattern_ops"})

    op.create_table(
        "headcounts",
        sa.Column("round_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("school_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("lao_id", sa.BigInteger, nullable=False),
        sa.Column("school_path", sa.Text, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("by_grade", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_by", sa.BigInteger),
        sa.CheckConstraint("total >= 0", name="ck_headcounts_total"),
        sa.CheckConstraint("NOT closed OR total = 0", name="ck_headcounts_closed_zero"),
    )
    op.create_index("ix_headcounts_lao", "headcounts", ["round_id", "lao_id"])


def downgrade():
    for name in ("headcounts", "learners", "seals", "units"):
        op.drop_table(name)
