"""staff counts kept per unit and per ancestor

Revision ID: 0008
Revises: 0007

``rp_staff_counts`` holds, per round, the active staff of each position in the
subtree of every unit (the unit itself included), as ``rp_learner_counts``
holds the learners: the summary reads one unit's rows instead of counting
``rp_staff`` by path prefix (every staff record of the country at the
department). It is filled from the staff records already held, and guarded by
the same trigger as the other aggregates (no count below zero).
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FILL = """
INSERT INTO rp_staff_counts (round_id, unit_id, position, n)
SELECT s.round_id, a.unit_id, s.position, count(*)
FROM rp_staff s
CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from s.institution_path), '/')::bigint[]) AS a(unit_id)
WHERE s.active
GROUP BY s.round_id, a.unit_id, s.position
"""


def upgrade():
    op.create_table(
        "rp_staff_counts",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("position", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')",
                           name="ck_rp_staff_counts_position"),
    )
    op.execute("CREATE TRIGGER rp_staff_counts_not_negative AFTER INSERT OR UPDATE ON rp_staff_counts "
               "FOR EACH ROW EXECUTE FUNCTION rp_count_not_negative()")
    op.execute(FILL)


def downgrade():
    op.drop_table("rp_staff_counts")
