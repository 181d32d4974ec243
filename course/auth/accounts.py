"""Account state changes. Views commit; these functions change objects and flush."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from course import names
from course.auth import sessions
from course.extensions import db
from course.models import Role, User

log = logging.getLogger(__name__)


class EmailInUse(Exception):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(
    email: str, display_name: str, password: str, role: Role = Role.LEARNER, verified_at: datetime | None = None
) -> User:
    """Raises EmailInUse, or names.InvalidName for a name that may not be printed (forms check first).
    `verified_at`: when a mailed link already proved the address (registration, invitation)."""
    if find_user_by_email(email) is not None:
        raise EmailInUse(email)
    user = User(
        email=normalize_email(email), display_name=names.clean(display_name), role=role, email_verified_at=verified_at
    )
    user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    log.info("Account %s aangemaakt met rol %s", user.id, role.value)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Same work whether or not the e-mail exists."""
    user = find_user_by_email(email)
    if user is None:
        # Hash anyway so response time does not reveal which addresses have an account.
        User(password_hash=_dummy_hash()).check_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    upgrade_hash(user, password)
    return user


def upgrade_hash(user: User, password: str) -> None:
    """After a successful sign-in: re-hash with the configured method when the stored hash used another
    (older parameters, fewer iterations). Sessions stay: nothing about access changed."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if hash_method(user.password_hash) == hash_method(_dummy_hash()):
        return
    user.password_hash = generate_password_hash(password, method=method)
    log.info("Wachtwoord-hash van account %s bijgewerkt naar %s", user.id, method)


def hash_method(password_hash: str) -> str:
    """The method with its parameters, as werkzeug writes it: 'scrypt:32768:8:1', 'pbkdf2:sha256:1000'."""
    return password_hash.split("$", 1)[0]


def change_password(user: User, new_password: str, keep_session: str | None = None) -> int:
    """New hash; every session of the user ends except `keep_session` (the one that changed it).
    Returns how many sessions ended."""
    user.set_password(new_password, method=current_app.config["PASSWORD_HASH_METHOD"])
    user.must_change_password = False
    ended = sessions.end_all(user, keep_token=keep_session)
    log.info("Wachtwoord gewijzigd voor account %s; %s andere sessie(s) beëindigd", user.id, ended)
    return ended


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("hechtwijzer_dummy_hash", {})
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in cache:
        # Also the reference for upgrade_hash: werkzeug fills in the default parameters ("scrypt").
        cache[method] = generate_password_hash("dummy-password-for-timing", method=method)
    return cache[method]


def update_profile(user: User, display_name: str, register_name: str, register_number: str, now) -> None:
    """Name and, with consent, the professional register. No register clears number and consent."""
    user.display_name = names.clean(display_name)
    number = register_number.replace(" ", "")
    if register_name and number:
        if (user.register_name, user.register_number) != (register_name, number) or user.register_consent_at is None:
            user.register_consent_at = now
        user.register_name, user.register_number = register_name, number
    else:
        user.register_name = user.register_number = user.register_consent_at = None
    log.info("Profiel bijgewerkt voor account %s", user.id)
