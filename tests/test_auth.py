"""Accounts: register, log in and out, change password, throttling, safe redirects."""

from __future__ import annotations

import sqlalchemy as sa

from course.auth import sessions
from course.extensions import db
from course.models import LoginFailure, Role, User
from tests.conftest import PASSWORD, csrf_token, link_in_mail
from tests.helpers import signed_out


def register(client, email="nieuw@example.org", password="een lang wachtwoord", confirm=None, name="Nieuwe Cursist"):
    token = csrf_token(client, "/registreren")
    return client.post(
        "/registreren",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "password_confirm": confirm if confirm is not None else password,
            "csrf_token": token,
        },
    )


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def confirm_registration(client, app, email: str):
    """Follow the link in the confirmation mail and press its button."""
    path = link_in_mail(app, email, "/registreren/bevestigen/")
    token = path.rsplit("/", 1)[-1]
    return client.post("/registreren/bevestigen", data={"token": token, "csrf_token": csrf_token(client, path)})


def test_a_visitor_registers_as_learner_and_is_signed_in(app, client):
    response = register(client, email="Nieuw@Example.org")
    assert response.status_code == 200
    assert "Controleer je e-mail" in response.get_data(as_text=True)
    assert count_users(app) == 0
    assert confirm_registration(client, app, "nieuw@example.org").status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "nieuw@example.org"
        assert user.role is Role.LEARNER
        assert user.password_hash != "een lang wachtwoord"
    assert "Jouw voortgang" in client.get("/").get_data(as_text=True)


def test_registration_with_a_used_email_changes_nothing(app, client, create_user):
    create_user(email="bezet@example.org")
    response = register(client, email="BEZET@example.org")
    assert response.status_code == 200
    assert "Controleer je e-mail" in response.get_data(as_text=True)  # as for any address (see test_registration)
    assert count_users(app) == 1


def test_registration_rejects_short_or_mismatched_passwords(app, client):
    page = register(client, password="kort").get_data(as_text=True)
    assert "minstens 10 tekens" in page
    page = register(client, password="een lang wachtwoord", confirm="iets anders!!").get_data(as_text=True)
    assert "De wachtwoorden zijn niet gelijk" in page
    assert count_users(app) == 0


def test_registration_without_csrf_token_is_rejected(app, client):
    response = client.post(
        "/registreren",
        data={
            "display_name": "X",
            "email": "x@example.org",
            "password": "een lang wachtwoord",
            "password_confirm": "een lang wachtwoord",
        },
    )
    assert response.status_code == 400
    assert "Het formulier is verlopen of ongeldig" in response.get_data(as_text=True)
    assert count_users(app) == 0


def test_login_with_correct_password_signs_in(client, auth, create_user):
    user = create_user()
    response = auth.login(user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_with_wrong_password_shows_one_message_for_both_cases(client, auth, create_user):
    user = create_user()
    wrong_password = auth.login(user.email, "niet het wachtwoord").get_data(as_text=True)
    unknown_email = auth.login("niemand@example.org").get_data(as_text=True)
    assert "E-mailadres of wachtwoord klopt niet." in wrong_password
    assert "E-mailadres of wachtwoord klopt niet." in unknown_email
    assert client.get("/lessen/inleiding").status_code == 302


def test_a_deactivated_account_cannot_log_in(auth, create_user):
    user = create_user(active=False)
    assert auth.login(user.email).status_code == 200


def test_login_follows_a_local_next_url(auth, create_user):
    user = create_user()
    response = auth.login(user.email, next_url="/lessen/kenmerken-kind")
    assert response.headers["Location"] == "/lessen/kenmerken-kind"


def test_login_never_redirects_off_site(auth, create_user):
    user = create_user()
    for target in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "http:/evil"]:
        response = auth.login(user.email, next_url=target)
        assert response.headers["Location"] == "/", target
        auth.logout()


def test_login_renews_the_session(app, client, auth, create_user):
    user = create_user()
    with client.session_transaction() as session:
        session["planted_by_attacker"] = "x"
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted_by_attacker" not in session
        token = session["_user_id"]
    with app.app_context():
        found = sessions.load(token)
    assert found is not None and found[0].id == user.id


