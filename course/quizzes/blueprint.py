"""The test blueprint as a check and as a table: which goals the graded tests measure, where and at
which level. Pure functions over the loaded catalog; `flask course check` and `flask course blueprint`
call them. Structural rules (unknown goals, levels, settings, impossible draws) are refused earlier,
when the files load; these are the rules about the bank as a whole."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from course.quizzes.definitions import LEVELS, Blueprint, Question, Quiz, QuizKind

# Case-test content rules (docs/toetsplan.md): a case unfolds, and most of its questions need it.
MIN_STAGES = 3
MIN_NEEDS_CASE = 2
MAX_SHARE_WITHOUT_CASE = 0.25


@dataclass(frozen=True)
class Problem:
    file: str
    id: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}: {self.id}: {self.rule}"


def file_label(path: str) -> str:
    """`quizzes/eindtoets.yaml`: the folder and the file, as a reader finds them in the project."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def graded(quizzes: tuple[Quiz, ...]) -> list[Quiz]:
    return [quiz for quiz in quizzes if quiz.kind is not QuizKind.FORMATIVE]


def blueprint_problems(blueprint: Blueprint, quizzes: tuple[Quiz, ...]) -> list[Problem]:
    """Goals without a question, questions without a goal, draws that cannot give a retake new questions."""
    problems: list[Problem] = []
    tests = graded(quizzes)
    asked = {goal for quiz in tests for q in quiz.all_questions for goal in q.goals}
    for goal in blueprint.goals:
        if goal.id not in asked:
            problems.append(
                Problem(
                    file_label(blueprint.source_file),
                    f"doel '{goal.id}'",
                    "regel: elk doel heeft minstens één vraag in de eindtoets of de casustoets",
                )
            )
    for quiz in tests:
        for q in quiz.all_questions:
            if not q.goals:
                problems.append(
                    Problem(file_label(quiz.source_file), f"vraag '{q.id}'", "regel: elke toetsvraag heeft een doel")
                )
        attempts = quiz.policy.max_attempts or 1
        if quiz.cover_sections:
            for section in quiz.cover_sections:
                n = sum(q.section == section for q in quiz.questions)
                if n < attempts:
                    problems.append(
                        Problem(
                            file_label(quiz.source_file),
                            f"sectie {section}",
                            f"regel: {n} vraag/vragen, minder dan het aantal pogingen ({attempts}); "
                            "een herkansing krijgt dan een vraag die al gezien is",
                        )
                    )
        if quiz.kind is QuizKind.VIGNETTE and len(quiz.vignettes) < quiz.vignettes_per_attempt * attempts:
            problems.append(
                Problem(
                    file_label(quiz.source_file),
                    "vignettes",
                    f"regel: {len(quiz.vignettes)} casussen, minder dan {quiz.vignettes_per_attempt} per poging × "
                    f"{attempts} pogingen; een herkansing krijgt dan een casus die al gezien is",
                )
            )
    return problems


def case_content_problems(quiz: Quiz) -> list[Problem]:
    """Every case unfolds in >= 3 stages and asks >= 2 questions that need it; at most 25% recall."""
    if quiz.kind is not QuizKind.VIGNETTE:
        return []
    where = file_label(quiz.source_file)
    problems = []
    for vignette in quiz.vignettes:
        # A branching case is judged on one route (the loader made every route weigh the same).
        route = vignette.paths()[0]
        if len(route) < MIN_STAGES:
            problems.append(
                Problem(
                    where,
                    f"casus '{vignette.id}'",
                    f"regel: minstens {MIN_STAGES} stappen waarin het beeld verandert (nu {len(route)})",
                )
            )
        needing = sum(q.needs_case is True for i in route for q in vignette.stages[i].questions)
        if needing < MIN_NEEDS_CASE:
            problems.append(
                Problem(
                    where,
                    f"casus '{vignette.id}'",
                    f"regel: minstens {MIN_NEEDS_CASE} vragen met needs_case: true (nu {needing})",
                )
            )
    questions = [q for v in quiz.vignettes for q in v.questions]
    recall = sum(q.needs_case is False for q in questions)
    if questions and recall > MAX_SHARE_WITHOUT_CASE * len(questions):
        problems.append(
            Problem(
                where,
                "vignettes",
                f"regel: hoogstens {MAX_SHARE_WITHOUT_CASE:.0%} van de casusvragen zonder de casus te beantwoorden "
                f"(needs_case: false); nu {recall} van {len(questions)} ({recall / len(questions):.0%})",
            )
        )
    return problems


@dataclass(frozen=True)
class MatrixRow:
    goal: str
    goal_level: str
    section: str
    counts: tuple[int, ...]  # questions per level, in LEVELS order

    @property
    def total(self) -> int:
        return row_total(self)


def row_total(row: MatrixRow) -> int:
    # A plain function beside the property: mutmut skips decorated functions.
    return sum(row.counts)


def matrix(blueprint: Blueprint, quiz: Quiz) -> list[MatrixRow]:
    """One row per goal and section with the number of questions per level; a goal without questions
    gets an empty row, so a gap shows. A question with two goals counts under both."""
    cells: dict[tuple[str, str], Counter] = {}
    for q in quiz.all_questions:
        for goal in q.goals:
            cells.setdefault((goal, q.section), Counter())[q.level] += 1
    rows = []
    for goal in blueprint.goals:
        sections = sorted({s for g, s in cells if g == goal.id}, key=_section_key)
        for section in sections or [""]:
            counter = cells.get((goal.id, section), Counter())
            rows.append(MatrixRow(goal.id, goal.level, section, tuple(counter[level] for level in LEVELS)))
    return rows


def level_totals(questions: tuple[Question, ...]) -> tuple[int, ...]:
    counts = Counter(q.level for q in questions)
    return tuple(counts[level] for level in LEVELS)


def render_matrix(blueprint: Blueprint, quiz: Quiz) -> str:
    """The matrix of one test as plain text for the terminal."""
    rows = matrix(blueprint, quiz)
    width = max(len(r.goal) for r in rows) + 2
    head = (
        f"{'doel':<{width}}{'niveau':<12}{'sectie':<8}" + "".join(f"{level:>12}" for level in LEVELS) + f"{'totaal':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = "".join(f"{n or '.':>12}" for n in r.counts)
        lines.append(f"{r.goal:<{width}}{r.goal_level:<12}{r.section or '-':<8}{cells}{r.total or '.':>8}")
    lines.append("-" * len(head))
    totals = level_totals(quiz.all_questions)
    lines.append(f"{'vragen per niveau':<{width + 20}}" + "".join(f"{n:>12}" for n in totals) + f"{sum(totals):>8}")
    per_section = Counter(q.section for q in quiz.all_questions)
    lines.append(
        "vragen per sectie: " + ", ".join(f"{s}: {per_section[s]}" for s in sorted(per_section, key=_section_key))
    )
    return "\n".join(lines)


def _section_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split(".")) if number else ()
