"""The pages an LTI launch shows, in a real browser launched from a platform built on lti1p3platform:
axe clean, and the new-window continuation signs in."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from course.extensions import db
from course.lti import keys, platforms
from tests.e2e.axe import axe_violations, format_violations
from tests.lti_platform import INSTRUCTOR, MENTOR, TestPlatform, rsa_pem_pair

pytestmark = pytest.mark.e2e


@pytest.fixture
def lms(app: Flask, live_server: str, tmp_path):
    previous = app.config["LTI_KEY_DIR"]
    app.config["LTI_KEY_DIR"] = str(tmp_path / "lti_keys")
    with TestPlatform(live_server, rsa_pem_pair()) as platform, app.app_context():
        keys.rotate()
        details = {**platform.details(), "auth_login_url": f"{platform.base}/auth-html"}
        platforms.register(
            platforms.PlatformDetails(**{**details, "deployment_ids": [details["deployment_ids"]]}), None
        )
        db.session.commit()
        yield platform
    app.config["LTI_KEY_DIR"] = previous


def launch(page: Page, lms: TestPlatform, user_id: str, **settings) -> None:
    lms.launch_settings = settings
    page.goto(lms.login_initiation_url(user_id))
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def assert_axe_clean(page: Page, label: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{label}:\n{format_violations(violations)}"


def test_launch_pages_are_axe_clean_and_the_new_window_signs_in(page: Page, lms, console, create_user) -> None:
    launch(page, lms, "learner-1", document_target="iframe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hechtwijzer openen")
    assert_axe_clean(page, "continue in a new window")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open Hechtwijzer in een nieuw venster").click()
    window = opened.value
    window.wait_for_load_state()
    expect(
        window.get_by_role("link", name="Uitloggen").or_(window.get_by_role("button", name="Uitloggen"))
    ).to_be_visible()
    window.close()

    console.allow_status(409)  # the link page answers 409: the address belongs to an account already
    create_user(email="bestaand@lms.example.org")
    launch(page, lms, "learner-2", email="bestaand@lms.example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Je hebt al een Hechtwijzer-account")
    assert_axe_clean(page, "link an existing account")

    launch(page, lms, "teacher-1", roles=INSTRUCTOR, deep_link=True, name="Docent", email="docent@lms.example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wat plaats je in je cursus?")
    assert_axe_clean(page, "deep-link picker")

    console.allow_status(403)
    launch(page, lms, "mentor-1", roles=MENTOR)
    assert_axe_clean(page, "refused launch")
