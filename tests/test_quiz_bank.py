"""The question bank covers the course and stays anchored in the source."""

from __future__ import annotations

import re

import pytest

from config import Config
from course.catalog import load_catalog
from course.quizzes.definitions import COVERAGE_TAGS, QuizKind

SECTIONS_WITH_TEXT = ["1", "2.1", "2.2", "2.3", "2.4", "3", "4", "4.1", "4.2", "5.1", "5.2", "5.3", "6"]
CITATION = re.compile(r"\(([^()]*\d{4}[^()]*)\)")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)


def all_questions(catalog):
    return [q for quiz in catalog.quizzes for q in quiz.all_questions]


def test_every_numbered_section_is_tested_by_at_least_three_questions(catalog):
    counts = {number: len(catalog.questions_by_section.get(number, ())) for number in SECTIONS_WITH_TEXT}
    assert all(n >= 3 for n in counts.values()), counts


def test_every_section_has_three_knowledge_check_questions(catalog):
    formative = [q for quiz in catalog.quizzes if quiz.kind is QuizKind.FORMATIVE for q in quiz.all_questions]
    for number in SECTIONS_WITH_TEXT:
        assert sum(q.section == number for q in formative) >= 3, number


def test_every_lesson_has_a_knowledge_check(catalog):
    for lesson in catalog.lessons:
        quiz = catalog.quiz_for_lesson(lesson.id)
        assert quiz is not None and quiz.kind is QuizKind.FORMATIVE, lesson.id
        assert {catalog.section(q.section).lesson_id for q in quiz.questions} == {lesson.id}


def test_every_question_names_a_section_whose_anchor_exists(catalog):
    for question in all_questions(catalog):
        section = catalog.section(question.section)
        lesson = catalog.lesson(section.lesson_id)
        assert section.anchor == lesson.anchor or f'id="{section.anchor}"' in lesson.html, question.id


def test_every_option_and_item_explains_itself(catalog):
    for question in all_questions(catalog):
        for option in question.options:
            assert len(option.explanation) >= 15, question.id
        for item in question.items:
            assert len(item.explanation) >= 15, question.id


def test_all_question_types_are_used(catalog):
    assert {q.type for q in all_questions(catalog)} == {"single_choice", "multiple_response", "true_false", "matching"}


def test_the_final_test_draws_from_pools_large_enough_for_a_different_retake(catalog):
    finals = [quiz for quiz in catalog.quizzes if quiz.kind is QuizKind.SUMMATIVE]
    assert len(finals) == 1
    final = finals[0]
    assert final.policy.pass_mark_percent == catalog.module.pass_mark_percent
    for draw in final.draw:
        pool = [q for q in final.questions if q.pool == draw.pool]
        assert len(pool) >= 2 * draw.count, draw.pool
    chapters = {catalog.section(q.section).lesson_id for q in final.questions}
    assert chapters == {lesson.id for lesson in catalog.lessons}


def test_final_test_questions_are_not_copies_of_knowledge_check_questions(catalog):
    formative_prompts = {
        q.prompt for quiz in catalog.quizzes if quiz.kind is QuizKind.FORMATIVE for q in quiz.questions
    }
    final = next(quiz for quiz in catalog.quizzes if quiz.kind is QuizKind.SUMMATIVE)
    assert not formative_prompts & {q.prompt for q in final.questions}


@pytest.fixture(scope="module")
def vignette_test(catalog):
    tests = [quiz for quiz in catalog.quizzes if quiz.kind is QuizKind.VIGNETTE]
    assert len(tests) == 1
    return tests[0]


def test_the_vignette_test_has_at_least_eight_cases_and_retakes_get_new_ones(vignette_test):
    assert len(vignette_test.vignettes) >= 8
    max_attempts = vignette_test.policy.max_attempts or 1
    assert len(vignette_test.vignettes) >= vignette_test.vignettes_per_attempt * min(max_attempts, 3)


def test_vignettes_cover_all_risk_areas_protective_factors_and_both_asymmetry_directions(vignette_test):
    tagged = {tag: [v.id for v in vignette_test.vignettes if tag in v.covers] for tag in COVERAGE_TAGS}
    assert all(tagged.values()), tagged
    for area in ["ouder", "kind", "stabiliteit", "gezin"]:
        assert len(tagged[area]) >= 2, area
    assert len(tagged["compensatie-kindrisico"]) >= 2
    assert len(tagged["geen-compensatie-ouderrisico"]) >= 2


@pytest.mark.parametrize("direction", ["compensatie-kindrisico", "geen-compensatie-ouderrisico"])
def test_asymmetry_vignettes_ask_about_chapter_three(vignette_test, direction):
    for vignette in vignette_test.vignettes:
        if direction in vignette.covers:
            assert any(q.section == "3" for q in vignette.questions), vignette.id


def test_every_vignette_unfolds_or_asks_several_questions(vignette_test):
    for vignette in vignette_test.vignettes:
        assert len(vignette.questions) >= 2, vignette.id
    assert sum(len(v.stages) > 1 for v in vignette_test.vignettes) >= 4


def test_citations_in_questions_are_citations_of_their_section(catalog):
    """A question may cite (Author, year) only as the source cites it in the section it tests."""

    def plain(html: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")

    lesson_text = {lesson.id: plain(lesson.html) for lesson in catalog.lessons}
    for question in all_questions(catalog):
        texts = [question.prompt] + [o.text + " " + o.explanation for o in question.options]
        texts += [i.text + " " + i.explanation for i in question.items]
        text = lesson_text[catalog.section(question.section).lesson_id]
        for cited in CITATION.findall(" ".join(texts)):
            for part in cited.split(";"):
                assert part.strip() in text, f"{question.id} cites ({part.strip()}), not in its lesson"
