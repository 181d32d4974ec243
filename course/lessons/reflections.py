"""The optional reflection per lesson: private to the learner unless they share it with their trainers.

State changes flush; the view commits. Sharing and unsharing are audited with the lesson only,
never with the text (the audit log is read by administrators)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import sqlalchemy as sa

from course import audit
from course.extensions import db
from course.models import Reflection, User

MAX_CHARS = 4000
# Bidirectional controls reorder what a trainer would read; other control characters show nothing.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalise(raw: str | None) -> str:
    """NFC, line breaks as "\\n", no white space at the ends. Refuses nothing."""
    text = unicodedata.normalize("NFC", raw or "")
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def problem(text: str) -> str | None:
    """What is wrong with an (already normalised) reflection, in Dutch; None when it may be saved."""
    if not text:
        return "Schrijf eerst je reflectie; een lege reflectie wordt niet bewaard."
    if len(text) > MAX_CHARS:
        return f"Je reflectie is {len(text)} tekens lang; er passen er hoogstens {MAX_CHARS} in."
    for char in text:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\n\t"):
            return (
                f"Je reflectie bevat een onzichtbaar teken (U+{ord(char):04X}). "
                "Typ de tekst opnieuw, zonder zulke tekens."
            )
    return None


def reflection_of(user_id: int, module_id: str, lesson_id: str) -> Reflection | None:
    return db.session.scalar(
        sa.select(Reflection).where(
            Reflection.user_id == user_id, Reflection.module_id == module_id, Reflection.lesson_id == lesson_id
        )
    )


def save(user: User, module_id: str, lesson_id: str, text: str, now: datetime) -> bool:
    """Create or replace the learner's reflection (text already checked). True when something changed."""
    reflection = reflection_of(user.id, module_id, lesson_id)
    if reflection is None:
        db.session.add(
            Reflection(
                user_id=user.id, module_id=module_id, lesson_id=lesson_id, text=text, created_at=now, updated_at=now
            )
        )
    elif reflection.text == text:
        return False
    else:
        reflection.text = text
        reflection.updated_at = now
    db.session.flush()
    return True


def set_shared(user: User, module_id: str, lesson_id: str, shared: bool) -> bool | None:
    """Share the reflection with the trainers of the learner's groups, or stop sharing it.
    None when there is no reflection; otherwise whether the setting changed."""
    reflection = reflection_of(user.id, module_id, lesson_id)
    if reflection is None:
        return None
    if reflection.shared == shared:
        return False
    reflection.shared = shared
    _record(user, "reflection.share" if shared else "reflection.unshare", module_id, lesson_id)
    db.session.flush()
    return True


def delete(user: User, module_id: str, lesson_id: str) -> bool:
    """Remove the learner's reflection. False when there was none."""
    reflection = reflection_of(user.id, module_id, lesson_id)
    if reflection is None:
        return False
    if reflection.shared:  # trainers could read it; that they no longer can is a change in sharing
        _record(user, "reflection.unshare", module_id, lesson_id, deleted=True)
    db.session.delete(reflection)
    db.session.flush()
    return True


def shared_reflections(user_id: int, module_id: str) -> list[Reflection]:
    """What a trainer may read: only the reflections the learner chose to share."""
    return list(
        db.session.scalars(
            sa.select(Reflection)
            .where(Reflection.user_id == user_id, Reflection.module_id == module_id, Reflection.shared.is_(True))
            .order_by(Reflection.id)
        )
    )


def _record(user: User, action: str, module_id: str, lesson_id: str, **extra: object) -> None:
    # The lesson, never the text: the audit log is for administrators, the text is the learner's.
    audit.record(user.id, action, "user", user.id, module_id=module_id, lesson_id=lesson_id, **extra)
