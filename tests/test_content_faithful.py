"""The lessons reproduce the NJi source faithfully: every sentence, every citation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import Config
from course.catalog import load_catalog

# A verbatim copy of ../shared/source/hechting-risico-en-beschermende-factoren-2021.txt,
# kept in the repository so CI on a clean clone checks against the same text.
SOURCE = Path(__file__).resolve().parent / "data" / "nji-hechting-2021-source.txt"
SHARED_SOURCE = (
    Path(__file__).resolve().parents[2] / "shared" / "source" / "hechting-risico-en-beschermende-factoren-2021.txt"
)

NUMBERED_SECTIONS = ["1", "2", "2.1", "2.2", "2.3", "2.4", "3", "4", "4.1", "4.2", "5", "5.1", "5.2", "5.3", "6"]
HEADING = re.compile(r"^\d+(\.\d+)? \S")
PAGE_HEADER = re.compile(r"^\s*Hechting en hechtingsproblemen\. Risico- en beschermende factoren\s+\|")
CITATION = re.compile(r"\(([^()]*\d{4}[^()]*)\)")


def _plain(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'")
    return re.sub(r"\s+", " ", text).strip()


def source_body_text() -> str:
    """The source without headings and page header, with lines joined as one text."""
    lines = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or PAGE_HEADER.match(line) or HEADING.match(stripped):
            continue
        if stripped in {"ouder en kind", "hersteld?"}:  # second lines of two-line chapter titles
            continue
        lines.append(stripped.lstrip("• ").strip())
    text = " ".join(lines)
    # Join the PDF's line-broken hyphenation (only "Bakermans- Kranenburg" in this text).
    text = text.replace("Bakermans- Kranenburg", "Bakermans-Kranenburg")
    return re.sub(r"\s+", " ", text)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;:?])\s+(?=[A-Z‘(•])", text) if s.strip()]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)


@pytest.fixture(scope="module")
def lesson_text(catalog) -> str:
    return " ".join(_plain(lesson.html) for lesson in catalog.lessons)


def test_source_copy_is_identical_to_the_shared_source():
    if not SHARED_SOURCE.exists():
        pytest.skip("../shared is not next to this checkout")
    assert SOURCE.read_bytes() == SHARED_SOURCE.read_bytes()


def test_every_sentence_of_the_source_appears_in_the_lessons(lesson_text):
    missing = [s for s in sentences(source_body_text()) if s not in lesson_text]
    assert len(sentences(source_body_text())) > 60
    assert missing == []


def test_all_nineteen_citation_groups_are_kept(lesson_text):
    source_citations = CITATION.findall(source_body_text())
    assert len(source_citations) == 19
    lesson_citations = CITATION.findall(lesson_text)
    assert sorted(lesson_citations) == sorted(source_citations)


def test_page_header_and_broken_hyphenation_are_gone(lesson_text):
    assert "maart 2021" not in lesson_text
    assert "Bakermans- Kranenburg" not in lesson_text
    assert "Bakermans-Kranenburg" in lesson_text


def test_every_numbered_section_has_a_stable_anchor(catalog):
    sections = catalog.sections_by_number
    assert sorted(sections, key=lambda n: [int(p) for p in n.split(".")]) == NUMBERED_SECTIONS
    for number, section in sections.items():
        assert section.anchor == "sectie-" + number.replace(".", "-")


def test_subsection_headings_are_rendered_with_their_anchor(catalog):
    for lesson in catalog.lessons:
        for section in lesson.sections[1:]:
            assert f'<h2 id="{section.anchor}">{section.number} {section.title}</h2>' in lesson.html


def test_section_titles_match_the_source(catalog):
    source = SOURCE.read_text(encoding="utf-8")
    for section in catalog.sections_by_number.values():
        if "." in section.number:
            assert f"{section.number} {section.title}" in source


def test_each_lesson_has_learning_goals_and_key_points(catalog):
    assert [lesson.chapter for lesson in catalog.lessons] == [1, 2, 3, 4, 5, 6]
    for lesson in catalog.lessons:
        assert len(lesson.learning_goals) >= 2, lesson.id
        assert len(lesson.key_points) >= 2, lesson.id


def test_citations_in_key_points_exist_in_the_source(catalog):
    source_citations = set(CITATION.findall(source_body_text()))
    for lesson in catalog.lessons:
        for point in lesson.key_points:
            for cited in CITATION.findall(point):
                assert cited in source_citations, f"{lesson.id}: key point cites ({cited}), not in the source"


def test_glossary_holds_the_core_terms_linked_to_existing_sections(catalog):
    terms = {t.term.lower() for t in catalog.glossary}
    for expected in [
        "mentaliseren",
        "sensitiviteit",
        "responsiviteit",
        "gedesorganiseerde gehechtheid",
        "complex trauma",
    ]:
        assert expected in terms
    assert any(term.startswith("lvb") for term in terms)
    for term in catalog.glossary:
        for number in term.sections:
            assert catalog.section(number) is not None


def test_glossary_citations_exist_in_the_source(catalog):
    source_citations = set(CITATION.findall(source_body_text()))
    for term in catalog.glossary:
        for cited in CITATION.findall(term.definition):
            if re.search(r"\d{4}", cited):
                assert cited in source_citations, f"{term.term}: cites ({cited})"


def test_source_page_credits_the_nji_publication(catalog):
    page = _plain(catalog.source_page.html)
    assert "Nederlands Jeugdinstituut" in page
    assert "maart 2021" in page
    assert "Wolff & Wildeman, 2020" in page


# --- Beyond the source: the "Wat je hieruit niet kunt concluderen" boxes -----------------------
# The checks above compare `lesson_text` (Lesson.html, the NJi text) with the source. The boxes are the
# module makers' own words (Lesson.cannot_conclude): they are kept out of that text on purpose, and
# the two tests below fail as soon as a box is counted as lesson text.


def test_every_sentence_of_the_lesson_text_is_a_sentence_of_the_source(catalog):
    """The converse of the first check: the text counted as source holds nothing beyond the source."""
    source = source_body_text()
    extra = []
    for lesson in catalog.lessons:
        body = re.sub(r"<h2[^>]*>.*?</h2>", " ", str(lesson.html))  # section titles are checked above
        extra += [f"{lesson.id}: {s}" for s in sentences(_plain(body)) if s not in source]
    assert extra == []


def test_cannot_conclude_boxes_are_not_source_text_and_not_counted_as_such(catalog, lesson_text):
    source = source_body_text()
    for lesson in catalog.lessons:
        assert len(lesson.cannot_conclude) >= 2, lesson.id
        for point in lesson.cannot_conclude:
            # Our own words: not a sentence of the NJi text, so counting them would overstate faithfulness ...
            assert not any(s in source for s in sentences(point) if len(s) > 40), f"{lesson.id}: {point}"
            # ... and they are not part of the lesson text the checks above compare with the source.
            assert point not in lesson_text, f"{lesson.id}: box counted as lesson text"
            assert not CITATION.search(point), f"{lesson.id}: a box cites like the source"
