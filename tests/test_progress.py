"""Reading progress: a learner marks lessons read; the overview shows it."""

from __future__ import annotations

import sqlalchemy as sa

from course.extensions import db
from course.models import LessonRead, Role
from tests.conftest import csrf_token


def mark_read(client, lesson_id: str):
    token = csrf_token(client, f"/lessen/{lesson_id}")
    return client.post(f"/lessen/{lesson_id}/gelezen", data={"csrf_token": token})


def reads(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(LessonRead.user_id, LessonRead.lesson_id))]


def test_the_overview_lists_all_lessons_as_unread_at_first(client, login_as):
    login_as(Role.LEARNER)
    page = client.get("/").get_data(as_text=True)
    assert "0 van de 6" in page
    assert page.count("Nog niet gelezen") == 6
    assert "Begin met les 1: Inleiding" in page


def test_a_lesson_page_shows_goals_text_key_points_and_the_mark_read_form(client, login_as):
    login_as(Role.LEARNER)
    page = client.get("/lessen/kenmerken-ouder").get_data(as_text=True)
    assert '<h1 id="sectie-2">' in page
    assert "Leerdoelen" in page
    assert "Kernpunten" in page
    assert '<h2 id="sectie-2-3">2.3 Opvoedingsonzekerheid</h2>' in page
    assert "(Diener, Nievar &amp; Wright, 2003)" in page
    assert "Markeer les 2 als gelezen" in page


def test_marking_read_is_stored_per_learner_and_shown_on_the_overview(app, client, login_as):
    learner = login_as(Role.LEARNER)
    response = mark_read(client, "kenmerken-ouder")
    assert response.status_code == 302
    # On to the lesson's knowledge check first (tests/test_guidance.py has the rules of where to).
    assert response.headers["Location"] == "/toetsen/kennischeck-kenmerken-ouder"
    assert reads(app) == [(learner.id, "kenmerken-ouder")]
    page = client.get("/").get_data(as_text=True)
    assert "1 van de 6" in page
    assert page.count("Nog niet gelezen") == 5
    assert "Je hebt deze les als gelezen gemarkeerd." in client.get("/lessen/kenmerken-ouder").get_data(as_text=True)


def test_marking_the_same_lesson_twice_keeps_one_record(app, client, login_as):
    login_as(Role.LEARNER)
    mark_read(client, "inleiding")
    token = csrf_token(client, "/")
    client.post("/lessen/inleiding/gelezen", data={"csrf_token": token})
    assert len(reads(app)) == 1


def test_the_last_lesson_returns_to_the_overview_when_all_are_read(client, app, login_as):
    login_as(Role.LEARNER)
    with app.app_context():
        lessons = app.extensions["catalog"].lessons
        lesson_ids = [lesson.id for lesson in lessons]
        last_check = app.extensions["catalog"].quiz_for_lesson(lessons[-1].id)
    for lesson_id in lesson_ids:
        response = mark_read(client, lesson_id)
    # Its knowledge check is not done yet; with it done, the overview (tests/test_guidance.py).
    assert response.headers["Location"] == f"/toetsen/{last_check.id}"
    assert "Je hebt alle lessen gelezen." in client.get("/").get_data(as_text=True)


def test_progress_of_one_learner_is_invisible_to_another(app, client, auth, create_user):
    first, second = create_user(), create_user()
    auth.login(first.email)
    mark_read(client, "inleiding")
    auth.logout()
    auth.login(second.email)
    assert "0 van de 6" in client.get("/").get_data(as_text=True)


def test_unknown_lessons_are_404_and_store_nothing(app, client, login_as):
    login_as(Role.LEARNER)
    assert client.get("/lessen/bestaat-niet").status_code == 404
    token = csrf_token(client, "/")
    assert client.post("/lessen/bestaat-niet/gelezen", data={"csrf_token": token}).status_code == 404
    assert reads(app) == []


def test_marking_read_without_csrf_token_changes_nothing(app, client, login_as):
    login_as(Role.LEARNER)
    assert client.post("/lessen/inleiding/gelezen").status_code == 400
    assert reads(app) == []


def test_anonymous_visitors_see_the_lesson_list_but_must_log_in_to_read(client):
    page = client.get("/").get_data(as_text=True)
    assert "Kenmerken en gedrag van de ouder" in page
    response = client.get("/lessen/inleiding")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/inloggen?next=")


def test_the_lesson_text_is_shared_but_the_read_status_is_each_learners_own(person):
    # The lesson body is rendered once per process; status and form must still be per learner.
    reader, other = person(name="Lezer Een"), person(name="Lezer Twee")
    reader_client, other_client = reader.client, other.client
    assert "Markeer les 2 als gelezen" in reader_client.get("/lessen/kenmerken-ouder").get_data(as_text=True)
    mark_read(reader_client, "kenmerken-ouder")

    read_page = reader_client.get("/lessen/kenmerken-ouder").get_data(as_text=True)
    unread_page = other_client.get("/lessen/kenmerken-ouder").get_data(as_text=True)
    for page in (read_page, unread_page):
        assert '<h2 id="sectie-2-3">2.3 Opvoedingsonzekerheid</h2>' in page
        assert "(Diener, Nievar &amp; Wright, 2003)" in page
    assert "Je hebt deze les als gelezen gemarkeerd." in read_page
    assert "Ingelogd als Lezer Een" in read_page
    assert "Markeer les 2 als gelezen" in unread_page
    assert "Nog niet gelezen" in unread_page
    assert "Ingelogd als Lezer Twee" in unread_page
    # Reading one lesson marks only that lesson.
    assert "Markeer les 3 als gelezen" in reader_client.get("/lessen/kenmerken-kind").get_data(as_text=True)
