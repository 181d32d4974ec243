"""Shape attempt items for templates. The key is only included when `show_key` is true."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from course.catalog import Catalog, Section
from course.models import AttemptItem
from course.quizzes.definitions import Question, Quiz

# Many explanations in quizzes/ open with their own verdict ("Onjuist: ..."); the review page states the
# verdict as a label of its own, so saying it twice ("Onjuist. Onjuist: ...") is left out.
_LEADING_VERDICT = re.compile(r"^\s*(?:Juist|Onjuist)\s*:\s*")


def without_verdict(explanation: str | None) -> str | None:
    """The explanation without a leading "Juist:"/"Onjuist:", starting with a capital."""
    if not explanation:
        return explanation
    rest = _LEADING_VERDICT.sub("", explanation, count=1)
    return rest[:1].upper() + rest[1:] if rest else explanation


@dataclass
class ShownOption:
    value: str  # display position, the only thing the form posts
    text: str
    chosen: bool
    correct: bool | None = None  # None unless the key may be shown
    explanation: str | None = None


@dataclass
class ShownRow:
    value_name: str
    text: str
    chosen_category: str | None
    correct_category: str | None = None  # id, only when the key may be shown
    correct_label: str | None = None
    explanation: str | None = None


@dataclass
class ShownQuestion:
    number: int
    position: int
    type: str
    prompt: str
    section: Section | None  # None: a retired question (no longer in the bank)
    editable: bool
    options: list[ShownOption] = field(default_factory=list)
    rows: list[ShownRow] = field(default_factory=list)
    categories: list[tuple[str, str]] = field(default_factory=list)
    score: float | None = None
    correct: bool | None = None
    answered: bool = False
    flagged: bool = False  # marked "voor later" by the learner (open attempts only)

    @property
    def field_name(self) -> str:
        return f"q{self.position}"


@dataclass
class ShownDecision:
    """The decision closing a stage of a branching case: open (choices to pick) or made (the choice)."""

    prompt: str
    choices: list[tuple[str, str]]  # (value posted, text); values are places on the page, as for options
    chosen: str | None  # the text of the choice made, None while open


@dataclass
class ShownBlock:
    """A page of the attempt: optionally a vignette stage, with its questions."""

    page: int
    vignette_title: str | None
    stage_texts: list[str]
    questions: list[ShownQuestion]
    locked: bool
    decision: ShownDecision | None = None


def _shown(
    question: Question, item: AttemptItem, number: int, catalog: Catalog, editable: bool, show_key: bool, graded: bool
) -> ShownQuestion:
    response: Any = item.response
    shown = ShownQuestion(
        number=number,
        position=item.position,
        type=question.type,
        prompt=question.prompt,
        section=catalog.section(question.section),
        editable=editable,
        answered=response is not None,
        flagged=editable and item.flagged,
    )
    if graded:
        shown.score, shown.correct = item.score, item.correct
    if question.type == "matching":
        shown.categories = [(c.id, c.label) for c in question.categories]
        for row, item_id in enumerate(item.option_order):
            match_item = question.item(item_id)
            shown.rows.append(
                ShownRow(
                    value_name=f"{shown.field_name}-{row}",
                    text=match_item.text,
                    chosen_category=(response or {}).get(item_id),
                    correct_category=match_item.category if show_key else None,
                    correct_label=question.category(match_item.category).label if show_key else None,
                    explanation=match_item.explanation if show_key else None,
                )
            )
        return shown
    chosen = set(response) if isinstance(response, list) else {response}
    for index, option_id in enumerate(item.option_order):
        option = question.option(option_id)
        shown.options.append(
            ShownOption(
                value=str(index),
                text=option.text,
                chosen=option_id in chosen,
                correct=option.correct if show_key else None,
                explanation=without_verdict(option.explanation) if show_key else None,
            )
        )
    return shown


def present(
    quiz: Quiz,
    catalog: Catalog,
    items: list[AttemptItem],
    open_page: int | None,
    show_key: bool,
    allow_edit: bool = True,
    decisions: dict[tuple[str, str], str] | None = None,
) -> list[ShownBlock]:
    """Blocks up to `open_page` (None: a finished attempt, every page, graded).

    `allow_edit=False` shows an open attempt read-only (a trainer looking on). `decisions` (case id,
    stage id) -> chosen stage id shows the route of a branching case; None: a practice round."""
    blocks: dict[tuple, ShownBlock] = {}
    graded = open_page is None
    for number, item in enumerate(items, start=1):
        if open_page is not None and item.page > open_page:
            continue
        question = quiz.question(item.question_id)
        if question is None:  # asked under an earlier content version: the score stays, the text is gone
            block = blocks.setdefault((item.page, item.vignette_id, "retired"), _block(item, None, open_page))
            block.questions.append(_retired(item, number, graded))
            continue
        found = quiz.vignette_stage(question.id) if item.vignette_id else None
        key = (item.page, item.vignette_id, found[1] if found else None)
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = _block(item, found, open_page)
            if found and decisions is not None:
                block.decision = _decision(found, decisions)
        editable = allow_edit and open_page is not None and item.page == open_page
        block.questions.append(_shown(question, item, number, catalog, editable, show_key, graded))
    return list(blocks.values())


RETIRED_TEXT = (
    "Deze vraag hoorde bij een eerdere versie van de toets en staat niet meer in de vragenbank. "
    "Je antwoord en je score blijven meetellen zoals ze bij het afronden zijn vastgelegd."
)


def _retired(item: AttemptItem, number: int, graded: bool) -> ShownQuestion:
    shown = ShownQuestion(
        number=number,
        position=item.position,
        type="retired",
        prompt=RETIRED_TEXT,
        section=None,
        editable=False,
        answered=item.response is not None,
    )
    if graded:
        shown.score, shown.correct = item.score, item.correct
    return shown


def _block(item: AttemptItem, found: tuple | None, open_page: int | None) -> ShownBlock:
    title, texts = None, []
    if found:
        vignette, stage_index = found
        title = vignette.title
        texts = [vignette.stages[stage_index].text]
        if item.page == 0 and stage_index > 0:  # a practice attempt: show the story so far
            # (in a branching case: the stages on every route to this one, whatever was chosen)
            texts = [vignette.stages[i].text for i in vignette.story_to(stage_index)]
    return ShownBlock(
        page=item.page,
        vignette_title=title,
        stage_texts=texts,
        questions=[],
        locked=open_page is not None and item.page < open_page,
    )


def _decision(found: tuple, decisions: dict[tuple[str, str], str]) -> ShownDecision | None:
    vignette, stage_index = found
    stage = vignette.stages[stage_index]
    if stage.decision is None:
        return None
    chosen = decisions.get((vignette.id, stage.id))
    choice = stage.decision.choice(chosen) if chosen else None
    return ShownDecision(
        prompt=stage.decision.prompt,
        choices=[(str(n), c.text) for n, c in enumerate(stage.decision.choices)],
        chosen=choice.text if choice else None,
    )
