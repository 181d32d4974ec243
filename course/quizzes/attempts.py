"""Attempt state changes. They flush; the view commits (or rolls back)."""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from course import failpoints
from course.extensions import db
from course.models import Attempt, AttemptDecision, AttemptGrant, AttemptItem, AttemptMode, AttemptStatus, User
from course.quizzes import policy
from course.quizzes.definitions import Choice, Question, Quiz, Vignette
from course.quizzes.grading import grade
from course.quizzes.responses import TamperedSubmission, parse_flags, parse_form
from course.quizzes.selection import PlannedItem, plan_attempt, plan_practice, plan_stages
from course.trainer import progress


class AttemptNotAllowed(Exception):
    """The retake policy does not allow a new attempt now; the message says why."""


class StaleAttempt(Exception):
    """The form came from an older view of the attempt (another tab saved or finished it)."""


class AlreadyFinished(StaleAttempt):
    pass


class NothingToPractise(Exception):
    pass


class PracticeClosed(Exception):
    """The quiz's review policy does not show its key yet, so no practice either; the message says why."""


def _rng() -> random.Random:
    return random.Random(secrets.randbits(64))  # noqa: S311 -- shuffling, not secrets


def graded_attempts(user_id: int, quiz_id: str) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt).where(
                Attempt.user_id == user_id, Attempt.quiz_id == quiz_id, Attempt.mode == AttemptMode.GRADED
            )
        )
    )


def extra_attempts(user_id: int, quiz_id: str | None = None) -> dict[str, int]:
    """Extra attempts trainers granted, per quiz."""
    statement = (
        sa.select(AttemptGrant.quiz_id, sa.func.sum(AttemptGrant.extra))
        .where(AttemptGrant.user_id == user_id)
        .group_by(AttemptGrant.quiz_id)
    )
    if quiz_id is not None:
        statement = statement.where(AttemptGrant.quiz_id == quiz_id)
    return {quiz: int(extra) for quiz, extra in db.session.execute(statement)}


def current_standing(user: User, quiz: Quiz, now: datetime) -> policy.Standing:
    extra = extra_attempts(user.id, quiz.id).get(quiz.id, 0)
    return policy.standing(quiz, graded_attempts(user.id, quiz.id), now, extra)


def _next_number(user_id: int, quiz_id: str) -> int:
    """Graded and reset attempts share one numbering, so a reset never reuses a number."""
    highest = db.session.scalar(
        sa.select(sa.func.max(Attempt.number)).where(
            Attempt.user_id == user_id,
            Attempt.quiz_id == quiz_id,
            Attempt.mode.in_([AttemptMode.GRADED, AttemptMode.VOIDED]),
        )
    )
    return (highest or 0) + 1


def _seen_counts(user_id: int, quiz: Quiz) -> Counter:
    """How often the learner was asked each question, and shown each vignette, in graded attempts."""
    rows = db.session.execute(
        sa.select(AttemptItem.question_id, AttemptItem.vignette_id, AttemptItem.attempt_id)
        .join(Attempt)
        .where(Attempt.user_id == user_id, Attempt.quiz_id == quiz.id, Attempt.mode == AttemptMode.GRADED)
    )
    seen: Counter = Counter()
    shown: set[tuple[str, int]] = set()
    for question_id, vignette_id, attempt_id in rows:
        seen[question_id] += 1
        if vignette_id:
            shown.add((vignette_id, attempt_id))
    seen.update(vignette_id for vignette_id, _ in shown)
    return seen


def _insert(user: User, quiz: Quiz, mode: AttemptMode, number: int, plan: list[PlannedItem], version: str) -> Attempt:
    attempt = Attempt(user_id=user.id, quiz_id=quiz.id, mode=mode, number=number, content_version=version)
    db.session.add(attempt)
    db.session.flush()
    _insert_items(attempt, plan)
    return attempt


