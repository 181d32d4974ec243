"""Read quizzes/*.yaml into Quiz definitions; every error names the file and the field."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from course.catalog.errors import ContentError
from course.quizzes.definitions import (
    COVERAGE_TAGS,
    LEVELS,
    SETTINGS,
    Blueprint,
    Category,
    Choice,
    Counting,
    Decision,
    Draw,
    Goal,
    MatchItem,
    Option,
    Policy,
    Question,
    Quiz,
    QuizKind,
    ReviewPolicy,
    Stage,
    Vignette,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
QUESTION_TYPES = ("single_choice", "multiple_response", "true_false", "matching")
TRUE_FALSE_LABELS = ("Waar", "Niet waar")
BLUEPRINT_FILE = "toetsmatrijs.yaml"

_DEFAULT_POLICY = {
    QuizKind.FORMATIVE: {"max_attempts": None, "cooldown_minutes": 0, "counts": "best", "review": "immediately"},
    QuizKind.SUMMATIVE: {"max_attempts": 3, "cooldown_minutes": 0, "counts": "best", "review": "after_pass"},
    QuizKind.VIGNETTE: {"max_attempts": 3, "cooldown_minutes": 0, "counts": "best", "review": "after_pass"},
}


class _Reader:
    """Field access that reports `file: field: problem`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> ContentError:
        return ContentError(self.path, f"{where}: {problem}" if where else problem)

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "moet een mapping zijn")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(where, f"onbekend veld '{unknown[0]}'")
        return value

    def text(self, data: dict[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}" if where else key, "ontbreekt of is geen tekst")
        return value.strip()

    def ident(self, data: dict[str, Any], key: str, where: str) -> str:
        value = self.text(data, key, where)
        if not _ID.match(value):
            raise self.fail(f"{where}.{key}" if where else key, f"'{value}' mag alleen a-z, 0-9 en '-' bevatten")
        return value

    def items(self, data: dict[str, Any], key: str, where: str, minimum: int = 1) -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list) or len(value) < minimum:
            raise self.fail(
                f"{where}.{key}" if where else key, f"moet een lijst met minstens {minimum} element(en) zijn"
            )
        return value

    def integer(self, data: dict[str, Any], key: str, where: str, minimum: int, maximum: int | None = None) -> int:
        value = data.get(key)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise self.fail(f"{where}.{key}" if where else key, f"moet een geheel getal {bounds} zijn")
        return value


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ContentError(path, "geen geldige UTF-8-tekst") from None
    except yaml.YAMLError as exc:
        raise ContentError(path, f"ongeldige YAML: {exc}") from None


def load_blueprint(quizzes_dir: Path, lesson_goals: dict[str, tuple[str, ...]]) -> Blueprint:
    """quizzes/toetsmatrijs.yaml: every lesson goal (`<lesson id>-<n>`) with a level, plus the case goals."""
    path = Path(quizzes_dir) / BLUEPRINT_FILE
    if not path.is_file():
        raise ContentError(path, "bestand ontbreekt (de toetsmatrijs met de leerdoelen)")
    r = _Reader(path)
    data = r.mapping(_read(path), "", {"goals"})
    mirrored = {
        f"{lesson}-{n}": (lesson, text) for lesson, texts in lesson_goals.items() for n, text in enumerate(texts, 1)
    }
    goals: list[Goal] = []
    for i, raw in enumerate(r.items(data, "goals", "")):
        g = r.mapping(raw, f"goals[{i}]", {"id", "level", "text"})
        goal_id = r.ident(g, "id", f"goals[{i}]")
        where = f"doel '{goal_id}'"
        if any(goal.id == goal_id for goal in goals):
            raise r.fail(where, "regel: elk doel-id komt één keer voor")
        level = g.get("level")
        if level not in LEVELS:
            raise r.fail(f"{where}.level", f"onbekend niveau {level!r} (regel: kies uit {', '.join(LEVELS)})")
        if goal_id in mirrored:
            if "text" in g:
                raise r.fail(f"{where}.text", "regel: een lesdoel neemt zijn tekst uit learning_goals van de les")
            lesson, text = mirrored[goal_id]
            goals.append(Goal(goal_id, level, text, lesson))
        elif any(goal_id.startswith(f"{lesson}-") and goal_id[len(lesson) + 1 :].isdigit() for lesson in lesson_goals):
            raise r.fail(where, "regel: de les heeft geen leerdoel met dit nummer (learning_goals in de les)")
        else:
            goals.append(Goal(goal_id, level, r.text(g, "text", where)))
    missing = [goal_id for goal_id in mirrored if all(goal.id != goal_id for goal in goals)]
    if missing:
        raise r.fail(f"doel '{missing[0]}'", "ontbreekt (regel: elk leerdoel van een les staat in de toetsmatrijs)")
    return Blueprint(goals=tuple(goals), source_file=str(path))


