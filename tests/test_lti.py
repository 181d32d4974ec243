"""LTI 1.3 tool: platform registration, tool keys, and launches from a real LTI platform library
(lti1p3platform, tests/lti_platform.py) over HTTP. The app runs in Flask's test client; the platform's
JWKS and auth endpoint are a real HTTP server the tool calls."""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from course.extensions import db as _db
from course.lti import keys, platforms, scores
from course.models import (
    Attempt,
    AuditEvent,
    ExternalIdentity,
    Group,
    GroupMember,
    ItemAnalysisResult,
    LtiContext,
    LtiGradeLink,
    LtiLaunchValue,
    LtiPlatform,
    LtiScoreReport,
    OutboxMessage,
    OutboxStatus,
    Role,
    User,
)
from course.timeutil import utcnow
from course.trainer import stored_analysis
from tests.conftest import PASSWORD, AuthActions, csrf_token
from tests.lti_platform import CLIENT_ID, INSTRUCTOR, LEARNER, MENTOR, TestPlatform, rsa_pem_pair
from tests.quiz_helpers import complete_module, pass_quiz

TOOL = "https://hechtwijzer.test"  # TestConfig's PUBLIC_BASE_URL: the URLs a platform admin copies


@pytest.fixture(scope="module")
def platform_key():
    return rsa_pem_pair()


@pytest.fixture
def tool_keys(app, tmp_path):
    previous = app.config["LTI_KEY_DIR"]
    app.config["LTI_KEY_DIR"] = str(tmp_path / "lti_keys")
    with app.app_context():
        keys.rotate()
    yield tmp_path / "lti_keys"
    app.config["LTI_KEY_DIR"] = previous


def registered_platform(app, tool_base: str, platform_key):
    with TestPlatform(tool_base, platform_key) as platform:
        with app.app_context():
            details = platform.details()
            platforms.register(
                platforms.PlatformDetails(**{**details, "deployment_ids": [details["deployment_ids"]]}), None
            )
            _db.session.commit()
        yield platform


@pytest.fixture
def lms(app, tool_keys, platform_key):
    yield from registered_platform(app, TOOL, platform_key)


@pytest.fixture
def local_lms(app, tool_keys, platform_key):
    """The same platform talking to the test client's default host, where the quiz helpers work."""
    yield from registered_platform(app, "http://localhost", platform_key)


def start_launch(client, lms: TestPlatform, user_id: str = "lms-user-1"):
    """The browser: LMS → tool's login initiation → platform auth endpoint (HTTP) → the form to post."""
    response = client.get(lms.login_initiation_url(user_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    auth_request = response.headers["Location"]
    assert auth_request.startswith(f"{lms.base}/auth?")
    form = requests.get(auth_request, timeout=10).json()
    assert form["launch_url"] == f"{TOOL}/lti/launch"  # where the platform posts: always the public URL
    return form


def launch(client, lms: TestPlatform, user_id: str = "lms-user-1", **settings):
    lms.launch_settings = settings
    form = start_launch(client, lms, user_id)
    return client.post(f"{lms.tool_base}/lti/launch", data={"id_token": form["id_token"], "state": form["state"]})


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            "users": _db.session.scalar(sa.select(sa.func.count()).select_from(User)),
            "identities": _db.session.scalar(sa.select(sa.func.count()).select_from(ExternalIdentity)),
        }


def refusals(app) -> list[str]:
    with app.app_context():
        events = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "lti_launch_refused"))
        return [event.details["reason"] for event in events]


# --- keys and registration ---------------------------------------------------------------------------


def test_tool_keys_are_files_only_the_owner_reads_and_rotation_keeps_the_old_key_for_the_overlap(app, tool_keys):
    with app.app_context():
        first = keys.current()
        assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600
        second, removed = keys.rotate(now=first.created + 60)
        assert removed == []
        assert [k["kid"] for k in keys.jwks(now=first.created + 120)["keys"]] == [second.kid, first.kid]
        overlap = app.config["LTI_KEY_OVERLAP_HOURS"] * 3600
        third, removed = keys.rotate(now=second.created + overlap + 1)
        assert removed == [first.kid]  # retired longer than the overlap: gone from disk and JWKS
        assert not first.path.exists()
        assert [k["kid"] for k in keys.jwks(now=third.created)["keys"]] == [third.kid, second.kid]


