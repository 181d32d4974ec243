"""The item analysis stored per trainer, quiz and scope, shown with the moment it was computed.

Computing the analysis reads every answer in scope (`item_analysis.collect`): about 9 s of database
work at 100,000 learners, and the Kelley 27% groups cannot be kept up to date answer by answer. So, as
Moodle's quiz statistics do, the page shows the stored result, says when it was computed and how many
finished attempts have come since (one indexed count), and lets the trainer recompute it; a scheduled
command (`flask course recompute-item-analyses`) recomputes every stale one. A stored result that does
not parse, or was computed for another version of the quiz, is recomputed (docs/decisions.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from course.models import ALL_GROUPS, Attempt, AttemptMode, AttemptStatus, Group, GroupMember, ItemAnalysisResult
from course.quizzes.definitions import Quiz
from course.timeutil import as_utc
from course.trainer import item_analysis as analysis

FORMAT = 1  # of the stored JSON; another number is recomputed
# A trainer may ask for a recomputation of one scope at most this often (it costs seconds at size).
RECOMPUTE_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class StoredAnalysis:
    computed_at: datetime
    attempts: int  # finished graded attempts counted
    stats: list[analysis.ItemStats]
    reliability: analysis.Reliability | None


class Invalid(Exception):
    """A stored result that cannot be shown for this quiz."""


def scope_of(group_id: int | None) -> str:
    return ALL_GROUPS if group_id is None else str(group_id)


def fingerprint(quiz: Quiz) -> str:
    """Changes whenever a question of the quiz does (ids, texts, options, correct answers)."""
    return hashlib.sha256(repr((quiz.id, quiz.all_questions)).encode()).hexdigest()


# --- the stored JSON ---------------------------------------------------------------------------------


def to_json(quiz: Quiz, stats: list[analysis.ItemStats], reliability: analysis.Reliability | None) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "quiz": fingerprint(quiz),
            "questions": [
                {
                    "id": s.question.id,
                    "answered": s.answered,
                    "facility": s.facility,
                    "discrimination": s.discrimination,
                    "options": [[o.label, o.count, o.share, o.correct] for o in s.options],
                }
                for s in stats
            ],
            "reliability": None
            if reliability is None
            else {
                "attempts": reliability.attempts,
                "method": reliability.method,
                "items_per_attempt": reliability.items_per_attempt,
                "coefficient": reliability.coefficient,
                "sem": reliability.sem,
                "minimum": reliability.minimum,
            },
        },
        ensure_ascii=False,
    )


def _typed(value: Any, kind: type, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Invalid(f"{value!r} is no {kind.__name__}")
    return value


def _object(value: Any, keys: set[str]) -> dict:
    if not isinstance(value, dict) or set(value) != keys:
        raise Invalid("unexpected fields")
    return value


def from_json(quiz: Quiz, text: str) -> tuple[list[analysis.ItemStats], analysis.Reliability | None]:
    """The stats and reliability in `text`, for `quiz` as it is now; Invalid when the text does not parse,
    has another shape, or was computed for other questions."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise Invalid("no JSON") from error
    data = _object(data, {"format", "quiz", "questions", "reliability"})
    if data["format"] != FORMAT or data["quiz"] != fingerprint(quiz):
        raise Invalid("another format or another version of the quiz")
    questions = _typed(data["questions"], list)
    if [_object(q, {"id", "answered", "facility", "discrimination", "options"})["id"] for q in questions] != [
        q.id for q in quiz.all_questions
    ]:
        raise Invalid("other questions")
    stats = []
    for question, stored in zip(quiz.all_questions, questions, strict=True):
        options = []
        for option in _typed(stored["options"], list):
            if len(_typed(option, list)) != 4:
                raise Invalid("an option is [label, count, share, correct]")
            label, count, share, correct = option
            options.append(
                analysis.OptionShare(
                    _typed(label, str), _typed(count, int), _typed(share, float), _typed(correct, bool)
                )
            )
        stats.append(
            analysis.ItemStats(
                question=question,
                answered=_typed(stored["answered"], int),
                facility=_typed(stored["facility"], float, optional=True),
                discrimination=_typed(stored["discrimination"], float, optional=True),
                options=options,
            )
        )
    reliability = None
    if data["reliability"] is not None:
        r = _object(data["reliability"], {"attempts", "method", "items_per_attempt", "coefficient", "sem", "minimum"})
        reliability = analysis.Reliability(
            attempts=_typed(r["attempts"], int),
            method=_typed(r["method"], str),
            items_per_attempt=_typed(r["items_per_attempt"], float),
            coefficient=_typed(r["coefficient"], float, optional=True),
            sem=_typed(r["sem"], float, optional=True),
            minimum=_typed(r["minimum"], int),
        )
    if (reliability is None) == quiz.is_graded:
        raise Invalid("reliability where none belongs, or none where it does")
    return stats, reliability


