"""Who may reach which route: every (endpoint, method) in the app's url_map, for every role.

A new route fails test_every_route_has_an_access_expectation until it is added here.
"""

from __future__ import annotations

import pytest

from course.models import Role
from tests.conftest import csrf_token

ANON = "anonymous"
ROLES = [ANON, Role.LEARNER, Role.TRAINER, Role.ADMIN]
TO_LOGIN = "login"  # a redirect to the login page

# attempt 999999 exists for nobody: signed-in users get 404, never someone else's attempt.
URL_VALUES = {
    "lesson_id": "inleiding",
    "filename": "css/app.css",
    "quiz_id": "kennischeck-inleiding",
    "attempt_id": 999999,
    "certificate_id": 999999,
    "code": "ONBEKEND",
    "group_id": 999999,
    "user_id": 999999,
    "invitation_id": 999999,
    "token": "ONBEKEND",
    "slug": "onbekend",
    "provider_id": 999999,
    "domain_id": 999999,
    "platform_id": 999999,
}


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int, anonymous=TO_LOGIN) -> dict:
    return {ANON: anonymous, Role.LEARNER: status, Role.TRAINER: status, Role.ADMIN: status}


def staff_only(status: int) -> dict:
    return {ANON: TO_LOGIN, Role.LEARNER: 403, Role.TRAINER: status, Role.ADMIN: status}


def learners_only(status: int) -> dict:
    return {ANON: TO_LOGIN, Role.LEARNER: status, Role.TRAINER: 403, Role.ADMIN: 403}


def admins_only(status: int) -> dict:
    return {ANON: TO_LOGIN, Role.LEARNER: 403, Role.TRAINER: 403, Role.ADMIN: status}


