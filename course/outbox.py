"""The outbox: everything that leaves the app is a row written in the transaction that causes it,
then delivered by a sender per kind (`flask course send-mail`).

A sender claims one due row at a time with a conditional UPDATE (pending and due → sending, with a
claim token), so two senders never take the same row; a row left in "sending" longer than
OUTBOX_LEASE_SECONDS (a sender that died) becomes due again. A failed delivery is retried with
exponential backoff and marked failed after OUTBOX_MAX_ATTEMPTS.

Public API:
- enqueue_mail(recipient, template, topic, *, module_id=None, **context) -> OutboxMessage
- render_mail(template, **context) -> (subject, text, html)
- public_url(endpoint, **values) -> str: an absolute link for a message
- send_due(kind="mail", now=None, limit=None) -> SendReport
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for

from course.extensions import db
from course.models import OutboxMessage, OutboxStatus
from course.timeutil import utcnow

log = logging.getLogger(__name__)

MAIL = "mail"


def public_url(endpoint: str, **values: object) -> str:
    """An absolute link for a message: PUBLIC_BASE_URL + path, never the request's Host header."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base and not has_request_context():
        # A command (send-reminders) has no request to build the path from: the URL map does it.
        return base.rstrip("/") + current_app.url_map.bind("localhost").build(endpoint, values)
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    if current_app.testing or current_app.debug:
        return url_for(endpoint, _external=True, **values)
    raise RuntimeError("PUBLIC_BASE_URL is niet ingesteld: nodig voor links in e-mails.")


def enqueue_mail(
    recipient: str, template: str, topic: str, *, module_id: str | None = None, **context: object
) -> OutboxMessage:
    """Write a mail to the outbox in the caller's transaction. `template` names templates/mail/<name>.txt,
    whose first line is "Onderwerp: ..." (the subject) and the rest the plain-text body, and its sibling
    templates/mail/<name>.html (extending mail/base.html), the HTML alternative."""
    subject, text, html = render_mail(template, **context)
    row = OutboxMessage(
        kind=MAIL,
        topic=topic,
        module_id=module_id,
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    log.info("Outbox %s: %s klaargezet", row.id, topic)
    return row


def render_mail(template: str, **context: object) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of templates/mail/<template>.txt and .html."""
    name = f"mail/{template}.txt"
    source, _, _ = current_app.jinja_env.loader.get_source(current_app.jinja_env, name)
    # The subject line is rendered on its own: a value with a line break (a name, say) then stays in
    # the subject instead of ending it early and pushing the rest of the subject into the body.
    first, _, rest = source.lstrip().partition("\n")
    if not first.startswith("Onderwerp:"):
        raise ValueError(f"templates/{name} must start with 'Onderwerp:'")
    subject = one_line(_render_text(first.removeprefix("Onderwerp:"), context))
    body = _render_text(rest, context)
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    return subject, body.strip() + "\n", html.strip() + "\n"


def _render_text(source: str, context: dict[str, object]) -> str:
    # Compiled once per source (a reminder run renders thousands), with the app's template context.
    # Plain text: no HTML escaping (a template made from a string would be autoescaped, a .txt file is not).
    compiled = current_app.extensions.setdefault("mail_text_templates", {})
    if source not in compiled:
        compiled[source] = current_app.jinja_env.from_string("{% autoescape false %}" + source + "{% endautoescape %}")
    values = dict(context)
    current_app.update_template_context(values)
    return compiled[source].render(values)


def one_line(value: str) -> str:
    """A header value on one line: every run of whitespace (CR, LF, tabs, Unicode line separators) one space."""
    return " ".join(value.split())


def _senders() -> dict[str, Callable[[OutboxMessage], None]]:
    from course.lti import scores
    from course.mail import deliver

    return {MAIL: deliver, scores.KIND: scores.deliver}


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return handled_count(self)


def handled_count(report: SendReport) -> int:
    # A plain function beside the property: mutmut skips decorated functions.
    return report.sent + report.retrying + report.failed


def _due(kind: str, now: datetime) -> sa.ColumnElement[bool]:
    lease_cutoff = now - timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    return sa.and_(
        OutboxMessage.kind == kind,
        sa.or_(
            sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
            sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < lease_cutoff),
        ),
    )


def claim_one(kind: str, now: datetime) -> OutboxMessage | None:
    """Claim the oldest due row for this sender, or None when nothing is due. Commits the claim."""
    token = secrets.token_hex(16)
    due = _due(kind, now)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway) lets a second sender take the next row
    # instead of waiting; the condition repeated in the UPDATE is what makes the claim exclusive.
    candidate = (
        sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(1).with_for_update(skip_locked=True)
    )
    while True:
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == candidate.scalar_subquery(), due)
            .values(
                status=OutboxStatus.SENDING,
                claim_token=token,
                claimed_at=now,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if result.rowcount:
            break
        # Lost a race for that row (or nothing is due): try again only while something is still due.
        if db.session.scalar(sa.select(OutboxMessage.id).where(due).limit(1)) is None:
            db.session.rollback()
            return None
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.claim_token == token))
    # Detached and the transaction ended: no database transaction stays open while the mail server talks.
    db.session.expunge(row)
    db.session.rollback()
    return row


def _describe(error: Exception) -> str:
    """Error class and code only: a mail server's message may quote the recipient's address."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"SMTPRecipientsRefused {codes}"
    if isinstance(error, OSError) and error.errno is not None:
        return f"{type(error).__name__} errno {error.errno}"
    return type(error).__name__


def retry_delay(attempts: int) -> timedelta:
    config = current_app.config
    seconds = config["OUTBOX_RETRY_BASE_SECONDS"] * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, config["OUTBOX_RETRY_MAX_SECONDS"]))


def _record(row: OutboxMessage, **values: object) -> None:
    """Update our claimed row; a row another sender took back after our lease ran out is left alone."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == row.claim_token)
        .values(claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver_one(row: OutboxMessage, now: datetime | None = None) -> str:
    """Send one claimed row and record the outcome: "sent", "retrying" or "failed"."""
    sender = _senders()[row.kind]
    try:
        sender(row)
    except Exception as error:  # any failure of the peer: record it, keep the row, go on
        now = max(now or utcnow(), utcnow())
        described = _describe(error)
        if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            _record(row, status=OutboxStatus.FAILED, last_error=described, body_text="", body_html="")
            log.error("Outbox %s: definitief mislukt na %s pogingen (%s)", row.id, row.attempts, described)
            return "failed"
        _record(row, status=OutboxStatus.PENDING, last_error=described, next_attempt_at=now + retry_delay(row.attempts))
        # A network or mail-server error needs no traceback; anything else is a bug worth one.
        expected = isinstance(error, smtplib.SMTPException | OSError)
        log.warning(
            "Outbox %s: poging %s mislukt (%s), later opnieuw", row.id, row.attempts, described, exc_info=not expected
        )
        return "retrying"
    _record(row, status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None, body_text="", body_html="")
    log.info("Outbox %s: %s verstuurd", row.id, row.topic)
    return "sent"


def send_due(kind: str = MAIL, now: datetime | None = None, limit: int | None = None) -> SendReport:
    """Deliver every row of this kind that is due now (at most `limit`); rows that fail now are
    due again only later, so one run ends."""
    report = SendReport()
    moment = now or utcnow()
    while limit is None or report.handled < limit:
        row = claim_one(kind, moment)
        if row is None:
            break
        outcome = deliver_one(row, moment)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report
