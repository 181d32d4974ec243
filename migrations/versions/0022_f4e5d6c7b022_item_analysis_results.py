"""item analysis results: the computed analysis stored per quiz and scope

Revision ID: f4e5d6c7b022
Revises: f3e4d5c6b021
Create Date: 2026-12-02 01:30:00

The item analysis page shows a stored result with the moment it was computed (issue 15, second pass;
docs/decisions.md): computing it reads every answer in scope, about 9 s of database work at 100,000
learners. One row per trainer, quiz and scope ("alle" or a group id). The index on attempts (quiz_id,
finished_at) lets the page count the attempts finished after its result cheaply. Nothing to backfill:
the first view of a scope computes its result.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f4e5d6c7b022"
down_revision = "f3e4d5c6b021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "item_analysis_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("newest_attempt_id", sa.Integer(), nullable=True),
        sa.Column("newest_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trainer_id"], ["users.id"], name=op.f("fk_item_analysis_results_trainer_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_item_analysis_results_group_id_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_analysis_results")),
        sa.UniqueConstraint("trainer_id", "quiz_id", "scope", name=op.f("uq_item_analysis_results_trainer_id")),
    )
    op.create_index("ix_item_analysis_results_group_id", "item_analysis_results", ["group_id"])
    op.create_index("ix_attempts_quiz_finished_at", "attempts", ["quiz_id", "finished_at"])


def downgrade():
    op.drop_index("ix_attempts_quiz_finished_at", table_name="attempts")
    op.drop_index("ix_item_analysis_results_group_id", table_name="item_analysis_results")
    op.drop_table("item_analysis_results")
