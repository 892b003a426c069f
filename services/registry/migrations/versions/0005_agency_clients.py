"""agency clients: read-only accounts with client credentials

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_clients",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("token_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("rotated_at", sa.DateTime(timezone=True)),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("last_token_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("client_id", name="agency_clients_client_id_key"),
        sa.CheckConstraint("active OR disabled_at IS NOT NULL", name="ck_agency_clients_disabled"),
    )


def downgrade():
    op.drop_table("agency_clients")
