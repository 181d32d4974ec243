"""The test blueprint (quizzes/toetsmatrijs.yaml) and the case-test fields are validated at start-up:
an unknown goal, level, setting or tag is refused with file, id and rule, and nothing is half-loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config import Config
from course import create_app
from course.catalog import ContentError, load_catalog


def bank_copy(tmp_path: Path) -> Path:
    target = tmp_path / "q"
    shutil.copytree(Config.QUIZZES_DIR, target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def refused(quizzes: Path) -> ContentError:
    with pytest.raises(ContentError) as excinfo:
        load_catalog(Config.CONTENT_DIR, quizzes)
    return excinfo.value


def first_case_question(data: dict) -> dict:
    return data["vignettes"][0]["stages"][0]["questions"][0]


def ask_two_cases_of_a_tag_only_one_carries(data: dict) -> None:
    """Leave `stapeling` on the first case that carries it only, then require two such cases."""
    tagged = [v for v in data["vignettes"] if "stapeling" in v["covers"]]
    for vignette in tagged[1:]:
        vignette["covers"].remove("stapeling")
    data["require_covers"] = {"stapeling": 2}


# ---------------------------------------------------------------- the blueprint file


def test_the_blueprint_mirrors_every_lesson_goal_with_a_level_and_adds_the_five_case_goals():
    catalog = load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)
    goals = {g.id: g for g in catalog.blueprint.goals}
    for lesson in catalog.lessons:
        for n, text in enumerate(lesson.learning_goals, 1):
            goal = goals[f"{lesson.id}-{n}"]
            assert (goal.text, goal.lesson) == (text, lesson.id)
            assert goal.level in ("kennis", "begrip")
    case_goals = {g.id: g.level for g in catalog.blueprint.goals if g.lesson is None}
    assert case_goals == {
        "casus-factoren-wegen": "toepassing",
        "casus-compensatie": "toepassing",
        "casus-stapeling": "analyse",
        "casus-verandering": "analyse",
        "casus-grenzen": "analyse",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["goals"].pop(0),
            "doel 'inleiding-1': ontbreekt (regel: elk leerdoel van een les staat in de toetsmatrijs)",
        ),
        (
            lambda d: d["goals"][0].update(level="onthouden"),
            "doel 'inleiding-1'.level: onbekend niveau 'onthouden' (regel: kies uit kennis, begrip, toepassing, analyse)",
        ),
        (
            lambda d: d["goals"].append({"id": "inleiding-4", "level": "kennis"}),
            "doel 'inleiding-4': regel: de les heeft geen leerdoel met dit nummer",
        ),
        (
            lambda d: d["goals"][0].update(text="Eigen tekst"),
            "doel 'inleiding-1'.text: regel: een lesdoel neemt zijn tekst uit learning_goals van de les",
        ),
        (
            lambda d: d["goals"].append(dict(d["goals"][-1])),
            "doel 'casus-grenzen': regel: elk doel-id komt één keer voor",
        ),
        (lambda d: d["goals"].append({"id": "casus-extra", "level": "analyse"}), "doel 'casus-extra'.text: ontbreekt"),
    ],
    ids=["missing lesson goal", "unknown level", "goal number beyond the lesson", "own text", "twice", "no text"],
)
def test_a_broken_blueprint_is_refused_naming_file_goal_and_rule(tmp_path, change, message):
    quizzes = bank_copy(tmp_path)
    edit_yaml(quizzes / "toetsmatrijs.yaml", change)
    error = refused(quizzes)
    assert error.path.endswith("toetsmatrijs.yaml")
    assert error.problem.startswith(message)


def test_without_a_blueprint_the_bank_does_not_load(tmp_path):
    quizzes = bank_copy(tmp_path)
    (quizzes / "toetsmatrijs.yaml").unlink()
    assert refused(quizzes).problem.startswith("bestand ontbreekt")


# ---------------------------------------------------------------- case-test fields


def test_case_questions_carry_goals_level_and_needs_case_and_cases_a_setting():
    quiz = load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR).quiz("casustoets")
    assert quiz.vignettes_per_attempt == 3
    assert dict(quiz.require_covers) == {"compensatie-kindrisico": 1, "geen-compensatie-ouderrisico": 1}
    for vignette in quiz.vignettes:
        assert vignette.setting
        for question in vignette.questions:
            assert question.goals and question.level and isinstance(question.needs_case, bool), question.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["vignettes"][0].update(setting="huisarts"),
            "casus 'cs-noor'.setting: onbekende setting 'huisarts' (regel: kies uit consultatiebureau,",
        ),
        (lambda d: d["vignettes"][0].pop("setting"), "casus 'cs-noor'.setting: onbekende setting None"),
        (
            lambda d: d["vignettes"][0].update(covers=["kind", "opeenhoping"]),
            "casus 'cs-noor'.covers: onbekend label 'opeenhoping' (regel: kies uit",
        ),
        (
            lambda d: first_case_question(d).pop("needs_case"),
            "vraag 'cs-noor-1'.needs_case: regel: elke casusvraag zegt true of false",
        ),
        (
            lambda d: first_case_question(d).update(goals=["casus-onbekend"]),
            "vraag 'cs-noor-1'.goals: onbekend doel 'casus-onbekend' (regel: elk doel staat in toetsmatrijs.yaml)",
        ),
        (
            lambda d: first_case_question(d).update(level="synthese"),
            "vraag 'cs-noor-1'.level: onbekend niveau 'synthese'",
        ),
        (
            ask_two_cases_of_a_tag_only_one_carries,
            "require_covers.stapeling: regel: er zijn 1 casussen met dit label, een poging vraagt er 2",
        ),
        (
            lambda d: d.update(require_covers={"bestaat-niet": 1}),
            "require_covers: onbekend veld 'bestaat-niet'",
        ),
        (
            lambda d: d.update(require_covers={"compensatie-kindrisico": 4}),
            "require_covers.compensatie-kindrisico: moet een geheel getal 1..3 zijn",
        ),
    ],
    ids=[
        "unknown setting",
        "no setting",
        "unknown tag",
        "no needs_case",
        "unknown goal",
        "unknown level",
        "too few tagged cases",
        "unknown tag required",
        "more than per attempt",
    ],
)
def test_a_broken_case_test_is_refused_naming_file_id_and_rule(tmp_path, change, message):
    quizzes = bank_copy(tmp_path)
    edit_yaml(quizzes / "casustoets.yaml", change)
    error = refused(quizzes)
    assert error.path.endswith("casustoets.yaml")
    assert error.problem.startswith(message)


def test_require_covers_that_no_single_draw_can_meet_is_refused(tmp_path):
    """No case carries both tags, so with one case per attempt no draw can hold both."""
    quizzes = bank_copy(tmp_path)
    edit_yaml(quizzes / "casustoets.yaml", lambda d: d.update(vignettes_per_attempt=1))
    error = refused(quizzes)
    assert error.problem == "require_covers: regel: geen trekking van 1 casussen haalt alle eisen tegelijk"


def test_the_new_tag_stapeling_is_accepted(tmp_path):
    quizzes = bank_copy(tmp_path)
    edit_yaml(quizzes / "casustoets.yaml", lambda d: d["vignettes"][0]["covers"].append("stapeling"))
    assert "stapeling" in load_catalog(Config.CONTENT_DIR, quizzes).quiz("casustoets").vignettes[0].covers


def test_a_knowledge_check_may_name_goals_but_not_needs_case(tmp_path):
    quizzes = bank_copy(tmp_path)
    path = quizzes / "kennischeck-inleiding.yaml"
    edit_yaml(path, lambda d: d["questions"][0].update(needs_case=False))
    error = refused(quizzes)
    assert error.path.endswith("kennischeck-inleiding.yaml")
    assert "needs_case: regel: alleen casusvragen hebben needs_case" in error.problem


def test_the_app_refuses_to_start_on_a_broken_blueprint(tmp_path):
    quizzes = bank_copy(tmp_path)
    edit_yaml(quizzes / "toetsmatrijs.yaml", lambda d: d["goals"][0].update(level="weten"))

    class BrokenBank(Config):
        TESTING = True
        QUIZZES_DIR = quizzes
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'app.db'}"

    with pytest.raises(ContentError, match=r"toetsmatrijs\.yaml: doel 'inleiding-1'\.level: onbekend niveau"):
        create_app(BrokenBank)
