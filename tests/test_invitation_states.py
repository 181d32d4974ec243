"""The trainer sees per invitation what became of it (verstuurd, afgeleverd, mislukt, geaccepteerd,
afgewezen, verlopen), derived in one SQL statement; an invitation is mailed again at most every
INVITATION_RESEND_MINUTES; the mail that arrives over SMTP carries a link that works in the app."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from course import outbox
from course.extensions import db
from course.models import GroupMember, Invitation, InvitationStatus, OutboxMessage, OutboxStatus, Role
from course.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token, outbox_rows, plain_text
from tests.helpers import invite, new_group, post, statements_during, text

pytestmark = pytest.mark.usefixtures("app")
STATE_RE = re.compile(r'<th scope="row">([^<]+)</th>\s*<td>([^<]*)</td>')


def states(trainer, group_id: int) -> dict[str, str]:
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    section = page[page.index("<caption>Uitnodigingen") :]
    return dict(STATE_RE.findall(section))


def invitation_of(app, email: str) -> Invitation:
    with app.app_context():
        found = db.session.scalar(sa.select(Invitation).where(Invitation.email == email))
        db.session.expunge_all()
        return found


def set_mail(app, email: str, **values) -> None:
    """Change the outbox row of the invitation to `email` (as the sender would have)."""
    with app.app_context():
        outbox_id = db.session.scalar(sa.select(Invitation.outbox_id).where(Invitation.email == email))
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values))
        db.session.commit()


def age_mails(app, minutes: int) -> None:
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=minutes)))
        db.session.commit()


def database_state(app) -> tuple:
    with app.app_context():
        return (
            sorted(db.session.execute(sa.select(Invitation.email, Invitation.token_hash, Invitation.outbox_id)).all()),
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
        )


def test_the_trainer_sees_what_became_of_each_invitation(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    accepting, declining = person(Role.LEARNER, "Anna"), person(Role.LEARNER, "Bert")
    group_id = new_group(trainer)
    for email in ("wacht@example.org", "bezorgd@example.org", "fout@example.org", "oud@example.org"):
        invite(trainer, group_id, email)
    invite(trainer, group_id, accepting.email)
    invite(trainer, group_id, declining.email)
    set_mail(app, "bezorgd@example.org", status=OutboxStatus.SENT)
    set_mail(app, "fout@example.org", status=OutboxStatus.FAILED)
    with app.app_context():
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.email == "oud@example.org")
            .values(token_expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    post(accepting.client, f"/uitnodigingen/{invitation_of(app, accepting.email).id}", {"answer": "accepteren"})
    post(declining.client, f"/uitnodigingen/{invitation_of(app, declining.email).id}", {"answer": "afwijzen"})

    assert states(trainer, group_id) == {
        "wacht@example.org": "verstuurd",
        "bezorgd@example.org": "afgeleverd",
        "fout@example.org": "mislukt",
        "oud@example.org": "verlopen",
        accepting.email: "geaccepteerd",
        declining.email: "afgewezen",
    }
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    # Everything but an accepted invitation can be sent again.
    assert page.count("Opnieuw versturen<span") == 5
    assert f'Opnieuw versturen<span class="visually-hidden"> naar {accepting.email}' not in page


def test_the_invitation_list_costs_the_same_statements_for_one_or_thirty(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    counts = {}
    for size in (1, 30):
        group_id = new_group(trainer, f"Groep {size}")
        for i in range(size):
            invite(trainer, group_id, f"c{i}@example.org")
        set_mail(app, "c0@example.org", status=OutboxStatus.SENT)
        url = f"/trainer/groepen/{group_id}"
        responses: list = []
        statements = statements_during(app, lambda u=url, r=responses: r.append(trainer.client.get(u)))
        assert responses[0].status_code == 200
        assert len(states(trainer, group_id)) == size
        counts[size] = len(statements)
    assert counts[1] == counts[30], counts


def test_sending_again_within_the_limit_sends_nothing_and_changes_nothing(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    invite(trainer, group_id, "iemand@example.org")
    inv = invitation_of(app, "iemand@example.org")
    before = database_state(app)

    page = text(
        post(trainer.client, f"/trainer/groepen/{group_id}/uitnodigingen/{inv.id}/opnieuw", follow_redirects=True)
    )
    assert "Niet opnieuw verstuurd: de uitnodiging is net verstuurd; opnieuw kan over 10 minuten.</p>" in page
    page = text(invite(trainer, group_id, "iemand@example.org"))  # the same address in the form again
    assert "Niet uitgenodigd: de uitnodiging is net verstuurd; opnieuw kan over 10 minuten.</p>" in page
    assert database_state(app) == before

    age_mails(app, 11)
    page = text(
        post(trainer.client, f"/trainer/groepen/{group_id}/uitnodigingen/{inv.id}/opnieuw", follow_redirects=True)
    )
    assert "De uitnodiging is verstuurd." in page
    assert len(outbox_rows(app, "iemand@example.org")) == 2


def test_a_csv_uploaded_twice_mails_each_address_once(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    csv = b"email\na@example.org\nb@example.org\n"

    def upload():
        return post(
            trainer.client,
            f"/trainer/groepen/{group_id}/csv",
            {"file": (io.BytesIO(csv), "lijst.csv")},
            content_type="multipart/form-data",
        )

    assert text(upload()).count("<td>uitgenodigd</td>") == 2
    page = text(upload())
    assert "2 niet opnieuw verstuurd (net uitgenodigd)" in page
    assert page.count("<td>de uitnodiging is net verstuurd; opnieuw kan over 10 minuten</td>") == 2
    assert len(outbox_rows(app)) == 2


def link_path(message) -> str:
    [link] = re.findall(r"https?://\S+", plain_text(message))
    return urlsplit(link).path


def test_a_delivered_invitation_link_lets_a_new_person_register_and_join(app, person, smtp_server):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer, "Pleegzorg Noord")
    invite(trainer, group_id, "nieuw@example.org")
    with app.app_context():
        assert outbox.send_due().sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "nieuw@example.org"
    assert message["Subject"] == "Uitnodiging voor de groep Pleegzorg Noord in Hechtwijzer"
    path = link_path(message)

    browser = app.test_client()
    page = text(browser.get(path, follow_redirects=True))
    assert "E-mailadres: <strong>nieuw@example.org</strong> (bevestigd door de uitnodiging)" in page
    form = {"display_name": "Nina Nieuw", "password": PASSWORD, "password_confirm": PASSWORD}
    token = csrf_token(browser, "/uitnodiging")
    page = text(browser.post("/uitnodiging", data={"csrf_token": token, **form}, follow_redirects=True))
    assert "Je account is aangemaakt" in page
    inv = invitation_of(app, "nieuw@example.org")
    page = text(post(browser, f"/uitnodigingen/{inv.id}", {"answer": "accepteren"}, follow_redirects=True))
    assert "Je bent lid van de groep ‘Pleegzorg Noord’" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(GroupMember)) == 1
    assert app.test_client().get(path).status_code == 404  # single use
    assert states(trainer, group_id) == {"nieuw@example.org": "geaccepteerd"}


def test_a_delivered_invitation_link_lets_an_existing_learner_sign_in_and_join(app, person, smtp_server):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer, "Pleegzorg Noord")
    invite(trainer, group_id, learner.email)
    with app.app_context():
        outbox.send_due()
    [message] = smtp_server.messages
    path = link_path(message)

    browser = app.test_client()
    page = text(browser.get(path, follow_redirects=True))
    assert "Er is al een account met dit adres" in page and "Account aanmaken" not in page
    login = browser.post(
        "/inloggen",
        data={"csrf_token": csrf_token(browser, "/inloggen"), "email": learner.email, "password": PASSWORD},
        follow_redirects=True,
    )
    assert "Tineke Trainer nodigt je uit voor de groep ‘Pleegzorg Noord’" in text(login)
    inv = invitation_of(app, learner.email)
    post(browser, f"/uitnodigingen/{inv.id}", {"answer": "accepteren"})
    assert invitation_of(app, learner.email).status is InvitationStatus.ACCEPTED
    with app.app_context():
        assert db.session.scalars(sa.select(GroupMember.user_id)).all() == [learner.id]