def load_quizzes(
    quizzes_dir: Path,
    section_numbers: set[str],
    lesson_ids: set[str],
    default_pass_mark: int,
    blueprint: Blueprint | None = None,
) -> tuple[Quiz, ...]:
    """Every quiz file except the blueprint. With a blueprint, goal ids must exist in it."""
    quizzes_dir = Path(quizzes_dir)
    if not quizzes_dir.is_dir():
        raise ContentError(quizzes_dir, "map met toetsen ontbreekt")
    goal_ids = {g.id for g in blueprint.goals} if blueprint else None
    quizzes: list[Quiz] = []
    seen_questions: dict[str, str] = {}
    for path in sorted(quizzes_dir.glob("*.yaml")):
        if path.name == BLUEPRINT_FILE:
            continue
        quiz = _load_quiz(path, section_numbers, lesson_ids, default_pass_mark, goal_ids)
        if any(q.id == quiz.id for q in quizzes):
            raise ContentError(path, f"id: toets '{quiz.id}' bestaat al")
        for question in quiz.all_questions:
            if question.id in seen_questions:
                raise ContentError(path, f"vraag '{question.id}': id komt ook voor in {seen_questions[question.id]}")
            seen_questions[question.id] = path.name
        quizzes.append(quiz)
    return tuple(quizzes)


def _load_quiz(
    path: Path, section_numbers: set[str], lesson_ids: set[str], default_pass_mark: int, goal_ids: set[str] | None
) -> Quiz:
    r = _Reader(path)
    raw = _read(path)
    data = r.mapping(
        raw,
        "",
        {
            "id",
            "title",
            "kind",
            "description",
            "lesson",
            "policy",
            "draw",
            "questions",
            "vignettes",
            "vignettes_per_attempt",
            "require_covers",
            "cover_every_section",
        },
    )
    if "cover_every_section" in data and (
        data.get("kind") != "summative" or not isinstance(data["cover_every_section"], bool)
    ):
        raise r.fail("cover_every_section", "regel: alleen een eindtoets (summative), true of false")
    quiz_id = r.ident(data, "id", "")
    if quiz_id != path.stem:
        raise r.fail("id", f"moet gelijk zijn aan de bestandsnaam ('{path.stem}')")
    try:
        kind = QuizKind(data.get("kind"))
    except ValueError:
        raise r.fail("kind", f"moet een van {', '.join(k.value for k in QuizKind)} zijn") from None

    lesson = data.get("lesson")
    if kind is QuizKind.FORMATIVE:
        if lesson not in lesson_ids:
            raise r.fail("lesson", f"les '{lesson}' bestaat niet")
    elif lesson is not None:
        raise r.fail("lesson", "alleen een kennischeck (formative) hoort bij één les")

    policy = _policy(r, data.get("policy", {}), kind, default_pass_mark)
    build = _QuestionBuilder(r, section_numbers, kind, goal_ids)
    questions: tuple[Question, ...] = ()
    vignettes: tuple[Vignette, ...] = ()
    draw: tuple[Draw, ...] = ()
    per_attempt = 0
    require_covers: tuple[tuple[str, int], ...] = ()
    cover_sections: tuple[str, ...] = ()
    if kind is QuizKind.VIGNETTE:
        if "questions" in data or "draw" in data:
            raise r.fail("questions", "een casustoets heeft 'vignettes', geen losse 'questions' of 'draw'")
        vignettes = tuple(
            _vignette(r, build, raw_v, f"vignettes[{i}]") for i, raw_v in enumerate(r.items(data, "vignettes", ""))
        )
        ids = [v.id for v in vignettes]
        if len(ids) != len(set(ids)):
            raise r.fail("vignettes", "een casus-id komt meer dan eens voor")
        per_attempt = r.integer(data, "vignettes_per_attempt", "", 1, len(vignettes))
        require_covers = _require_covers(r, data.get("require_covers", {}), vignettes, per_attempt)
    else:
        if "vignettes" in data or "vignettes_per_attempt" in data or "require_covers" in data:
            raise r.fail("vignettes", "alleen een casustoets (kind: vignette) heeft casussen")
        questions = tuple(
            build.question(raw_q, f"questions[{i}]") for i, raw_q in enumerate(r.items(data, "questions", ""))
        )
        draw = _draw(r, data.get("draw"), questions)
        if kind is QuizKind.SUMMATIVE and data.get("cover_every_section", False) is True:
            cover_sections = leaf_sections(section_numbers)
            _check_section_cover(r, questions, draw, cover_sections)

    asked = [q.id for q in questions] + [q.id for v in vignettes for q in v.questions]
    repeated = sorted({qid for qid in asked if asked.count(qid) > 1})
    if repeated:
        raise r.fail(f"vraag '{repeated[0]}'", "id komt meer dan eens voor in deze toets")
    return Quiz(
        id=quiz_id,
        title=r.text(data, "title", ""),
        kind=kind,
        description=r.text(data, "description", ""),
        policy=policy,
        lesson=lesson,
        questions=questions,
        draw=draw,
        vignettes=vignettes,
        vignettes_per_attempt=per_attempt,
        require_covers=require_covers,
        cover_sections=cover_sections,
        source_file=str(path),
    )


