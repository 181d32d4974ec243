"""reflections: a learner's private answer to a lesson's reflection question, shared only by choice

Revision ID: d4c3f2e1a013
Revises: b8e7d6c5f017
Create Date: 2026-12-01 20:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4c3f2e1a013"
down_revision = "b8e7d6c5f017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=80), nullable=False),
        sa.Column("lesson_id", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "module_id", "lesson_id", name="uq_reflections_user_module_lesson"),
    )
    op.create_index("ix_reflections_user_id", "reflections", ["user_id"])


def downgrade():
    op.drop_index("ix_reflections_user_id", table_name="reflections")
    op.drop_table("reflections")
