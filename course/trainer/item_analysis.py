"""Item analysis per quiz: facility, discrimination, option distribution and, per graded quiz, the
reliability of the score (KR-20 or Cronbach's alpha) with the standard error of measurement. Pure."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

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


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _option_shares(question: Question, responses: list[Any]) -> list[OptionShare]:
    total = len(responses)
    if question.type == "matching":
        # Per item: how often it was placed in each category; reported as "item → category".
        counts: Counter = Counter()
        for response in responses:
            for item_id, category in (response or {}).items():
                counts[(item_id, category)] += 1
        shares = []
        for item in question.items:
            for category in question.categories:
                n = counts[(item.id, category.id)]
                if n:
                    shares.append(
                        OptionShare(
                            f"{item.text} → {category.label}",
                            n,
                            n / total,  # n > 0, so some response was counted: total > 0
                            item.category == category.id,
                        )
                    )
        return shares
    counts = Counter()
    for response in responses:
        for option_id in response if isinstance(response, list) else [response]:
            if option_id is not None:
                counts[option_id] += 1
    return [
        OptionShare(option.text, counts[option.id], counts[option.id] / total if total else 0, option.correct)
        for option in question.options
    ]


def analyse(quiz: Quiz, rows: Iterable[ItemRow]) -> list[ItemStats]:
    by_question: dict[str, list[ItemRow]] = defaultdict(list)
    for row in rows:
        if row.score is not None:
            by_question[row.question_id].append(row)
    stats = []
    for question in quiz.all_questions:
        answered = by_question.get(question.id, [])
        discrimination = None
        if len(answered) >= MIN_ATTEMPTS:
            ranked = sorted(answered, key=lambda r: r.attempt_percent)
            size = max(1, round(len(ranked) * GROUP_SHARE))
            discrimination = _mean([r.score for r in ranked[-size:]]) - _mean([r.score for r in ranked[:size]])
        stats.append(
            ItemStats(
                question=question,
                answered=len(answered),
                facility=_mean([r.score for r in answered]),
                discrimination=discrimination,
                options=_option_shares(question, [r.response for r in answered]),
            )
        )
    return stats


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


def _variance(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def reliability(quiz: Quiz, rows: Iterable[ItemRow], minimum: int = MIN_RELIABILITY_ATTEMPTS) -> Reliability | None:
    """Alpha from the mean item variance v and the mean covariance c of item pairs asked together:
    alpha = k c / (v + (k - 1) c), k the questions per attempt. On a fixed set of questions this is
    exactly Cronbach's alpha (KR-20 for 0/1 items); for a test drawn from pools every attempt has other
    questions, and the pairs that met in some attempts estimate the covariance (docs/toetsplan.md)."""
    if not quiz.is_graded:
        return None
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    percents: dict[int, float] = {}
    for row in rows:
        if row.score is not None:
            scores[row.attempt_id][row.question_id] = row.score
            percents[row.attempt_id] = row.attempt_percent
    method = "KR-20" if all(q.type in DICHOTOMOUS for q in quiz.all_questions) else "Cronbachs alfa"
    n = len(scores)
    k = sum(len(s) for s in scores.values()) / n if n else 0.0
    if n < minimum:
        return Reliability(n, method, k, None, None, minimum)
    by_item: dict[str, dict[int, float]] = defaultdict(dict)
    for attempt_id, answered in scores.items():
        for question_id, score in answered.items():
            by_item[question_id][attempt_id] = score
    variances = [_variance(list(v.values())) for v in by_item.values() if len(v) >= 2]
    covariances = []
    for a, b in combinations(sorted(by_item), 2):
        both = sorted(by_item[a].keys() & by_item[b].keys())
        if len(both) >= 2:
            xs, ys = [by_item[a][i] for i in both], [by_item[b][i] for i in both]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            covariances.append(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / len(both))
    if not variances or not covariances:
        return Reliability(n, method, k, None, None, minimum)
    v = sum(variances) / len(variances)
    c = sum(covariances) / len(covariances)
    denominator = v + (k - 1) * c
    if denominator <= 0:
        return Reliability(n, method, k, None, None, minimum)
    alpha = k * c / denominator
    spread = list(percents.values())
    mean = sum(spread) / n
    sd = math.sqrt(sum((p - mean) ** 2 for p in spread) / (n - 1))
    return Reliability(n, method, k, alpha, sd * math.sqrt(1 - max(alpha, 0.0)), minimum)
