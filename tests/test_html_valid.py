"""Every page type, for every role, is valid HTML by the Nu Html Checker (vnu), with 0 errors (issue 14).

vnu comes from the `vnu-jar` npm package (package.json) and runs on Java (scripts/test.sh installs
Debian's default-jre-headless); without Java the test is skipped and says why. One checker run
covers all pages, so the JVM starts once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import csrf_token
from tests.page_tour import ANON, NOT_HTML, PROTOCOL_STEPS, build_tour, client_for

VNU_JAR = Path(__file__).resolve().parent.parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture
def vnu() -> list[str]:
    """The command that runs the checker; skipped (failed in CI) when Java or the jar is missing."""
    java = shutil.which("java")
    reason = None
    if java is None:
        reason = "Java is missing: install Debian's default-jre-headless (scripts/test.sh does) to run vnu"
    elif not VNU_JAR.is_file():
        reason = f"{VNU_JAR} is missing: run `npm ci --ignore-scripts` (scripts/test.sh does)"
    if reason:
        if _in_ci():
            pytest.fail(f"the HTML check cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return [java, "-Xss2m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout"]


def html_pages(app, create_user) -> dict[str, str]:
    """label → HTML of every toured page, plus error pages and forms showing their errors."""
    tour = build_tour(app, create_user)
    pages: dict[str, str] = {}
    for who, paths in tour.pages.items():
        client = client_for(app, tour, who)
        for endpoint, path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, f"{who} {path}: {response.status_code}"
            assert response.mimetype == "text/html", f"{who} {path}: {response.mimetype}"
            pages[f"{who} {endpoint} {path}"] = response.get_data(as_text=True)
    anonymous = client_for(app, tour, ANON)
    pages["404 page"] = anonymous.get("/bestaat-niet").get_data(as_text=True)
    token = csrf_token(anonymous, "/inloggen")
    pages["login form with errors"] = anonymous.post("/inloggen", data={"csrf_token": token}).get_data(as_text=True)
    token = csrf_token(anonymous, "/registreren")
    pages["registration form with errors"] = anonymous.post("/registreren", data={"csrf_token": token}).get_data(
        as_text=True
    )
    return pages


def test_every_page_type_is_toured(app, create_user):
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    tour = build_tour(app, create_user)
    assert get_endpoints - NOT_HTML - PROTOCOL_STEPS == tour.endpoints(), "add new pages to tests/page_tour.py"


def test_every_page_type_is_valid_html(app, create_user, vnu, tmp_path):
    pages = html_pages(app, create_user)
    files: dict[str, str] = {}
    for number, (label, html) in enumerate(pages.items()):
        path = tmp_path / f"page-{number:03d}.html"
        path.write_text(html, encoding="utf-8")
        files[path.as_uri()] = label
    run = subprocess.run([*vnu, *(str(tmp_path / Path(uri).name) for uri in files)], capture_output=True, text=True)
    messages = json.loads(run.stdout or run.stderr)["messages"]
    errors = [m for m in messages if m["type"] == "error" or m.get("subType") == "fatal"]
    by_uri = {Path(uri).name: label for uri, label in files.items()}
    report = [
        f"{by_uri.get(Path(m.get('url', '')).name, m.get('url'))}, line {m.get('lastLine')}: {m['message']}"
        f" [{m.get('extract', '').strip()}]"
        for m in errors
    ]
    assert not report, f"vnu found {len(report)} error(s) on {len(pages)} pages:\n" + "\n".join(report)
    assert len(pages) > 40
