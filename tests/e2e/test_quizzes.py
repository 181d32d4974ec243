"""Knowledge checks, the final test and the case-vignette test, in a real browser."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from course.models import AttemptItem
from course.quizzes.definitions import Question
from tests.e2e.axe import assert_axe_clean
from tests.quiz_helpers import load_attempt, with_policy

pytestmark = pytest.mark.e2e

FINAL = "eindtoets"
VIGNETTES = "casustoets"
FINISH = "Afronden en nakijken"
NEXT_STAGE = "Opslaan en verder met de casus"
_ATTEMPT_URL = re.compile(r"/pogingen/(\d+)$")


# --------------------------------------------------------------------------- navigation


def at_path(path: str | re.Pattern[str]) -> re.Pattern[str]:
    """A URL with this path, with or without a fragment."""
    pattern = path.pattern if isinstance(path, re.Pattern) else re.escape(path)
    return re.compile(rf"^https?://[^/]+{pattern}(#[^/]*)?$")


def arrive_at(page: Page, path: str | re.Pattern[str]) -> None:
    """Wait until the browser shows the page at `path`, fully loaded, before pressing more keys."""
    expect(page).to_have_url(at_path(path))
    page.wait_for_load_state()


def open_attempt_id(page: Page) -> int:
    """The id of the attempt the browser shows now."""
    arrive_at(page, re.compile(r"/pogingen/\d+"))
    return int(_ATTEMPT_URL.search(page.url.split("#")[0]).group(1))


def arrive_at_result(page: Page, attempt_id: int) -> None:
    arrive_at(page, f"/pogingen/{attempt_id}/resultaat")


def main(page: Page) -> Locator:
    return page.get_by_role("main")


def flash(page: Page) -> Locator:
    return page.locator(".flashes")


def start_with_the_mouse(page: Page, quiz_id: str) -> int:
    page.goto(f"/toetsen/{quiz_id}")
    main(page).get_by_role("button", name="Start de toets").click()
    return open_attempt_id(page)


# --------------------------------------------------------------------------- keyboard


def _has_focus(target: Locator) -> bool:
    return target.evaluate("el => el === document.activeElement")


def _focus_within(container: Locator) -> bool:
    return container.evaluate("el => el.contains(document.activeElement) && document.activeElement.matches('input')")


def tab_to(page: Page, target: Locator, max_presses: int = 60) -> None:
    """Press Tab until `target` has focus."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if _has_focus(target):
            return
    raise AssertionError(f"{target} not reached with {max_presses} Tab presses")


