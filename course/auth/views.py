from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from course import privacy, security_log
from course.auth import (
    accounts,
    passkeys,
    password_reset,
    passwords,
    registration,
    sessions,
    throttle,
    two_factor,
    verification,
)
from course.auth.access import safe_next_url, start_page
from course.auth.forms import (
    ConfirmRegistrationForm,
    EmailChangeForm,
    EraseForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    PasskeySignInForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
    SecondStepForm,
    VerifyEmailForm,
)
from course.catalog.access import get_catalog
from course.errors import render_error
from course.extensions import db, login_manager
from course.models import Role, User
from course.ratelimit import allow
from course.sso import linking, providers
from course.timeutil import utcnow
from course.tokens import TokenExpired, TokenInvalid

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    # The cookie holds only a session token; the row behind it must still exist (see auth/sessions.py).
    found = sessions.load(token)
    return found[0] if found else None


# What someone may reach before choosing their own password (after a temporary one) or, in a role
# that requires it, before setting up two-step sign-in.
_ALWAYS_OPEN = {"auth.logout", "static", "health.livez", "health.healthz"}
_OPEN_BEFORE_OWN_PASSWORD = _ALWAYS_OPEN | {"auth.change_password"}
_OPEN_BEFORE_TWO_FACTOR = _ALWAYS_OPEN | {"security.two_factor", "security.two_factor_enable"}


@bp.before_app_request
def require_own_password_and_two_factor():
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password and request.endpoint not in _OPEN_BEFORE_OWN_PASSWORD:
        return redirect(url_for("auth.change_password"))
    if (
        not current_user.two_factor_enabled
        and request.endpoint not in _OPEN_BEFORE_TWO_FACTOR
        and two_factor.required_for(current_user)
    ):
        flash("Stel eerst tweestapsverificatie in: voor jouw rol is die verplicht.", "info")
        return redirect(url_for("security.two_factor"))
    return None


def _start_session(user: User) -> None:
    # A fresh session at login: nothing set before login (fixation) survives it.
    session.clear()
    session.permanent = True
    sessions.start(user, request.user_agent.string)
    db.session.commit()
    login_user(user)


# The password step of a two-step sign-in is valid this long.
_SECOND_STEP_SECONDS = 5 * 60


def complete_sign_in(user: User, next_url: str):
    """After a first step proved who this is (password, organisation sign-in): the second step when the
    account has two-step sign-in, else the session."""
    if user.two_factor_enabled:
        session.clear()
        session["second_step"] = {"user_id": user.id, "at": utcnow().timestamp(), "next": next_url}
        return redirect(url_for("auth.second_step"))
    _start_session(user)
    return redirect(next_url)


def _organisation_only(email: str | None):
    """The organisation's provider when passwords are off for this address's domain (course/sso).
    Decided by the domain alone, so the answer never tells whether an account exists."""
    return providers.provider_for_address(email)


