"""Two-step sign-in and the session list, in a real browser: an admin sets up the app at the first
sign-in, signs in with a code and with a recovery code, and ends a session on another computer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest
from playwright.sync_api import Page, expect

from course.models import Role
from tests.conftest import PASSWORD
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import tab_to

pytestmark = pytest.mark.e2e


def at_path(path: str) -> re.Pattern[str]:
    return re.compile(rf"^https?://[^/]+{re.escape(path)}([?#].*)?$")


def password_step(page: Page, email: str) -> None:
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(at_path("/inloggen/code"))


def code_step(page: Page, code: str) -> None:
    page.get_by_label("Code uit je authenticator-app, of een herstelcode").fill(code)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()


def step_code(secret: str, offset: int) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + offset)


def test_an_admin_sets_up_the_app_signs_in_with_codes_and_ends_another_session(
    page: Page, visitor: Page, console, create_user
) -> None:
    admin = create_user(role=Role.ADMIN, name="Anouk Admin", email="anouk@example.org", two_step=False)

    # First sign-in: password only, then nothing but the set-up page until the app is set up.
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(admin.email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(at_path("/account/tweestapsverificatie"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
    expect(page.locator(".flashes")).to_contain_text("Stel eerst tweestapsverificatie in")
    expect(page.locator(".qr-code svg")).to_be_visible()
    assert_axe_clean(page, "two-step set-up")
    page.goto("/beheer/")
    expect(page).to_have_url(at_path("/account/tweestapsverificatie"))

    secret = page.locator(".secret-key code").inner_text().replace(" ", "")
    console.allow_status(400)
    page.get_by_label("Je wachtwoord, ter bevestiging").fill(PASSWORD)
    page.get_by_label("Code van 6 cijfers uit je app").fill("000000" if step_code(secret, 0) != "000000" else "111111")
    page.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    expect(page.get_by_role("alert")).to_contain_text("Deze code klopt niet.")
    assert_axe_clean(page, "two-step set-up, wrong code")

    page.get_by_label("Je wachtwoord, ter bevestiging").fill(PASSWORD)
    page.get_by_label("Code van 6 cijfers uit je app").fill(step_code(secret, 0))
    page.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je herstelcodes")
    codes = page.get_by_role("list", name="Herstelcodes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert_axe_clean(page, "recovery codes")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, "recovery codes scroll sideways"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Ik heb de codes bewaard, verder").click()
    page.goto("/beheer/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beheer")

    # On another computer: password, then a code from the app, typed and sent with the keyboard.
    password_step(visitor, admin.email)
    assert_axe_clean(visitor, "second step")
    field = visitor.get_by_label("Code uit je authenticator-app, of een herstelcode")
    tab_to(visitor, field)
    visitor.keyboard.type(step_code(secret, 1))
    visitor.keyboard.press("Enter")
    expect(visitor).to_have_url(at_path("/beheer/"))

    # The session list shows both computers; ending the other one signs it out at once.
    page.goto("/account/sessies")
    expect(page.get_by_role("heading", level=1)).to_have_text("Waar ben je ingelogd?")
    sessions = page.get_by_role("list", name="Sessies").get_by_role("listitem")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="(deze sessie)")).to_have_count(1)
    assert_axe_clean(page, "session list")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, "session list scrolls sideways"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Je wachtwoord, om sessies te beëindigen").fill(PASSWORD)
    sessions.filter(has_not_text="(deze sessie)").get_by_role("button", name=re.compile("^Beëindigen")).click()
    expect(page.locator(".flashes")).to_contain_text("De sessie is beëindigd.")
    expect(sessions).to_have_count(1)
    visitor.goto("/beheer/")
    expect(visitor).to_have_url(at_path("/inloggen"))

    # Phone lost: a recovery code signs in once.
    password_step(visitor, admin.email)
    code_step(visitor, codes[0])
    expect(visitor).to_have_url(at_path("/beheer/"))
    visitor.get_by_role("button", name="Uitloggen").click()
    password_step(visitor, admin.email)
    code_step(visitor, codes[0])
    expect(visitor.get_by_role("alert")).to_contain_text("Deze code klopt niet, is verlopen of is al gebruikt.")
    assert_axe_clean(visitor, "second step, code already used")


@pytest.fixture
def on_localhost(app, browser, live_server, console):
    """A page at http://localhost (a WebAuthn relying party must be a host name, not an IP address)
    with Chromium's virtual authenticator attached: a real WebAuthn peer, no mock of our code."""
    base = live_server.replace("127.0.0.1", "localhost")
    previous = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base
    context = browser.new_context(base_url=base, locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        yield page
    finally:
        context.close()
        app.config["PUBLIC_BASE_URL"] = previous
    console.assert_none()


def test_a_passkey_is_added_and_then_does_the_second_step(on_localhost: Page, app, create_user, submit_login) -> None:
    page = on_localhost
    learner = create_user(name="Pieter Passkey", email="pieter@example.org", two_step=True)
    submit_login(page, learner.email)
    expect(page).to_have_url(at_path("/"))

    page.goto("/account/tweestapsverificatie")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    expect(page.get_by_text("Je hebt nog geen passkeys.")).to_be_visible()
    assert_axe_clean(page, "two-step settings with passkeys")
    page.get_by_label("Naam van deze passkey").fill("Laptop")
    page.get_by_label("Je wachtwoord, om de passkey toe te voegen").fill(PASSWORD)
    page.get_by_role("button", name="Passkey toevoegen").click()
    expect(page.locator(".flashes")).to_contain_text("De passkey is toegevoegd.")
    expect(page.locator(".passkey-list")).to_contain_text("Laptop")

    page.get_by_role("button", name="Uitloggen").click()
    password_step(page, learner.email)
    expect(page.get_by_role("button", name="Inloggen met je passkey")).to_be_visible()
    assert_axe_clean(page, "second step with a passkey")
    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page).to_have_url(at_path("/"))
    page.goto("/account/tweestapsverificatie")
    expect(page.locator(".passkey-list")).to_contain_text("laatst gebruikt")

    page.get_by_label("Je wachtwoord, om een passkey te verwijderen").fill(PASSWORD)
    page.get_by_role("button", name="Verwijderen (Laptop)").click()
    expect(page.locator(".flashes")).to_contain_text("De passkey is verwijderd.")
    expect(page.get_by_text("Je hebt nog geen passkeys.")).to_be_visible()
