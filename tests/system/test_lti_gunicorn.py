"""LTI 1.3 end to end over HTTP: a platform built on lti1p3platform launches the app under gunicorn
(2 workers), deep links into it, receives a score through the outbox and shares its roster. The
platform fetches the tool's JWKS from the running server; the tool fetches the platform's."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa

from config import BASE_DIR
from tests.lti_platform import DEPLOYMENT_ID, INSTRUCTOR, LEARNER, TestPlatform, rsa_pem_pair
from tests.system.harness import database_url, gunicorn, migrate, server_env, take_quiz

pytestmark = pytest.mark.system


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "course", *args],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def browser_launch(
    base: str, lms: TestPlatform, user_id: str, **settings
) -> tuple[requests.Session, requests.Response]:
    """A browser following the LMS: login initiation → platform auth endpoint → form post to the tool."""
    lms.launch_settings = settings
    browser = requests.Session()
    initiation = browser.get(lms.login_initiation_url(user_id), allow_redirects=False, timeout=30)
    assert initiation.status_code == 302, initiation.text
    form = browser.get(initiation.headers["Location"], timeout=30).json()
    launched = browser.post(
        f"{base}/lti/launch", data={"id_token": form["id_token"], "state": form["state"]}, allow_redirects=False,
        timeout=30,
    )  # fmt: skip
    return browser, launched


def test_launch_deep_link_scores_and_roster_against_gunicorn(tmp_path):
    url = database_url(tmp_path, "hechtwijzer_lti")
    env = server_env(url, tmp_path, LTI_KEY_DIR=str(tmp_path / "lti_keys"))
    migrate(env)
    assert flask(env, "lti-keys", "rotate").returncode == 0
    with gunicorn(env, workers=2) as server, TestPlatform(server.base, rsa_pem_pair()) as lms:
        details = lms.details()
        registered = flask(
            env, "lti-register", "--name", "Test-LMS", "--issuer", details["issuer"], "--client-id",
            details["client_id"], "--deployment-id", DEPLOYMENT_ID, "--auth-login-url", details["auth_login_url"],
            "--token-url", details["auth_token_url"], "--jwks-url", details["key_set_url"],
        )  # fmt: skip
        assert registered.returncode == 0, registered.stderr

        # Deep linking: the teacher places the final test; the platform checks our signature via our JWKS URL.
        teacher, picker = browser_launch(server.base, lms, "teacher-1", roles=INSTRUCTOR, deep_link=True,
                                         context="course-1", name="Docent Dirk", email="dirk@lms.example.org")  # fmt: skip
        assert picker.status_code == 200
        token = picker.text.split('name="token" value="')[1].split('"')[0]
        answer = teacher.post(f"{server.base}/lti/deep-link", data={"token": token, "resource": "quiz:eindtoets"})
        jwt = answer.text.split('name="JWT" value="')[1].split('"')[0]
        lms.registration.set_tool_key_set(requests.get(f"{server.base}/lti/jwks", timeout=30).json())
        (item,) = lms.receive_deep_link(jwt, lms.registration.get_tool_key_set())
        assert item["custom"] == {"resource": "quiz:eindtoets"} and item["lineItem"]["scoreMaximum"] == 100

        # The teacher opens the course once (their group is made), then a learner launches the test.
        _, opened = browser_launch(server.base, lms, "teacher-1", roles=INSTRUCTOR, context="course-1",
                                   name="Docent Dirk", email="dirk@lms.example.org")  # fmt: skip
        assert opened.status_code == 302
        learner, launched = browser_launch(server.base, lms, "learner-1", roles=LEARNER, context="course-1",
                                           custom={"resource": "quiz:eindtoets"})  # fmt: skip
        assert launched.status_code == 302 and launched.headers["Location"] == "/toetsen/eindtoets"
        assert learner.get(f"{server.base}/account/profiel", timeout=30).status_code == 200

        # The same launch again (another worker, perhaps): the nonce was used up in the shared database.
        replay = learner.post(f"{server.base}/lti/launch", data={"id_token": "x.y.z", "state": "state-x"}, timeout=30)
        assert replay.status_code == 400

        # Finishing the test writes the score to the outbox; the sender posts it once.
        statuses = take_quiz(learner, server.base, "eindtoets")
        assert statuses[-1] == 200, statuses
        sent = flask(env, "send-lti-scores")
        assert "Scores: 1 verstuurd" in sent.stdout, sent.stdout + sent.stderr
        (score,) = lms.scores
        assert score["userId"] == "learner-1" and score["scoreMaximum"] == 100
        assert "Scores: 0 verstuurd" in flask(env, "send-lti-scores").stdout

        # The LMS no longer lists the learner: the sync takes them out of the group, their attempt stays.
        lms.members = [{"user_id": "learner-1", "roles": LEARNER, "status": "Inactive"}]
        synced = flask(env, "lti-sync")
        assert synced.returncode == 0 and "0 erbij, 1 eruit" in synced.stdout, synced.stdout + synced.stderr
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM group_members")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM attempts WHERE status = 'finished'")).scalar() == 1
    engine.dispose()
