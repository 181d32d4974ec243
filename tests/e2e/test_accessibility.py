"""Every kind of page passes axe (WCAG 2.1 A/AA and best practice), also on a phone."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from course.extensions import db
from course.models import Reflection, Role, User
from course.trainer import groups
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
    console.allow_status(400)  # a refused reflection re-shows the lesson page with status 400

    for path in ["/", "/inloggen", "/registreren", "/wachtwoord-vergeten", "/woordenlijst", "/bron", "/bronnen"]:
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

    # A lesson page with its "niet concluderen" box and the reflection form: refused, saved, shared.
    lesson = f"/lessen/{lessons[2].id}"
    page.goto(lesson)
    expect(page.get_by_role("complementary", name="Wat je hieruit niet kunt concluderen")).to_be_visible()
    page.get_by_role("button", name="Reflectie bewaren").click()
    expect(page.get_by_text("Schrijf eerst je reflectie; een lege reflectie wordt niet bewaard.")).to_be_visible()
    report.check(f"learner {lesson} reflection form with errors")
    page.get_by_label(lessons[2].reflection_prompt).fill("Een eigen ervaring, zonder namen.")
    page.get_by_role("button", name="Reflectie bewaren").click()
    page.get_by_role("button", name="Delen met mijn trainers").click()
    expect(page.get_by_text("Gedeeld met de trainers van jouw groepen")).to_be_visible()
    report.check(f"learner {lesson} with a saved, shared reflection")

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


def test_a_trainers_learner_page_with_a_shared_reflection_is_axe_clean(
    page: Page, app: Flask, create_user, submit_login
) -> None:
    trainer = create_user(role=Role.TRAINER, name="Tineke Trainer")
    learner = create_user(name="Sanne de Vries")
    module_id = app.extensions["catalog"].module.id
    with app.app_context():
        group = groups.create_group(db.session.get(User, trainer.id), "Groep Noord")
        groups.add_member(group, db.session.get(User, learner.id))
        db.session.add_all(
            Reflection(user_id=learner.id, module_id=module_id, lesson_id=lesson, text=words, shared=shared)
            for lesson, words, shared in [
                ("inleiding", "Gedeeld.\nTweede regel.", True),
                ("kenmerken-kind", "Privé.", False),
            ]
        )
        db.session.commit()
        group_id = group.id
    report = AxeReport(page)

    submit_login(page, trainer.email)
    page.goto(f"/trainer/groepen/{group_id}/cursisten/{learner.id}")
    shared = page.get_by_role("region", name="Gedeelde reflecties")
    expect(shared.get_by_role("heading", name="Les 1: Inleiding")).to_be_visible()
    expect(shared).not_to_contain_text("Privé.")
    report.check("trainer's learner page with a shared reflection")
    report.assert_clean()
