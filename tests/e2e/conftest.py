"""Browser fixtures: the session's migrated app served over HTTP, driven by Debian chromium.

The live server serves the root `app` fixture itself (not a second app), so on PostgreSQL
the unit tests and the browser tests never reset the same schema under each other, and
the root `_clean_database` fixture empties the tables after every browser test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Error, Locator, Page, Playwright, sync_playwright

from course.models import User
from tests.conftest import PASSWORD, current_totp_code
from tests.live_server import make_live_server

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """Base URL (no trailing slash) of the session app, served by werkzeug in a thread."""
    server = make_live_server(app)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _empty_tables_after_each_browser_test(app: Flask) -> None:
    """Request `app` so the root `_clean_database` fixture empties the tables after each test.

    Setting up first (autouse), it is torn down last: after the browser context is closed,
    so no request is still writing while the tables are emptied.
    """


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).is_file():
        reason = (
            f"chromium not found at {executable}: install Debian's chromium "
            "(apt-get install chromium) or set CHROMIUM_PATH; never `playwright install`"
        )
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    browser = _playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class ConsoleErrors:
    """Console errors and uncaught exceptions of one page (CSP violations are console errors)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._allowed_statuses: set[int] = set()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"{message.text} ({message.location.get('url', '?')})")

    def on_page_error(self, error: Error) -> None:
        self.messages.append(f"uncaught: {error}")

    def allow_status(self, status: int) -> None:
        """Chromium logs 'Failed to load resource' for a page served with an error status on purpose."""
        self._allowed_statuses.add(status)

    def unexpected(self) -> list[str]:
        return [
            m
            for m in self.messages
            if not any(f"the server responded with a status of {s} " in m for s in self._allowed_statuses)
        ]

    def assert_none(self) -> None:
        unexpected = self.unexpected()
        assert not unexpected, "console errors in the browser:\n" + "\n".join(unexpected)


@pytest.fixture
def console() -> ConsoleErrors:
    return ConsoleErrors()


@contextmanager
def fresh_page(browser: Browser, live_server: str, console: ConsoleErrors) -> Iterator[Page]:
    """A page in a context of its own (its own cookies: another person, another computer)."""
    context = browser.new_context(base_url=live_server, locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: str, console: ConsoleErrors) -> Iterator[Page]:
    """A page in a fresh context (no cookies); fails the test on any console error."""
    with fresh_page(browser, live_server, console) as page:
        yield page
    console.assert_none()


@pytest.fixture
def visitor(page: Page, browser: Browser, live_server: str, console: ConsoleErrors) -> Iterator[Page]:
    """A second, anonymous browser beside `page`, with the same console checks.

    It needs `page` so it is closed before `page`'s teardown checks the console of both.
    """
    with fresh_page(browser, live_server, console) as visitor:
        yield visitor


def tab_to(page: Page, target: Locator, max_presses: int = 60) -> None:
    """Press Tab until `target` has focus."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} not reached with {max_presses} Tab presses")


@pytest.fixture
def submit_login(app: Flask) -> Callable[..., None]:
    """Fill in and send the login form; for an account with two-step sign-in also the code step."""

    def do(page: Page, email: str, password: str = PASSWORD) -> None:
        page.goto("/inloggen")
        page.get_by_label("E-mailadres").fill(email)
        page.get_by_label("Wachtwoord", exact=True).fill(password)
        page.get_by_role("main").get_by_role("button", name="Inloggen").click()
        page.wait_for_load_state()
        if page.url.endswith("/inloggen/code"):
            page.get_by_label("Code uit je authenticator-app, of een herstelcode").fill(current_totp_code(app, email))
            page.get_by_role("main").get_by_role("button", name="Inloggen").click()

    return do


@pytest.fixture
def log_in(page: Page, create_user: Callable[..., User]) -> Callable[[], User]:
    """Create a learner and sign the browser in through the login form."""

    def do() -> User:
        user = create_user(name="Sanne de Vries")
        page.goto("/inloggen")
        page.get_by_label("E-mailadres").fill(user.email)
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name="Inloggen").click()
        page.wait_for_url("/")
        return user

    return do
