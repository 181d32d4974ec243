"""Address verification (issue 12, item 5): a mailed link proves an address. Learning works without it;
a certificate is issued only to a verified address. A new address takes effect only once a link
mailed to it is followed, and asking for an address that has an account answers the same."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from course.auth import accounts, verification
from course.certificates.completion import may_receive_certificate
from course.extensions import db
from course.models import AccountToken, AuditEvent, Certificate, Role, User
from course.timeutil import utcnow
from tests.conftest import (
    PASSWORD,
    Person,
    confirm_registration,
    csrf_token,
    link_in_mail,
    outbox_rows,
    sign_in,
)
from tests.helpers import count, fetch, get, invitation_id, invite, new_group, post, text
from tests.quiz_helpers import complete_module

VERIFY_PREFIX = "/e-mailadres/bevestigen/"


def unverified_learner(app, create_user, email: str = "anna@example.org", name: str = "Anna Cursist") -> Person:
    user = create_user(email=email, name=name, verified=False)
    return Person(user, sign_in(app, user))


def verified_at(app, user_id: int):
    return get(app, User, user_id).email_verified_at


def follow_verification_link(client, path: str):
    """Open the mailed link and press the button on the page it shows."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(page)).group(1)
    return client.post(
        "/e-mailadres/bevestigen", data={"token": token, "csrf_token": csrf_token(client, path)}, follow_redirects=True
    )


def resend(learner: Person):
    return post(learner.client, "/account/e-mailadres/nieuwe-link")


def change_address(learner: Person, new_email: str, password: str = PASSWORD):
    return post(learner.client, "/account/e-mailadres", {"new_email": new_email, "password": password})


def move_clock(monkeypatch, **delta) -> None:
    monkeypatch.setattr("course.auth.views.utcnow", lambda: utcnow() + timedelta(**delta))


def certificates_of(app, user_id: int) -> list[Certificate]:
    return fetch(app, sa.select(Certificate).where(Certificate.user_id == user_id))


# --- which accounts start verified --------------------------------------------------------------


def test_the_rule_is_a_verified_address():
    assert may_receive_certificate(None) is False
    assert may_receive_certificate(utcnow()) is True


def test_a_self_registered_account_is_verified_by_its_confirmation_link(app, client):
    token = csrf_token(client, "/registreren")
    client.post(
        "/registreren",
        data={
            "display_name": "Nieuwe Cursist",
            "email": "nieuw@example.org",
            "password": "een lang wachtwoord",
            "password_confirm": "een lang wachtwoord",
            "csrf_token": token,
        },
    )
    confirm_registration(app, client, "nieuw@example.org")
    [user] = fetch(app, sa.select(User))
    assert user.email_verified_at is not None
    assert len(outbox_rows(app)) == 1  # no separate verification mail


def test_accepting_an_invitation_by_its_mailed_link_verifies_the_address(app, person, create_user):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = unverified_learner(app, create_user)
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    page = learner.client.get(link_in_mail(app, learner.email, "/uitnodiging/"), follow_redirects=True)
    assert "Accepteren" in text(page)
    assert verified_at(app, learner.id) is None  # opening the link is not yet an answer
    post(learner.client, f"/uitnodigingen/{invitation_id(app, group_id, learner.email)}", {"answer": "accepteren"})
    assert verified_at(app, learner.id) is not None


def test_accepting_from_the_dashboard_list_proves_nothing_about_the_address(app, person, create_user):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = unverified_learner(app, create_user)
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    post(learner.client, f"/uitnodigingen/{invitation_id(app, group_id, learner.email)}", {"answer": "accepteren"})
    assert verified_at(app, learner.id) is None


