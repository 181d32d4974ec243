"""LTI 1.3: registered platforms, launch state shared by all workers, grade links and score reports, LMS courses

Revision ID: f6e5b4a3c015
Revises: c9b8a7f6e019
Create Date: 2026-12-01 19:45:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6e5b4a3c015"
down_revision = "c9b8a7f6e019"
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
    op.create_table(
        "lti_grade_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=80), nullable=False),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=120), nullable=False),
        sa.Column("platform_user_id", sa.String(length=255), nullable=False),
        sa.Column("lineitem_url", sa.String(length=500), nullable=True),
        sa.Column("lineitems_url", sa.String(length=500), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["lti_platforms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "platform_id", "resource_link_id", name="uq_lti_grade_links_user_link"),
    )
    op.create_index("ix_lti_grade_links_user_id", "lti_grade_links", ["user_id"])
    op.create_index("ix_lti_grade_links_platform_id", "lti_grade_links", ["platform_id"])
    op.create_table(
        "lti_score_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grade_link_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=80), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("activity_progress", sa.String(length=20), nullable=False),
        sa.Column("grading_progress", sa.String(length=20), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["grade_link_id"], ["lti_grade_links.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lti_score_reports_grade_link_id", "lti_score_reports", ["grade_link_id"])
    op.create_table(
        "lti_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("memberships_url", sa.String(length=500), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["platform_id"], ["lti_platforms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "context_id", name="uq_lti_contexts_platform_context"),
    )
    op.create_index("ix_lti_contexts_platform_id", "lti_contexts", ["platform_id"])


def downgrade():
    op.drop_index("ix_lti_contexts_platform_id", table_name="lti_contexts")
    op.drop_table("lti_contexts")
    op.drop_index("ix_lti_score_reports_grade_link_id", table_name="lti_score_reports")
    op.drop_table("lti_score_reports")
    op.drop_index("ix_lti_grade_links_platform_id", table_name="lti_grade_links")
    op.drop_index("ix_lti_grade_links_user_id", table_name="lti_grade_links")
    op.drop_table("lti_grade_links")
    op.drop_index("ix_lti_launch_values_expires_at", table_name="lti_launch_values")
    op.drop_table("lti_launch_values")
    op.drop_table("lti_platforms")
