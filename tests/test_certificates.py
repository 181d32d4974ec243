"""Completion and certificates: issued once, a snapshot, verifiable in public, revocable."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
import sqlalchemy as sa

from course.certificates import codes
from course.certificates.completion import evaluate
from course.certificates.issuing import award_if_complete, since_last
from course.extensions import db
from course.formatting import nl_date
from course.models import AuditEvent, Certificate, CertificateStatus, Role, User
from course.timeutil import utcnow
from tests.conftest import csrf_token
from tests.quiz_helpers import (
    REQUIRED,
    catalog,
    complete_module,
    pass_quiz,
    read_all_lessons,
    with_policy,
)


def certificates(app) -> list[Certificate]:
    with app.app_context():
        found = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        db.session.expunge_all()
        return found


def pdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


# --- completion rules (pure) ---------------------------------------------------------


def test_completion_needs_every_lesson_and_every_required_test(app):
    cat = catalog(app)
    t = datetime(2026, 11, 1, 10, tzinfo=UTC)
    reads = {lesson.id: t for lesson in cat.lessons}
    assert not evaluate(cat, reads, {"eindtoets": [t]}).complete
    partial = evaluate(cat, {}, {q: [t] for q in REQUIRED})
    assert not partial.complete and partial.next_step.kind == "lesson"
    done = evaluate(cat, reads, {"eindtoets": [t + timedelta(days=2)], "casustoets": [t + timedelta(days=1)]})
    assert done.complete
    assert done.completed_at == t + timedelta(days=2)  # when the last requirement was met


def test_after_revocation_only_newer_passes_count(app):
    cat = catalog(app)
    t = datetime(2026, 11, 1, 10, tzinfo=UTC)
    reads = {lesson.id: t for lesson in cat.lessons}
    passes = {q: [t] for q in REQUIRED}
    assert not evaluate(cat, reads, passes, since=t + timedelta(hours=1)).complete
    passes["eindtoets"].append(t + timedelta(days=3))
    passes["casustoets"].append(t + timedelta(days=4))
    again = evaluate(cat, reads, passes, since=t + timedelta(hours=1))
    assert again.complete and again.completed_at == t + timedelta(days=4)


# --- issuing ---------------------------------------------------------------------------


def test_completing_the_module_issues_one_certificate_automatically(app, client, login_as):
    learner = login_as(Role.LEARNER)
    read_all_lessons(app, client)
    pass_quiz(app, client, "eindtoets")
    assert certificates(app) == []
    response = pass_quiz(app, client, "casustoets")
    assert "Gefeliciteerd" in client.get(response.headers["Location"]).get_data(as_text=True)
    issued = certificates(app)
    assert len(issued) == 1
    cert = issued[0]
    assert cert.user_id == learner.id and cert.learner_name == learner.display_name
    assert cert.status is CertificateStatus.VALID
    client.get("/")  # the dashboard checks again and must not issue a second one
    assert len(certificates(app)) == 1


def test_the_certificate_pdf_holds_name_module_code_and_accreditation(app, client, login_as):
    login_as(Role.LEARNER)
    complete_module(app, client)
    cert = certificates(app)[0]
    response = client.get(f"/certificaten/{cert.id}/certificaat.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    module = catalog(app).module
    assert cert.learner_name in text
    assert codes.display(cert.verification_code) in text
    assert module.title in text
    assert module.content_version in text
    assert module.accreditation.activity_id in text
    assert f"/verifieren/{cert.verification_code}" in text


def get_with_host(app, client, url: str, host: str):
    """GET `url` as the signed-in `client`, but with a Host header of the sender's choosing."""
    session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    other = app.test_client(use_cookies=False)
    return other.get(url, headers={"Host": host, "Cookie": f"{session_cookie.key}={session_cookie.value}"})


def test_the_printed_link_comes_from_public_base_url_never_from_the_host_header(app, client, login_as):
    login_as(Role.LEARNER)
    complete_module(app, client)
    cert = certificates(app)[0]
    response = get_with_host(app, client, f"/certificaten/{cert.id}/certificaat.pdf", "aanvaller.example")
    text = pdf_text(response.data)
    assert f"{app.config['PUBLIC_BASE_URL']}/verifieren/{cert.verification_code}" in text
    assert "aanvaller" not in text


def test_without_public_base_url_no_certificate_pdf_is_made(app, client, login_as, monkeypatch):
    login_as(Role.LEARNER)
    complete_module(app, client)
    cert = certificates(app)[0]
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    response = get_with_host(app, client, f"/certificaten/{cert.id}/certificaat.pdf", "aanvaller.example")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "PUBLIC_BASE_URL" in response.get_data(as_text=True)
    assert "aanvaller" not in response.get_data(as_text=True)