def _policy(r: _Reader, raw: Any, kind: QuizKind, default_pass_mark: int) -> Policy:
    data = {
        **_DEFAULT_POLICY[kind],
        **r.mapping(raw, "policy", {"max_attempts", "cooldown_minutes", "counts", "review", "pass_mark_percent"}),
    }
    max_attempts = None if data["max_attempts"] is None else r.integer(data, "max_attempts", "policy", 1)
    try:
        counts = Counting(data["counts"])
        review = ReviewPolicy(data["review"])
    except ValueError as exc:
        raise r.fail("policy", str(exc)) from None
    pass_mark = None
    if kind is not QuizKind.FORMATIVE:
        pass_mark = (
            r.integer(data, "pass_mark_percent", "policy", 1, 100) if "pass_mark_percent" in data else default_pass_mark
        )
    elif "pass_mark_percent" in data:
        raise r.fail("policy.pass_mark_percent", "een kennischeck heeft geen cesuur")
    return Policy(
        max_attempts=max_attempts,
        cooldown_minutes=r.integer(data, "cooldown_minutes", "policy", 0, 60 * 24 * 30),
        counts=counts,
        review=review,
        pass_mark_percent=pass_mark,
    )


def _draw(r: _Reader, raw: Any, questions: tuple[Question, ...]) -> tuple[Draw, ...]:
    if raw is None:
        if any(q.pool for q in questions):
            raise r.fail("draw", "vragen hebben een 'pool' maar de toets heeft geen 'draw'")
        return ()
    if not isinstance(raw, list) or not raw:
        raise r.fail("draw", "moet een lijst met pools zijn")
    draws = []
    for i, raw_d in enumerate(raw):
        where = f"draw[{i}]"
        d = r.mapping(raw_d, where, {"pool", "count"})
        pool = r.ident(d, "pool", where)
        size = sum(1 for q in questions if q.pool == pool)
        if size == 0:
            raise r.fail(where, f"pool '{pool}' heeft geen vragen")
        draws.append(Draw(pool, r.integer(d, "count", where, 1, size)))
    pools = {d.pool for d in draws}
    if len(pools) != len(draws):
        raise r.fail("draw", "een pool staat er meer dan eens in")
    for q in questions:
        if q.pool not in pools:
            raise r.fail(f"vraag '{q.id}'", f"pool '{q.pool}' staat niet in 'draw'")
    return tuple(draws)


