"""Read content/ into frozen dataclasses, failing loudly with file and problem."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from course.catalog.errors import ContentError
from course.catalog.markup import render_markdown
from course.catalog.types import (
    Accreditation,
    Catalog,
    CompletionRules,
    GlossaryTerm,
    Issuer,
    Lesson,
    Module,
    Page,
    Section,
    SourcePublication,
)
from course.quizzes.definitions import Quiz

_LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9-]+)\.md$")
_SUBSECTION_HEADING = re.compile(r"^## (\d+)\.(\d+) (\S.*?) \{: #(sectie-\d+-\d+) \}$")
_SECTION_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def load_catalog(content_dir: Path, quizzes_dir: Path) -> Catalog:
    """Everything under content/ and quizzes/, validated. Raises ContentError."""
    from course.quizzes.loader import load_blueprint, load_quizzes

    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        raise ContentError(content_dir, "content-map bestaat niet")
    module, lesson_order = _load_module(content_dir / "module.yaml")
    lessons = _load_lessons(content_dir / "lessons", lesson_order)
    section_numbers = {s.number for lesson in lessons for s in lesson.sections}
    glossary = _load_glossary(content_dir / "glossary.yaml", section_numbers)
    source_page = _load_page(content_dir / "source.md")
    blueprint = load_blueprint(quizzes_dir, {lesson.id: lesson.learning_goals for lesson in lessons})
    quizzes = load_quizzes(
        quizzes_dir, section_numbers, {lesson.id for lesson in lessons}, module.pass_mark_percent, blueprint
    )
    graded = {quiz.id for quiz in quizzes if quiz.is_graded}
    for quiz_id in module.completion.quizzes_passed:
        if quiz_id not in graded:
            raise ContentError(
                content_dir / "module.yaml",
                f"completion.quizzes_passed: '{quiz_id}' is geen eindtoets of casustoets in quizzes/",
            )
    return Catalog(
        module=module,
        lessons=lessons,
        glossary=glossary,
        source_page=source_page,
        quizzes=_in_course_order(quizzes, lessons, module.completion.quizzes_passed),
        blueprint=blueprint,
    )


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ContentError(path, "bestand ontbreekt")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ContentError(path, "geen geldige UTF-8-tekst") from None
    except yaml.YAMLError as exc:
        raise ContentError(path, f"ongeldige YAML: {exc}") from None


def _split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError(path, "geen geldige UTF-8-tekst") from None
    if not text.startswith("---\n"):
        raise ContentError(path, "front matter ontbreekt (het bestand moet beginnen met '---')")
    end = text.find("\n---\n", 4)
    if end == -1:
        raise ContentError(path, "front matter wordt niet afgesloten met '---'")
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise ContentError(path, f"ongeldige YAML in front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise ContentError(path, "front matter moet een mapping zijn")
    return meta, text[end + 5 :]


def _require_str(path: Path, data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, f"veld '{field}' ontbreekt of is geen tekst")
    return value.strip()


def _require_str_list(path: Path, data: dict[str, Any], field: str) -> tuple[str, ...]:
    value = data.get(field)
    if not isinstance(value, list) or not value:
        raise ContentError(path, f"veld '{field}' moet een niet-lege lijst zijn")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ContentError(path, f"veld '{field}[{index}]' is geen tekst")
    return tuple(item.strip() for item in value)


def _reject_unknown(path: Path, data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ContentError(path, f"onbekend veld '{unknown[0]}'")


def _load_module(path: Path) -> tuple[Module, tuple[str, ...]]:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(path, "moet een mapping zijn")
    _reject_unknown(
        path,
        data,
        {
            "id",
            "title",
            "content_version",
            "description",
            "lessons",
            "pass_mark_percent",
            "study_load",
            "completion",
            "certificate",
            "accreditation",
            "source",
            "issuer",
        },
    )
    pass_mark = data.get("pass_mark_percent")
    if not isinstance(pass_mark, int) or isinstance(pass_mark, bool) or not 1 <= pass_mark <= 100:
        raise ContentError(path, "veld 'pass_mark_percent' moet een geheel getal van 1 tot en met 100 zijn")
    lessons = _require_str_list(path, data, "lessons")
    duplicates = {lesson for lesson in lessons if lessons.count(lesson) > 1}
    if duplicates:
        raise ContentError(path, f"les '{sorted(duplicates)[0]}' staat dubbel in 'lessons'")
    module = Module(
        id=_require_str(path, data, "id"),
        title=_require_str(path, data, "title"),
        content_version=_require_str(path, data, "content_version"),
        description=_require_str(path, data, "description"),
        pass_mark_percent=pass_mark,
        study_load=_require_str(path, data, "study_load"),
        completion=_completion(path, data.get("completion")),
        certificate_validity_months=_validity(path, data.get("certificate")),
        accreditation=_accreditation(path, data.get("accreditation")),
        source=_source_publication(path, data.get("source")),
        issuer=_issuer(path, data.get("issuer")),
    )
    return module, lessons


def _completion(path: Path, raw: Any) -> CompletionRules:
    if not isinstance(raw, dict):
        raise ContentError(path, "veld 'completion' ontbreekt of is geen mapping")
    _reject_unknown(path, raw, {"all_lessons_read", "quizzes_passed"})
    if not isinstance(raw.get("all_lessons_read"), bool):
        raise ContentError(path, "veld 'completion.all_lessons_read' moet true of false zijn")
    quizzes = raw.get("quizzes_passed", [])
    if not isinstance(quizzes, list) or not all(isinstance(q, str) for q in quizzes):
        raise ContentError(path, "veld 'completion.quizzes_passed' moet een lijst met toets-id's zijn")
    if not raw["all_lessons_read"] and not quizzes:
        raise ContentError(path, "veld 'completion' stelt geen enkele eis")
    return CompletionRules(raw["all_lessons_read"], tuple(quizzes))


def _validity(path: Path, raw: Any) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ContentError(path, "veld 'certificate' moet een mapping zijn")
    _reject_unknown(path, raw, {"validity_months"})
    months = raw.get("validity_months")
    if months is not None and (not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 240):
        raise ContentError(path, "veld 'certificate.validity_months' moet leeg zijn of een geheel getal van 1 tot 240")
    return months


def _accreditation(path: Path, raw: Any) -> Accreditation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ContentError(path, "veld 'accreditation' moet een mapping zijn")
    _reject_unknown(path, raw, {"body", "points", "activity_id"})
    values = {}
    for field in ("body", "points", "activity_id"):
        value = raw.get(field)
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise ContentError(path, f"veld 'accreditation.{field}' ontbreekt")
        values[field] = str(value).strip()
    return Accreditation(**values)


def _source_publication(path: Path, raw: Any) -> SourcePublication:
    if not isinstance(raw, dict):
        raise ContentError(path, "veld 'source' (titel, uitgever en datum van de bron) ontbreekt of is geen mapping")
    _reject_unknown(path, raw, {"title", "publisher", "published"})
    return SourcePublication(**{field: _require_str(path, raw, field) for field in ("title", "publisher", "published")})


# Printed on one line each on the certificate; longer text would not fit beside the QR code.
ISSUER_LIMITS = {"institute": 80, "signatory": 60, "signatory_role": 60}


def _issuer(path: Path, raw: Any) -> Issuer | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ContentError(path, "veld 'issuer' moet een mapping zijn")
    _reject_unknown(path, raw, set(ISSUER_LIMITS))
    values = {}
    for field, limit in ISSUER_LIMITS.items():
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ContentError(path, f"veld 'issuer.{field}' ontbreekt of is leeg")
        if len(value.strip()) > limit:
            raise ContentError(path, f"veld 'issuer.{field}' is langer dan {limit} tekens")
        values[field] = value.strip()
    return Issuer(**values)


def _load_lessons(lessons_dir: Path, order: tuple[str, ...]) -> tuple[Lesson, ...]:
    if not lessons_dir.is_dir():
        raise ContentError(lessons_dir, "map met lessen ontbreekt")
    files: dict[str, Path] = {}
    for path in sorted(lessons_dir.iterdir()):
        if path.name.startswith("."):
            continue
        match = _LESSON_FILE.match(path.name)
        if not match:
            raise ContentError(path, "bestandsnaam moet de vorm 'NN-les-id.md' hebben")
        lesson_id = match.group(2)
        if lesson_id not in order:
            raise ContentError(path, f"les '{lesson_id}' staat niet in module.yaml")
        if int(match.group(1)) != order.index(lesson_id) + 1:
            raise ContentError(path, f"volgnummer {match.group(1)} klopt niet met de volgorde in module.yaml")
        files[lesson_id] = path
    missing = [lesson_id for lesson_id in order if lesson_id not in files]
    if missing:
        raise ContentError(lessons_dir, f"bestand voor les '{missing[0]}' ontbreekt")
    lessons = tuple(_load_lesson(files[lesson_id], lesson_id, n) for n, lesson_id in enumerate(order, 1))
    anchors = [s.anchor for lesson in lessons for s in lesson.sections]
    if len(anchors) != len(set(anchors)):
        raise ContentError(lessons_dir, "een sectie-anker komt meer dan eens voor")
    return lessons


def _load_lesson(path: Path, lesson_id: str, position: int) -> Lesson:
    meta, body = _split_front_matter(path)
    _reject_unknown(
        path,
        meta,
        {"id", "chapter", "title", "summary", "learning_goals", "key_points", "cannot_conclude", "reflection"},
    )
    if meta.get("id") != lesson_id:
        raise ContentError(path, f"veld 'id' moet '{lesson_id}' zijn (zoals de bestandsnaam)")
    chapter = meta.get("chapter")
    if not isinstance(chapter, int) or isinstance(chapter, bool) or chapter != position:
        raise ContentError(path, f"veld 'chapter' moet het getal {position} zijn")
    title = _require_str(path, meta, "title")
    if not body.strip():
        raise ContentError(path, "de les heeft geen tekst")
    sections = [Section(str(chapter), title, lesson_id, f"sectie-{chapter}")]
    for line_number, line in enumerate(body.splitlines(), start=1):
        if not line.startswith("#"):
            continue
        match = _SUBSECTION_HEADING.match(line)
        if not match:
            raise ContentError(
                path,
                f"regel {line_number} na de front matter: kop moet de vorm '## N.M Titel {{: #sectie-N-M }}' hebben",
            )
        major, minor, heading, anchor = match.groups()
        if int(major) != chapter or anchor != f"sectie-{major}-{minor}":
            raise ContentError(
                path,
                f"regel {line_number} na de front matter: kop '{major}.{minor}' of anker "
                f"'{anchor}' hoort niet bij hoofdstuk {chapter}",
            )
        sections.append(Section(f"{major}.{minor}", heading, lesson_id, anchor))
    return Lesson(
        id=lesson_id,
        chapter=chapter,
        title=title,
        summary=_require_str(path, meta, "summary"),
        learning_goals=_require_str_list(path, meta, "learning_goals"),
        key_points=_require_str_list(path, meta, "key_points"),
        cannot_conclude=_cannot_conclude(path, meta),
        reflection_prompt=_reflection_prompt(path, meta),
        html=render_markdown(body),
        sections=tuple(sections),
        source_file=str(path),
    )


# The "Wat je hieruit niet kunt concluderen" box is the module makers' note, not NJi text: it may not
# look like source text (no citation such as "(Naam, 2010)") and stays short.
_CITATION = re.compile(r"\([^()]*\d{4}[^()]*\)")
_BOX_POINTS = (2, 6)
_BOX_POINT_CHARS = 500
_REFLECTION_CHARS = 300


def _cannot_conclude(path: Path, meta: dict[str, Any]) -> tuple[str, ...]:
    points = _require_str_list(path, meta, "cannot_conclude")
    low, high = _BOX_POINTS
    if not low <= len(points) <= high:
        raise ContentError(path, f"veld 'cannot_conclude' moet {low} tot {high} punten hebben, niet {len(points)}")
    for index, point in enumerate(points):
        if len(point) > _BOX_POINT_CHARS:
            raise ContentError(path, f"veld 'cannot_conclude[{index}]' is langer dan {_BOX_POINT_CHARS} tekens")
        if _CITATION.search(point):
            raise ContentError(
                path,
                f"veld 'cannot_conclude[{index}]' bevat een bronverwijzing; het kader is een toevoeging van "
                "de makers, geen brontekst",
            )
    return points


def _reflection_prompt(path: Path, meta: dict[str, Any]) -> str:
    prompt = _require_str(path, meta, "reflection")
    if len(prompt) > _REFLECTION_CHARS:
        raise ContentError(path, f"veld 'reflection' is langer dan {_REFLECTION_CHARS} tekens")
    if not prompt.endswith("?"):
        raise ContentError(path, "veld 'reflection' moet een vraag zijn (eindigen op '?')")
    return prompt


def _load_glossary(path: Path, section_numbers: set[str]) -> tuple[GlossaryTerm, ...]:
    data = _read_yaml(path)
    if not isinstance(data, list) or not data:
        raise ContentError(path, "moet een niet-lege lijst met begrippen zijn")
    terms: list[GlossaryTerm] = []
    for index, entry in enumerate(data):
        where = f"begrip {index + 1}"
        if not isinstance(entry, dict):
            raise ContentError(path, f"{where}: moet een mapping zijn")
        _reject_unknown(path, entry, {"term", "definition", "sections"})
        term = entry.get("term")
        definition = entry.get("definition")
        sections = entry.get("sections")
        if not isinstance(term, str) or not term.strip():
            raise ContentError(path, f"{where}: veld 'term' ontbreekt")
        if not isinstance(definition, str) or not definition.strip():
            raise ContentError(path, f"{where} ('{term}'): veld 'definition' ontbreekt")
        if not isinstance(sections, list) or not sections:
            raise ContentError(path, f"{where} ('{term}'): veld 'sections' moet een lijst zijn")
        for number in sections:
            if not isinstance(number, str) or not _SECTION_NUMBER.match(number):
                raise ContentError(path, f"{where} ('{term}'): sectie {number!r} is geen nummer als '2.1'")
            if number not in section_numbers:
                raise ContentError(path, f"{where} ('{term}'): sectie '{number}' bestaat niet")
        terms.append(GlossaryTerm(term.strip(), definition.strip(), tuple(sections)))
    names = [t.term.lower() for t in terms]
    if len(names) != len(set(names)):
        raise ContentError(path, "een begrip komt meer dan eens voor")
    return tuple(sorted(terms, key=lambda t: t.term.lower().strip("‘’'")))


def _load_page(path: Path) -> Page:
    if not path.is_file():
        raise ContentError(path, "bestand ontbreekt")
    meta, body = _split_front_matter(path)
    _reject_unknown(path, meta, {"title"})
    return Page(title=_require_str(path, meta, "title"), html=render_markdown(body))


def _in_course_order(quizzes: Sequence[Quiz], lessons: Sequence[Lesson], required: Sequence[str]) -> tuple[Quiz, ...]:
    """Knowledge checks in lesson order, then the required tests in the module's order, then the rest by id:
    the order a learner meets them (file names sort "kennischeck-gezins..." before "...-inleiding")."""
    lesson_position = {lesson.id: index for index, lesson in enumerate(lessons)}

    def key(quiz: Quiz) -> tuple[int, int, str]:
        if quiz.lesson in lesson_position:
            return (0, lesson_position[quiz.lesson], quiz.id)
        if quiz.id in required:
            return (1, required.index(quiz.id), quiz.id)
        return (2, 0, quiz.id)

    return tuple(sorted(quizzes, key=key))
