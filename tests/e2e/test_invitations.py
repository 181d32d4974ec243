"""An invited person answers an invitation in the browser: through the mailed link (registering on
the way) or from the dashboard; every page axe clean."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from course import outbox
from course.extensions import db
from course.models import GroupMember, Role, User
from course.trainer import groups
from tests.conftest import PASSWORD, link_in_mail, plain_text
from tests.e2e.axe import assert_axe_clean

pytestmark = pytest.mark.e2e


def invite(app: Flask, create_user, email: str, group_name: str = "Pleegzorg Noord") -> int:
    """A trainer's group and an invitation to `email` (as the trainer's invite form makes it)."""
    trainer = create_user(role=Role.TRAINER, name="Tineke Trainer")
    with app.test_request_context():
        trainer_row = db.session.get(User, trainer.id)
        group = groups.create_group(trainer_row, group_name)
        groups.invite(group, email, trainer_row)
        db.session.commit()
        return group.id


def members(app: Flask, group_id: int) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(GroupMember.user_id).where(GroupMember.group_id == group_id)))


def test_a_new_person_registers_through_the_link_and_accepts(page: Page, app: Flask, create_user) -> None:
    group_id = invite(app, create_user, "nieuw@example.org")
    page.goto(link_in_mail(app, "nieuw@example.org", "/uitnodiging/"))
    expect(page).to_have_url(re.compile(r"/uitnodiging$"))  # the token is out of the address bar
    expect(page.get_by_role("heading", level=1)).to_have_text("Uitnodiging voor de groep ‘Pleegzorg Noord’")
    expect(page.get_by_role("main")).to_contain_text("nieuw@example.org")
    assert_axe_clean(page, "invitation, not signed in")

    page.get_by_label("Naam (zoals op je certificaat)").fill("Nina Nieuw")
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Herhaal wachtwoord").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Account aanmaken").click()

    expect(page.locator(".flashes")).to_contain_text("Je account is aangemaakt")
    expect(page.get_by_role("main")).to_contain_text("ziet Tineke Trainer je voortgang")
    assert_axe_clean(page, "invitation, accept or decline")
    assert members(app, group_id) == set()
    page.get_by_role("button", name=re.compile("^Accepteren")).click()

    expect(page.locator(".flashes")).to_contain_text("Je bent lid van de groep ‘Pleegzorg Noord’")
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "nieuw@example.org"))
    assert members(app, group_id) == {user_id}


def test_a_learner_declines_from_the_dashboard(page: Page, app: Flask, create_user, log_in) -> None:
    learner = log_in()
    group_id = invite(app, create_user, learner.email, "Jeugdteam Oost")
    page.goto("/")
    invitations = page.get_by_role("region", name="Uitnodigingen voor een groep")
    expect(invitations).to_contain_text("Tineke Trainer nodigt je uit voor de groep ‘Jeugdteam Oost’")
    assert_axe_clean(page, "dashboard with an invitation")
    invitations.get_by_role("button", name="Afwijzen (groep Jeugdteam Oost)").click()
    expect(page.locator(".flashes")).to_contain_text("Je hebt de uitnodiging voor de groep ‘Jeugdteam Oost’ afgewezen.")
    expect(page.get_by_role("region", name="Uitnodigingen voor een groep")).to_have_count(0)
    assert members(app, group_id) == set()


def test_a_trainer_invites_by_mail_and_the_invitee_accepts_through_the_delivered_link(
    page: Page, visitor: Page, app: Flask, create_user, submit_login, smtp_server
) -> None:
    trainer = create_user(role=Role.TRAINER, name="Tineke Trainer")
    submit_login(page, trainer.email)
    page.goto("/trainer/")
    page.get_by_label("Naam van de groep").fill("Pleegzorg Noord")
    page.get_by_role("button", name="Groep aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pleegzorg Noord")
    page.get_by_label("E-mailadres van de cursist").fill("nieuw@example.org")
    page.get_by_role("button", name="Uitnodigen", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("De uitnodiging is verstuurd.")
    invitations = page.get_by_role("table", name=re.compile("^Uitnodigingen"))
    expect(invitations.get_by_role("row", name=re.compile("nieuw@example.org"))).to_contain_text("verstuurd")
    assert_axe_clean(page, "group page with an invitation")

    with app.app_context():  # the sender delivers it to the SMTP server
        assert outbox.send_due().sent == 1
    page.reload()
    expect(invitations.get_by_role("row", name=re.compile("nieuw@example.org"))).to_contain_text("afgeleverd")
    [message] = smtp_server.messages
    [link] = re.findall(r"https?://\S+", plain_text(message))

    visitor.goto(re.sub(r"^https?://[^/]+", "", link))
    expect(visitor.get_by_role("main")).to_contain_text("nieuw@example.org (bevestigd door de uitnodiging)")
    visitor.get_by_label("Naam (zoals op je certificaat)").fill("Nina Nieuw")
    visitor.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    visitor.get_by_label("Herhaal wachtwoord").fill(PASSWORD)
    visitor.get_by_role("main").get_by_role("button", name="Account aanmaken").click()
    visitor.get_by_role("button", name=re.compile("^Accepteren")).click()
    expect(visitor.locator(".flashes")).to_contain_text("Je bent lid van de groep ‘Pleegzorg Noord’")

    visitor.goto("/account/profiel")
    expect(
        visitor.get_by_label("Stuur mij herinneringen over deadlines en certificaten die bijna verlopen")
    ).to_be_checked()
    assert_axe_clean(visitor, "profile with reminder settings")

    page.reload()
    expect(invitations.get_by_role("row", name=re.compile("nieuw@example.org"))).to_contain_text("geaccepteerd")
    expect(page.get_by_role("table", name=re.compile("^Cursisten"))).to_contain_text("Nina Nieuw")
    assert_axe_clean(page, "group page with an accepted invitation")
