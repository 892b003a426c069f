"""Reporting tables: a read model built only from the owners' events.

Facts (one row per entity, with the entity's version from its owner) make every
event idempotent and order-independent: an event is applied only when it
carries a newer version than the fact already stored, and the aggregates move
by the difference between the old and the new fact.

Aggregates are kept per unit *and per ancestor* (a learner of school
``/1/7/42/99/`` counts in units 1, 7, 42 and 99), so a report for any unit —
the whole country included — reads a handful of rows instead of scanning
learners. No count may fall below zero: a trigger on every aggregate table
(``rp_count_not_negative``, migration 0002) refuses it. It is a trigger, not a
CHECK, because a CHECK is tested on the row an upsert proposes to insert, before
the conflict makes it an update of the existing count.
"""
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Index, Integer, MetaData,
    SmallInteger, Table, Text, func,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import add_common_tables

metadata = MetaData()
common = add_common_tables(metadata)

UNIT_TYPE_CHECK = "type IN ('department','province','lao','school','cdc','other_school')"
GRADE_CHECK = ("grade IN ('k1','k2','k3','p1','p2','p3','p4','p5','p6',"
               "'m1','m2','m3','m4','m5','m6','cdc')")

# -- reference data (registry and rounds events) --------------------------------

units = Table(
    "rp_units", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("parent_id", BigInteger),
    Column("path", Text, nullable=False, unique=True),
    Column("depth", SmallInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("affiliation", Text),
    Column("closed_on", Date),
    Column("version", Integer, nullable=False),
    CheckConstraint(UNIT_TYPE_CHECK, name="ck_rp_units_type"),
    CheckConstraint("status IN ('pending','active','closed')", name="ck_rp_units_status"),
    CheckConstraint("path LIKE '/%/'", name="ck_rp_units_path"),
    Index("ix_rp_units_path_prefix", "path", postgresql_ops={"path": "text_pattern_ops"}),
    Index("ix_rp_units_parent", "parent_id"),
)

rounds = Table(
    "rp_rounds", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("academic_year", Integer, nullable=False),
    Column("number", SmallInteger, nullable=False),
    Column("census_date", Date, nullable=False),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("finalized_at", DateTime(timezone=True)),
    Column("settings", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    # effective deadline per level {"institution", "lao", "province", "department"}
    # (ISO times; department may be null), defaults filled in
    Column("deadlines", JSONB),
    # the round's extensions were learned from the rounds service (those
    # granted before the read model kept them)
    Column("extensions_known", Boolean, nullable=False, server_default="false"),
    CheckConstraint("number IN (1, 2)", name="ck_rp_rounds_number"),
    Index("ix_rp_rounds_year_number", "academic_year", "number"),
)

# units of each type (not closed) in the subtree of each unit, itself included
unit_counts = Table(
    "rp_unit_counts", metadata,
    Column("unit_id", BigInteger, primary_key=True),
    Column("type", Text, primary_key=True),
    Column("n", Integer, nullable=False),
    CheckConstraint(UNIT_TYPE_CHECK, name="ck_rp_unit_counts_type"),
)

# -- learners (enrollment events) -----------------------------------------------

learners = Table(
    "rp_learners", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("learner_id", BigInteger, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("institution_id", BigInteger, nullable=False),
    Column("institution_path", Text, nullable=False),
    Column("grade", Text, nullable=False),
    Column("sex", Text, nullable=False),
    Column("id_kind", Text, nullable=False),
    Column("age", SmallInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(GRADE_CHECK, name="ck_rp_learners_grade"),
    CheckConstraint("sex IN ('M','F')", name="ck_rp_learners_sex"),
    CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_rp_learners_id_kind"),
    CheckConstraint("(grade = 'cdc') = (age >= 0)", name="ck_rp_learners_age"),
    CheckConstraint("version > 0", name="ck_rp_learners_version"),
)

# learners per round and unit (the unit itself and every unit above it).
# ``age`` is the age in completed years at the census date for CDC children
# and -1 for school grades (where reports do not break down by age).
learner_counts = Table(
    "rp_learner_counts", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("grade", Text, primary_key=True),
    Column("sex", Text, primary_key=True),
    Column("id_kind", Text, primary_key=True),
    Column("age", SmallInteger, primary_key=True),
    Column("n", Integer, nullable=False),
    CheckConstraint(GRADE_CHECK, name="ck_rp_learner_counts_grade"),
)

# -- other-affiliation schools (enrollment headcount events) ----------------------

headcounts = Table(
    "rp_headcounts", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("school_id", BigInteger, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("lao_id", BigInteger, nullable=False),
    Column("school_path", Text, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("by_grade", JSONB, nullable=False),
    Column("total", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("total >= 0", name="ck_rp_headcounts_total"),
    CheckConstraint("NOT closed OR total = 0", name="ck_rp_headcounts_closed"),
    Index("ix_rp_headcounts_path", "round_id", "school_path",
          postgresql_ops={"school_path": "text_pattern_ops"}),
)

other_counts = Table(
    "rp_other_counts", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("grade", Text, primary_key=True),
    Column("n", Integer, nullable=False),
    CheckConstraint(GRADE_CHECK, name="ck_rp_other_counts_grade"),
)

# -- confirmations (confirmation events) -------------------------------------------

confirmations = Table(
    "rp_confirmations", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("unit_type", Text, nullable=False),
    Column("unit_path", Text, nullable=False),
    Column("state", Text, nullable=False),
    # the owner's order of this unit's confirmations (its ``confirmation_version``;
    # 0 before events carried one, then ``changed_at`` decides): an event older
    # than the stored one changes nothing
    Column("version", Integer, nullable=False, server_default="0"),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("confirmed_by", Text),            # the user id
    Column("confirmed_by_username", Text),   # the account name
    Column("counts", JSONB),
    Column("other_schools", JSONB),
    # {"version", "counts", "other_schools"} of the newest confirmation: set on
    # confirm, kept on revoke (what an open unit last confirmed)
    Column("last_counts", JSONB),
    Column("reason", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('open','confirmed')", name="ck_rp_confirmations_state"),
    CheckConstraint("state = 'open' OR confirmed_at IS NOT NULL", name="ck_rp_confirmations_at"),
    CheckConstraint("version >= 0", name="ck_rp_confirmations_version"),
    CheckConstraint(UNIT_TYPE_CHECK.replace("type IN", "unit_type IN"),
                    name="ck_rp_confirmations_type"),
    Index("ix_rp_confirmations_path", "round_id", "unit_path",
          postgresql_ops={"unit_path": "text_pattern_ops"}),
)

# per round, units of each type in the subtree of each unit (itself included)
# that are confirmed; other-affiliation schools with a headcount (recorded),
# and those recorded as closed
TALLY_METRICS = ("confirmed", "recorded", "recorded_closed")

round_tally = Table(
    "rp_round_tally", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("type", Text, primary_key=True),
    Column("metric", Text, primary_key=True),
    Column("n", Integer, nullable=False),
    CheckConstraint(UNIT_TYPE_CHECK, name="ck_rp_round_tally_type"),
    CheckConstraint("metric IN ('confirmed','recorded','recorded_closed')", name="ck_rp_round_tally_metric"),
)

# -- deadlines (rounds events) and reminders ------------------------------------------

# the rounds' extensions: a later deadline for a subtree, at one level or (level
# null) at every level; kept from ``extension_granted`` (or learned by RPC)
extensions = Table(
    "rp_extensions", metadata,
    Column("id", BigInteger, primary_key=True),          # the rounds service's id
    Column("round_id", BigInteger, nullable=False),
    Column("org_unit_id", BigInteger, nullable=False),
    Column("org_unit_path", Text, nullable=False),
    Column("level", Text),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("automatic", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True)),
    CheckConstraint("level IS NULL OR level IN ('institution','lao','province')", name="ck_rp_extensions_level"),
    Index("ix_rp_extensions_round", "round_id"),
)

# one row per reminder decided: (round, unit, the deadline it is about, hours
# before it). The unique key makes each reminder happen once, across restarts
# and replicas; ``emitted`` is false for the larger thresholds crossed in the
# same tick as a smaller one (recorded, not sent)
reminders = Table(
    "rp_reminders", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("deadline", DateTime(timezone=True), primary_key=True),
    Column("hours", SmallInteger, primary_key=True),
    Column("level", Text, nullable=False),
    Column("emitted", Boolean, nullable=False),
    Column("event_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("hours > 0", name="ck_rp_reminders_hours"),
    Index("ix_rp_reminders_unit", "unit_id", "round_id"),
)

# -- caregivers and teachers (enrollment staff events; services.reporting.staff) ---------

# One row per staff record as its latest event said (no name, no ID number).
staff = Table(
    "rp_staff", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("staff_id", BigInteger, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("institution_id", BigInteger, nullable=False),
    Column("institution_path", Text, nullable=False),
    Column("position", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')", name="ck_rp_staff_position"),
    Index("ix_rp_staff_path", "round_id", "institution_path",
          postgresql_ops={"institution_path": "text_pattern_ops"}),
)

# per round, the active staff of each position in the subtree of each unit
# (itself included), moved by every staff event as the learner counts are
staff_counts = Table(
    "rp_staff_counts", metadata,
    Column("round_id", BigInteger, primary_key=True),
    Column("unit_id", BigInteger, primary_key=True),
    Column("position", Text, primary_key=True),
    Column("n", Integer, nullable=False),
    CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')", name="ck_rp_staff_counts_position"),
)
