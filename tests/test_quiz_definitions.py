"""Quiz files are validated; every error names the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config import Config
from course.catalog import ContentError, load_catalog

VALID = {
    "id": "proef",
    "title": "Proeftoets",
    "kind": "summative",
    "description": "Een toets voor de tests.",
    "policy": {"max_attempts": 2, "cooldown_minutes": 5, "counts": "last", "review": "never"},
    "draw": [{"pool": "p", "count": 1}],
    "questions": [
        {
            "id": "proef-1",
            "section": "2.1",
            "pool": "p",
            "goals": ["kenmerken-ouder-1"],
            "level": "begrip",
            "type": "single_choice",
            "prompt": "Welke?",
            "options": [
                {"text": "Goed", "correct": True, "explanation": "Daarom."},
                {"text": "Fout", "correct": False, "explanation": "Daarom niet."},
            ],
        },
        {
            "id": "proef-2",
            "section": "3",
            "pool": "p",
            "goals": ["kenmerken-kind-4"],
            "level": "begrip",
            "type": "true_false",
            "prompt": "Stelling",
            "answer": False,
            "explanation_true": "Nee.",
            "explanation_false": "Ja.",
        },
    ],
}


def write_quiz(directory: Path, data: dict) -> Path:
    """Write `data` beside copies of the real bank (module.yaml's completion rules need it)."""
    if not directory.exists():
        shutil.copytree(Config.QUIZZES_DIR, directory)
    path = directory / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def load(quizzes: Path):
    return load_catalog(Config.CONTENT_DIR, quizzes)


def test_a_valid_quiz_loads_with_policy_and_pass_mark_from_module_config(tmp_path):
    write_quiz(tmp_path / "q", VALID)
    quiz = load(tmp_path / "q").quiz("proef")
    assert quiz.policy.max_attempts == 2
    assert quiz.policy.pass_mark_percent == 70
    assert [o.id for o in quiz.question("proef-2").options] == ["a", "b"]
    assert quiz.question("proef-2").options[1].correct  # answer: false -> "Niet waar" is the key


def mutated(path: str, value) -> dict:
    """VALID with the field at dotted `path` replaced (None deletes it)."""
    import copy

    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("kind", "exam", "kind: moet een van"),
        ("questions.0.section", "9.9", "vraag 'proef-1'.section: sectie '9.9' bestaat niet"),
        ("questions.0.type", "essay", "vraag 'proef-1'.type: moet een van"),
        ("questions.0.options.1.correct", True, "precies één optie moet correct zijn (nu 2)"),
        ("questions.0.options.0.explanation", None, "vraag 'proef-1'.options[0].explanation: ontbreekt"),
        ("questions.1.answer", "ja", "vraag 'proef-2'.answer: moet true of false zijn"),
        ("questions.1.id", "proef-1", "vraag 'proef-1': id komt meer dan eens voor"),
        ("draw.0.count", 5, "draw[0].count: moet een geheel getal 1..2 zijn"),
        ("questions.1.pool", "q", "pool 'q' staat niet in 'draw'"),
        ("policy.counts", "average", "policy:"),
        ("policy.max_attempts", 0, "policy.max_attempts"),
        ("questions.0.bonus", 1, "onbekend veld 'bonus'"),
        ("lesson", "inleiding", "lesson: alleen een kennischeck"),
        ("questions.0.goals", None, "vraag 'proef-1'.goals: ontbreekt (regel: elke toetsvraag hoort bij minstens"),
        ("questions.0.goals", [], "vraag 'proef-1'.goals: regel: een lijst met doel-id's"),
        ("questions.0.goals", ["kenmerken-ouder-9"], "vraag 'proef-1'.goals: onbekend doel 'kenmerken-ouder-9'"),
        ("questions.1.goals", ["casus-wegen"], "vraag 'proef-2'.goals: onbekend doel 'casus-wegen'"),
        ("questions.0.level", None, "vraag 'proef-1'.level: ontbreekt (regel: elke toetsvraag heeft een niveau"),
        ("questions.0.level", "evalueren", "vraag 'proef-1'.level: onbekend niveau 'evalueren' (regel: kies uit"),
        ("questions.0.needs_case", True, "vraag 'proef-1'.needs_case: regel: alleen casusvragen hebben needs_case"),
    ],
)
def test_invalid_quizzes_are_refused_naming_file_and_field(tmp_path, path, value, message):
    write_quiz(tmp_path / "q", mutated(path, value))
    with pytest.raises(ContentError) as excinfo:
        load(tmp_path / "q")
    assert excinfo.value.path.endswith("proef.yaml")
    assert message in excinfo.value.problem


