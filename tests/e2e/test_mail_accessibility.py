"""The HTML part of every mail, opened in the browser: axe clean (WCAG 2.1 AA and best practice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from course import outbox
from tests.e2e.axe import assert_axe_clean
from tests.helpers import mail_sample_context

pytestmark = pytest.mark.e2e

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"


@pytest.mark.parametrize("name", sorted(path.stem for path in MAIL_TEMPLATES.glob("*.txt")))
def test_the_html_part_of_every_mail_is_axe_clean(page: Page, app: Flask, name: str) -> None:
    with app.test_request_context():
        _, _, html = outbox.render_mail(name, **mail_sample_context(app, name))
    page.set_content(html)
    assert_axe_clean(page, f"mail {name}")
