"""The HTML part of every mail, opened in the browser: axe clean (WCAG 2.1 AA and best practice)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from course import outbox
from tests.e2e.axe import assert_axe_clean

pytestmark = pytest.mark.e2e

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
# Enough context for every mail this branch has; a variable left out renders empty, which axe would
# still check (an empty link text, an empty heading), so the values are realistic.
CONTEXT = {
    "group_name": "Pleegzorg Noord",
    "trainer_name": "Tineke Trainer",
    "link": "https://hechtwijzer.test/uitnodiging/abc",
    "login_url": "https://hechtwijzer.test/inloggen",
    "settings_link": "https://hechtwijzer.test/account/profiel",
    "certificates_link": "https://hechtwijzer.test/certificaten",
    "days": 7,
    "hours": 24,
    "module_title": "Hechting: risico- en beschermende factoren",
    "due_on": date(2026, 12, 8),
    "valid_until": date(2027, 1, 30),
    "expires_at": datetime(2026, 12, 8, 23, 30, tzinfo=UTC),
    "late_count": 2,
    "groups": [
        {
            "name": "Groep Noord",
            "link": "https://hechtwijzer.test/trainer/groepen/1",
            "late": [("Anna de Vries", date(2026, 12, 1)), ("Bram", date(2026, 12, 2))],
        }
    ],
}


@pytest.mark.parametrize("name", sorted(path.stem for path in MAIL_TEMPLATES.glob("*.txt")))
def test_the_html_part_of_every_mail_is_axe_clean(page: Page, app: Flask, name: str) -> None:
    with app.test_request_context():
        _, _, html = outbox.render_mail(name, **CONTEXT)
    page.set_content(html)
    assert_axe_clean(page, f"mail {name}")
