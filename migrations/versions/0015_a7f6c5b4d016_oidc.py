"""OpenID Connect sign-in: organisation providers and e-mail domains without local passwords

Revision ID: a7f6c5b4d016
Revises: e5d4a3f2b014
Create Date: 2026-12-01 19:50:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f6c5b4d016"
down_revision = "e5d4a3f2b014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("discovery_url", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_encrypted", sa.String(length=1000), nullable=True),
        sa.Column("role_claim", sa.String(length=64), nullable=True),
        sa.Column("trainer_values", sa.String(length=500), server_default="", nullable=False),
        sa.Column("admin_values", sa.String(length=500), server_default="", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "passwordless_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["oidc_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain"),
    )
    op.create_index("ix_passwordless_domains_provider_id", "passwordless_domains", ["provider_id"])


def downgrade():
    op.drop_index("ix_passwordless_domains_provider_id", table_name="passwordless_domains")
    op.drop_table("passwordless_domains")
    op.drop_table("oidc_providers")
