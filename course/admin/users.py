"""Account administration: roles, deactivation and temporary passwords, audited."""

from __future__ import annotations

import secrets

from flask import current_app

from course import audit
from course.auth import sessions
from course.models import Role, User

# No look-alikes (0/o, 1/l/i): the admin passes the password on by phone or in person.
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


class SelfLockout(Exception):
    """An admin may not demote or deactivate their own account (no one could undo it)."""


def update_user(actor: User, user: User, role: Role, active: bool) -> list[str]:
    if user.id == actor.id and (role is not Role.ADMIN or not active):
        raise SelfLockout
    changes = []
    if user.role is not role:
        audit.record(actor.id, "user.role", "user", user.id, old=user.role.value, new=role.value)
        user.role = role
        changes.append("rol")
    if user.active != active:
        audit.record(actor.id, "user.activate" if active else "user.deactivate", "user", user.id)
        user.active = active
        changes.append("status")
    if changes:
        # Ending every open session makes a role change or deactivation apply at once.
        sessions.end_all(user)
    return changes


def issue_temporary_password(actor: User, user: User) -> str:
    """A one-time password for someone who forgot theirs (there is no e-mail to send a link to).

    The old password stops working, every open session of the user ends, and the next sign-in
    must choose a new password. The password itself is shown to the admin once and stored only
    as a hash; the audit record says that it happened, not what it was."""
    if user.id == actor.id:
        raise SelfLockout
    password = "-".join("".join(secrets.choice(_READABLE) for _ in range(4)) for _ in range(4))
    user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    user.must_change_password = True
    sessions.end_all(user)
    audit.record(actor.id, "user.temporary_password", "user", user.id)
    return password
