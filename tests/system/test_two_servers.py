"""Two app servers behind one address: separate gunicorn processes on different ports, the same PostgreSQL
database and the same SECRET_KEY, as behind a load balancer that sends each request wherever it likes.
One learner's requests alternate between them, and everything behaves as on one server: the session,
reading, a quiz saved on one and finished on the other, the login throttle and the rate limits (one
count for both), and ending a session (at once on the other server too)."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from tests.system.harness import (
    PASSWORD,
    Server,
    answers_from_page,
    csrf,
    fresh_database,
    gunicorn,
    login,
    postgresql_only,
    start_attempt,
)

pytestmark = [pytest.mark.system, postgresql_only]
QUIZ = "eindtoets"
LESSON = "inleiding"
NEW_PASSWORD = "Zeven kastanjes op de dijk 42"
_PERCENT = re.compile(r"(Geslaagd met|Niet geslaagd:) (\d+(?:,\d+)?\s?%)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Both servers and the database, started once for this file: (A, B, database URL, learners' e-mails)."""
    tmp_path = tmp_path_factory.mktemp("two_servers")
    url, env, emails = fresh_database(tmp_path, "hechtwijzer_two_servers", 3)
    with gunicorn(env, workers=1) as a, gunicorn(env, workers=1) as b:
        assert a.base != b.base and a.process.pid != b.process.pid
        yield a, b, url, emails


@pytest.fixture
def two_servers(servers):
    """(A, B, database URL, a learner of this test's own): each test locks out or signs out only its own."""
    a, b, url, emails = servers
    return a, b, url, emails.pop()


