"""Sign-in with an organisation (OpenID Connect): the login button, the provider's callback, linking an
existing account, and the admin pages for providers and password-free domains."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from course import audit, security_log
from course.auth import throttle
from course.auth.access import role_required
from course.auth.views import complete_sign_in
from course.errors import render_error
from course.extensions import db
from course.models import OidcProvider, PasswordlessDomain, Role, User
from course.sso import linking, providers
from course.sso.client import SignInRefused, finish, start
from course.sso.forms import ConfirmForm, DomainForm, LinkPasswordForm, ProviderForm
from course.timeutil import utcnow

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)

# What the callback does with the identity: sign in (or create), or link to the signed-in account.
_MODE_KEY = "oidc_mode"
# An identity waiting for the password of the existing account with its address (at most this long).
_PENDING_KEY = "oidc_pending_link"
_PENDING_SECONDS = 10 * 60

UNKNOWN_PROVIDER = "Deze organisatie is hier niet (meer) ingesteld om mee in te loggen."


def _provider_or_404(slug: str) -> OidcProvider:
    provider = providers.by_slug(slug)
    if provider is None or not provider.enabled:
        abort(404)
    return provider


def _redirect_uri(provider: OidcProvider) -> str:
    return url_for("sso.callback", slug=provider.slug, _external=True)


def _refuse(provider: OidcProvider, reason: str, message: str, status: int = 400):
    """A clear page and an audit entry; nothing else of this request is kept."""
    db.session.rollback()
    actor = current_user.id if current_user.is_authenticated else None
    audit.record(actor, "oidc.refused", "oidc_provider", provider.id, reason=reason[:80])
    db.session.commit()
    security_log.event("oidc_geweigerd", provider=provider.slug, reden=reason)
    return render_error(status, message)


def _status(refused: SignInRefused) -> int:
    return 503 if refused.reason == "provider_onbereikbaar" else 400


@bp.get("/inloggen/organisatie/<slug>")
def login(slug: str):
    if current_user.is_authenticated:
        return redirect(url_for("lessons.index"))
    provider = _provider_or_404(slug)
    session[_MODE_KEY] = "login"
    try:
        return start(provider, _redirect_uri(provider))
    except SignInRefused as refused:
        return _refuse(provider, refused.reason, refused.message, _status(refused))


@bp.get("/account/organisatie/<slug>/koppelen")
@login_required
def link(slug: str):
    provider = _provider_or_404(slug)
    session[_MODE_KEY] = "link"
    try:
        return start(provider, _redirect_uri(provider))
    except SignInRefused as refused:
        return _refuse(provider, refused.reason, refused.message, _status(refused))


@bp.get("/inloggen/organisatie/<slug>/terug")
def callback(slug: str):
    provider = _provider_or_404(slug)
    mode = session.pop(_MODE_KEY, None)
    try:
        identity = finish(provider)
    except SignInRefused as refused:
        return _refuse(provider, refused.reason, refused.message, _status(refused))
    now = utcnow()
    if mode == "link" and current_user.is_authenticated:
        user = current_user._get_current_object()
        try:
            linking.link_existing(user, provider, identity, now)
        except linking.LinkedElsewhere:
            return _refuse(
                provider,
                "al_gekoppeld_aan_ander_account",
                "Dit organisatie-account is al gekoppeld aan een ander account hier. Er is niets gewijzigd.",
                409,
            )
        db.session.commit()
        flash(f"Je account is gekoppeld aan je account bij {provider.name}.", "success")
        return redirect(url_for("auth.profile"))
    if current_user.is_authenticated:
        return _refuse(
            provider, "al_ingelogd", "Je bent al ingelogd. Log eerst uit om met een ander account in te loggen."
        )
    try:
        user, created = linking.sign_in(provider, identity, now)
    except linking.CannotCreate as error:
        return _refuse(
            provider,
            f"claims_onbruikbaar:{error}",
            "Je organisatie gaf geen bruikbaar e-mailadres of naam door; er is geen account aangemaakt. "
            "Neem contact op met je beheerder.",
        )
    except linking.NeedsPassword as needs:
        db.session.rollback()
        # Held in the signed session cookie only: nothing is linked before the password is proven.
        session[_PENDING_KEY] = {
            "provider_id": provider.id,
            "issuer": identity.issuer,
            "subject": identity.subject,
            "claims": {k: v for k, v in identity.claims.items() if k in {"email", "email_verified", "name"}}
            | ({provider.role_claim: identity.claims.get(provider.role_claim)} if provider.role_claim else {}),
            "user_id": needs.user.id,
            "at": now.timestamp(),
        }
        return redirect(url_for("sso.link_with_password"))
    if not user.is_active:
        return _refuse(
            provider, "account_gedeactiveerd", "Dit account is gedeactiveerd. Neem contact op met je beheerder.", 403
        )
    db.session.commit()
    log.info("Account %s ingelogd via organisatie %s", user.id, provider.id)
    response = complete_sign_in(user, url_for("lessons.index"))  # starts a fresh session: flash after it
    if created:
        flash(f"Welkom! Je account is aangemaakt met je gegevens van {provider.name}.", "success")
    return response


def _pending() -> tuple[dict, OidcProvider, User] | None:
    pending = session.get(_PENDING_KEY)
    if not isinstance(pending, dict) or utcnow().timestamp() - float(pending.get("at", 0)) > _PENDING_SECONDS:
        return None
    provider = db.session.get(OidcProvider, pending.get("provider_id"))
    user = db.session.get(User, pending.get("user_id"))
    if provider is None or not provider.enabled or user is None or not user.is_active:
        return None
    return pending, provider, user


@bp.route("/inloggen/organisatie/koppelen", methods=["GET", "POST"])
def link_with_password():
    """First sign-in of an identity whose address already has an account: prove that account's password."""
    found = _pending()
    if found is None:
        session.pop(_PENDING_KEY, None)
        return render_error(
            400, "Er wacht geen koppeling (meer). Start het inloggen met je organisatie opnieuw vanaf de inlogpagina."
        )
    pending, provider, user = found
    form = LinkPasswordForm()
    if form.validate_on_submit():
        if throttle.is_throttled(user.email, request.remote_addr):
            return render_error(429, "Te veel mislukte pogingen. Wacht een kwartier en probeer het dan opnieuw.")
        if not user.check_password(form.password.data):
            throttle.record_failure(user.email, request.remote_addr)
            audit.record(None, "oidc.link_password_wrong", "user", user.id, provider_id=provider.id)
            db.session.commit()
            form.password.errors.append("Dit wachtwoord klopt niet.")
        else:
            identity = linking.Identity(issuer=pending["issuer"], subject=pending["subject"], claims=pending["claims"])
            try:
                linking.link_existing(user, provider, identity, utcnow())
            except linking.LinkedElsewhere:
                session.pop(_PENDING_KEY, None)
                return _refuse(
                    provider,
                    "al_gekoppeld_aan_ander_account",
                    "Dit organisatie-account is al gekoppeld aan een ander account hier. Er is niets gewijzigd.",
                    409,
                )
            throttle.clear_failures(user.email)
            db.session.commit()
            session.pop(_PENDING_KEY, None)
            response = complete_sign_in(user, url_for("lessons.index"))
            flash(f"Je account is gekoppeld aan je account bij {provider.name}.", "success")
            return response
    page = render_template("sso/link_password.html", form=form, provider=provider)
    return page, 400 if form.errors else 200


