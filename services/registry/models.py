"""Registry tables: org units (materialised paths) and accounts."""
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
    LargeBinary, MetaData, PrimaryKeyConstraint, SmallInteger, Table, Text, func, text,
)

from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import add_common_tables

metadata = MetaData()
common = add_common_tables(metadata)

org_units = Table(
    "org_units", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("parent_id", BigInteger, ForeignKey("org_units.id"), index=True),
    Column("path", Text, nullable=False, unique=True),
    Column("depth", SmallInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("affiliation", Text),
    Column("closed_on", Date),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("verified_at", DateTime(timezone=True)),
    Column("verified_by", BigInteger),
    # institution profile and the self-established CDC survey (services.registry.profiles)
    Column("profile", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("survey", JSONB),
    Column("rejection_reason", Text),
    Column("rejected_at", DateTime(timezone=True)),
    Column("rejected_by", BigInteger),
    CheckConstraint("type IN ('department','province','lao','school','cdc','other_school')",
                    name="ck_org_units_type"),
    CheckConstraint("status IN ('pending','active','closed','rejected')", name="ck_org_units_status"),
    CheckConstraint("jsonb_typeof(profile) = 'object'", name="ck_org_units_profile_object"),
    CheckConstraint("(status = 'rejected') = (rejection_reason IS NOT NULL)",
                    name="ck_org_units_rejected_reason"),
    CheckConstraint("(type = 'department') = (parent_id IS NULL)", name="ck_org_units_root"),
    CheckConstraint("(type = 'other_school') = (affiliation IS NOT NULL)",
                    name="ck_org_units_affiliation"),
    Index("ix_org_units_path_prefix", "path", postgresql_ops={"path": "text_pattern_ops"}),
    Index("uq_org_units_one_department", "type", unique=True,
          postgresql_where=text("type = 'department'")),
    Index("ix_org_units_parent_type", "parent_id", "type", "status"),
)

users = Table(
    "users", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("username", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("org_unit_id", BigInteger, ForeignKey("org_units.id"), nullable=False, index=True),
    Column("role", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("last_login_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    # raised when the password changes or the account is disabled: older tokens stop working
    Column("token_version", Integer, nullable=False, server_default="1"),
    Column("password_changed_at", DateTime(timezone=True)),
    CheckConstraint("role IN ('department','province','lao','institution')", name="ck_users_role"),
    Index("uq_users_username_lower", func.lower(text("username")), unique=True),
)

# the establishment documents of units (services.registry.documents)
unit_documents = Table(
    "unit_documents", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("org_unit_id", BigInteger, ForeignKey("org_units.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    CheckConstraint("kind IN ('establishment_order','other')", name="ck_unit_documents_kind"),
    CheckConstraint("content_type IN ('application/pdf','image/jpeg','image/png')",
                    name="ck_unit_documents_type"),
    CheckConstraint("size = octet_length(content) AND size > 0", name="ck_unit_documents_size"),
    Index("ix_unit_documents_unit", "org_unit_id", "id"),
)

# agencies' client credentials (services.registry.agencies): read-only API clients with no unit
agency_clients = Table(
    "agency_clients", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("client_id", Text, nullable=False, unique=True),
    Column("secret_hash", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    # raised by a rotation or when disabled: the client's older tokens stop working
    Column("token_version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", BigInteger),
    Column("rotated_at", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("last_token_at", DateTime(timezone=True)),
    CheckConstraint("active OR disabled_at IS NOT NULL", name="ck_agency_clients_disabled"),
)

# failed sign-ins (services.registry.throttle): per (name, address), per address, per name
login_throttle = Table(
    "login_throttle", metadata,
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("address", Text, nullable=False, server_default=""),
    Column("failures", Integer, nullable=False),
    Column("first_failure_at", DateTime(timezone=True), nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True)),
    Column("locked_at", DateTime(timezone=True)),
    Column("pending", Integer, nullable=False, server_default="0"),  # attempts under way
    Column("pending_until", DateTime(timezone=True)),
    PrimaryKeyConstraint("kind", "name", "address", name="pk_login_throttle"),
    CheckConstraint("kind IN ('account','address','pair')", name="ck_login_throttle_kind"),
    Index("ix_login_throttle_last_failure", "last_failure_at"),
)
