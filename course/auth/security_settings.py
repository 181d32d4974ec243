"""A person's own sign-in security: two-step verification and the list of open sessions."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from course import audit
from course.auth import passkeys, sessions, throttle, two_factor
from course.auth.forms import (
    EndSessionsForm,
    PasskeyAddForm,
    PasskeyRemoveForm,
    TwoFactorConfirmForm,
    TwoFactorEnableForm,
)
from course.errors import render_error
from course.extensions import db
from course.models import User

bp = Blueprint("security", __name__, url_prefix="/account")
log = logging.getLogger(__name__)

_TOO_MANY = "Te veel mislukte pogingen. Wacht een kwartier en probeer het dan opnieuw."
_NO_STORE = {"Cache-Control": "no-store"}


def _me() -> User:
    return current_user._get_current_object()


def _pending_secret() -> str:
    """The secret being set up, kept in the (signed, HttpOnly) session until the user confirms a code."""
    secret = session.get("totp_setup")
    if not isinstance(secret, str) or len(secret) != 32:
        secret = two_factor.new_secret()
        session["totp_setup"] = secret
    return secret


def _render_settings(enable_form=None, confirm_form=None, passkey_form=None, passkey_remove_form=None, status=200):
    user = _me()
    context = {"user": user, "may_switch_off": two_factor.may_switch_off(user)}
    if user.two_factor_enabled:
        context["remaining"] = two_factor.remaining_recovery_codes(user)
        context["confirm_form"] = confirm_form or TwoFactorConfirmForm()
        context["passkeys"] = passkeys.of_user(user)
        context["passkey_form"] = passkey_form or PasskeyAddForm()
        context["passkey_remove_form"] = passkey_remove_form or PasskeyRemoveForm(formdata=None)
        context["passkey_options"] = passkeys.registration_options(user)
    else:
        secret = _pending_secret()
        context["qr_svg"] = two_factor.qr_svg(two_factor.provisioning_uri(user, secret))
        context["secret"] = two_factor.grouped(secret)
        context["enable_form"] = enable_form or TwoFactorEnableForm()
        context["required"] = two_factor.required_for(user)
    return render_template("security/two_factor.html", **context), status, _NO_STORE


def _check_password_and_code(form, user: User, *, secret: str | None = None) -> bool:
    """Re-authentication for a security change. Wrong answers count as failed logins (throttle)."""
    if not user.check_password(form.password.data):
        form.password.errors.append("Dit wachtwoord klopt niet.")
    elif secret is not None and not two_factor.code_is_valid_for_secret(secret, form.code.data):
        form.code.errors.append("Deze code klopt niet. Controleer de tijd op je telefoon en probeer de nieuwste code.")
    elif secret is None and not two_factor.verify(user, form.code.data):
        form.code.errors.append("Deze code klopt niet, is verlopen of is al gebruikt.")
    else:
        return True
    db.session.rollback()
    throttle.record_failure(user.email, request.remote_addr)
    db.session.commit()
    return False


def _show_recovery_codes(codes: list[str], new: bool):
    # Shown in this response only: never flashed into the cookie, never in a URL; no-store.
    shown = [two_factor.display_recovery_code(c) for c in codes]
    return render_template("security/recovery_codes.html", codes=shown, new=new), 200, _NO_STORE


@bp.get("/tweestapsverificatie", endpoint="two_factor")
@login_required
def two_factor_settings():
    return _render_settings()


@bp.post("/tweestapsverificatie/aanzetten")
@login_required
def two_factor_enable():
    user = _me()
    if user.two_factor_enabled:
        return redirect(url_for("security.two_factor"))
    form = TwoFactorEnableForm()
    if not form.validate_on_submit():
        return _render_settings(enable_form=form, status=400)
    if throttle.is_throttled(user.email, request.remote_addr):
        return render_error(429, _TOO_MANY)
    secret = _pending_secret()
    if not _check_password_and_code(form, user, secret=secret):
        return _render_settings(enable_form=form, status=400)
    codes = two_factor.enable(user, secret)
    ended = sessions.end_all(user, keep_token=user.login_token)
    session.pop("totp_setup", None)
    db.session.commit()
    log.info("Tweestapsverificatie aangezet voor account %s; %s andere sessie(s) beëindigd", user.id, ended)
    return _show_recovery_codes(codes, new=True)


@bp.post("/tweestapsverificatie/herstelcodes")
@login_required
def two_factor_recovery_codes():
    user = _me()
    if not user.two_factor_enabled:
        return redirect(url_for("security.two_factor"))
    form = TwoFactorConfirmForm()
    if not form.validate_on_submit():
        return _render_settings(confirm_form=form, status=400)
    if throttle.is_throttled(user.email, request.remote_addr):
        return render_error(429, _TOO_MANY)
    if not _check_password_and_code(form, user):
        return _render_settings(confirm_form=form, status=400)
    codes = two_factor.new_recovery_codes(user)
    audit.record(user.id, "2fa.recovery_codes_renewed", "user", user.id)
    db.session.commit()
    return _show_recovery_codes(codes, new=False)


@bp.post("/tweestapsverificatie/uitzetten")
@login_required
def two_factor_disable():
    user = _me()
    if not user.two_factor_enabled:
        return redirect(url_for("security.two_factor"))
    if not two_factor.may_switch_off(user):
        flash("Voor jouw rol is tweestapsverificatie verplicht; je kunt het niet uitzetten.", "error")
        return redirect(url_for("security.two_factor"))
    form = TwoFactorConfirmForm()
    if not form.validate_on_submit():
        return _render_settings(confirm_form=form, status=400)
    if throttle.is_throttled(user.email, request.remote_addr):
        return render_error(429, _TOO_MANY)
    if not _check_password_and_code(form, user):
        return _render_settings(confirm_form=form, status=400)
    two_factor.disable(user, actor=user)
    db.session.commit()
    flash("Tweestapsverificatie staat nu uit. Je logt voortaan in met alleen je wachtwoord.", "success")
    return redirect(url_for("security.two_factor"))


def _render_sessions(form: EndSessionsForm | None = None, status: int = 200):
    user = _me()
    return (
        render_template(
            "security/sessions.html",
            sessions=sessions.list_for(user, user.login_token),
            form=form or EndSessionsForm(formdata=None),
        ),
        status,
    )


def _password_confirmed(form, field) -> bool:
    """The password in `field` is right; a wrong one counts as a failed login (throttle)."""
    user = _me()
    if throttle.is_throttled(user.email, request.remote_addr):
        field.errors.append(_TOO_MANY)
        return False
    if user.check_password(field.data):
        return True
    field.errors.append("Dit wachtwoord klopt niet.")
    throttle.record_failure(user.email, request.remote_addr)
    db.session.commit()
    return False


def _digits(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.get("/sessies")
@login_required
def session_list():
    return _render_sessions()


@bp.post("/sessies/beeindigen")
@login_required
def end_session():
    user = _me()
    form = EndSessionsForm()
    session_id = _digits(form.session_id.data)
    if session_id is None:
        abort(400)
    if not form.validate_on_submit() or not _password_confirmed(form, form.password):
        return _render_sessions(form, 400)
    current = next((s for s in sessions.list_for(user, user.login_token) if s.current), None)
    if current is not None and current.id == session_id:
        flash("Dit is de sessie die je nu gebruikt. Log uit om die te beëindigen.", "info")
        return redirect(url_for("security.session_list"))
    if not sessions.end_one(user, session_id):
        db.session.rollback()
        flash("Die sessie bestaat niet (meer).", "info")
        return redirect(url_for("security.session_list"))
    db.session.commit()
    flash("De sessie is beëindigd. Op dat apparaat moet opnieuw ingelogd worden.", "success")
    return redirect(url_for("security.session_list"))


@bp.post("/sessies/andere-beeindigen")
@login_required
def end_other_sessions():
    user = _me()
    form = EndSessionsForm()
    if not form.validate_on_submit() or not _password_confirmed(form, form.password):
        return _render_sessions(form, 400)
    ended = sessions.end_all(user, keep_token=user.login_token)
    db.session.commit()
    flash(
        f"{ended} andere sessie{'s' if ended != 1 else ''} beëindigd." if ended else "Er waren geen andere sessies.",
        "success" if ended else "info",
    )
    return redirect(url_for("security.session_list"))


@bp.post("/passkeys/toevoegen")
@login_required
def passkey_add():
    user = _me()
    if not user.two_factor_enabled:
        flash("Zet eerst tweestapsverificatie met een app aan; daarna kun je passkeys toevoegen.", "info")
        return redirect(url_for("security.two_factor"))
    form = PasskeyAddForm()
    if not form.validate_on_submit():
        return _render_settings(passkey_form=form, status=400)
    if throttle.is_throttled(user.email, request.remote_addr):
        return render_error(429, _TOO_MANY)
    if not user.check_password(form.passkey_password.data):
        form.passkey_password.errors.append("Dit wachtwoord klopt niet.")
        throttle.record_failure(user.email, request.remote_addr)
        db.session.commit()
        return _render_settings(passkey_form=form, status=400)
    try:
        passkeys.register(user, form.credential.data, form.passkey_name.data.strip())
    except passkeys.PasskeyRefused as exc:
        db.session.rollback()
        form.passkey_name.errors.append(str(exc))
        return _render_settings(passkey_form=form, status=400)
    db.session.commit()
    flash("De passkey is toegevoegd. Je kunt er voortaan mee inloggen in plaats van met een code.", "success")
    return redirect(url_for("security.two_factor"))


@bp.post("/passkeys/verwijderen")
@login_required
def passkey_remove():
    user = _me()
    form = PasskeyRemoveForm()
    passkey_id = _digits(form.passkey_id.data)
    if passkey_id is None:
        abort(400)
    if not form.validate_on_submit() or not _password_confirmed(form, form.passkey_password_remove):
        return _render_settings(passkey_remove_form=form, status=400)
    if passkeys.remove(user, passkey_id):
        db.session.commit()
        flash("De passkey is verwijderd.", "success")
    else:
        flash("Die passkey bestaat niet (meer).", "info")
    return redirect(url_for("security.two_factor"))
