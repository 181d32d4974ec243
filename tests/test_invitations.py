"""Joining a group is the learner's choice (issue 10, finding 3): an invitation is a mail with a
single-use link, the same for every address; until the learner accepts, the trainer sees only
"uitgenodigd" and nothing of theirs."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.models import AuditEvent, GroupMember, Invitation, InvitationStatus, OutboxMessage, Role, User
from course.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token, link_in_mail, outbox_rows, plain_text
from tests.helpers import invite, new_group, post, text
from tests.quiz_helpers import attempt_id_from, complete, start

pytestmark = pytest.mark.usefixtures("app")


def flash_of(page: str) -> str:
    return re.search(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S).group(1).strip()


def members(app, group_id: int) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(GroupMember.user_id).where(GroupMember.group_id == group_id)))


def invitation(app, group_id: int, email: str) -> Invitation:
    with app.app_context():
        found = db.session.scalar(
            sa.select(Invitation).where(Invitation.group_id == group_id, Invitation.email == email)
        )
        db.session.expunge_all()
        return found


def answer(client, invitation_id: int, choice: str):
    return post(client, f"/uitnodigingen/{invitation_id}", {"answer": choice}, follow_redirects=True)


def finished_attempt(app, learner, quiz_id: str = "eindtoets") -> int:
    attempt_id = attempt_id_from(start(learner.client, quiz_id))
    complete(app, learner.client, attempt_id)
    return attempt_id


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Invitation, OutboxMessage, GroupMember)
        )


# --- the trainer learns nothing from inviting -----------------------------------------------


def test_the_invite_answer_is_the_same_for_every_kind_of_address(app, person, create_user):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    addresses = {
        "unknown": "niemand@example.org",
        "learner": create_user(Role.LEARNER).email,
        "trainer": create_user(Role.TRAINER).email,
        "admin": create_user(Role.ADMIN).email,
    }
    answers = {}
    for kind, email in addresses.items():
        before = counts(app)
        page = text(invite(trainer, group_id, email))
        answers[kind] = flash_of(page)
        after = counts(app)
        # One invitation and one mail each, nobody in the group.
        assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 1, 0), kind
    assert len(set(answers.values())) == 1, answers
    assert answers["learner"].startswith("De uitnodiging is verstuurd.")
    group_page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    for email in addresses.values():
        row = re.search(rf"<th scope=\"row\">{re.escape(email)}</th>\s*<td>([^<]*)</td>", group_page)
        assert row and row.group(1) == "verstuurd"


def test_the_csv_answer_is_the_same_for_every_kind_of_address(app, person, create_user):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    emails = ["niemand@example.org", create_user(Role.LEARNER).email, create_user(Role.ADMIN).email]
    response = trainer.client.post(
        f"/trainer/groepen/{group_id}/csv",
        data={
            "csrf_token": csrf_token(trainer.client, "/"),
            "file": (io.BytesIO(("email\n" + "\n".join(emails)).encode()), "l.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    report = dict(re.findall(r'<th scope="row">([^<]*)</th><td>([^<]*)</td>', text(response)))
    assert report == dict.fromkeys(emails, "uitgenodigd")
    assert members(app, group_id) == set()
    assert len(outbox_rows(app)) == 3


def test_until_they_accept_the_trainer_sees_nothing_of_an_invited_learner(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Geheim")
    attempt_id = finished_attempt(app, learner)
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    base = f"/trainer/groepen/{group_id}"

    group_page = text(trainer.client.get(base))
    assert "Anna Geheim" not in group_page
    assert trainer.client.get(f"{base}/cursisten/{learner.id}").status_code == 404
    assert trainer.client.get(f"{base}/pogingen/{attempt_id}").status_code == 404
    assert "Anna Geheim" not in text(trainer.client.get(f"{base}/accreditatie.csv"))
    analysis = text(trainer.client.get(f"/trainer/toetsen/eindtoets/analyse?groep={group_id}"))
    assert "over 0 afgeronde pogingen." in analysis

    inv = invitation(app, group_id, learner.email)
    assert "Je bent lid van de groep" in text(answer(learner.client, inv.id, "accepteren"))
    assert members(app, group_id) == {learner.id}
    assert "Anna Geheim" in text(trainer.client.get(base))
    assert trainer.client.get(f"{base}/pogingen/{attempt_id}").status_code == 200
    assert "geaccepteerd" in text(trainer.client.get(base))
    analysis = text(trainer.client.get(f"/trainer/toetsen/eindtoets/analyse?groep={group_id}"))
    assert "over 1 afgeronde poging." in analysis


# --- the invitee answers -----------------------------------------------------------------------


def test_the_dashboard_lists_open_invitations_to_accept_or_decline(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    first, second = new_group(trainer, "Groep Een"), new_group(trainer, "Groep Twee")
    invite(trainer, first, learner.email)
    invite(trainer, second, learner.email)
    dashboard = text(learner.client.get("/"))
    assert "Uitnodigingen voor een groep" in dashboard
    assert "Tineke Trainer nodigt je uit voor de groep ‘Groep Een’" in dashboard
    assert "Tineke Trainer nodigt je uit voor de groep ‘Groep Twee’" in dashboard

    answer(learner.client, invitation(app, first, learner.email).id, "accepteren")
    page = text(answer(learner.client, invitation(app, second, learner.email).id, "afwijzen"))
    assert "Je hebt de uitnodiging voor de groep ‘Groep Twee’ afgewezen." in page
    assert members(app, first) == {learner.id} and members(app, second) == set()
    assert invitation(app, second, learner.email).status is InvitationStatus.DECLINED
    assert "afgewezen" in text(trainer.client.get(f"/trainer/groepen/{second}"))
    assert "Uitnodigingen voor een groep" not in text(learner.client.get("/"))
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject_id)
            .where(AuditEvent.action.like("invitation.%"))
            .where(AuditEvent.action != "invitation.send")
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("invitation.accept", learner.id, first),
        ("invitation.decline", learner.id, second),
    ]


def test_nobody_answers_someone_elses_invitation(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner, other = person(Role.LEARNER, "Anna"), person(Role.LEARNER, "Bert")
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    inv = invitation(app, group_id, learner.email)
    response = post(other.client, f"/uitnodigingen/{inv.id}", {"answer": "accepteren"})
    assert response.status_code == 404
    assert members(app, group_id) == set()
    assert invitation(app, group_id, learner.email).status is InvitationStatus.PENDING


@pytest.mark.parametrize("role", [Role.TRAINER, Role.ADMIN])
def test_a_staff_account_cannot_join_as_a_learner(app, person, role):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    staff = person(role, "Collega")
    group_id = new_group(trainer)
    invite(trainer, group_id, staff.email)
    page = text(answer(staff.client, invitation(app, group_id, staff.email).id, "accepteren"))
    assert "Een trainer- of beheerdersaccount kan niet als cursist aan een groep deelnemen." in page
    assert members(app, group_id) == set()
    assert invitation(app, group_id, staff.email).status is InvitationStatus.PENDING


# --- the mailed link -------------------------------------------------------------------------


def test_the_link_lets_a_new_person_register_with_the_address_and_then_accept(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer, "Pleegzorg Noord")
    invite(trainer, group_id, "Nieuwe.Cursist@Example.org")
    [mail] = outbox_rows(app)
    assert mail.recipient == "nieuwe.cursist@example.org"
    assert mail.subject == "Uitnodiging voor de groep Pleegzorg Noord in Hechtwijzer"
    path = link_in_mail(app, mail.recipient, "/uitnodiging/")

    client = app.test_client()
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/uitnodiging"  # token out of the URL
    page = text(client.get("/uitnodiging"))
    assert "nieuwe.cursist@example.org" in page and "Account aanmaken" in page
    registered = client.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_token(client, "/uitnodiging"),
            "display_name": "Nieuwe Cursist",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        follow_redirects=True,
    )
    page = text(registered)
    assert "Je account is aangemaakt" in page and "Accepteren" in page
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "nieuwe.cursist@example.org"))
    assert members(app, group_id) == set()  # not yet: joining is a choice
    assert len(outbox_rows(app)) == 1  # no second verification mail: the link proved the address

    inv = invitation(app, group_id, user.email)
    assert "Je bent lid van de groep ‘Pleegzorg Noord’" in text(answer(client, inv.id, "accepteren"))
    assert members(app, group_id) == {user.id}
    assert client.get(path).status_code == 404  # single use


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort", "minstens 10 tekens"),
        ("welkom123456", "datalekken"),
        ("nieuwecursist2024", "naam of e-mailadres"),
    ],
)
def test_registering_through_the_link_checks_the_password_like_registration(app, person, password, message):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    invite(trainer, new_group(trainer), "nieuwe.cursist@example.org")
    client = app.test_client()
    client.get(link_in_mail(app, "nieuwe.cursist@example.org", "/uitnodiging/"))
    response = client.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_token(client, "/uitnodiging"),
            "display_name": "Nieuwe Cursist",
            "password": password,
            "password_confirm": password,
        },
    )
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "nieuwe.cursist@example.org")) is None


def test_the_link_for_an_existing_account_asks_to_log_in_then_shows_the_choice(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    path = link_in_mail(app, learner.email, "/uitnodiging/")

    anonymous = app.test_client()
    page = text(anonymous.get(path, follow_redirects=True))
    assert "Er is al een account met dit adres" in page and "Account aanmaken" not in page

    # Signed in as the invited address: the accept/decline page.
    page = text(learner.client.get(path, follow_redirects=True))
    assert "Accepteren" in page and "Afwijzen" in page
    assert "ziet Tineke Trainer je voortgang" in page


def test_the_link_opened_by_another_account_gets_a_neutral_refusal(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner, other = person(Role.LEARNER, "Anna"), person(Role.LEARNER, "Bert")
    group_id = new_group(trainer)
    invite(trainer, group_id, learner.email)
    path = link_in_mail(app, learner.email, "/uitnodiging/")
    response = other.client.get(path, follow_redirects=True)
    assert response.status_code == 403
    assert "hoort niet bij het account waarmee je bent ingelogd" in text(response)
    assert learner.email not in text(response)
    assert members(app, group_id) == set()


def test_an_expired_or_tampered_link_is_refused(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    invite(trainer, group_id, "iemand@example.org")
    path = link_in_mail(app, "iemand@example.org", "/uitnodiging/")
    assert app.test_client().get(path[:-2]).status_code == 404
    with app.app_context():
        db.session.execute(sa.update(Invitation).values(token_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 410 and "verlopen" in text(response)


def test_sending_again_replaces_the_link(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    invite(trainer, group_id, "iemand@example.org")
    old = link_in_mail(app, "iemand@example.org", "/uitnodiging/")
    inv = invitation(app, group_id, "iemand@example.org")
    with app.app_context():  # later than the resend limit
        db.session.execute(sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=11)))
        db.session.commit()
    page = text(
        post(trainer.client, f"/trainer/groepen/{group_id}/uitnodigingen/{inv.id}/opnieuw", follow_redirects=True)
    )
    assert "De uitnodiging is verstuurd." in page
    new = link_in_mail(app, "iemand@example.org", "/uitnodiging/")
    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 302
    assert len(outbox_rows(app)) == 2


def test_registration_does_not_join_groups_by_itself(app, person):
    """Before, registering with an invited address joined the group at once."""
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    invite(trainer, group_id, "nieuw@example.org")
    client = app.test_client()
    client.post(
        "/registreren",
        data={
            "csrf_token": csrf_token(client, "/registreren"),
            "display_name": "Nieuw",
            "email": "nieuw@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    path = link_in_mail(app, "nieuw@example.org", "/registreren/bevestigen/")
    token = path.rsplit("/", 1)[-1]
    page = text(
        client.post(
            "/registreren/bevestigen",
            data={"token": token, "csrf_token": csrf_token(client, path)},
            follow_redirects=True,
        )
    )
    assert members(app, group_id) == set()
    assert "Tineke Trainer nodigt je uit" in page  # the dashboard offers the choice


def test_the_trainer_sees_whether_the_invitation_mail_went_out(app, person, smtp_server):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    invite(trainer, group_id, "iemand@example.org")
    row = re.compile(r'<th scope="row">iemand@example.org</th>\s*<td>([^<]*)</td>')
    assert row.search(text(trainer.client.get(f"/trainer/groepen/{group_id}"))).group(1) == "verstuurd"
    with app.app_context():
        from course import outbox

        outbox.send_due()
    assert row.search(text(trainer.client.get(f"/trainer/groepen/{group_id}"))).group(1) == "afgeleverd"
    [message] = smtp_server.messages
    assert "/uitnodiging/" in plain_text(message)


def test_export_lists_invitations_and_erasure_removes_them_with_their_mail(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer, "Groep Noord")
    invite(trainer, group_id, learner.email)
    exported = learner.client.get("/account/gegevens.json").get_json()
    assert [(i["group"], i["status"]) for i in exported["invitations"]] == [("Groep Noord", "pending")]

    post(learner.client, "/account/verwijderen", {"password": PASSWORD, "confirm": "y"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
