"""Frozen quiz definitions as loaded from quizzes/*.yaml."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class QuizKind(enum.StrEnum):
    FORMATIVE = "formative"  # per-lesson knowledge check: feedback at once, unlimited tries
    SUMMATIVE = "summative"  # final test drawn from pools
    VIGNETTE = "vignette"  # case-vignette test


class Counting(enum.StrEnum):
    BEST = "best"
    LAST = "last"


class ReviewPolicy(enum.StrEnum):
    IMMEDIATELY = "immediately"  # answers and explanations right after each attempt
    AFTER_PASS = "after_pass"  # right/wrong per question; answers once passed or out of attempts
    NEVER = "never"  # score and sections to reread only


# What a vignette can be tagged as covering; the vignette test must cover all of them.
COVERAGE_TAGS = (
    "ouder",  # risk area: kenmerken en gedrag van de ouder
    "kind",  # risk area: kenmerken van het jonge kind
    "stabiliteit",  # risk area: stabiliteit en continuïteit in het contact
    "gezin",  # risk area: gezins- en leefomstandigheden
    "beschermend",  # protective factors
    "compensatie-kindrisico",  # parent/family protection compensates a child risk factor
    "geen-compensatie-ouderrisico",  # favourable child factors do not compensate a parent risk
    "stapeling",  # risks accumulate across domains
)

# Cognitive levels of the test blueprint (quizzes/toetsmatrijs.yaml), lowest first.
LEVELS = ("kennis", "begrip", "toepassing", "analyse")

# Where a case is set: the practice the learner works in.
SETTINGS = (
    "consultatiebureau",
    "jeugdteam",
    "pleegzorg",
    "kinderopvang",
    "kraamzorg",
    "verloskunde",
    "volwassenen-ggz",
    "wijkteam",
)


@dataclass(frozen=True)
class Goal:
    """A learning goal of the blueprint; lesson goals mirror a lesson's `learning_goals`."""

    id: str
    level: str
    text: str
    lesson: str | None = None  # None for the case goals (application and analysis)


@dataclass(frozen=True)
class Blueprint:
    goals: tuple[Goal, ...]
    source_file: str = ""

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)


@dataclass(frozen=True)
class Option:
    id: str  # "a", "b", ... in definition order
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class Category:
    id: str
    label: str


@dataclass(frozen=True)
class MatchItem:
    id: str  # "1", "2", ... in definition order
    text: str
    category: str
    explanation: str


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    section: str
    prompt: str
    pool: str | None = None
    options: tuple[Option, ...] = ()
    categories: tuple[Category, ...] = ()
    items: tuple[MatchItem, ...] = ()
    goals: tuple[str, ...] = ()  # blueprint goal ids (required in summative and case tests)
    level: str | None = None  # one of LEVELS
    needs_case: bool | None = None  # case questions: can it be answered only with the case text?
    source_file: str = ""

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def item(self, item_id: str) -> MatchItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


@dataclass(frozen=True)
class Choice:
    """One way to go on after a decision: the text the learner picks and the stage it leads to."""

    text: str
    next: str  # stage id


@dataclass(frozen=True)
class Decision:
    """The end of a stage in a branching case: the learner picks how the case goes on. Not scored:
    the choices gather different information, and every path is scored on the same blueprint."""

    prompt: str
    choices: tuple[Choice, ...]

    def choice(self, next_stage: str) -> Choice | None:
        return next((c for c in self.choices if c.next == next_stage), None)


@dataclass(frozen=True)
class Stage:
    text: str
    questions: tuple[Question, ...]
    id: str = ""  # required in a branching case, where decisions and `next` name stages
    decision: Decision | None = None
    next: str | None = None  # branching case: the stage that follows (None: the path ends here)


@dataclass(frozen=True)
class Vignette:
    id: str
    title: str
    covers: tuple[str, ...]
    stages: tuple[Stage, ...]
    setting: str = ""

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question of every stage (of every path, in a branching case)."""
        return tuple(q for stage in self.stages for q in stage.questions)

    @property
    def branching(self) -> bool:
        return any(stage.decision for stage in self.stages)

    def stage_index(self, stage_id: str) -> int | None:
        return next((i for i, stage in enumerate(self.stages) if stage.id == stage_id), None)

    def segment(self, start: int) -> tuple[int, ...]:
        """Stage indexes from `start` up to and including the next decision (or the path's end)."""
        if not self.branching:
            return tuple(range(start, len(self.stages)))
        out = [start]
        while self.stages[out[-1]].decision is None and self.stages[out[-1]].next is not None:
            out.append(self.stage_index(self.stages[out[-1]].next))
        return tuple(out)

    def paths(self) -> tuple[tuple[int, ...], ...]:
        """Every route through the case as stage indexes (a linear case has one). The loader has
        checked that the stage ids resolve and that no route runs in a circle."""
        if not self.branching:
            return (tuple(range(len(self.stages))),)
        found: list[tuple[int, ...]] = []

        def walk(prefix: tuple[int, ...]) -> None:
            stage = self.stages[prefix[-1]]
            following = [c.next for c in stage.decision.choices] if stage.decision else [stage.next]
            if following == [None]:
                found.append(prefix)
            for stage_id in following:
                if stage_id is not None:
                    walk((*prefix, self.stage_index(stage_id)))

        walk((0,))
        return tuple(found)

    @property
    def path_length(self) -> int:
        """Stages (= pages) on a route; the loader makes every route of a branching case equally long."""
        return len(self.paths()[0])

    def story_to(self, index: int) -> tuple[int, ...]:
        """The stages on every route to stage `index`, in order: the story that holds whatever was chosen."""
        routes = [path[: path.index(index) + 1] for path in self.paths() if index in path]
        if not routes:
            return (index,)
        return tuple(i for i in routes[0] if all(i in route for route in routes))


@dataclass(frozen=True)
class Draw:
    pool: str
    count: int


@dataclass(frozen=True)
class Policy:
    max_attempts: int | None
    cooldown_minutes: int
    counts: Counting
    review: ReviewPolicy
    pass_mark_percent: int | None


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    kind: QuizKind
    description: str
    policy: Policy
    lesson: str | None = None
    questions: tuple[Question, ...] = ()
    draw: tuple[Draw, ...] = ()
    vignettes: tuple[Vignette, ...] = ()
    vignettes_per_attempt: int = 0
    # Case test: every attempt holds at least this many cases with each tag, as (tag, count) pairs.
    require_covers: tuple[tuple[str, int], ...] = ()
    # Final test: sections every attempt must hold a question of (the leaves: "1", "2.1", ... "6").
    cover_sections: tuple[str, ...] = ()
    source_file: str = ""
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        every = list(self.questions) + [q for v in self.vignettes for q in v.questions]
        self._by_id.update({q.id: q for q in every})

    @property
    def all_questions(self) -> tuple[Question, ...]:
        return tuple(self._by_id.values())

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def vignette(self, vignette_id: str) -> Vignette | None:
        return next((v for v in self.vignettes if v.id == vignette_id), None)

    def vignette_stage(self, question_id: str) -> tuple[Vignette, int] | None:
        """The vignette holding `question_id` and the index of the stage that asks it."""
        for vignette in self.vignettes:
            for index, stage in enumerate(vignette.stages):
                if any(q.id == question_id for q in stage.questions):
                    return vignette, index
        return None

    @property
    def is_graded(self) -> bool:
        return self.kind is not QuizKind.FORMATIVE
