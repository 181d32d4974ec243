"""The way through: after each step the app points to the next one, for every role."""

from __future__ import annotations

import re

from course.models import Role
from tests.conftest import csrf_token
from tests.helpers import text
from tests.quiz_helpers import (
    attempt_id_from,
    catalog,
    complete,
    pass_quiz,
    read_all_lessons,
    start,
)


def mark_read(client, lesson_id: str):
    token = csrf_token(client, f"/lessen/{lesson_id}")
    return client.post(f"/lessen/{lesson_id}/gelezen", data={"csrf_token": token})


def next_step_link(page: str) -> tuple[str, str]:
    """(href, text) of the "Volgende stap" button."""
    match = re.search(r'Volgende stap: <a class="button" href="([^"]+)">([^<]+)</a>', page)
    assert match, "no next step on the page"
    return match.group(1), match.group(2)


# --- after reading a lesson ----------------------------------------------------------------------------


def test_marking_a_lesson_read_leads_to_its_knowledge_check_until_that_is_done(app, client, login_as):
    login_as(Role.LEARNER)
    check = catalog(app).quiz_for_lesson("inleiding")

    assert mark_read(client, "inleiding").headers["Location"] == f"/toetsen/{check.id}"

    pass_quiz(app, client, check.id, right=False)  # done: a knowledge check has no pass mark
    assert mark_read(client, "inleiding").headers["Location"] == "/lessen/kenmerken-ouder"


def test_the_last_lesson_with_its_check_done_returns_to_the_overview(app, client, login_as):
    login_as(Role.LEARNER)
    last = catalog(app).lessons[-1]
    pass_quiz(app, client, catalog(app).quiz_for_lesson(last.id).id)
    assert mark_read(client, last.id).headers["Location"] == "/"


# --- result pages -----------------------------------------------------------------------------------


def test_a_knowledge_check_result_points_to_the_next_lesson_to_read(app, client, login_as):
    login_as(Role.LEARNER)
    mark_read(client, "inleiding")
    finished = pass_quiz(app, client, catalog(app).quiz_for_lesson("inleiding").id)
    page = text(client.get(finished.headers["Location"]))
    second = catalog(app).lessons[1]
    assert next_step_link(page) == (f"/lessen/{second.id}", f"Verder met les 2: {second.title}")


def test_after_passing_the_final_test_the_result_points_to_the_case_test_not_to_attempts_left(app, client, login_as):
    login_as(Role.LEARNER)
    read_all_lessons(app, client)
    finished = pass_quiz(app, client, "eindtoets")
    page = text(client.get(finished.headers["Location"]))
    assert next_step_link(page) == ("/toetsen/casustoets", "Casustoets maken")
    assert "Pogingen over" not in page


def test_after_the_last_required_test_the_result_points_to_the_certificate(app, client, login_as):
    login_as(Role.LEARNER)
    read_all_lessons(app, client)
    pass_quiz(app, client, "eindtoets")
    finished = pass_quiz(app, client, "casustoets")
    page = text(client.get(finished.headers["Location"]))
    href, label = next_step_link(page)
    assert re.fullmatch(r"/certificaten/\d+/certificaat\.pdf", href)
    assert label == "Download je certificaat (pdf)"


def test_a_failed_test_with_attempts_left_offers_a_new_attempt_and_no_other_step(app, client, login_as):
    login_as(Role.LEARNER)
    read_all_lessons(app, client)
    finished = pass_quiz(app, client, "eindtoets", right=False)
    page = text(client.get(finished.headers["Location"]))
    assert "Volgende stap" not in page
    assert "Pogingen over: 2." in page  # and when the next attempt may start


# --- the dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_resumes_an_open_attempt_before_the_next_lesson(app, client, login_as):
    login_as(Role.LEARNER)
    mark_read(client, "inleiding")
    second_lesson = f"Verder met les 2: {catalog(app).lessons[1].title}"
    assert next_step_link(text(client.get("/")))[1] == second_lesson

    attempt_id = attempt_id_from(start(client, "eindtoets"))
    assert next_step_link(text(client.get("/"))) == (
        f"/pogingen/{attempt_id}",
        "Ga verder met je poging: Eindtoets",
    )

    complete(app, client, attempt_id)
    assert next_step_link(text(client.get("/")))[1] == second_lesson


def test_quizzes_are_listed_in_lesson_order_then_the_required_tests(app, client, login_as):
    login_as(Role.LEARNER)
    expected = [catalog(app).quiz_for_lesson(lesson.id).title for lesson in catalog(app).lessons]
    expected += ["Eindtoets", "Casustoets"]
    for url in ("/toetsen", "/"):
        page = text(client.get(url))
        listed = re.findall(r'<th scope="row"><a href="/toetsen/[^"]+">([^<]+)</a>', page)
        assert listed == expected, url


# --- landing after sign-in ----------------------------------------------------------------------------


def test_each_role_lands_on_its_own_start_page(create_user, auth, client):
    for role, start_page in ((Role.LEARNER, "/"), (Role.TRAINER, "/trainer/"), (Role.ADMIN, "/beheer/")):
        user = create_user(role=role)
        response = auth.login(user.email)
        assert response.status_code == 302 and response.headers["Location"] == start_page, role
        assert client.get("/inloggen").headers["Location"] == start_page  # signed in already
        auth.logout()


def test_a_safe_next_wins_and_an_unsafe_one_is_ignored(create_user, auth):
    trainer = create_user(role=Role.TRAINER)
    assert auth.login(trainer.email, next_url="/account/profiel").headers["Location"] == "/account/profiel"
    auth.logout()
    assert auth.login(trainer.email, next_url="//elders.example/x").headers["Location"] == "/trainer/"
    auth.logout()
    admin = create_user(role=Role.ADMIN)  # through the second sign-in step
    assert auth.login(admin.email, next_url="/toetsen").headers["Location"] == "/toetsen"
    auth.logout()
    assert auth.login(admin.email, next_url="https://elders.example/").headers["Location"] == "/beheer/"
