"""password reset and address verification: account_tokens, users.email_verified_at

Existing accounts start unverified (docs/decisions.md): before migration 0007 self-registration did
not confirm addresses, and which accounts were made that way cannot be told apart now. Certificates
already issued stay valid; the rule applies only when a new one is issued. The migration sends no mail.

Revision ID: b2a1d0c0e011
Revises: a1f0c0de0010
Create Date: 2026-12-01 19:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2a1d0c0e011"
down_revision = "a1f0c0de0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_account_tokens_user_id_purpose", ["user_id", "purpose"], unique=False)

    # A plain ADD COLUMN, never batch mode on `users` (it would recreate the table on SQLite and the
    # foreign-key cascades would delete attempts and progress).
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":  # in place, see migration 0008
        op.execute("ALTER TABLE users DROP COLUMN email_verified_at")
    else:
        op.drop_column("users", "email_verified_at")
    op.drop_table("account_tokens")