def leaf_sections(section_numbers: set[str]) -> tuple[str, ...]:
    """The numbered sections without subsections ("4" has 4.1 and 4.2, so it is not one), in order."""
    leaves = [n for n in section_numbers if not any(m.startswith(f"{n}.") for m in section_numbers)]
    return tuple(sorted(leaves, key=lambda n: tuple(int(part) for part in n.split("."))))


def section_slots(questions: tuple[Question, ...], draw: tuple[Draw, ...], sections: tuple[str, ...]) -> dict | None:
    """Assign every section to a pool that has a question of it, no pool more sections than it draws.
    Returns {section: pool}, or None when the pools cannot cover every section in one attempt."""
    capacity = {d.pool: d.count for d in draw}
    options = {s: sorted({q.pool for q in questions if q.section == s and q.pool in capacity}) for s in sections}
    assigned: dict[str, str] = {}

    def place(section: str, tried: set[str]) -> bool:  # augmenting path (bipartite matching)
        for pool in options[section]:
            if pool in tried:
                continue
            tried.add(pool)
            holders = [s for s, p in assigned.items() if p == pool]
            if len(holders) < capacity[pool]:
                assigned[section] = pool
                return True
            for holder in holders:
                del assigned[holder]
                assigned[section] = pool
                if place(holder, tried):
                    return True
                del assigned[section]
                assigned[holder] = pool
        return False

    for section in sections:
        if not place(section, set()):
            return None
    return assigned


def _check_section_cover(
    r: _Reader, questions: tuple[Question, ...], draw: tuple[Draw, ...], sections: tuple[str, ...]
) -> None:
    for section in sections:
        if not any(q.section == section for q in questions):
            raise r.fail(f"sectie {section}", "regel: elke genummerde sectie heeft minstens één vraag in de eindtoets")
    if section_slots(questions, draw, sections) is None:
        raise r.fail(
            "draw", "regel: de pools trekken te weinig vragen om elke genummerde sectie in elke poging te toetsen"
        )


def _vignette(r: _Reader, build: _QuestionBuilder, raw: Any, where: str) -> Vignette:
    data = r.mapping(raw, where, {"id", "title", "covers", "setting", "stages"})
    vignette_id = r.ident(data, "id", where)
    where = f"casus '{vignette_id}'"
    setting = data.get("setting")
    if setting not in SETTINGS:
        raise r.fail(f"{where}.setting", f"onbekende setting {setting!r} (regel: kies uit {', '.join(SETTINGS)})")
    covers = r.items(data, "covers", where)
    for tag in covers:
        if tag not in COVERAGE_TAGS:
            raise r.fail(f"{where}.covers", f"onbekend label '{tag}' (regel: kies uit {', '.join(COVERAGE_TAGS)})")
    if len(set(covers)) != len(covers):
        raise r.fail(f"{where}.covers", "regel: elk label één keer")
    raw_stages = r.items(data, "stages", where)
    branching = any(isinstance(raw_s, dict) and "decision" in raw_s for raw_s in raw_stages)
    stages = []
    for s, raw_s in enumerate(raw_stages):
        stage_where = f"{where}.stages[{s}]"
        stage = r.mapping(raw_s, stage_where, {"id", "text", "questions", "decision", "next"})
        if not branching and ("id" in stage or "next" in stage):
            raise r.fail(stage_where, "regel: 'id' en 'next' horen alleen bij een casus met keuzes (decision)")
        questions = tuple(
            build.question(raw_q, f"{stage_where}.questions[{i}]", pooled=False)
            for i, raw_q in enumerate(r.items(stage, "questions", stage_where))
        )
        extra: dict[str, Any] = {}
        if branching:
            extra["id"] = r.ident(stage, "id", stage_where)
            stage_where = f"{where}.stap '{extra['id']}'"
            if "decision" in stage and "next" in stage:
                raise r.fail(stage_where, "regel: een stap eindigt met een keuze (decision) of met 'next', niet beide")
            if "next" in stage:
                extra["next"] = r.ident(stage, "next", stage_where)
            if "decision" in stage:
                extra["decision"] = _decision(r, stage["decision"], f"{stage_where}.decision")
        stages.append(Stage(text=r.text(stage, "text", stage_where), questions=questions, **extra))
    vignette = Vignette(
        id=vignette_id,
        title=r.text(data, "title", where),
        covers=tuple(covers),
        stages=tuple(stages),
        setting=setting,
    )
    if branching:
        _check_branches(r, vignette, where)
    return vignette


