"""Mail: the one place that knows about Flask-Mailman and message formats.

The rest of the app asks for a mail with `course.outbox.enqueue_mail`; the outbox sender hands
each row to `deliver` here."""

from __future__ import annotations

from flask import current_app
from flask_mailman import EmailMessage

from course.extensions import mail
from course.models import OutboxMessage


def build_message(row: OutboxMessage) -> EmailMessage:
    # Flask-Mailman refuses a header with a line break (BadHeaderError), so a name or subject
    # cannot inject headers; our subjects are fixed texts anyway.
    return EmailMessage(
        subject=row.subject,
        body=row.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[row.recipient],
        headers={"Auto-Submitted": "auto-generated"},
    )


def deliver(row: OutboxMessage) -> None:
    """Hand the message to the configured backend (SMTP or .eml files); raises when it fails."""
    connection = mail.get_connection(fail_silently=False)
    sent = connection.send_messages([build_message(row)])
    if sent != 1:
        raise RuntimeError("mail backend accepted no message")
