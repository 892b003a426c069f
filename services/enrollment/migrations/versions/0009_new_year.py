"""promotion to the new school year, other-affiliation headcount drafts

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # learners promoted from round 2 of the year before
    op.drop_constraint("ck_learners_source", "learners", type_="check")
    op.create_check_constraint("ck_learners_source", "learners",
                               "source IN ('manual','import','carry_over','promotion')")
    # a headcount started from the round before, not yet accepted by the LAO
    op.add_column("headcounts", sa.Column("draft", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column("headcounts", sa.Column("draft_from", sa.BigInteger()))


def downgrade():
    op.drop_column("headcounts", "draft_from")
    op.drop_column("headcounts", "draft")
    op.execute("UPDATE learners SET source = 'carry_over' WHERE source = 'promotion'")
    op.drop_constraint("ck_learners_source", "learners", type_="check")
    op.create_check_constraint("ck_learners_source", "learners",
                               "source IN ('manual','import','carry_over')")
