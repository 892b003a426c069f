"""the outbox keeps the trace of the change that emitted each event

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from services.common.tables import add_outbox_trace

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    add_outbox_trace(op)


def downgrade():
    op.drop_column("outbox", "trace")