def test_issuing_is_idempotent_under_concurrency(app, client, login_as):
    learner = login_as(Role.LEARNER)
    complete_module(app, client)
    # Start over from "complete, no certificate yet" and let four requests race to issue it.
    with app.app_context():
        db.session.execute(sa.delete(Certificate))
        db.session.commit()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def issue():
        try:
            with app.app_context():
                user = db.session.get(User, learner.id)
                barrier.wait()
                award_if_complete(user, catalog(app), utcnow())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(certificates(app)) == 1


def test_verification_codes_are_random_160_bit_and_forgiving_to_type():
    code = codes.new_code()
    assert len(code) == 32 and codes.normalize(code) == code
    assert len({codes.new_code() for _ in range(1000)}) == 1000
    assert codes.normalize(codes.display(code).lower()) == code
    assert codes.normalize("ABCD") is None
    assert codes.normalize("<script>") is None


# --- who may download ------------------------------------------------------------------


def test_nobody_downloads_another_learners_certificate(app, client, auth, create_user):
    owner = create_user()
    auth.login(owner.email)
    complete_module(app, client)
    cert = certificates(app)[0]
    auth.logout()
    for role in (Role.LEARNER, Role.TRAINER):
        other = create_user(role=role)
        auth.login(other.email)
        assert client.get(f"/certificaten/{cert.id}/certificaat.pdf").status_code == 404
        assert cert.verification_code not in client.get("/certificaten").get_data(as_text=True)
        auth.logout()
    admin = create_user(role=Role.ADMIN)
    auth.login(admin.email)
    assert client.get(f"/certificaten/{cert.id}/certificaat.pdf").status_code == 200


# --- public verification ---------------------------------------------------------------


