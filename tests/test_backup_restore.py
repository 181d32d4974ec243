"""A backup is worth what its restore shows: the README's backup and restore commands, run literally.

A learner completes the module (attempts, a certificate); the database is backed up (PostgreSQL:
`pg_dump -Fc`; SQLite: `sqlite3 ... ".backup ..."` or Python's sqlite3 backup API), restored into a new
database (`pg_restore`; `sqlite3 ... ".restore ..."`), and the app started on the restored database
shows the same learner the same attempts, and the certificate verifies. Every table holds the same rows."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from config import TestConfig
from course import create_app
from course.auth import accounts
from course.certificates import codes
from course.extensions import db
from course.models import Certificate, Role
from course.timeutil import utcnow
from tests.conftest import PASSWORD, AuthActions
from tests.quiz_helpers import complete_module


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (the backup must hold all of them, unchanged)."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {
                name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
                for name, table in meta.tables.items()
            }
    finally:
        engine.dispose()


def completed_module(app: Flask, client, login_as) -> tuple[str, str, str]:
    """(the learner's e-mail, the attempts page they see, the certificate's code as printed)."""
    learner = login_as(Role.LEARNER)
    complete_module(app, client)
    client.get("/")  # shows (and so clears) the congratulations, which a restored copy has no reason to repeat
    with app.app_context():
        code = db.session.scalar(sa.select(Certificate.verification_code))
    seen = attempts_seen(client)
    assert "Bekijk poging 1" in seen and "%" in seen, "the page lists the attempt with its score"
    return learner.email, seen, codes.display(code)


def attempts_seen(client) -> str:
    """The table of the learner's final-test attempts: numbers, dates, scores, links. (Not the whole page:
    the wait before a new attempt counts down in minutes, and a slow run crosses a minute.)"""
    response = client.get("/toetsen/eindtoets")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page[page.index('<table class="data-table">') : page.index("</table>")]


def assert_restored_app_shows_the_same(restored_url: str, email: str, attempts_page: str, code: str) -> None:
    restored = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=restored_url)
    try:
        client = restored.test_client()
        assert AuthActions(client).login(email).status_code == 302, "the learner signs in on the restored copy"
        assert attempts_seen(client) == attempts_page
        verified = restored.test_client().get(f"/verifieren/{code}")
        assert verified.status_code == 200 and "Geldig certificaat" in verified.get_data(as_text=True)
    finally:
        with restored.app_context():
            db.engine.dispose()


# --- PostgreSQL: pg_dump -Fc and pg_restore ----------------------------------------------------


def pg_tool(name: str) -> str | None:
    """scripts/test.sh's server's own binaries (PG_BIN), else the one on PATH."""
    folder = os.environ.get("PG_BIN")
    if folder and (Path(folder) / name).exists():
        return str(Path(folder) / name)
    return shutil.which(name)


def libpq_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore take it (no +psycopg), optionally for another database."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path=f"/{database}")) if database else urlunsplit(parts)


def test_a_pg_dump_restored_with_pg_restore_is_the_same_site(app, client, login_as, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL backup (pg_dump/pg_restore): scripts/test.sh's second pass")
    pg_dump, pg_restore = pg_tool("pg_dump"), pg_tool("pg_restore")
    if not (pg_dump and pg_restore):
        pytest.skip("pg_dump/pg_restore not installed (Debian: postgresql-client)")
    email, attempts_page, code = completed_module(app, client, login_as)
    backup = tmp_path / "hechtwijzer.dump"

    # README, Production › Backups: the commands as documented.
    subprocess.run([pg_dump, "-Fc", "-f", str(backup), "-d", libpq_url(url)], check=True, capture_output=True)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS "hechtwijzer_restored" WITH (FORCE)'))
        conn.execute(sa.text('CREATE DATABASE "hechtwijzer_restored"'))
    restored_url = urlunsplit(urlsplit(url)._replace(path="/hechtwijzer_restored"))
    try:
        subprocess.run(
            [pg_restore, "--no-owner", "-d", libpq_url(url, "hechtwijzer_restored"), str(backup)],
            check=True,
            capture_output=True,
        )
        assert table_rows(restored_url) == table_rows(url)
        assert_restored_app_shows_the_same(restored_url, email, attempts_page, code)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS "hechtwijzer_restored" WITH (FORCE)'))
        admin.dispose()


# --- SQLite: .backup (or the backup API) and .restore -----------------------------------------


def sqlite_cli_backup(source: Path, backup: Path) -> None:
    subprocess.run(["sqlite3", str(source), f".backup '{backup}'"], check=True, capture_output=True)


def python_api_backup(source: Path, backup: Path) -> None:
    # The README's one-liner for a machine without the sqlite3 program.
    subprocess.run(
        [
            "python3",
            "-c",
            "import sqlite3, sys; src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2]); "
            "src.backup(dst); dst.close(); src.close()",
            str(source),
            str(backup),
        ],
        check=True,
        capture_output=True,
    )


def own_site(tmp_path: Path) -> Flask:
    """A site on its own database file, as in production: the session-wide test database carries
    every earlier test's history (erasures that checkpoint and truncate the log, other backups),
    which is not what this test is about."""
    site = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.db'}")
    with site.app_context():
        upgrade()
        accounts.create_user("leerling@example.org", "Lies Leerling", PASSWORD, Role.LEARNER, verified_at=utcnow())
        db.session.commit()
    return site


@pytest.mark.parametrize("make_backup", [sqlite_cli_backup, python_api_backup], ids=["sqlite3-cli", "python-api"])
def test_an_sqlite_backup_restored_is_the_same_site(app, tmp_path, make_backup):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        pytest.skip("SQLite backup (.backup/.restore): scripts/test.sh's first pass")
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 program is not installed (Debian: sqlite3; scripts/test.sh installs it)")
    site = own_site(tmp_path)
    url = site.config["SQLALCHEMY_DATABASE_URI"]
    try:
        client = site.test_client()
        assert AuthActions(client).login("leerling@example.org").status_code == 302
        complete_module(site, client)
        client.get("/")  # shows (and so clears) the congratulations, which a restored copy has no reason to repeat
        with site.app_context():
            code = codes.display(db.session.scalar(sa.select(Certificate.verification_code)))
        attempts_page = attempts_seen(client)
        assert "Bekijk poging 1" in attempts_page and "%" in attempts_page, "the page lists the attempt with its score"
        source = Path(url.removeprefix("sqlite:///"))
        backup, restored = tmp_path / "backup.db", tmp_path / "restored.db"

        make_backup(source, backup)  # while the app has the database open, as in production
        subprocess.run(["sqlite3", str(restored), f".restore '{backup}'"], check=True, capture_output=True)

        with sqlite3.connect(restored) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        restored_url = f"sqlite:///{restored}"
        assert table_rows(restored_url) == table_rows(url)
        assert_restored_app_shows_the_same(restored_url, "leerling@example.org", attempts_page, code)
    finally:
        with site.app_context():
            db.engine.dispose()
