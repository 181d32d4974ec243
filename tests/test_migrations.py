"""The migrations build exactly the schema the models describe."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from course.extensions import db


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite settings; this run is on PostgreSQL")
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context():
        assert db.engine.dialect.name == "sqlite"
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_open_invitations_stay_open_after_the_outbox_migration(tmp_path):
    """Revision 7b2f0d0b0007: invitations made before it become pending invitations without a link."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from config import TestConfig
    from course import create_app

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/old.db")
    with app.app_context():
        upgrade(revision="5b0e6c1f2a9d")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, display_name, password_hash, role, active, session_token, "
                    "must_change_password, created_at) VALUES (1, 't@example.org', 'T', 'x', 'trainer', 1, 's', 0, "
                    "'2026-11-01 10:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO groups (id, name, trainer_id, created_at) VALUES (1, 'G', 1, '2026-11-01 10:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO invitations (group_id, email, invited_at) "
                    "VALUES (1, 'nieuw@example.org', '2026-11-02 10:00:00')"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT email, status, token_hash FROM invitations")).one()
        assert tuple(row) == ("nieuw@example.org", "pending", None)
        downgrade(revision="5b0e6c1f2a9d")  # and the way back works
        db.engine.dispose()


def test_the_member_progress_migration_fills_the_dashboard_of_existing_groups(tmp_path):
    """Revision f3e4d5c6b021: groups that exist get their stored rows and counts, by the app's rebuild."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from config import TestConfig
    from course import create_app

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/old.db")
    with app.app_context():
        upgrade(revision="f2e3d4c5b020")
        lesson = app.extensions["catalog"].lessons[0].id
        with db.engine.begin() as conn:
            for uid, email, name, role in (
                (1, "t@example.org", "T", "trainer"),
                (2, "a@example.org", "Anna", "learner"),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, email, display_name, password_hash, role, active, "
                        "must_change_password, created_at) VALUES (:id, :email, :name, 'x', :role, 1, 0, "
                        "'2026-11-01 10:00:00')"
                    ),
                    {"id": uid, "email": email, "name": name, "role": role},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO groups (id, name, trainer_id, created_at) VALUES (1, 'G', 1, '2026-11-01 10:00:00')"
                )
            )
            conn.execute(
                sa.text("INSERT INTO group_members (group_id, user_id, joined_at) VALUES (1, 2, '2026-11-02 10:00:00')")
            )
            conn.execute(
                sa.text(
                    "INSERT INTO lesson_reads (user_id, lesson_id, content_version, read_at) "
                    "VALUES (2, :lesson, 'v', '2026-11-03 10:00:00')"
                ),
                {"lesson": lesson},
            )
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT user_id, name_key, lessons_read, status FROM member_progress")).one()
            counts = conn.execute(sa.text("SELECT status, learners FROM group_status_counts")).all()
        assert tuple(row) == (2, "anna", 1, 2)  # 2: "bezig"
        assert [tuple(c) for c in counts] == [(2, 1)]
        downgrade(revision="f2e3d4c5b020")  # and the way back works
        db.engine.dispose()
