from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from course import audit, privacy, search_terms
from course.admin import lists, paging
from course.admin.audit_log import action_label, describe
from course.admin.forms import (
    ConfirmEraseForm,
    NameCorrectionForm,
    ResetTwoFactorForm,
    RevokeForm,
    TemporaryPasswordForm,
    UserForm,
)
from course.admin.users import SelfLockout, issue_temporary_password, update_user
from course.auth import sessions, two_factor
from course.auth.access import role_required
from course.certificates.reissue import NothingToCorrect, NotReissuable, reissue
from course.certificates.revocation import AlreadyRevoked, revoke
from course.errors import render_error
from course.extensions import db
from course.models import AuditEvent, Certificate, OutboxMessage, OutboxStatus, Role, User
from course.paging import requested_page
from course.timeutil import local_date, utcnow

bp = Blueprint("admin", __name__, url_prefix="/beheer")


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/index.html")


@bp.get("/certificaten")
@role_required(Role.ADMIN)
def certificates():
    query = search_terms.recall("admin.certificates")
    state = paging.known(request.args.get("status"), lists.CERTIFICATE_STATES)
    sort = paging.choice(request.args.get("sorteer"), lists.CERTIFICATE_SORTS, "uitgegeven")
    today = local_date(utcnow())
    page, rows = lists.certificate_page(query, state, sort, requested_page(request.args.get("pagina")), today)
    return render_template(
        "admin/certificates.html",
        rows=rows,
        page=page,
        query=query,
        state=state,
        sort=sort,
        states=lists.CERTIFICATE_STATES,
        sorts=lists.CERTIFICATE_SORTS,
        today=today,
        search_form=search_terms.SearchForm(),
    )


@bp.post("/certificaten")
@role_required(Role.ADMIN)
def search_certificates():
    _take_search_term("admin.certificates")
    return redirect(
        url_for(
            "admin.certificates",
            status=paging.known(request.form.get("status"), lists.CERTIFICATE_STATES) or None,
            sorteer=_non_default(request.form.get("sorteer"), lists.CERTIFICATE_SORTS, "uitgegeven"),
        )
    )


# Part of a name or address is found through trigram indexes on PostgreSQL, which need three characters;
# a shorter term would read every account (docs/decisions.md, admin lists at size).
MIN_SEARCH_LENGTH = 3


def _take_search_term(page: str) -> None:
    term = (request.form.get("term") or "").strip()
    if 0 < len(term) < MIN_SEARCH_LENGTH:
        flash(f"Zoekterm niet gebruikt: typ minstens {MIN_SEARCH_LENGTH} tekens.", "error")
    else:
        search_terms.take_from_form(page)


def _non_default(raw: str | None, options, default: str) -> str | None:
    """A sort key for a URL: left out when it is the default (or not one of the options)."""
    value = paging.choice(raw, options, default)
    return None if value == default else value


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
    owner = db.session.get(User, certificate.user_id) if certificate.user_id else None
    return render_template(
        "admin/certificate.html",
        certificate=certificate,
        form=form,
        name_form=NameCorrectionForm(name=owner.display_name if owner else ""),
        owner=owner,
        history=describe(history),
        today=local_date(utcnow()),
    )


