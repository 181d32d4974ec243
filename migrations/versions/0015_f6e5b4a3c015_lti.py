"""LTI 1.3: registered platforms and launch state shared by all workers

Revision ID: f6e5b4a3c015
Revises: b8e7d6c5f017
Create Date: 2026-12-01 19:45:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6e5b4a3c015"
down_revision = "b8e7d6c5f017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_ids", sa.Text(), nullable=False),
        sa.Column("auth_login_url", sa.String(length=500), nullable=False),
        sa.Column("auth_token_url", sa.String(length=500), nullable=False),
        sa.Column("key_set_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client_id"),
    )
    op.create_table(
        "lti_launch_values",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_lti_launch_values_expires_at", "lti_launch_values", ["expires_at"])


def downgrade():
    op.drop_index("ix_lti_launch_values_expires_at", table_name="lti_launch_values")
    op.drop_table("lti_launch_values")
    op.drop_table("lti_platforms")