def _insert_items(attempt: Attempt, plan: list[PlannedItem]) -> None:
    if not plan:
        return
    db.session.execute(
        sa.insert(AttemptItem),
        [
            {
                "attempt_id": attempt.id,
                "position": planned.position or position,
                "page": planned.page,
                "question_id": planned.question_id,
                "vignette_id": planned.vignette_id,
                "option_order": list(planned.option_order),
            }
            for position, planned in enumerate(plan, start=1)
        ],
    )


def _lock_learner(user_id: int) -> None:
    """Serialise attempt starts per learner: the checks and the insert that follow act as one.

    Without this, two parallel starts both read "no open attempt, attempts left", and both insert.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # Row lock on the learner: a second start waits here until the first commits, and then
        # (READ COMMITTED: every statement reads the latest commit) sees the attempt it created.
        db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())
    else:
        # SQLite has no row locks, only one database write lock. pysqlite opens the transaction at
        # the first write, so a write first takes that lock (waiting up to busy_timeout, like a row
        # lock) before this transaction has read anything: every read after it sees the latest
        # commit, and no other start can insert until ours commits. BEGIN IMMEDIATE would do the
        # same, but cannot be issued once the request has written something (a transaction is open).
        db.session.execute(
            sa.update(User).where(User.id == user_id).values(id=User.id),
            execution_options={"synchronize_session": False},
        )


def _open_graded(user_id: int, quiz_id: str) -> Attempt | None:
    return db.session.scalar(
        sa.select(Attempt).where(
            Attempt.user_id == user_id,
            Attempt.quiz_id == quiz_id,
            Attempt.mode == AttemptMode.GRADED,
            Attempt.status == AttemptStatus.IN_PROGRESS,
        )
    )


def start_attempt(user: User, quiz: Quiz, now: datetime, content_version: str) -> Attempt:
    """Resume the open graded attempt, or start a new one if the policy allows it.

    The attempt limit, the cooldown and the next number are read under the learner's lock, in the
    transaction that inserts the attempt; the partial unique index uq_attempts_one_open_graded is
    the database's own guarantee of one open graded attempt on top of that."""
    _lock_learner(user.id)
    attempts = list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.user_id == user.id, Attempt.quiz_id == quiz.id, Attempt.mode == AttemptMode.GRADED)
            # Attempts this session loaded before the lock may be stale: read them afresh.
            .execution_options(populate_existing=True)
        )
    )
    current = policy.standing(quiz, attempts, now, extra_attempts(user.id, quiz.id).get(quiz.id, 0))
    if current.in_progress_id is not None:
        return next(a for a in attempts if a.id == current.in_progress_id)
    if not current.can_start:
        raise AttemptNotAllowed(current.blocked_reason)
    failpoints.pause("start-after-checks")  # race tests: widens the gap between the checks and the insert
    plan = plan_attempt(quiz, _seen_counts(user.id, quiz), _rng())
    number = _next_number(user.id, quiz.id)
    try:
        with db.session.begin_nested():
            return _insert(user, quiz, AttemptMode.GRADED, number, plan, content_version)
    except IntegrityError:
        # Only reachable if something started an attempt without taking the lock: use the open one.
        winner = _open_graded(user.id, quiz.id)
        if winner is None:
            raise AttemptNotAllowed("Er werd tegelijk een andere poging gestart. Probeer het opnieuw.") from None
        return winner


def mistakes(user_id: int, quiz: Quiz) -> list[str]:
    """Question ids whose most recent finished answer (graded or practice) was not fully right."""
    rows = db.session.execute(
        sa.select(AttemptItem.question_id, AttemptItem.correct)
        .join(Attempt)
        .where(Attempt.user_id == user_id, Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.FINISHED)
        .order_by(Attempt.finished_at, AttemptItem.position)
    )
    latest: dict[str, bool] = {}
    for question_id, correct in rows:
        latest[question_id] = bool(correct)
    return [qid for qid, correct in latest.items() if not correct and quiz.question(qid) is not None]


