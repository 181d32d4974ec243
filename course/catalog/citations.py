"""Where the source cites whom: every citation group "(Auteur, jaar; ...)" with its lesson, section and sentence.

The NJi text cites works by author(s) and year only and has no reference list. This index is built
from the lesson text (the NJi text, `Lesson.html`), never from the module makers' additions, so the
"Bronnen" page can show for every citation exactly where the source makes it.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import quote

from course.catalog.types import Lesson

CITATION = re.compile(r"\(([^()]*\d{4}[^()]*)\)")
_SECTION_HEADING = re.compile(r'<h2 id="(sectie-\d+-\d+)">')
_TAG = re.compile(r"<[^>]+>")
# A sentence ends at . : ? followed by a capital, an opening quote or bracket (as in the source).
_SENTENCE_END = re.compile(r"(?<=[.:?])\s+(?=[A-Z‘(])")


@dataclass(frozen=True)
class Citation:
    """One citation group as the source prints it, and where."""

    group: str  # "Martins & Gaffan, 2000; Atkinson, Paglia & Coolbear, 2000"
    lesson_id: str
    section_number: str
    section_title: str
    section_anchor: str
    sentence: str

    @property
    def works(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.group.split(";"))

    @property
    def fragment(self) -> str:
        """The section anchor with a text fragment that highlights the citing sentence where browsers
        support it (others go to the section)."""
        # In a text directive "-" and "," are syntax (prefix-, -suffix, start,end): encode them too.
        return f"{self.section_anchor}:~:text={quote(self.sentence, safe='').replace('-', '%2D')}"


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(_TAG.sub(" ", html))).strip()


def _parts(lesson: Lesson) -> list[tuple[str, str]]:
    """(section anchor, html) for the chapter's opening text and each numbered subsection."""
    pieces = _SECTION_HEADING.split(str(lesson.html))
    parts = [(lesson.anchor, pieces[0])]
    parts += [(pieces[i], pieces[i + 1]) for i in range(1, len(pieces), 2)]
    return parts


def citations_in(lesson: Lesson) -> tuple[Citation, ...]:
    sections = {section.anchor: section for section in lesson.sections}
    found = []
    for anchor, html in _parts(lesson):
        section = sections[anchor]
        # Block elements end a sentence (a list item after an introducing colon, a new paragraph).
        blocks = re.split(r"</(?:p|li|h2)>", html)
        for block in blocks:
            for sentence in _SENTENCE_END.split(_plain(block)):
                for group in CITATION.findall(sentence):
                    found.append(Citation(group, lesson.id, section.number, section.title, anchor, sentence))
    return tuple(found)


def citation_index(lessons: tuple[Lesson, ...]) -> tuple[Citation, ...]:
    return tuple(citation for lesson in lessons for citation in citations_in(lesson))
