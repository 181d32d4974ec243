"""The pages need no inline script or style: they work in the browser under the strict CSP."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# Anything the CSP (script-src 'self'; style-src 'self') would block, and so show as a console error.
INLINE_CODE = """() => [
  ...[...document.querySelectorAll('script:not([src])')].map(el => 'inline <script>'),
  ...[...document.querySelectorAll('style')].map(el => 'inline <style>'),
  ...[...document.querySelectorAll('[style]')].map(el => `style attribute on <${el.localName}>`),
  ...[...document.querySelectorAll('*')].flatMap(el =>
    [...el.attributes].filter(a => a.name.startsWith('on')).map(a => `${a.name} on <${el.localName}>`)),
  ...[...document.querySelectorAll('a[href^="javascript:"]')].map(el => 'javascript: link'),
]"""


def assert_served_under_csp(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], f"{path}: {policy!r}"
    assert directives.get("style-src") == ["'self'"], f"{path}: {policy!r}"
    assert "unsafe" not in policy, f"{path}: {policy!r}"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert page.evaluate(INLINE_CODE) == [], f"{path} has inline code the CSP blocks"
    # The stylesheet did load: the header takes the brand colour from app.css.
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(29, 92, 99)")


def test_pages_work_under_the_content_security_policy_without_inline_script(
    page: Page, app: Flask, console, log_in
) -> None:
    lesson = app.extensions["catalog"].lessons[0]
    for path in ["/", "/inloggen", "/registreren", "/woordenlijst", "/bron"]:
        assert_served_under_csp(page, path)

    log_in()
    for path in ["/", f"/lessen/{lesson.id}", "/woordenlijst", "/account/wachtwoord"]:
        assert_served_under_csp(page, path)
    assert page.goto("/").headers.get("cache-control") == "no-store"

    # Forms post without any script: mark a lesson read, then log out.
    page.goto(f"/lessen/{lesson.id}")
    page.get_by_role("button", name=f"Markeer les {lesson.chapter} als gelezen").click()
    expect(page.get_by_role("status")).to_contain_text("gemarkeerd als gelezen")
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("status")).to_have_text("Je bent uitgelogd.")
    expect(page.get_by_role("link", name="Inloggen")).to_have_count(2)

    console.assert_none()
