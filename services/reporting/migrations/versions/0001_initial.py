"""outbox, inbox, failed events, audit

Revision ID: 0001
Revises:
"""
from alembic import op

from services.common.tables import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_common_tables(op)


def downgrade():
    for name in ("audit_log", "failed_events", "inbox", "outbox"):
        op.drop_table(name)