def test_the_verify_page_shows_only_name_module_date_and_status(app, client, login_as):
    learner = login_as(Role.LEARNER)
    complete_module(app, client)
    cert = certificates(app)[0]
    public = app.test_client()
    response = public.get(f"/verifieren/{codes.display(cert.verification_code)}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Geldig certificaat" in page
    assert cert.learner_name in page and cert.module_title in page
    assert nl_date(cert.completed_on) in page
    assert learner.email not in page
    assert "%" not in re.sub(r"<(style|link)[^>]*>", "", page.split("<main")[1])  # no scores
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_and_malformed_codes_get_the_same_answer(client):
    unknown = client.get(f"/verifieren/{codes.new_code()}")
    malformed = client.get("/verifieren/kapot!!")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.get_data(as_text=True) == malformed.get_data(as_text=True)


def test_the_verify_form_redirects_a_typed_code(client):
    code = codes.new_code()
    response = client.get("/verifieren", query_string={"code": codes.display(code).lower()})
    assert response.headers["Location"] == f"/verifieren/{code}"


def test_verification_is_rate_limited_per_client(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", 3)
    for _ in range(3):
        assert client.get(f"/verifieren/{codes.new_code()}").status_code == 404
    assert client.get(f"/verifieren/{codes.new_code()}").status_code == 429
    other_client = app.test_client()
    assert (
        other_client.get(f"/verifieren/{codes.new_code()}", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 404
    )


# --- revocation and reissue ------------------------------------------------------------


def revoke(client, certificate_id: int, reason: str):
    token = csrf_token(client, f"/beheer/certificaten/{certificate_id}")
    return client.post(f"/beheer/certificaten/{certificate_id}", data={"csrf_token": token, "reason": reason})


def test_an_admin_revokes_with_a_reason_and_the_verify_page_shows_it_at_once(app, client, auth, create_user):
    learner = create_user()
    auth.login(learner.email)
    complete_module(app, client)
    cert = certificates(app)[0]
    public = app.test_client()
    assert "Geldig certificaat" in public.get(f"/verifieren/{cert.verification_code}").get_data(as_text=True)
    auth.logout()
    admin = create_user(role=Role.ADMIN)
    auth.login(admin.email)
    assert "Geef een reden op" in revoke(client, cert.id, "").get_data(as_text=True)
    assert certificates(app)[0].status is CertificateStatus.VALID
    assert revoke(client, cert.id, "Fraude bij de eindtoets vastgesteld").status_code == 302
    assert "Ingetrokken certificaat" in public.get(f"/verifieren/{cert.verification_code}").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent)).one()
        assert (event.action, event.actor_id, event.subject_id) == ("certificate.revoke", admin.id, cert.id)
        assert event.details["reason"] == "Fraude bij de eindtoets vastgesteld"


def test_learners_and_trainers_cannot_revoke(app, client, auth, create_user):
    learner = create_user()
    auth.login(learner.email)
    complete_module(app, client)
    cert = certificates(app)[0]
    token = csrf_token(client, "/")
    assert (
        client.post(f"/beheer/certificaten/{cert.id}", data={"csrf_token": token, "reason": "zomaar"}).status_code
        == 403
    )
    assert certificates(app)[0].status is CertificateStatus.VALID


def test_after_revocation_a_new_pass_reissues_with_a_new_date_and_code(app, client, auth, create_user, monkeypatch):
    for quiz_id in REQUIRED:
        with_policy(app, monkeypatch, quiz_id, cooldown_minutes=0, max_attempts=5)
    learner = create_user()
    auth.login(learner.email)
    complete_module(app, client)
    first = certificates(app)[0]
    with app.app_context():
        db.session.execute(
            sa.update(Certificate).values(
                status=CertificateStatus.REVOKED,
                revoked_at=utcnow(),
                revoked_reason="test",
                completed_on=date(2026, 1, 5),
            )
        )
        db.session.commit()
    client.get("/")  # old passes no longer count: no automatic reissue
    assert len(certificates(app)) == 1
    for quiz_id in REQUIRED:
        pass_quiz(app, client, quiz_id)
    first_again, second = certificates(app)
    assert second.sequence == 2 and second.status is CertificateStatus.VALID
    assert second.verification_code != first.verification_code
    assert second.completed_on > first_again.completed_on
    assert first_again.status is CertificateStatus.REVOKED


def test_an_expired_certificate_shows_as_expired_and_a_new_pass_reissues(app, client, login_as, monkeypatch):
    for quiz_id in REQUIRED:
        with_policy(app, monkeypatch, quiz_id, cooldown_minutes=0, max_attempts=5)
    login_as(Role.LEARNER)
    complete_module(app, client)
    cert = certificates(app)[0]
    with app.app_context():
        db.session.execute(sa.update(Certificate).values(valid_until=date(2020, 1, 1)))
        # The passes happened before the expiry date in this story.
        db.session.execute(sa.text("UPDATE attempts SET finished_at = :t"), {"t": datetime(2019, 6, 1, tzinfo=UTC)})
        db.session.commit()
        assert since_last(db.session.scalars(sa.select(Certificate)).all()) is not None
    assert "Verlopen certificaat" in app.test_client().get(f"/verifieren/{cert.verification_code}").get_data(
        as_text=True
    )
    client.get("/")
    assert len(certificates(app)) == 1
    for quiz_id in REQUIRED:
        pass_quiz(app, client, quiz_id)
    assert [c.sequence for c in certificates(app)] == [1, 2]


def test_the_certificate_is_a_snapshot_of_the_data_at_issue_time(app, client, login_as):
    login_as(Role.LEARNER)
    token = csrf_token(client, "/account/profiel")
    client.post(
        "/account/profiel",
        data={
            "csrf_token": token,
            "display_name": "Anna de Vries",
            "register_name": "SKJ",
            "register_number": "100012345",
            "consent": "y",
        },
    )
    complete_module(app, client)
    cert = certificates(app)[0]
    token = csrf_token(client, "/account/profiel")
    client.post("/account/profiel", data={"csrf_token": token, "display_name": "Anna Jansen", "register_name": ""})
    page = app.test_client().get(f"/verifieren/{cert.verification_code}").get_data(as_text=True)
    assert "Anna de Vries" in page and "Anna Jansen" not in page
    text = pdf_text(client.get(f"/certificaten/{cert.id}/certificaat.pdf").data)
    assert "Anna de Vries" in text
    assert "SKJ-registratienummer 100012345" in text


# --- profile ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"register_name": "SKJ", "register_number": "100012345"}, "Zonder toestemming"),
        ({"register_name": "SKJ", "register_number": "", "consent": "y"}, "Vul je registratienummer in"),
        ({"register_name": "BIG", "register_number": "12ab", "consent": "y"}, "4 tot 12 cijfers"),
        ({"register_name": "", "register_number": "123456"}, "Kies het register"),
        ({"register_name": "NIP", "register_number": "123456", "consent": "y"}, "Kies een register uit de lijst"),
    ],
)
def test_a_register_number_needs_a_register_digits_and_consent(app, client, login_as, fields, message):
    learner = login_as(Role.LEARNER)
    token = csrf_token(client, "/account/profiel")
    response = client.post("/account/profiel", data={"csrf_token": token, "display_name": "X", **fields})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, learner.id)
        assert (user.register_name, user.register_number, user.display_name) == (None, None, learner.display_name)