def test_an_account_made_on_the_command_line_gets_a_verification_mail(app, runner):
    result = runner.invoke(args=["course", "create-user", "--email", "Cli@Example.org", "--name", "Cli Cursist"])
    assert result.exit_code == 0, result.output
    assert "bevestigen staat klaar in de outbox" in result.output
    [user] = fetch(app, sa.select(User))
    assert user.email_verified_at is None
    [mail] = outbox_rows(app)
    assert (mail.recipient, mail.topic) == ("cli@example.org", "email.verify")
    assert VERIFY_PREFIX in mail.body_text


def test_demo_accounts_are_verified(app, runner):
    assert runner.invoke(args=["course", "seed-demo"]).exit_code == 0
    users = fetch(app, sa.select(User))
    assert users and all(user.email_verified_at is not None for user in users)
    assert outbox_rows(app) == []


# --- certificates wait for a verified address ----------------------------------------------------


def test_learning_works_but_the_certificate_waits_for_a_verified_address(app, create_user):
    learner = unverified_learner(app, create_user)
    complete_module(app, learner.client)
    assert certificates_of(app, learner.id) == []
    page = text(learner.client.get("/"))
    assert "Je certificaat wordt uitgegeven zodra je e-mailadres is bevestigd." in page
    assert "Stuur de link opnieuw" in page

    assert resend(learner).status_code == 302
    [mail] = outbox_rows(app, learner.email)
    assert mail.topic == "email.verify"
    follow_verification_link(learner.client, link_in_mail(app, learner.email, VERIFY_PREFIX))

    page = text(learner.client.get("/"))
    [certificate] = certificates_of(app, learner.id)
    assert "Je hebt de module afgerond." in page and "zodra je e-mailadres" not in page
    assert certificate.completed_on is not None


def test_a_certificate_already_issued_stays_valid_without_a_verified_address(app, create_user):
    learner = Person(create_user(email="anna@example.org"), None)
    learner.client = sign_in(app, learner.user)
    complete_module(app, learner.client)
    [certificate] = certificates_of(app, learner.id)
    with app.app_context():  # as after the migration: existing accounts start unverified
        db.session.execute(sa.update(User).values(email_verified_at=None))
        db.session.commit()
    page = text(learner.client.get("/"))
    assert "Je hebt de module afgerond." in page
    assert text(app.test_client().get(f"/verifieren/{certificate.verification_code}")).count("Geldig") >= 1


def test_the_dashboard_of_an_unverified_learner_says_so_before_completion(app, create_user):
    learner = unverified_learner(app, create_user)
    page = text(learner.client.get("/"))
    assert "Je e-mailadres is nog niet bevestigd. Leren kan gewoon" in page
    verified = Person(create_user(), None)
    assert "nog niet bevestigd" not in text(sign_in(app, verified.user).get("/"))


def test_sending_the_link_again_is_limited_per_account(app, create_user):
    learner = unverified_learner(app, create_user)
    limit = app.config["EMAIL_LINK_RATE_LIMIT"]
    for _ in range(limit):
        assert resend(learner).status_code == 302
    refused = resend(learner)
    assert refused.status_code == 429 and "Wacht een kwartier" in text(refused)
    assert len(outbox_rows(app, learner.email)) == limit


def test_only_the_newest_verification_link_works(app, create_user):
    learner = unverified_learner(app, create_user)
    resend(learner)
    first = link_in_mail(app, learner.email, VERIFY_PREFIX)
    resend(learner)
    second = link_in_mail(app, learner.email, VERIFY_PREFIX)
    assert learner.client.get(first).status_code == 404
    assert learner.client.get(second).status_code == 200


# --- the verification mail over SMTP ----------------------------------------------------------------


