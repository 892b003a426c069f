"""what the last seal held: the learners' snapshot, the last counts, schools and digests

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LAST = ("last_counts", "last_schools", "last_sealed_at", "last_digest", "last_learners_digest")


def upgrade():
    op.add_column("seals", sa.Column("last_counts", JSONB))
    op.add_column("seals", sa.Column("last_schools", JSONB))
    op.add_column("seals", sa.Column("last_sealed_at", sa.DateTime(timezone=True)))
    op.add_column("seals", sa.Column("last_digest", sa.Text))
    op.add_column("seals", sa.Column("last_learners_digest", sa.Text))
    op.create_table(
        "seal_snapshots",
        sa.Column("round_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("unit_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("learner_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("id_kind", sa.Text, nullable=False),
        sa.Column("id_number", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("grade", sa.Text, nullable=False),
        sa.Column("nationality", sa.Text),
    )
    # units sealed now: their learners cannot have changed since, so they are what was sealed
    # (their digests are computed at their next seal)
    op.execute("UPDATE seals SET last_counts = counts, last_schools = schools, "
               "last_sealed_at = sealed_at WHERE sealed")
    op.execute("""
        INSERT INTO seal_snapshots (round_id, unit_id, learner_id, version, id_kind, id_number, prefix,
                                    first_name, last_name, sex, birth_date, grade, nationality)
        SELECT l.round_id, l.institution_id, l.id, l.version, l.id_kind, l.id_number, l.prefix,
               l.first_name, l.last_name, l.sex, l.birth_date, l.grade, l.nationality
        FROM learners l JOIN seals s ON s.round_id = l.round_id AND s.unit_id = l.institution_id
        WHERE s.sealed AND l.status = 'active'
    """)


def downgrade():
    op.drop_table("seal_snapshots")
    for name in reversed(LAST):
        op.drop_column("seals", name)
