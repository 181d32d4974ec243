"""Who may see what: role checks and safe redirect targets."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user, login_required

from course.models import Role, User


def role_required(*roles: Role) -> Callable:
    """Signed-in users with one of `roles`; others get 403 (anonymous users go to login)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def start_page(user: User) -> str:
    """Where a sign-in lands without a `next`: each role's own start page, not the learner dashboard."""
    if user.role is Role.ADMIN:
        return url_for("admin.index")
    if user.role is Role.TRAINER:
        return url_for("trainer.index")
    return url_for("lessons.index")


def safe_next_url(target: str | None) -> str | None:
    """A same-site path to go to after login, or None when the target could leave the site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
