"""the digest of what a confirmation sealed, and the confirming user's note

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
    op.add_column("confirmations", sa.Column("seal_digest", sa.Text))
    op.add_column("confirmations", sa.Column("learners_digest", sa.Text))
    op.add_column("confirmations", sa.Column("note", sa.Text))


def downgrade():
    op.drop_column("confirmations", "note")
    op.drop_column("confirmations", "learners_digest")
    op.drop_column("confirmations", "seal_digest")
