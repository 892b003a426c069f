"""confirmations ordered by their owner's version; the confirming account's name

Revision ID: 0003
Revises: 0002

``version`` is the confirmation service's per-unit, per-round version (the
events' ``confirmation_version``): a confirmation event is applied only when it
is newer than the state held. Rows stored before it have 0, so any event that
carries a version replaces them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("rp_confirmations", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.add_column("rp_confirmations", sa.Column("confirmed_by_username", sa.Text))
    op.create_check_constraint("ck_rp_confirmations_version", "rp_confirmations", "version >= 0")


def downgrade():
    op.drop_constraint("ck_rp_confirmations_version", "rp_confirmations")
    op.drop_column("rp_confirmations", "confirmed_by_username")
    op.drop_column("rp_confirmations", "version")
