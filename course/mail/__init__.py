"""Mail: the one place that knows about Flask-Mailman and message formats.

The rest of the app asks for a mail with `course.outbox.enqueue_mail`; the outbox sender hands
each row to `deliver` here."""

from __future__ import annotations

from flask import current_app
from flask_mailman import EmailMultiAlternatives

from course.extensions import mail
from course.models import OutboxMessage
from course.outbox import one_line


def build_message(row: OutboxMessage) -> EmailMultiAlternatives:
    """multipart/alternative: the plain text first, the HTML part second (mail programs show the last
    part they can display). Rows written before the HTML part existed go out as plain text."""
    # The subject is made one line here again (enqueue_mail did so already): a name or subject with a
    # line break or header characters stays inside the Subject header; Flask-Mailman would refuse a
    # line break (BadHeaderError) and encodes anything outside ASCII (RFC 2047).
    message = EmailMultiAlternatives(
        subject=one_line(row.subject),
        body=row.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[row.recipient],
        headers={"Auto-Submitted": "auto-generated"},
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def deliver(row: OutboxMessage) -> None:
    """Hand the message to the configured backend (SMTP or .eml files); raises when it fails."""
    # As a context manager the connection is closed also when the server refuses the message
    # (send_messages alone leaves it open then, one socket per refused mail until garbage collection).
    with mail.get_connection(fail_silently=False) as connection:
        sent = connection.send_messages([build_message(row)])
    if sent != 1:
        raise RuntimeError("mail backend accepted no message")
