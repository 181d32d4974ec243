"""The item analysis as it was computed before issue 15: every answer row loaded into Python. Kept
only as the reference the SQL totals (course/trainer/item_analysis.py) are compared with."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations
from typing import Any

from course.quizzes.definitions import Question, Quiz
from course.trainer.item_analysis import (
    DICHOTOMOUS,
    GROUP_SHARE,
    MIN_ATTEMPTS,
    MIN_RELIABILITY_ATTEMPTS,
    ItemRow,
    ItemStats,
    OptionShare,
    Reliability,
)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _option_shares(question: Question, responses: list[Any]) -> list[OptionShare]:
    total = len(responses)
    if question.type == "matching":
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
                        OptionShare(f"{item.text} → {category.label}", n, n / total, item.category == category.id)
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
    """Rows in attempt id order: equal attempt percents then rank as they did (sorted() is stable)."""
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


def _variance(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def reliability(quiz: Quiz, rows: Iterable[ItemRow], minimum: int = MIN_RELIABILITY_ATTEMPTS) -> Reliability | None:
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
