from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from course import privacy
from course.auth import accounts, registration, throttle
from course.auth.access import safe_next_url
from course.auth.forms import (
    ConfirmRegistrationForm,
    EraseForm,
    LoginForm,
    LogoutForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
)
from course.errors import render_error
from course.extensions import db, login_manager
from course.models import Role, User
from course.ratelimit import allow
from course.timeutil import utcnow
from course.tokens import TokenExpired, TokenInvalid

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie holds "<id>:<session token>"; a rotated token (password change) no longer matches.
    user_pk, _, token = user_id.partition(":")
    if not (user_pk.isascii() and user_pk.isdigit()) or not token:
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user


# What someone signed in with a temporary password may reach before choosing their own.
_OPEN_BEFORE_OWN_PASSWORD = {"auth.change_password", "auth.logout", "static", "health.livez", "health.healthz"}


@bp.before_app_request
def require_own_password():
    if request.endpoint in _OPEN_BEFORE_OWN_PASSWORD:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


def _start_session(user: User) -> None:
    # A fresh session at login: nothing set before login (fixation) survives it.
    session.clear()
    session.permanent = True
    login_user(user)


@bp.route("/registreren", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("lessons.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        config = current_app.config
        if not allow(
            "register", request.remote_addr, config["REGISTER_RATE_LIMIT"], config["REGISTER_RATE_WINDOW_SECONDS"]
        ):
            log.warning("Registratie geweigerd: te veel registraties vanaf één adres")
            return render_error(
                429, "Te veel registraties vanaf dit adres. Wacht een kwartier en probeer het dan opnieuw."
            )
        # The same answer, the same work and one mail whether or not the address has an account.
        registration.request_registration(form.email.data, form.display_name.data, form.password.data, utcnow())
        db.session.commit()
        return render_template("auth/register_sent.html", email=accounts.normalize_email(form.email.data))
    return render_template("auth/register.html", form=form)


EXPIRED_REGISTRATION = "Deze link is verlopen. Registreer opnieuw; je krijgt dan een nieuwe link."
INVALID_REGISTRATION = (
    "Deze link is ongeldig of al gebruikt. Registreer opnieuw, of log in als je account al is aangemaakt."
)


@bp.get("/registreren/bevestigen/<token>")
def confirm_registration(token: str):
    """The link from the confirmation mail: a button to confirm (a mail scanner opening the link creates nothing)."""
    try:
        registration.pending_for_token(token, utcnow())
    except TokenExpired:
        return render_error(410, EXPIRED_REGISTRATION)
    except TokenInvalid:
        return render_error(404, INVALID_REGISTRATION)
    return render_template("auth/confirm_registration.html", form=ConfirmRegistrationForm(token=token))


@bp.post("/registreren/bevestigen")
def create_confirmed_account():
    form = ConfirmRegistrationForm()
    if not form.validate_on_submit():
        return render_error(404, INVALID_REGISTRATION)
    try:
        user = registration.confirm(form.token.data, utcnow())
    except TokenExpired:
        return render_error(410, EXPIRED_REGISTRATION)
    except TokenInvalid:
        return render_error(404, INVALID_REGISTRATION)
    except accounts.EmailInUse:
        db.session.commit()  # the link is used up
        return render_error(400, "Met dit e-mailadres is al een account aangemaakt. Log in met dat account.")
    db.session.commit()
    _start_session(user)
    flash("Welkom! Je e-mailadres is bevestigd en je account is aangemaakt.", "success")
    return redirect(url_for("lessons.index"))


@bp.route("/inloggen", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("lessons.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        email = form.email.data
        if throttle.is_throttled(email, request.remote_addr):
            log.warning("Inlogpoging geweigerd: te veel mislukte pogingen")
            return render_error(
                429,
                "Te veel mislukte inlogpogingen. Wacht een kwartier en probeer het dan opnieuw.",
            )
        user = accounts.authenticate(email, form.password.data)
        if user is None:
            throttle.record_failure(email, request.remote_addr)
            db.session.commit()
            form.password.errors.append("E-mailadres of wachtwoord klopt niet.")
        else:
            throttle.clear_failures(email)
            db.session.commit()
            _start_session(user)
            log.info("Account %s ingelogd", user.id)
            return redirect(safe_next_url(form.next.data) or url_for("lessons.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/uitloggen")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("Je bent uitgelogd.", "info")
    return redirect(url_for("lessons.index"))


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("Je huidige wachtwoord klopt niet.")
        else:
            accounts.change_password(current_user, form.new_password.data)
            db.session.commit()
            # The session token changed: sign this session in again under the new token.
            _start_session(current_user._get_current_object())
            flash("Je wachtwoord is gewijzigd. Andere sessies zijn uitgelogd.", "success")
            return redirect(url_for("lessons.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/profiel", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user) if request.method == "GET" else ProfileForm()
    if request.method == "GET":
        form.consent.data = user.register_consent_at is not None
        form.register_name.data = user.register_name or ""
    if form.validate_on_submit():
        accounts.update_profile(
            user, form.display_name.data, form.register_name.data, form.register_number.data or "", utcnow()
        )
        db.session.commit()
        flash("Je profiel is opgeslagen. Wijzigingen gelden voor certificaten die hierna worden uitgegeven.", "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.get("/account/gegevens")
@login_required
def my_data():
    return render_template("auth/my_data.html", form=EraseForm())


@bp.get("/account/gegevens.json")
@login_required
def my_data_json():
    data = privacy.export_user(current_user._get_current_object())
    log.info("Gegevensexport door account %s", current_user.id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mijn-gegevens-hechtwijzer.json"'},
    )


@bp.post("/account/verwijderen")
@login_required
def erase_account():
    user = current_user._get_current_object()
    form = EraseForm()
    if not user.has_role(Role.LEARNER):
        flash("Een trainer- of beheerdersaccount wordt verwijderd door een beheerder.", "warning")
        return redirect(url_for("auth.my_data"))
    if form.validate_on_submit() and not user.check_password(form.password.data):
        form.password.errors.append("Dit wachtwoord klopt niet.")
    elif form.validate_on_submit():
        privacy.erase_user(user, actor=user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(
            "Je account en je gegevens zijn verwijderd. Je certificaten blijven controleerbaar (naam, module, datum).",
            "info",
        )
        return redirect(url_for("lessons.index"))
    return render_template("auth/my_data.html", form=form), 400
