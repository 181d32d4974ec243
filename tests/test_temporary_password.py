"""Forgotten passwords: an admin hands out a temporary one (there is no e-mail to send a link)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from course.models import AuditEvent, Role, User
from tests.conftest import PASSWORD, AuthActions, Person, csrf_token
from tests.helpers import fetch, post, text

_SHOWN = re.compile(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>")


@pytest.fixture
def admin(person) -> Person:
    return person(Role.ADMIN, "Bea Beheer")


def issue(admin: Person, user_id: int):
    return post(admin.client, f"/beheer/gebruikers/{user_id}/tijdelijk-wachtwoord")


def temporary_password_for(admin: Person, learner: Person) -> str:
    response = issue(admin, learner.id)
    assert response.status_code == 200
    return _SHOWN.search(text(response)).group(1)


def test_the_admin_sees_the_temporary_password_once_and_it_is_audited_without_it(app, admin, person):
    learner = person(Role.LEARNER, "Lotte Jansen")
    response = issue(admin, learner.id)
    page = text(response)
    password = _SHOWN.search(page).group(1)
    assert "Tijdelijk wachtwoord voor Lotte Jansen" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert password not in response.headers.get("Location", "") and "Set-Cookie" not in response.headers
    events = fetch(app, sa.select(AuditEvent).where(AuditEvent.action == "user.temporary_password"))
    assert [(e.actor_id, e.subject_id) for e in events] == [(admin.id, learner.id)]
    assert password not in str(events[0].details)
    # A second click makes a new one; the first stops working.
    assert temporary_password_for(admin, learner) != password


def test_the_old_password_and_open_sessions_stop_working(admin, person):
    learner = person(Role.LEARNER, "Lotte Jansen")
    assert learner.client.get("/toetsen").status_code == 200
    temporary_password_for(admin, learner)
    assert learner.client.get("/toetsen").headers["Location"].startswith("/inloggen")
    assert AuthActions(learner.client).login(learner.email, PASSWORD).status_code == 200  # refused: form again


def test_signing_in_with_it_leads_to_choosing_an_own_password_first(app, admin, person):
    learner = person(Role.LEARNER, "Lotte Jansen")
    temporary = temporary_password_for(admin, learner)
    client = app.test_client()
    assert AuthActions(client).login(learner.email, temporary).status_code == 302
    for path in ("/", "/toetsen", "/lessen/inleiding", "/certificaten", "/account/profiel"):
        response = client.get(path)
        assert (response.status_code, response.headers["Location"]) == (302, "/account/wachtwoord"), path
    page = text(client.get("/account/wachtwoord"))
    assert "Je bent ingelogd met een tijdelijk wachtwoord van de beheerder." in page

    new = "een-eigen-wachtwoord"
    form = {"current_password": temporary, "new_password": new, "new_password_confirm": new}
    response = client.post(
        "/account/wachtwoord", data={"csrf_token": csrf_token(client, "/account/wachtwoord"), **form}
    )
    assert response.status_code == 302
    assert client.get("/toetsen").status_code == 200
    assert fetch(app, sa.select(User.must_change_password).where(User.id == learner.id)) == [False]
    fresh = app.test_client()
    assert AuthActions(fresh).login(learner.email, new).status_code == 302
    assert fresh.get("/toetsen").status_code == 200


def test_logging_out_still_works_before_choosing(app, admin, person):
    learner = person(Role.LEARNER, "Lotte Jansen")
    temporary = temporary_password_for(admin, learner)
    client = app.test_client()
    AuthActions(client).login(learner.email, temporary)
    token = csrf_token(client, "/account/wachtwoord")
    assert client.post("/uitloggen", data={"csrf_token": token}).headers["Location"] == "/"
    assert client.get("/toetsen").headers["Location"].startswith("/inloggen")


def test_an_admin_cannot_do_it_for_their_own_account_and_nothing_changes(app, admin):
    response = issue(admin, admin.id)
    assert response.status_code == 302
    page = text(admin.client.get(response.headers["Location"]))
    assert "Je eigen wachtwoord wijzig je onder Profiel" in page
    assert fetch(app, sa.select(User.must_change_password).where(User.id == admin.id)) == [False]
    assert AuthActions(app.test_client()).login(admin.email, PASSWORD).status_code == 302


def test_it_needs_the_csrf_token(app, admin, person):
    learner = person(Role.LEARNER, "Lotte Jansen")
    response = admin.client.post(f"/beheer/gebruikers/{learner.id}/tijdelijk-wachtwoord")
    assert response.status_code == 400
    assert fetch(app, sa.select(User.must_change_password).where(User.id == learner.id)) == [False]