def tab_into(page: Page, container: Locator, max_presses: int = 60) -> None:
    """Press Tab until an input inside `container` has focus (a radio group is one tab stop)."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if _focus_within(container):
            return
    raise AssertionError(f"no input in {container} reached with {max_presses} Tab presses")


def press_enter_on(page: Page, target: Locator) -> None:
    tab_to(page, target)
    page.keyboard.press("Enter")


# --------------------------------------------------------------------------- answering


def question_box(page: Page, number: int) -> Locator:
    """The fieldset of question `number` (1-based, as shown on the page)."""
    return page.locator(f"fieldset#vraag-{number}")


def numbered_items(app: Flask, attempt_id: int) -> list[tuple[int, AttemptItem, Question]]:
    """(number on the page, frozen item, definition) of every question of the attempt."""
    attempt, items = load_attempt(app, attempt_id)
    quiz = app.extensions["catalog"].quiz(attempt.quiz_id)
    return [(n, item, quiz.question(item.question_id)) for n, item in enumerate(items, start=1)]


def open_page_items(app: Flask, attempt_id: int) -> list[tuple[int, AttemptItem, Question]]:
    attempt, _ = load_attempt(app, attempt_id)
    return [row for row in numbered_items(app, attempt_id) if row[1].page == attempt.page]


def wrong_category(question: Question, right_one: str) -> str:
    return next(c.id for c in question.categories if c.id != right_one)


def option_texts_to_choose(item: AttemptItem, question: Question, right: bool) -> list[str]:
    """Option labels to choose, in the frozen display order: the right ones or wrong ones."""
    shown = [question.option(option_id) for option_id in item.option_order]
    chosen = [o.text for o in shown if o.correct == right]
    return chosen if question.type == "multiple_response" else chosen[:1]


def rows_to_choose(item: AttemptItem, question: Question, right: bool) -> list[tuple[str, str]]:
    """(row label, category id) per matching row, in the frozen display order."""
    rows = []
    for item_id in item.option_order:
        row = question.item(item_id)
        rows.append((row.text, row.category if right else wrong_category(question, row.category)))
    return rows


def answer_with_the_mouse(page: Page, number: int, item: AttemptItem, question: Question, right: bool) -> None:
    box = question_box(page, number)
    if question.type == "matching":
        for text, category in rows_to_choose(item, question, right):
            box.get_by_label(text, exact=True).select_option(category)
    else:
        for text in option_texts_to_choose(item, question, right):
            box.get_by_label(text, exact=True).check()


def answer_with_the_keyboard(page: Page, number: int, item: AttemptItem, question: Question, right: bool) -> None:
    """Answer one question with Tab, arrows and Space only, moving forward through the page."""
    box = question_box(page, number)
    if question.type == "matching":
        categories = ["", *(c.id for c in question.categories)]
        for text, category in rows_to_choose(item, question, right):
            select = box.get_by_label(text, exact=True)
            tab_to(page, select)
            steps = categories.index(category) - select.evaluate("el => el.selectedIndex")
            assert steps > 0, "a fresh attempt starts on the placeholder"
            for _ in range(steps):
                page.keyboard.press("ArrowDown")
            expect(select).to_have_value(category)
    elif question.type == "multiple_response":
        for text in option_texts_to_choose(item, question, right):
            checkbox = box.get_by_label(text, exact=True)
            tab_to(page, checkbox)
            page.keyboard.press("Space")
            expect(checkbox).to_be_checked()
    else:
        (text,) = option_texts_to_choose(item, question, right)
        target = box.get_by_label(text, exact=True)
        radios = box.locator("input[type=radio]")
        tab_into(page, box)
        current = radios.evaluate_all("els => els.indexOf(document.activeElement)")
        wanted = radios.evaluate_all("(els, target) => els.indexOf(target)", target.element_handle())
        if wanted == current:
            page.keyboard.press("Space")
        for _ in range((wanted - current) % radios.count()):
            page.keyboard.press("ArrowDown")
        expect(target).to_be_checked()


# --------------------------------------------------------------------------- result page


def result_status(page: Page) -> Locator:
    return page.locator(".result-card .status")


def verdicts(page: Page, kind: str) -> Locator:
    return page.locator(f".verdict.verdict-{kind}")


# --------------------------------------------------------------------------- tests


def test_learner_fails_the_final_test_retakes_and_passes_with_the_keyboard_only(
    page: Page, app: Flask, log_in, monkeypatch
) -> None:
    with_policy(app, monkeypatch, FINAL, cooldown_minutes=0)
    final = app.extensions["catalog"].quiz(FINAL)
    questions_per_attempt = sum(d.count for d in final.draw)
    log_in()

    # Toetsen from the main menu, then the final test in the list.
    press_enter_on(page, page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Toetsen"))
    arrive_at(page, "/toetsen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Toetsen")
    assert_axe_clean(page, "quiz list")
    press_enter_on(page, main(page).get_by_role("link", name=final.title, exact=True))
    arrive_at(page, f"/toetsen/{FINAL}")
    assert_axe_clean(page, "quiz detail")

    # First attempt: every answer wrong.
    press_enter_on(page, main(page).get_by_role("button", name="Start de toets"))
    failed_id = open_attempt_id(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{final.title} – poging 1")
    assert_axe_clean(page, "open attempt")
    rows = numbered_items(app, failed_id)
    assert len(rows) == questions_per_attempt
    for number, item, question in rows:
        answer_with_the_keyboard(page, number, item, question, right=False)
    press_enter_on(page, main(page).get_by_role("button", name=FINISH))
    arrive_at_result(page, failed_id)
    expect(result_status(page)).to_contain_text("Niet geslaagd")
    expect(verdicts(page, "wrong")).to_have_count(questions_per_attempt)
    expect(verdicts(page, "wrong").first).to_contain_text("Niet goed beantwoord.")
    # The answers stay hidden until the learner has passed.
    expect(page.get_by_text("Juist antwoord.")).to_have_count(0)
    expect(main(page).locator(".feedback")).to_have_count(0)
    assert_axe_clean(page, "failed result")

    # Second attempt (no cooldown in this test): every answer right.
    press_enter_on(page, main(page).get_by_role("button", name="Nieuwe poging"))
    passed_id = open_attempt_id(page)
    assert passed_id != failed_id
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{final.title} – poging 2")
    for number, item, question in numbered_items(app, passed_id):
        answer_with_the_keyboard(page, number, item, question, right=True)
    press_enter_on(page, main(page).get_by_role("button", name=FINISH))
    arrive_at_result(page, passed_id)
    expect(result_status(page)).to_have_text("Geslaagd")
    expect(verdicts(page, "right")).to_have_count(questions_per_attempt)
    expect(page.get_by_text("Juist antwoord.").first).to_be_visible()
    assert_axe_clean(page, "passed result")


def test_a_vignette_unfolds_stage_by_stage_and_is_axe_clean(page: Page, app: Flask, log_in) -> None:
    quiz = app.extensions["catalog"].quiz(VIGNETTES)
    log_in()
    attempt_id = start_with_the_mouse(page, VIGNETTES)
    _, items = load_attempt(app, attempt_id)
    first_case = quiz.vignette(items[0].vignette_id)
    assert len(first_case.stages) > 1
    story = page.locator(".vignette-text")

    # Only the first stage of the first case is shown.
    expect(page.get_by_role("heading", level=2)).to_have_text([f"Casus: {first_case.title}"])
    expect(story).to_have_text([first_case.stages[0].text])
    for stage in first_case.stages[1:]:
        expect(page.get_by_text(stage.text)).to_have_count(0)
    first_stage = open_page_items(app, attempt_id)
    for number, item, question in first_stage:
        answer_with_the_mouse(page, number, item, question, right=True)
    main(page).get_by_role("button", name=NEXT_STAGE).click()

    # The story goes on; the first stage's answers are locked.
    expect(flash(page)).to_contain_text("De casus gaat verder.")
    expect(story).to_have_text([first_case.stages[0].text, first_case.stages[1].text])
    for number, _, _ in first_stage:
        box = question_box(page, number)
        expect(box).to_have_attribute("disabled", "")
        for control in box.locator("input, select").all():
            expect(control).to_be_disabled()
    expect(page.get_by_text("Dit deel is afgesloten; je antwoorden staan vast.")).to_be_visible()
    for number, _, _ in open_page_items(app, attempt_id):
        expect(question_box(page, number).locator("input, select").first).to_be_enabled()
    assert_axe_clean(page, "second stage of a case")

    # Every further stage, then finish.
    pages = max(item.page for item in items) + 1
    for stage_page in range(1, pages):
        expect(page.get_by_text(f"Deel {stage_page + 1} van {pages}.")).to_be_visible()
        for number, item, question in open_page_items(app, attempt_id):
            answer_with_the_mouse(page, number, item, question, right=True)
        if stage_page < pages - 1:
            main(page).get_by_role("button", name=NEXT_STAGE).click()
    main(page).get_by_role("button", name=FINISH).click()
    arrive_at_result(page, attempt_id)
    expect(result_status(page)).to_have_text("Geslaagd")
    expect(verdicts(page, "right")).to_have_count(len(items))
    assert_axe_clean(page, "vignette result")


def test_autosave_keeps_answers_across_a_reload(page: Page, app: Flask, log_in) -> None:
    log_in()
    attempt_id = start_with_the_mouse(page, "kennischeck-kenmerken-ouder")
    number, item, question = next(row for row in numbered_items(app, attempt_id) if row[2].type != "matching")
    (text,) = option_texts_to_choose(item, question, right=False)[:1]
    option = question_box(page, number).get_by_label(text, exact=True)

    option.check()
    expect(page.locator("#autosave-status")).to_contain_text("Opgeslagen om", timeout=5_000)
    page.reload()
    option = question_box(page, number).get_by_label(text, exact=True)
    expect(option).to_be_checked()
    _, saved = load_attempt(app, attempt_id)
    assert saved[number - 1].response is not None


def test_a_second_tab_cannot_overwrite_a_finished_attempt(page: Page, app: Flask, log_in, console) -> None:
    log_in()
    attempt_id = start_with_the_mouse(page, "kennischeck-inleiding")
    other = page.context.new_page()
    other.on("console", console.on_console)
    other.on("pageerror", console.on_page_error)
    # Tab B's autosave may reach the server after A finished; it is refused with 409 on purpose.
    console.allow_status(409)
    other.goto(f"/pogingen/{attempt_id}")
    expect(other.get_by_role("button", name=FINISH)).to_be_visible()

    # Tab A answers everything right and finishes (a background tab gets no animation frames: bring it up).
    page.bring_to_front()
    rows = numbered_items(app, attempt_id)
    for number, item, question in rows:
        answer_with_the_mouse(page, number, item, question, right=True)
    main(page).get_by_role("button", name=FINISH).click()
    arrive_at_result(page, attempt_id)
    expect(page.locator(".result-score")).to_contain_text("(100%)")
    finished, _ = load_attempt(app, attempt_id)

    # Tab B, still showing the open attempt, answers wrongly and tries to finish.
    other.bring_to_front()
    for number, item, question in rows:
        answer_with_the_mouse(other, number, item, question, right=False)
    main(other).get_by_role("button", name=FINISH).click()
    arrive_at_result(other, attempt_id)
    expect(flash(other)).to_contain_text("Deze poging was al afgerond.")
    expect(other.locator(".result-score")).to_contain_text("(100%)")

    after, _ = load_attempt(app, attempt_id)
    assert (after.percent, after.finished_at, after.revision) == (100.0, finished.finished_at, finished.revision)


def test_practise_my_mistakes_after_a_knowledge_check(page: Page, app: Flask, log_in) -> None:
    log_in()
    attempt_id = start_with_the_mouse(page, "kennischeck-inleiding")
    rows = numbered_items(app, attempt_id)
    wrong = {question.id for _, _, question in rows[:2]}
    for number, item, question in rows:
        answer_with_the_mouse(page, number, item, question, right=question.id not in wrong)
    main(page).get_by_role("button", name=FINISH).click()
    arrive_at_result(page, attempt_id)
    expect(verdicts(page, "wrong")).to_have_count(len(wrong))

    main(page).get_by_role("button", name=f"Oefen mijn fouten ({len(wrong)})").click()
    practice_id = open_attempt_id(page)
    assert practice_id != attempt_id
    expect(page.get_by_role("heading", level=1)).to_contain_text("oefenen met je fouten")
    expect(page.locator("fieldset.question")).to_have_count(len(wrong))
    _, practice_items = load_attempt(app, practice_id)
    assert {item.question_id for item in practice_items} == wrong
    for _, _, question in rows:
        if question.id in wrong:
            expect(main(page).get_by_role("group", name=question.prompt)).to_be_visible()
    assert_axe_clean(page, "practice page")


def test_finishing_with_an_unanswered_question_asks_for_confirmation(page: Page, app: Flask, log_in) -> None:
    log_in()
    attempt_id = start_with_the_mouse(page, "kennischeck-inleiding")
    rows = numbered_items(app, attempt_id)
    skipped, *answered = rows
    for number, item, question in answered:
        answer_with_the_mouse(page, number, item, question, right=True)
    main(page).get_by_role("button", name=FINISH).click()

    # Back on the attempt: a warning, the answers kept, and a checkbox to confirm.
    arrive_at(page, f"/pogingen/{attempt_id}")
    expect(flash(page)).to_contain_text("Je hebt nog 1 vraag niet beantwoord. Beantwoord die,")
    confirm = page.get_by_label("Ik wil afronden, ook al zijn niet alle vragen beantwoord", exact=False)
    expect(confirm).to_be_visible()
    expect(confirm).not_to_be_checked()
    number, item, question = answered[0]
    (text,) = option_texts_to_choose(item, question, right=True)[:1]
    expect(question_box(page, number).get_by_label(text, exact=True)).to_be_checked()
    assert_axe_clean(page, "unanswered warning")
    attempt, _ = load_attempt(app, attempt_id)
    assert not attempt.is_finished

    confirm.check()
    main(page).get_by_role("button", name=FINISH).click()
    arrive_at_result(page, attempt_id)
    expect(question_box(page, skipped[0]).locator(".verdict")).to_contain_text("Niet beantwoord.")
    expect(verdicts(page, "right")).to_have_count(len(answered))
    attempt, _ = load_attempt(app, attempt_id)
    assert attempt.is_finished
    assert attempt.percent < 100
