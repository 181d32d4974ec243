"""Self-service password reset (issue 12, item 4): "Wachtwoord vergeten?" mails a link that works for an
hour and once; every address gets the same answer and one mail; success ends every session and signs
nobody in; the admin's temporary password stays for people without mail."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from course.auth import password_reset
from course.extensions import db
from course.models import AccountToken, AuditEvent, Role, User
from course.timeutil import utcnow
from course.tokens import TokenInvalid
from tests.conftest import PASSWORD, AuthActions, csrf_token, link_in_mail, outbox_rows, sign_in
from tests.helpers import post, signed_in, signed_out, text

NEW_PASSWORD = "paarse olifant danst graag"
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def ask_reset(app, email: str, remote_addr: str = "10.1.0.1"):
    client = app.test_client()
    return client.post(
        "/wachtwoord-vergeten",
        data={"email": email, "csrf_token": csrf_token(client, "/wachtwoord-vergeten")},
        environ_base={"REMOTE_ADDR": remote_addr},
    )


def reset_link(app, email: str) -> str:
    return link_in_mail(app, email, "/wachtwoord-herstellen/")


def choose_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    """Open the mailed link and send the form on the page it shows."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(page)).group(1)
    return client.post(
        "/wachtwoord-herstellen",
        data={
            "token": token,
            "new_password": password,
            "new_password_confirm": password if confirm is None else confirm,
            "csrf_token": csrf_token(client, path),
        },
    )


def password_hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).password_hash


def can_sign_in(app, email: str, password: str) -> bool:
    client = app.test_client()
    response = client.post(
        "/inloggen", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/inloggen")}
    )
    return response.status_code == 302


def move_clock(monkeypatch, **delta) -> None:
    """The app's clock for the reset views runs `delta` ahead (the link's expiry is measured against it)."""
    monkeypatch.setattr("course.auth.views.utcnow", lambda: utcnow() + timedelta(**delta))


def without_csrf(page: str) -> str:
    return _CSRF_VALUE.sub(r"\1…\2", page)


# --- asking for a link ---------------------------------------------------------------------------


def test_the_login_page_offers_wachtwoord_vergeten(client):
    page = text(client.get("/inloggen"))
    assert '<a href="/wachtwoord-vergeten">Wachtwoord vergeten?</a>' in page
    form = text(client.get("/wachtwoord-vergeten"))
    assert "<h1>Wachtwoord vergeten</h1>" in form and 'for="email"' in form
    assert "tijdelijk wachtwoord" in form  # the admin's way stays for people without mail


def test_known_unknown_and_deactivated_addresses_get_the_same_page_and_one_mail_each(app, create_user):
    create_user(email="bekend@example.org")
    create_user(email="uit@example.org", active=False)
    pages = {}
    for email in ("bekend@example.org", "onbekend@example.org", "uit@example.org"):
        response = ask_reset(app, email.upper())
        assert response.status_code == 200
        pages[email] = without_csrf(text(response)).replace(email, "ADRES")
    assert pages["bekend@example.org"] == pages["onbekend@example.org"] == pages["uit@example.org"]
    assert "Controleer je e-mail" in pages["bekend@example.org"]

    mails = {row.recipient: row for row in outbox_rows(app)}
    assert set(mails) == {"bekend@example.org", "onbekend@example.org", "uit@example.org"}
    assert mails["bekend@example.org"].topic == "password_reset.link"
    assert "/wachtwoord-herstellen/" in mails["bekend@example.org"].body_text
    # No link for an address without an active account: a notice that nothing changed.
    for email in ("onbekend@example.org", "uit@example.org"):
        assert mails[email].topic == "password_reset.no_account"
        assert "/wachtwoord-herstellen/" not in mails[email].body_text
        assert "geen actief account" in mails[email].body_text
        assert link_in_mail(app, email, "/registreren") == "/registreren"  # a way to make an account
    # A link that has run out sends the reader to ask again.
    assert link_in_mail(app, "bekend@example.org", "/wachtwoord-vergeten") == "/wachtwoord-vergeten"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 1


def test_both_paths_draw_a_token_and_write_one_outbox_row(app, create_user, monkeypatch):
    """The same work for every address (timing): one token drawn and hashed, one mail queued."""
    create_user(email="bekend@example.org")
    drawn: list[str] = []
    real = password_reset.new_token

    def counting():
        token, hashed = real()
        drawn.append(hashed)
        return token, hashed

    monkeypatch.setattr(password_reset, "new_token", counting)
    ask_reset(app, "bekend@example.org")
    ask_reset(app, "onbekend@example.org")
    assert len(drawn) == 2
    assert [row.recipient for row in outbox_rows(app)] == ["bekend@example.org", "onbekend@example.org"]


