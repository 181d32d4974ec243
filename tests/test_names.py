"""Names print on certificates: what is typed is what is printed (no invisible or direction-changing
characters), normalised to NFC, at every place a name is entered."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from course import names
from course.extensions import db
from course.models import Group, Role, User
from tests.conftest import confirm_registration, csrf_token, outbox_rows

STRONG_PASSWORD = "vlinder-Kompas-7-rivierklei"

REFUSED = {
    "zero-width spaces only": "\u200b\u200b\u200b",
    "zero-width joiner only": "\u200d",
    "right-to-left override": "Jan \u202ekeeB",
    "left-to-right embedding": "\u202aJan Beek",
    "right-to-left isolate": "Jan \u2067Beek\u2069",
    "left-to-right mark": "\u200eJan Beek",
    "arabic letter mark": "Jan\u061c Beek",
    "byte order mark": "\ufeffJan Beek",
    "soft hyphen": "Jan Be\u00adek",
    "hangul filler": "\u3164",
    "braille blank": "\u2800\u2800",
    "control character": "Jan\x07 Beek",
}
ACCEPTED = ["Anna de Vries", "Zoë Çelik-Öztürk", "O'Brien", "李小龙", "محمد علي", "Łukasz Żółć", "=HYPERLINK(1)", "+1"]


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_invisible_and_bidi_characters_are_refused_with_a_dutch_message(name):
    message = names.problem(names.normalise(name))
    assert message is not None
    assert "onzichtbaar teken" in message or "minstens één letter of cijfer" in message
    with pytest.raises(names.InvalidName):
        names.clean(name)


@pytest.mark.parametrize("name", ACCEPTED)
def test_ordinary_names_in_any_script_are_accepted(name):
    assert names.problem(name) is None
    assert names.clean(name) == name


def test_names_are_normalised_to_nfc_with_single_spaces():
    assert names.clean("  Zoe\u0308   de\tVries ") == "Zoë de Vries"


def user_named(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(User.display_name).where(User.email == email))


def register(client, name: str, email: str = "nieuw@example.org"):
    return client.post(
        "/registreren",
        data={
            "display_name": name,
            "email": email,
            "password": STRONG_PASSWORD,
            "password_confirm": STRONG_PASSWORD,
            "csrf_token": csrf_token(client, "/registreren"),
        },
    )


def test_register_refuses_a_right_to_left_override_and_creates_nothing(app, client):
    response = register(client, "Jan \u202ekeeB")
    assert response.status_code == 200
    assert "onzichtbaar teken of een teken dat de leesrichting verandert (U+202E)" in response.get_data(as_text=True)
    assert outbox_rows(app) == [], "no confirmation mail, nothing pending"


def test_register_refuses_a_name_of_zero_width_characters(app, client):
    response = register(client, "\u200b\u200c\u200b")
    assert "onzichtbaar teken" in response.get_data(as_text=True)
    assert outbox_rows(app) == []


def test_register_stores_the_nfc_form(app, client):
    assert "Controleer je e-mail" in register(client, "Zoe\u0308  Jansen").get_data(as_text=True)
    confirm_registration(app, client, "nieuw@example.org")
    assert user_named(app, "nieuw@example.org") == "Zoë Jansen"


def test_profile_refuses_an_invisible_name_and_keeps_the_old_one(app, person):
    learner = person(Role.LEARNER, "Anna de Vries")
    response = learner.client.post(
        "/account/profiel",
        data={
            "display_name": "\ufeff",
            "register_name": "",
            "csrf_token": csrf_token(learner.client, "/account/profiel"),
        },
    )
    assert response.status_code == 200
    assert "onzichtbaar teken" in response.get_data(as_text=True)
    assert user_named(app, learner.email) == "Anna de Vries"


def test_profile_stores_the_nfc_form(app, person):
    learner = person(Role.LEARNER, "Anna de Vries")
    response = learner.client.post(
        "/account/profiel",
        data={
            "display_name": "Anna de Vrie\u0301s",
            "register_name": "",
            "csrf_token": csrf_token(learner.client, "/account/profiel"),
        },
    )
    assert response.status_code == 302
    assert user_named(app, learner.email) == "Anna de Vri\u00e9s"


def test_cli_create_user_refuses_a_bidi_name(app, runner):
    result = runner.invoke(args=["course", "create-user", "--email", "c@example.org", "--name", "\u2066Beheer\u2069"])
    assert result.exit_code == 1
    assert "onzichtbaar teken" in result.output
    assert user_named(app, "c@example.org") is None


def test_a_group_name_with_an_override_is_refused(app, person):
    trainer = person(Role.TRAINER, "Tim Trainer")
    response = trainer.client.post(
        "/trainer/groepen",
        data={"name": "Groep \u202eNoord", "csrf_token": csrf_token(trainer.client, "/trainer/")},
        follow_redirects=True,
    )
    assert "onzichtbaar teken" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 0
