"""Security events in the application log: failed sign-ins, refused access, CSRF failures, refused input.

Lines hold no personal data (no e-mail address, name or IP address: accounts by id, clients and
attempted addresses by a short keyed pseudonym) and every value that comes from the request is
encoded, so a line break or control character in a URL cannot forge a log line (ASVS V16.3, V16.4.1).
"""

from __future__ import annotations

import logging

from flask import has_request_context, request
from flask_login import current_user

from course.pseudonyms import client_pseudonym, keyed_hash

log = logging.getLogger("hechtwijzer.security")


def encoded(value: str | None, limit: int = 200) -> str:
    """Printable ASCII only: anything else (line breaks, controls, non-ASCII) as an escape sequence."""
    text = (value or "")[:limit]
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", "\\n").replace("\r", "\\r")


def safe_path() -> str:
    return encoded(request.path) if has_request_context() else "-"


def _who() -> str:
    if not has_request_context():
        return "-"
    account = current_user.id if current_user and current_user.is_authenticated else "anoniem"
    return f"account={account} client={client_pseudonym('log', request.remote_addr)[:12]}"


def event(name: str, level: int = logging.WARNING, **fields: object) -> None:
    """One line: the event, who (account id, client pseudonym), where (method and encoded path), details."""
    details = " ".join(f"{key}={encoded(str(value), 80)}" for key, value in fields.items())
    method = request.method if has_request_context() else "-"
    log.log(level, "%s %s %s %s %s", name, _who(), method, safe_path(), details)


def address_pseudonym(email: str) -> str:
    """Which address was tried, without the address: the same account key prefix the throttle uses."""
    return keyed_hash("account", email.strip().lower())[:12]