def test_only_the_hash_of_the_token_is_stored(app, create_user):
    user = create_user(email="bekend@example.org")
    ask_reset(app, user.email)
    token = reset_link(app, user.email).rsplit("/", 1)[-1]
    with app.app_context():
        [row] = db.session.scalars(sa.select(AccountToken)).all()
        assert row.token_hash != token and token not in row.token_hash
        assert row.expires_at is not None and row.user_id == user.id


def test_a_signed_in_user_changes_the_password_on_the_account_page_instead(app, person):
    learner = person(Role.LEARNER)
    response = learner.client.get("/wachtwoord-vergeten")
    assert response.status_code == 302 and response.headers["Location"] == "/account/wachtwoord"


def test_requests_are_limited_per_client(app):
    limit = app.config["RESET_RATE_LIMIT"]
    for i in range(limit):
        assert ask_reset(app, f"r{i}@example.org", remote_addr="10.7.7.7").status_code == 200
    refused = ask_reset(app, "een.te.veel@example.org", remote_addr="10.7.7.7")
    assert refused.status_code == 429
    assert "Te veel aanvragen vanaf dit adres" in text(refused)
    assert "een.te.veel@example.org" not in {row.recipient for row in outbox_rows(app)}
    assert ask_reset(app, "ander@example.org", remote_addr="10.7.7.8").status_code == 200


@pytest.mark.parametrize("has_account", [True, False], ids=["account", "geen-account"])
def test_requests_are_limited_per_address_from_any_client_with_the_same_answer(app, create_user, has_account):
    if has_account:
        create_user(email="doelwit@example.org")
    limit = app.config["RESET_ADDRESS_RATE_LIMIT"]
    pages = [ask_reset(app, "doelwit@example.org", remote_addr=f"10.8.0.{i}") for i in range(limit + 2)]
    assert {page.status_code for page in pages} == {200}
    assert len({without_csrf(text(page)) for page in pages}) == 1
    assert len(outbox_rows(app, "doelwit@example.org")) == limit  # no more mail into that mailbox


# --- following the link --------------------------------------------------------------------------


def test_the_reset_mail_arrives_over_smtp_and_its_link_sets_a_new_password(app, runner, create_user, smtp_server):
    user = create_user(email="anna@example.org", name="Anna de Vries")
    ask_reset(app, "anna@example.org")
    assert "1 verstuurd" in runner.invoke(args=["course", "send-mail"]).output

    [message] = smtp_server.messages
    assert message["To"] == "anna@example.org"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Subject"] == "Een nieuw wachtwoord voor Hechtwijzer"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert PASSWORD not in body  # a mail never holds a password
    assert "Anna" not in body  # no more personal data than needed
    assert "60 minuten en één keer" in body
    link = re.search(r"https://hechtwijzer\.test(/wachtwoord-herstellen/\S+)", body).group(1)
    assert all(row.body_text == "" for row in outbox_rows(app))  # the stored copy with the token is gone

    client = app.test_client()
    response = choose_password(client, link)
    assert response.status_code == 302 and response.headers["Location"] == "/inloggen"
    assert "Je nieuwe wachtwoord is ingesteld" in text(client.get("/inloggen"))
    assert not can_sign_in(app, user.email, PASSWORD)
    assert can_sign_in(app, user.email, NEW_PASSWORD)


def test_the_link_is_single_use(app, create_user):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    assert choose_password(app.test_client(), link).status_code == 302
    again = app.test_client().get(link)
    assert again.status_code == 404
    page = text(again)
    assert "ongeldig of al gebruikt" in page and '<a class="button" href="/wachtwoord-vergeten">' in page


def test_the_link_works_for_an_hour_and_then_not(app, create_user, monkeypatch):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    before = password_hash(app, user.id)

    move_clock(monkeypatch, minutes=59)
    assert app.test_client().get(link).status_code == 200
    move_clock(monkeypatch, minutes=61)
    expired = app.test_client().get(link)
    assert expired.status_code == 410
    assert "verlopen" in text(expired) and 'href="/wachtwoord-vergeten"' in text(expired)
    # The form opened before the hour was up is refused when sent after it; nothing changes.
    move_clock(monkeypatch, minutes=59)
    client = app.test_client()
    page = client.get(link)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(page)).group(1)
    move_clock(monkeypatch, minutes=61)
    response = client.post(
        "/wachtwoord-herstellen",
        data={
            "token": token,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/inloggen"),
        },
    )
    assert response.status_code == 410
    assert password_hash(app, user.id) == before


def test_a_newer_request_voids_the_earlier_link(app, create_user):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    first = reset_link(app, user.email)
    ask_reset(app, user.email, remote_addr="10.1.0.2")
    second = reset_link(app, user.email)
    assert first != second
    assert app.test_client().get(first).status_code == 404
    assert choose_password(app.test_client(), second).status_code == 302