def test_the_verification_mail_arrives_over_smtp_and_its_link_verifies_once(app, runner, create_user, smtp_server):
    learner = unverified_learner(app, create_user)
    resend(learner)
    assert "1 verstuurd" in runner.invoke(args=["course", "send-mail"]).output
    [message] = smtp_server.messages
    assert message["To"] == "anna@example.org"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Subject"] == "Bevestig je e-mailadres bij Hechtwijzer"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert PASSWORD not in body and "Anna" not in body
    link = re.search(r"https://hechtwijzer\.test(/e-mailadres/bevestigen/\S+)", body).group(1)
    token = link.rsplit("/", 1)[-1]
    with app.app_context():
        assert token not in {row.token_hash for row in db.session.scalars(sa.select(AccountToken))}

    # Any browser may follow it (the mail may be opened on a phone that is not signed in).
    anonymous = app.test_client()
    page = text(follow_verification_link(anonymous, link))
    assert "Je e-mailadres is bevestigd" in page
    assert verified_at(app, learner.id) is not None
    again = anonymous.get(link)
    assert again.status_code == 404 and "ongeldig of al gebruikt" in text(again)
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "user.email_verified" in actions


def test_the_verification_link_expires(app, create_user, monkeypatch):
    learner = unverified_learner(app, create_user)
    resend(learner)
    link = link_in_mail(app, learner.email, VERIFY_PREFIX)
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    move_clock(monkeypatch, hours=hours - 1)
    assert learner.client.get(link).status_code == 200
    move_clock(monkeypatch, hours=hours + 1)
    expired = learner.client.get(link)
    assert expired.status_code == 410
    assert "verlopen" in text(expired) and "Vraag op je overzicht een nieuwe link aan" in text(expired)
    assert verified_at(app, learner.id) is None


@pytest.mark.parametrize("token", ["ONBEKEND", "x" * 300, "%00"])
def test_unknown_verification_tokens_get_a_dutch_page(client, token):
    response = client.get(f"{VERIFY_PREFIX}{token}")
    assert response.status_code == 404 and "Log in en vraag op je overzicht een nieuwe link aan" in text(response)
    posted = client.post(
        "/e-mailadres/bevestigen", data={"token": token, "csrf_token": csrf_token(client, "/inloggen")}
    )
    assert posted.status_code == 404


# --- changing the address -------------------------------------------------------------------------


def test_the_account_page_offers_to_change_the_address(app, person):
    learner = person(Role.LEARNER)
    assert 'href="/account/e-mailadres"' in text(learner.client.get("/account/profiel"))
    page = text(learner.client.get("/account/e-mailadres"))
    assert learner.email in page and "(bevestigd)" in page and 'for="new_email"' in page


def test_a_new_address_takes_effect_only_when_its_link_is_followed(app, person):
    learner = person(Role.LEARNER, "Anna Cursist", email="anna@example.org")
    response = change_address(learner, "Anna.Nieuw@Example.org")
    assert response.status_code == 200 and "anna.nieuw@example.org" in text(response)
    assert get(app, User, learner.id).email == "anna@example.org"  # not yet

    mails = {row.recipient: row for row in outbox_rows(app)}
    assert mails["anna@example.org"].topic == "email.change_notice"
    assert "anna.nieuw@example.org" not in mails["anna@example.org"].body_text
    assert mails["anna.nieuw@example.org"].topic == "email.change_confirm"
    assert "anna.nieuw@example.org" in text(learner.client.get("/account/e-mailadres"))  # waiting

    page = text(follow_verification_link(learner.client, link_in_mail(app, "anna.nieuw@example.org", VERIFY_PREFIX)))
    assert "Je e-mailadres is bevestigd" in page
    user = get(app, User, learner.id)
    assert user.email == "anna.nieuw@example.org" and user.email_verified_at is not None
    assert sign_in(app, user)  # the new address signs in
    old = app.test_client()
    refused = old.post(
        "/inloggen",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": csrf_token(old, "/inloggen")},
    )
    assert refused.status_code == 200  # the old one no longer does
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert {"user.email_change_requested", "user.email_changed"} <= set(actions)


