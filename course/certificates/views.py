from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from course.catalog.access import get_catalog
from course.certificates import codes
from course.certificates.issuing import certificates_of
from course.certificates.pdf import render_certificate
from course.errors import render_error
from course.extensions import db
from course.models import Certificate, Role
from course.ratelimit import allow
from course.timeutil import local_date, utcnow

bp = Blueprint("certificates", __name__)
log = logging.getLogger(__name__)


def verify_url(code: str) -> str | None:
    """The link printed on a certificate, from PUBLIC_BASE_URL only; None when it is not configured.

    Never from the request: whoever sends the request chooses its Host header."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return f"{base.rstrip('/')}{url_for('certificates.verify_code', code=code)}"


@bp.get("/certificaten")
@login_required
def mine():
    certificates = certificates_of(current_user.id, get_catalog().module.id)
    return render_template(
        "certificates/mine.html", certificates=list(reversed(certificates)), today=local_date(utcnow())
    )


@bp.get("/certificaten/<int:certificate_id>/certificaat.pdf")
@login_required
def download(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id)
    # Another learner's certificate is "not found": ids reveal nothing. Admins may fetch any.
    if certificate is None or (certificate.user_id != current_user.id and not current_user.has_role(Role.ADMIN)):
        abort(404)
    url = verify_url(certificate.verification_code)
    if url is None:
        log.error("Certificaat-pdf geweigerd: PUBLIC_BASE_URL is niet ingesteld")
        return render_error(
            503,
            "Certificaten kunnen nu niet worden gedownload: de beheerder moet het openbare adres van "
            "deze site nog instellen (PUBLIC_BASE_URL). Je certificaat blijft geldig; probeer het later opnieuw.",
        )
    pdf = render_certificate(certificate, url)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificaat-{certificate.completed_on:%Y%m%d}.pdf"'},
    )


def _verification_allowed() -> bool:
    config = current_app.config
    return allow("verify", request.remote_addr, config["VERIFY_RATE_LIMIT"], config["VERIFY_RATE_WINDOW_SECONDS"])


def _no_store(response_body: str, status: int = 200) -> Response:
    response = current_app.make_response((response_body, status))
    response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
    return response


@bp.get("/verifieren")
def verify():
    typed = request.args.get("code")
    if typed is not None:
        code = codes.normalize(typed)
        return redirect(url_for("certificates.verify_code", code=code or "onbekend"))
    return _no_store(render_template("certificates/verify.html", certificate=None, state=None, searched=False))


@bp.get("/verifieren/<code>")
def verify_code(code: str):
    if not _verification_allowed():
        return render_error(429, "Te veel controles vanaf dit adres. Probeer het over een minuut opnieuw.")
    normalized = codes.normalize(code)
    certificate = None
    if normalized is not None:
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == normalized))
    if certificate is None:
        # Malformed and unknown codes look the same: nothing to learn from probing.
        return _no_store(
            render_template("certificates/verify.html", certificate=None, state="unknown", searched=True), 404
        )
    state = certificate.state(local_date(utcnow()))
    return _no_store(render_template("certificates/verify.html", certificate=certificate, state=state, searched=True))
