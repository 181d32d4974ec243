"""multipart mail (HTML part in the outbox), reminders sent once per occasion, reminder settings

Revision ID: c3b2e1d0f012
Revises: a1f0c0de0010
Create Date: 2026-12-01 19:00:00

Rows already in the outbox get an empty HTML part and are sent as plain text, as before.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3b2e1d0f012"
down_revision = "a1f0c0de0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("outbox", sa.Column("body_html", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("body_html")
