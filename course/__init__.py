"""Hechtwijzer: e-learning module on attachment risk and protective factors."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, Config
from course.extensions import csrf, db, login_manager, migrate
from course.extensions import mail as mailman  # not `mail`: that name is the course.mail package


def create_app(config_class: type[Config] | Any = Config, **overrides: Any) -> Flask:
    """Build the app. Raises ContentError when content/ or quizzes/ is broken."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    configure_cookies(app)
    configure_proxy(app)
    configure_logging(app)
    load_course_content(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure_cookies(app: Flask) -> None:
    # "__Host-": browsers accept the cookie only with Secure, Path=/ and no Domain, so a sibling
    # subdomain cannot plant or overwrite it. Plain-http local runs keep the bare name.
    if (
        app.config["SESSION_COOKIE_SECURE"]
        and app.config["SESSION_COOKIE_NAME"] == "session"
        and not app.config.get("SESSION_COOKIE_DOMAIN")
        and (app.config.get("SESSION_COOKIE_PATH") or app.config["APPLICATION_ROOT"]) == "/"
    ):
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"


def configure_proxy(app: Flask) -> None:
    # Only the entries our own proxies appended are trusted: the client's address and the scheme are the
    # ones the outermost trusted proxy saw, whatever X-Forwarded-For/-Proto the client sent itself. The
    # host is not taken from X-Forwarded-Host: the proxies pass the browser's Host header on unchanged
    # (docs/deploy/), so a proxy that forgets to overwrite X-Forwarded-Host cannot let a client choose it.
    # gunicorn's own X-Forwarded-Proto handling is off (gunicorn.conf.py): this is the only place.
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # UTC with an explicit "Z": log lines from several servers line up, whatever their time zone.
        formatter = logging.Formatter(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"
        )
        formatter.converter = time.gmtime
        for handler in logging.getLogger().handlers:
            handler.setFormatter(formatter)


def load_course_content(app: Flask) -> None:
    from course.catalog import load_catalog

    app.extensions["catalog"] = load_catalog(app.config["CONTENT_DIR"], app.config["QUIZZES_DIR"])


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # An SQLite file has no server that can go away: pre-ping would only add a query per request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mailman.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in om deze pagina te bekijken."
    login_manager.login_message_category = "info"
    # Sessions are revoked through the per-user session token (see auth.views.load_user), not by
    # tying them to an IP address or browser string: for permanent sessions Flask-Login's "strong"
    # mode only marks a changed session non-fresh, which is exactly what "basic" does.
    login_manager.session_protection = "basic"

    @app.teardown_appcontext
    def release_session(_error: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own cleanup. If the server went away (PostgreSQL
        # restart), the rollback on close fails: drop the dead connection instead of a 500.
        try:
            db.session.close()
        except SQLAlchemyError:
            db.session().invalidate()

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
            max_pages = app.config.get("SQLITE_MAX_PAGE_COUNT")

            def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                # WAL lets readers run beside the one writer; busy_timeout makes writers queue, not fail.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA synchronous=NORMAL")
                # Deleted rows are overwritten with zeros, not left in free pages: erasure (AVG) means gone.
                cursor.execute("PRAGMA secure_delete=ON")
                if max_pages:  # fault tests: a database that is "full" at this size
                    cursor.execute(f"PRAGMA max_page_count={int(max_pages)}")
                cursor.close()

            event.listen(db.engine, "connect", sqlite_pragmas)


class IdConverter(IntegerConverter):
    """`<int:...>` in our URLs is a database id: a number beyond the INTEGER range names no row, so
    routing answers 404 instead of the database driver raising on an out-of-range parameter."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        if self.max is None:
            self.max = 2**31 - 1  # our id columns are 32-bit INTEGER (PostgreSQL refuses more)


def register_blueprints(app: Flask) -> None:
    from course.admin.views import bp as admin_bp
    from course.auth.security_settings import bp as security_bp
    from course.auth.views import bp as auth_bp
    from course.certificates.views import bp as certificates_bp
    from course.health.views import bp as health_bp
    from course.lessons.views import bp as lessons_bp
    from course.lti.views import admin_bp as lti_admin_bp
    from course.lti.views import bp as lti_bp
    from course.quizzes.views import bp as quizzes_bp
    from course.reminders.views import bp as reminders_bp
    from course.sso.views import bp as sso_bp
    from course.trainer.enrolment import bp as enrolment_bp
    from course.trainer.views import bp as trainer_bp

    app.url_map.converters["int"] = IdConverter  # before the rules that use it are added
    app.register_blueprint(auth_bp)
    app.register_blueprint(security_bp)
    app.register_blueprint(lessons_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(trainer_bp)
    app.register_blueprint(enrolment_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(lti_admin_bp)


def register_errorhandlers(app: Flask) -> None:
    from course.errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from course.security import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from course.catalog.access import get_catalog
    from course.certificates.codes import display
    from course.formatting import FILTERS
    from course.timeutil import duration_nl

    @app.context_processor
    def inject_catalog() -> dict[str, Any]:
        return {"catalog": get_catalog()}

    app.add_template_filter(display, "code_display")
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    app.add_template_filter(duration_nl, "duration_nl")


def register_commands(app: Flask) -> None:
    from course.cli import course_cli

    app.cli.add_command(course_cli)
