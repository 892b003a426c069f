"""deadlines per level, extensions and deadline reminders

Revision ID: 0005
Revises: 0004

``rp_rounds.deadlines`` holds the effective deadline of each level (the rounds
service's ``deadlines``; rows stored before it get the defaults: the LAOs' is
the round's ``closes_at``, the provinces' a day later, the department's none).
``extensions_known`` says the round's extensions were read from the rounds
service (those granted before ``rp_extensions`` existed are fetched once).
``rp_reminders`` records every reminder decided, once per (round, unit,
deadline, hours before).
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("rp_rounds", sa.Column("deadlines", sa.dialects.postgresql.JSONB))
    op.add_column("rp_rounds", sa.Column("extensions_known", sa.Boolean, nullable=False,
                                         server_default=sa.false()))
    op.execute("""
        UPDATE rp_rounds SET deadlines = jsonb_build_object(
            'institution', to_jsonb(closes_at), 'lao', to_jsonb(closes_at),
            'province', to_jsonb(closes_at + interval '1 day'), 'department', NULL)""")
    op.create_table(
        "rp_extensions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("org_unit_id", sa.BigInteger, nullable=False),
        sa.Column("org_unit_path", sa.Text, nullable=False),
        sa.Column("level", sa.Text),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("automatic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("level IS NULL OR level IN ('institution','lao','province')",
                           name="ck_rp_extensions_level"),
    )
    op.create_index("ix_rp_extensions_round", "rp_extensions", ["round_id"])
    op.create_table(
        "rp_reminders",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("deadline", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hours", sa.SmallInteger, primary_key=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("emitted", sa.Boolean, nullable=False),
        sa.Column("event_id", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("hours > 0", name="ck_rp_reminders_hours"),
    )
    op.create_index("ix_rp_reminders_unit", "rp_reminders", ["unit_id", "round_id"])


def downgrade():
    op.drop_table("rp_reminders")
    op.drop_table("rp_extensions")
    op.drop_column("rp_rounds", "extensions_known")
    op.drop_column("rp_rounds", "deadlines")
