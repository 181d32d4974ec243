"""Admins manage accounts (audited); learners export and erase their data (AVG/GDPR).

Through HTTP where a user acts; the assertions look at the database and the pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from course import privacy
from course.auth.throttle import account_key
from course.certificates import codes
from course.extensions import db
from course.lti import scores as lti_scores
from course.models import (
    Assignment,
    Attempt,
    AttemptGrant,
    AttemptItem,
    AuditEvent,
    AuditEventPerson,
    Certificate,
    CertificateStatus,
    ExternalIdentity,
    Group,
    GroupMember,
    Invitation,
    LessonRead,
    LoginFailure,
    LtiGradeLink,
    LtiPlatform,
    OutboxMessage,
    Passkey,
    ReminderKind,
    ReminderSent,
    Role,
    User,
)
from course.timeutil import utcnow
from tests.conftest import PASSWORD, AuthActions, Person, sign_in
from tests.helpers import (
    add_members,
    assign,
    count,
    due,
    fetch,
    finish_quiz,
    get,
    new_group,
    post,
    reset,
    signed_out,
    text,
)
from tests.quiz_helpers import catalog, complete_module, with_policy


@pytest.fixture
def admin(person) -> Person:
    return person(Role.ADMIN, "Bea Beheer")


def audit_events(app, action: str | None = None) -> list[AuditEvent]:
    statement = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    return fetch(app, statement)


def update_user(admin: Person, user_id: int, role: str, active: bool):
    data = {"role": role}
    if active:
        data["active"] = "y"
    return post(admin.client, f"/beheer/gebruikers/{user_id}", data, follow_redirects=True)


def login_fails(app, email: str, password: str = PASSWORD) -> bool:
    response = AuthActions(app.test_client()).login(email, password)
    return response.status_code == 200 and "E-mailadres of wachtwoord klopt niet." in text(response)


_USER_ROW = re.compile(r'<th scope="row"><a href="/beheer/gebruikers/(\d+)">([^<]*)</a></th>')


def search_users(admin: Person, q: str = "", rol: str = "") -> str:
    """The user list after searching: the term is posted, never put in the URL."""
    response = post(admin.client, "/beheer/gebruikers", {"term": q, "rol": rol})
    assert response.status_code == 302
    assert not q or q.lower() not in response.headers["Location"].lower()
    page = admin.client.get(response.headers["Location"])
    assert page.status_code == 200
    return text(page)


def listed_users(admin: Person, q: str = "", rol: str = "") -> list[str]:
    return [name for _, name in _USER_ROW.findall(search_users(admin, q, rol))]


# --- user management -------------------------------------------------------------------------


def test_an_admin_lists_and_searches_users(admin, person):
    person(Role.LEARNER, "Anna de Vries", email="anna.devries@example.org")
    person(Role.LEARNER, "Bram Jansen", email="b.jansen@voorbeeld.nl")
    person(Role.TRAINER, "Tineke Trainer", email="tineke@example.org")
    assert listed_users(admin) == ["Anna de Vries", "Bea Beheer", "Bram Jansen", "Tineke Trainer"]
    assert listed_users(admin, q="JANSEN") == ["Bram Jansen"]
    assert listed_users(admin, q="voorbeeld.nl") == ["Bram Jansen"]
    assert listed_users(admin, rol="trainer") == ["Tineke Trainer"]
    assert listed_users(admin, rol="learner", q="vries") == ["Anna de Vries"]
    assert "Geen gebruikers gevonden." in search_users(admin, q="niemand")


def test_a_role_change_is_audited_and_applies_at_once(app, admin, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    assert learner.client.get("/trainer/").status_code == 403

    page = text(update_user(admin, learner.id, "trainer", active=True))
    assert "Opgeslagen: rol gewijzigd." in page
    assert get(app, User, learner.id).role is Role.TRAINER
    (event,) = audit_events(app, "user.role")
    assert event.actor_id == admin.id and event.subject_type == "user" and event.subject_id == learner.id
    assert event.details == {"old": "learner", "new": "trainer"}
    assert "Rol gewijzigd door Bea Beheer (was: Cursist; wordt: Trainer)" in page  # the account's history

    # The open session ends; signing in again gives the new role.
    assert signed_out(learner.client)
    assert sign_in(app, learner.user).get("/trainer/").status_code == 200

    assert "Er was niets gewijzigd." in text(update_user(admin, learner.id, "trainer", active=True))
    assert len(audit_events(app, "user.role")) == 1
    assert "Kies een rol uit de lijst." in text(update_user(admin, learner.id, "superuser", active=True))
    assert get(app, User, learner.id).role is Role.TRAINER


def test_deactivation_ends_the_session_at_once_and_blocks_login(app, admin, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    assert learner.client.get("/account/profiel").status_code == 200

    page = text(update_user(admin, learner.id, "learner", active=False))
    assert "Opgeslagen: status gewijzigd." in page
    assert get(app, User, learner.id).active is False
    assert [e.subject_id for e in audit_events(app, "user.deactivate")] == [learner.id]
    assert signed_out(learner.client)
    assert login_fails(app, learner.email)
    assert "Gedeactiveerd" in text(admin.client.get("/beheer/gebruikers"))

    update_user(admin, learner.id, "learner", active=True)
    assert get(app, User, learner.id).active is True
    assert [e.subject_id for e in audit_events(app, "user.activate")] == [learner.id]
    assert sign_in(app, learner.user).get("/account/profiel").status_code == 200


def test_an_admin_cannot_demote_deactivate_or_erase_themselves(app, admin):
    for role, active in (("trainer", True), ("learner", True), ("admin", False)):
        page = text(update_user(admin, admin.id, role, active))
        assert "Je kunt je eigen account niet degraderen of deactiveren." in page
    me = get(app, User, admin.id)
    assert me.role is Role.ADMIN and me.active
    assert audit_events(app) == []
    response = post(admin.client, f"/beheer/gebruikers/{admin.id}/verwijderen", {"confirm": "y"}, follow_redirects=True)
    assert "Je kunt je eigen account hier niet verwijderen." in text(response)
    assert get(app, User, admin.id) is not None
    assert admin.client.get("/beheer/").status_code == 200  # still signed in


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER])
def test_learners_and_trainers_cannot_manage_accounts(app, person, create_user, role):
    someone = person(role, "Geen Beheerder")
    victim = create_user(role=Role.LEARNER, name="Doelwit")
    for url in ("/beheer/", "/beheer/gebruikers", f"/beheer/gebruikers/{victim.id}", "/beheer/logboek"):
        assert someone.client.get(url).status_code == 403, url
    assert post(someone.client, f"/beheer/gebruikers/{someone.id}", {"role": "admin", "active": "y"}).status_code == 403
    assert post(someone.client, f"/beheer/gebruikers/{victim.id}", {"role": "learner"}).status_code == 403
    erase = post(someone.client, f"/beheer/gebruikers/{victim.id}/verwijderen", {"confirm": "y"})
    assert erase.status_code == 403
    assert get(app, User, someone.id).role is role
    victim_now = get(app, User, victim.id)
    assert victim_now is not None and victim_now.active
    assert audit_events(app) == []


# --- audit log ------------------------------------------------------------------------------


_EVENT_ROW = re.compile(
    r"<tr><th scope=\"row\">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
)


def logged(admin: Person, **params) -> list[tuple[str, ...]]:
    response = admin.client.get("/beheer/logboek", query_string=params)
    assert response.status_code == 200
    return _EVENT_ROW.findall(text(response))


def test_the_audit_log_lists_events_and_filters_by_action(app, admin, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    trainer = person(Role.TRAINER, "Tineke Trainer")
    new_group(trainer)
    update_user(admin, learner.id, "trainer", active=True)
    update_user(admin, learner.id, "trainer", active=False)

    rows = logged(admin)
    # Newest first, in Dutch, with the names of who did it and whom it was about (not account numbers).
    assert [action for action, *_ in rows] == ["Account gedeactiveerd", "Rol gewijzigd", "Groep aangemaakt"]
    deactivate, role, create = rows
    assert deactivate[1] == "Bea Beheer" and deactivate[2] == "Anna Cursist"
    assert role[3] == "was: Cursist; wordt: Trainer"
    assert create[1] == "Tineke Trainer" and create[2] == "Groep ‘Groep Noord’"
    assert "Door account" not in text(admin.client.get("/beheer/logboek"))

    assert logged(admin, actie="user.role") == [role]
    assert logged(admin, actie="group.create") == [create]
    assert logged(admin, actie="bestaat.niet") == []
    page = text(admin.client.get("/beheer/logboek"))
    for action, label in (("group.create", "Groep aangemaakt"), ("user.deactivate", "Account gedeactiveerd")):
        assert f'<option value="{action}">{label}</option>' in page


def test_a_group_deadline_in_the_log_names_no_empty_learner(app, admin, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    assign(trainer, group_id, due(14))
    assign(trainer, group_id, due(7), learner)
    rows = logged(admin, actie="assignment.set")
    details = [row[3] for row in rows]
    assert "None" not in " ".join(details) and "learner_id" not in " ".join(details)
    assert details[0].startswith("cursist: Anna Cursist; datum: ")  # the personal one, newest first
    assert details[1].startswith("datum: ")


# --- a learner with data everywhere -------------------------------------------------------------


def grant(trainer: Person, group_id: int, learner: Person, reason: str = "Storing tijdens de toets") -> None:
    url = f"/trainer/groepen/{group_id}/cursisten/{learner.id}/extra-poging"
    # confirm_passed: the learner may already have passed (see test_trainer for the warning itself).
    data = {"quiz_id": "eindtoets", "reason": reason, "confirm_passed": "ja"}
    response = post(trainer.client, url, data, follow_redirects=True)
    assert "heeft een extra poging" in text(response)


def give_data(app, trainer: Person, group_id: int, learner: Person, finish: bool = True) -> None:
    """Lessons read, attempts with items, a certificate, a personal deadline and an extra attempt."""
    if finish:
        complete_module(app, learner.client)
    else:
        finish_quiz(app, learner, "eindtoets", right=False)
    assign(trainer, group_id, due(30), learner)
    grant(trainer, group_id, learner)


def test_the_data_export_holds_everything_of_the_learner_and_nothing_of_others(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist", email="anna@example.org")
    other = person(Role.LEARNER, "Bram Anders", email="bram.anders@example.org")
    group_id = new_group(trainer, "Groep Noord")
    add_members(trainer, group_id, learner, other)
    give_data(app, trainer, group_id, learner)
    give_data(app, trainer, group_id, other, finish=False)
    assign(trainer, group_id, due(60))  # a group-wide deadline, not personal data

    response = learner.client.get("/account/gegevens.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = text(response)
    data = json.loads(raw)
    assert {
        "account",
        "lessons_read",
        "attempts",
        "certificates",
        "group_memberships",
        "assignments",
        "extra_attempts_received",
    } <= set(data)

    assert data["account"]["id"] == learner.id
    assert data["account"]["email"] == "anna@example.org"
    assert data["account"]["display_name"] == "Anna Cursist" and data["account"]["role"] == "learner"
    assert {r["lesson_id"] for r in data["lessons_read"]} == {lesson.id for lesson in catalog(app).lessons}

    attempts = fetch(app, sa.select(Attempt).where(Attempt.user_id == learner.id))
    assert sorted(a["id"] for a in data["attempts"]) == sorted(a.id for a in attempts)
    for exported in data["attempts"]:
        items = fetch(app, sa.select(AttemptItem).where(AttemptItem.attempt_id == exported["id"]))
        assert len(exported["items"]) == len(items) > 0
        assert {i["question_id"] for i in exported["items"]} == {i.question_id for i in items}
        assert all(i["score"] is not None and i["response"] is not None for i in exported["items"])
    (certificate,) = fetch(app, sa.select(Certificate).where(Certificate.user_id == learner.id))
    assert [c["verification_code"] for c in data["certificates"]] == [certificate.verification_code]
    assert data["certificates"][0]["learner_name"] == "Anna Cursist"
    assert [m["group"] for m in data["group_memberships"]] == ["Groep Noord"]
    assert [(a["group_id"], a["due_on"]) for a in data["assignments"]] == [(group_id, due(30))]
    assert [(g["quiz_id"], g["extra"]) for g in data["extra_attempts_received"]] == [("eindtoets", 1)]

    # Nothing of Bram: not his address, name, attempts or anything else.
    assert "bram.anders@example.org" not in raw and "Bram Anders" not in raw
    other_attempts = {a.id for a in fetch(app, sa.select(Attempt).where(Attempt.user_id == other.id))}
    assert other_attempts and not other_attempts & {a["id"] for a in data["attempts"]}

    # A trainer's export lists what they did as a trainer, without the learners' personal data.
    trainer_data = json.loads(text(trainer.client.get("/account/gegevens.json")))
    as_trainer = trainer_data["as_trainer_or_admin"]
    assert [g["name"] for g in as_trainer["groups_led"]] == ["Groep Noord"]
    assert len(as_trainer["assignments_made"]) == 3 and len(as_trainer["extra_attempts_granted"]) == 2
    trainer_raw = json.dumps(trainer_data, ensure_ascii=False)
    for private in ("anna@example.org", "Anna Cursist", "bram.anders@example.org", "Bram Anders"):
        assert private not in trainer_raw


def test_the_data_export_needs_an_account(client):
    response = client.get("/account/gegevens.json")
    assert response.status_code == 302 and response.headers["Location"].startswith("/inloggen")


# --- erasure ---------------------------------------------------------------------------------------


def erase_own_account(learner: Person, password: str = PASSWORD, confirm: bool = True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return post(learner.client, "/account/verwijderen", data)


def footprint(app, user_id: int, email: str) -> dict[str, int]:
    attempt_ids = sa.select(Attempt.id).where(Attempt.user_id == user_id).scalar_subquery()
    with app.app_context():
        key = account_key(email)
    return {
        "users": count(app, User, User.id == user_id),
        "lesson_reads": count(app, LessonRead, LessonRead.user_id == user_id),
        "attempts": count(app, Attempt, Attempt.user_id == user_id),
        "attempt_items": count(app, AttemptItem, AttemptItem.attempt_id.in_(attempt_ids)),
        "group_members": count(app, GroupMember, GroupMember.user_id == user_id),
        "assignments": count(app, Assignment, Assignment.user_id == user_id),
        "attempt_grants": count(app, AttemptGrant, AttemptGrant.user_id == user_id),
        "invitations": count(app, Invitation, Invitation.email == email),
        "login_failures": count(app, LoginFailure, LoginFailure.account_key == key),
        "certificates": count(app, Certificate, Certificate.user_id == user_id),
    }


def test_a_learner_erases_their_account(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist", email="anna@example.org")
    other = person(Role.LEARNER, "Bram Anders")
    group_id = new_group(trainer, "Groep Noord")
    second_group = new_group(trainer, "Groep Zuid")
    add_members(trainer, group_id, learner, other)
    give_data(app, trainer, group_id, learner)
    give_data(app, trainer, group_id, other, finish=False)
    assign(trainer, group_id, due(60))
    # An invitation for the address left over from before it had an account, and a failed login.
    with app.app_context():
        db.session.add(Invitation(group_id=second_group, email="anna@example.org"))
        db.session.commit()
    assert login_fails(app, "anna@example.org", "fout wachtwoord")
    before = footprint(app, learner.id, learner.email)
    assert all(before.values()), before
    other_before = footprint(app, other.id, other.email)
    (certificate,) = fetch(app, sa.select(Certificate).where(Certificate.user_id == learner.id))

    assert "Account verwijderen" in text(learner.client.get("/account/gegevens"))
    wrong = erase_own_account(learner, password="niet mijn wachtwoord")
    assert wrong.status_code == 400 and "Dit wachtwoord klopt niet." in text(wrong)
    unconfirmed = erase_own_account(learner, confirm=False)
    assert unconfirmed.status_code == 400 and "Vink aan dat je dit begrijpt." in text(unconfirmed)
    assert footprint(app, learner.id, learner.email) == before

    response = erase_own_account(learner)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Je account en je gegevens zijn verwijderd." in text(learner.client.get("/"))
    gone = footprint(app, learner.id, learner.email)
    assert gone == dict.fromkeys(gone, 0)

    # The certificate stays, detached, and still verifies with the name.
    kept = get(app, Certificate, certificate.id)
    assert kept.user_id is None and kept.learner_name == "Anna Cursist" and kept.status is CertificateStatus.VALID
    page = app.test_client().get(f"/verifieren/{codes.display(certificate.verification_code)}")
    assert page.status_code == 200
    assert "Geldig certificaat" in text(page) and "Anna Cursist" in text(page)

    # That an account was erased stays on record; which account does not.
    (event,) = audit_events(app, "user.erase")
    assert event.subject_type == "user" and event.subject_id is None and event.actor_id is None
    assert signed_out(learner.client)
    assert login_fails(app, "anna@example.org")

    # Everyone else keeps their data, and the group keeps its own deadline.
    assert footprint(app, other.id, other.email) == other_before
    assert count(app, Assignment, Assignment.user_id.is_(None)) == 1
    assert count(app, Group) == 2


def test_an_admin_cannot_erase_a_trainer_who_leads_groups(app, admin, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    url = f"/beheer/gebruikers/{trainer.id}/verwijderen"

    unconfirmed = post(admin.client, url, follow_redirects=True)
    assert "Vink aan om het verwijderen te bevestigen." in text(unconfirmed)
    refused = post(admin.client, url, {"confirm": "y"}, follow_redirects=True)
    assert "Dit account leidt nog groepen. Verwijder die groepen eerst." in text(refused)
    assert get(app, User, trainer.id) is not None
    assert get(app, Group, group_id).trainer_id == trainer.id
    assert count(app, GroupMember, GroupMember.group_id == group_id) == 1
    assert audit_events(app, "user.erase") == []
    assert trainer.client.get("/trainer/").status_code == 200

    # Nor can the trainer erase their own account; an admin has to.
    own = post(trainer.client, "/account/verwijderen", {"password": PASSWORD, "confirm": "y"}, follow_redirects=True)
    assert "Een trainer- of beheerdersaccount wordt verwijderd door een beheerder." in text(own)
    assert get(app, User, trainer.id) is not None


def test_an_admin_erases_a_learner(app, admin, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    complete_module(app, learner.client)
    response = post(
        admin.client, f"/beheer/gebruikers/{learner.id}/verwijderen", {"confirm": "y"}, follow_redirects=True
    )
    assert "Het account en de gegevens ervan zijn verwijderd." in text(response)
    assert get(app, User, learner.id) is None
    assert count(app, Attempt) == count(app, LessonRead) == 0
    assert fetch(app, sa.select(Certificate.user_id)) == [None]
    (event,) = audit_events(app, "user.erase")
    assert event.actor_id == admin.id and event.subject_id is None
    assert signed_out(learner.client)


# --- coverage: no table that refers to users escapes export and erasure -------------------------------------------


def user_references() -> set[tuple[str, str]]:
    """(table, column) for every column with a foreign key to users.id."""
    return {
        (table.name, column.name)
        for table in db.metadata.tables.values()
        for column in table.columns
        for fk in column.foreign_keys
        if fk.column.table.name == "users" and fk.column.name == "id"
    }


def test_every_reference_to_users_is_covered_by_export_and_erasure():
    references = user_references()
    assert references, "no foreign keys to users found: is the metadata loaded?"
    missing = references - set(privacy.COVERAGE)
    assert not missing, f"add these to course.privacy.COVERAGE (export and erasure): {sorted(missing)}"
    stale = set(privacy.COVERAGE) - references
    assert not stale, f"COVERAGE names columns that do not refer to users: {sorted(stale)}"


def references_to(app, user_ids: list[int]) -> dict[tuple[str, str], int]:
    with app.app_context():
        found = {}
        for table_name, column_name in sorted(user_references()):
            column = db.metadata.tables[table_name].c[column_name]
            found[(table_name, column_name)] = db.session.scalar(
                sa.select(sa.func.count()).select_from(column.table).where(column.in_(user_ids))
            )
        return found


def test_erasure_leaves_no_row_referring_to_the_erased_accounts(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")  # leads the group: cannot be erased (other test)
    learner = person(Role.LEARNER, "Anna Cursist")
    acting_admin = person(Role.ADMIN, "Aad Actief")
    erasing_admin = person(Role.ADMIN, "Bea Beheer")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    complete_module(app, learner.client)
    # The acting admin sets a deadline, grants an attempt and revokes a certificate: audited, by them.
    assign(acting_admin, group_id, due(30), learner)
    grant(acting_admin, group_id, learner)
    (certificate,) = fetch(app, sa.select(Certificate).where(Certificate.user_id == learner.id))
    revoked = post(acting_admin.client, f"/beheer/certificaten/{certificate.id}", {"reason": "Test van intrekken"})
    assert revoked.status_code == 302
    # The acting admin also has a passkey (registered in a browser: tests/e2e/test_sign_in_security.py).
    with app.app_context():
        db.session.add(Passkey(user_id=acting_admin.id, credential_id="Y3JlZA", public_key=b"\x01", name="Sleutel"))
        # A reminder the learner was sent (flask course send-reminders, tests/test_reminders.py).
        db.session.add(
            ReminderSent(user_id=learner.id, module_id="m", kind=ReminderKind.OVERDUE, occasion="2026-12-01")
        )
        # The learner's LMS account, linked by a launch (LTI 1.3).
        db.session.add(
            ExternalIdentity(user_id=learner.id, source="lti", issuer="https://lms.example.org", subject="u-17")
        )
        # Where the learner's scores go in that LMS, and a score still waiting in the outbox.
        platform = LtiPlatform(
            name="LMS", issuer="https://lms.example.org", client_id="c", deployment_ids="1",
            auth_login_url="https://lms.example.org/a", auth_token_url="https://lms.example.org/t",
            key_set_url="https://lms.example.org/k",
        )  # fmt: skip
        db.session.add(platform)
        db.session.flush()
        db.session.add(
            LtiGradeLink(
                user_id=learner.id,
                platform_id=platform.id,
                module_id="m",
                resource_link_id="r",
                resource="module",
                platform_user_id="u-17",
                lineitems_url="https://lms.example.org/li",
                scopes=[],
            )
        )
        db.session.flush()
        assert lti_scores.report_module_completed(learner.id, utcnow()) == 1
        db.session.commit()
    # A reflection the learner wrote on a lesson page (tests/test_reflections.py).
    assert post(learner.client, "/lessen/inleiding/reflectie", {"text": "Mijn eigen praktijk."}).status_code == 302
    # The learner asked to move to a new address but never confirmed it: a link token and a mail wait.
    moving = post(learner.client, "/account/e-mailadres", {"new_email": "anna.nieuw@example.org", "password": PASSWORD})
    assert moving.status_code == 200
    # The acting admin looked at an item analysis (of no groups of their own): its stored result is theirs.
    assert acting_admin.client.get("/trainer/toetsen/eindtoets/analyse").status_code == 200
    erased = [learner.id, acting_admin.id]

    before = references_to(app, erased)
    unexercised = {ref for ref, n in before.items() if n == 0} - {("groups", "trainer_id")}
    assert not unexercised, f"extend this test so these columns refer to an erased account: {sorted(unexercised)}"
    # And the index of audit events by person (no foreign key: an event may name any id).
    assert count(app, AuditEventPerson, AuditEventPerson.user_id.in_(erased)) > 0

    assert erase_own_account(learner).status_code == 302
    response = post(
        erasing_admin.client,
        f"/beheer/gebruikers/{acting_admin.id}/verwijderen",
        {"confirm": "y"},
        follow_redirects=True,
    )
    assert "Het account en de gegevens ervan zijn verwijderd." in text(response)

    after = references_to(app, erased)
    assert after == dict.fromkeys(after, 0), {ref: n for ref, n in after.items() if n}
    assert count(app, AuditEventPerson, AuditEventPerson.user_id.in_(erased)) == 0
    assert count(app, User, User.id.in_(erased)) == 0
    assert count(app, OutboxMessage, OutboxMessage.recipient == "anna.nieuw@example.org") == 0
    # What was done stays on record, without the actor; the certificate stays verifiable.
    assert [e.subject_id for e in audit_events(app, "user.erase")] == [None, None]
    assert (
        len(audit_events(app, "certificate.revoke")) == 1
        and audit_events(app, "certificate.revoke")[0].actor_id is None
    )
    kept = get(app, Certificate, certificate.id)
    assert kept.user_id is None and kept.revoked_by_id is None and kept.status is CertificateStatus.REVOKED
    assert count(app, Group) == 1 and get(app, User, trainer.id) is not None


# --- audit events and deadlines: in the export, gone with the erasure ---------------------------------------------

GRANT_REASON = "Storing tijdens de toets bij Anna"
RESET_REASON = "Wifi viel weg tijdens de eindtoets"
REVOKE_REASON = "Uitgegeven aan de verkeerde persoon"


def audited_history(app, monkeypatch, trainer: Person, admin: Person, learner: Person) -> tuple[int, int]:
    """Every kind of audit event about a learner: extra attempt, reset attempt, personal deadline,
    revoked certificate. Returns (group id, second group id)."""
    with_policy(app, monkeypatch, "eindtoets", cooldown_minutes=0)
    group_id = new_group(trainer, "Groep Noord")
    second = new_group(trainer, "Groep Zuid")
    add_members(trainer, group_id, learner)
    add_members(trainer, second, learner)
    attempt_id = finish_quiz(app, learner, "eindtoets", right=False)
    assert "ongedaan gemaakt" in text(reset(trainer, group_id, attempt_id, RESET_REASON))
    grant(trainer, group_id, learner, reason=GRANT_REASON)
    complete_module(app, learner.client)
    assign(trainer, group_id, due(60))  # the group's deadline, replaced for Anna by her own:
    assign(trainer, group_id, due(30), learner)
    assign(trainer, second, due(90))  # the other group's deadline applies as it is
    (certificate,) = fetch(app, sa.select(Certificate).where(Certificate.user_id == learner.id))
    assert post(admin.client, f"/beheer/certificaten/{certificate.id}", {"reason": REVOKE_REASON}).status_code == 302
    return group_id, second


def test_the_export_holds_the_audit_events_about_the_learner_and_the_deadlines_that_apply(app, person, monkeypatch):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    admin = person(Role.ADMIN, "Bea Beheer")
    learner = person(Role.LEARNER, "Anna Cursist", email="anna@example.org")
    audited_history(app, monkeypatch, trainer, admin, learner)

    raw = text(learner.client.get("/account/gegevens.json"))
    data = json.loads(raw)
    events = {e["action"]: e for e in data["audit_events_about_you"]}
    assert set(events) == {"attempt.grant_extra", "attempt.reset", "assignment.set", "certificate.revoke"}
    assert events["attempt.grant_extra"]["details"]["reason"] == GRANT_REASON
    assert events["attempt.grant_extra"]["by"] == "trainer"
    assert events["attempt.reset"]["details"]["reason"] == RESET_REASON
    assert events["attempt.reset"]["details"]["percent"] is not None
    assert events["certificate.revoke"]["details"]["reason"] == REVOKE_REASON
    assert events["certificate.revoke"]["by"] == "admin"
    # Group-wide events (the group's own deadlines) are not about her; the trainer is named by role only.
    assert len(data["audit_events_about_you"]) == 4
    for private in ("Tineke Trainer", "Bea Beheer", f'"actor_id": {trainer.id}'):
        assert private not in raw

    deadlines = sorted((d["group"], d["due_on"], d["personal"], d["applies"]) for d in data["deadlines"])
    assert deadlines == [
        ("Groep Noord", due(30), True, True),
        ("Groep Noord", due(60), False, False),
        ("Groep Zuid", due(90), False, True),
    ]


def test_erasure_removes_the_learner_from_audit_events_but_keeps_the_actions(app, person, monkeypatch):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    admin = person(Role.ADMIN, "Bea Beheer")
    learner = person(Role.LEARNER, "Anna Cursist", email="anna@example.org")
    bystander = person(Role.LEARNER, "Bram Anders")
    group_id, _ = audited_history(app, monkeypatch, trainer, admin, learner)
    add_members(trainer, group_id, bystander)
    grant(trainer, group_id, bystander, reason="Bram had een storing")
    actions_before = sorted(e.action for e in audit_events(app))

    assert erase_own_account(learner).status_code == 302

    events = audit_events(app)
    # Every action is still on record, with who did it, plus the erasure itself.
    assert sorted(e.action for e in events) == sorted([*actions_before, "user.erase"])
    assert {e.actor_id for e in events if e.action == "attempt.grant_extra"} == {trainer.id}
    for event in events:
        assert not (event.subject_type in ("user", "attempt") and event.subject_id == learner.id), event.action
        assert learner.id not in {event.details.get(key) for key in ("user_id", "learner_id")}, event.action
        dumped = json.dumps(event.details, ensure_ascii=False)
        for detail in (GRANT_REASON, RESET_REASON, REVOKE_REASON):
            assert detail not in dumped
    about_anna = [e for e in events if e.details == {"subject_erased": True}]
    assert sorted(e.action for e in about_anna) == [
        "assignment.set",
        "attempt.grant_extra",
        "attempt.reset",
        "certificate.revoke",
    ]
    assert all(e.subject_id is None for e in about_anna if e.subject_type in ("user", "attempt"))
    # The detached certificate and the group outlive the erasure: those events still point at them.
    assert {e.subject_type for e in about_anna if e.subject_id is not None} == {"certificate", "group"}
    # Someone else's events are untouched.
    (brams,) = [e for e in events if e.subject_id == bystander.id]
    assert brams.details["reason"] == "Bram had een storing"


def sqlite_files(app) -> list[bytes]:
    with app.app_context():
        path = db.engine.url.database
    return [Path(name).read_bytes() for name in (path, path + "-wal") if Path(name).exists()]


def test_erasure_leaves_no_copy_of_the_address_in_the_sqlite_files(app, person):
    with app.app_context():
        if db.engine.dialect.name != "sqlite" or not db.engine.url.database:
            pytest.skip("reads the SQLite database file and its write-ahead log")
        # Deleted values are overwritten, on every SQLite build (Debian's has it on by default).
        assert db.session.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
    email = "uniek.wisadres@example.org"
    person(Role.LEARNER, "Bram Anders")  # others on the same database pages stay
    learner = person(Role.LEARNER, "Ulrike Uniekenaam", email=email)
    person(Role.LEARNER, "Carla Colleges")
    finish_quiz(app, learner, "eindtoets", right=False)
    assert any(email.encode() in data for data in sqlite_files(app))  # the check can see it

    assert erase_own_account(learner).status_code == 302

    for data in sqlite_files(app):
        assert email.encode() not in data
        assert b"Ulrike Uniekenaam" not in data
