"""temporary passwords: users.must_change_password

Revision ID: 5b0e6c1f2a9d
Revises: d7c0703702ee
Create Date: 2026-11-27 13:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b0e6c1f2a9d"
down_revision = "d7c0703702ee"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