MAX_CHOICES = 3


def _decision(r: _Reader, raw: Any, where: str) -> Decision:
    data = r.mapping(raw, where, {"prompt", "choices"})
    choices = []
    for i, raw_c in enumerate(r.items(data, "choices", where, minimum=2)):
        c_where = f"{where}.choices[{i}]"
        c = r.mapping(raw_c, c_where, {"text", "next"})
        choices.append(Choice(text=r.text(c, "text", c_where), next=r.ident(c, "next", c_where)))
    if len(choices) > MAX_CHOICES:
        raise r.fail(f"{where}.choices", f"regel: 2 tot {MAX_CHOICES} keuzes")
    if len({c.next for c in choices}) != len(choices) or len({c.text for c in choices}) != len(choices):
        raise r.fail(f"{where}.choices", "regel: elke keuze heeft een eigen tekst en leidt naar een eigen stap")
    return Decision(prompt=r.text(data, "prompt", where), choices=tuple(choices))


def path_profile(vignette: Vignette, path: tuple[int, ...]) -> dict[str, Any]:
    """What a route weighs in the blueprint: stages, questions (= points), goals, levels, sections, needs_case."""
    questions = [q for i in path for q in vignette.stages[i].questions]
    return {
        "stappen": len(path),
        "vragen (punten)": len(questions),
        "doelen": sorted(Counter(g for q in questions for g in q.goals).items()),
        "niveaus": sorted(Counter(q.level for q in questions).items()),
        "secties": sorted(Counter(q.section for q in questions).items()),
        "needs_case": sum(q.needs_case is True for q in questions),
    }


def path_label(vignette: Vignette, path: tuple[int, ...]) -> str:
    return " → ".join(vignette.stages[i].id for i in path)


def _check_branches(r: _Reader, vignette: Vignette, where: str) -> None:
    """Stage ids resolve, no circles, every stage on a route, and every route weighs the same."""
    ids = [stage.id for stage in vignette.stages]
    if len(set(ids)) != len(ids):
        raise r.fail(where, "regel: elk stap-id komt één keer voor")
    for stage in vignette.stages:
        targets = [c.next for c in stage.decision.choices] if stage.decision else [stage.next]
        for target in targets:
            if target is not None and target not in ids:
                raise r.fail(f"{where}.stap '{stage.id}'", f"stap '{target}' bestaat niet")
            if target == ids[0]:
                raise r.fail(f"{where}.stap '{stage.id}'", "regel: terug naar de eerste stap kan niet")

    def walk(prefix: tuple[int, ...]) -> None:  # refuses circles before paths() can run into one
        stage = vignette.stages[prefix[-1]]
        targets = [c.next for c in stage.decision.choices] if stage.decision else [stage.next]
        for target in targets:
            if target is None:
                continue
            index = ids.index(target)
            if index in prefix:
                raise r.fail(f"{where}.stap '{stage.id}'", f"regel: de route komt terug bij stap '{target}'")
            walk((*prefix, index))

    walk((0,))
    paths = vignette.paths()
    reached = {i for path in paths for i in path}
    unreached = [vignette.stages[i].id for i in range(len(ids)) if i not in reached]
    if unreached:
        raise r.fail(f"{where}.stap '{unreached[0]}'", "regel: elke stap ligt op een route vanaf de eerste stap")
    first = path_profile(vignette, paths[0])
    for path in paths[1:]:
        profile = path_profile(vignette, path)
        for aspect, value in first.items():
            if profile[aspect] != value:
                raise r.fail(
                    f"{where}.pad {path_label(vignette, path)}",
                    f"regel: elk pad telt even zwaar in de toetsmatrijs; {aspect} verschilt van pad "
                    f"{path_label(vignette, paths[0])} ({profile[aspect]} tegen {value})",
                )