# --- admin ----------------------------------------------------------------------------------------


@bp.get("/beheer/organisaties")
@role_required(Role.ADMIN)
def admin_index():
    return render_template(
        "sso/admin_index.html",
        providers=db.session.scalars(db.select(OidcProvider).order_by(OidcProvider.name)).all(),
        domains=providers.domains(),
        confirm_form=ConfirmForm(),
    )


def _save(provider: OidcProvider | None, form: ProviderForm) -> OidcProvider | None:
    try:
        saved = providers.save_provider(
            provider,
            current_user,
            slug=form.slug.data,
            name=form.name.data,
            discovery_url=form.discovery_url.data,
            client_id=form.client_id.data,
            client_secret=form.client_secret.data or "",
            role_claim=form.role_claim.data or "",
            trainer_values=form.trainer_values.data or "",
            admin_values=form.admin_values.data or "",
            enabled=form.enabled.data,
        )
    except providers.SlugInUse:
        db.session.rollback()
        form.slug.errors.append("Deze korte naam is al in gebruik.")
        return None
    db.session.commit()
    return saved


@bp.route("/beheer/organisaties/nieuw", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_new():
    form = ProviderForm()
    if form.validate_on_submit() and (saved := _save(None, form)):
        flash("De organisatie is toegevoegd.", "success")
        return redirect(url_for("sso.admin_provider", provider_id=saved.id))
    page = render_template("sso/admin_provider.html", form=form, provider=None, domain_form=None)
    return page, 400 if form.errors else 200


@bp.route("/beheer/organisaties/<int:provider_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_provider(provider_id: int):
    provider = db.session.get(OidcProvider, provider_id) or abort(404)
    form = ProviderForm(obj=provider if request.method == "GET" else None)
    if request.method == "GET":
        form.client_secret.data = ""
    if form.validate_on_submit() and _save(provider, form):
        flash("De instellingen zijn opgeslagen.", "success")
        return redirect(url_for("sso.admin_provider", provider_id=provider.id))
    page = render_template(
        "sso/admin_provider.html",
        form=form,
        provider=provider,
        redirect_uri=_redirect_uri(provider),
        env_secret=providers.env_secret_name(provider.slug),
        has_secret=providers.client_secret(provider) is not None,
        domain_form=DomainForm(),
        domains=[d for d in providers.domains() if d.provider_id == provider.id],
        confirm_form=ConfirmForm(),
    )
    return page, 400 if form.errors else 200


@bp.post("/beheer/organisaties/<int:provider_id>/verwijderen")
@role_required(Role.ADMIN)
def admin_delete(provider_id: int):
    provider = db.session.get(OidcProvider, provider_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    providers.delete_provider(provider, current_user)
    db.session.commit()
    flash("De organisatie is verwijderd. Gekoppelde accounts blijven bestaan.", "success")
    return redirect(url_for("sso.admin_index"))


@bp.post("/beheer/organisaties/<int:provider_id>/domeinen")
@role_required(Role.ADMIN)
def admin_add_domain(provider_id: int):
    provider = db.session.get(OidcProvider, provider_id) or abort(404)
    form = DomainForm()
    if not form.validate_on_submit():
        return render_error(400, " ".join(form.domain.errors) or None)
    try:
        providers.add_domain(provider, form.domain.data, current_user)
    except providers.DomainInUse:
        db.session.rollback()
        return render_error(400, "Voor dit domein zijn wachtwoorden al uitgezet. Er is niets gewijzigd.")
    db.session.commit()
    flash(f"Adressen op {form.domain.data} loggen nu alleen in via {provider.name}.", "success")
    return redirect(url_for("sso.admin_provider", provider_id=provider.id))


@bp.post("/beheer/organisaties/domeinen/<int:domain_id>/verwijderen")
@role_required(Role.ADMIN)
def admin_remove_domain(domain_id: int):
    row = db.session.get(PasswordlessDomain, domain_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    provider_id = row.provider_id
    providers.remove_domain(row, current_user)
    db.session.commit()
    flash("Adressen op dit domein kunnen weer met een wachtwoord inloggen.", "success")
    return redirect(url_for("sso.admin_provider", provider_id=provider_id))
