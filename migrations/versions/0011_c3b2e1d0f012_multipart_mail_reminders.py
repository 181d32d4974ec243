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
down_revision = "b2a1d0c0e011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("outbox", sa.Column("body_html", sa.Text(), server_default="", nullable=False))
    # op.add_column, not batch mode: recreating `users` on SQLite would cascade-delete what hangs off it.
    op.add_column("users", sa.Column("reminders_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column(
        "users", sa.Column("trainer_digest_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "due_soon",
                "due_tomorrow",
                "overdue",
                "certificate_expiring",
                "trainer_digest",
                name="reminderkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occasion", sa.String(length=40), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_reminders_sent_outbox_id_outbox"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminders_sent_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint(
            "user_id", "module_id", "kind", "occasion", name=op.f("uq_reminders_sent_user_id")
        ),
    )
    with op.batch_alter_table("reminders_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_sent_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("reminders_sent")
    for column in ("trainer_digest_enabled", "reminders_enabled"):
        if op.get_bind().dialect.name == "sqlite":  # in place: batch mode would recreate `users`
            op.execute(f"ALTER TABLE users DROP COLUMN {column}")
        else:
            op.drop_column("users", column)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("body_html")
