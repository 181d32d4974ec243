"""Server-side sessions: logout ends the session for every copy of the cookie, a person sees where
they are signed in and ends any session, and sessions lapse after their lifetime or idle time."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from course.auth import sessions
from course.extensions import db
from course.models import LoginSession, Role
from course.timeutil import as_utc, duration_nl, utcnow
from tests.conftest import PASSWORD, AuthActions, csrf_token
from tests.helpers import signed_in, signed_out

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def browser(app, user, agent: str):
    """A client of its own with this User-Agent, signed in as `user`."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    assert AuthActions(client).login(user.email).status_code == 302
    return client


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def session_rows(app, user_id: int) -> list[LoginSession]:
    with app.app_context():
        return db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user_id)).all()


def test_a_cookie_copied_before_logout_no_longer_works_after_it(app, create_user):
    user = create_user()
    client = browser(app, user, FIREFOX_WINDOWS)
    stolen = app.test_client()
    stolen.set_cookie("session", session_cookie(client))
    assert signed_in(stolen), "the copy works while the session is open"

    assert AuthActions(client).logout().status_code == 302

    response = stolen.get("/account/gegevens.json")
    assert response.status_code == 302 and response.headers["Location"].startswith("/inloggen")
    assert session_rows(app, user.id) == []


def test_the_session_list_shows_each_signed_in_browser_and_marks_this_one(app, create_user):
    user = create_user()
    laptop = browser(app, user, FIREFOX_WINDOWS)
    browser(app, user, CHROME_ANDROID)
    page = laptop.get("/account/sessies").get_data(as_text=True)
    assert "<strong>Firefox op Windows</strong> (deze sessie)" in page
    assert "<strong>Chrome op Android</strong></p>" in page
    assert "na 8 uur, of na 2 uur zonder gebruik" in page
    assert "Alle andere sessies beëindigen" in page


