"""LTI 1.3 endpoints (/lti/...) and the admin pages for platforms (/beheer/lti).

The platform reaches /lti/login, /lti/launch without our session or CSRF token: those are protected
by the signed id_token with its single-use nonce and the state cookie. The two forms a launch page
shows (continue in a new window, link an existing account) carry a single-use random token kept in
the database instead of a CSRF token: inside the LMS's iframe our session cookie is not sent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException

from course import audit
from course.auth import accounts, sessions, throttle, two_factor
from course.auth.access import role_required
from course.catalog.access import get_catalog
from course.errors import render_error
from course.extensions import csrf, db
from course.lti import deep_linking, keys, launch, platforms, roster, scores
from course.lti.forms import PlatformForm, RemovePlatformForm
from course.lti.tool import DatabaseLaunchStorage, DatabaseToolConf, find_platform
from course.models import (
    Group,
    GroupMember,
    LtiGradeLink,
    LtiLaunchValue,
    LtiPlatform,
    LtiScoreReport,
    OutboxMessage,
    Role,
    User,
)
from course.outbox import public_url
from course.security import CONTENT_SECURITY_POLICY
from course.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")
admin_bp = Blueprint("lti_admin", __name__, url_prefix="/beheer/lti")

HANDOFF_SECONDS = 5 * 60

REFUSALS = {
    "state": (400, "Deze lancering hoort niet bij deze browsersessie (de status klopt niet of een cookie ontbreekt)."),
    "nonce": (400, "Deze lancering is al gebruikt of verlopen: elke lancering werkt maar één keer."),
    "registration": (403, "Dit platform is niet bij Hechtwijzer geregistreerd. Vraag de beheerder het te registreren."),
    "audience": (403, "Deze lancering is niet voor Hechtwijzer bedoeld (de client-ID klopt niet)."),
    "signature": (400, "De handtekening van deze lancering klopt niet."),
    "expired": (400, "Deze lancering is verlopen."),
    "deployment": (
        403,
        "Deze plaatsing (deployment-ID) van Hechtwijzer is niet geregistreerd. Vraag de beheerder dat te doen.",
    ),
    "role": (403, "Je rol in de leeromgeving geeft geen toegang tot Hechtwijzer: alleen cursisten en docenten."),
    "placement": (403, "Alleen docenten kunnen Hechtwijzer in een cursus plaatsen."),
    "email": (
        400,
        "De leeromgeving gaf geen e-mailadres mee. Vraag de beheerder van de leeromgeving naam en e-mailadres te delen.",
    ),
    "name": (400, "De naam die de leeromgeving meegaf kan niet worden gebruikt."),
    "subject": (400, "De leeromgeving gaf geen geldige gebruikers-ID mee."),
    "inactive": (403, "Je account bij Hechtwijzer is gedeactiveerd."),
    "two_factor": (
        403,
        "Accounts met tweestapsverificatie loggen niet via een leeromgeving in: log rechtstreeks in bij Hechtwijzer.",
    ),
    "resource": (404, "De gekozen les of toets bestaat niet (meer) in Hechtwijzer."),
    "message": (400, "Deze lancering is onvolledig of van een soort die Hechtwijzer niet ondersteunt."),
    "no_key": (
        503,
        "Hechtwijzer heeft nog geen LTI-sleutel. De beheerder maakt die met `flask course lti-keys rotate`.",
    ),
    "link_expired": (410, "Deze stap is verlopen of al gebruikt. Start de activiteit opnieuw vanuit je leeromgeving."),
}


def _reason(error: Exception, claims_issuer: str | None) -> str:
    text = str(error)
    if isinstance(error, keys.NoToolKey):
        return "no_key"
    if "nonce" in text.lower():
        return "nonce"
    if "State" in text or "state" in text or "Missing cookie" in text:
        return "state"
    if "expired" in text:
        return "expired"
    if "Registration not found" in text or "Client id not registered" in text or "registration" in text:
        # A known issuer with an unknown client id: the token was meant for another tool.
        known = claims_issuer and db.session.scalar(
            sa.select(LtiPlatform.id).where(LtiPlatform.issuer == claims_issuer)
        )
        return "audience" if known else "registration"
    if "deployment" in text.lower():
        return "deployment"
    if "decode id_token" in text or "public key" in text or "KID" in text or "ALG" in text:
        return "signature"
    return "message"


def refuse(reason: str, platform_id: int | None = None) -> Response:
    """A clear page, an audit entry, and nothing else kept from this request."""
    db.session.rollback()
    audit.record(None, "lti_launch_refused", "lti_platform", platform_id, reason=reason)
    db.session.commit()
    log.warning("LTI-lancering geweigerd: %s", reason)
    status, message = REFUSALS[reason]
    return framable(make_response(render_error(status, message)))


def framable(response: Response) -> Response:
    """Pages a launch shows may sit in the registered platforms' iframes, and only in theirs."""
    ancestors = " ".join(["'self'", *platforms.frame_origins()])
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}"
    )
    return response


