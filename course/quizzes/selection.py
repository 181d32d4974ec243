"""Which questions an attempt asks, and in which order. Pure: randomness comes in as `rng`."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from course.quizzes.definitions import Question, Quiz, QuizKind, Vignette
from course.quizzes.loader import section_slots


@dataclass(frozen=True)
class PlannedItem:
    question_id: str
    page: int  # vignette stages unfold page by page; other quizzes have one page
    vignette_id: str | None
    option_order: tuple[str, ...]  # option ids, or matching item ids, in display order
    position: int = 0  # 1-based place in the attempt; 0: the next free one (in plan order)


def _least_used_first(candidates: list, used: Counter, key, rng: random.Random) -> list:
    """Candidates the learner saw least often come first; ties are broken at random."""
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda c: used[key(c)])


def display_order(question: Question, rng: random.Random) -> tuple[str, ...]:
    if question.type == "matching":
        ids = [item.id for item in question.items]
    else:
        ids = [option.id for option in question.options]
    if question.type != "true_false":  # "Waar" before "Niet waar" reads naturally
        rng.shuffle(ids)
    return tuple(ids)


def plan_attempt(quiz: Quiz, seen: Counter, rng: random.Random) -> list[PlannedItem]:
    """The items of a new attempt. `seen` counts how often the learner already got each
    question or vignette id, so a retake draws different ones where the bank allows."""
    if quiz.kind is QuizKind.VIGNETTE:
        chosen = choose_cases(quiz, seen, rng)
        items: list[PlannedItem] = []
        page = position = 0
        for vignette in chosen:
            # A branching case is planned up to its first decision; the chosen stages follow when the
            # learner decides (plan_stages), in the places and pages kept free for them here: every
            # route has the same number of stages and questions (loader).
            route = vignette.paths()[0]
            segment = vignette.segment(0)
            for offset, index in enumerate(segment):
                planned = plan_stages(vignette, (index,), page + offset, position + 1, rng)
                items += planned
                position += len(planned)
            position += sum(len(vignette.stages[i].questions) for i in route[len(segment) :])
            page += len(route)
        return items
    if quiz.draw:
        questions = choose_questions(quiz, seen, rng)
        rng.shuffle(questions)
    else:
        questions = list(quiz.questions)
    return [PlannedItem(q.id, 0, None, display_order(q, rng)) for q in questions]


def plan_stages(
    vignette: Vignette, indexes: tuple[int, ...], first_page: int, first_position: int, rng: random.Random
) -> list[PlannedItem]:
    """The items of consecutive stages of one case, a page per stage, numbered from `first_position`."""
    items = []
    for page, index in enumerate(indexes, start=first_page):
        for question in vignette.stages[index].questions:
            items.append(
                PlannedItem(question.id, page, vignette.id, display_order(question, rng), first_position + len(items))
            )
    return items


def choose_questions(quiz: Quiz, seen: Counter, rng: random.Random) -> list[Question]:
    """`count` questions per pool. When the quiz covers every section, each pool first takes, for each
    section assigned to it, the question of that section seen least; the rest of the pool's count goes
    to the questions seen least. The loader has checked that an assignment exists."""
    slots = section_slots(quiz.questions, quiz.draw, quiz.cover_sections) if quiz.cover_sections else {}
    chosen: list[Question] = []
    for draw in quiz.draw:
        pool = _least_used_first([q for q in quiz.questions if q.pool == draw.pool], seen, lambda q: q.id, rng)
        picked = [next(q for q in pool if q.section == section) for section, p in slots.items() if p == draw.pool]
        picked += [q for q in pool if q not in picked][: draw.count - len(picked)]
        chosen += picked
    return chosen


def choose_cases(quiz: Quiz, seen: Counter, rng: random.Random) -> list[Vignette]:
    """`vignettes_per_attempt` cases holding every tag of `require_covers` often enough; of those sets,
    the one whose cases the learner saw least (fewest earlier sightings in total), ties at random.
    The loader has checked that such a set exists; banks are small (12 cases: 220 sets of 3)."""
    required = dict(quiz.require_covers)
    candidates = [
        combo
        for combo in combinations(quiz.vignettes, quiz.vignettes_per_attempt)
        if all(sum(tag in v.covers for v in combo) >= n for tag, n in required.items())
    ]
    rng.shuffle(candidates)
    best = min(candidates, key=lambda combo: sum(seen[v.id] for v in combo))
    cases = list(best)
    rng.shuffle(cases)
    return cases


def plan_practice(quiz: Quiz, mistakes: list[str], rng: random.Random) -> list[PlannedItem]:
    """A practice attempt from the question ids the learner answered wrongly, one page."""
    questions = [quiz.question(qid) for qid in dict.fromkeys(mistakes) if quiz.question(qid) is not None]
    rng.shuffle(questions)
    if quiz.vignettes:  # keep the questions of one case and stage together, in story order
        order = {q.id: n for n, q in enumerate(quiz.all_questions)}
        questions.sort(key=lambda q: order[q.id])
    # Vignette questions keep their case, so the scenario can be shown with them again.
    return [PlannedItem(q.id, 0, _vignette_id(quiz, q.id), display_order(q, rng)) for q in questions]


def _vignette_id(quiz: Quiz, question_id: str) -> str | None:
    found = quiz.vignette_stage(question_id)
    return found[0].id if found else None
