"""Typed models, one module per domain."""

from course.models.attempt import Attempt, AttemptItem, AttemptMode, AttemptStatus
from course.models.login_failure import LoginFailure
from course.models.progress import LessonRead
from course.models.user import Role, User

__all__ = ["Attempt", "AttemptItem", "AttemptMode", "AttemptStatus", "LessonRead", "LoginFailure", "Role", "User"]
