"""Every kind of page passes axe (WCAG 2.1 A/AA and best practice), also on a phone."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.axe import axe_violations, format_violations

pytestmark = pytest.mark.e2e


class AxeReport:
    """Collects the violations of several pages, so one run reports them all."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.failures: dict[str, str] = {}

    def check(self, label: str) -> None:
        if violations := axe_violations(self.page):
            self.failures[label] = format_violations(violations)

    def assert_clean(self) -> None:
        assert not self.failures, "axe violations:\n" + "\n".join(
            f"{label} ({self.page.viewport_size}):\n{text}" for label, text in self.failures.items()
        )


def submit(page: Page, button: str) -> None:
    page.get_by_role("main").get_by_role("button", name=button).click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_every_page_type_is_axe_clean(page: Page, app: Flask, console, log_in) -> None:
    lessons = app.extensions["catalog"].lessons
    report = AxeReport(page)
    console.allow_status(404)

    for path in ["/", "/inloggen", "/registreren", "/wachtwoord-vergeten", "/woordenlijst", "/bron"]:
        assert page.goto(path).status == 200
        report.check(f"anonymous {path}")
    assert page.goto("/bestaat-niet").status == 404
    report.check("404 page")
    page.goto("/inloggen")
    submit(page, "Inloggen")
    report.check("login form with errors")
    page.goto("/registreren")
    submit(page, "Account aanmaken")
    report.check("registration form with errors")

    log_in()
    learner_pages = ["/", "/woordenlijst", *(f"/lessen/{lesson.id}" for lesson in lessons), "/account/e-mailadres"]
    for path in [*learner_pages, "/account/wachtwoord"]:
        assert page.goto(path).status == 200
        report.check(f"learner {path}")
    submit(page, "Wachtwoord wijzigen")
    report.check("learner password form with errors")

    report.assert_clean()


def test_overview_and_a_lesson_are_axe_clean_and_reflow_on_a_phone(page: Page, app: Flask, log_in) -> None:
    lesson = max(app.extensions["catalog"].lessons, key=lambda lesson: len(lesson.sections))
    page.set_viewport_size({"width": 375, "height": 800})
    report = AxeReport(page)

    log_in()
    for path in ["/", f"/lessen/{lesson.id}"]:
        page.goto(path)
        report.check(f"phone {path}")
        # WCAG 1.4.10 reflow: no sideways scrolling at 375 CSS pixels.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, f"{path} scrolls sideways"
    report.assert_clean()
