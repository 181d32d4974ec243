"""Reading progress per learner."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from course.catalog import Catalog, Lesson
from course.extensions import db
from course.models import LessonRead, User


def read_lesson_ids(user: User) -> set[str]:
    return set(db.session.scalars(sa.select(LessonRead.lesson_id).where(LessonRead.user_id == user.id)))


# Built once: the lesson page asks this on every view, and building and keying the statement each
# time was a noticeable share of the query's cost; a core query on the session's connection also
# skips the ORM's per-query setup.
_HAS_READ = (
    sa.select(sa.literal(1))
    .select_from(LessonRead.__table__)
    .where(LessonRead.user_id == sa.bindparam("user_id"), LessonRead.lesson_id == sa.bindparam("lesson_id"))
)


def has_read(user_id: int, lesson_id: str) -> bool:
    row = db.session.connection().execute(_HAS_READ, {"user_id": user_id, "lesson_id": lesson_id}).first()
    return row is not None


def mark_read(user: User, lesson: Lesson, content_version: str) -> bool:
    """Record that `user` read `lesson`. Returns False when it was already recorded."""
    if has_read(user.id, lesson.id):
        return False
    try:
        # A savepoint: a concurrent double click loses the race on the unique constraint, harmlessly.
        with db.session.begin_nested():
            db.session.add(LessonRead(user_id=user.id, lesson_id=lesson.id, content_version=content_version))
    except IntegrityError:
        return False
    return True


def course_progress(catalog: Catalog, read_ids: set[str]) -> dict[str, object]:
    """Counts and the next unread lesson for the overview."""
    known = [lesson for lesson in catalog.lessons if lesson.id in read_ids]
    next_lesson = next((lesson for lesson in catalog.lessons if lesson.id not in read_ids), None)
    total = len(catalog.lessons)
    return {
        "read": len(known),
        "total": total,
        "percent": round(100 * len(known) / total) if total else 0,
        "next_lesson": next_lesson,
    }
