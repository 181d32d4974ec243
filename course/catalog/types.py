from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from markupsafe import Markup

from course.quizzes.definitions import Blueprint, Question, Quiz

if TYPE_CHECKING:
    from course.catalog.citations import Citation


@dataclass(frozen=True)
class Section:
    """A numbered part of the source ("2.1", or "3" for a chapter without subsections)."""

    number: str
    title: str
    lesson_id: str
    anchor: str


@dataclass(frozen=True)
class Lesson:
    id: str
    chapter: int
    title: str
    summary: str
    learning_goals: tuple[str, ...]
    key_points: tuple[str, ...]
    # Beyond the source: the module makers' "Wat je hieruit niet kunt concluderen" box and the
    # reflection question. Kept apart from `html`, which holds the NJi text only.
    cannot_conclude: tuple[str, ...]
    reflection_prompt: str
    html: Markup
    sections: tuple[Section, ...]
    source_file: str

    @property
    def anchor(self) -> str:
        return f"sectie-{self.chapter}"


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    definition: str
    sections: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return "term-" + "".join(c if c.isalnum() else "-" for c in self.term.lower()).strip("-")


@dataclass(frozen=True)
class Page:
    title: str
    html: Markup


@dataclass(frozen=True)
class Accreditation:
    body: str
    points: str
    activity_id: str


@dataclass(frozen=True)
class CompletionRules:
    all_lessons_read: bool
    quizzes_passed: tuple[str, ...]


@dataclass(frozen=True)
class SourcePublication:
    """The publication the lessons reproduce; its reference list is where full references are."""

    title: str
    publisher: str
    published: str


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    content_version: str
    description: str
    pass_mark_percent: int
    study_load: str
    completion: CompletionRules
    certificate_validity_months: int | None
    accreditation: Accreditation | None
    source: SourcePublication


@dataclass(frozen=True)
class Catalog:
    module: Module
    lessons: tuple[Lesson, ...]
    glossary: tuple[GlossaryTerm, ...]
    source_page: Page
    quizzes: tuple[Quiz, ...] = ()
    blueprint: Blueprint | None = None

    def quiz(self, quiz_id: str) -> Quiz | None:
        return next((quiz for quiz in self.quizzes if quiz.id == quiz_id), None)

    def quiz_for_lesson(self, lesson_id: str) -> Quiz | None:
        return next((quiz for quiz in self.quizzes if quiz.lesson == lesson_id), None)

    @cached_property
    def questions_by_section(self) -> dict[str, tuple[Question, ...]]:
        found: dict[str, list[Question]] = {}
        for quiz in self.quizzes:
            for question in quiz.all_questions:
                found.setdefault(question.section, []).append(question)
        return {number: tuple(questions) for number, questions in found.items()}

    @cached_property
    def citations(self) -> tuple[Citation, ...]:
        """Every citation group of the source, in reading order, with where it is cited."""
        from course.catalog.citations import citation_index

        return citation_index(self.lessons)

    def citations_in(self, lesson_id: str) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if c.lesson_id == lesson_id)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def section(self, number: str) -> Section | None:
        return self.sections_by_number.get(number)

    @cached_property
    def sections_by_number(self) -> dict[str, Section]:
        return {s.number: s for lesson in self.lessons for s in lesson.sections}

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        ids = [lesson.id for lesson in self.lessons]
        index = ids.index(lesson_id)
        return self.lessons[index + 1] if index + 1 < len(ids) else None

    def previous_lesson(self, lesson_id: str) -> Lesson | None:
        ids = [lesson.id for lesson in self.lessons]
        index = ids.index(lesson_id)
        return self.lessons[index - 1] if index > 0 else None