def _require_covers(
    r: _Reader, raw: Any, vignettes: tuple[Vignette, ...], per_attempt: int
) -> tuple[tuple[str, int], ...]:
    """Tags every attempt must hold; refused when no draw of `per_attempt` cases can meet them."""
    data = r.mapping(raw, "require_covers", set(COVERAGE_TAGS))
    required = []
    for tag in data:
        required.append((tag, r.integer(data, tag, "require_covers", 1, per_attempt)))
    for tag, count in required:
        tagged = sum(tag in v.covers for v in vignettes)
        if tagged < count:
            raise r.fail(
                f"require_covers.{tag}",
                f"regel: er zijn {tagged} casussen met dit label, een poging vraagt er {count}",
            )
    if required and not feasible_cover(vignettes, dict(required), per_attempt):
        raise r.fail("require_covers", f"regel: geen trekking van {per_attempt} casussen haalt alle eisen tegelijk")
    return tuple(required)


def feasible_cover(vignettes: tuple[Vignette, ...], required: dict[str, int], per_attempt: int) -> bool:
    """Whether some set of `per_attempt` cases holds every required tag often enough."""
    from itertools import combinations

    return any(
        all(sum(tag in v.covers for v in chosen) >= count for tag, count in required.items())
        for chosen in combinations(vignettes, per_attempt)
    )


