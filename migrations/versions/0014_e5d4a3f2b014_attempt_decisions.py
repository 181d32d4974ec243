"""attempt decisions: the route a learner chose through a branching case

Revision ID: e5d4a3f2b014
Revises: d4c3f2e1a013
Create Date: 2026-12-01 19:50:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5d4a3f2b014"
down_revision = "d4c3f2e1a013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attempt_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("vignette_id", sa.String(length=120), nullable=False),
        sa.Column("stage_id", sa.String(length=120), nullable=False),
        sa.Column("choice", sa.String(length=120), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name=op.f("fk_attempt_decisions_attempt_id_attempts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_decisions")),
        sa.UniqueConstraint("attempt_id", "vignette_id", "stage_id", name=op.f("uq_attempt_decisions_attempt_id")),
    )
    op.create_index(op.f("ix_attempt_decisions_attempt_id"), "attempt_decisions", ["attempt_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_attempt_decisions_attempt_id"), table_name="attempt_decisions")
    op.drop_table("attempt_decisions")
