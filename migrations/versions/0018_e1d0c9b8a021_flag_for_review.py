"""attempt items: flag for review ("markeer voor later")

Revision ID: e1d0c9b8a021
Revises: f6e5b4a3c015
Create Date: 2026-12-01 19:45:00

A learner may mark a question of an open attempt to come back to; the mark is saved with the
answers, so it survives a reload (issue 14, item 2).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e1d0c9b8a021"
down_revision = "f6e5b4a3c015"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("attempt_items", sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("attempt_items") as batch_op:
        batch_op.drop_column("flagged")
