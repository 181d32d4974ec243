"""`flask course check` holds the bank to the blueprint: every goal is tested, the final test can cover
every section on every retake, and every case unfolds and needs its text. `flask course blueprint`
prints the matrix. The case-content rules are tested on fixture files, so they hold whatever cases
the bank has today."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config import Config
from course.catalog import ContentError, load_catalog
from course.quizzes.blueprint import blueprint_problems, case_content_problems, file_label, render_matrix
from course.quizzes.definitions import Blueprint, Counting, Goal, Policy, Question, Quiz, QuizKind, ReviewPolicy

CASE_GOALS = ["casus-factoren-wegen", "casus-compensatie", "casus-stapeling", "casus-verandering", "casus-grenzen"]
TAGS = [
    ["kind", "beschermend", "compensatie-kindrisico"],
    ["ouder", "geen-compensatie-ouderrisico"],
    ["gezin", "stabiliteit", "stapeling"],
]


def case_question(case: int, n: int, needs_case: bool) -> dict:
    return {
        "id": f"fx-{case}-{n}",
        "section": "3",
        "goals": [CASE_GOALS[(case + n) % len(CASE_GOALS)]],
        "level": "toepassing" if needs_case else "begrip",
        "needs_case": needs_case,
        "type": "true_false",
        "prompt": f"Stelling {case}-{n} over de casus.",
        "answer": True,
        "explanation_true": "Juist: zo staat het in hoofdstuk 3.",
        "explanation_false": "Onjuist: hoofdstuk 3 zegt het anders.",
    }


def conforming_case_test(cases: int = 9) -> dict:
    """Nine cases of three stages, four questions each, one of them recall (25%: the allowed maximum)."""
    vignettes = []
    for c in range(cases):
        questions = [case_question(c, n, needs_case=n != 3) for n in range(4)]
        vignettes.append(
            {
                "id": f"fx-casus-{c}",
                "title": f"Casus {c}",
                "covers": TAGS[c % len(TAGS)],
                "setting": "wijkteam",
                "stages": [
                    {"text": "Eerste stap.", "questions": questions[:1]},
                    {"text": "Tweede stap: er verandert iets.", "questions": questions[1:2]},
                    {"text": "Derde stap: er verandert weer iets.", "questions": questions[2:]},
                ],
            }
        )
    return {
        "id": "casustoets",
        "title": "Casustoets",
        "kind": "vignette",
        "description": "Fixture.",
        "vignettes_per_attempt": 3,
        "require_covers": {"compensatie-kindrisico": 1, "geen-compensatie-ouderrisico": 1},
        "vignettes": vignettes,
    }


def bank_with(tmp_path: Path, case_test: dict) -> Path:
    target = tmp_path / "quizzes"
    shutil.copytree(Config.QUIZZES_DIR, target)
    (target / "casustoets.yaml").write_text(yaml.safe_dump(case_test, allow_unicode=True), encoding="utf-8")
    return target


def problems_of(quizzes: Path) -> list[str]:
    catalog = load_catalog(Config.CONTENT_DIR, quizzes)
    found = blueprint_problems(catalog.blueprint, catalog.quizzes)
    for quiz in catalog.quizzes:
        found += case_content_problems(quiz)
    return [str(p) for p in found]


def test_a_conforming_case_test_breaks_no_case_rule(tmp_path):
    found = problems_of(bank_with(tmp_path, conforming_case_test()))
    assert [p for p in found if "casustoets.yaml" in p] == []


def test_a_case_with_two_stages_is_reported_by_file_and_id(tmp_path):
    data = conforming_case_test()
    stages = data["vignettes"][4]["stages"]
    stages[1]["questions"] += stages.pop(2)["questions"]
    found = problems_of(bank_with(tmp_path, data))
    assert (
        "quizzes/casustoets.yaml: casus 'fx-casus-4': regel: minstens 3 stappen waarin het beeld verandert (nu 2)"
        in found
    )


def test_a_case_with_one_question_that_needs_it_is_reported(tmp_path):
    data = conforming_case_test()
    data["vignettes"][2]["stages"][0]["questions"][0]["needs_case"] = False
    data["vignettes"][2]["stages"][1]["questions"][0]["needs_case"] = False
    found = problems_of(bank_with(tmp_path, data))
    assert "quizzes/casustoets.yaml: casus 'fx-casus-2': regel: minstens 2 vragen met needs_case: true (nu 1)" in found


def test_more_than_a_quarter_recall_questions_is_reported_with_the_share(tmp_path):
    data = conforming_case_test()
    data["vignettes"][0]["stages"][0]["questions"][0]["needs_case"] = False  # 10 of 36
    found = problems_of(bank_with(tmp_path, data))
    assert (
        "quizzes/casustoets.yaml: vignettes: regel: hoogstens 25% van de casusvragen zonder de casus te "
        "beantwoorden (needs_case: false); nu 10 van 36 (28%)"
    ) in found


def test_a_goal_without_a_final_or_case_question_is_reported(tmp_path):
    data = conforming_case_test()
    for vignette in data["vignettes"]:
        for stage in vignette["stages"]:
            for question in stage["questions"]:
                if question["goals"] == ["casus-verandering"]:
                    question["goals"] = ["casus-factoren-wegen"]
    found = problems_of(bank_with(tmp_path, data))
    assert (
        "quizzes/toetsmatrijs.yaml: doel 'casus-verandering': regel: elk doel heeft minstens één vraag in de "
        "eindtoets of de casustoets"
    ) in found


def test_too_few_cases_for_new_cases_on_every_retake_is_reported(tmp_path):
    found = problems_of(bank_with(tmp_path, conforming_case_test(cases=8)))
    assert (
        "quizzes/casustoets.yaml: vignettes: regel: 8 casussen, minder dan 3 per poging × 3 pogingen; "
        "een herkansing krijgt dan een casus die al gezien is"
    ) in found


def test_a_section_with_fewer_final_questions_than_attempts_is_reported(tmp_path):
    quizzes = bank_with(tmp_path, conforming_case_test())
    final = yaml.safe_load((quizzes / "eindtoets.yaml").read_text(encoding="utf-8"))
    others = [q for q in final["questions"] if q["section"] != "4.2"]
    final["questions"] = others + [q for q in final["questions"] if q["section"] == "4.2"][:2]
    (quizzes / "eindtoets.yaml").write_text(yaml.safe_dump(final, allow_unicode=True), encoding="utf-8")
    found = problems_of(quizzes)
    assert (
        "quizzes/eindtoets.yaml: sectie 4.2: regel: 2 vraag/vragen, minder dan het aantal pogingen (3); "
        "een herkansing krijgt dan een vraag die al gezien is"
    ) in found


def test_a_final_test_whose_draw_cannot_cover_every_section_is_refused_at_start_up(tmp_path):
    quizzes = bank_with(tmp_path, conforming_case_test())
    final = yaml.safe_load((quizzes / "eindtoets.yaml").read_text(encoding="utf-8"))
    for rule in final["draw"]:
        if rule["pool"] == "h5":
            rule["count"] = 2  # three sections (5.1, 5.2, 5.3) share this pool
    (quizzes / "eindtoets.yaml").write_text(yaml.safe_dump(final, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError) as excinfo:
        load_catalog(Config.CONTENT_DIR, quizzes)
    assert excinfo.value.path.endswith("eindtoets.yaml")
    assert excinfo.value.problem == (
        "draw: regel: de pools trekken te weinig vragen om elke genummerde sectie in elke poging te toetsen"
    )


def test_a_final_test_without_a_question_for_a_section_is_refused_at_start_up(tmp_path):
    quizzes = bank_with(tmp_path, conforming_case_test())
    final = yaml.safe_load((quizzes / "eindtoets.yaml").read_text(encoding="utf-8"))
    final["questions"] = [q for q in final["questions"] if q["section"] != "5.2"]
    (quizzes / "eindtoets.yaml").write_text(yaml.safe_dump(final, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match=r"eindtoets\.yaml: sectie 5\.2: regel: elke genummerde sectie"):
        load_catalog(Config.CONTENT_DIR, quizzes)


def test_check_command_fails_naming_file_id_and_rule(app, runner, tmp_path, monkeypatch):
    data = conforming_case_test()
    data["vignettes"][4]["stages"].pop()
    monkeypatch.setitem(app.config, "QUIZZES_DIR", bank_with(tmp_path, data))
    result = runner.invoke(args=["course", "check"])
    assert result.exit_code == 1
    assert "quizzes/casustoets.yaml: casus 'fx-casus-4': regel: minstens 3 stappen" in result.output


def test_blueprint_command_prints_goals_by_section_and_level_per_test(app, runner, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "QUIZZES_DIR", bank_with(tmp_path, conforming_case_test()))
    result = runner.invoke(args=["course", "blueprint"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Casustoets (quizzes/casustoets.yaml): 36 vragen, 3 casussen per poging" in lines
    case_part = lines[lines.index("Casustoets (quizzes/casustoets.yaml): 36 vragen, 3 casussen per poging") :]
    # fx-c-n has goal (c + n) % 5: casus-grenzen (index 4) is asked by 7 questions, all in section 3:
    # 5 needs_case (toepassing) and 2 recall (begrip).
    row = next(line for line in case_part if line.startswith("casus-grenzen "))
    assert row.split() == ["casus-grenzen", "analyse", "3", ".", "2", "5", ".", "7"]
    assert any(line.startswith("Eindtoets (quizzes/eindtoets.yaml):") for line in lines)


# ---------------------------------------------------------------- the matrix and the rules on small banks

POLICY = Policy(
    max_attempts=3, cooldown_minutes=0, counts=Counting.BEST, review=ReviewPolicy.NEVER, pass_mark_percent=70
)


def goal_question(qid: str, section: str, goals: tuple[str, ...], level: str) -> Question:
    return Question(id=qid, type="true_false", section=section, prompt="Stelling.", goals=goals, level=level)


def test_the_matrix_counts_questions_per_goal_section_and_level_and_shows_gaps():
    """What `flask course blueprint` prints, in full: sections in number order (9 before 10), a question
    with two goals under both, a goal without questions as an empty row, dots for zero."""
    goals = (
        Goal("g-kort", "kennis", "Kort."),
        Goal("g-langer-doel", "begrip", "Langer."),
        Goal("g-leeg", "toepassing", ""),
    )
    test = Quiz(
        id="eindtoets",
        title="Eindtoets",
        kind=QuizKind.SUMMATIVE,
        description="",
        policy=POLICY,
        questions=(
            goal_question("q1", "10", ("g-kort",), "kennis"),
            goal_question("q2", "9", ("g-kort",), "begrip"),
            goal_question("q3", "9", ("g-kort", "g-langer-doel"), "toepassing"),
            goal_question("q4", "2.1", ("g-langer-doel",), "analyse"),
        ),
    )
    assert render_matrix(Blueprint(goals), test).splitlines() == [
        "doel           niveau      sectie        kennis      begrip  toepassing     analyse  totaal",
        "-" * 91,
        "g-kort         kennis      9                  .           1           1           .       2",
        "g-kort         kennis      10                 1           .           .           .       1",
        "g-langer-doel  begrip      2.1                .           .           .           1       1",
        "g-langer-doel  begrip      9                  .           .           1           .       1",
        "g-leeg         toepassing  -                  .           .           .           .       .",
        "-" * 91,
        "vragen per niveau                             1           1           1           1       4",
        "vragen per sectie: 2.1: 1, 9: 2, 10: 1",
    ]


def test_a_file_outside_a_folder_is_named_by_its_name_alone():
    assert file_label("/srv/hechtwijzer/quizzes/eindtoets.yaml") == "quizzes/eindtoets.yaml"
    assert file_label("eindtoets.yaml") == "eindtoets.yaml"


def test_a_case_with_exactly_two_questions_that_need_it_passes_that_rule(tmp_path):
    data = conforming_case_test()
    data["vignettes"][2]["stages"][0]["questions"][0]["needs_case"] = False  # 2 of its 4 questions need the case
    found = problems_of(bank_with(tmp_path, data))
    assert [p for p in found if "fx-casus-2" in p] == []


def final_test(questions: tuple[Question, ...], max_attempts: int | None, sections: tuple[str, ...] = ()) -> Quiz:
    policy = Policy(
        max_attempts=max_attempts,
        cooldown_minutes=0,
        counts=Counting.BEST,
        review=ReviewPolicy.NEVER,
        pass_mark_percent=70,
    )
    return Quiz(
        id="eindtoets",
        title="Eindtoets",
        kind=QuizKind.SUMMATIVE,
        description="",
        policy=policy,
        questions=questions,
        cover_sections=sections,
        source_file="quizzes/eindtoets.yaml",
    )


def test_a_test_question_without_a_goal_is_reported_by_file_and_id():
    goals = Blueprint((Goal("g-een", "kennis", "Een."),), "quizzes/toetsmatrijs.yaml")
    questions = (goal_question("q1", "1", ("g-een",), "kennis"), goal_question("q2", "1", (), "kennis"))
    found = blueprint_problems(goals, (final_test(questions, max_attempts=1),))
    assert [str(p) for p in found] == ["quizzes/eindtoets.yaml: vraag 'q2': regel: elke toetsvraag heeft een doel"]


def test_with_unlimited_attempts_one_question_per_section_is_enough():
    """Unlimited attempts count as one for the retake rule: there is no last retake to keep new questions for."""
    goals = Blueprint((Goal("g-een", "kennis", "Een."),), "quizzes/toetsmatrijs.yaml")
    questions = (goal_question("q1", "1", ("g-een",), "kennis"), goal_question("q2", "2", ("g-een",), "kennis"))
    assert blueprint_problems(goals, (final_test(questions, max_attempts=None, sections=("1", "2")),)) == []
    found = blueprint_problems(goals, (final_test(questions, max_attempts=2, sections=("1", "2")),))
    assert [p.id for p in found] == ["sectie 1", "sectie 2"]