@bp.get("/jwks")
def jwks():
    """The tool's public keys (current and recently replaced): platforms check our signatures with them."""
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party initiated login: check the platform, then send the browser to its auth endpoint."""
    try:
        oidc = FlaskOIDCLogin(FlaskRequest(), DatabaseToolConf(), launch_data_storage=DatabaseLaunchStorage())
        response = oidc.redirect(public_url("lti.launch_view"))
    except (OIDCException, LtiException, keys.NoToolKey) as error:
        return refuse("no_key" if isinstance(error, keys.NoToolKey) else "registration")
    db.session.commit()
    return framable(response)


@bp.post("/launch")
@csrf.exempt
def launch_view():
    message = FlaskMessageLaunch(FlaskRequest(), DatabaseToolConf(), launch_data_storage=None)
    issuer = None
    try:
        message.set_launch_data_storage(DatabaseLaunchStorage())
        # pylti1p3 skips `aud` (PyJWT would need it up front); launch.check_audience does it below.
        message.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat"]})
        claims = dict(message.get_launch_data())
    except (LtiException, OIDCException, keys.NoToolKey, AssertionError, AttributeError, TypeError) as error:
        # AttributeError, TypeError: a hostile token whose body decodes to JSON but not to an object.
        body = getattr(message, "_jwt", {}).get("body") or {}
        issuer = body.get("iss") if isinstance(body, dict) else None
        return refuse(_reason(error, issuer), _platform_id(issuer, body))
    platform = find_platform(claims["iss"], message.get_client_id())
    try:
        launch.check_audience(claims, platform.client_id)
        role = launch.role_for(claims)
        if message.is_deep_link_launch():
            if role is not Role.TRAINER:
                raise launch.LaunchRefused("placement")
            return _deep_link_picker(claims, platform)
        target = launch.destination(claims)
        try:
            user = launch.account_for(claims, role)
        except launch.EmailBelongsToLocalAccount:
            return _ask_to_link(claims, role, target, platform)
        if user.two_factor_enabled or two_factor.required_for(user):
            raise launch.LaunchRefused("two_factor")
    except launch.LaunchRefused as refused:
        return refuse(refused.reason, platform.id)
    scores.remember_grade_link(user.id, platform, get_catalog().module.id, target.resource, claims)
    roster.on_launch(user, role, platform, claims)
    audit.record(user.id, "lti_launch", "user", user.id, platform_id=platform.id)
    if launch.wants_iframe(claims):
        token = _store_handoff({"user_id": user.id, "endpoint": target.endpoint, "values": target.values})
        db.session.commit()
        return framable(make_response(render_template("lti/continue.html", token=token)))
    db.session.commit()
    _start_session(user)
    return redirect(url_for(target.endpoint, **target.values))


DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def _deep_link_picker(claims: dict, platform: LtiPlatform) -> Response:
    """A teacher placing Hechtwijzer in the LMS: choose what. Nothing is created here."""
    settings = claims.get(DEEP_LINKING) or {}
    if not settings.get("deep_link_return_url"):
        raise launch.LaunchRefused("message")
    token = _store_handoff(
        {"platform_id": platform.id, "deployment_id": claims[DEPLOYMENT], "settings": settings}, kind="deeplink"
    )
    audit.record(None, "lti_deep_link_started", "lti_platform", platform.id)
    db.session.commit()
    page = render_template("lti/deep_link.html", token=token, choices=deep_linking.choices(get_catalog()))
    return framable(make_response(page))


@bp.post("/deep-link")
@csrf.exempt
def deep_link():
    """The teacher's choice: answer the platform with a signed deep-linking response (once per launch)."""
    value = _take("deeplink", request.form.get("token", ""))
    if value is None:
        return refuse("link_expired")
    platform = db.session.get(LtiPlatform, value["platform_id"])
    chosen = next((c for c in deep_linking.choices(get_catalog()) if c.resource == request.form.get("resource")), None)
    if platform is None or chosen is None:
        return refuse("resource", value["platform_id"])
    try:
        jwt = deep_linking.response_jwt(
            platform, value["deployment_id"], value["settings"], chosen, public_url("lti.launch_view")
        )
    except keys.NoToolKey:
        return refuse("no_key", platform.id)
    audit.record(None, "lti_deep_link_answered", "lti_platform", platform.id, resource=chosen.resource)
    db.session.commit()
    return_url = value["settings"]["deep_link_return_url"]
    response = framable(make_response(render_template("lti/deep_link_return.html", jwt=jwt, return_url=return_url)))
    # The answer is a form the browser posts to the platform: allow that one destination.
    parts = urlsplit(return_url)
    response.headers["Content-Security-Policy"] = response.headers["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
    )
    return response


