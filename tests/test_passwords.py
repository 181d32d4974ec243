"""New passwords: long enough, not breached, not the person's name or address, hard to guess (zxcvbn),
explained in Dutch; stored hashes follow the configured method from the next sign-in on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
import zxcvbn.feedback
from werkzeug.security import generate_password_hash

from course.auth import passwords
from course.auth.accounts import hash_method
from course.extensions import db
from course.models import Role, User
from tests.conftest import PASSWORD, AuthActions, confirm_registration, csrf_token, outbox_rows

STRONG = "vlinder-Kompas-7-rivierklei"


def zxcvbn_feedback_strings() -> set[str]:
    """Every text zxcvbn's feedback module can give (the arguments of its gettext calls)."""
    tree = ast.parse(Path(zxcvbn.feedback.__file__).read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
    }


def test_every_zxcvbn_feedback_text_has_a_dutch_translation():
    strings = zxcvbn_feedback_strings()
    assert len(strings) > 20
    assert strings <= set(passwords.FEEDBACK_NL)


def test_the_shipped_breached_list_is_large_and_holds_dutch_favourites():
    listed = passwords.common_passwords()
    assert len(listed) >= 10_000
    assert {"wachtwoord", "welkom01", "voetbal", "feyenoord", "password1"} <= listed
    assert all(word == word.strip().lower() and word for word in listed)


@pytest.mark.parametrize("password", ["Wachtwoord", "wachtwoord2024!", "1234567890", "Password123", "qwertyuiop"])
def test_breached_passwords_and_their_decorated_forms_are_refused(app, password):
    with app.app_context():
        app.config["PASSWORD_MIN_LENGTH"], minimum = 8, app.config["PASSWORD_MIN_LENGTH"]
        try:
            assert "datalekken" in passwords.problem(password)
        finally:
            app.config["PASSWORD_MIN_LENGTH"] = minimum


WEAK = [
    "aaaaaaaaaaaaaa",
    "abcdefghijklm",
    "zxcvbnmasdfg",
    "Elizabeth1985",
    "MICHAELJORDAN",
    "12121212abab",
    "jeugdzorg2026",
]


@pytest.mark.parametrize("password", WEAK)
def test_easily_guessed_passwords_are_refused_with_dutch_advice_only(app, password):
    with app.app_context():
        message = passwords.problem(password)
    assert message is not None and message.startswith(passwords.TOO_GUESSABLE)
    assert not any(english in message for english in zxcvbn_feedback_strings())
    assert message != passwords.TOO_GUESSABLE  # always some advice


@pytest.mark.parametrize(
    ("password", "inputs"),
    [
        ("Vriesjes-zomer-fiets-2026", ["Anna de Vries", "a.devries@example.org"]),
        ("zomer-ADEVRIES-fiets", ["Anna de Vries", "a.devries@example.org"]),
        ("kompas-hendrikus-regen", ["Hendrikus Bos", "hb@example.org"]),
    ],
)
def test_a_password_holding_the_persons_name_or_address_is_refused(app, password, inputs):
    with app.app_context():
        assert passwords.problem(password, inputs) == "Gebruik je naam of e-mailadres niet in je wachtwoord."
        assert passwords.problem(password, []) is None


def test_short_words_of_a_name_do_not_count(app):
    with app.app_context():
        assert passwords.problem("van-der-kompas-regenboog", ["Jo van der Berg", "jo@example.org"]) is None


def test_a_strong_password_and_generated_ones_pass(app):
    with app.app_context():
        assert passwords.problem(STRONG, ["Anna de Vries", "anna@example.org"]) is None
        assert all(passwords.problem(passwords.generate()) is None for _ in range(50))


# --- every place a new password is chosen -----------------------------------------------------------


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def register(client, password: str, name: str = "Anna de Vries"):
    return client.post(
        "/registreren",
        data={
            "display_name": name,
            "email": "anna@example.org",
            "password": password,
            "password_confirm": password,
            "csrf_token": csrf_token(client, "/registreren"),
        },
    )


def test_register_refuses_a_breached_password_in_dutch(app, client):
    page = register(client, "welkom123456").get_data(as_text=True)
    assert "veelgebruikte wachtwoorden uit datalekken" in page
    assert outbox_rows(app) == [], "refused before anything is pending or mailed"


def test_register_refuses_a_password_with_the_name_in_it(app, client):
    page = register(client, "devries-zomer-fiets").get_data(as_text=True)
    assert "Gebruik je naam of e-mailadres niet in je wachtwoord." in page
    assert outbox_rows(app) == []


def test_register_accepts_a_strong_password(app, client):
    assert "Controleer je e-mail" in register(client, STRONG).get_data(as_text=True)
    confirm_registration(app, client, "anna@example.org")
    assert count_users(app) == 1


def test_changing_to_a_weak_password_is_refused_and_changes_nothing(app, client, login_as):
    user = login_as(Role.LEARNER)
    with app.app_context():
        before = db.session.get(User, user.id).password_hash
    response = client.post(
        "/account/wachtwoord",
        data={
            "current_password": PASSWORD,
            "new_password": "aaaaaaaaaaaaaa",
            "new_password_confirm": "aaaaaaaaaaaaaa",
            "csrf_token": csrf_token(client, "/account/wachtwoord"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert passwords.TOO_GUESSABLE in page and "Herhalingen zoals" in page
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == before


def test_cli_create_user_refuses_a_weak_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["course", "create-user", "--email", "t@example.org", "--name", "Tess", "--password-stdin"],
        input="wachtwoord12345\n",
    )
    assert result.exit_code == 1
    assert "datalekken" in result.output
    assert count_users(app) == 0


def test_seed_demo_passwords_pass_the_check(app, runner):
    result = runner.invoke(args=["course", "seed-demo"])
    assert result.exit_code == 0
    printed = [line.split()[-1] for line in result.output.splitlines() if "@example.org" in line]
    assert len(printed) == 3
    with app.app_context():
        assert all(passwords.problem(password) is None for password in printed)


# --- hashes follow the configuration ---------------------------------------------------------------


def stored(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def set_hash(app, user_id: int, password_hash: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(password_hash=password_hash))
        db.session.commit()


def test_a_hash_made_by_another_method_is_upgraded_at_sign_in(app, auth, create_user):
    user = create_user()
    elsewhere = AuthActions(app.test_client())
    assert elsewhere.login(user.email).status_code == 302
    set_hash(app, user.id, generate_password_hash(PASSWORD, method="pbkdf2:sha256:600"))
    assert auth.login(user.email).status_code == 302
    after = stored(app, user.id)
    assert hash_method(after.password_hash) == app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1000"
    assert after.check_password(PASSWORD)
    # Signing in with an old hash ends no other session.
    assert elsewhere._client.get("/account/gegevens.json").status_code == 200


def test_a_failed_sign_in_upgrades_nothing(app, auth, create_user):
    user = create_user()
    old = generate_password_hash(PASSWORD, method="pbkdf2:sha256:600")
    set_hash(app, user.id, old)
    auth.login(user.email, password="niet het wachtwoord")
    assert stored(app, user.id).password_hash == old


def test_a_hash_of_the_configured_method_is_left_alone(app, auth, create_user, monkeypatch):
    """'scrypt' in the configuration means werkzeug's default parameters, as stored: no re-hash."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    user = create_user()
    current = generate_password_hash(PASSWORD, method="scrypt")
    assert hash_method(current).startswith("scrypt:")
    set_hash(app, user.id, current)
    assert auth.login(user.email).status_code == 302
    assert stored(app, user.id).password_hash == current