def test_an_address_with_an_account_gets_the_same_answer_and_no_link(app, person, create_user):
    create_user(email="bezet@example.org")
    learner = person(Role.LEARNER, email="anna@example.org")
    taken = change_address(learner, "bezet@example.org")
    free = change_address(learner, "vrij@example.org")
    normalise = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')
    assert taken.status_code == free.status_code == 200
    assert normalise.sub("", text(taken)).replace("bezet@", "X@") == normalise.sub("", text(free)).replace(
        "vrij@", "X@"
    )
    [in_use] = outbox_rows(app, "bezet@example.org")
    assert in_use.topic == "email.change_in_use" and VERIFY_PREFIX not in in_use.body_text
    assert [row.topic for row in outbox_rows(app, "anna@example.org")] == ["email.change_notice"] * 2
    assert get(app, User, learner.id).email == "anna@example.org"


def test_a_wrong_password_changes_nothing_and_counts_as_a_failed_sign_in(app, person):
    learner = person(Role.LEARNER, email="anna@example.org")
    response = change_address(learner, "nieuw@example.org", password="niet mijn wachtwoord")
    assert response.status_code == 400 and "Dit wachtwoord klopt niet." in text(response)
    assert outbox_rows(app) == []
    assert count(app, AccountToken) == 0
    same = change_address(learner, "anna@example.org")
    assert same.status_code == 400 and "Dit is al het e-mailadres van je account." in text(same)


def test_the_address_taken_before_the_link_is_followed_is_not_given_twice(app, person, create_user):
    learner = person(Role.LEARNER, email="anna@example.org")
    change_address(learner, "nieuw@example.org")
    link = link_in_mail(app, "nieuw@example.org", VERIFY_PREFIX)
    create_user(email="nieuw@example.org")  # someone registered it in the meantime
    response = follow_verification_link(learner.client, link)
    assert response.status_code == 400 and "hoort inmiddels bij een ander account" in text(response)
    assert get(app, User, learner.id).email == "anna@example.org"
    assert learner.client.get(link).status_code == 404  # used up


def test_a_newer_change_voids_the_earlier_link_and_reset_links_to_the_old_address_stop(app, person):
    learner = person(Role.LEARNER, email="anna@example.org")
    client = app.test_client()
    client.post(
        "/wachtwoord-vergeten",
        data={"email": "anna@example.org", "csrf_token": csrf_token(client, "/wachtwoord-vergeten")},
    )
    reset = link_in_mail(app, "anna@example.org", "/wachtwoord-herstellen/")
    change_address(learner, "eerste@example.org")
    first = link_in_mail(app, "eerste@example.org", VERIFY_PREFIX)
    change_address(learner, "tweede@example.org")
    assert learner.client.get(first).status_code == 404
    follow_verification_link(learner.client, link_in_mail(app, "tweede@example.org", VERIFY_PREFIX))
    assert get(app, User, learner.id).email == "tweede@example.org"
    assert app.test_client().get(reset).status_code == 404


# --- what the change-of-address mails, the audit trail and the log say ---------------------------------


def test_each_change_of_address_mail_points_the_reader_on(app, person, create_user):
    create_user(email="bezet@example.org")
    learner = person(Role.LEARNER, email="anna@example.org")
    change_address(learner, "vrij@example.org")
    change_address(learner, "bezet@example.org")
    # The old address: "not you? choose a new password".
    assert link_in_mail(app, "anna@example.org", "/wachtwoord-vergeten") == "/wachtwoord-vergeten"
    # The address that already has an account: "sign in with it".
    assert link_in_mail(app, "bezet@example.org", "/inloggen") == "/inloggen"
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    assert f"De link werkt {hours} uur en één keer." in outbox_rows(app, "vrij@example.org")[-1].body_text