def start_practice(user: User, quiz: Quiz, content_version: str, now: datetime) -> Attempt:
    """Resume the open practice round, or start one over the learner's mistakes.

    Only while the review policy shows the key (see policy.practice_blocked_reason)."""
    closed = policy.practice_blocked_reason(quiz, current_standing(user, quiz, now))
    if closed is not None:
        raise PracticeClosed(closed)
    open_practice = db.session.scalar(
        sa.select(Attempt).where(
            Attempt.user_id == user.id,
            Attempt.quiz_id == quiz.id,
            Attempt.mode == AttemptMode.PRACTICE,
            Attempt.status == AttemptStatus.IN_PROGRESS,
        )
    )
    if open_practice is not None:
        return open_practice
    wrong = mistakes(user.id, quiz)
    if not wrong:
        raise NothingToPractise
    number = (
        db.session.scalar(
            sa.select(sa.func.max(Attempt.number)).where(
                Attempt.user_id == user.id, Attempt.quiz_id == quiz.id, Attempt.mode == AttemptMode.PRACTICE
            )
        )
        or 0
    ) + 1
    plan = plan_practice(quiz, wrong, _rng())
    try:
        with db.session.begin_nested():
            return _insert(user, quiz, AttemptMode.PRACTICE, number, plan, content_version)
    except IntegrityError:
        raise StaleAttempt from None


def load_items(attempt: Attempt) -> list[AttemptItem]:
    return list(
        db.session.scalars(
            sa.select(AttemptItem).where(AttemptItem.attempt_id == attempt.id).order_by(AttemptItem.position)
        )
    )


def last_page(attempt: Attempt, items: list[AttemptItem], quiz: Quiz) -> int:
    """The attempt's last page, counting the stages a branching case adds once the learner decides."""
    last = max(item.page for item in items)
    if attempt.mode is AttemptMode.PRACTICE:  # one page; practice never branches
        return last
    first_pages: dict[str, int] = {}
    for item in items:
        if item.vignette_id:
            first_pages[item.vignette_id] = min(item.page, first_pages.get(item.vignette_id, item.page))
    for vignette_id, first in first_pages.items():
        vignette = quiz.vignette(vignette_id)
        if vignette is not None and vignette.branching:
            last = max(last, first + vignette.path_length - 1)
    return last


def load_decisions(attempt: Attempt) -> dict[tuple[str, str], str]:
    """(case id, stage id) -> id of the stage the learner chose."""
    rows = db.session.execute(
        sa.select(AttemptDecision.vignette_id, AttemptDecision.stage_id, AttemptDecision.choice).where(
            AttemptDecision.attempt_id == attempt.id
        )
    )
    return {(vignette_id, stage_id): choice for vignette_id, stage_id, choice in rows}


@dataclass(frozen=True)
class PendingDecision:
    vignette: Vignette
    stage_index: int

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self.vignette.stages[self.stage_index].decision.choices


def pending_decision(attempt: Attempt, items: list[AttemptItem], quiz: Quiz) -> PendingDecision | None:
    """The decision that closes the open page of a graded attempt, if it is not made yet."""
    if attempt.mode is not AttemptMode.GRADED:
        return None
    item = next((i for i in items if i.page == attempt.page and i.vignette_id), None)
    found = quiz.vignette_stage(item.question_id) if item is not None else None
    if found is None:
        return None
    vignette, index = found
    stage = vignette.stages[index]
    if stage.decision is None or (vignette.id, stage.id) in load_decisions(attempt):
        return None
    return PendingDecision(vignette, index)


def parse_decision(form: MultiDict, pending: PendingDecision | None) -> Choice | None:
    """The chosen way on (the posted value is the choice's place on the page), or None if not chosen.

    A decision where none is open (made already, another page, a replayed form) is refused."""
    values = form.getlist("decision")
    if not values:
        return None
    if pending is None or len(values) > 1:
        raise TamperedSubmission("keuze past niet bij deze stap")
    value = values[0]
    if not (value.isascii() and value.isdigit()) or len(value) > 1 or int(value) >= len(pending.choices):
        raise TamperedSubmission("keuze buiten bereik")
    return pending.choices[int(value)]