def test_session_cookie_is_httponly_samesite_lax_and_secure_when_configured(app, create_user):
    user = create_user()
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        client = app.test_client()
        token = csrf_token(client, "/inloggen")
        response = client.post("/inloggen", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        cookie = response.headers["Set-Cookie"]
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_logout_is_a_post_with_csrf(client, auth, create_user):
    user = create_user()
    auth.login(user.email)
    assert client.get("/uitloggen").status_code == 405
    assert client.post("/uitloggen").status_code == 400
    assert client.get("/lessen/inleiding").status_code == 200
    auth.logout()
    assert signed_out(client)


def test_password_change_requires_the_current_password(app, client, auth, create_user):
    user = create_user()
    auth.login(user.email)
    token = csrf_token(client, "/account/wachtwoord")
    response = client.post(
        "/account/wachtwoord",
        data={
            "current_password": "fout wachtwoord",
            "new_password": "nieuw lang wachtwoord",
            "new_password_confirm": "nieuw lang wachtwoord",
            "csrf_token": token,
        },
    )
    assert "Je huidige wachtwoord klopt niet." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).check_password(PASSWORD)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, create_user):
    user = create_user()
    auth.login(user.email)
    other_device = app.test_client()
    token = csrf_token(other_device, "/inloggen")
    other_device.post("/inloggen", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert other_device.get("/lessen/inleiding").status_code == 200

    token = csrf_token(client, "/account/wachtwoord")
    response = client.post(
        "/account/wachtwoord",
        data={
            "current_password": PASSWORD,
            "new_password": "nieuw lang wachtwoord",
            "new_password_confirm": "nieuw lang wachtwoord",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/lessen/inleiding").status_code == 200
    assert signed_out(other_device)
    auth.logout()
    assert auth.login(user.email, "nieuw lang wachtwoord").status_code == 302


def test_repeated_failures_lock_the_account_for_everyone(app, client, auth, create_user):
    user = create_user()
    limit = app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
    for _ in range(limit):
        assert auth.login(user.email, "fout wachtwoord").status_code == 200
    # Even the right password is refused now, from any client (another worker, another IP).
    other = app.test_client()
    token = csrf_token(other, "/inloggen")
    response = other.post(
        "/inloggen",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 429
    assert "Te veel mislukte inlogpogingen" in response.get_data(as_text=True)


def test_throttle_counts_are_stored_without_email_or_ip(app, auth, create_user):
    user = create_user()
    auth.login(user.email, "fout wachtwoord")
    with app.app_context():
        failure = db.session.scalar(sa.select(LoginFailure))
        stored = f"{failure.account_key} {failure.client_key}"
    assert user.email not in stored
    assert "127.0.0.1" not in stored


def test_throttle_is_shared_between_app_instances(app, create_user):
    """Two apps on one database stand in for two gunicorn workers."""
    from config import TestConfig
    from course import create_app

    user = create_user()
    second_worker = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    limit = app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
    for worker in [app, second_worker] * limit:
        client = worker.test_client()
        token = csrf_token(client, "/inloggen")
        client.post("/inloggen", data={"email": user.email, "password": "fout wachtwoord", "csrf_token": token})
    client = app.test_client()
    token = csrf_token(client, "/inloggen")
    response = client.post("/inloggen", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    with second_worker.app_context():
        db.engine.dispose()


def test_successful_login_clears_earlier_failures(app, auth, create_user):
    user = create_user()
    auth.login(user.email, "fout wachtwoord")
    auth.login(user.email)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_logs_hold_no_email_addresses(app, client, auth, create_user, caplog):
    caplog.set_level("DEBUG")
    register(client, email="privacy@example.org", name="Priva Cy")
    confirm_registration(client, app, "privacy@example.org")
    auth.logout()
    auth.login("privacy@example.org", "fout wachtwoord")
    auth.login("privacy@example.org", "een lang wachtwoord")
    assert caplog.records, "expected the account actions to be logged"
    for record in caplog.records:
        assert "privacy@example.org" not in record.getMessage()
        assert "Priva Cy" not in record.getMessage()
