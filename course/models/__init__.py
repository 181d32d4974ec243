"""Typed models, one module per domain."""

from course.models.login_failure import LoginFailure
from course.models.progress import LessonRead
from course.models.user import Role, User

__all__ = ["LessonRead", "LoginFailure", "Role", "User"]
