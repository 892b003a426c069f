"""accounts: a token version (a password change or a disabled account ends the
tokens issued before it) and when the password last changed

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("token_version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True)))


def downgrade():
    op.drop_column("users", "password_changed_at")
    op.drop_column("users", "token_version")