# --- computing, storing, reading ---------------------------------------------------------------------


def group_ids_of(session: Session, trainer_id: int, group_id: int | None) -> list[int]:
    """The groups a scope covers: the one group, or every group the trainer leads now."""
    if group_id is not None:
        return [group_id]
    return list(session.scalars(sa.select(Group.id).where(Group.trainer_id == trainer_id)))


def compute(
    session: Session, quiz: Quiz, trainer_id: int, group_id: int | None, group_ids: list[int], now: datetime
) -> StoredAnalysis:
    """Compute the analysis of the scope from every answer in it and store it (flushes; the caller
    commits). `now` is taken before the computation: an attempt finished while it runs counts as newer.
    Two computations of one scope at once leave one row: the later computation's."""
    attempts = analysis.attempts_of_groups(quiz.id, group_ids)
    totals = analysis.collect(session, attempts)
    scope = attempts.subquery("scope")
    newest_id, newest_finished_at = session.execute(
        sa.select(sa.func.max(Attempt.id), sa.func.max(Attempt.finished_at)).join(scope, scope.c.id == Attempt.id)
    ).one()
    stats = analysis.item_stats(quiz, totals)
    reliability = analysis.reliability_of(quiz, totals)
    values = {
        "trainer_id": trainer_id,
        "quiz_id": quiz.id,
        "scope": scope_of(group_id),
        "group_id": group_id,
        "computed_at": now,
        "attempts": totals.attempts,
        "newest_attempt_id": newest_id,
        "newest_finished_at": newest_finished_at,
        "result": to_json(quiz, stats, reliability),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(ItemAnalysisResult).values(values)
    table = ItemAnalysisResult.__table__
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.trainer_id, table.c.quiz_id, table.c.scope],
            set_={key: insert.excluded[key] for key in values if key not in ("trainer_id", "quiz_id", "scope")},
            where=table.c.computed_at <= insert.excluded.computed_at,
        )
    )
    return StoredAnalysis(now, totals.attempts, stats, reliability)


def stored_row(session: Session, quiz_id: str, trainer_id: int, group_id: int | None) -> ItemAnalysisResult | None:
    return session.scalar(
        sa.select(ItemAnalysisResult).where(
            ItemAnalysisResult.trainer_id == trainer_id,
            ItemAnalysisResult.quiz_id == quiz_id,
            ItemAnalysisResult.scope == scope_of(group_id),
        )
    )


def read(quiz: Quiz, row: ItemAnalysisResult) -> StoredAnalysis:
    """The stored analysis in `row`; Invalid when it cannot be shown for `quiz` as it is now."""
    stats, reliability = from_json(quiz, row.result)
    return StoredAnalysis(as_utc(row.computed_at), row.attempts, stats, reliability)


def newer_attempts(session: Session, quiz_id: str, group_ids: list[int], since: datetime) -> int:
    """Finished graded attempts of the scope's members at the quiz finished after `since` (through the
    index on quiz and finish time: the count reads only the newer attempts)."""
    members = sa.select(GroupMember.user_id).where(GroupMember.group_id.in_(group_ids))
    return session.scalar(
        sa.select(sa.func.count()).where(
            Attempt.quiz_id == quiz_id,
            Attempt.finished_at > since,
            Attempt.mode == AttemptMode.GRADED,
            Attempt.status == AttemptStatus.FINISHED,
            Attempt.user_id.in_(members),
        )
    )


@dataclass(frozen=True)
class Shown:
    analysis: StoredAnalysis
    newer: int  # finished attempts since it was computed