def test_ending_another_session_signs_that_browser_out_at_once(app, create_user):
    user = create_user()
    laptop = browser(app, user, FIREFOX_WINDOWS)
    phone = browser(app, user, CHROME_ANDROID)
    (phone_session,) = [s for s in session_rows(app, user.id) if s.device == "Chrome op Android"]
    token = csrf_token(laptop, "/account/sessies")
    wrong = laptop.post(
        "/account/sessies/beeindigen",
        data={"csrf_token": token, "session_id": phone_session.id, "password": "niet mijn wachtwoord"},
    )
    assert wrong.status_code == 400 and "Dit wachtwoord klopt niet." in wrong.get_data(as_text=True)
    assert signed_in(phone), "without the password again nothing ends"
    response = laptop.post(
        "/account/sessies/beeindigen", data={"csrf_token": token, "session_id": phone_session.id, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "De sessie is beëindigd" in laptop.get("/account/sessies").get_data(as_text=True)
    assert signed_out(phone)
    assert signed_in(laptop)


def test_ending_all_other_sessions_keeps_only_this_one(app, create_user):
    user = create_user()
    laptop = browser(app, user, FIREFOX_WINDOWS)
    others = [browser(app, user, CHROME_ANDROID) for _ in range(3)]
    token = csrf_token(laptop, "/account/sessies")
    refused = laptop.post("/account/sessies/andere-beeindigen", data={"csrf_token": token})
    assert refused.status_code == 400 and "Vul je wachtwoord in." in refused.get_data(as_text=True)
    assert all(signed_in(other) for other in others)
    laptop.post("/account/sessies/andere-beeindigen", data={"csrf_token": token, "password": PASSWORD})
    assert "3 andere sessies beëindigd." in laptop.get("/account/sessies").get_data(as_text=True)
    assert all(signed_out(other) for other in others)
    assert signed_in(laptop)
    assert len(session_rows(app, user.id)) == 1


def test_no_one_ends_someone_elses_session(app, create_user):
    owner, intruder = create_user(), create_user()
    owner_client = browser(app, owner, FIREFOX_WINDOWS)
    intruder_client = browser(app, intruder, CHROME_ANDROID)
    (owner_session,) = session_rows(app, owner.id)
    token = csrf_token(intruder_client, "/account/sessies")
    response = intruder_client.post(
        "/account/sessies/beeindigen",
        data={"csrf_token": token, "session_id": owner_session.id, "password": PASSWORD},
        follow_redirects=True,
    )
    assert "Die sessie bestaat niet (meer)." in response.get_data(as_text=True)
    assert signed_in(owner_client)
    assert len(session_rows(app, owner.id)) == 1


def test_a_malformed_session_id_is_refused_and_changes_nothing(app, create_user):
    user = create_user()
    client = browser(app, user, FIREFOX_WINDOWS)
    browser(app, user, CHROME_ANDROID)
    token = csrf_token(client, "/account/sessies")
    for bad in ["", "abc", "-1", "1.0", "²", "9" * 40]:
        response = client.post(
            "/account/sessies/beeindigen", data={"csrf_token": token, "session_id": bad, "password": PASSWORD}
        )
        assert response.status_code == 400, bad
    assert len(session_rows(app, user.id)) == 2


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, create_user):
    user = create_user()
    laptop = browser(app, user, FIREFOX_WINDOWS)
    phone = browser(app, user, CHROME_ANDROID)
    token = csrf_token(laptop, "/account/wachtwoord")
    new = "een ander lang wachtwoord"
    response = laptop.post(
        "/account/wachtwoord",
        data={
            "current_password": "correct horse battery",
            "new_password": new,
            "new_password_confirm": new,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert signed_in(laptop)
    assert signed_out(phone)


def test_deactivating_an_account_ends_its_sessions(app, create_user, person):
    learner = create_user()
    learner_client = browser(app, learner, FIREFOX_WINDOWS)
    admin = person(Role.ADMIN)
    token = csrf_token(admin.client, f"/beheer/gebruikers/{learner.id}")
    admin.client.post(f"/beheer/gebruikers/{learner.id}", data={"csrf_token": token, "role": "learner"})
    assert signed_out(learner_client)
    assert session_rows(app, learner.id) == []


def test_a_session_lapses_after_its_idle_timeout_and_its_lifetime(app, create_user):
    user = create_user()
    client = browser(app, user, FIREFOX_WINDOWS)
    with client.session_transaction() as flask_session:
        login_token = flask_session["_user_id"]
    idle = timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT_SECONDS"])
    lifetime = timedelta(seconds=app.config["PERMANENT_SESSION_LIFETIME"])
    with app.app_context():
        start = utcnow()
        assert sessions.load(login_token, now=start + idle + timedelta(minutes=10)) is None
        # Used regularly, it still ends at its lifetime.
        moment = start
        while moment < start + lifetime - timedelta(minutes=30):
            moment += timedelta(minutes=30)
            assert sessions.load(login_token, now=moment) is not None, moment - start
        assert sessions.load(login_token, now=start + lifetime + timedelta(minutes=1)) is None


def test_last_use_is_written_at_most_every_few_minutes(app, create_user):
    user = create_user()
    client = browser(app, user, FIREFOX_WINDOWS)
    with client.session_transaction() as flask_session:
        login_token = flask_session["_user_id"]
    (row,) = session_rows(app, user.id)
    first_seen = as_utc(row.last_seen_at)
    with app.app_context():
        sessions.load(login_token, now=first_seen + timedelta(minutes=4))
    assert as_utc(session_rows(app, user.id)[0].last_seen_at) == first_seen
    with app.app_context():
        sessions.load(login_token, now=first_seen + timedelta(minutes=6))
    assert as_utc(session_rows(app, user.id)[0].last_seen_at) == first_seen + timedelta(minutes=6)


def test_expired_sessions_are_pruned_when_someone_signs_in(app, create_user):
    old_user, new_user = create_user(), create_user()
    browser(app, old_user, FIREFOX_WINDOWS)
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    browser(app, new_user, FIREFOX_WINDOWS)
    assert session_rows(app, old_user.id) == []
    assert len(session_rows(app, new_user.id)) == 1


def test_the_device_label_is_short_and_keeps_no_full_user_agent():
    assert sessions.device_label(FIREFOX_WINDOWS) == "Firefox op Windows"
    assert sessions.device_label(CHROME_ANDROID) == "Chrome op Android"
    edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0"
    assert sessions.device_label(edge) == "Edge op Windows"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1"
    assert sessions.device_label(iphone) == "Safari op iPhone"
    assert sessions.device_label("python-requests/2.34") == "python-requests"
    assert sessions.device_label("") == "Onbekend apparaat"
    assert sessions.device_label(None) == "Onbekend apparaat"


def test_durations_read_as_dutch_hours_or_minutes():
    assert duration_nl(7200) == "2 uur"
    assert duration_nl(3600) == "1 uur"
    assert duration_nl(45 * 60) == "45 minuten"
    assert duration_nl(60) == "1 minuut"


# --- the session list, pruning and device labels (mutation testing, docs/testing.md) -------------------


def test_device_labels_name_what_the_user_agent_tells(app):
    assert sessions.device_label("Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/120.0") == "Firefox op Windows"
    assert sessions.device_label("Mozilla/5.0 Firefox/120.0") == "Firefox"  # browser only
    assert sessions.device_label("Mozilla/5.0 (X11; Linux x86_64)") == "Linux"  # system only
    assert sessions.device_label("Wget/1.21") == "Wget"  # a script: its first product token
    assert sessions.device_label("") == sessions.device_label(None) == "Onbekend apparaat"


def test_the_session_list_shows_times_and_ids_most_recently_used_first(app, create_user):
    user = create_user(email="anna@example.org")
    now = utcnow()
    with app.app_context():
        account = db.session.get(type(user), user.id)
        laptop_token = sessions.start(account, "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0")
        sessions.start(account, "Mozilla/5.0 (X11; Linux x86_64)")
        db.session.flush()
        laptop, phone = db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)).all()
        laptop.created_at, laptop.last_seen_at = now - timedelta(hours=3), now - timedelta(minutes=1)
        phone.created_at, phone.last_seen_at = now - timedelta(hours=2), now - timedelta(hours=1)
        db.session.flush()
        listed = sessions.list_for(account, laptop_token, now)
        signed_out_view = sessions.list_for(account, None, now)
    assert [(v.id, v.device, v.created_at, v.last_seen_at, v.current) for v in listed] == [
        (laptop.id, "Firefox op Windows", now - timedelta(hours=3), now - timedelta(minutes=1), True),
        (phone.id, "Linux", now - timedelta(hours=2), now - timedelta(hours=1), False),
    ]
    assert [v.current for v in signed_out_view] == [False, False]


def test_pruning_removes_sessions_past_their_lifetime_even_when_used_lately_and_counts_right(app, create_user):
    user = create_user(email="anna@example.org")
    now = utcnow()
    with app.app_context():
        account = db.session.get(type(user), user.id)
        assert sessions.prune_expired(now) == 0
        assert sessions.end_all(account) == 0
        sessions.start(account, None)
        db.session.flush()
        row = db.session.scalars(sa.select(LoginSession)).one()
        row.created_at = now - timedelta(seconds=app.config["PERMANENT_SESSION_LIFETIME"] + 60)
        row.last_seen_at = now
        db.session.flush()
        assert sessions.prune_expired(now) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0