@bp.post("/certificaten/<int:certificate_id>/naam-corrigeren")
@role_required(Role.ADMIN)
def correct_name(certificate_id: int):
    """A wrong name on a certificate: correct the account's name and reissue (not revoke) the certificate."""
    certificate = db.session.get(Certificate, certificate_id) or abort(404)
    owner = db.session.get(User, certificate.user_id) if certificate.user_id else None
    form = NameCorrectionForm()
    if owner is None or not form.validate_on_submit():
        flash(
            " ".join(form.name.errors) if owner else "Dit certificaat hoort niet meer bij een account.",
            "error",
        )
        return redirect(url_for("admin.certificate", certificate_id=certificate.id))
    now = utcnow()
    owner.display_name = form.name.data
    audit.record(current_user.id, "user.name_correction", "user", owner.id, certificate_id=certificate.id)
    try:
        replacement = reissue(certificate, owner, current_user, reason="naam", now=now)
    except (NotReissuable, NothingToCorrect) as problem:
        db.session.rollback()
        flash(
            "Dit certificaat is niet meer geldig en kan niet opnieuw worden uitgegeven."
            if isinstance(problem, NotReissuable)
            else "Het certificaat toont deze naam al; er is niets gewijzigd.",
            "info",
        )
        return redirect(url_for("admin.certificate", certificate_id=certificate.id))
    db.session.commit()
    flash(
        "De naam is gecorrigeerd en het certificaat is opnieuw uitgegeven met een nieuwe code. "
        "Het vorige certificaat is vervangen (niet ingetrokken).",
        "success",
    )
    return redirect(url_for("admin.certificate", certificate_id=replacement.id))


@bp.get("/gebruikers")
@role_required(Role.ADMIN)
def users():
    query = search_terms.recall("admin.users")
    role = paging.known(request.args.get("rol"), lists.ROLE_FILTERS)
    sort = paging.choice(request.args.get("sorteer"), lists.USER_SORTS, "naam")
    page, rows = lists.user_page(query, role, sort, requested_page(request.args.get("pagina")))
    return render_template(
        "admin/users.html",
        rows=rows,
        page=page,
        query=query,
        role=role,
        sort=sort,
        roles=lists.ROLE_FILTERS,
        sorts=lists.USER_SORTS,
        search_form=search_terms.SearchForm(),
    )


@bp.post("/gebruikers")
@role_required(Role.ADMIN)
def search_users():
    _take_search_term("admin.users")
    return redirect(
        url_for(
            "admin.users",
            rol=paging.known(request.form.get("rol"), lists.ROLE_FILTERS) or None,
            sorteer=_non_default(request.form.get("sorteer"), lists.USER_SORTS, "naam"),
        )
    )


@bp.route("/gebruikers/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(role=user.role.value, active=user.active) if request.method == "GET" else UserForm()
    if form.validate_on_submit():
        try:
            changes = update_user(current_user, user, Role(form.role.data), form.active.data)
        except SelfLockout:
            db.session.rollback()
            flash("Je kunt je eigen account niet degraderen of deactiveren.", "error")
        else:
            db.session.commit()
            flash(
                "Opgeslagen: " + ", ".join(changes) + " gewijzigd." if changes else "Er was niets gewijzigd.",
                "success" if changes else "info",
            )
        return redirect(url_for("admin.user", user_id=user_id))
    history = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id)
        .order_by(AuditEvent.at.desc())
        .limit(50)
    ).all()
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        erase_form=ConfirmEraseForm(),
        password_form=TemporaryPasswordForm(),
        two_factor_form=ResetTwoFactorForm(),
        history=describe(history),
    )


@bp.post("/gebruikers/<int:user_id>/tijdelijk-wachtwoord")
@role_required(Role.ADMIN)
def temporary_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not TemporaryPasswordForm().validate_on_submit():
        abort(400)
    try:
        password = issue_temporary_password(current_user, user)
    except SelfLockout:
        db.session.rollback()
        flash("Je eigen wachtwoord wijzig je onder Profiel › Wachtwoord wijzigen.", "error")
        return redirect(url_for("admin.user", user_id=user.id))
    db.session.commit()
    # Shown in this response only (never flashed into the cookie, never in a URL); the page is no-store.
    return render_template("admin/temporary_password.html", user=user, password=password)


