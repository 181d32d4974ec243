"""What a validated launch means here: which account, which role, which page. No protocol objects:
callers pass the id_token's claims (a dict) after pylti1p3 validated them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from pylti1p3.roles import StudentRole, TeacherRole

from course import audit
from course.auth import accounts, passwords
from course.catalog.access import get_catalog
from course.extensions import db
from course.models import ExternalIdentity, Role, User
from course.names import InvalidName
from course.timeutil import utcnow

SOURCE = "lti"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


class LaunchRefused(Exception):
    """A launch we do not accept; `reason` is a short code for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailBelongsToLocalAccount(Exception):
    """First launch of someone whose platform address already has an account here: linking needs proof."""


def role_for(claims: dict) -> Role:
    """Instructor → trainer, Learner → learner; any other role (mentor, observer, none) is refused."""
    if TeacherRole(claims).check():
        return Role.TRAINER
    if StudentRole(claims).check():
        return Role.LEARNER
    raise LaunchRefused("role")


def check_audience(claims: dict, client_id: str) -> None:
    """The token is for us: our client id in `aud`, and with several audiences `azp` names us."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise LaunchRefused("audience")


def find_identity(issuer: str, subject: str) -> ExternalIdentity | None:
    return db.session.scalar(
        sa.select(ExternalIdentity).where(
            ExternalIdentity.source == SOURCE, ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    )


def account_for(claims: dict, role: Role) -> User:
    """The account linked to (issuer, subject); created on the first launch with the platform's name
    and address. Never matched to an existing account by address: that raises EmailBelongsToLocalAccount."""
    issuer, subject = claims["iss"], str(claims.get("sub") or "")
    if not subject or len(subject) > 255:
        raise LaunchRefused("subject")
    identity = find_identity(issuer, subject)
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        if not user.is_active:
            raise LaunchRefused("inactive")
        identity.last_used_at = utcnow()
        raise_role(user, role)
        return user
    email, name = str(claims.get("email") or "").strip(), str(claims.get("name") or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise LaunchRefused("email")
    if accounts.find_user_by_email(email) is not None:
        raise EmailBelongsToLocalAccount
    try:
        # A password nobody knows: they sign in through the LMS, or set one with "wachtwoord vergeten".
        user = accounts.create_user(email, name or email.split("@")[0], passwords.generate(), role)
    except InvalidName as error:
        raise LaunchRefused("name") from error
    link(user, issuer, subject)
    audit.record(user.id, "lti_account_created", "user", user.id, issuer=issuer)
    return user


def link(user: User, issuer: str, subject: str) -> ExternalIdentity:
    identity = ExternalIdentity(user_id=user.id, source=SOURCE, issuer=issuer, subject=subject)
    db.session.add(identity)
    db.session.flush()
    audit.record(user.id, "lti_account_linked", "user", user.id, issuer=issuer)
    return identity


def raise_role(user: User, role: Role) -> None:
    # An Instructor in the LMS becomes a trainer here; nobody is ever lowered (or raised to admin) by a launch.
    if role is Role.TRAINER and user.role is Role.LEARNER:
        user.role = Role.TRAINER
        audit.record(None, "lti_role_raised", "user", user.id, role=Role.TRAINER.value)


@dataclass(frozen=True)
class Destination:
    resource: str  # "module", "lesson:<id>", "quiz:<id>"
    endpoint: str
    values: dict


def destination(claims: dict) -> Destination:
    """The launched resource: custom parameter `resource` = "module", "lesson:<id>" or "quiz:<id>"."""
    resource = str((claims.get(CUSTOM) or {}).get("resource") or "module")
    kind, _, item = resource.partition(":")
    catalog = get_catalog()
    if kind == "lesson" and catalog.lesson(item):
        return Destination(resource, "lessons.lesson", {"lesson_id": item})
    if kind == "quiz" and catalog.quiz(item):
        return Destination(resource, "quizzes.detail", {"quiz_id": item})
    if resource == "module":
        return Destination("module", "lessons.index", {})
    raise LaunchRefused("resource")


def wants_iframe(claims: dict) -> bool:
    return (claims.get(PRESENTATION) or {}).get("document_target", "iframe") in {"iframe", "frame"}
