"""institution profiles, the self-established CDC survey and its documents:
``org_units`` gains ``profile`` (validated JSONB), ``survey`` (the CDC survey's own
fields, JSONB), the rejection of a survey (``rejected`` status, reason, when, by
whom); ``unit_documents`` holds the establishment documents' bytes (bytea)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("org_units", sa.Column("profile", postgresql.JSONB, nullable=False,
                                         server_default=sa.text("'{}'::jsonb")))
    op.add_column("org_units", sa.Column("survey", postgresql.JSONB))
    op.add_column("org_units", sa.Column("rejection_reason", sa.Text))
    op.add_column("org_units", sa.Column("rejected_at", sa.DateTime(timezone=True)))
    op.add_column("org_units", sa.Column("rejected_by", sa.BigInteger))
    op.drop_constraint("ck_org_units_status", "org_units", type_="check")
    op.create_check_constraint("ck_org_units_status", "org_units",
                               "status IN ('pending','active','closed','rejected')")
    op.create_check_constraint("ck_org_units_profile_object", "org_units",
                               "jsonb_typeof(profile) = 'object'")
    op.create_check_constraint("ck_org_units_rejected_reason", "org_units",
                               "(status = 'rejected') = (rejection_reason IS NOT NULL)")
    op.create_table(
        "unit_documents",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("org_unit_id", sa.BigInteger, sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.CheckConstraint("kind IN ('establishment_order','other')", name="ck_unit_documents_kind"),
        sa.CheckConstraint("content_type IN ('application/pdf','image/jpeg','image/png')",
                           name="ck_unit_documents_type"),
        sa.CheckConstraint("size = octet_length(content) AND size > 0", name="ck_unit_documents_size"),
    )
    op.create_index("ix_unit_documents_unit", "unit_documents", ["org_unit_id", "id"])
    # the content is already compressed (PDF, JPEG, PNG): stored as is, out of line
    op.execute("ALTER TABLE unit_documents ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade():
    op.drop_index("ix_unit_documents_unit", table_name="unit_documents")
    op.drop_table("unit_documents")
    op.drop_constraint("ck_org_units_rejected_reason", "org_units", type_="check")
    op.drop_constraint("ck_org_units_profile_object", "org_units", type_="check")
    op.drop_constraint("ck_org_units_status", "org_units", type_="check")
    op.execute("UPDATE org_units SET status = 'pending' WHERE status = 'rejected'")
    op.create_check_constraint("ck_org_units_status", "org_units",
                               "status IN ('pending','active','closed')")
    for column in ("rejected_by", "rejected_at", "rejection_reason", "survey", "profile"):
        op.drop_column("org_units", column)
