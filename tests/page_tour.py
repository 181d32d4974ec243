"""A walk over every page type, for every role, in the states people meet them in (issue 14).

`build_tour(app)` makes a trainer with a group, a learner who finished the module (certificate),
a learner halfway (open attempts in knowledge check 1, the final test and the case test at its
second stage), a learner at a case stage with a matching question, an admin, and the mailed links a visitor opens. It returns
who sees which paths. The HTML check (tests/test_html_valid.py) and the phone layout check
(tests/e2e/test_phone_layout.py) both walk it. A new GET route fails `test_every_page_type_is_toured`
until it is added to the tour (or, for a download, to NOT_HTML; for a step of the LTI or OpenID
Connect protocol, to PROTOCOL_STEPS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask

from course.extensions import db
from course.models import Attempt, Certificate, LtiPlatform, OidcProvider, Role
from tests.conftest import PASSWORD, AuthActions, Person, csrf_token, link_in_mail, sign_in
from tests.helpers import add_members, assign, due, new_group, post
from tests.quiz_helpers import (
    answer_fields,
    attempt_id_from,
    complete_module,
    load_attempt,
    post_attempt,
    read_all_lessons,
    start,
)

ANON = "anonymous"

# Responses that are not HTML pages: downloads, data and probes.
NOT_HTML = {
    "static",
    "health.healthz",
    "health.livez",
    "auth.my_data_json",
    "certificates.download",
    "trainer.export_csv",
    "trainer.export_xlsx",
    "lti.jwks",  # JSON for LMS platforms
}
# Steps of a protocol with a partner system, not pages: each answers with a redirect to (or from) the LMS
# or the organisation's sign-in, or with a refusal page when called bare. The one page among them that a
# person reads, "koppelen met wachtwoord", exists only halfway through an organisation sign-in against a
# live provider: tests/test_oidc_sign_in.py covers it.
PROTOCOL_STEPS = {"lti.login", "sso.login", "sso.callback", "sso.link", "sso.link_with_password"}


@dataclass
class Tour:
    """Paths per role (ANON or a Role), each with the endpoint it shows; the accounts to sign in with."""

    pages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def add(self, role: str, endpoint: str, path: str) -> None:
        self.pages.setdefault(role, []).append((endpoint, path))

    def endpoints(self) -> set[str]:
        return {endpoint for paths in self.pages.values() for endpoint, _ in paths}


def _open_attempt(app: Flask, learner: Person, quiz_id: str, stages: int = 0) -> int:
    response = start(learner.client, quiz_id)
    assert response.status_code == 302, response.status_code
    attempt_id = attempt_id_from(response)
    for _ in range(stages):
        assert post_attempt(learner.client, attempt_id, "next", answer_fields(app, attempt_id)).status_code == 302
    return attempt_id


def _case_attempt_with_matching(app: Flask, create_user) -> tuple[Person, int]:
    """A learner in the case test, at the first stage that asks a matching question (the widest kind).

    Cases are drawn (seeded per test): learners are added until one's draw holds a matching question."""
    quiz = app.extensions["catalog"].quiz("casustoets")
    for number in range(1, 21):
        learner = _person(app, create_user, Role.LEARNER, f"Casus Cursist {number}")
        attempt_id = _open_attempt(app, learner, "casustoets")
        _, items = load_attempt(app, attempt_id)
        pages = sorted({item.page for item in items if quiz.question(item.question_id).type == "matching"})
        if pages:
            for _ in range(pages[0]):
                response = post_attempt(learner.client, attempt_id, "next", answer_fields(app, attempt_id))
                assert response.status_code == 302
            return learner, attempt_id
    raise AssertionError("no case draw with a matching question in 20 learners")


def _send_form(client, path: str, data: dict) -> None:
    """Post a form as someone who is not signed in (the CSRF token of that page)."""
    client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def _person(app: Flask, create_user, role: Role, name: str) -> Person:
    user = create_user(role=role, name=name)
    return Person(user, sign_in(app, user))


