"""admin lists at size: indexes for the paged user list, certificate list and audit log

Revision ID: f2e3d4c5b020
Revises: f1e2d3c4b019
Create Date: 2026-12-01 22:20:00

The admin lists are paged and sorted in SQL (issue 15, item 1); each sort order ends on the id, and
each has an index in that order, so a page reads its 50 rows from the index instead of sorting the
table. The audit log's single-column index on `at` gives way to (at, id), which also serves it.
Searching for part of a name or address uses trigram indexes (pg_trgm) on PostgreSQL: measured at
100,000 accounts, a search went from 75 ms (reading every row) to 3 ms (docs/decisions.md).
Plain CREATE INDEX (not CONCURRENTLY): run the upgrade in a quiet moment on a large database.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f2e3d4c5b020"
down_revision = "f1e2d3c4b019"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_users_display_name_id", "users", ["display_name", "id"]),
    ("ix_users_role_display_name_id", "users", ["role", "display_name", "id"]),
    ("ix_users_created_at_id", "users", ["created_at", "id"]),
    ("ix_certificates_issued_at_id", "certificates", ["issued_at", "id"]),
    ("ix_certificates_learner_name_id", "certificates", ["learner_name", "id"]),
    ("ix_certificates_status_issued_at_id", "certificates", ["status", "issued_at", "id", "valid_until"]),
    ("ix_certificates_status_valid_until", "certificates", ["status", "valid_until"]),
    ("ix_audit_events_at_id", "audit_events", ["at", "id"]),
    ("ix_audit_events_action_at_id", "audit_events", ["action", "at", "id"]),
    ("ix_audit_events_subject", "audit_events", ["subject_type", "subject_id", "at"]),
]


# Substring search (ILIKE '%term%'): trigram GIN indexes on PostgreSQL; plain indexes on SQLite.
TRIGRAM_INDEXES = [
    ("ix_users_display_name_trgm", "users", "display_name"),
    ("ix_users_email_trgm", "users", "email"),
    ("ix_certificates_learner_name_trgm", "certificates", "learner_name"),
]


def upgrade():
    # Indexes only: no table is recreated (on SQLite that would cascade through the users table).
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    if op.get_bind().dialect.name == "postgresql":
        # A trusted extension (PostgreSQL 13+): the database owner may create it, no superuser needed.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    # The pg_trgm extension stays: something else may use it by then.
    for name, table, _ in reversed(TRIGRAM_INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