@bp.post("/gebruikers/<int:user_id>/tweestapsverificatie-uitzetten")
@role_required(Role.ADMIN)
def reset_two_factor(user_id: int):
    """For someone who lost both their app and their recovery codes; audited, ends their sessions."""
    user = db.session.get(User, user_id) or abort(404)
    form = ResetTwoFactorForm()
    if user.id == current_user.id:
        flash("Je eigen tweestapsverificatie beheer je onder Profiel › Tweestapsverificatie.", "error")
    elif not user.two_factor_enabled:
        flash("Tweestapsverificatie staat voor dit account niet aan.", "info")
    elif not form.validate_on_submit():
        flash(" ".join(form.confirm.errors) or "Het formulier was verlopen. Probeer het opnieuw.", "error")
    else:
        two_factor.disable(user, actor=current_user)
        sessions.end_all(user)
        db.session.commit()
        flash(
            "Tweestapsverificatie is uitgezet en open sessies van deze gebruiker zijn beëindigd. "
            "Na het inloggen stelt deze persoon een nieuwe app in"
            + (" (verplicht voor deze rol)." if two_factor.required_for(user) else "."),
            "success",
        )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/gebruikers/<int:user_id>/verwijderen")
@role_required(Role.ADMIN)
def erase_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = ConfirmEraseForm()
    if user.id == current_user.id:
        flash("Je kunt je eigen account hier niet verwijderen.", "error")
        return redirect(url_for("admin.user", user_id=user_id))
    if not form.validate_on_submit():
        flash("Vink aan om het verwijderen te bevestigen.", "error")
        return redirect(url_for("admin.user", user_id=user_id))
    try:
        privacy.erase_user(user, actor=current_user)
    except privacy.ErasureRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    db.session.commit()
    privacy.purge_after_erasure()
    flash("Het account en de gegevens ervan zijn verwijderd.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/logboek")
@role_required(Role.ADMIN)
def audit_log():
    action = (request.args.get("actie") or "").strip()[:60]
    try:
        since, until = _day(request.args.get("van")), _day(request.args.get("tot"))
    except ValueError:
        return render_error(400, "Geef een datum op als jjjj-mm-dd, bijvoorbeeld 2026-12-01. Er is niets gefilterd.")
    older, newer = _event_id(request.args.get("ouder")), _event_id(request.args.get("nieuwer"))
    log = lists.audit_page(action, since, until, older_than=older, newer_than=None if older else newer)
    return render_template(
        "admin/audit.html",
        log=log,
        actions=[(a, action_label(a)) for a in sorted(lists.audit_actions(), key=action_label)],
        action=action,
        # For the links and the date fields (<input type="date"> takes jjjj-mm-dd, not a Dutch date).
        filters={
            "actie": action or None,
            "van": since.isoformat() if since else None,
            "tot": until.isoformat() if until else None,
        },
    )


def _day(raw: str | None) -> date | None:
    """A date from the log's filter (an <input type="date"> sends jjjj-mm-dd); ValueError for anything else."""
    if not raw:
        return None
    day = date.fromisoformat(raw)
    if not 1900 <= day.year <= 2999:  # also keeps the day's start and end within datetime's range
        raise ValueError(raw)
    return day


def _event_id(raw: str | None) -> int | None:
    """A keyset cursor is an event number; anything else (or a number no event has) shows the newest page."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


OUTBOX_TOPICS = {
    "registration.confirm": "bevestiging registratie",
    "registration.existing": "melding: registratie met bestaand adres",
    "invitation": "uitnodiging voor een groep",
}
OUTBOX_STATUSES = {"pending": "in wachtrij", "sending": "wordt verstuurd", "sent": "verstuurd", "failed": "mislukt"}


@bp.get("/uitgaande-mail")
@role_required(Role.ADMIN)
def outbox():
    """What the app mailed or is about to mail, so a missing mail can be traced (and a failed one seen)."""
    counts = dict(
        db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    )
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template(
        "admin/outbox.html",
        rows=rows,
        counts={status: counts.get(status, 0) for status in OutboxStatus},
        topics=OUTBOX_TOPICS,
        statuses=OUTBOX_STATUSES,
    )