def test_the_file_name_must_match_the_quiz_id(tmp_path):
    path = write_quiz(tmp_path / "q", VALID)
    path.rename(tmp_path / "q" / "anders.yaml")
    with pytest.raises(ContentError, match=r"anders\.yaml: id: moet gelijk zijn aan de bestandsnaam"):
        load(tmp_path / "q")


def test_a_formative_check_must_name_an_existing_lesson(tmp_path):
    data = mutated("kind", "formative")
    del data["draw"]
    for q in data["questions"]:
        del q["pool"]
    data["policy"] = {}
    data["lesson"] = "bestaat-niet"
    write_quiz(tmp_path / "q", data)
    with pytest.raises(ContentError, match="lesson: les 'bestaat-niet' bestaat niet"):
        load(tmp_path / "q")


def test_matching_items_must_use_declared_categories(tmp_path):
    data = mutated(
        "questions.1",
        {
            "id": "proef-m",
            "section": "1",
            "pool": "p",
            "goals": ["inleiding-2"],
            "level": "kennis",
            "type": "matching",
            "prompt": "Deel in",
            "categories": [{"id": "ouder", "label": "Ouder"}, {"id": "kind", "label": "Kind"}],
            "items": [
                {"text": "Depressie", "category": "ouder", "explanation": "2.2"},
                {"text": "Geluk", "category": "geluk", "explanation": "?"},
            ],
        },
    )
    write_quiz(tmp_path / "q", data)
    with pytest.raises(ContentError, match=r"items\[1\]\.category: categorie 'geluk' bestaat niet"):
        load(tmp_path / "q")


def test_broken_yaml_is_reported(tmp_path):
    shutil.copytree(Config.QUIZZES_DIR, tmp_path / "q")
    (tmp_path / "q" / "kapot.yaml").write_text("id: [kapot", encoding="utf-8")
    with pytest.raises(ContentError, match=r"kapot\.yaml: ongeldige YAML"):
        load(tmp_path / "q")


def test_completion_rules_must_name_graded_quizzes(tmp_path):
    shutil.copytree(Config.QUIZZES_DIR, tmp_path / "q")
    (tmp_path / "q" / "eindtoets.yaml").unlink()
    with pytest.raises(ContentError, match=r"module\.yaml: completion\.quizzes_passed: 'eindtoets'"):
        load(tmp_path / "q")


@pytest.mark.parametrize("correct", [(False, False, False), (True, True, True)], ids=["none right", "all right"])
def test_a_multiple_response_question_needs_a_right_and_a_wrong_option(tmp_path, correct):
    """Grading divides by the number of right options, and a question where every option is right
    cannot tell knowing from ticking everything: both are refused when the bank loads."""
    question = {
        "id": "proef-3",
        "section": "2.2",
        "pool": "p",
        "goals": ["kenmerken-ouder-3"],
        "level": "begrip",
        "type": "multiple_response",
        "prompt": "Welke drie?",
        "options": [
            {"text": f"Optie {n}", "correct": flag, "explanation": "Uitleg."} for n, flag in enumerate(correct)
        ],
    }
    data = mutated("questions.1", question)
    write_quiz(tmp_path / "q", data)
    with pytest.raises(ContentError) as excinfo:
        load(tmp_path / "q")
    assert excinfo.value.path.endswith("proef.yaml")
    assert (
        excinfo.value.problem == "vraag 'proef-3'.options: minstens één optie moet correct en minstens één onjuist zijn"
    )
