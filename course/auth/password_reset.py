"""Self-service password reset by a mailed link. Flush only; views commit.

Every request gets the same answer page and writes one mail: a link for an active account, a
"no active account here" notice otherwise (unknown or deactivated address), so neither the page nor
the work done tells whether an address has an account. Only the hash of a link's token is kept;
a link works for PASSWORD_RESET_MINUTES and once, and a newer request, any password change
(the fingerprint of the password hash it was issued for) or a change of address voids it.
Success ends every session of the account and does not sign anyone in (docs/decisions.md)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from course import audit, outbox
from course.auth import sessions, throttle
from course.auth.accounts import find_user_by_email, normalize_email
from course.extensions import db
from course.models import AccountToken, TokenPurpose, User
from course.timeutil import as_utc
from course.tokens import TokenExpired, TokenInvalid, new_token, token_hash

log = logging.getLogger(__name__)


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does (a new hash has a new salt), whichever code path set it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()


def _void_links(user_id: int) -> None:
    db.session.execute(
        sa.delete(AccountToken).where(
            AccountToken.user_id == user_id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET
        )
    )


def request_reset(email: str, now: datetime) -> None:
    """One mail to `email` whatever it belongs to; a link only for an active account."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    token, hashed = new_token()  # on both paths: the same work
    # Both paths run this statement; for no account it matches nothing (ids start at 1).
    _void_links(user.id if user is not None else 0)
    if user is None or not user.is_active:
        outbox.enqueue_mail(
            email,
            "password_reset_no_account",
            "password_reset.no_account",
            register_url=outbox.public_url("auth.register"),
        )
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.PASSWORD_RESET,
            email=user.email,
            token_hash=hashed,
            password_fingerprint=password_fingerprint(user.password_hash),
            expires_at=now + timedelta(minutes=minutes),
            created_at=now,
        )
    )
    outbox.enqueue_mail(
        user.email,
        "password_reset",
        "password_reset.link",
        link=outbox.public_url("auth.reset_password_link", token=token),
        minutes=minutes,
        forgot_url=outbox.public_url("auth.forgot_password"),
    )


def account_for_token(token: str, now: datetime) -> User:
    """The account a reset link is for. Raises TokenInvalid (unknown, used, voided) or TokenExpired."""
    row = db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == token_hash(token), AccountToken.purpose == TokenPurpose.PASSWORD_RESET
        )
    )
    if row is None:
        raise TokenInvalid
    user = db.session.get(User, row.user_id)
    if (
        user is None
        or not user.is_active
        or row.email != user.email
        or row.password_fingerprint != password_fingerprint(user.password_hash)
    ):
        raise TokenInvalid
    if as_utc(row.expires_at) < now:
        raise TokenExpired
    return user


def reset_password(token: str, new_password: str, now: datetime) -> User:
    """Set the new password (the caller checked it against the password rules). Raises like
    account_for_token. Ends every session of the account; the link and any other reset link are used up."""
    user = account_for_token(token, now)
    # Claim the link with a conditional delete: of two requests racing with one link, one changes the password.
    claimed = db.session.execute(sa.delete(AccountToken).where(AccountToken.token_hash == token_hash(token)))
    if claimed.rowcount != 1:
        raise TokenInvalid
    user.set_password(new_password, method=current_app.config["PASSWORD_HASH_METHOD"])
    user.must_change_password = False
    _void_links(user.id)
    if user.email_verified_at is None:
        # The link reached the account's address: that proves it as well as a verification link.
        user.email_verified_at = now
    ended = sessions.end_all(user)
    # The mailbox proved who this is: earlier failed sign-ins no longer lock the account.
    throttle.clear_failures(user.email)
    audit.record(user.id, "user.password_reset", "user", user.id, sessions_ended=ended)
    db.session.flush()
    log.info("Wachtwoord hersteld via e-maillink voor account %s; %s sessie(s) beëindigd", user.id, ended)
    return user