def test_a_change_request_is_audited_as_the_owners_and_a_refused_one_is_logged(app, person, create_user, caplog):
    caplog.set_level(logging.INFO, logger="course.auth.verification")
    create_user(email="bezet@example.org")
    learner = person(Role.LEARNER, email="anna@example.org")
    change_address(learner, "vrij@example.org")
    with app.app_context():
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "user.email_change_requested")
        ).all()
        assert (event.actor_id, event.subject_type, event.subject_id) == (learner.id, "user", learner.id)
    change_address(learner, "bezet@example.org")
    logged = [r.getMessage() for r in caplog.records if r.name == "course.auth.verification"]
    assert logged == [f"Adreswijziging door account {learner.id} naar een adres met een account: niets gewijzigd"]


def test_links_of_one_kind_leave_the_other_kind_and_other_accounts_alone(app, create_user, monkeypatch):
    """A new verification link voids only earlier ones for the account's own address, a new change
    of address only earlier ones for other addresses, and neither touches another account's links.
    The first account made has a pending change of its own, so this account's id is not 1."""
    monkeypatch.setitem(app.config, "EMAIL_LINK_RATE_LIMIT", 10)  # four links for one account here
    first = create_user(email="eerste@example.org")
    first_client = sign_in(app, first)
    post(first_client, "/account/e-mailadres", {"new_email": "eerste@nieuw.example", "password": PASSWORD})
    learner = unverified_learner(app, create_user)
    assert learner.id != 1
    resend(learner)
    verify = link_in_mail(app, learner.email, VERIFY_PREFIX)
    change_address(learner, "anna@nieuw.example")
    change = link_in_mail(app, "anna@nieuw.example", VERIFY_PREFIX)
    resend(learner)
    newest_verify = link_in_mail(app, learner.email, VERIFY_PREFIX)
    assert learner.client.get(verify).status_code == 404  # only the newest verification link works
    assert learner.client.get(change).status_code == 200  # a new verification link left the change alone
    change_address(learner, "anna@nieuwer.example")
    assert learner.client.get(change).status_code == 404  # only the newest change works
    follow_verification_link(learner.client, newest_verify)
    assert verified_at(app, learner.id) is not None  # the change request left it working
    follow_verification_link(learner.client, link_in_mail(app, "anna@nieuwer.example", VERIFY_PREFIX))
    assert get(app, User, learner.id).email == "anna@nieuwer.example"
    follow_verification_link(first_client, link_in_mail(app, "eerste@nieuw.example", VERIFY_PREFIX))
    assert get(app, User, first.id).email == "eerste@nieuw.example"  # the other account's link still worked


def test_verifying_the_own_address_is_audited_and_logged_and_leaves_a_pending_change(
    app, create_user, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="course.auth.verification")
    monkeypatch.setitem(app.config, "EMAIL_LINK_RATE_LIMIT", 10)
    learner = unverified_learner(app, create_user)
    resend(learner)
    verify = link_in_mail(app, learner.email, VERIFY_PREFIX)
    assert f"De link werkt {app.config['EMAIL_VERIFICATION_HOURS']} uur en één keer." in (
        outbox_rows(app, learner.email)[-1].body_text
    )
    change_address(learner, "anna@nieuw.example")
    change = link_in_mail(app, "anna@nieuw.example", VERIFY_PREFIX)
    follow_verification_link(learner.client, verify)
    assert verified_at(app, learner.id) is not None
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.email_verified")).all()
        assert (event.actor_id, event.subject_type, event.subject_id) == (learner.id, "user", learner.id)
    logged = [r.getMessage() for r in caplog.records if r.name == "course.auth.verification"]
    assert f"E-mailadres van account {learner.id} bevestigd" in logged
    assert learner.client.get(change).status_code == 200  # the change of address still waits


