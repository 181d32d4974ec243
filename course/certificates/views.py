from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from course.catalog.access import get_catalog
from course.certificates import codes
from course.certificates.forms import ReissueForm
from course.certificates.issuing import certificates_of
from course.certificates.pdf import render_certificate
from course.certificates.reissue import NothingToCorrect, NotReissuable, register_differs, reissue
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
    today = local_date(utcnow())
    user = current_user._get_current_object()
    reissuable = next(
        (c for c in certificates if c.state(today) == "valid" and register_differs(c, user)),
        None,
    )
    return render_template(
        "certificates/mine.html",
        certificates=list(reversed(certificates)),
        today=today,
        reissuable=reissuable,
        reissue_form=ReissueForm(),
    )


@bp.post("/certificaten/<int:certificate_id>/opnieuw-uitgeven")
@login_required
def reissue_own(certificate_id: int):
    """The learner's own correction: their register number (from the profile) on a new certificate."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != current_user.id:
        abort(404)
    if not ReissueForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    try:
        replacement = reissue(certificate, user, user, reason="registernummer", now=utcnow())
    except (NotReissuable, NothingToCorrect):
        db.session.rollback()
        flash(
            "Dit certificaat kan niet opnieuw worden uitgegeven: het is niet meer geldig of toont je registratienummer al.",
            "error",
        )
        return redirect(url_for("certificates.mine"))
    db.session.commit()
    log.info("Certificaat %s opnieuw uitgegeven als %s (registernummer)", certificate.id, replacement.id)
    flash(
        "Je nieuwe certificaat met je registratienummer staat klaar. Het vorige is vervangen en geldt niet meer.",
        "success",
    )
    return redirect(url_for("certificates.mine"))


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


def find_by_code(code: str) -> Certificate | None:
    """The certificate with this code, forgiving I/L/1 look-alikes (see codes.py)."""
    exact = db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == code))
    if exact is not None:
        return exact
    matches = db.session.scalars(
        sa.select(Certificate).where(codes.folded_column(Certificate.verification_code) == codes.folded(code)).limit(2)
    ).all()
    # Two codes differing only in I/L: practically impossible at 160 bits, but then neither is "the" one.
    return matches[0] if len(matches) == 1 else None


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
    certificate = find_by_code(normalized) if normalized is not None else None
    if certificate is None:
        # Malformed and unknown codes look the same: nothing to learn from probing.
        return _no_store(
            render_template("certificates/verify.html", certificate=None, state="unknown", searched=True), 404
        )
    state = certificate.state(local_date(utcnow()))
    return _no_store(
        render_template(
            "certificates/verify.html",
            certificate=certificate,
            state=state,
            searched=True,
            # When it was replaced, never by which code: that belongs to the holder of the new one.
            superseded_on=local_date(certificate.superseded_at) if certificate.superseded_at else None,
        )
    )
