"""learners remember the import (and its row) that added them

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # nullable, no default: PostgreSQL adds them without rewriting the table
    op.add_column("learners", sa.Column("import_id", UUID(as_uuid=False)))
    op.add_column("learners", sa.Column("import_row", sa.Integer))


def downgrade():
    op.drop_column("learners", "import_row")
    op.drop_column("learners", "import_id")
