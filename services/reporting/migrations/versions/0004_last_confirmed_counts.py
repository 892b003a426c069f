"""the counts of each unit's last confirmation, kept when it is revoked

Revision ID: 0004
Revises: 0003

``last_counts`` is ``{"version", "counts", "other_schools"}`` of the unit's
newest confirmation (its ``confirmation_version``, its counts and, for an LAO,
its other-affiliation schools). A confirmation sets it; a revocation leaves it,
so the budget preview can show the change against the last confirmation of a
unit that is open again. Rows confirmed now are filled from their counts.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("rp_confirmations", sa.Column("last_counts", JSONB))
    op.execute("""
        UPDATE rp_confirmations
        SET last_counts = jsonb_build_object('version', version, 'counts', counts, 'other_schools', other_schools)
        WHERE state = 'confirmed'""")


def downgrade():
    op.drop_column("rp_confirmations", "last_counts")
