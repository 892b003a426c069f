"""Enrollment tables: learners, other-school headcounts, the seal row of each
(round, unit), and the service's copy of the registry's units."""
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Index, Integer, MetaData, Table,
    Text, false, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.tables import add_common_tables, add_unit_table

metadata = MetaData()
common = add_common_tables(metadata)

# The registry's units as last seen (get_units, then unit_changed events).
units = add_unit_table(metadata)

# One row per (round, unit) that has been edited or sealed: the lock.
# Every change of a unit's learners (or an LAO's headcounts) takes it FOR SHARE
# and refuses when sealed; seal takes it FOR UPDATE while it counts.
seals = Table(
    "seals", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("sealed", Boolean, nullable=False, server_default=false()),
    Column("sealed_at", DateTime(timezone=True)),
    Column("counts", JSONB),
    Column("schools", JSONB),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("NOT sealed OR (sealed_at IS NOT NULL AND counts IS NOT NULL)",
                    name="ck_seals_sealed_has_counts"),
)

learners = Table(
    "learners", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, nullable=False),
    Column("institution_id", BigInteger, nullable=False),
    Column("institution_path", Text, nullable=False),
    Column("id_kind", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("prefix", Text),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("sex", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("nationality", Text),
    Column("grade", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("removal_reason", Text),
    Column("removal_note", Text),
    Column("removed_at", DateTime(timezone=True)),
    Column("removed_by", BigInteger),
    Column("source", Text, nullable=False, server_default="manual"),
    Column("carried_from", BigInteger),
    # the import that added the learner, and the row of its file
    Column("import_id", UUID(as_uuid=False)),
    Column("import_row", Integer),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", BigInteger),
    CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_learners_id_kind"),
    CheckConstraint("sex IN ('M','F')", name="ck_learners_sex"),
    CheckConstraint("status IN ('active','removed')", name="ck_learners_status"),
    CheckConstraint("(status = 'removed') = (removal_reason IS NOT NULL)", name="ck_learners_removal"),
    CheckConstraint("source IN ('manual','import','carry_over','promotion')", name="ck_learners_source"),
    # no person is active twice in a round, at one institution or at two
    Index("uq_learners_round_person_active", "round_id", "id_number", unique=True,
          postgresql_where=text("status = 'active'")),
    Index("ix_learners_institution", "round_id", "institution_id", "status", "grade"),
    Index("ix_learners_path", "round_id", "institution_path",
          postgresql_ops={"institution_path": "text_pattern_ops"}),
)

# Headcounts of other-affiliation schools, entered by their funding LAO.
headcounts = Table(
    "headcounts", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("school_id", BigInteger, primary_key=True, autoincrement=False),
    Column("lao_id", BigInteger, nullable=False),
    Column("school_path", Text, nullable=False),
    Column("closed", Boolean, nullable=False, server_default=false()),
    Column("total", Integer, nullable=False),
    Column("by_grade", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", BigInteger),
    # started from the round before (``draft_from``), not yet accepted by the LAO
    Column("draft", Boolean, nullable=False, server_default=false()),
    Column("draft_from", BigInteger),
    CheckConstraint("total >= 0", name="ck_headcounts_total"),
    CheckConstraint("NOT closed OR total = 0", name="ck_headcounts_closed_zero"),
    Index("ix_headcounts_lao", "round_id", "lao_id"),
)

# Duplicate refusals against other institutions that an account was told about,
# for the limit on probing (services.enrollment.duplicates); rows older than
# the window are deleted as the account's next refusal is counted.
duplicate_probes = Table(
    "duplicate_probes", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("refusals", Integer, nullable=False),
    CheckConstraint("refusals > 0", name="ck_duplicate_probes_refusals"),
    Index("ix_duplicate_probes_user_at", "user_id", "at"),
)

# -- checks before confirming (services.enrollment.checks) --------------------------

# Likely duplicates: the same name and birth date in a round, under different IDs.
Index("ix_learners_name_key", learners.c.round_id, func.lower(func.btrim(learners.c.first_name)),
      func.lower(func.btrim(learners.c.last_name)), learners.c.birth_date,
      postgresql_where=text("status = 'active'"))

# What each rule found for an institution or an LAO, as last computed. A
# finding is about the unit, a learner of it (``learner_id``) or another unit
# (``subject_id``: an other-affiliation school); 0 where there is none.
check_findings = Table(
    "check_findings", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("code", Text, primary_key=True),
    Column("learner_id", BigInteger, primary_key=True, autoincrement=False),
    Column("subject_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_path", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("facts", JSONB, nullable=False),
    CheckConstraint("severity IN ('error','query')", name="ck_check_findings_severity"),
)

# The units' written explanations of their queries (kept when a finding goes
# and comes back).
check_explanations = Table(
    "check_explanations", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("code", Text, primary_key=True),
    Column("learner_id", BigInteger, primary_key=True, autoincrement=False),
    Column("subject_id", BigInteger, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("updated_by", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("length(text) BETWEEN 1 AND 1000", name="ck_check_explanations_text"),
)

# Per unit and round: when its findings were computed, with which rules, and
# their tally (summed per child for provinces and the department).
check_state = Table(
    "check_state", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_path", Text, nullable=False),
    Column("rules_hash", Text, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("queries", Integer, nullable=False),
    Column("unexplained", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_check_state_path", "round_id", "unit_path", postgresql_ops={"unit_path": "text_pattern_ops"}),
)

# Units whose findings are out of date: appended (never updated, so edits do not
# wait on each other), deleted by id once a refresh has seen them.
check_dirty = Table(
    "check_dirty", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, nullable=False),
    Column("unit_id", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_check_dirty_unit", "round_id", "unit_id"),
)

# -- what the last seal held (services.enrollment.sealing, docs/confirmation.md) --------------

# The last seal of a unit, kept when it is unsealed (a revoked confirmation), so
# that what changed since can be shown: its counts, an LAO's other-school
# entries, when, and its digests.
for _column in (Column("last_counts", JSONB), Column("last_schools", JSONB),
                Column("last_sealed_at", DateTime(timezone=True)), Column("last_digest", Text),
                Column("last_learners_digest", Text)):
    seals.append_column(_column)
del _column

# The learners of an institution as its last seal held them (replaced at each seal).
seal_snapshots = Table(
    "seal_snapshots", metadata,
    Column("round_id", BigInteger, primary_key=True, autoincrement=False),
    Column("unit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("learner_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("id_kind", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("prefix", Text),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("sex", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("grade", Text, nullable=False),
    Column("nationality", Text),
)

# -- transfers of a child between institutions (services.enrollment.transfers) ----------------

# A receiving institution asks the institution holding a child in a round to hand
# the child over. One pending request per child and round (partial unique index);
# ``history`` lists every step ``[{at, action, by, unit_id, note | reason}]``.
transfers = Table(
    "transfers", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, nullable=False),
    Column("id_kind", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("learner_id", BigInteger, nullable=False),
    Column("from_institution_id", BigInteger, nullable=False),
    Column("from_path", Text, nullable=False),
    Column("to_institution_id", BigInteger, nullable=False),
    Column("to_path", Text, nullable=False),
    Column("grade", Text, nullable=False),
    Column("note", Text),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("reason", Text),
    Column("new_learner_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("created_by_unit_id", BigInteger),
    Column("answered_at", DateTime(timezone=True)),
    Column("answered_by", BigInteger),
    Column("answered_by_unit_id", BigInteger),
    Column("history", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("state IN ('pending','accepted','declined','withdrawn','cancelled')",
                    name="ck_transfers_state"),
    CheckConstraint("id_kind IN ('national_id','g_code')", name="ck_transfers_id_kind"),
    CheckConstraint("state <> 'accepted' OR new_learner_id IS NOT NULL", name="ck_transfers_accepted"),
    CheckConstraint("state <> 'declined' OR reason IS NOT NULL", name="ck_transfers_declined"),
    Index("uq_transfers_round_person_pending", "round_id", "id_number", unique=True,
          postgresql_where=text("state = 'pending'")),
    Index("ix_transfers_from", "round_id", "from_path", postgresql_ops={"from_path": "text_pattern_ops"}),
    Index("ix_transfers_to", "round_id", "to_path", postgresql_ops={"to_path": "text_pattern_ops"}),
)

# -- caregivers and teachers of an institution (services.enrollment.staff) ---------------------

# One record per post in a round; a person (national ID) holds at most one active
# post per round across the country (partial unique index). Removed records stay.
staff = Table(
    "staff", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("round_id", BigInteger, nullable=False),
    Column("institution_id", BigInteger, nullable=False),
    Column("institution_path", Text, nullable=False),
    Column("national_id", Text, nullable=False),
    Column("prefix", Text),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("position", Text, nullable=False),
    Column("employment_type", Text, nullable=False),
    Column("qualification", Text),
    Column("start_date", Date),
    Column("status", Text, nullable=False, server_default="active"),
    Column("removal_reason", Text),
    Column("removal_note", Text),
    Column("removed_at", DateTime(timezone=True)),
    Column("removed_by", BigInteger),
    Column("source", Text, nullable=False, server_default="manual"),
    Column("import_id", UUID(as_uuid=False)),
    Column("import_row", Integer),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", BigInteger),
    CheckConstraint("position IN ('caregiver_teacher','caregiver','teacher')", name="ck_staff_position"),
    CheckConstraint("employment_type IN ('civil_servant','government_employee','mission_employee',"
                    "'general_employee','other')", name="ck_staff_employment_type"),
    CheckConstraint("status IN ('active','removed')", name="ck_staff_status"),
    CheckConstraint("(status = 'removed') = (removal_reason IS NOT NULL)", name="ck_staff_removal"),
    CheckConstraint("source IN ('manual','import')", name="ck_staff_source"),
    Index("uq_staff_round_person_active", "round_id", "national_id", unique=True,
          postgresql_where=text("status = 'active'")),
    Index("ix_staff_institution", "round_id", "institution_id", "status", "position"),
)
