"""The app on an emptied database with every migration applied: where each benchmark starts."""

from __future__ import annotations

from flask import Flask


def fresh_app(url: str) -> Flask:
    from flask_migrate import upgrade

    from config import TestConfig
    from course import create_app
    from course.extensions import db
    from tests.conftest import reset_schema

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        reset_schema(db.engine)
        upgrade()
    return app
