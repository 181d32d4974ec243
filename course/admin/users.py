"""Account administration: roles and deactivation, audited."""

from __future__ import annotations

from course import audit
from course.models import Role, User
from course.models.user import new_session_token


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
        # A new session token ends every open session: a role change or deactivation applies at once.
        user.session_token = new_session_token()
    return changes