def _organisation_only_page(provider, status: int = 400):
    page = render_template("sso/organisation_only.html", provider=provider)
    return page, status


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
        if provider := _organisation_only(form.email.data):
            return _organisation_only_page(provider)
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
        return redirect(start_page(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        email = form.email.data
        if provider := _organisation_only(email):
            return _organisation_only_page(provider)
        if throttle.is_throttled(email, request.remote_addr):
            log.warning("Inlogpoging geweigerd: te veel mislukte pogingen")
            return render_error(
                429,
                "Te veel mislukte inlogpogingen. Wacht een kwartier en probeer het dan opnieuw.",
            )
        user = accounts.authenticate(email, form.password.data)
        next_url = safe_next_url(form.next.data) or ""
        if user is None:
            throttle.record_failure(email, request.remote_addr)
            db.session.commit()
            form.password.errors.append("E-mailadres of wachtwoord klopt niet.")
        elif user.two_factor_enabled:
            # Failures are cleared only after the second step: a known password must not reset
            # the count of wrong codes.
            db.session.commit()
            session.clear()
            session["second_step"] = {"user_id": user.id, "at": utcnow().timestamp(), "next": next_url}
            return redirect(url_for("auth.second_step"))
        else:
            throttle.clear_failures(email)
            db.session.commit()
            _start_session(user)
            log.info("Account %s ingelogd", user.id)
            return redirect(next_url or start_page(user))
    return render_template("auth/login.html", form=form, organisations=providers.enabled_providers())


def _pending_second_step() -> tuple[User, str] | None:
    pending = session.get("second_step")
    if not isinstance(pending, dict):
        return None
    started = pending.get("at")
    if not isinstance(started, int | float) or utcnow().timestamp() - started > _SECOND_STEP_SECONDS:
        return None
    user = db.session.get(User, pending.get("user_id")) if isinstance(pending.get("user_id"), int) else None
    if user is None or not user.is_active or not user.two_factor_enabled:
        return None
    return user, safe_next_url(pending.get("next")) or start_page(user)


def _second_step_or_restart():
    pending = _pending_second_step()
    if pending is None:
        session.pop("second_step", None)
        flash("Log opnieuw in: de eerste stap is verlopen of ontbreekt.", "info")
    return pending


def _render_second_step(user: User, form: SecondStepForm, status: int = 200):
    context = {
        "form": form,
        "passkey_form": PasskeySignInForm(),
        "passkey_options": passkeys.authentication_options(user),
    }
    return render_template("auth/second_step.html", **context), status, {"Cache-Control": "no-store"}


def _finish_second_step(user: User, next_url: str, how: str):
    throttle.clear_failures(user.email)
    db.session.commit()
    _start_session(user)
    log.info("Account %s ingelogd met tweestapsverificatie (%s)", user.id, how)
    return redirect(next_url)


def _second_step_failed(user: User) -> None:
    db.session.rollback()
    throttle.record_failure(user.email, request.remote_addr)
    db.session.commit()


def _too_many_attempts():
    log.warning("Tweede inlogstap geweigerd: te veel mislukte pogingen")
    return render_error(429, "Te veel mislukte inlogpogingen. Wacht een kwartier en probeer het dan opnieuw.")


@bp.route("/inloggen/code", methods=["GET", "POST"])
def second_step():
    if current_user.is_authenticated:
        return redirect(url_for("lessons.index"))
    pending = _second_step_or_restart()
    if pending is None:
        return redirect(url_for("auth.login"))
    user, next_url = pending
    form = SecondStepForm()
    if form.validate_on_submit():
        if throttle.is_throttled(user.email, request.remote_addr):
            return _too_many_attempts()
        if two_factor.verify(user, form.code.data):
            return _finish_second_step(user, next_url, "code")
        _second_step_failed(user)
        form.code.errors.append("Deze code klopt niet, is verlopen of is al gebruikt.")
    return _render_second_step(user, form, 400 if form.errors else 200)


@bp.post("/inloggen/passkey")
def second_step_passkey():
    if current_user.is_authenticated:
        return redirect(url_for("lessons.index"))
    pending = _second_step_or_restart()
    if pending is None:
        return redirect(url_for("auth.login"))
    user, next_url = pending
    form = PasskeySignInForm()
    if not form.validate_on_submit():
        abort(400)
    if throttle.is_throttled(user.email, request.remote_addr):
        return _too_many_attempts()
    if passkeys.authenticate(user, form.credential.data):
        return _finish_second_step(user, next_url, "passkey")
    _second_step_failed(user)
    code_form = SecondStepForm(formdata=None)
    code_form.code.errors = ["Inloggen met je passkey is niet gelukt. Probeer het opnieuw of vul een code in."]
    return _render_second_step(user, code_form, 400)


@bp.post("/uitloggen")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            # Delete the server-side session: a copy of this cookie is worthless from now on.
            sessions.end(current_user.login_token)
            db.session.commit()
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
            user = current_user._get_current_object()
            accounts.change_password(user, form.new_password.data, keep_session=user.login_token)
            db.session.commit()
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
        return redirect(_profile_back(request.args.get("terug")) or url_for("auth.profile"))
    return render_template(
        "auth/profile.html",
        form=form,
        back=request.args.get("terug"),
        organisations=providers.enabled_providers(),
        linked_issuers={link.issuer for link in linking.links_of(current_user)},
    )


def _profile_back(back: str | None) -> str | None:
    """Where the register-number prompt came from (a test or the dashboard); only known places."""
    if back == "overzicht":
        return url_for("lessons.index")
    if back and get_catalog().quiz(back) is not None:
        return url_for("quizzes.detail", quiz_id=back)
    return None


@bp.get("/account/gegevens")
@login_required
def my_data():
    return render_template("auth/my_data.html", form=EraseForm())


@bp.get("/account/gegevens.json")
@login_required
def my_data_json():
    data = privacy.export_user(current_user._get_current_object())
    log.info("Gegevensexport door account %s", current_user.id)
    # Streamed: a history of many attempts is read and written in pieces; a download broken off
    # halfway is JSON without its closing brackets, which no reader takes for complete.
    return Response(
        stream_with_context(privacy.json_chunks(data)),
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
        privacy.purge_after_erasure()
        logout_user()
        session.clear()
        flash(
            "Je account en je gegevens zijn verwijderd. Je certificaten blijven controleerbaar (naam, module, datum).",
            "info",
        )
        return redirect(url_for("lessons.index"))
    return render_template("auth/my_data.html", form=form), 400


# --- password reset by mail ----------------------------------------------------------------------

# A page with a token in its address: not cached, and the address is not passed on to other sites.
_TOKEN_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

EXPIRED_RESET = "Deze link om een nieuw wachtwoord in te stellen is verlopen: een link werkt een uur."
INVALID_RESET = (
    "Deze link om een nieuw wachtwoord in te stellen is ongeldig of al gebruikt. Een link werkt één keer, "
    "en alleen de nieuwste link die je hebt aangevraagd."
)


def _reset_link_problem(status: int, message: str):
    page = render_template(
        "auth/link_problem.html",
        title="Link verlopen" if status == 410 else "Link werkt niet",
        message=message,
        retry_url=url_for("auth.forgot_password"),
        retry_text="Vraag een nieuwe link aan",
    )
    return page, status, _TOKEN_PAGE_HEADERS


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        config = current_app.config
        if not allow("reset", request.remote_addr, config["RESET_RATE_LIMIT"], config["RESET_RATE_WINDOW_SECONDS"]):
            security_log.event("wachtwoordherstel_geweigerd", reden="te_veel_vanaf_client")
            return render_error(
                429, "Te veel aanvragen vanaf dit adres. Wacht een kwartier en probeer het dan opnieuw."
            )
        email = accounts.normalize_email(form.email.data)
        if provider := _organisation_only(email):
            return _organisation_only_page(provider)
        pseudonym = security_log.address_pseudonym(email)
        if allow(
            "reset-address", email, config["RESET_ADDRESS_RATE_LIMIT"], config["RESET_ADDRESS_RATE_WINDOW_SECONDS"]
        ):
            # The same answer, the same work and one mail whether or not the address has an account.
            password_reset.request_reset(email, utcnow())
            db.session.commit()
            security_log.event("wachtwoordherstel_aangevraagd", level=logging.INFO, address=pseudonym)
        else:
            # Counted per address whether or not it has an account: the same answer, no further mail.
            security_log.event("wachtwoordherstel_geweigerd", reden="te_veel_voor_adres", address=pseudonym)
        return render_template("auth/forgot_password_sent.html", email=email)
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/wachtwoord-herstellen/<token>")
def reset_password_link(token: str):
    """The link from the reset mail: a form for the new password (opening the link changes nothing)."""
    try:
        password_reset.account_for_token(token, utcnow())
    except TokenExpired:
        return _reset_link_problem(410, EXPIRED_RESET)
    except TokenInvalid:
        return _reset_link_problem(404, INVALID_RESET)
    return render_template("auth/reset_password.html", form=ResetPasswordForm(token=token)), _TOKEN_PAGE_HEADERS


@bp.post("/wachtwoord-herstellen")
def reset_password():
    form = ResetPasswordForm()
    valid = form.validate_on_submit()
    token = form.token.data
    if form.token.errors or not isinstance(token, str) or not token:
        return _reset_link_problem(404, INVALID_RESET)
    now = utcnow()
    try:
        user = password_reset.account_for_token(token, now)
    except TokenExpired:
        return _reset_link_problem(410, EXPIRED_RESET)
    except TokenInvalid:
        return _reset_link_problem(404, INVALID_RESET)
    # The same rules as everywhere a password is chosen (course/auth/passwords.py).
    if valid and (message := passwords.problem(form.new_password.data, [user.display_name, user.email])):
        form.new_password.errors.append(message)
        valid = False
    if not valid:
        return render_template("auth/reset_password.html", form=form), 400, _TOKEN_PAGE_HEADERS
    password_reset.reset_password(token, form.new_password.data, now)
    db.session.commit()
    # Every session ended, this browser's too; nobody is signed in by the link (docs/decisions.md).
    logout_user()
    session.clear()
    flash(
        "Je nieuwe wachtwoord is ingesteld en je bent overal uitgelogd. Log in met je nieuwe wachtwoord.",
        "success",
    )
    return redirect(url_for("auth.login"))


# --- address verification -------------------------------------------------------------------------

EXPIRED_VERIFICATION = "Deze bevestigingslink is verlopen."
INVALID_VERIFICATION = (
    "Deze bevestigingslink is ongeldig of al gebruikt. Alleen de nieuwste link die je hebt gekregen werkt."
)


def _verification_problem(status: int, message: str):
    page = render_template(
        "auth/link_problem.html",
        title="Link verlopen" if status == 410 else "Link werkt niet",
        message=message,
        retry_url=url_for("lessons.index") if current_user.is_authenticated else url_for("auth.login"),
        retry_text="Vraag op je overzicht een nieuwe link aan"
        if current_user.is_authenticated
        else "Log in en vraag op je overzicht een nieuwe link aan",
    )
    return page, status, _TOKEN_PAGE_HEADERS


@bp.get("/e-mailadres/bevestigen/<token>")
def verify_email_link(token: str):
    """The link from a verification mail: a button to confirm (a mail scanner opening it changes nothing)."""
    try:
        verification.link_for_token(token, utcnow())
    except TokenExpired:
        return _verification_problem(410, EXPIRED_VERIFICATION)
    except TokenInvalid:
        return _verification_problem(404, INVALID_VERIFICATION)
    return render_template("auth/verify_email.html", form=VerifyEmailForm(token=token)), _TOKEN_PAGE_HEADERS


@bp.post("/e-mailadres/bevestigen")
def verify_email():
    form = VerifyEmailForm()
    if not form.validate_on_submit():
        return _verification_problem(404, INVALID_VERIFICATION)
    try:
        user = verification.confirm(form.token.data, utcnow())
    except TokenExpired:
        return _verification_problem(410, EXPIRED_VERIFICATION)
    except TokenInvalid:
        return _verification_problem(404, INVALID_VERIFICATION)
    except accounts.EmailInUse:
        db.session.commit()  # the link is used up
        return render_error(
            400, "Dit e-mailadres hoort inmiddels bij een ander account. Het adres van je account is niet gewijzigd."
        )
    db.session.commit()
    if current_user.is_authenticated and current_user.id == user.id:
        flash("Je e-mailadres is bevestigd.", "success")
        return redirect(url_for("lessons.index"))
    return render_template("auth/email_verified.html")


def _allow_email_link(user) -> bool:
    """Mails with a verification link that one account may ask for (counted across workers)."""
    config = current_app.config
    return allow(
        "email-link", f"account:{user.id}", config["EMAIL_LINK_RATE_LIMIT"], config["EMAIL_LINK_RATE_WINDOW_SECONDS"]
    )


_TOO_MANY_LINKS = "Je hebt al een paar links aangevraagd. Wacht een kwartier en probeer het dan opnieuw."


@bp.post("/account/e-mailadres/nieuwe-link")
@login_required
def resend_verification():
    user = current_user._get_current_object()
    if not ResendVerificationForm().validate_on_submit():
        abort(400)
    if user.email_verified:
        flash("Je e-mailadres is al bevestigd.", "info")
        return redirect(url_for("lessons.index"))
    if not _allow_email_link(user):
        return render_error(429, _TOO_MANY_LINKS)
    verification.send_link(user, utcnow())
    db.session.commit()
    flash(
        f"We hebben een nieuwe bevestigingslink gestuurd naar {user.email}. "
        f"De link werkt {current_app.config['EMAIL_VERIFICATION_HOURS']} uur.",
        "success",
    )
    return redirect(url_for("lessons.index"))


@bp.route("/account/e-mailadres", methods=["GET", "POST"])
@login_required
def change_email():
    user = current_user._get_current_object()
    form = EmailChangeForm()
    if form.validate_on_submit():
        new_email = accounts.normalize_email(form.new_email.data)
        if throttle.is_throttled(user.email, request.remote_addr):
            return render_error(429, "Te veel mislukte pogingen. Wacht een kwartier en probeer het dan opnieuw.")
        if not user.check_password(form.password.data):
            # A wrong password counts as a failed sign-in (throttle), as for every security change.
            throttle.record_failure(user.email, request.remote_addr)
            db.session.commit()
            form.password.errors.append("Dit wachtwoord klopt niet.")
        elif new_email == user.email:
            form.new_email.errors.append("Dit is al het e-mailadres van je account.")
        elif not _allow_email_link(user):
            return render_error(429, _TOO_MANY_LINKS)
        else:
            # The same answer whether or not the new address already has an account.
            verification.request_change(user, new_email, utcnow())
            db.session.commit()
            return render_template("auth/change_email_sent.html", email=new_email)
    page = render_template(
        "auth/change_email.html",
        form=form,
        pending=verification.pending_address(user, utcnow()),
        resend_form=ResendVerificationForm(),
    )
    return page, 400 if form.errors else 200