def test_jwks_is_public_and_holds_no_private_part(client, tool_keys):
    response = client.get("/lti/jwks")
    assert response.status_code == 200
    (key,) = response.get_json()["keys"]
    assert key["alg"] == "RS256" and key["use"] == "sig" and key["kty"] == "RSA"
    assert "d" not in key and "p" not in key


def test_private_key_is_not_in_the_database(app, lms, tool_keys):
    with app.app_context():
        secret = keys.current().private_pem().splitlines()[1]
        with _db.engine.connect() as conn:
            for table in _db.metadata.sorted_tables:
                for row in conn.execute(sa.select(table)):
                    assert secret not in repr(tuple(row))


def test_admin_registers_a_platform_and_sees_what_to_copy(app, client, login_as, tool_keys, platform_key):
    login_as(Role.ADMIN)
    with TestPlatform(TOOL, platform_key) as lms:
        data = {**lms.details(), "csrf_token": csrf_token(client, "/beheer/lti/")}
        response = client.post("/beheer/lti/", data=data)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    for url in ("/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"{TOOL}{url}" in page
    with app.app_context():
        (row,) = _db.session.scalars(sa.select(LtiPlatform)).all()
        assert row.deployments == ["deployment-1"] and row.client_id == CLIENT_ID
        assert _db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.subject_type == "lti_platform"))


def test_a_registration_with_a_plain_http_url_is_refused_and_saves_nothing(app, client, login_as):
    login_as(Role.ADMIN)
    data = {
        "name": "LMS",
        "issuer": "http://lms.example.org",
        "client_id": "x",
        "deployment_ids": "1",
        "auth_login_url": "https://lms.example.org/auth",
        "auth_token_url": "https://lms.example.org/token",
        "key_set_url": "https://lms.example.org/jwks",
        "csrf_token": csrf_token(client, "/beheer/lti/"),
    }
    response = client.post("/beheer/lti/", data=data)
    assert response.status_code == 400
    assert "volledige https-URL" in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(LtiPlatform)) == 0


def test_cli_registers_a_platform_and_refuses_a_duplicate(app, runner):
    args = ["course", "lti-register", "--name", "Moodle", "--issuer", "https://moodle.example.org",
            "--client-id", "abc", "--deployment-id", "1", "--deployment-id", "2",
            "--auth-login-url", "https://moodle.example.org/mod/lti/auth.php",
            "--token-url", "https://moodle.example.org/mod/lti/token.php",
            "--jwks-url", "https://moodle.example.org/mod/lti/certs.php"]  # fmt: skip
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "al geregistreerd" in again.output
    with app.app_context():
        (row,) = _db.session.scalars(sa.select(LtiPlatform)).all()
        assert row.deployments == ["1", "2"]


def test_cli_rotates_keys(app, runner, tmp_path):
    app.config["LTI_KEY_DIR"], previous = str(tmp_path / "k"), app.config["LTI_KEY_DIR"]
    try:
        result = runner.invoke(args=["course", "lti-keys", "rotate"])
        assert result.exit_code == 0 and "Nieuwe sleutel" in result.output
        assert len(list((tmp_path / "k").glob("*.pem"))) == 1
    finally:
        app.config["LTI_KEY_DIR"] = previous


# --- launch ------------------------------------------------------------------------------------------


def test_first_launch_creates_a_linked_account_and_opens_the_module(app, client, lms):
    response = launch(client, lms, email="Lotte@LMS.example.org", name="Lotte de Vries")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.email == "lotte@lms.example.org"))
        assert user.display_name == "Lotte de Vries" and user.role is Role.LEARNER
        identity = _db.session.scalar(sa.select(ExternalIdentity))
        assert (identity.user_id, identity.source, identity.issuer, identity.subject) == (
            user.id, "lti", lms.issuer, "lms-user-1"
        )  # fmt: skip
    assert client.get(f"{TOOL}/account/profiel").status_code == 200  # signed in


def test_a_second_launch_signs_in_the_same_account_even_after_the_address_changed(app, client, lms):
    launch(client, lms)
    other = app.test_client()
    response = launch(other, lms, email="nieuw@lms.example.org")
    assert response.status_code == 302
    assert counts(app) == {"users": 1, "identities": 1}


def test_a_launch_opens_the_chosen_lesson_or_quiz(app, client, lms):
    response = launch(client, lms, custom={"resource": "lesson:inleiding"})
    assert response.headers["Location"] == "/lessen/inleiding"
    response = launch(app.test_client(), lms, custom={"resource": "quiz:kennischeck-inleiding"})
    assert response.headers["Location"] == "/toetsen/kennischeck-inleiding"