def current(
    session: Session, quiz: Quiz, trainer_id: int, group_id: int | None, group_ids: list[int], now: datetime
) -> Shown:
    """What the page shows: the stored analysis and how many attempts came since; computed and stored
    first when there is none (or none that can be shown)."""
    row = stored_row(session, quiz.id, trainer_id, group_id)
    if row is not None:
        try:
            stored = read(quiz, row)
        except Invalid:
            session.delete(row)  # replaced below, whatever its moment says
            session.flush()
        else:
            return Shown(stored, newer_attempts(session, quiz.id, group_ids, stored.computed_at))
    return Shown(compute(session, quiz, trainer_id, group_id, group_ids, now), 0)


def too_soon(row: ItemAnalysisResult | None, now: datetime) -> bool:
    """Whether the scope was computed less than RECOMPUTE_INTERVAL ago."""
    return row is not None and now - as_utc(row.computed_at) < RECOMPUTE_INTERVAL


def forget_quiz(session: Session, quiz_id: str) -> None:
    """Drop the stored analyses of a quiz: an attempt at it stopped counting (a trainer reset it)."""
    session.execute(sa.delete(ItemAnalysisResult).where(ItemAnalysisResult.quiz_id == quiz_id))


def forget_for_members(session: Session, group_id: int, user_ids: list[int]) -> None:
    """Drop the stored analyses that change when these learners join or leave the group: those of the
    group and of its trainer's "all groups", for the quizzes the learners finished a graded attempt at
    (a learner without one changes nothing, so most joins keep every stored analysis)."""
    finished = sa.select(Attempt.quiz_id).where(
        Attempt.user_id.in_(user_ids), Attempt.mode == AttemptMode.GRADED, Attempt.status == AttemptStatus.FINISHED
    )
    trainer = sa.select(Group.trainer_id).where(Group.id == group_id).scalar_subquery()
    session.execute(
        sa.delete(ItemAnalysisResult).where(
            ItemAnalysisResult.quiz_id.in_(finished),
            sa.or_(
                ItemAnalysisResult.group_id == group_id,
                sa.and_(ItemAnalysisResult.scope == ALL_GROUPS, ItemAnalysisResult.trainer_id == trainer),
            ),
        )
    )


def forget_member(session: Session, user_id: int) -> None:
    """Drop the stored analyses that count this learner's attempts (before the account is erased)."""
    their_groups = sa.select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    trainers = sa.select(Group.trainer_id).where(Group.id.in_(their_groups))
    session.execute(
        sa.delete(ItemAnalysisResult).where(
            sa.or_(
                ItemAnalysisResult.group_id.in_(their_groups),
                sa.and_(ItemAnalysisResult.scope == ALL_GROUPS, ItemAnalysisResult.trainer_id.in_(trainers)),
            )
        )
    )


def recompute_stale(session: Session, quizzes: dict[str, Quiz], now: datetime) -> tuple[int, int]:
    """Recompute every stored analysis with newer finished attempts, or that cannot be shown any more;
    commit each. Stored analyses of quizzes that no longer exist are deleted. (recomputed, up to date)"""
    recomputed = fresh = 0
    keys = session.execute(
        sa.select(ItemAnalysisResult.id, ItemAnalysisResult.quiz_id).order_by(ItemAnalysisResult.id)
    ).all()
    for row_id, quiz_id in keys:
        row = session.get(ItemAnalysisResult, row_id)
        if row is None:  # deleted meanwhile (a reset, an erasure)
            continue
        quiz = quizzes.get(quiz_id)
        if quiz is None:
            session.delete(row)
            session.commit()
            continue
        trainer_id, group_id = row.trainer_id, row.group_id
        group_ids = group_ids_of(session, trainer_id, group_id)
        try:
            stored = read(quiz, row)
        except Invalid:
            session.delete(row)
            session.flush()
            stale = True
        else:
            stale = newer_attempts(session, quiz.id, group_ids, stored.computed_at) > 0
        if stale:
            compute(session, quiz, trainer_id, group_id, group_ids, now)
            recomputed += 1
        else:
            fresh += 1
        session.commit()
    return recomputed, fresh
