"""one open graded attempt per learner and quiz

Revision ID: 6a1e0c0a0006
Revises: 5b0e6c1f2a9d
Create Date: 2026-12-01 16:00:00

Before this revision, parallel "start" requests could open a second graded attempt (issue 10,
finding 4). Where that happened, the later open attempts are voided and closed (kept for the record,
counting for nothing, as a trainer's reset does) so the index can be built; the first one stays open.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6a1e0c0a0006"
down_revision = "5b0e6c1f2a9d"
branch_labels = None
depends_on = None

ONE_OPEN_GRADED = sa.text("mode = 'graded' AND status = 'in_progress'")


def upgrade():
    op.execute(
        "UPDATE attempts SET mode = 'voided', status = 'finished', finished_at = CURRENT_TIMESTAMP, "
        "revision = revision + 1 "
        "WHERE mode = 'graded' AND status = 'in_progress' AND EXISTS ("
        "SELECT 1 FROM attempts AS earlier WHERE earlier.user_id = attempts.user_id "
        "AND earlier.quiz_id = attempts.quiz_id AND earlier.mode = 'graded' "
        "AND earlier.status = 'in_progress' AND earlier.number < attempts.number)"
    )
    op.create_index(
        "uq_attempts_one_open_graded",
        "attempts",
        ["user_id", "quiz_id"],
        unique=True,
        sqlite_where=ONE_OPEN_GRADED,
        postgresql_where=ONE_OPEN_GRADED,
    )


def downgrade():
    op.drop_index("uq_attempts_one_open_graded", table_name="attempts")