def rows(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def sessions_of(url: str, email: str) -> int:
    sql = "SELECT COUNT(*) FROM login_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = :email"
    return rows(url, sql, email=email)[0][0]


def signed_in_status(session: requests.Session, server: Server) -> int:
    """200 while the session holds; a redirect to the login page once it has ended."""
    response = session.get(f"{server.base}/account/gegevens.json", allow_redirects=False, timeout=30)
    assert response.status_code != 302 or response.headers["Location"].startswith("/inloggen")
    return response.status_code


def test_a_learner_moves_between_servers_and_nothing_is_lost(two_servers):
    a, b, url, email = two_servers
    with requests.Session() as browser:  # one cookie jar: a cookie for 127.0.0.1 goes to both ports
        assert login(browser, a.base, email).status_code == 302

        lesson = browser.get(f"{b.base}/lessen/{LESSON}", timeout=30)
        assert lesson.status_code == 200 and "<h1" in lesson.text and "Inleiding" in lesson.text
        token, _ = csrf(browser, f"{b.base}/lessen/{LESSON}")
        read = browser.post(f"{b.base}/lessen/{LESSON}/gelezen", data={"csrf_token": token}, timeout=30)
        assert read.status_code == 200 and "Les 1 is gemarkeerd als gelezen." in read.text

        started = start_attempt(browser, a.base, QUIZ)
        assert started.status_code == 200 and started.url.startswith(f"{a.base}/pogingen/")
        attempt_page = started.url
        attempt_id = int(attempt_page.rsplit("/", 1)[1])
        answers = answers_from_page(started.text)

        saved = browser.post(f"{b.base}/pogingen/{attempt_id}/opslaan", data=answers, timeout=30)
        assert saved.status_code == 200 and saved.url == f"{b.base}/pogingen/{attempt_id}"
        assert "Je antwoorden zijn opgeslagen." in saved.text
        ((answered, questions),) = rows(
            url,
            "SELECT COUNT(response), COUNT(*) FROM attempt_items WHERE attempt_id = :id",
            id=attempt_id,
        )
        assert answered == questions == 16, "every answer posted to B is in the database"

        # A sees what B saved: the page it serves carries B's new revision and the checked answers.
        on_a = browser.get(attempt_page, timeout=30)
        assert on_a.status_code == 200
        assert answers_from_page(on_a.text)["revision"] == str(int(answers["revision"]) + 1)
        finished = browser.post(
            f"{a.base}/pogingen/{attempt_id}/afronden",
            data={**answers_from_page(on_a.text), "confirm_incomplete": "1"},
            timeout=30,
        )
        assert finished.status_code == 200 and finished.url == f"{a.base}/pogingen/{attempt_id}/resultaat"
        verdict = _PERCENT.search(finished.text)
        assert verdict, "the result page says how it went"

        review = browser.get(f"{b.base}/pogingen/{attempt_id}/resultaat", timeout=30)
        assert review.status_code == 200
        assert verdict.group(2) in review.text, "B shows the score A computed"

    (user_id,) = rows(url, "SELECT id FROM users WHERE email = :email", email=email)[0]
    assert rows(url, "SELECT lesson_id FROM lesson_reads WHERE user_id = :u", u=user_id) == [(LESSON,)]
    assert rows(url, "SELECT quiz_id, mode, status FROM attempts WHERE user_id = :u", u=user_id) == [
        (QUIZ, "graded", "finished")
    ]
    ((unscored,),) = rows(
        url, "SELECT COUNT(*) FROM attempt_items WHERE attempt_id = :id AND score IS NULL", id=attempt_id
    )
    assert unscored == 0


def test_login_throttle_and_rate_limits_count_both_servers_together(two_servers):
    a, b, url, email = two_servers
    # Five wrong passwords for one account (the limit), alternating between the servers.
    for n in range(5):
        server = (a, b)[n % 2]
        with requests.Session() as attacker:
            token, _ = csrf(attacker, f"{server.base}/inloggen")
            wrong = attacker.post(
                f"{server.base}/inloggen",
                data={"email": email, "password": f"geraden wachtwoord {n}", "csrf_token": token},
                timeout=30,
            )
            assert wrong.status_code == 200 and "E-mailadres of wachtwoord klopt niet." in wrong.text
    for server in (a, b):
        with requests.Session() as owner:
            refused = login(owner, server.base, email)
            assert refused.status_code == 429, "the right password is refused on both servers for now"
            assert "Te veel mislukte inlogpogingen" in refused.text
    assert rows(url, "SELECT COUNT(*) FROM login_failures") == [(5,)]

    # Certificate lookups: 30 per client per minute, 15 on each server, then the next is refused on either.
    with requests.Session() as visitor:
        for n in range(30):
            server = (a, b)[n % 2]
            lookup = visitor.get(f"{server.base}/verifieren/HW-ONBEKEND-{n:04d}", timeout=30)
            assert lookup.status_code == 404, (n, lookup.status_code)
        for server in (a, b):
            refused = visitor.get(f"{server.base}/verifieren/HW-ONBEKEND-9999", timeout=30)
            assert refused.status_code == 429 and "Te veel controles vanaf dit adres" in refused.text
    assert rows(url, "SELECT COUNT(*) FROM rate_limit_hits WHERE bucket = 'verify'") == [(30,)]


def test_ending_a_session_on_one_server_ends_it_on_the_other_at_once(two_servers):
    a, b, url, email = two_servers
    with requests.Session() as laptop, requests.Session() as copy, requests.Session() as phone:
        # Logout on A: a copy of the cookie is refused by B on its very next request.
        assert login(laptop, a.base, email).status_code == 302
        copy.cookies.update(laptop.cookies)
        assert signed_in_status(copy, b) == 200
        token, _ = csrf(laptop, f"{a.base}/account/profiel")
        logged_out = laptop.post(f"{a.base}/uitloggen", data={"csrf_token": token}, timeout=30)
        assert logged_out.status_code == 200 and "Je bent uitgelogd." in logged_out.text
        assert signed_in_status(copy, b) == 302
        assert signed_in_status(copy, a) == 302

        # A password change on A ends the phone's session on B; the laptop's own session goes on.
        assert login(laptop, a.base, email).status_code == 302
        assert login(phone, b.base, email).status_code == 302
        assert signed_in_status(phone, b) == 200
        assert sessions_of(url, email) == 2
        token, _ = csrf(laptop, f"{a.base}/account/wachtwoord")
        changed = laptop.post(
            f"{a.base}/account/wachtwoord",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
            timeout=30,
        )
        assert changed.status_code == 200 and "Andere sessies zijn uitgelogd." in changed.text
        assert signed_in_status(phone, b) == 302
        assert signed_in_status(phone, a) == 302
        assert signed_in_status(laptop, b) == 200
        assert sessions_of(url, email) == 1