EXPECTED: dict[tuple[str, str], dict] = {
    ("static", "GET"): everyone(200),
    ("health.healthz", "GET"): everyone(200),
    ("health.livez", "GET"): everyone(200),
    ("lessons.index", "GET"): everyone(200),
    ("lessons.glossary", "GET"): everyone(200),
    ("lessons.source", "GET"): everyone(200),
    ("lessons.references", "GET"): everyone(200),
    ("lessons.lesson", "GET"): signed_in(200),
    ("lessons.mark_read", "POST"): signed_in(302),
    # an empty reflection is refused on the lesson page (400); sharing needs a choice (ja/nee);
    # deleting when there is nothing to delete says so and goes back to the lesson
    ("lessons.save_reflection", "POST"): signed_in(400),
    ("lessons.share_reflection", "POST"): signed_in(400),
    ("lessons.delete_reflection", "POST"): signed_in(302),
    ("auth.login", "GET"): signed_in(302, anonymous=200),
    ("auth.login", "POST"): signed_in(302, anonymous=200),
    ("auth.register", "GET"): signed_in(302, anonymous=200),
    ("auth.register", "POST"): signed_in(302, anonymous=200),
    # registration links and invitation links: an unknown token (or none in the session) is 404 for anyone
    ("auth.confirm_registration", "GET"): everyone(404),
    ("auth.create_confirmed_account", "POST"): everyone(404),
    ("enrolment.invitation_link", "GET"): everyone(404),
    ("enrolment.invitation", "GET"): everyone(404),
    ("enrolment.invitation", "POST"): everyone(404),
    ("enrolment.answer_invitation", "POST"): signed_in(404),
    ("auth.logout", "POST"): everyone(302),
    # password reset by mail: signed-in users change their password instead; unknown link tokens are 404
    ("auth.forgot_password", "GET"): signed_in(302, anonymous=200),
    ("auth.forgot_password", "POST"): signed_in(302, anonymous=200),
    ("auth.reset_password_link", "GET"): everyone(404),
    ("auth.reset_password", "POST"): everyone(404),
    # address verification links work from any browser; an unknown token is 404
    ("auth.verify_email_link", "GET"): everyone(404),
    ("auth.verify_email", "POST"): everyone(404),
    # test accounts are verified: "already confirmed", back to the dashboard
    ("auth.resend_verification", "POST"): signed_in(302),
    # the empty form is refused
    ("auth.change_email", "GET"): signed_in(200),
    ("auth.change_email", "POST"): signed_in(400),
    # without a pending password step there is nothing to complete: back to the login page
    ("auth.second_step", "GET"): signed_in(302),
    ("auth.second_step", "POST"): signed_in(302),
    ("security.two_factor", "GET"): signed_in(200),
    # test admins already use two-step sign-in (required for them); the others send an empty form
    ("security.two_factor_enable", "POST"): {ANON: TO_LOGIN, Role.LEARNER: 400, Role.TRAINER: 400, Role.ADMIN: 302},
    ("security.two_factor_recovery_codes", "POST"): {
        ANON: TO_LOGIN,
        Role.LEARNER: 302,
        Role.TRAINER: 302,
        Role.ADMIN: 400,
    },
    # nothing to switch off for learners and trainers here; admins may not switch it off
    ("security.two_factor_disable", "POST"): signed_in(302),
    ("auth.second_step_passkey", "POST"): signed_in(302),
    # without two-step sign-in there is nothing to add a passkey to; the admins' empty form is refused
    ("security.passkey_add", "POST"): {ANON: TO_LOGIN, Role.LEARNER: 302, Role.TRAINER: 302, Role.ADMIN: 400},
    ("security.passkey_remove", "POST"): signed_in(400),
    ("security.session_list", "GET"): signed_in(200),
    ("security.end_session", "POST"): signed_in(400),
    # ending sessions asks for the password again: the empty form is refused
    ("security.end_other_sessions", "POST"): signed_in(400),
    ("auth.change_password", "GET"): signed_in(200),
    ("auth.change_password", "POST"): signed_in(200),
    ("quizzes.index", "GET"): signed_in(200),
    ("quizzes.detail", "GET"): signed_in(200),
    ("quizzes.start", "POST"): signed_in(302),
    ("quizzes.practise", "POST"): signed_in(302),
    ("quizzes.attempt", "GET"): signed_in(404),
    ("quizzes.save", "POST"): signed_in(404),
    ("quizzes.finish", "POST"): signed_in(404),
    ("quizzes.result", "GET"): signed_in(404),
    ("auth.profile", "GET"): signed_in(200),
    ("auth.profile", "POST"): signed_in(200),
    ("reminders.settings", "POST"): signed_in(302),  # saved (nothing ticked: reminders off), back to the profile
    ("certificates.mine", "GET"): signed_in(200),
    ("certificates.download", "GET"): signed_in(404),
    ("certificates.reissue_own", "POST"): signed_in(404),  # someone's own certificate only; none here
    ("certificates.verify", "GET"): everyone(200),
    ("certificates.verify_code", "GET"): everyone(404),
    ("admin.index", "GET"): admins_only(200),
    ("admin.certificates", "GET"): admins_only(200),
    ("admin.search_certificates", "POST"): admins_only(302),
    ("admin.certificate", "GET"): admins_only(404),
    ("admin.certificate", "POST"): admins_only(404),
    ("admin.correct_name", "POST"): admins_only(404),
    ("admin.users", "GET"): admins_only(200),
    ("admin.search_users", "POST"): admins_only(302),
    ("admin.user", "GET"): admins_only(404),
    ("admin.user", "POST"): admins_only(404),
    ("admin.erase_user", "POST"): admins_only(404),
    ("admin.temporary_password", "POST"): admins_only(404),
    ("admin.reset_two_factor", "POST"): admins_only(404),
    ("admin.audit_log", "GET"): admins_only(200),
    ("admin.outbox", "GET"): admins_only(200),
    ("auth.my_data", "GET"): signed_in(200),
    ("auth.my_data_json", "GET"): signed_in(200),
    # learners: the empty form is refused (400); staff accounts are erased by an admin (redirect)
    ("auth.erase_account", "POST"): {ANON: TO_LOGIN, Role.LEARNER: 400, Role.TRAINER: 302, Role.ADMIN: 302},
    ("enrolment.join", "GET"): learners_only(200),
    ("enrolment.join", "POST"): learners_only(200),
    ("trainer.index", "GET"): staff_only(200),
    ("trainer.create_group", "POST"): staff_only(302),
    ("trainer.item_analysis", "GET"): staff_only(200),
    # no stored result yet for this trainer: computed and stored, back to the page
    ("trainer.recompute_item_analysis", "POST"): staff_only(302),
    # someone else's (here: no one's) group does not exist for a trainer
    ("trainer.group", "GET"): staff_only(404),
    ("trainer.search_group", "POST"): staff_only(404),
    ("trainer.invite", "POST"): staff_only(404),
    ("trainer.upload_csv", "POST"): staff_only(404),
    ("trainer.resend_invitation", "POST"): staff_only(404),
    ("trainer.renew_code", "POST"): staff_only(404),
    ("trainer.assign", "POST"): staff_only(404),
    ("trainer.learner", "GET"): staff_only(404),
    ("trainer.grant_extra", "POST"): staff_only(404),
    ("trainer.reset_attempt", "POST"): staff_only(404),
    ("trainer.attempt_review", "GET"): staff_only(404),
    ("trainer.export_csv", "GET"): staff_only(404),
    ("trainer.export_xlsx", "GET"): staff_only(404),
    # sign-in with an organisation (course/sso): an unknown provider is 404; signed-in people are
    # sent on from the login button; without an identity waiting for a password, linking is 400
    ("sso.login", "GET"): signed_in(302, anonymous=404),
    ("sso.link", "GET"): signed_in(404),
    ("sso.callback", "GET"): everyone(404),
    ("sso.link_with_password", "GET"): everyone(400),
    ("sso.link_with_password", "POST"): everyone(400),
    ("sso.admin_index", "GET"): admins_only(200),
    ("sso.admin_new", "GET"): admins_only(200),
    ("sso.admin_new", "POST"): admins_only(400),
    ("sso.admin_provider", "GET"): admins_only(404),
    ("sso.admin_provider", "POST"): admins_only(404),
    ("sso.admin_delete", "POST"): admins_only(404),
    ("sso.admin_add_domain", "POST"): admins_only(404),
    ("sso.admin_remove_domain", "POST"): admins_only(404),
    # LTI 1.3: the platform's endpoints answer everyone; a bare request is refused with a clear page
    ("lti.jwks", "GET"): everyone(200),
    ("lti.login", "GET"): everyone(403),
    ("lti.login", "POST"): everyone(403),
    ("lti.launch_view", "POST"): everyone(400),
    ("lti.handoff", "POST"): everyone(410),
    ("lti.link_account", "POST"): everyone(410),
    ("lti.deep_link", "POST"): everyone(410),
    ("lti.score_reports", "GET"): staff_only(200),
    ("lti_admin.index", "GET"): admins_only(200),
    ("lti_admin.index", "POST"): admins_only(400),
    ("lti_admin.platform", "GET"): admins_only(404),
    ("lti_admin.platform", "POST"): admins_only(404),
}


def routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_an_access_expectation(app):
    assert routes(app) == set(EXPECTED), "add new routes to EXPECTED with the status per role"


def url_for_endpoint(app, endpoint: str) -> str:
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{arg: URL_VALUES[arg] for arg in rule.arguments})


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize(("endpoint", "method"), sorted(EXPECTED))
def test_route_access_per_role(app, client, login_as, endpoint, method, role):
    if role != ANON:
        login_as(role)
    url = url_for_endpoint(app, endpoint)
    if method == "GET":
        response = client.get(url)
    else:
        token = csrf_token(client, "/inloggen" if role == ANON else "/account/wachtwoord")
        response = client.open(url, method=method, data={"csrf_token": token})
    response.close()
    expected = EXPECTED[(endpoint, method)][role]
    if expected == TO_LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/inloggen")
    else:
        assert response.status_code == expected