def build_tour(app: Flask, create_user) -> Tour:
    catalog = app.extensions["catalog"]
    tour = Tour()
    trainer = _person(app, create_user, Role.TRAINER, "Tom Trainer")
    admin = _person(app, create_user, Role.ADMIN, "Ada Beheer")
    done = _person(app, create_user, Role.LEARNER, "Sanne de Vries")
    halfway = _person(app, create_user, Role.LEARNER, "Mohammed El Amrani")
    group_id = new_group(trainer)
    add_members(trainer, group_id, done, halfway)
    assign(trainer, group_id, due(14))

    complete_module(app, done.client)
    formative = catalog.quizzes[0].id
    read_all_lessons(app, halfway.client)
    open_ids = {
        quiz_id: _open_attempt(app, halfway, quiz_id, stages=1 if quiz_id == "casustoets" else 0)
        for quiz_id in ("kennischeck-inleiding", "eindtoets", "casustoets")
    }
    with app.app_context():
        finished = db.session.scalars(
            sa.select(Attempt.id).where(Attempt.user_id == done.id).order_by(Attempt.id)
        ).all()
        certificate = db.session.scalars(sa.select(Certificate).where(Certificate.user_id == done.id)).one()
        certificate_id, code = certificate.id, certificate.verification_code

    # Anonymous visitors, and the links mail brings them.
    for endpoint, path in [
        ("lessons.index", "/"),
        ("auth.login", "/inloggen"),
        ("auth.register", "/registreren"),
        ("auth.forgot_password", "/wachtwoord-vergeten"),
        ("lessons.glossary", "/woordenlijst"),
        ("lessons.source", "/bron"),
        ("lessons.references", "/bronnen"),
        ("certificates.verify", "/verifieren"),
        ("certificates.verify_code", f"/verifieren/{code}"),
    ]:
        tour.add(ANON, endpoint, path)
    visitor = app.test_client()
    _send_form(visitor, "/registreren", {
        "display_name": "Nieuwe Cursist", "email": "nieuw@example.org",
        "password": PASSWORD, "password_confirm": PASSWORD,
    })  # fmt: skip
    tour.add(ANON, "auth.confirm_registration", link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/"))
    _send_form(visitor, "/wachtwoord-vergeten", {"email": done.email})
    tour.add(ANON, "auth.reset_password_link", link_in_mail(app, done.email, "/wachtwoord-herstellen/"))
    post(trainer.client, f"/trainer/groepen/{group_id}/uitnodigen", {"email": "uitgenodigd@example.org"})
    invitation = link_in_mail(app, "uitgenodigd@example.org", "/uitnodiging/")
    tour.add(ANON, "enrolment.invitation_link", invitation)  # redirects to the invitation page itself
    tour.add(ANON, "enrolment.invitation", invitation)

    # Learners: the halfway one mid-test, the other with results and a certificate.
    post(halfway.client, "/account/e-mailadres", {"new_email": "nieuw-adres@example.org", "password": PASSWORD})
    tour.add(
        Role.LEARNER, "auth.verify_email_link", link_in_mail(app, "nieuw-adres@example.org", "/e-mailadres/bevestigen/")
    )
    tour.emails[Role.LEARNER] = halfway.email
    learner_pages = [
        ("lessons.index", "/"),
        ("lessons.glossary", "/woordenlijst"),
        *(("lessons.lesson", f"/lessen/{lesson.id}") for lesson in catalog.lessons),
        ("quizzes.index", "/toetsen"),
        *(("quizzes.detail", f"/toetsen/{quiz.id}") for quiz in catalog.quizzes),
        *(("quizzes.attempt", f"/pogingen/{attempt_id}") for attempt_id in open_ids.values()),
        ("certificates.mine", "/certificaten"),
        ("enrolment.join", "/groep-aansluiten"),
        ("auth.profile", "/account/profiel"),
        ("auth.change_email", "/account/e-mailadres"),
        ("auth.change_password", "/account/wachtwoord"),
        ("auth.my_data", "/account/gegevens"),
        ("security.session_list", "/account/sessies"),
        ("security.two_factor", "/account/tweestapsverificatie"),
    ]
    for endpoint, path in learner_pages:
        tour.add(Role.LEARNER, endpoint, path)
    tour.emails["finished learner"] = done.email
    for endpoint, path in [
        ("lessons.index", "/"),
        ("certificates.mine", "/certificaten"),
        *(("quizzes.result", f"/pogingen/{attempt_id}/resultaat") for attempt_id in finished),
    ]:
        tour.add("finished learner", endpoint, path)

    case_learner, case_attempt = _case_attempt_with_matching(app, create_user)
    tour.emails["learner in the case test"] = case_learner.email
    tour.add("learner in the case test", "quizzes.attempt", f"/pogingen/{case_attempt}")

    tour.emails[Role.TRAINER] = trainer.email
    for endpoint, path in [
        ("trainer.index", "/trainer/"),
        ("trainer.group", f"/trainer/groepen/{group_id}"),
        ("trainer.learner", f"/trainer/groepen/{group_id}/cursisten/{done.id}"),
        ("trainer.learner", f"/trainer/groepen/{group_id}/cursisten/{halfway.id}"),
        ("trainer.attempt_review", f"/trainer/groepen/{group_id}/pogingen/{finished[-1]}"),
        ("trainer.attempt_review", f"/trainer/groepen/{group_id}/pogingen/{open_ids['casustoets']}"),
        *(("trainer.item_analysis", f"/trainer/toetsen/{quiz_id}/analyse") for quiz_id in (formative, "eindtoets")),
        ("lessons.index", "/"),
        ("security.session_list", "/account/sessies"),
        ("lti.score_reports", "/lti/scores"),
    ]:
        tour.add(Role.TRAINER, endpoint, path)

    tour.emails[Role.ADMIN] = admin.email
    with app.app_context():  # an LMS platform and an organisation's sign-in, as an admin registers them
        platform = LtiPlatform(
            name="Moodle Zorgacademie",
            issuer="https://moodle.example.org",
            client_id="hechtwijzer",
            deployment_ids="1",
            auth_login_url="https://moodle.example.org/mod/lti/auth.php",
            auth_token_url="https://moodle.example.org/mod/lti/token.php",
            key_set_url="https://moodle.example.org/mod/lti/certs.php",
        )
        provider = OidcProvider(
            slug="zorggroep", name="Zorggroep Noord", discovery_url="https://login.example.org", client_id="hw"
        )
        db.session.add_all([platform, provider])
        db.session.commit()
        platform_id, provider_id = platform.id, provider.id
    for endpoint, path in [
        ("admin.index", "/beheer/"),
        ("admin.users", "/beheer/gebruikers"),
        ("admin.user", f"/beheer/gebruikers/{done.id}"),
        ("admin.certificates", "/beheer/certificaten"),
        ("admin.certificate", f"/beheer/certificaten/{certificate_id}"),
        ("admin.audit_log", "/beheer/logboek"),
        ("admin.outbox", "/beheer/uitgaande-mail"),
        ("security.two_factor", "/account/tweestapsverificatie"),
        ("lti_admin.index", "/beheer/lti/"),
        ("lti_admin.platform", f"/beheer/lti/{platform_id}"),
        ("sso.admin_index", "/beheer/organisaties"),
        ("sso.admin_new", "/beheer/organisaties/nieuw"),
        ("sso.admin_provider", f"/beheer/organisaties/{provider_id}"),
    ]:
        tour.add(Role.ADMIN, endpoint, path)
    # Halfway through an admin's sign-in: the code step.
    tour.add("admin signing in", "auth.second_step", "/inloggen/code")
    return tour


def client_for(app: Flask, tour: Tour, who: str):
    """A test client signed in as `who` (ANON: none; "admin signing in": password step only)."""
    if who == ANON:
        return app.test_client()
    if who == "admin signing in":
        client = app.test_client()
        token = csrf_token(client, "/inloggen")
        client.post("/inloggen", data={"email": tour.emails[Role.ADMIN], "password": PASSWORD, "csrf_token": token})
        return client
    client = app.test_client()
    response = AuthActions(client).login(tour.emails[who])
    assert response.status_code == 302
    return client
