"""Issue 14, items 4, 6 and 7 in a real browser: the new and changed pages stay axe-clean, and the
name correction and the register-number reissue work through their forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from course.extensions import db
from course.models import Certificate, CertificateStatus, Role, User
from course.timeutil import utcnow
from course.trainer import groups
from tests.conftest import AuthActions
from tests.e2e.axe import assert_axe_clean
from tests.quiz_helpers import complete_module

pytestmark = pytest.mark.e2e


def certificates(app: Flask) -> list[Certificate]:
    with app.app_context():
        found = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        db.session.expunge_all()
        return found


def test_trainer_admin_and_learner_pages_of_issue_14(
    page: Page, app: Flask, create_user: Callable[..., User], submit_login
) -> None:
    learner = create_user(name="Anna de Vris")
    idle = create_user(name="Bram Bezig")
    trainer = create_user(role=Role.TRAINER, name="Tineke Trainer")
    admin = create_user(role=Role.ADMIN, name="Bea Beheer")
    client = app.test_client()
    assert AuthActions(client).login(learner.email).status_code == 302
    complete_module(app, client)
    with app.app_context():
        owner = db.session.get(User, trainer.id)
        group = groups.create_group(owner, "Jeugdzorg Noord")
        for member in (learner, idle):
            groups.add_member(group, db.session.get(User, member.id))
        groups.assign(group, app.extensions["catalog"].module.id, (utcnow() + timedelta(days=14)).date(), owner)
        db.session.commit()
        group_id = group.id

    # Trainer: group page with its charts, learner detail with the warning, item analysis with charts.
    submit_login(page, trainer.email)
    page.goto(f"/trainer/groepen/{group_id}")
    expect(page.get_by_role("heading", name="Voortgang in beeld")).to_be_visible()
    expect(page.get_by_role("button", name="Deadline wijzigen voor de hele groep")).to_be_visible()
    assert_axe_clean(page, "group page with charts")
    page.get_by_role("link", name="Anna de Vris").click()
    expect(page.get_by_text("Anna de Vris is al geslaagd voor Eindtoets.")).to_be_visible()
    assert_axe_clean(page, "learner detail with the passed warning")
    page.goto("/trainer/toetsen/eindtoets/analyse")
    expect(page.get_by_role("heading", name="Alle vragen in één oogopslag")).to_be_visible()
    assert_axe_clean(page, "item analysis with charts")
    page.emulate_media(media="print")
    assert_axe_clean(page, "item analysis, print")
    page.emulate_media(media="screen")
    page.context.clear_cookies()

    # Admin: correct the name; the certificate is reissued, the old code says "replaced".
    [first] = certificates(app)
    submit_login(page, admin.email)
    page.goto(f"/beheer/certificaten/{first.id}")
    assert_axe_clean(page, "admin certificate page with name correction")
    page.get_by_label("Juiste naam (zoals hij op het certificaat moet staan)").fill("Anna de Vries")
    page.get_by_role("button", name="Naam corrigeren en opnieuw uitgeven").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificaat van Anna de Vries")
    old, new = certificates(app)
    assert old.status is CertificateStatus.SUPERSEDED and new.learner_name == "Anna de Vries"
    page.goto("/beheer/logboek")
    expect(page.get_by_role("cell", name="Certificaat opnieuw uitgegeven")).to_be_visible()
    assert_axe_clean(page, "audit log in Dutch")
    page.context.clear_cookies()
    page.goto(f"/verifieren/{old.verification_code}")
    expect(page.get_by_role("heading", name="Vervangen certificaat")).to_be_visible()
    assert_axe_clean(page, "verify page of a replaced certificate")

    # Learner: the register prompt before a test, then a reissue with the number.
    submit_login(page, learner.email)
    page.goto("/toetsen/casustoets")
    expect(page.get_by_text("Registratienummer op je certificaat?")).to_be_hidden()  # passed already
    page.goto("/")
    page.get_by_role("link", name=re.compile("^Registratienummer invullen")).click()
    page.get_by_label("Beroepsregister").select_option("SKJ")
    page.get_by_label("Registratienummer", exact=True).fill("12345678")
    page.get_by_label(re.compile("^Ik geef toestemming")).check()
    page.get_by_role("main").get_by_role("button", name="Opslaan", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/certificaten")
    assert_axe_clean(page, "my certificates with the reissue offer")
    page.get_by_role("button", name="Certificaat opnieuw uitgeven met mijn registratienummer").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("nieuwe certificaat")
    assert certificates(app)[-1].register_number == "12345678"
    assert_axe_clean(page, "my certificates after a reissue")

    # A learner who has not taken the final test yet is asked for the number on the test's page.
    page.context.clear_cookies()
    submit_login(page, idle.email)
    page.goto("/toetsen/eindtoets")
    expect(page.get_by_text("Registratienummer op je certificaat?")).to_be_visible()
    assert_axe_clean(page, "final test page with the register prompt")