def test_an_instructor_becomes_a_trainer(app, client, lms):
    launch(client, lms, roles=INSTRUCTOR)
    with app.app_context():
        assert _db.session.scalar(sa.select(User.role)) is Role.TRAINER


def test_nonces_and_state_live_in_the_database_shared_by_all_workers(app, client, lms):
    lms.launch_settings = {}
    start_launch(client, lms)
    with app.app_context():
        keys_stored = _db.session.scalars(sa.select(LtiLaunchValue.key)).all()
    assert any("nonce" in key for key in keys_stored)


def test_the_login_cookies_are_samesite_none_and_secure_for_the_lms_iframe(client, lms):
    response = client.get(lms.login_initiation_url("lms-user-1"))
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("SameSite=None" in c and "Secure" in c for c in cookies)


def test_in_an_iframe_the_launch_offers_a_new_window_that_signs_in_once(app, client, lms):
    response = launch(client, lms, document_target="iframe")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {lms.base}" in csp
    assert "X-Frame-Options" not in response.headers
    page = response.get_data(as_text=True)
    assert 'target="_blank"' in page
    token = page.split('name="token" value="')[1].split('"')[0]
    window = app.test_client()
    opened = window.post(f"{TOOL}/lti/verder", data={"token": token})
    assert opened.status_code == 302 and opened.headers["Location"] == "/"
    again = app.test_client().post(f"{TOOL}/lti/verder", data={"token": token})
    assert again.status_code == 410
    assert "X-Frame-Options" in client.get(f"{TOOL}/").headers  # every other page stays unframable


# --- refused launches: a clear 4xx page, an audit entry, nothing created ------------------------------


def refused(app, response, status: int, reason: str, words: str) -> None:
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert refusals(app)[-1] == reason
    assert counts(app) == {"users": 0, "identities": 0}


def test_a_token_signed_with_another_key_is_refused(app, client, lms):
    forger_key, _ = rsa_pem_pair()
    refused(app, launch(client, lms, sign_with=forger_key), 400, "signature", "handtekening")


def test_a_token_for_another_tool_is_refused(app, client, lms):
    refused(app, launch(client, lms, claims={"aud": "another-tool"}), 403, "audience", "niet voor Hechtwijzer bedoeld")


def test_a_token_with_several_audiences_must_name_us_as_authorized_party(app, client, lms):
    response = launch(client, lms, claims={"aud": [CLIENT_ID, "another-tool"], "azp": "another-tool"})
    refused(app, response, 403, "audience", "niet voor Hechtwijzer bedoeld")


def test_a_replayed_launch_is_refused(app, client, lms):
    lms.launch_settings = {}
    form = start_launch(client, lms)
    data = {"id_token": form["id_token"], "state": form["state"]}
    assert client.post(f"{TOOL}/lti/launch", data=data).status_code == 302
    before = counts(app)
    replay = client.post(f"{TOOL}/lti/launch", data=data)
    assert replay.status_code == 400 and "al gebruikt" in replay.get_data(as_text=True)
    assert refusals(app) == ["nonce"] and counts(app) == before


def test_an_expired_token_is_refused(app, client, lms):
    refused(app, launch(client, lms, expires_in=-60), 400, "expired", "verlopen")


