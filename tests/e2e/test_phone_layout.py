"""No page scrolls sideways on a 320 px phone (WCAG 1.4.10 reflow), for every page type and role;
a table wider than the screen scrolls inside a labelled, focusable region that says so (issue 14)."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page

from course.models import Role
from tests.conftest import PASSWORD
from tests.page_tour import ANON, build_tour

pytestmark = pytest.mark.e2e

WIDTH = 320

# For each scroll container that is wider than its box: what makes it usable and visible as such.
_WIDE_TABLES = """() => Array.from(document.querySelectorAll('table')).map(table => {
  const box = table.closest('.table-wrap');
  const hint = box && box.getAttribute('aria-describedby') && document.getElementById(box.getAttribute('aria-describedby'));
  return {
    overflows: (box || table).scrollWidth > (box || table).clientWidth + 1,
    inBox: !!box,
    focusable: !!box && box.tabIndex === 0,
    label: box ? (box.getAttribute('aria-label') || '') : '',
    role: box ? box.getAttribute('role') : null,
    hintShown: !!hint && hint.offsetParent !== null && hint.textContent.trim().length > 0,
  };
}).filter(t => t.overflows || !t.inBox)"""


def page_problems(page: Page, label: str) -> list[str]:
    problems = []
    width = page.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    if width[0] > width[1]:
        # What sticks out: elements, or the words of a text that does not wrap.
        wide = page.evaluate(
            """() => {
              const limit = document.documentElement.clientWidth + 1;
              const found = [];
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
              while (walker.nextNode() && found.length < 3) {
                const node = walker.currentNode;
                if (node.parentElement && node.parentElement.closest('.table-wrap')) { continue; }
                const range = document.createRange();
                range.selectNodeContents(node);
                const rect = node.nodeType === 1 ? node.getBoundingClientRect() : range.getBoundingClientRect();
                if (rect.right > limit) {
                  found.push(node.nodeType === 1 ? node.tagName.toLowerCase() : JSON.stringify(node.textContent.trim().slice(0, 40)));
                }
              }
              return found;
            }"""
        )
        problems.append(f"{label}: page is {width[0]} px wide in a {width[1]} px window ({', '.join(wide)})")
    for table in page.evaluate(_WIDE_TABLES):
        if not table["inBox"]:
            problems.append(f"{label}: a table outside a scroll container")
        elif not (table["focusable"] and table["label"] and table["role"] == "region" and table["hintShown"]):
            problems.append(f"{label}: a table scrolls without a focusable, labelled region and a visible hint {table}")
    return problems


def test_no_page_scrolls_sideways_at_320_px(page: Page, app: Flask, create_user, submit_login, console) -> None:
    tour = build_tour(app, create_user)
    page.set_viewport_size({"width": WIDTH, "height": 700})
    problems: list[str] = []
    visited = 0
    for who, paths in tour.pages.items():
        page.context.clear_cookies()
        if who == "admin signing in":
            page.goto("/inloggen")
            page.get_by_label("E-mailadres").fill(tour.emails[Role.ADMIN])
            page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
            page.get_by_role("main").get_by_role("button", name="Inloggen").click()
            page.wait_for_url("**/inloggen/code")
        elif who != ANON:
            submit_login(page, tour.emails[who])
        for endpoint, path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, f"{who} {path}"
            problems += page_problems(page, f"{who} {endpoint} {path}")
            visited += 1
    page.goto("/bestaat-niet")
    console.allow_status(404)
    problems += page_problems(page, "404 page")
    assert not problems, "\n".join(problems)
    assert visited > 40


def test_the_tour_meets_matching_questions_in_all_three_tests(
    page: Page, app: Flask, create_user, submit_login
) -> None:
    """Knowledge check 1, the final test and the case test each show an open matching question (the widest kind)."""
    tour = build_tour(app, create_user)
    seen: dict[str, int] = {}
    for who in (Role.LEARNER, "learner in the case test"):
        page.context.clear_cookies()
        submit_login(page, tour.emails[who])
        for endpoint, path in tour.pages[who]:
            if endpoint == "quizzes.attempt":
                page.goto(path)
                title = page.get_by_role("heading", level=1).inner_text().split(" – ")[0]
                seen[title] = max(seen.get(title, 0), page.locator("ul.matching select:enabled").count())
    assert {title for title, selects in seen.items() if selects} >= {
        app.extensions["catalog"].quiz(quiz_id).title
        for quiz_id in ("kennischeck-inleiding", "eindtoets", "casustoets")
    }, seen