def _record_decision(
    attempt: Attempt, items: list[AttemptItem], pending: PendingDecision, choice: Choice, page: int
) -> list[PlannedItem]:
    """Store the decision closing `page`; add the chosen stages (up to the next decision) after it."""
    vignette = pending.vignette
    db.session.add(
        AttemptDecision(
            attempt_id=attempt.id,
            vignette_id=vignette.id,
            stage_id=vignette.stages[pending.stage_index].id,
            choice=choice.next,
            page=page,
        )
    )
    # The case's places are one block (selection.plan_attempt kept them free): go on after its last one.
    first_position = max(item.position for item in items if item.vignette_id == vignette.id) + 1
    planned = plan_stages(
        vignette, vignette.segment(vignette.stage_index(choice.next)), page + 1, first_position, _rng()
    )
    _insert_items(attempt, planned)
    return planned


def editable_pairs(attempt: Attempt, items: list[AttemptItem], quiz: Quiz) -> list[tuple[AttemptItem, Question]]:
    """The open page's questions; a question a newer content version removed is shown but not answered."""
    return [
        (item, question)
        for item in items
        if item.page == attempt.page and (question := quiz.question(item.question_id)) is not None
    ]


def gradable(items: list[AttemptItem], quiz: Quiz) -> list[AttemptItem]:
    """Items whose question is still in the bank: an attempt started before a content update that
    removed a question is scored on the rest (docs/toetsplan.md)."""
    return [item for item in items if quiz.question(item.question_id) is not None]