def test_after_a_change_links_to_the_old_address_stop_and_other_accounts_keep_theirs(
    app, create_user, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="course.auth.verification")
    first = create_user(email="eerste@example.org")
    first_client = sign_in(app, first)
    post(first_client, "/account/e-mailadres", {"new_email": "eerste@nieuw.example", "password": PASSWORD})
    learner = unverified_learner(app, create_user)
    resend(learner)
    old_verify = link_in_mail(app, learner.email, VERIFY_PREFIX)
    change_address(learner, "anna@nieuw.example")
    follow_verification_link(learner.client, link_in_mail(app, "anna@nieuw.example", VERIFY_PREFIX))
    assert get(app, User, learner.id).email == "anna@nieuw.example"
    # Followed now, the old address's link would have moved the account back to it.
    assert learner.client.get(old_verify).status_code == 404
    assert get(app, User, learner.id).email == "anna@nieuw.example"
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.email_changed")).all()
        assert (event.actor_id, event.subject_type, event.subject_id) == (learner.id, "user", learner.id)
    logged = [r.getMessage() for r in caplog.records if r.name == "course.auth.verification"]
    assert f"E-mailadres van account {learner.id} gewijzigd na bevestiging van het nieuwe adres" in logged
    follow_verification_link(first_client, link_in_mail(app, "eerste@nieuw.example", VERIFY_PREFIX))
    assert get(app, User, first.id).email == "eerste@nieuw.example"


def test_a_verification_link_leaves_a_password_reset_link_working_and_is_no_reset_link(app, create_user):
    learner = unverified_learner(app, create_user)
    client = app.test_client()
    client.post(
        "/wachtwoord-vergeten",
        data={"email": learner.email, "csrf_token": csrf_token(client, "/wachtwoord-vergeten")},
    )
    reset = link_in_mail(app, learner.email, "/wachtwoord-herstellen/")
    resend(learner)
    assert app.test_client().get(reset).status_code == 200
    token = reset.rsplit("/", 1)[-1]
    assert learner.client.get(VERIFY_PREFIX + token).status_code == 404


def test_the_link_of_a_deactivated_account_does_not_work(app, create_user):
    learner = unverified_learner(app, create_user)
    resend(learner)
    link = link_in_mail(app, learner.email, VERIFY_PREFIX)
    with app.app_context():
        db.session.get(User, learner.id).active = False
        db.session.commit()
    assert app.test_client().get(link).status_code == 404
    assert verified_at(app, learner.id) is None


def test_an_address_taken_by_a_request_just_after_the_check_is_refused_with_a_message(app, person, monkeypatch):
    """The other request gives the address to a new account between the check and the change: the
    unique index refuses the change, and the learner gets the same Dutch message as when it was
    taken earlier (not a server error)."""
    learner = person(Role.LEARNER, email="anna@example.org")
    change_address(learner, "nieuw@example.org")
    link = link_in_mail(app, "nieuw@example.org", VERIFY_PREFIX)
    checked = verification.find_user_by_email

    def check_then_the_other_request(email):
        found = checked(email)
        if email == "nieuw@example.org":
            accounts.create_user(email, "Ander Account", PASSWORD, Role.LEARNER)
        return found

    monkeypatch.setattr(verification, "find_user_by_email", check_then_the_other_request)
    response = follow_verification_link(learner.client, link)
    assert response.status_code == 400 and "hoort inmiddels bij een ander account" in text(response)
    assert get(app, User, learner.id).email == "anna@example.org"


def test_the_account_page_shows_only_the_own_new_address_while_its_link_works(app, create_user, monkeypatch):
    first = create_user(email="eerste@example.org")
    post(sign_in(app, first), "/account/e-mailadres", {"new_email": "eerste@nieuw.example", "password": PASSWORD})
    learner = unverified_learner(app, create_user)
    resend(learner)  # a link to the own address is no change waiting
    page = text(learner.client.get("/account/e-mailadres"))
    assert "wacht een wijziging" not in page and "eerste@nieuw.example" not in page
    change_address(learner, "anna@nieuw.example")
    assert "anna@nieuw.example" in text(learner.client.get("/account/e-mailadres"))
    move_clock(monkeypatch, hours=app.config["EMAIL_VERIFICATION_HOURS"], minutes=1)
    assert "wacht een wijziging" not in text(learner.client.get("/account/e-mailadres"))
