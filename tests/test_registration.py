"""Registration answers every address alike: "check your mail", the same work, one mail; the account
exists only once the address is confirmed through the mailed link (issue 10, finding 2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from course.auth import registration
from course.extensions import db
from course.models import OutboxMessage, PendingRegistration, User
from course.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token, link_in_mail, outbox_rows, plain_text
from tests.conftest import confirm_registration_link as confirm

NEW_PASSWORD = "een lang wachtwoord"
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def register(client, email="nieuw@example.org", password=NEW_PASSWORD, name="Nieuwe Cursist", remote_addr="10.0.0.1"):
    token = csrf_token(client, "/registreren")
    return client.post(
        "/registreren",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "password_confirm": password,
            "csrf_token": token,
        },
        environ_base={"REMOTE_ADDR": remote_addr},
    )


def without_csrf(page: str) -> str:
    return _CSRF_VALUE.sub(r"\1…\2", page)


def users(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(sa.select(User.email, User.display_name, User.password_hash))]


def pending(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PendingRegistration))


def test_a_known_and_an_unknown_address_get_the_same_page(app, client, create_user):
    create_user(email="bezet@example.org", name="Bestaande Cursist")
    known = register(app.test_client(), email="BEZET@example.org")
    unknown = register(app.test_client(), email="vrij@example.org")
    assert known.status_code == unknown.status_code == 200
    known_page = without_csrf(known.get_data(as_text=True)).replace("bezet@example.org", "ADRES")
    unknown_page = without_csrf(unknown.get_data(as_text=True)).replace("vrij@example.org", "ADRES")
    assert known_page == unknown_page
    assert "Controleer je e-mail" in known_page and "We hebben een e-mail gestuurd naar" in known_page
    assert "Er bestaat al een account" not in known_page


def test_a_new_address_gets_a_pending_registration_and_a_confirmation_mail(app, client):
    register(client, email="Nieuw@Example.org")
    assert users(app) == []  # nothing yet: the address is not confirmed
    with app.app_context():
        row = db.session.scalar(sa.select(PendingRegistration))
        assert row.email == "nieuw@example.org" and row.display_name == "Nieuwe Cursist"
        assert row.password_hash.startswith("pbkdf2:") and NEW_PASSWORD not in row.password_hash
    [mail] = outbox_rows(app)
    assert (mail.recipient, mail.topic) == ("nieuw@example.org", "registration.confirm")
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    token = path.rsplit("/", 1)[-1]
    with app.app_context():
        assert token not in {row.token_hash for row in db.session.scalars(sa.select(PendingRegistration))}

    page = confirm(client, path)

    assert "Je e-mailadres is bevestigd en je account is aangemaakt" in page.get_data(as_text=True)
    assert "Jouw voortgang" in page.get_data(as_text=True)  # signed in
    [(email, name, _)] = users(app)
    assert (email, name) == ("nieuw@example.org", "Nieuwe Cursist")
    assert pending(app) == 0
    client.post("/uitloggen", data={"csrf_token": csrf_token(client, "/")})
    assert app.test_client().post(
        "/inloggen", data={"email": email, "password": NEW_PASSWORD, "csrf_token": csrf_token(client, "/inloggen")}
    )


def test_an_existing_address_changes_nothing_and_its_owner_is_told(app, client, create_user):
    owner = create_user(email="bezet@example.org", name="Bestaande Cursist")
    before = users(app)
    register(client, email="bezet@example.org", name="Iemand Anders", password="een ander wachtwoord")
    assert users(app) == before
    assert pending(app) == 0
    [mail] = outbox_rows(app)
    assert (mail.recipient, mail.topic) == (owner.email, "registration.existing")
    assert "geprobeerd een nieuw account aan te maken" in mail.body_text
    assert "/inloggen" in mail.body_text and "tijdelijk wachtwoord" in mail.body_text
    assert "Iemand Anders" not in mail.body_text


def test_both_paths_hash_the_password_exactly_once(app, client, create_user, monkeypatch):
    create_user(email="bezet@example.org")
    calls: list[str] = []
    real = registration.generate_password_hash

    def counting(password: str, method: str) -> str:
        calls.append(password)
        return real(password, method=method)

    monkeypatch.setattr(registration, "generate_password_hash", counting)
    register(app.test_client(), email="bezet@example.org")
    assert calls == [NEW_PASSWORD]
    register(app.test_client(), email="vrij@example.org")
    assert calls == [NEW_PASSWORD, NEW_PASSWORD]
    assert len(outbox_rows(app)) == 2  # and one mail each


def test_registration_is_throttled_per_client_address(app, client):
    limit = app.config["REGISTER_RATE_LIMIT"]
    for i in range(limit):
        assert register(app.test_client(), email=f"r{i}@example.org", remote_addr="10.9.9.9").status_code != 429
    refused = register(app.test_client(), email="een.te.veel@example.org", remote_addr="10.9.9.9")
    assert refused.status_code == 429
    assert "Te veel registraties vanaf dit adres" in refused.get_data(as_text=True)
    assert "een.te.veel@example.org" not in {row.recipient for row in outbox_rows(app)}
    # Another client is not affected.
    assert register(app.test_client(), email="ander@example.org", remote_addr="10.9.9.10").status_code == 200


def test_an_expired_link_is_refused_and_creates_nothing(app, client):
    register(client)
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    with app.app_context():
        db.session.execute(sa.update(PendingRegistration).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 410
    assert "Deze link is verlopen" in page.get_data(as_text=True)
    token = path.rsplit("/", 1)[-1]
    posted = client.post(
        "/registreren/bevestigen", data={"token": token, "csrf_token": csrf_token(client, "/inloggen")}
    )
    assert posted.status_code == 410
    assert users(app) == []


def test_a_used_link_is_refused_the_second_time(app, client):
    register(client)
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    confirm(client, path)
    other = app.test_client()
    page = other.get(path)
    assert page.status_code == 404
    assert "Deze link is ongeldig of al gebruikt" in page.get_data(as_text=True)
    assert len(users(app)) == 1


@pytest.mark.parametrize(
    "tamper", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t[:10], lambda t: "x" * 300]
)
def test_a_tampered_link_is_refused_and_creates_nothing(app, client, tamper):
    register(client)
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    bad = tamper(path.rsplit("/", 1)[-1])
    assert client.get(f"/registreren/bevestigen/{bad}").status_code == 404
    response = client.post(
        "/registreren/bevestigen", data={"token": bad, "csrf_token": csrf_token(client, "/inloggen")}
    )
    assert response.status_code == 404
    assert users(app) == [] and pending(app) == 1


def test_several_pending_registrations_for_one_address_the_first_confirmed_wins(app, client):
    register(app.test_client(), name="Eerste")
    first = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    register(app.test_client(), name="Tweede")
    second = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    assert first != second and pending(app) == 2
    confirm(app.test_client(), second)
    assert [name for _, name, _ in users(app)] == ["Tweede"]
    assert app.test_client().get(first).status_code == 404  # the other link is void


def test_the_address_taken_in_the_meantime_gets_a_neutral_message(app, client, create_user):
    register(client)
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    create_user(email="nieuw@example.org", name="Intussen Aangemaakt")
    page = confirm_page = client.get(path)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', confirm_page.get_data(as_text=True)).group(1)
    page = client.post("/registreren/bevestigen", data={"token": token, "csrf_token": csrf_token(client, path)})
    assert page.status_code == 400
    assert "Log in met dat account" in page.get_data(as_text=True)
    assert [name for _, name, _ in users(app)] == ["Intussen Aangemaakt"]


def test_the_confirmation_mail_arrives_over_smtp_and_its_link_works(app, client, runner, smtp_server):
    register(client, email="smtp@example.org")
    result = runner.invoke(args=["course", "send-mail"])
    assert "1 verstuurd" in result.output
    [message] = smtp_server.messages
    assert message["To"] == "smtp@example.org"
    assert message["Subject"] == "Bevestig je registratie bij Hechtwijzer"
    body = plain_text(message)
    path = re.search(r"https?://[^/\s]+(/registreren/bevestigen/\S+)", body).group(1)
    assert with_outbox_emptied(app)
    confirm(client, path)
    assert [email for email, _, _ in users(app)] == ["smtp@example.org"]


def with_outbox_emptied(app) -> bool:
    """After delivery the stored body (with the token) is gone."""
    return all(row.body_text == "" for row in outbox_rows(app))


def test_no_token_or_address_in_the_logs(app, client, caplog):
    caplog.set_level("DEBUG")
    register(client, email="logboek@example.org")
    path = link_in_mail(app, "logboek@example.org", "/registreren/bevestigen/")
    confirm(client, path)
    token = path.rsplit("/", 1)[-1]
    for record in caplog.records:
        assert "logboek@example.org" not in record.getMessage()
        assert token not in record.getMessage()


def test_password_is_unused_by_the_existing_account_check(app, client, create_user):
    """The owner's password still works after someone else tried to register with the address."""
    owner = create_user(email="bezet@example.org")
    register(client, email="bezet@example.org", password="een ander wachtwoord")
    other = app.test_client()
    response = other.post(
        "/inloggen", data={"email": owner.email, "password": PASSWORD, "csrf_token": csrf_token(other, "/inloggen")}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