def _platform_id(issuer: str | None, body: dict) -> int | None:
    aud = body.get("aud") if isinstance(body, dict) else None
    client_id = aud[0] if isinstance(aud, list) and aud else aud
    platform = find_platform(issuer, client_id) if isinstance(issuer, str) and isinstance(client_id, str) else None
    return platform.id if platform else None


def _start_session(user: User) -> None:
    # As a password sign-in: a fresh session, nothing from before survives it (fixation).
    session.clear()
    session.permanent = True
    sessions.start(user, request.user_agent.string)
    db.session.commit()
    login_user(user)
    log.info("Account %s ingelogd via LTI", user.id)


def _key(kind: str, token: str) -> str:
    return f"lti1p3-{kind}-" + hashlib.sha256(token.encode()).hexdigest()


def _store_handoff(value: dict, kind: str = "handoff") -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        LtiLaunchValue(key=_key(kind, token), value=value, expires_at=utcnow() + timedelta(seconds=HANDOFF_SECONDS))
    )
    return token


def _take(kind: str, token: str, consume: bool = True) -> dict | None:
    """The value stored under this single-use token, or None (unknown, used or expired)."""
    if not token or len(token) > 100:
        return None
    row = db.session.get(LtiLaunchValue, _key(kind, token))
    if row is None or as_utc(row.expires_at) <= utcnow():
        return None
    value = dict(row.value)
    if consume:
        deleted = db.session.execute(sa.delete(LtiLaunchValue).where(LtiLaunchValue.key == row.key))
        if deleted.rowcount != 1:  # another request took it first
            return None
    return value


@bp.post("/verder")
@csrf.exempt
def handoff():
    """The launch page's "open in a new window" button: signs in first-party, once, within 5 minutes."""
    value = _take("handoff", request.form.get("token", ""))
    if value is None:
        return refuse("link_expired")
    user = db.session.get(User, value["user_id"])
    if user is None or not user.is_active:
        return refuse("inactive")
    db.session.commit()
    _start_session(user)
    return redirect(url_for(value["endpoint"], **value["values"]))


LINK_CLAIMS = (scores.AGS, scores.RESOURCE_LINK, roster.CONTEXT, roster.NRPS)


def _ask_to_link(claims: dict, role: Role, target: launch.Destination, platform: LtiPlatform) -> Response:
    """Someone's platform address already has an account here: they link it by giving its password."""
    db.session.rollback()
    value = {
        "issuer": claims["iss"],
        "subject": str(claims["sub"]),
        "email": accounts.normalize_email(claims["email"]),
        "role": role.value,
        "resource": target.resource,
        "endpoint": target.endpoint,
        "values": target.values,
        "platform_id": platform.id,
        # What the launch would have recorded (grade link, course): recorded once the account is linked.
        "claims": {key: claims[key] for key in (*LINK_CLAIMS, "iss", "sub") if key in claims},
    }
    token = _store_handoff(value, kind="link")
    audit.record(None, "lti_link_offered", "lti_platform", platform.id)
    db.session.commit()
    page = render_template("lti/link.html", token=token, iframe=launch.wants_iframe(claims), error=None)
    return framable(make_response(page, 409))


