"""certificate reissue and issuer: superseded_at, and institute and signatory as printed

Revision ID: c9b8a7f6e019
Revises: a7f6c5b4d016
Create Date: 2026-12-01 19:45:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c9b8a7f6e019"
down_revision = "a7f6c5b4d016"
branch_labels = None
depends_on = None


def upgrade():
    # The status column is a plain string (non-native enum, no CHECK): "superseded" needs no change there.
    op.add_column("certificates", sa.Column("issuer_institute", sa.String(length=80), nullable=True))
    op.add_column("certificates", sa.Column("issuer_signatory", sa.String(length=60), nullable=True))
    op.add_column("certificates", sa.Column("issuer_signatory_role", sa.String(length=60), nullable=True))
    op.add_column("certificates", sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("issuer_signatory_role")
        batch_op.drop_column("issuer_signatory")
        batch_op.drop_column("issuer_institute")
