"""Address verification by a mailed link. Flush only; views commit.

An account's address counts as verified once a link mailed to it was followed: the registration
link, an invitation link, a verification link or a password-reset link. Learning works without it;
a certificate is issued only to a verified address (course/certificates/issuing.py).

A change of address takes effect only when a link mailed to the NEW address is followed; the old
address gets a notice. A new address that already belongs to an account gets the same answer and a
notice to that address instead of a link, so the answer tells nothing about other accounts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from course import audit, outbox
from course.auth.accounts import EmailInUse, find_user_by_email, normalize_email
from course.extensions import db
from course.models import AccountToken, TokenPurpose, User
from course.timeutil import as_utc
from course.tokens import TokenExpired, TokenInvalid, new_token, token_hash

log = logging.getLogger(__name__)


def mark_verified(user: User, now: datetime) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = now
        log.info("E-mailadres van account %s bevestigd", user.id)


def _new_link(user: User, email: str, now: datetime) -> str:
    token, hashed = new_token()
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.VERIFY_EMAIL,
            email=email,
            token_hash=hashed,
            expires_at=now + timedelta(hours=current_app.config["EMAIL_VERIFICATION_HOURS"]),
            created_at=now,
        )
    )
    return outbox.public_url("auth.verify_email_link", token=token)


def _links(user_id: int, *criteria: sa.ColumnElement[bool]) -> sa.Delete:
    return sa.delete(AccountToken).where(
        AccountToken.user_id == user_id, AccountToken.purpose == TokenPurpose.VERIFY_EMAIL, *criteria
    )


def send_link(user: User, now: datetime) -> None:
    """Mail a link that verifies the account's own address; an earlier such link stops working."""
    db.session.execute(_links(user.id, AccountToken.email == user.email))
    link = _new_link(user, user.email, now)
    outbox.enqueue_mail(
        user.email,
        "email_verify",
        "email.verify",
        link=link,
        hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
    )
    db.session.flush()


def request_change(user: User, new_email: str, now: datetime) -> None:
    """Start a change of address: a link to the new address (or, when it has an account, a notice
    there instead) and a notice to the current one. Nothing about the account changes yet."""
    new_email = normalize_email(new_email)
    outbox.enqueue_mail(
        user.email,
        "email_change_notice",
        "email.change_notice",
        forgot_url=outbox.public_url("auth.forgot_password"),
    )
    if find_user_by_email(new_email) is not None:
        outbox.enqueue_mail(
            new_email,
            "email_change_in_use",
            "email.change_in_use",
            login_url=outbox.public_url("auth.login"),
        )
        log.info("Adreswijziging door account %s naar een adres met een account: niets gewijzigd", user.id)
        return
    # One pending new address at a time: a newer request voids the links for earlier ones.
    db.session.execute(_links(user.id, AccountToken.email != user.email))
    link = _new_link(user, new_email, now)
    outbox.enqueue_mail(
        new_email,
        "email_change_confirm",
        "email.change_confirm",
        link=link,
        hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
    )
    audit.record(user.id, "user.email_change_requested", "user", user.id)
    db.session.flush()


def pending_address(user: User, now: datetime) -> str | None:
    """The new address waiting for confirmation, if any (shown to the account's owner only)."""
    return db.session.scalar(
        sa.select(AccountToken.email)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.VERIFY_EMAIL,
            AccountToken.email != user.email,
            AccountToken.expires_at >= now,
        )
        .order_by(AccountToken.id.desc())
        .limit(1)
    )


def link_for_token(token: str, now: datetime) -> AccountToken:
    """Raises TokenInvalid (unknown, used, account gone or deactivated) or TokenExpired."""
    row = db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == token_hash(token), AccountToken.purpose == TokenPurpose.VERIFY_EMAIL
        )
    )
    if row is None:
        raise TokenInvalid
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise TokenInvalid
    if as_utc(row.expires_at) < now:
        raise TokenExpired
    return row


def confirm(token: str, now: datetime) -> User:
    """Follow a verification link: verify the account's address, or make the new address take
    effect. Raises TokenInvalid, TokenExpired, or EmailInUse (the new address got an account in
    the meantime; that link is used up)."""
    row = link_for_token(token, now)
    user = db.session.get(User, row.user_id)
    new_email = row.email
    # Claim the link with a conditional delete: of two requests racing with one link, one uses it.
    claimed = db.session.execute(
        sa.delete(AccountToken).where(AccountToken.id == row.id).execution_options(synchronize_session=False)
    )
    db.session.expunge(row)
    if claimed.rowcount != 1:
        raise TokenInvalid
    if new_email == user.email:
        db.session.execute(_links(user.id, AccountToken.email == user.email))
        mark_verified(user, now)
        audit.record(user.id, "user.email_verified", "user", user.id)
        db.session.flush()
        return user
    if find_user_by_email(new_email) is not None:
        db.session.flush()
        raise EmailInUse(new_email)
    try:
        with db.session.begin_nested():
            user.email = new_email
            user.email_verified_at = now
            db.session.flush()
    except IntegrityError:
        # Another request gave this address to an account a moment ago.
        db.session.refresh(user)
        raise EmailInUse(new_email) from None
    # Links mailed to the old address (verification, password reset) no longer fit this account.
    db.session.execute(sa.delete(AccountToken).where(AccountToken.user_id == user.id, AccountToken.email != new_email))
    audit.record(user.id, "user.email_changed", "user", user.id)
    db.session.flush()
    log.info("E-mailadres van account %s gewijzigd na bevestiging van het nieuwe adres", user.id)
    return user