@bp.post("/koppelen")
@csrf.exempt
def link_account():
    """Proof that the local account is theirs (its password) links it to the platform identity."""
    token = request.form.get("token", "")
    value = _take("link", token, consume=False)
    if value is None:
        return refuse("link_expired")
    email = value["email"]
    if throttle.is_throttled(email, request.remote_addr):
        return framable(make_response(render_error(429, "Te veel mislukte pogingen. Wacht een kwartier.")))
    user = accounts.authenticate(email, request.form.get("password", ""))
    if user is None:
        db.session.rollback()
        throttle.record_failure(email, request.remote_addr)
        db.session.commit()
        page = render_template("lti/link.html", token=token, iframe=False, error="Het wachtwoord klopt niet.")
        return framable(make_response(page, 400))
    if user.two_factor_enabled or two_factor.required_for(user):
        return refuse("two_factor", value["platform_id"])
    if _take("link", token) is None or launch.find_identity(value["issuer"], value["subject"]) is not None:
        return refuse("link_expired")
    launch.link(user, value["issuer"], value["subject"])
    role = Role(value["role"])
    launch.raise_role(user, role)
    platform = db.session.get(LtiPlatform, value["platform_id"])
    if platform is not None:
        scores.remember_grade_link(user.id, platform, get_catalog().module.id, value["resource"], value["claims"])
        roster.on_launch(user, role, platform, value["claims"])
    throttle.clear_failures(email)
    db.session.commit()
    _start_session(user)
    return redirect(url_for(value["endpoint"], **value["values"]))


SCORE_STATUSES = {"pending": "in wachtrij", "sending": "wordt verstuurd", "sent": "verstuurd", "failed": "mislukt"}


@bp.get("/scores")
@role_required(Role.TRAINER, Role.ADMIN)
def score_reports():
    """Per learner: which scores went to the LMS, which wait, which failed."""
    statement = (
        sa.select(LtiScoreReport, LtiGradeLink, User, OutboxMessage)
        .join(LtiGradeLink, LtiGradeLink.id == LtiScoreReport.grade_link_id)
        .join(User, User.id == LtiGradeLink.user_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == LtiScoreReport.outbox_id)
        .order_by(LtiScoreReport.id.desc())
        .limit(500)
    )
    if current_user.role is not Role.ADMIN:  # a trainer sees the learners of the groups they lead
        led = sa.select(GroupMember.user_id).join(Group, Group.id == GroupMember.group_id)
        statement = statement.where(User.id.in_(led.where(Group.trainer_id == current_user.id)))
    rows = db.session.execute(statement).all()
    return render_template("lti/scores.html", rows=rows, statuses=SCORE_STATUSES)


# --- admin pages -----------------------------------------------------------------------------------


def tool_urls() -> dict[str, str]:
    """What a platform admin copies into the LMS."""
    return {
        "login": public_url("lti.login"),
        "launch": public_url("lti.launch_view"),
        "jwks": public_url("lti.jwks"),
        "deep_link": public_url("lti.launch_view"),  # one launch URL: the message type tells them apart
    }


@admin_bp.route("/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def index():
    form = PlatformForm()
    if form.validate_on_submit():
        try:
            platform = platforms.register(form.details(), current_user.id)
        except platforms.InvalidRegistration as error:
            db.session.rollback()
            form.issuer.errors = [*form.issuer.errors, str(error)]
        else:
            db.session.commit()
            flash("Het platform is geregistreerd.", "success")
            return redirect(url_for("lti_admin.platform", platform_id=platform.id))
    rows = db.session.scalars(sa.select(LtiPlatform).order_by(LtiPlatform.name)).all()
    try:
        kid = keys.current().kid
    except keys.NoToolKey:
        kid = None
    status = 400 if form.is_submitted() else 200
    return render_template("lti/admin_index.html", form=form, platforms=rows, urls=tool_urls(), kid=kid), status


@admin_bp.route("/<int:platform_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def platform(platform_id: int):
    row = db.session.get(LtiPlatform, platform_id) or abort(404)
    form = RemovePlatformForm()
    if form.validate_on_submit():
        platforms.remove(row, current_user.id)
        db.session.commit()
        flash("Het platform is verwijderd; lanceringen ervan worden vanaf nu geweigerd.", "success")
        return redirect(url_for("lti_admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("lti/admin_platform.html", platform=row, form=form, urls=tool_urls()), status