def test_any_password_change_voids_the_link(app, create_user, person):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    # The owner remembers the password after all and changes it on the account page.
    client = sign_in(app, user)
    changed = post(
        client,
        "/account/wachtwoord",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert app.test_client().get(link).status_code == 404

    # And a temporary password from an admin voids a link too.
    ask_reset(app, user.email, remote_addr="10.1.0.3")
    link = reset_link(app, user.email)
    admin = person(Role.ADMIN)
    assert post(admin.client, f"/beheer/gebruikers/{user.id}/tijdelijk-wachtwoord").status_code == 200
    assert app.test_client().get(link).status_code == 404


def test_the_new_password_follows_the_password_rules_and_a_refusal_changes_nothing(app, create_user):
    user = create_user(email="anna.devries@example.org", name="Anna de Vries")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    before = password_hash(app, user.id)
    for password, confirm, message in [
        ("kort", None, "minstens 10 tekens"),
        ("welkom123456", None, "datalekken"),
        ("annadevries2024", None, "naam of e-mailadres"),
        (NEW_PASSWORD, "iets anders", "De wachtwoorden zijn niet gelijk."),
    ]:
        response = choose_password(app.test_client(), link, password, confirm)
        assert response.status_code == 400
        assert message in text(response)
    assert password_hash(app, user.id) == before
    assert choose_password(app.test_client(), link).status_code == 302  # the link still works


def test_success_ends_every_session_and_signs_nobody_in(app, create_user):
    user = create_user(email="anna@example.org")
    laptop, phone = sign_in(app, user), sign_in(app, user)
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    # Even the browser that follows the link while signed in is signed out.
    assert choose_password(laptop, link).status_code == 302
    assert signed_out(laptop) and signed_out(phone)
    assert not signed_in(laptop)


def test_with_two_step_sign_in_the_code_is_still_asked_after_a_reset(app, create_user):
    user = create_user(email="anna@example.org", two_step=True)
    ask_reset(app, user.email)
    client = app.test_client()
    assert choose_password(client, reset_link(app, user.email)).status_code == 302
    assert signed_out(client)
    first_step = client.post(
        "/inloggen",
        data={"email": user.email, "password": NEW_PASSWORD, "csrf_token": csrf_token(client, "/inloggen")},
    )
    assert first_step.headers["Location"] == "/inloggen/code"
    assert signed_out(client)
    assert AuthActions(client).second_step(user.email).status_code == 302
    assert signed_in(client)


def test_a_temporary_password_is_replaced_by_a_reset(app, create_user, person):
    user = create_user(email="anna@example.org")
    admin = person(Role.ADMIN)
    post(admin.client, f"/beheer/gebruikers/{user.id}/tijdelijk-wachtwoord")
    ask_reset(app, user.email)
    assert choose_password(app.test_client(), reset_link(app, user.email)).status_code == 302
    client = sign_in_with(app, user.email, NEW_PASSWORD)
    assert client.get("/").status_code == 200  # no detour to "choose your own password"


def sign_in_with(app, email: str, password: str):
    client = app.test_client()
    response = client.post(
        "/inloggen", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/inloggen")}
    )
    assert response.status_code == 302
    return client


def test_a_deactivated_account_gets_no_link_and_an_earlier_link_stops_working(app, create_user, person):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    admin = person(Role.ADMIN)
    assert post(admin.client, f"/beheer/gebruikers/{user.id}", {"role": "learner"}).status_code in (200, 302)
    with app.app_context():
        assert db.session.get(User, user.id).active is False
    assert app.test_client().get(link).status_code == 404
    ask_reset(app, user.email, remote_addr="10.1.0.9")
    assert outbox_rows(app, user.email)[-1].topic == "password_reset.no_account"


@pytest.mark.parametrize("token", ["ONBEKEND", "x" * 500, "%00%ff", "ab.cd-_ef"])
def test_unknown_or_malformed_tokens_get_a_dutch_page_with_a_way_to_ask_again(client, token):
    response = client.get(f"/wachtwoord-herstellen/{token}")
    assert response.status_code == 404
    assert "Link werkt niet" in text(response) and "Vraag een nieuwe link aan" in text(response)
    posted = client.post(
        "/wachtwoord-herstellen",
        data={
            "token": token,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/inloggen"),
        },
    )
    assert posted.status_code == 404 and "Vraag een nieuwe link aan" in text(posted)


def test_the_pages_with_a_token_are_not_cached_or_passed_on(app, create_user):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    response = app.test_client().get(reset_link(app, user.email))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_reset_is_audited_and_logged_without_secrets(app, create_user, caplog):
    caplog.set_level(logging.DEBUG)
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    choose_password(app.test_client(), link)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset")).all()
        assert (event.actor_id, event.subject_type, event.subject_id) == (user.id, "user", user.id)
        stored = str(event.details)
    token = link.rsplit("/", 1)[-1]
    for secret in (token, NEW_PASSWORD, "anna@example.org"):
        assert secret not in stored
        assert all(secret not in record.getMessage() for record in caplog.records), secret
    assert any("wachtwoordherstel_aangevraagd" in record.getMessage() for record in caplog.records)


def test_following_a_reset_link_also_verifies_the_address(app, create_user):
    user = create_user(email="anna@example.org", verified=False)
    ask_reset(app, user.email)
    choose_password(app.test_client(), reset_link(app, user.email))
    with app.app_context():
        assert db.session.get(User, user.id).email_verified_at is not None


def test_one_link_sent_twice_at_once_changes_the_password_once(app, create_user):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    token = reset_link(app, user.email).rsplit("/", 1)[-1]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def use(password: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                password_reset.reset_password(token, password, utcnow())
                db.session.commit()
                outcomes.append(password)
            except TokenInvalid:
                db.session.rollback()
                outcomes.append("geweigerd")

    threads = [threading.Thread(target=use, args=(f"{NEW_PASSWORD} {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [outcome for outcome in outcomes if outcome != "geweigerd"]
    assert len(outcomes) == 4 and len(winners) == 1
    assert can_sign_in(app, user.email, winners[0])


def test_asking_for_an_address_without_an_account_leaves_every_other_link_working(app, create_user):
    user = create_user(email="anna@example.org")
    assert user.id == 1  # the first account: the one a wrong "no account" id would hit
    ask_reset(app, user.email)
    link = reset_link(app, user.email)
    ask_reset(app, "niemand@example.org")
    ask_reset(app, "anna@example.org.nl")
    assert choose_password(app.test_client(), link).status_code == 302
    assert can_sign_in(app, user.email, NEW_PASSWORD)


def test_a_reset_lifts_the_lock_of_earlier_failed_sign_ins(app, create_user):
    """Someone who forgot the password and tried too often gets in with the new one at once: following
    the link proved the mailbox."""
    user = create_user(email="anna@example.org")
    for _ in range(app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]):
        assert not can_sign_in(app, user.email, "verkeerd wachtwoord")
    ask_reset(app, user.email)
    assert choose_password(app.test_client(), reset_link(app, user.email)).status_code == 302
    assert can_sign_in(app, user.email, NEW_PASSWORD)


def test_a_link_past_its_hour_is_refused_by_the_domain_function_too(app, create_user):
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    token = reset_link(app, user.email).rsplit("/", 1)[-1]
    minutes = app.config["PASSWORD_RESET_MINUTES"]
    with app.app_context():
        assert password_reset.account_for_token(token, utcnow() + timedelta(minutes=minutes - 1)).id == user.id
        with pytest.raises(password_reset.TokenExpired):
            password_reset.account_for_token(token, utcnow() + timedelta(minutes=minutes + 1))


def test_the_new_password_is_hashed_with_the_configured_method(app, create_user):
    """An operator who sets PASSWORD_HASH_METHOD gets it for passwords set through a reset link too."""
    user = create_user(email="anna@example.org")
    ask_reset(app, user.email)
    assert choose_password(app.test_client(), reset_link(app, user.email)).status_code == 302
    method = app.config["PASSWORD_HASH_METHOD"]
    assert password_hash(app, user.id).startswith(f"{method}$")


def test_the_audit_trail_and_the_log_say_how_many_sessions_the_reset_ended(app, create_user, caplog):
    caplog.set_level(logging.INFO, logger="course.auth.password_reset")
    user = create_user(email="anna@example.org")
    sign_in(app, user), sign_in(app, user)
    ask_reset(app, user.email)
    assert choose_password(app.test_client(), reset_link(app, user.email)).status_code == 302
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset")).all()
        assert event.details == {"sessions_ended": 2}
    logged = [r.getMessage() for r in caplog.records if r.name == "course.auth.password_reset"]
    assert logged == [f"Wachtwoord hersteld via e-maillink voor account {user.id}; 2 sessie(s) beëindigd"]


def test_asking_for_a_reset_leaves_a_pending_change_of_address_working(app, create_user):
    user = create_user(email="anna@example.org")
    client = sign_in(app, user)
    changed = post(client, "/account/e-mailadres", {"new_email": "anna@nieuw.example", "password": PASSWORD})
    assert changed.status_code == 200 and "anna@nieuw.example" in text(changed)
    ask_reset(app, user.email)
    path = link_in_mail(app, "anna@nieuw.example", "/e-mailadres/bevestigen/")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(client.get(path))).group(1)
    post(client, "/e-mailadres/bevestigen", {"token": token})
    with app.app_context():
        assert db.session.get(User, user.id).email == "anna@nieuw.example"
