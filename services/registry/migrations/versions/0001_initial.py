"""org units, accounts, outbox, inbox, audit

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.common.tables import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_common_tables(op)
    op.create_table(
        "org_units",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("org_units.id")),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("affiliation", sa.Text),
        sa.Column("closed_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("verified_by", sa.BigInteger),
        sa.CheckConstraint("type IN ('department','province','lao','school','cdc','other_school')",
                           name="ck_org_units_type"),
        sa.CheckConstraint("status IN ('pending','active','closed')", name="ck_org_units_status"),
        sa.CheckConstraint("(type = 'department') = (parent_id IS NULL)", name="ck_org_units_root"),
        sa.CheckConstraint("(type = 'other_school') = (affiliation IS NOT NULL)",
                           name="ck_org_units_affiliation"),
    )
    op.create_index("ix_org_units_parent_id", "org_units", ["parent_id"])
    op.create_index("ix_org_units_path_prefix", "org_units", ["path"],
                    postgresql_ops={"path": "text_pattern_ops"})
    op.create_index("uq_org_units_one_department", "org_units", ["type"], unique=True,
                    postgresql_where=sa.text("type = 'department'"))
    op.create_index("ix_org_units_parent_type", "org_units", ["parent_id", "type", "status"])
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("org_unit_id", sa.BigInteger, sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.CheckConstraint("role IN ('department','province','lao','institution')", name="ck_users_role"),
    )
    op.create_index("ix_users_org_unit_id", "users", ["org_unit_id"])
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade():
    op.drop_table("users")
    op.drop_table("org_units")
    for name in ("audit_log", "failed_events", "inbox", "outbox"):
        op.drop_table(name)