def _claim_revision(attempt: Attempt, expected_revision: int, **changes: object) -> None:
    """Bump the revision only if nobody else did since the form was rendered: one UPDATE."""
    result = db.session.execute(
        sa.update(Attempt)
        .where(
            Attempt.id == attempt.id,
            Attempt.revision == expected_revision,
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.mode != AttemptMode.VOIDED,
        )
        .values(revision=Attempt.revision + 1, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        refreshed = db.session.get(Attempt, attempt.id)
        if refreshed is not None and refreshed.is_finished:
            raise AlreadyFinished
        raise StaleAttempt
    if "status" in changes or "finished_at" in changes:
        progress.learners_changed(attempt.user_id)  # a finished attempt moves the trainer's dashboard


@dataclass(frozen=True)
class SaveOutcome:
    revision: int
    page: int
    unanswered: int
    needs_decision: bool = False  # "verder" on a decision page without a choice: saved, not advanced


def save_answers(
    attempt: Attempt,
    items: list[AttemptItem],
    quiz: Quiz,
    form: MultiDict,
    expected_revision: int,
    advance: bool = False,
) -> SaveOutcome:
    """Store the answers and "voor later" marks of the open page; with `advance`, lock it and unlock
    the next stage.

    A page that ends with a decision only unlocks the next stage with a choice (`needs_decision`)."""
    pending = pending_decision(attempt, items, quiz)
    choice = parse_decision(form, pending)
    editable = editable_pairs(attempt, items, quiz)
    responses = parse_form(form, editable)
    flags = parse_flags(form, editable)
    advancing = advance and attempt.page < last_page(attempt, items, quiz)
    needs_decision = advancing and pending is not None and choice is None
    old_page = attempt.page
    new_page = old_page + 1 if advancing and not needs_decision else old_page
    _claim_revision(attempt, expected_revision, page=new_page)
    _write_items(items, responses, graded=False, flags=flags)
    added = []
    if new_page > old_page and pending is not None:  # a choice on autosave waits for "verder"
        added = _record_decision(attempt, items, pending, choice, old_page)
    unanswered = sum(
        1 for item in gradable(items, quiz) if item.page <= new_page and _response_of(item, responses) is None
    ) + sum(1 for planned in added if planned.page <= new_page)
    return SaveOutcome(
        revision=expected_revision + 1, page=new_page, unanswered=unanswered, needs_decision=needs_decision
    )


def unanswered_after(attempt: Attempt, items: list[AttemptItem], quiz: Quiz, form: MultiDict) -> int:
    """How many questions would stay unanswered if `form` were saved (raises on a tampered form)."""
    parse_decision(form, pending_decision(attempt, items, quiz))
    responses = parse_form(form, editable_pairs(attempt, items, quiz))
    return sum(1 for item in gradable(items, quiz) if _response_of(item, responses) is None)


def flagged_after(attempt: Attempt, items: list[AttemptItem], quiz: Quiz, form: MultiDict) -> int:
    """How many open questions would stay marked "voor later" if `form` were saved (raises on a tampered form).

    Marks on earlier, locked stages of a case no longer count: their answers cannot change."""
    return len(parse_flags(form, editable_pairs(attempt, items, quiz)))


def _response_of(item: AttemptItem, responses: dict[int, object]) -> object:
    return responses.get(item.position, item.response)


def _write_items(
    items: list[AttemptItem],
    responses: dict[int, object],
    graded: bool,
    quiz: Quiz | None = None,
    flags: set[int] | None = None,
) -> None:
    rows = []
    for item in items:
        response = _response_of(item, responses)
        row = {"id": item.id, "response": response}
        if graded:
            question = quiz.question(item.question_id)
            if question is None:  # removed by a newer content version: not scored
                row |= {"score": None, "correct": None}
            else:
                result = grade(question, response)
                row |= {"score": result.score, "correct": result.correct}
        elif item.position not in responses:
            continue
        else:
            row["flagged"] = item.position in (flags or set())
        rows.append(row)
    if rows:
        # One executemany, however many questions: the submit stays at a bounded statement count.
        db.session.execute(sa.update(AttemptItem), rows, execution_options={"synchronize_session": False})


@dataclass(frozen=True)
class FinishOutcome:
    points: float
    max_points: int
    percent: float
    passed: bool | None


def finish_attempt(
    attempt: Attempt, items: list[AttemptItem], quiz: Quiz, form: MultiDict, expected_revision: int, now: datetime
) -> FinishOutcome:
    """Grade and close the attempt exactly once; a second or stale finish raises and changes nothing."""
    parse_decision(form, pending_decision(attempt, items, quiz))  # the last page decides nothing
    responses = parse_form(form, editable_pairs(attempt, items, quiz))
    if attempt.page < last_page(attempt, items, quiz):
        raise StaleAttempt  # the finish button only exists on the last stage
    scored = gradable(items, quiz)
    results = [grade(quiz.question(item.question_id), _response_of(item, responses)) for item in scored]
    points = sum(r.score for r in results)
    max_points = len(scored)
    percent = math.floor(1000 * points / max_points) / 10 if max_points else 0.0
    passed = None
    if attempt.mode is AttemptMode.GRADED and quiz.policy.pass_mark_percent is not None:
        passed = percent >= quiz.policy.pass_mark_percent
    _claim_revision(
        attempt,
        expected_revision,
        status=AttemptStatus.FINISHED,
        finished_at=now,
        points=points,
        max_points=max_points,
        percent=percent,
        passed=passed,
    )
    _write_items(items, responses, graded=True, quiz=quiz)
    return FinishOutcome(points, max_points, percent, passed)


def all_standings(user: User, catalog, now: datetime) -> dict[str, policy.Standing]:
    """Standing on every quiz, from one query over the learner's graded attempts."""
    attempts = db.session.scalars(
        sa.select(Attempt).where(Attempt.user_id == user.id, Attempt.mode == AttemptMode.GRADED)
    ).all()
    by_quiz: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_quiz.setdefault(attempt.quiz_id, []).append(attempt)
    extra = extra_attempts(user.id)
    return {
        quiz.id: policy.standing(quiz, by_quiz.get(quiz.id, []), now, extra.get(quiz.id, 0)) for quiz in catalog.quizzes
    }
