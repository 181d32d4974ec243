"""Beyond the source, clearly marked: the "Wat je hieruit niet kunt concluderen" box per lesson, and the
Bronnen page that shows where the source cites each work (the NJi text has no reference list)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from config import Config
from course.catalog import ContentError, load_catalog
from course.models import Role
from tests.helpers import text

SOURCE = Path(__file__).resolve().parent / "data" / "nji-hechting-2021-source.txt"
SOURCE_HEADING = re.compile(r"^\s*(\d+(?:\.\d+)?) \S")
PAGE_HEADER = re.compile(r"^\s*Hechting en hechtingsproblemen\. Risico- en beschermende factoren\s+\|")
CITATION_GROUP = re.compile(r"\(([^()]*\d{4}[^()]*)\)")
ASIDE = re.compile(r'<aside class="beyond-source"[^>]*>(.*?)</aside>', re.S)
LESSON_TEXT = re.compile(r'<div class="lesson-text">(.*?)</div>', re.S)


def plain(markup: str) -> str:
    inline = re.sub(r"</?(?:a|cite|em|strong)\b[^>]*>", "", markup)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline))).strip()


@pytest.fixture(scope="module")
def shipped():
    return load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)


# --- the box on the lesson page -------------------------------------------------------------------


def test_every_lesson_page_has_the_box_in_its_own_labelled_landmark_apart_from_the_source_text(
    app, login_as, client, shipped
):
    login_as(Role.LEARNER)
    for lesson in shipped.lessons:
        page = text(client.get(f"/lessen/{lesson.id}"))
        (box,) = ASIDE.findall(page)
        assert '<aside class="beyond-source" aria-labelledby="niet-concluderen"' in page
        assert '<h2 id="niet-concluderen">Wat je hieruit niet kunt concluderen</h2>' in box
        assert "Toevoeging van de makers van deze module" in box and "niet uit de tekst van het NJi" in box
        (source_text,) = LESSON_TEXT.findall(page)
        for point in lesson.cannot_conclude:
            assert plain(point) in plain(box), lesson.id
            assert plain(point) not in plain(source_text), f"{lesson.id}: box inside the NJi text"


def test_the_boxes_say_what_the_issue_asks_somewhere_in_the_module(shipped):
    said = " ".join(point for lesson in shipped.lessons for point in lesson.cannot_conclude)
    assert "risico is geen lot" in said
    assert "één observatie" in said
    assert "een gedesorganiseerde gehechtheid is geen diagnose hechtingsstoornis" in said
    assert "zegt de bron niets" in said  # the limits of what the source says


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Config.CONTENT_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert old in source
    path.write_text(source.replace(old, new, 1), encoding="utf-8")


LESSON_FILE = "lessons/03-kenmerken-kind.md"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("cannot_conclude:", "niet_concluderen:", "onbekend veld 'niet_concluderen'"),
        ("reflection:", "# reflection:", "veld 'reflection' ontbreekt"),
        (
            '  - "Een kind dat te vroeg geboren is',
            '  - "Zo zegt Van IJzendoorn (Van IJzendoorn, 2008) het. Een kind dat te vroeg geboren is',
            "veld 'cannot_conclude[0]' bevat een bronverwijzing",
        ),
        ('inschatting?"', 'inschatting."', "veld 'reflection' moet een vraag zijn"),
        ('  - "Een kind dat te vroeg geboren is', '  - "' + "x" * 501 + '"\n  - "Een kind', "langer dan 500 tekens"),
    ],
)
def test_a_broken_box_or_reflection_question_is_refused_at_load_naming_the_file(content, old, new, problem):
    edit(content / LESSON_FILE, old, new)
    with pytest.raises(ContentError) as refused:
        load_catalog(content, Config.QUIZZES_DIR)
    assert refused.value.path.endswith(LESSON_FILE)
    assert problem in refused.value.problem


def test_a_box_of_one_point_is_refused(content):
    path = content / LESSON_FILE
    source = path.read_text(encoding="utf-8")
    start = source.index("cannot_conclude:\n") + len("cannot_conclude:\n")
    end = source.index("# Optional, private reflection")
    first = source[start:end].splitlines(keepends=True)[0]
    path.write_text(source[:start] + first + source[end:], encoding="utf-8")
    with pytest.raises(ContentError, match="'cannot_conclude' moet 2 tot 6 punten hebben, niet 1"):
        load_catalog(content, Config.QUIZZES_DIR)


# --- Bronnen ---------------------------------------------------------------------------------------


def citations_in_the_source() -> list[tuple[str, str]]:
    """(section number, citation group) for every citation group of the source, read straight from the text."""
    found, section, lines = [], None, []

    def flush():
        joined = re.sub(r"\s+", " ", " ".join(lines)).replace("Bakermans- Kranenburg", "Bakermans-Kranenburg")
        found.extend((section, group) for group in CITATION_GROUP.findall(joined))

    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if PAGE_HEADER.match(line):
            continue
        if heading := SOURCE_HEADING.match(line):
            flush()
            section, lines = heading.group(1), []
        else:
            lines.append(line.strip())
    flush()
    return found


def test_the_bronnen_page_lists_every_citation_group_of_the_source_where_it_is_cited(client, shipped):
    expected = citations_in_the_source()
    assert len(expected) == 19
    page = text(client.get("/bronnen"))
    entries = re.findall(r'<li class="citation" id="verwijzing-\d+">(.*?)</li>', page, re.S)
    listed = []
    for entry in entries:
        group = plain(re.search(r'<p class="citation-group">(.*?)</p>', entry, re.S).group(1))
        section = re.search(r"(?:paragraaf|hoofdstuk) (\d+(?:\.\d+)?) ", plain(entry)).group(1)
        listed.append((section, group))
        # The quoted sentence links to its place in the lesson, and holds the citation itself.
        link, sentence = re.search(r'<blockquote><p><a href="([^"]+)">(.*?)</a>', entry, re.S).groups()
        lesson = shipped.section(section).lesson_id
        anchor = "sectie-" + section.replace(".", "-")
        assert html.unescape(link).startswith(f"/lessen/{lesson}#{anchor}:~:text=")
        # A text fragment: browsers that support it highlight the sentence ("-" would be syntax there).
        assert unquote(html.unescape(link).split(":~:text=")[1]) == plain(sentence)
        assert "-" not in link.split(":~:text=")[1]
        assert f"({group})" in plain(sentence)
        assert plain(sentence) in plain(str(shipped.lesson(lesson).html))
    assert listed == expected


def test_the_bronnen_page_says_there_is_no_reference_list_and_where_to_find_one(client, shipped):
    page = plain(text(client.get("/bronnen")))
    assert "bevat geen literatuurlijst" in page
    assert (
        "raadpleeg dan de publicatie zelf: Hechting en hechtingsproblemen. Risico- en beschermende factoren, "
        "Nederlands Jeugdinstituut (NJi), maart 2021." in page
    )
    source = shipped.module.source
    assert (source.publisher, source.published) == ("Nederlands Jeugdinstituut (NJi)", "maart 2021")


def test_each_lesson_lists_its_own_citations_with_a_link_to_the_section(app, login_as, client, shipped):
    login_as(Role.LEARNER)
    expected = citations_in_the_source()
    for lesson in shipped.lessons:
        page = text(client.get(f"/lessen/{lesson.id}"))
        own = [(s, g) for s, g in expected if shipped.section(s).lesson_id == lesson.id]
        block = re.search(r'<section class="lesson-sources".*?</section>', page, re.S).group(0)
        assert 'href="/bronnen"' in block
        for section, group in own:
            anchor = "sectie-" + section.replace(".", "-")
            assert f'{html.escape(group)} — <a href="#{anchor}">' in block, (lesson.id, group)
        assert block.count("<li>") == len(own)
