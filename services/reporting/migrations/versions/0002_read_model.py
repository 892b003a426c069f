"""the read model: units, rounds, learner facts and counts, headcounts, confirmations, tallies

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNIT_TYPES = "('department','province','lao','school','cdc','other_school')"
GRADES = "('k1','k2','k3','p1','p2','p3','p4','p5','p6','m1','m2','m3','m4','m5','m6','cdc')"


COUNT_TABLES = ("rp_unit_counts", "rp_learner_counts", "rp_other_counts", "rp_round_tally")

# a count below zero is refused after the row is written (a CHECK would test the
# row an upsert proposes to insert, before the conflict turns it into an update)
NOT_NEGATIVE = """
CREATE FUNCTION rp_count_not_negative() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.n < 0 THEN
        RAISE EXCEPTION 'rp_count_not_negative: %.n would be % for %', TG_TABLE_NAME, NEW.n, row_to_json(NEW)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade():
    op.create_table(
        "rp_units",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("affiliation", sa.Text),
        sa.Column("closed_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(f"type IN {UNIT_TYPES}", name="ck_rp_units_type"),
        sa.CheckConstraint("status IN ('pending','active','closed')", name="ck_rp_units_status"),
        sa.CheckConstraint("path LIKE '/%/'", name="ck_rp_units_path"),
    )
    op.create_index("ix_rp_units_path_prefix", "rp_units", ["path"],
                    postgresql_ops={"path": "text_pattern_ops"})
    op.create_index("ix_rp_units_parent", "rp_units", ["parent_id"])

    op.create_table(
        "rp_rounds",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("number", sa.SmallInteger, nullable=False),
        sa.Column("census_date", sa.Date, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True)),
        sa.Column("settings", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("number IN (1, 2)", name="ck_rp_rounds_number"),
    )
    op.create_index("ix_rp_rounds_year_number", "rp_rounds", ["academic_year", "number"])

    op.create_table(
        "rp_unit_counts",
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("type", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint(f"type IN {UNIT_TYPES}", name="ck_rp_unit_counts_type"),
    )

    op.create_table(
        "rp_learners",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("learner_id", sa.BigInteger, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("institution_id", sa.BigInteger, nullable=False),
        sa.Column("institution_path", sa.Text, nullable=False),
        sa.Column("grade", sa.Text, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("id_kind", sa.Text, nullable=False),
        sa.Column("age", sa.SmallInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"grade IN {GRADES}", name="ck_rp_learners_grade"),
        sa.CheckConstraint("sex IN ('M','F')", name="ck_rp_learners_sex"),
        sa.CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_rp_learners_id_kind"),
        sa.CheckConstraint("(grade = 'cdc') = (age >= 0)", name="ck_rp_learners_age"),
        sa.CheckConstraint("version > 0", name="ck_rp_learners_version"),
    )

    op.create_table(
        "rp_learner_counts",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("grade", sa.Text, primary_key=True),
        sa.Column("sex", sa.Text, primary_key=True),
        sa.Column("id_kind", sa.Text, primary_key=True),
        sa.Column("age", sa.SmallInteger, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint(f"grade IN {GRADES}", name="ck_rp_learner_counts_grade"),
    )

    op.create_table(
        "rp_headcounts",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("school_id", sa.BigInteger, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("lao_id", sa.BigInteger, nullable=False),
        sa.Column("school_path", sa.Text, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("by_grade", JSONB, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("total >= 0", name="ck_rp_headcounts_total"),
        sa.CheckConstraint("NOT closed OR total = 0", name="ck_rp_headcounts_closed"),
    )
    op.create_index("ix_rp_headcounts_path", "rp_headcounts", ["round_id", "school_path"],
                    postgresql_ops={"school_path": "text_pattern_ops"})

    op.create_table(
        "rp_other_counts",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("grade", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint(f"grade IN {GRADES}", name="ck_rp_other_counts_grade"),
    )

    op.create_table(
        "rp_confirmations",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_type", sa.Text, nullable=False),
        sa.Column("unit_path", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_by", sa.Text),
        sa.Column("counts", JSONB),
        sa.Column("other_schools", JSONB),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('open','confirmed')", name="ck_rp_confirmations_state"),
        sa.CheckConstraint("state = 'open' OR confirmed_at IS NOT NULL", name="ck_rp_confirmations_at"),
        sa.CheckConstraint(f"unit_type IN {UNIT_TYPES}", name="ck_rp_confirmations_type"),
    )
    op.create_index("ix_rp_confirmations_path", "rp_confirmations", ["round_id", "unit_path"],
                    postgresql_ops={"unit_path": "text_pattern_ops"})

    op.create_table(
        "rp_round_tally",
        sa.Column("round_id", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.BigInteger, primary_key=True),
        sa.Column("type", sa.Text, primary_key=True),
        sa.Column("metric", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint(f"type IN {UNIT_TYPES}", name="ck_rp_round_tally_type"),
        sa.CheckConstraint("metric IN ('confirmed','recorded','recorded_closed')",
                           name="ck_rp_round_tally_metric"),
    )

    op.execute(NOT_NEGATIVE)
    for table in COUNT_TABLES:
        op.execute(f"CREATE TRIGGER {table}_not_negative AFTER INSERT OR UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION rp_count_not_negative()")


def downgrade():
    for name in ("rp_round_tally", "rp_confirmations", "rp_other_counts", "rp_headcounts",
                 "rp_learner_counts", "rp_learners", "rp_unit_counts", "rp_rounds", "rp_units"):
        op.drop_table(name)
    op.execute("DROP FUNCTION rp_count_not_negative()")
