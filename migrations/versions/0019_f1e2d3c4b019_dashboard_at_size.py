"""trainer dashboard at size: covering indexes for the per-learner aggregates

Revision ID: f1e2d3c4b019
Revises: e1d0c9b8a021
Create Date: 2026-12-01 22:20:00

The group dashboard counts and sorts its learners in SQL (course/trainer/dashboard.py): per
learner the number of lessons read and the last read, the number of graded attempts and the last
start and finish. These indexes hold exactly those columns, so PostgreSQL answers the aggregates
from the index alone instead of reading every attempt (issue 15, item 1; numbers in
docs/decisions.md).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f1e2d3c4b019"
down_revision = "e1d0c9b8a021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_attempts_user_mode_times", "attempts", ["user_id", "mode", "started_at", "finished_at"])
    op.create_index("ix_lesson_reads_user_read_at", "lesson_reads", ["user_id", "read_at"])


def downgrade():
    op.drop_index("ix_lesson_reads_user_read_at", table_name="lesson_reads")
    op.drop_index("ix_attempts_user_mode_times", table_name="attempts")
