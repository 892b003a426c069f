"""login throttling: failed sign-ins counted per (name, client address), per
client address and per name, in the database so that every replica sees them;
the accounts' own lock columns (a hard lock after five failures) go

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
        sa.Column("locked_at", sa.DateTime(timezone=True)),
        sa.Column("pending", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pending_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("kind", "name", "address", name="pk_login_throttle"),
        sa.CheckConstraint("kind IN ('account','address','pair')", name="ck_login_throttle_kind"),
    )
    op.create_index("ix_login_throttle_last_failure", "login_throttle", ["last_failure_at"])
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")


def downgrade():
    op.add_column("users", sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.drop_index("ix_login_throttle_last_failure", table_name="login_throttle")
    op.drop_table("login_throttle")
