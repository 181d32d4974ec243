"""Item analysis per quiz: facility, discrimination and option distribution. Pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from course.quizzes.definitions import Question, Quiz

GROUP_SHARE = 0.27  # upper and lower 27% of attempts, the classic Kelley split
MIN_ATTEMPTS = 10  # below this the discrimination index says little


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
    notes = []
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