def test_an_unknown_deployment_is_refused(app, client, lms):
    response = launch(client, lms, claims={"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "elsewhere"})
    refused(app, response, 403, "deployment", "deployment-ID")


def test_a_role_the_module_does_not_serve_is_refused(app, client, lms):
    refused(app, launch(client, lms, roles=MENTOR), 403, "role", "alleen cursisten en docenten")


def test_a_launch_without_the_state_cookie_is_refused(app, client, lms):
    lms.launch_settings = {}
    form = start_launch(client, lms)
    stranger = app.test_client()
    response = stranger.post(f"{TOOL}/lti/launch", data={"id_token": form["id_token"], "state": form["state"]})
    refused(app, response, 400, "state", "browsersessie")


def test_a_launch_from_an_unregistered_platform_is_refused(app, client, tool_keys, platform_key):
    with TestPlatform(TOOL, platform_key) as stranger:
        response = client.get(stranger.login_initiation_url("x"))
    refused(app, response, 403, "registration", "niet bij Hechtwijzer geregistreerd")


def test_garbage_instead_of_a_token_is_refused(app, client, lms):
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": "not.a.token", "state": "state-x"})
    assert response.status_code == 400 and refusals(app)
    assert counts(app) == {"users": 0, "identities": 0}


# --- an existing local account is linked only with proof ---------------------------------------------


def test_an_address_of_a_local_account_is_never_linked_without_its_password(app, client, lms, create_user):
    local = create_user(email="lotte@lms.example.org")
    response = launch(client, lms, custom={"resource": "quiz:eindtoets"}, **COURSE)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "wachtwoord van dat account" in page
    assert counts(app) == {"users": 1, "identities": 0}
    token = page.split('name="token" value="')[1].split('"')[0]
    wrong = client.post(f"{TOOL}/lti/koppelen", data={"token": token, "password": "niet-het-wachtwoord"})
    assert wrong.status_code == 400 and counts(app) == {"users": 1, "identities": 0}
    right = client.post(f"{TOOL}/lti/koppelen", data={"token": token, "password": PASSWORD})
    assert right.status_code == 302
    with app.app_context():
        identity = _db.session.scalar(sa.select(ExternalIdentity))
        assert identity.user_id == local.id
        # What the launch would have recorded is recorded now: where the test's score goes, the course.
        assert _db.session.scalar(sa.select(LtiGradeLink.user_id)) == local.id
        assert _db.session.scalar(sa.select(LtiContext.context_id)) == "course-1"
    assert right.headers["Location"] == "/toetsen/eindtoets"
    assert counts(app) == {"users": 1, "identities": 1}


# --- deep linking ------------------------------------------------------------------------------------


def test_a_teacher_places_a_test_and_the_platform_receives_a_signed_item_with_a_line_item(app, client, lms):
    page = launch(client, lms, roles=INSTRUCTOR, deep_link=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wat plaats je in je cursus?" in html and "Les: " in html
    assert f"frame-ancestors 'self' {lms.base}" in page.headers["Content-Security-Policy"]
    token = html.split('name="token" value="')[1].split('"')[0]
    with app.app_context():
        quiz_id = next(q.id for q in app.extensions["catalog"].quizzes if q.kind.value != "formative")
    answer = client.post(f"{TOOL}/lti/deep-link", data={"token": token, "resource": f"quiz:{quiz_id}"})
    assert answer.status_code == 200
    assert f"form-action 'self' {lms.base}" in answer.headers["Content-Security-Policy"]
    body = answer.get_data(as_text=True)
    assert f'action="{lms.base}/deep-link-return"' in body
    jwt = body.split('name="JWT" value="')[1].split('"')[0]
    (item,) = lms.receive_deep_link(jwt, client.get(f"{TOOL}/lti/jwks").get_json())
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{TOOL}/lti/launch"
    assert item["custom"] == {"resource": f"quiz:{quiz_id}"}
    assert item["lineItem"]["scoreMaximum"] == 100
    assert item["lineItem"]["resourceId"] == f"quiz:{quiz_id}" and item["lineItem"]["label"].startswith("Toets: ")
    assert counts(app) == {"users": 0, "identities": 0}  # placing content signs nobody in
    again = client.post(f"{TOOL}/lti/deep-link", data={"token": token, "resource": "module"})
    assert again.status_code == 410  # one answer per deep-linking launch


def test_a_lesson_is_placed_without_a_line_item(app, client, lms):
    html = launch(client, lms, roles=INSTRUCTOR, deep_link=True).get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    body = client.post(f"{TOOL}/lti/deep-link", data={"token": token, "resource": "lesson:inleiding"})
    jwt = body.get_data(as_text=True).split('name="JWT" value="')[1].split('"')[0]
    (item,) = lms.receive_deep_link(jwt, client.get(f"{TOOL}/lti/jwks").get_json())
    assert "lineItem" not in item and item["custom"] == {"resource": "lesson:inleiding"}


def test_a_learner_cannot_place_content(app, client, lms):
    refused(app, launch(client, lms, deep_link=True), 403, "placement", "Alleen docenten")


def test_an_unknown_choice_is_refused(app, client, lms):
    html = launch(client, lms, roles=INSTRUCTOR, deep_link=True).get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    response = client.post(f"{TOOL}/lti/deep-link", data={"token": token, "resource": "quiz:bestaat-niet"})
    assert response.status_code == 404 and refusals(app)[-1] == "resource"


# --- scores back to the LMS (AGS), through the outbox ------------------------------------------------


LINEITEMS = "https://lms.example.org/lineitems"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def ags_claims(resource_link: dict | None = None, **endpoint) -> dict:
    """A launch's claims as the tool reads them: who, which placement, and where its score may go."""
    return {
        "sub": "lms-user-1",
        scores.RESOURCE_LINK: {"id": "resource-1"} if resource_link is None else resource_link,
        scores.AGS: {
            "scope": [LINEITEM_SCOPE, scores.SCORE_SCOPE],
            "lineitem": f"{LINEITEMS}/1",
            "lineitems": LINEITEMS,
        }
        | endpoint,
    }


def grade_links() -> list[tuple]:
    return [
        (
            link.resource_link_id,
            link.module_id,
            link.resource,
            link.platform_user_id,
            link.lineitem_url,
            link.lineitems_url,
            link.scopes,
            link.updated_at.replace(tzinfo=UTC),
        )
        for link in _db.session.scalars(sa.select(LtiGradeLink).order_by(LtiGradeLink.id))
    ]


def test_a_launch_remembers_where_the_score_goes_only_for_a_scored_placement(app, lms, create_user, monkeypatch):
    learner_id = create_user().id
    clock = {"at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC)}
    monkeypatch.setattr(scores, "utcnow", lambda: clock["at"])
    with app.app_context():
        platform = _db.session.scalar(sa.select(LtiPlatform))

        def remember(resource: str, claims: dict) -> None:
            scores.remember_grade_link(learner_id, platform, "hechtwijzer", resource, claims)

        # No score to send: a lesson, a platform that grants no score scope or no AGS, a launch without a placement.
        remember("lesson:inleiding", ags_claims())
        remember("quiz:eindtoets", ags_claims(scope=[LINEITEM_SCOPE]))
        remember("quiz:eindtoets", ags_claims(scope=None))
        remember("quiz:eindtoets", {key: value for key, value in ags_claims().items() if key != scores.AGS})
        remember("quiz:eindtoets", ags_claims(resource_link={}))
        remember("quiz:eindtoets", ags_claims(resource_link={"id": ""}))
        assert grade_links() == []

        remember("quiz:eindtoets", ags_claims())
        first = ("resource-1", "hechtwijzer", "quiz:eindtoets", "lms-user-1", f"{LINEITEMS}/1", LINEITEMS)
        scopes = [LINEITEM_SCOPE, scores.SCORE_SCOPE]
        assert grade_links() == [(*first, scopes, clock["at"])]

        # The same placement launched again, now without a line item of its own: the one row follows it.
        clock["at"] += timedelta(days=1)
        remember("module", ags_claims(lineitem=None, scope=[scores.SCORE_SCOPE]))
        changed = ("resource-1", "hechtwijzer", "module", "lms-user-1", None, LINEITEMS)
        assert grade_links() == [(*changed, [scores.SCORE_SCOPE], clock["at"])]

        # A placement id longer than the 255 characters LTI allows is kept cut, and found again by its cut.
        overlong = {"id": "r" * 300}
        remember("quiz:eindtoets", ags_claims(resource_link=overlong))
        remember("quiz:eindtoets", ags_claims(resource_link=overlong, lineitem=f"{LINEITEMS}/2"))
        assert [(link[0], link[4]) for link in grade_links()] == [("resource-1", None), ("r" * 255, f"{LINEITEMS}/2")]


def test_each_learner_and_each_platform_keep_their_own_link_to_one_placement(app, lms, create_user):
    """Placement ids are only unique per platform, and a whole class launches the same placement."""
    first_id, second_id = create_user().id, create_user().id
    with app.app_context():
        details = lms.details() | {"issuer": "https://ander-lms.example.org", "deployment_ids": ["deployment-2"]}
        other = platforms.register(platforms.PlatformDetails(**details), None)
        platform = _db.session.scalar(sa.select(LtiPlatform).where(LtiPlatform.id != other.id))
        for learner_id, where, sub in ((first_id, platform, "a"), (second_id, platform, "b"), (first_id, other, "c")):
            claims = ags_claims() | {"sub": sub}
            scores.remember_grade_link(learner_id, where, "hechtwijzer", "quiz:eindtoets", claims)
        links = _db.session.execute(
            sa.select(LtiGradeLink.user_id, LtiGradeLink.platform_id, LtiGradeLink.platform_user_id).order_by(
                LtiGradeLink.id
            )
        ).all()
        assert [tuple(link) for link in links] == [
            (first_id, platform.id, "a"),
            (second_id, platform.id, "b"),
            (first_id, other.id, "c"),
        ]


def queued_scores() -> list[tuple]:
    """Per score waiting for the sender: its placement, what it says, and its outbox row."""
    found = []
    for report, link, row in _db.session.execute(
        sa.select(LtiScoreReport, LtiGradeLink, OutboxMessage)
        .join(LtiGradeLink, LtiGradeLink.id == LtiScoreReport.grade_link_id)
        .join(OutboxMessage, OutboxMessage.id == LtiScoreReport.outbox_id)
        .order_by(LtiScoreReport.id)
    ):
        assert row.recipient == f"lti-score:{report.id}"  # the row names its report, not the learner
        found.append(
            (
                link.resource_link_id,
                report.module_id,
                report.score_given,
                report.score_maximum,
                report.activity_progress,
                report.grading_progress,
                report.scored_at.replace(tzinfo=UTC),
                (row.kind, row.topic, row.module_id, row.subject, row.body_text, row.status, row.attempts),
                row.next_attempt_at.replace(tzinfo=UTC),
            )
        )
    return found


def test_a_score_is_queued_for_every_placement_of_what_was_finished(app, lms, create_user):
    learner_id, classmate_id = create_user().id, create_user().id
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        platform = _db.session.scalar(sa.select(LtiPlatform))
        for link_id, resource in (("toets-a", "quiz:eindtoets"), ("toets-b", "quiz:eindtoets"), ("module", "module")):
            claims = ags_claims(resource_link={"id": link_id})
            scores.remember_grade_link(learner_id, platform, "hechtwijzer", resource, claims)
        # A classmate launched the same test: their line item gets no score of ours.
        scores.remember_grade_link(classmate_id, platform, "hechtwijzer", "quiz:eindtoets", ags_claims() | {"sub": "b"})
        assert scores.report_attempt(learner_id, "andere-toets", 50, now) == 0  # placed nowhere
        assert scores.report_attempt(learner_id, "eindtoets", 72.5, now) == 2
        assert scores.report_module_completed(learner_id, now + timedelta(minutes=1)) == 1
        _db.session.commit()

        def waiting(resource: str) -> tuple:
            return ("lti_score", "lti.score", "hechtwijzer", resource, "", OutboxStatus.PENDING, 0)

        later = now + timedelta(minutes=1)
        assert queued_scores() == [
            ("toets-a", "hechtwijzer", 72.5, 100.0, "Completed", "FullyGraded", now, waiting("quiz:eindtoets"), now),
            ("toets-b", "hechtwijzer", 72.5, 100.0, "Completed", "FullyGraded", now, waiting("quiz:eindtoets"), now),
            ("module", "hechtwijzer", 100.0, 100.0, "Completed", "FullyGraded", later, waiting("module"), later),
        ]


def send_scores(app, when=None):
    from course import outbox

    with app.app_context():
        return outbox.send_due(scores.KIND, now=when)


def score_rows(app):
    with app.app_context():
        return _db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == scores.KIND)).all()


def test_a_finished_final_test_reaches_the_line_item_once_even_when_the_platform_was_down(
    app, client, local_lms, caplog
):
    caplog.set_level(logging.INFO, logger="course.lti.scores")
    assert launch(client, local_lms, custom={"resource": "quiz:eindtoets"}).status_code == 302
    local_lms.registration.set_tool_key_set(client.get("/lti/jwks").get_json())
    finished = pass_quiz(app, client, "eindtoets")
    assert finished.status_code == 302
    (row,) = score_rows(app)
    assert row.status is OutboxStatus.PENDING  # written with the attempt, posted by the sender

    local_lms.down = True
    report = send_scores(app)
    assert (report.sent, report.retrying) == (0, 1) and local_lms.scores == []
    (row,) = score_rows(app)
    assert row.status is OutboxStatus.PENDING and row.last_error and row.next_attempt_at > row.created_at
    assert send_scores(app).handled == 0  # backing off: not due yet

    local_lms.down = False
    assert send_scores(app, when=utcnow() + timedelta(hours=1)).sent == 1
    (score,) = local_lms.scores
    with app.app_context():
        report_id = _db.session.scalar(sa.select(LtiScoreReport.id))
    assert f"LTI-score {report_id} verstuurd" in caplog.messages  # by its report's number: no personal data
    assert score["lineitem"] == "1" and score["userId"] == "lms-user-1"
    assert score["scoreGiven"] == 100 and score["scoreMaximum"] == 100
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["timestamp"]
    assert send_scores(app, when=utcnow() + timedelta(days=1)).handled == 0
    assert len(local_lms.scores) == 1  # nothing posted twice


def test_completing_the_module_posts_to_a_line_item_found_or_made_by_resource_id(app, client, local_lms):
    launch(client, local_lms, custom={"resource": "module"}, lineitem=None)
    local_lms.registration.set_tool_key_set(client.get("/lti/jwks").get_json())
    with app.app_context():
        _db.session.execute(sa.update(User).values(email_verified_at=utcnow()))  # certificates need it
        _db.session.commit()
    complete_module(app, client)
    client.get("/")  # the dashboard issues the certificate once everything is done
    assert send_scores(app).sent >= 1
    module_scores = [s for s in local_lms.scores if local_lms.lineitems[s["lineitem"]].get("resourceId") == "module"]
    assert [s["scoreGiven"] for s in module_scores] == [100]
    # The line item made for it is what the teacher sees in the gradebook: named after the module, out of 100.
    (made,) = [item for item in local_lms.lineitems.values() if item.get("resourceId") == "module"]
    assert (made["label"], made["scoreMaximum"]) == ("module", 100)


def a_pending_score(app, client, lms) -> None:
    """A finished final test of a launched learner: one score row waiting for the sender."""
    assert launch(client, lms, custom={"resource": "quiz:eindtoets"}).status_code == 302
    lms.registration.set_tool_key_set(client.get("/lti/jwks").get_json())
    assert pass_quiz(app, client, "eindtoets").status_code == 302
    assert len(score_rows(app)) == 1


def test_a_platform_that_never_answers_does_not_hang_the_sender(app, client, local_lms, monkeypatch):
    """pylti1p3 calls the platform without a timeout; ours applies to every call (here the token request)."""
    a_pending_score(app, client, local_lms)
    monkeypatch.setattr(scores, "REQUEST_TIMEOUT_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        with app.app_context():
            _db.session.execute(
                sa.update(LtiPlatform).values(auth_token_url=f"http://127.0.0.1:{silent.getsockname()[1]}/token")
            )
            _db.session.commit()
        reports = []
        sender = threading.Thread(target=lambda: reports.append(send_scores(app)))
        sender.start()
        sender.join(timeout=30)  # a bound for a broken sender, not a wait: a working one is back in 0.5 s
        assert not sender.is_alive(), "the sender still waits for a platform that never answers"
    (report,) = reports
    assert (report.sent, report.retrying) == (0, 1)
    (row,) = score_rows(app)
    assert row.status is OutboxStatus.PENDING and row.last_error == "ReadTimeout"


def test_a_score_whose_report_was_erased_meanwhile_is_not_sent_and_the_log_says_why(app, client, local_lms, caplog):
    """An erasure between the sender's claim and its read leaves a row without its report."""
    a_pending_score(app, client, local_lms)
    with app.app_context():
        _db.session.execute(sa.update(OutboxMessage).values(recipient="lti-score:999999"))
        _db.session.commit()
    assert send_scores(app).retrying == 1 and local_lms.scores == []
    (row,) = score_rows(app)
    assert row.last_error == "LookupError"
    assert "LookupError: score report gone (learner erased)" in caplog.text.splitlines()  # the traceback's last line


def staff_browser(app, create_user, role: Role):
    browser = app.test_client()
    assert AuthActions(browser).login(create_user(role=role).email).status_code == 302
    return browser


def test_staff_see_per_learner_what_was_sent_failed_or_waits(app, client, local_lms, create_user):
    launch(client, local_lms, custom={"resource": "quiz:eindtoets"})
    local_lms.registration.set_tool_key_set(client.get("/lti/jwks").get_json())
    pass_quiz(app, client, "eindtoets")
    admin = staff_browser(app, create_user, Role.ADMIN)
    page = admin.get("/lti/scores").get_data(as_text=True)
    assert "Lotte LMS" in page and "in wachtrij" in page
    send_scores(app)
    assert "verstuurd" in admin.get("/lti/scores").get_data(as_text=True)


def test_a_trainer_sees_only_the_learners_of_their_own_groups(app, client, local_lms, create_user):
    launch(client, local_lms, custom={"resource": "quiz:eindtoets"})
    pass_quiz(app, client, "eindtoets")
    page = staff_browser(app, create_user, Role.TRAINER).get("/lti/scores")
    assert page.status_code == 200 and "Lotte LMS" not in page.get_data(as_text=True)


# --- the LMS course as a group (NRPS) ----------------------------------------------------------------

COURSE = {"context": "course-1"}


def group_members(app) -> tuple[str | None, list[str]]:
    with app.app_context():
        group = _db.session.scalar(sa.select(Group))
        if group is None:
            return None, []
        names = _db.session.scalars(
            sa.select(User.display_name).join(GroupMember, GroupMember.user_id == User.id).order_by(User.display_name)
        ).all()
        trainer = _db.session.get(User, group.trainer_id).display_name
        return trainer, list(names)


def test_the_lms_course_becomes_a_group_led_by_its_instructor(app, lms):
    launch(app.test_client(), lms, "learner-early", name="Eerste Cursist", email="eerst@lms.example.org", **COURSE)
    assert group_members(app) == (None, [])  # no trainer yet: no group yet
    launch(app.test_client(), lms, "teacher-1", roles=INSTRUCTOR, name="Docent Dirk", email="dirk@lms.example.org",
           **COURSE)  # fmt: skip
    launch(app.test_client(), lms, "learner-2", name="Tweede Cursist", email="twee@lms.example.org", **COURSE)
    assert group_members(app) == ("Docent Dirk", ["Tweede Cursist"])


def test_lti_sync_adds_linked_learners_and_removes_those_gone_keeping_their_work(app, client, local_lms, runner):
    launch(app.test_client(), local_lms, "learner-early", name="Eerste Cursist", email="eerst@lms.example.org",
           **COURSE)  # fmt: skip
    launch(app.test_client(), local_lms, "teacher-1", roles=INSTRUCTOR, name="Docent Dirk",
           email="dirk@lms.example.org", **COURSE)  # fmt: skip
    launch(client, local_lms, "learner-2", name="Tweede Cursist", email="twee@lms.example.org", **COURSE)
    pass_quiz(app, client, "eindtoets")
    # The trainer's item analysis of the group, stored while learner-2's attempt still counted.
    with app.app_context():
        group = _db.session.scalar(sa.select(Group))
        quiz = app.extensions["catalog"].quiz("eindtoets")
        stored_analysis.compute(_db.session, quiz, group.trainer_id, group.id, [group.id], utcnow())
        _db.session.commit()
    local_lms.registration.set_tool_key_set(client.get("/lti/jwks").get_json())
    local_lms.members = [
        {"user_id": "learner-early", "roles": LEARNER, "status": "Active"},
        {"user_id": "learner-2", "roles": LEARNER, "status": "Deleted"},
        {"user_id": "teacher-1", "roles": INSTRUCTOR, "status": "Active"},
    ]
    result = runner.invoke(args=["course", "lti-sync"])
    assert result.exit_code == 0, result.output
    assert "1 erbij, 1 eruit" in result.output
    assert group_members(app) == ("Docent Dirk", ["Eerste Cursist"])
    with app.app_context():
        left = _db.session.scalar(sa.select(User).where(User.display_name == "Tweede Cursist"))
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(Attempt.user_id == left.id))
        # Their attempt no longer counts for the group: the stored analysis is gone, the next view recomputes it.
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(ItemAnalysisResult)) == 0


def test_lti_sync_with_the_platform_down_changes_nothing(app, client, local_lms, runner):
    launch(app.test_client(), local_lms, "teacher-1", roles=INSTRUCTOR, name="Docent Dirk",
           email="dirk@lms.example.org", **COURSE)  # fmt: skip
    launch(client, local_lms, "learner-2", name="Tweede Cursist", email="twee@lms.example.org", **COURSE)
    local_lms.down = True
    result = runner.invoke(args=["course", "lti-sync"])
    assert result.exit_code == 1 and "niet bijgewerkt" in result.output
    assert group_members(app) == ("Docent Dirk", ["Tweede Cursist"])


def test_a_token_whose_body_is_not_an_object_is_refused(app, client, lms):
    lms.launch_settings = {}
    form = start_launch(client, lms)
    hostile = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.W10.c2ln"  # {"alg":"RS256","kid":"x"} . [] . sig
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": hostile, "state": form["state"]})
    refused(app, response, 400, "message", "onvolledig")
