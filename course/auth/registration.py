"""Registration by confirmed address: the same answer, the same work and one mail for every address.

A new address gets a pending registration and a mail with a confirmation link; the account is
created when the link is followed. An address that already has an account gets a mail telling its
owner that someone tried to register with it; the account does not change. Flush only; views commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from course import outbox
from course.auth.accounts import EmailInUse, create_user, find_user_by_email, normalize_email
from course.extensions import db
from course.models import PendingRegistration, Role, User
from course.timeutil import as_utc
from course.tokens import TokenExpired, TokenInvalid, new_token, token_hash

log = logging.getLogger(__name__)


def request_registration(email: str, display_name: str, password: str, now: datetime) -> None:
    """Both paths hash the password once and write one outbox row, so neither answer nor timing
    tells whether the address has an account."""
    email = normalize_email(email)
    password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.execute(sa.delete(PendingRegistration).where(PendingRegistration.expires_at < now))
    if find_user_by_email(email) is not None:
        outbox.enqueue_mail(
            email,
            "registration_existing",
            "registration.existing",
            login_url=outbox.public_url("auth.login"),
        )
        log.info("Registratie met een bestaand adres: eigenaar gemaild, niets gewijzigd")
        return
    token, hashed = new_token()
    hours = current_app.config["REGISTRATION_TOKEN_HOURS"]
    db.session.add(
        PendingRegistration(
            email=email,
            display_name=display_name.strip(),
            password_hash=password_hash,
            token_hash=hashed,
            expires_at=now + timedelta(hours=hours),
        )
    )
    outbox.enqueue_mail(
        email,
        "registration_confirm",
        "registration.confirm",
        link=outbox.public_url("auth.confirm_registration", token=token),
        hours=hours,
    )
    db.session.flush()


def pending_for_token(token: str, now: datetime) -> PendingRegistration:
    pending = db.session.scalar(
        sa.select(PendingRegistration).where(PendingRegistration.token_hash == token_hash(token))
    )
    if pending is None:
        raise TokenInvalid
    if as_utc(pending.expires_at) < now:
        raise TokenExpired
    return pending


def confirm(token: str, now: datetime) -> User:
    """Create the account of a pending registration. Raises TokenInvalid, TokenExpired or EmailInUse
    (the address got an account in the meantime); the token is used up either way except when expired."""
    pending = pending_for_token(token, now)
    email = pending.email
    # Every link for this address is void once one of them is used.
    db.session.execute(sa.delete(PendingRegistration).where(PendingRegistration.email == email))
    if find_user_by_email(email) is not None:
        raise EmailInUse(email)
    user = User(
        email=email,
        display_name=pending.display_name,
        password_hash=pending.password_hash,
        role=Role.LEARNER,
        email_verified_at=now,  # the link that creates the account proved the address
    )
    db.session.add(user)
    db.session.flush()
    log.info("Account %s aangemaakt na bevestiging van het e-mailadres", user.id)
    return user


def register_invited(email: str, display_name: str, password: str, now: datetime) -> User:
    """An account for an invited address: the invitation's link already proved the address."""
    return create_user(email, display_name, password, verified_at=now)
