"""Friendly Dutch error pages; a CSRF failure explains itself instead of a bare 400."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from course import security_log

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Ongeldig verzoek", "Het verzoek kon niet worden verwerkt. Controleer je invoer en probeer het opnieuw."),
    403: ("Geen toegang", "Je hebt geen toegang tot deze pagina."),
    404: (
        "Pagina niet gevonden",
        "Deze pagina bestaat niet (meer). Controleer het adres of ga terug naar het overzicht.",
    ),
    405: ("Niet toegestaan", "Deze actie is op deze manier niet toegestaan."),
    410: ("Link verlopen", "Deze link is verlopen."),
    413: (
        "Te groot",
        "Wat je verstuurde is groter dan we aannemen (hoogstens 1 MB; een CSV-bestand mag 1 MB zijn). "
        "Er is niets opgeslagen. Maak het bestand kleiner of verdeel het over meer bestanden.",
    ),
    429: ("Te veel pogingen", "Je hebt te veel pogingen gedaan. Wacht even en probeer het dan opnieuw."),
    500: (
        "Er ging iets mis",
        "Er ging aan onze kant iets mis. Er is niets opgeslagen van deze actie; probeer het later opnieuw.",
    ),
    503: (
        "Tijdelijk niet beschikbaar",
        "De dienst is tijdelijk niet beschikbaar. Probeer het over een paar minuten opnieuw.",
    ),
}


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, message=message or default), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        security_log.event("csrf_geweigerd", reason=error.description)
        return render_error(
            400,
            "Het formulier is verlopen of ongeldig. Er is niets gewijzigd. "
            "Laad de pagina opnieuw en probeer het nog eens.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 403 or (error.code == 404 and current_user and current_user.is_authenticated):
            # A 404 for a signed-in person is also what someone else's attempt, group or certificate answers.
            security_log.event("toegang_geweigerd", logging.INFO, status=error.code)
        response = render_error(error.code)
        if error.code == 405 and error.get_response().headers.get("Allow"):
            return (*response, {"Allow": error.get_response().headers["Allow"]})
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int]:
        """Database down, restarting, locked too long or full: nothing was saved; say so, don't 500."""
        from flask import g

        from course.extensions import db, login_manager

        db.session.rollback()
        # Rendering the page must not need the database: show it as to a visitor.
        g._login_user = login_manager.anonymous_user()
        log.error(
            "Database niet beschikbaar bij %s %s: %s",
            request.method,
            security_log.safe_path(),
            type(error.orig).__name__,
        )
        if request.path.startswith("/healthz"):
            return {"status": "error", "database": "unreachable"}, 503
        return render_error(
            503,
            "De database is even niet bereikbaar of bezet. Er is niets opgeslagen van deze actie. "
            "Probeer het over een minuut opnieuw.",
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        from course.extensions import db

        db.session.rollback()
        if app.testing:
            raise error
        # Path and method only: no query strings or form data (they may hold personal data).
        log.exception("Onverwachte fout bij %s %s", request.method, security_log.safe_path())
        return render_error(500)
