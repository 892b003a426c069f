"""deadlines per level: the LAO, province and department deadlines of a round;
extensions per level, and automatic ones (after a revocation)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEADLINE_ORDER = (
    "COALESCE(lao_closes_at, closes_at) >= closes_at"
    " AND COALESCE(province_closes_at, COALESCE(lao_closes_at, closes_at) + interval '1 day')"
    " >= COALESCE(lao_closes_at, closes_at)"
    " AND (department_closes_at IS NULL OR department_closes_at >= COALESCE("
    "province_closes_at, COALESCE(lao_closes_at, closes_at) + interval '1 day'))"
)


def upgrade():
    for name in ("lao_closes_at", "province_closes_at", "department_closes_at"):
        op.add_column("rounds", sa.Column(name, sa.DateTime(timezone=True)))
    op.create_check_constraint("ck_rounds_deadline_order", "rounds", DEADLINE_ORDER)
    op.add_column("extensions", sa.Column("level", sa.Text, nullable=False, server_default="all"))
    op.add_column("extensions", sa.Column("automatic", sa.Boolean, nullable=False,
                                          server_default=sa.false()))
    op.create_check_constraint("ck_extensions_level", "extensions",
                               "level IN ('all', 'institution', 'lao', 'province')")
    op.drop_constraint("uq_extensions_round_unit", "extensions", type_="unique")
    op.create_unique_constraint("uq_extensions_round_unit_level", "extensions",
                                ["round_id", "org_unit_id", "level"])


def downgrade():
    op.execute("DELETE FROM extensions WHERE level <> 'all'")
    op.drop_constraint("uq_extensions_round_unit_level", "extensions", type_="unique")
    op.create_unique_constraint("uq_extensions_round_unit", "extensions", ["round_id", "org_unit_id"])
    op.drop_constraint("ck_extensions_level", "extensions", type_="check")
    op.drop_column("extensions", "automatic")
    op.drop_column("extensions", "level")
    op.drop_constraint("ck_rounds_deadline_order", "rounds", type_="check")
    for name in ("department_closes_at", "province_closes_at", "lao_closes_at"):
        op.drop_column("rounds", name)
