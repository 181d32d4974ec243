"""Broken content is refused with a message that names the file and the problem."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import BASE_DIR, Config
from course.catalog import ContentError, load_catalog


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Config.CONTENT_DIR, target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_content_loads(content):
    catalog = load_catalog(content, Config.QUIZZES_DIR)
    assert len(catalog.lessons) == 6


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("lessons/02-kenmerken-ouder.md", "chapter: 2", "chapter: two", "veld 'chapter'"),
        ("lessons/02-kenmerken-ouder.md", "id: kenmerken-ouder", "id: iets-anders", "veld 'id'"),
        ("lessons/02-kenmerken-ouder.md", "learning_goals:", "leerdoelen:", "onbekend veld 'leerdoelen'"),
        ("lessons/02-kenmerken-ouder.md", "{: #sectie-2-2 }", "{: #sectie-3-2 }", "hoort niet bij hoofdstuk 2"),
        (
            "lessons/02-kenmerken-ouder.md",
            "## 2.3 Opvoedingsonzekerheid",
            "# 2.3 Opvoedingsonzekerheid",
            "kop moet de vorm",
        ),
        ("lessons/02-kenmerken-ouder.md", "---\nid:", "id:", "front matter ontbreekt"),
        ("module.yaml", "title:", "title: [", "ongeldige YAML"),
        ("module.yaml", "  - inleiding\n", "  - inleiding\n  - inleiding\n", "staat dubbel"),
        ("glossary.yaml", 'sections: ["2.1"]', 'sections: ["2.9"]', "sectie '2.9' bestaat niet"),
        ("glossary.yaml", "definition:", "omschrijving:", "onbekend veld 'omschrijving'"),
        ("source.md", "title: Bron en verantwoording", "titel: x", "onbekend veld 'titel'"),
        # module.yaml: every setting that reaches a certificate, an export or the pass mark.
        ("module.yaml", "pass_mark_percent: 70", "pass_mark_percent: 170", "'pass_mark_percent' moet een geheel getal"),
        (
            "module.yaml",
            "pass_mark_percent: 70",
            "pass_mark_percent: true",
            "'pass_mark_percent' moet een geheel getal",
        ),
        ("module.yaml", 'study_load: "2 uur"', "study_load: 2", "veld 'study_load'"),
        (
            "module.yaml",
            "  all_lessons_read: true",
            "  all_lessons_read: ja",
            "'completion.all_lessons_read' moet true",
        ),
        ("module.yaml", "  quizzes_passed: [eindtoets, casustoets]", "  quizzes_passed: eindtoets", "toets-id's"),
        (
            "module.yaml",
            "  all_lessons_read: true\n  quizzes_passed: [eindtoets, casustoets]",
            "  all_lessons_read: false",
            "stelt geen enkele eis",
        ),
        ("module.yaml", "completion:\n", "completion: alles\nnot_completion:\n", "onbekend veld 'not_completion'"),
        (
            "module.yaml",
            "  validity_months: 36",
            "  validity_months: 0",
            "'certificate.validity_months' moet leeg zijn",
        ),
        ("module.yaml", "  validity_months: 36", "  geldig: 36", "onbekend veld 'geldig'"),
        (
            "module.yaml",
            '  activity_id: "VOORBEELD-2021-HW"',
            '  activity_id: " "',
            "'accreditation.activity_id' ontbreekt",
        ),
        ("module.yaml", '  points: "2"', "  points: true", "'accreditation.points' ontbreekt"),
        ("module.yaml", '  publisher: "Nederlands Jeugdinstituut (NJi)"\n', "", "'publisher'"),
        ("module.yaml", '  signatory: "drs. A. de Vries"', '  signatory: ""', "'issuer.signatory' ontbreekt"),
        (
            "module.yaml",
            '  institute: "Hechtwijzer Opleidingen (voorbeeldinstituut)"',
            '  institute: "' + "x" * 81 + '"',
            "'issuer.institute' is langer dan 80",
        ),
        (
            "module.yaml",
            '  signatory_role: "Opleidingscoördinator"',
            "  signatory_role: x\n  stempel: y",
            "onbekend veld 'stempel'",
        ),
    ],
)
def test_a_broken_file_is_named_with_its_problem(content, file, old, new, problem):
    replace_in(content / file, old, new)
    with pytest.raises(ContentError) as excinfo:
        load_catalog(content, Config.QUIZZES_DIR)
    assert excinfo.value.path.endswith(file)
    assert problem in excinfo.value.problem


def test_a_missing_lesson_file_is_reported(content):
    (content / "lessons" / "04-stabiliteit-continuiteit.md").unlink()
    with pytest.raises(ContentError, match="stabiliteit-continuiteit' ontbreekt"):
        load_catalog(content, Config.QUIZZES_DIR)


def test_an_unlisted_lesson_file_is_reported(content):
    (content / "lessons" / "07-extra.md").write_text("---\nid: extra\n---\ntekst\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"07-extra\.md: les 'extra' staat niet in module\.yaml"):
        load_catalog(content, Config.QUIZZES_DIR)


def test_invalid_utf8_is_reported(content):
    (content / "lessons" / "01-inleiding.md").write_bytes(b"---\nid: inleiding\n---\n\xff\xfe")
    with pytest.raises(ContentError, match=r"01-inleiding\.md: geen geldige UTF-8"):
        load_catalog(content, Config.QUIZZES_DIR)


def test_lesson_html_is_sanitized_at_load(content):
    replace_in(
        content / "lessons" / "01-inleiding.md",
        "\nEr zijn allerlei factoren",
        '\n<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">klik</a> Er zijn allerlei factoren',
    )
    html = load_catalog(content, Config.QUIZZES_DIR).lesson("inleiding").html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onclick" not in html


def _run(args: list[str], content_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HECHTWIJZER_CONTENT": str(content_dir),
        "HECHTWIJZER_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_course_check_passes_on_the_shipped_content(app, runner, content, monkeypatch):
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    result = runner.invoke(args=["course", "check"])
    assert result.exit_code == 0, result.output
    assert "Inhoud in orde: 6 lessen, 15 secties" in result.stdout


def test_course_check_fails_naming_file_and_problem(app, runner, content, monkeypatch):
    """Content edited on a running server: the command reads the files again and names the problem."""
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    replace_in(content / "lessons" / "03-kenmerken-kind.md", "chapter: 3", "chapter: 4")
    result = runner.invoke(args=["course", "check"])
    assert result.exit_code == 1
    assert "03-kenmerken-kind.md: veld 'chapter' moet het getal 3 zijn" in result.stderr
    assert result.stdout == ""


def test_the_check_command_as_operators_run_it_fails_on_broken_content(content, tmp_path):
    """In a process of its own, as in scripts/test.sh and CI: the app itself refuses the content."""
    replace_in(content / "lessons" / "03-kenmerken-kind.md", "chapter: 3", "chapter: 4")
    result = _run([sys.executable, "-m", "flask", "--app", "wsgi", "course", "check"], content, tmp_path)
    assert result.returncode == 1
    assert "03-kenmerken-kind.md: veld 'chapter' moet het getal 3 zijn" in result.stderr


def test_the_app_refuses_to_start_with_the_same_message(content, tmp_path):
    replace_in(content / "lessons" / "03-kenmerken-kind.md", "chapter: 3", "chapter: 4")
    result = _run([sys.executable, "-c", "import wsgi"], content, tmp_path)
    assert result.returncode == 1
    assert "Inhoud ongeldig:" in result.stderr
    assert "03-kenmerken-kind.md: veld 'chapter' moet het getal 3 zijn" in result.stderr
