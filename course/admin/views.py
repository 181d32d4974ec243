from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from course.admin.forms import RevokeForm
from course.auth.access import role_required
from course.certificates import codes
from course.certificates.issuing import local_date
from course.certificates.revocation import AlreadyRevoked, revoke
from course.extensions import db
from course.models import AuditEvent, Certificate, Role
from course.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/beheer")
PAGE_SIZE = 50


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/index.html")


@bp.get("/certificaten")
@role_required(Role.ADMIN)
def certificates():
    query = (request.args.get("q") or "").strip()[:120]
    statement = sa.select(Certificate).order_by(Certificate.issued_at.desc()).limit(PAGE_SIZE)
    if query:
        code = codes.normalize(query)
        statement = statement.where(
            Certificate.verification_code == code if code else Certificate.learner_name.ilike(f"%{query}%")
        )
    return render_template(
        "admin/certificates.html",
        certificates=db.session.scalars(statement).all(),
        query=query,
        today=local_date(utcnow()),
    )


@bp.route("/certificaten/<int:certificate_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def certificate(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id) or abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            revoke(certificate, current_user, form.reason.data, utcnow())
        except AlreadyRevoked:
            db.session.rollback()
            flash("Dit certificaat was al ingetrokken.", "info")
        else:
            db.session.commit()
            flash("Het certificaat is ingetrokken. De controlepagina toont dit meteen.", "success")
        return redirect(url_for("admin.certificate", certificate_id=certificate.id))
    history = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.subject_type == "certificate", AuditEvent.subject_id == certificate.id)
        .order_by(AuditEvent.at)
    ).all()
    return render_template(
        "admin/certificate.html", certificate=certificate, form=form, history=history, today=local_date(utcnow())
    )
