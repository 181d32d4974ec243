"""Passkeys as a second sign-in step: what is refused, and what never leaks. The full ceremony with a
real authenticator is in tests/e2e/test_sign_in_security.py (Chromium's virtual authenticator)."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from course.extensions import db
from course.models import LoginFailure, Passkey, Role
from tests.conftest import PASSWORD, AuthActions, csrf_token
from tests.helpers import signed_out


def text(response) -> str:
    return response.get_data(as_text=True)


def add_passkey_row(app, user_id: int, credential_id: str = "Y3JlZC1pZA", name: str = "Sleutel") -> int:
    """A stored credential, as a completed registration leaves it."""
    with app.app_context():
        row = Passkey(user_id=user_id, credential_id=credential_id, public_key=b"\x01\x02", name=name)
        db.session.add(row)
        db.session.commit()
        return row.id


def passkey_count(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Passkey).where(Passkey.user_id == user_id))


def failures(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure))


def password_step(client, email: str) -> None:
    token = csrf_token(client, "/inloggen")
    response = client.post("/inloggen", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/inloggen/code"


def test_the_second_step_offers_a_passkey_only_to_someone_who_has_one(app, client, create_user):
    without = create_user(two_step=True)
    password_step(client, without.email)
    assert "Inloggen met je passkey" not in text(client.get("/inloggen/code"))

    other = app.test_client()
    holder = create_user(two_step=True)
    add_passkey_row(app, holder.id)
    password_step(other, holder.email)
    page = text(other.get("/inloggen/code"))
    assert "Inloggen met je passkey" in page
    options = json.loads(re.search(r'id="passkey-authentication-options">(.*?)</script>', page, re.S).group(1))
    assert [c["id"] for c in options["allowCredentials"]] == ["Y3JlZC1pZA"], "only this person's own keys"
    assert options["rpId"] == "hechtwijzer.test", "the configured public address, not the Host header"


def test_a_forged_or_foreign_passkey_answer_signs_no_one_in(app, client, create_user):
    victim, attacker = create_user(two_step=True), create_user(two_step=True)
    add_passkey_row(app, attacker.id, credential_id="YXR0YWNrZXI")
    password_step(client, victim.email)
    token = csrf_token(client, "/inloggen/code")
    forged = [
        "",
        "not json",
        json.dumps(["a list"]),
        json.dumps({"id": "YXR0YWNrZXI", "rawId": "YXR0YWNrZXI", "type": "public-key", "response": {}}),
        json.dumps({"id": "x" * 30_000}),
    ]
    for answer in forged:
        csrf_token(client, "/inloggen/code")  # each attempt gets a fresh challenge, as a browser would
        response = client.post("/inloggen/passkey", data={"credential": answer, "csrf_token": token})
        assert response.status_code == 400, answer[:40]
        assert "Inloggen met je passkey is niet gelukt." in text(response)
    assert signed_out(client)
    assert failures(app) == len(forged)


def test_a_passkey_answer_without_a_challenge_from_this_session_is_refused(app, client, create_user):
    learner = create_user(two_step=True)
    add_passkey_row(app, learner.id)
    password_step(client, learner.email)
    token = csrf_token(client, "/inloggen")  # the code page (and its challenge) was never shown
    response = client.post(
        "/inloggen/passkey", data={"credential": json.dumps({"id": "Y3JlZC1pZA"}), "csrf_token": token}
    )
    assert response.status_code == 400 and signed_out(client)


def test_adding_a_passkey_needs_the_password_and_a_real_answer(app, person):
    learner = person(Role.LEARNER)
    assert "Zet eerst tweestapsverificatie" in text(
        learner.client.post(
            "/account/passkeys/toevoegen",
            data={"csrf_token": csrf_token(learner.client, "/account/profiel")},
            follow_redirects=True,
        )
    )
    holder = person(Role.ADMIN)  # admins have two-step sign-in
    token = csrf_token(holder.client, "/account/tweestapsverificatie")
    wrong_password = holder.client.post(
        "/account/passkeys/toevoegen",
        data={"passkey_name": "Laptop", "passkey_password": "fout", "credential": "{}", "csrf_token": token},
    )
    assert wrong_password.status_code == 400 and "Dit wachtwoord klopt niet." in text(wrong_password)
    no_answer = holder.client.post(
        "/account/passkeys/toevoegen",
        data={"passkey_name": "Laptop", "passkey_password": PASSWORD, "credential": "", "csrf_token": token},
    )
    assert no_answer.status_code == 400 and "Er kwam geen geldig antwoord van je passkey." in text(no_answer)
    assert passkey_count(app, holder.id) == 0


def test_the_registration_options_cannot_break_out_of_their_script_block(app, create_user):
    admin = create_user(role=Role.ADMIN, name="Jan </script><b>vet</b>")
    client = app.test_client()
    AuthActions(client).login(admin.email)
    page = text(client.get("/account/tweestapsverificatie"))
    block = re.search(r'id="passkey-registration-options">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block
    assert json.loads(block)["user"]["displayName"] == "Jan </script><b>vet</b>"


def test_no_one_removes_someone_elses_passkey(app, person):
    owner, other = person(Role.ADMIN), person(Role.ADMIN)
    passkey_id = add_passkey_row(app, owner.id)
    token = csrf_token(other.client, "/account/tweestapsverificatie")
    response = other.client.post(
        "/account/passkeys/verwijderen",
        data={"passkey_id": passkey_id, "passkey_password_remove": PASSWORD, "csrf_token": token},
        follow_redirects=True,
    )
    assert "Die passkey bestaat niet (meer)." in text(response)
    assert passkey_count(app, owner.id) == 1
    token = csrf_token(owner.client, "/account/tweestapsverificatie")
    no_password = owner.client.post(
        "/account/passkeys/verwijderen", data={"passkey_id": passkey_id, "csrf_token": token}
    )
    assert no_password.status_code == 400 and passkey_count(app, owner.id) == 1
    owner.client.post(
        "/account/passkeys/verwijderen",
        data={"passkey_id": passkey_id, "passkey_password_remove": PASSWORD, "csrf_token": token},
    )
    assert passkey_count(app, owner.id) == 0


def test_resetting_two_step_sign_in_removes_the_passkeys_too(app, person, create_user):
    learner = create_user(two_step=True)
    add_passkey_row(app, learner.id)
    admin = person(Role.ADMIN)
    token = csrf_token(admin.client, f"/beheer/gebruikers/{learner.id}")
    admin.client.post(
        f"/beheer/gebruikers/{learner.id}/tweestapsverificatie-uitzetten", data={"csrf_token": token, "confirm": "y"}
    )
    assert passkey_count(app, learner.id) == 0
