"""Item analysis per quiz: facility, discrimination, option distribution and, per graded quiz, the
reliability of the score (KR-20 or Cronbach's alpha) with the standard error of measurement.

The statistics are computed from totals (counts and sums per question, per pair of questions asked
together, per chosen option, per attempt), never from the answers themselves: `collect()` lets the
database add them up in a fixed number of GROUP BY statements, so neither time in the app nor memory
grows with the number of answers; `totals_of()` adds up rows in Python for the pure tests. The
formulas that turn totals into statistics are the same for both (docs/decisions.md)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from course.models import Attempt, AttemptItem, AttemptMode, AttemptStatus, GroupMember
from course.quizzes.definitions import Question, Quiz

GROUP_SHARE = 0.27  # upper and lower 27% of attempts, the classic Kelley split
MIN_ATTEMPTS = 10  # below this the discrimination index says little
# Below this many answers to a question the page makes no judgement about it ("makkelijk", "misvatting?"):
# one answer makes a question 0% or 100% "easy". The numbers are still shown, the flags are not.
MIN_ANSWERS_FOR_FLAGS = MIN_ATTEMPTS
# Below this many finished graded attempts a reliability coefficient is too unstable to report
# (docs/toetsplan.md): its standard error is roughly (1 - alpha) * sqrt(2 / n), about 0.08 at alpha 0.7 and n 30.
MIN_RELIABILITY_ATTEMPTS = 30
DICHOTOMOUS = ("single_choice", "true_false")  # scored 0 or 1; others earn partial credit


@dataclass(frozen=True)
class ItemRow:
    attempt_id: int
    attempt_percent: float
    question_id: str
    score: float | None
    response: Any


@dataclass
class OptionShare:
    label: str
    count: int
    share: float
    correct: bool


@dataclass
class ItemStats:
    question: Question
    answered: int
    facility: float | None  # mean score 0..1
    discrimination: float | None  # facility(upper) - facility(lower), -1..1
    options: list[OptionShare] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        return flags_of(self)


def flags_of(stats: ItemStats) -> list[str]:
    """What a trainer should look at in this question (a plain function: mutmut skips decorated ones)."""
    notes: list[str] = []
    if stats.answered < MIN_ANSWERS_FOR_FLAGS:
        return notes
    if stats.facility is not None and stats.facility < 0.3:
        notes.append("moeilijk: minder dan 30% goed")
    if stats.facility is not None and stats.facility > 0.9:
        notes.append("makkelijk: meer dan 90% goed")
    if stats.discrimination is not None and stats.discrimination < 0.2:
        notes.append("onderscheidt zwak tussen sterke en zwakke cursisten")
    popular_wrong = [o for o in stats.options if not o.correct and o.share >= 0.3]
    if popular_wrong:
        notes.append(f"veelgekozen onjuist antwoord: ‘{popular_wrong[0].label}’ (misvatting?)")
    return notes


# --- totals ----------------------------------------------------------------------------------------


def group_size(answered: int) -> int:
    """How many attempts make up the upper and the lower group of a question answered `answered` times."""
    return max(1, round(answered * GROUP_SHARE))


@dataclass(frozen=True)
class ItemTotals:
    """The scored answers to one question. The lower and upper group are the `group_size(answered)`
    attempts with the lowest and the highest attempt percent (equal percents: the lower attempt id first)."""

    answered: int
    score_sum: float
    square_sum: float
    constant: bool  # every answer scored the same: the variance is exactly 0
    lower_sum: float
    upper_sum: float


@dataclass(frozen=True)
class PairTotals:
    """Two questions scored in the same attempts (`both` of them)."""

    both: int
    sum_a: float
    sum_b: float
    product_sum: float
    constant: bool  # one of the two scored the same in all these attempts: the covariance is exactly 0


@dataclass
class Totals:
    attempts: int = 0  # finished graded attempts in scope that hold a question
    scored_attempts: int = 0  # … of which at least one question was scored
    scored_items: int = 0  # scored questions in all those attempts together
    percent_sum: float = 0.0  # attempt percents of the scored attempts
    percent_square_sum: float = 0.0
    percent_constant: bool = True
    items: dict[str, ItemTotals] = field(default_factory=dict)
    # (question id, matching item id or None, chosen option or category id) -> how often chosen
    choices: Counter = field(default_factory=Counter)
    pairs: dict[tuple[str, str], PairTotals] = field(default_factory=dict)


def _chosen(response: Any) -> list[tuple[str | None, str]]:
    """(matching item or None, chosen id) per choice in one stored response; ids are strings."""
    if isinstance(response, dict):
        return [(item, value) for item, value in response.items() if isinstance(value, str)]
    values = response if isinstance(response, list) else [response]
    return [(None, value) for value in values if isinstance(value, str)]


def totals_of(rows: Iterable[ItemRow]) -> Totals:
    """The totals of answer rows, added up in Python (what `collect()` has the database do)."""
    rows = list(rows)
    scored = [r for r in rows if r.score is not None]
    totals = Totals(attempts=len({r.attempt_id for r in rows}))
    percents = {r.attempt_id: r.attempt_percent for r in scored}
    totals.scored_attempts = len(percents)
    totals.scored_items = len(scored)
    totals.percent_sum = sum(percents.values())
    totals.percent_square_sum = sum(p * p for p in percents.values())
    totals.percent_constant = len(set(percents.values())) <= 1
    by_question: dict[str, list[ItemRow]] = {}
    for row in scored:
        by_question.setdefault(row.question_id, []).append(row)
        for item, value in _chosen(row.response):
            totals.choices[(row.question_id, item, value)] += 1
    for question_id, answered in by_question.items():
        ranked = sorted(answered, key=lambda r: (r.attempt_percent, r.attempt_id))
        size = group_size(len(ranked))
        totals.items[question_id] = ItemTotals(
            answered=len(answered),
            score_sum=sum(r.score for r in answered),
            square_sum=sum(r.score * r.score for r in answered),
            constant=len({r.score for r in answered}) == 1,
            lower_sum=sum(r.score for r in ranked[:size]),
            upper_sum=sum(r.score for r in ranked[-size:]),
        )
    scores = {q: {r.attempt_id: r.score for r in answered} for q, answered in by_question.items()}
    for a, b in combinations(sorted(scores), 2):
        both = scores[a].keys() & scores[b].keys()
        if both:
            xs, ys = [scores[a][i] for i in both], [scores[b][i] for i in both]
            totals.pairs[(a, b)] = PairTotals(
                both=len(both),
                sum_a=sum(xs),
                sum_b=sum(ys),
                product_sum=sum(x * y for x, y in zip(xs, ys, strict=True)),
                constant=len(set(xs)) == 1 or len(set(ys)) == 1,
            )
    return totals


def _scored(attempts: sa.Subquery) -> sa.Select:
    return (
        sa.select(AttemptItem.attempt_id, AttemptItem.question_id, AttemptItem.score, attempts.c.percent)
        .join(attempts, attempts.c.id == AttemptItem.attempt_id)
        .where(AttemptItem.score.is_not(None))
    )


def _attempt_totals(session: Session, attempts: sa.Subquery, totals: Totals) -> None:
    per_attempt = (
        sa.select(
            AttemptItem.attempt_id,
            sa.func.count(AttemptItem.score).label("scored"),
            sa.func.max(attempts.c.percent).label("percent"),
        )
        .join(attempts, attempts.c.id == AttemptItem.attempt_id)
        .group_by(AttemptItem.attempt_id)
        .subquery()
    )
    percent = sa.case((per_attempt.c.scored > 0, per_attempt.c.percent))
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(percent),
            sa.func.sum(per_attempt.c.scored),
            sa.func.sum(percent),
            sa.func.sum(percent * percent),
            sa.func.min(percent),
            sa.func.max(percent),
        )
    ).one()
    totals.attempts, totals.scored_attempts = row[0], row[1]
    totals.scored_items = int(row[2] or 0)
    totals.percent_sum, totals.percent_square_sum = float(row[3] or 0), float(row[4] or 0)
    totals.percent_constant = row[5] == row[6]


def _item_totals(session: Session, attempts: sa.Subquery, totals: Totals) -> None:
    scored = _scored(attempts).subquery()
    counts = session.execute(
        sa.select(
            scored.c.question_id,
            sa.func.count(),
            sa.func.sum(scored.c.score),
            sa.func.sum(scored.c.score * scored.c.score),
            sa.func.min(scored.c.score),
            sa.func.max(scored.c.score),
        ).group_by(scored.c.question_id)
    ).all()
    # The group size is Python's round() of a float product (as ever): computed here, handed to SQL per question.
    sizes = {question_id: group_size(answered) for question_id, answered, *_ in counts}
    ranked = sa.select(
        scored.c.question_id,
        scored.c.score,
        sa.func.row_number()
        .over(partition_by=scored.c.question_id, order_by=(scored.c.percent, scored.c.attempt_id))
        .label("rank"),
        sa.func.count().over(partition_by=scored.c.question_id).label("answered"),
    ).subquery()
    size = sa.case(sizes, value=ranked.c.question_id, else_=0) if sizes else sa.literal(0)
    groups = dict(
        (question_id, (lower, upper))
        for question_id, lower, upper in session.execute(
            sa.select(
                ranked.c.question_id,
                sa.func.sum(sa.case((ranked.c.rank <= size, ranked.c.score), else_=0.0)),
                sa.func.sum(sa.case((ranked.c.rank > ranked.c.answered - size, ranked.c.score), else_=0.0)),
            ).group_by(ranked.c.question_id)
        )
    )
    for question_id, answered, score_sum, square_sum, lowest, highest in counts:
        lower, upper = groups[question_id]
        totals.items[question_id] = ItemTotals(
            answered=answered,
            score_sum=float(score_sum),
            square_sum=float(square_sum),
            constant=lowest == highest,
            lower_sum=float(lower),
            upper_sum=float(upper),
        )


def _pair_totals(session: Session, attempts: sa.Subquery, totals: Totals) -> None:
    a, b = _scored(attempts).subquery("a"), _scored(attempts).subquery("b")
    result = session.execute(
        sa.select(
            a.c.question_id,
            b.c.question_id,
            sa.func.count(),
            sa.func.sum(a.c.score),
            sa.func.sum(b.c.score),
            sa.func.sum(a.c.score * b.c.score),
            sa.func.min(a.c.score) == sa.func.max(a.c.score),
            sa.func.min(b.c.score) == sa.func.max(b.c.score),
        )
        .join(b, sa.and_(b.c.attempt_id == a.c.attempt_id, a.c.question_id < b.c.question_id))
        .group_by(a.c.question_id, b.c.question_id)
    )
    for first, second, both, sum_a, sum_b, product_sum, constant_a, constant_b in result:
        totals.pairs[(first, second)] = PairTotals(
            both, float(sum_a), float(sum_b), float(product_sum), bool(constant_a or constant_b)
        )


def _choice_totals(session: Session, attempts: sa.Subquery, totals: Totals) -> None:
    """Counts per chosen option (or matching item and category), taken apart from the stored JSON by
    the database: json_each on SQLite, json_array_elements/json_each on PostgreSQL (docs/decisions.md)."""
    answers = (
        sa.select(AttemptItem.question_id, AttemptItem.response)
        .join(attempts, attempts.c.id == AttemptItem.attempt_id)
        .where(AttemptItem.score.is_not(None))
        .subquery("answer")
    )
    response = answers.c.response
    if session.get_bind().dialect.name == "postgresql":
        kind = sa.func.json_typeof(response)
        elements = (
            sa.func.json_array_elements(
                sa.case((kind == "array", response), (kind == "string", sa.func.json_build_array(response)))
            )
            .table_valued("value")
            .lateral("element")
        )
        entries = sa.func.json_each(sa.case((kind == "object", response))).table_valued("key", "value").lateral("entry")
        parts = sa.union_all(
            sa.select(answers.c.question_id, sa.null().label("item"), elements.c.value.label("value"))
            .select_from(answers)
            .join(elements, sa.true()),
            sa.select(answers.c.question_id, entries.c.key, entries.c.value)
            .select_from(answers)
            .join(entries, sa.true()),
        ).subquery("part")
        value = parts.c.value.op("#>>")(sa.literal_column("'{}'"))
        statement = (
            sa.select(parts.c.question_id, parts.c.item, value, sa.func.count())
            .where(sa.func.json_typeof(parts.c.value) == "string")
            .group_by(parts.c.question_id, parts.c.item, value)
        )
    else:
        each = sa.func.json_each(response).table_valued("key", "value", "type", name="part")
        item = sa.case((sa.func.json_type(response) == "object", each.c.key))
        statement = (
            sa.select(answers.c.question_id, item, each.c.value, sa.func.count())
            .select_from(answers)
            .join(each, sa.true())
            .where(each.c.type == "text")
            .group_by(answers.c.question_id, item, each.c.value)
        )
    for question_id, item, value, chosen in session.execute(statement):
        totals.choices[(question_id, item, value)] += chosen


def attempts_of_groups(quiz_id: str, group_ids: list[int]) -> sa.Select:
    """The attempts the analysis counts: finished graded attempts at `quiz_id` by members of the groups
    (members joined by accepting; practice and reset attempts count for nothing)."""
    members = sa.select(GroupMember.user_id).where(GroupMember.group_id.in_(group_ids))
    return sa.select(Attempt.id, Attempt.percent).where(
        Attempt.quiz_id == quiz_id,
        Attempt.mode == AttemptMode.GRADED,
        Attempt.status == AttemptStatus.FINISHED,
        Attempt.user_id.in_(members),
    )


def collect(session: Session, attempts: sa.Select) -> Totals:
    """The totals of the answers in `attempts` (a select of attempt `id` and `percent`), added up by the
    database in five statements, whatever the number of answers."""
    scope = attempts.subquery("scope")
    totals = Totals()
    _attempt_totals(session, scope, totals)
    _item_totals(session, scope, totals)
    _pair_totals(session, scope, totals)
    _choice_totals(session, scope, totals)
    return totals


# --- statistics from totals ------------------------------------------------------------------------


def _option_shares(question: Question, answered: int, choices: Counter) -> list[OptionShare]:
    if question.type == "matching":
        # Per item: how often it was placed in each category; reported as "item → category".
        shares = []
        for item in question.items:
            for category in question.categories:
                n = choices[(question.id, item.id, category.id)]
                if n:
                    shares.append(
                        OptionShare(
                            f"{item.text} → {category.label}",
                            n,
                            n / answered,  # n > 0, so some response was counted: answered > 0
                            item.category == category.id,
                        )
                    )
        return shares
    return [
        OptionShare(
            option.text,
            choices[(question.id, None, option.id)],
            choices[(question.id, None, option.id)] / answered if answered else 0,
            option.correct,
        )
        for option in question.options
    ]


def item_stats(quiz: Quiz, totals: Totals) -> list[ItemStats]:
    """Facility, discrimination and option shares of every question of `quiz`, in quiz order."""
    stats = []
    for question in quiz.all_questions:
        item = totals.items.get(question.id)
        answered = item.answered if item else 0
        discrimination = None
        if item and answered >= MIN_ATTEMPTS:
            size = group_size(answered)
            discrimination = item.upper_sum / size - item.lower_sum / size
        stats.append(
            ItemStats(
                question=question,
                answered=answered,
                facility=item.score_sum / answered if item else None,
                discrimination=discrimination,
                options=_option_shares(question, answered, totals.choices),
            )
        )
    return stats


def analyse(quiz: Quiz, rows: Iterable[ItemRow]) -> list[ItemStats]:
    return item_stats(quiz, totals_of(rows))


@dataclass(frozen=True)
class Reliability:
    """How consistently a graded quiz measures: KR-20 when every question scores 0 or 1, Cronbach's
    alpha when some earn partial credit (the same formula on other scores), and the standard error
    of measurement in percentage points of the attempt score."""

    attempts: int
    method: str
    items_per_attempt: float
    coefficient: float | None  # None below MIN_RELIABILITY_ATTEMPTS or when it cannot be estimated
    sem: float | None  # percentage points
    minimum: int = MIN_RELIABILITY_ATTEMPTS

    @property
    def too_few_attempts(self) -> bool:
        return self.attempts < self.minimum


def _variance(count: int, total: float, squares: float, constant: bool) -> float:
    """Population variance from sums; exactly 0 when every value is the same (no rounding left over)."""
    if constant:
        return 0.0
    mean = total / count
    return max(squares / count - mean * mean, 0.0)


def reliability_of(quiz: Quiz, totals: Totals, minimum: int = MIN_RELIABILITY_ATTEMPTS) -> Reliability | None:
    """Alpha from the mean item variance v and the mean covariance c of item pairs asked together:
    alpha = k c / (v + (k - 1) c), k the questions per attempt. On a fixed set of questions this is
    exactly Cronbach's alpha (KR-20 for 0/1 items); for a test drawn from pools every attempt has other
    questions, and the pairs that met in some attempts estimate the covariance (docs/toetsplan.md)."""
    if not quiz.is_graded:
        return None
    method = "KR-20" if all(q.type in DICHOTOMOUS for q in quiz.all_questions) else "Cronbachs alfa"
    n = totals.scored_attempts
    k = totals.scored_items / n if n else 0.0
    if n < minimum:
        return Reliability(n, method, k, None, None, minimum)
    variances = [
        _variance(i.answered, i.score_sum, i.square_sum, i.constant) for i in totals.items.values() if i.answered >= 2
    ]
    covariances = [
        0.0 if p.constant else p.product_sum / p.both - (p.sum_a / p.both) * (p.sum_b / p.both)
        for p in totals.pairs.values()
        if p.both >= 2
    ]
    if not variances or not covariances:
        return Reliability(n, method, k, None, None, minimum)
    v = sum(variances) / len(variances)
    c = sum(covariances) / len(covariances)
    denominator = v + (k - 1) * c
    if denominator <= 0:
        return Reliability(n, method, k, None, None, minimum)
    alpha = k * c / denominator
    spread = _variance(n, totals.percent_sum, totals.percent_square_sum, totals.percent_constant) * n / (n - 1)
    return Reliability(n, method, k, alpha, math.sqrt(spread) * math.sqrt(1 - max(alpha, 0.0)), minimum)


def reliability(quiz: Quiz, rows: Iterable[ItemRow], minimum: int = MIN_RELIABILITY_ATTEMPTS) -> Reliability | None:
    return reliability_of(quiz, totals_of(rows), minimum)