class _QuestionBuilder:
    def __init__(self, reader: _Reader, section_numbers: set[str], kind: QuizKind, goal_ids: set[str] | None) -> None:
        self.r = reader
        self.sections = section_numbers
        self.kind = kind
        self.goal_ids = goal_ids

    def _blueprint_fields(self, data: dict[str, Any], where: str) -> dict[str, Any]:
        """`goals`, `level` (required in graded tests) and `needs_case` (case questions only)."""
        r = self.r
        graded = self.kind is not QuizKind.FORMATIVE
        goals = data.get("goals")
        if goals is None and graded:
            raise r.fail(f"{where}.goals", "ontbreekt (regel: elke toetsvraag hoort bij minstens één doel)")
        goals = goals or []
        if not isinstance(goals, list) or (graded and not goals) or not all(isinstance(g, str) for g in goals):
            raise r.fail(f"{where}.goals", "regel: een lijst met doel-id's uit toetsmatrijs.yaml")
        if len(set(goals)) != len(goals):
            raise r.fail(f"{where}.goals", "regel: elk doel één keer")
        if self.goal_ids is not None:
            for goal in goals:
                if goal not in self.goal_ids:
                    raise r.fail(
                        f"{where}.goals", f"onbekend doel '{goal}' (regel: elk doel staat in toetsmatrijs.yaml)"
                    )
        level = data.get("level")
        if level is None and graded:
            raise r.fail(f"{where}.level", f"ontbreekt (regel: elke toetsvraag heeft een niveau: {', '.join(LEVELS)})")
        if level is not None and level not in LEVELS:
            raise r.fail(f"{where}.level", f"onbekend niveau {level!r} (regel: kies uit {', '.join(LEVELS)})")
        needs_case = data.get("needs_case")
        if self.kind is QuizKind.VIGNETTE:
            if not isinstance(needs_case, bool):
                raise r.fail(
                    f"{where}.needs_case",
                    "regel: elke casusvraag zegt true of false (alleen met de casus te beantwoorden?)",
                )
        elif "needs_case" in data:
            raise r.fail(f"{where}.needs_case", "regel: alleen casusvragen hebben needs_case")
        return {"goals": tuple(goals), "level": level, "needs_case": needs_case}

    def question(self, raw: Any, where: str, pooled: bool = True) -> Question:
        r = self.r
        data = r.mapping(
            raw,
            where,
            {
                "id",
                "type",
                "section",
                "prompt",
                "pool",
                "options",
                "answer",
                "explanation_true",
                "explanation_false",
                "categories",
                "items",
                "goals",
                "level",
                "needs_case",
            },
        )
        qid = r.ident(data, "id", where)
        where = f"vraag '{qid}'"
        qtype = data.get("type")
        if qtype not in QUESTION_TYPES:
            raise r.fail(f"{where}.type", f"moet een van {', '.join(QUESTION_TYPES)} zijn")
        section = data.get("section")
        if not isinstance(section, str) or section not in self.sections:
            raise r.fail(f"{where}.section", f"sectie {section!r} bestaat niet in de lessen")
        pool = data.get("pool")
        if pool is not None and (not pooled or not isinstance(pool, str) or not _ID.match(pool)):
            raise r.fail(f"{where}.pool", "ongeldige pool")
        common = {
            "id": qid,
            "type": qtype,
            "section": section,
            "prompt": r.text(data, "prompt", where),
            "pool": pool,
            "source_file": str(r.path),
            **self._blueprint_fields(data, where),
        }
        if qtype in ("single_choice", "multiple_response"):
            return Question(**common, options=self._options(data, where, qtype))
        if qtype == "true_false":
            answer = data.get("answer")
            if not isinstance(answer, bool):
                raise r.fail(f"{where}.answer", "moet true of false zijn")
            options = (
                Option("a", TRUE_FALSE_LABELS[0], answer is True, r.text(data, "explanation_true", where)),
                Option("b", TRUE_FALSE_LABELS[1], answer is False, r.text(data, "explanation_false", where)),
            )
            return Question(**common, options=options)
        return Question(**common, **self._matching(data, where))

    def _options(self, data: dict[str, Any], where: str, qtype: str) -> tuple[Option, ...]:
        r = self.r
        options = []
        for i, raw_o in enumerate(r.items(data, "options", where, minimum=2 if qtype == "single_choice" else 3)):
            o_where = f"{where}.options[{i}]"
            o = r.mapping(raw_o, o_where, {"text", "correct", "explanation"})
            if not isinstance(o.get("correct"), bool):
                raise r.fail(f"{o_where}.correct", "moet true of false zijn")
            options.append(
                Option(chr(ord("a") + i), r.text(o, "text", o_where), o["correct"], r.text(o, "explanation", o_where))
            )
        correct = sum(o.correct for o in options)
        if qtype == "single_choice" and correct != 1:
            raise r.fail(f"{where}.options", f"precies één optie moet correct zijn (nu {correct})")
        if qtype == "multiple_response" and not 1 <= correct < len(options):
            raise r.fail(f"{where}.options", "minstens één optie moet correct en minstens één onjuist zijn")
        if len({o.text for o in options}) != len(options):
            raise r.fail(f"{where}.options", "twee opties hebben dezelfde tekst")
        return tuple(options)

    def _matching(self, data: dict[str, Any], where: str) -> dict[str, tuple]:
        r = self.r
        categories = []
        for i, raw_c in enumerate(r.items(data, "categories", where, minimum=2)):
            c_where = f"{where}.categories[{i}]"
            c = r.mapping(raw_c, c_where, {"id", "label"})
            categories.append(Category(r.ident(c, "id", c_where), r.text(c, "label", c_where)))
        category_ids = [c.id for c in categories]
        if len(set(category_ids)) != len(category_ids):
            raise r.fail(f"{where}.categories", "een categorie-id komt meer dan eens voor")
        items = []
        for i, raw_i in enumerate(r.items(data, "items", where, minimum=2)):
            i_where = f"{where}.items[{i}]"
            it = r.mapping(raw_i, i_where, {"text", "category", "explanation"})
            if it.get("category") not in category_ids:
                raise r.fail(f"{i_where}.category", f"categorie {it.get('category')!r} bestaat niet")
            items.append(
                MatchItem(str(i + 1), r.text(it, "text", i_where), it["category"], r.text(it, "explanation", i_where))
            )
        return {"categories": tuple(categories), "items": tuple(items)}
