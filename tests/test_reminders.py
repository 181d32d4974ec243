"""`flask course send-reminders`: deadlines (7 days, tomorrow, overdue), certificates expiring within
60 days, and a weekly overview of late learners for trainers; each once per person and occasion, also
when two runs overlap; switched off on the account page; "today" is the date in the Netherlands."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from itertools import count
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.models import (
    Assignment,
    AuditEvent,
    Certificate,
    CertificateStatus,
    Group,
    GroupMember,
    OutboxMessage,
    ReminderKind,
    ReminderSent,
    Role,
    User,
)
from course.reminders import sending
from course.timeutil import local_date, utcnow
from tests.conftest import csrf_token, outbox_rows, plain_text

pytestmark = pytest.mark.usefixtures("app")

# 10:00 UTC on Tuesday 1 December 2026 is 11:00 the same day in Amsterdam.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
_codes = count(1)


@pytest.fixture
def module_id(app) -> str:
    return app.extensions["catalog"].module.id


@pytest.fixture
def group(app, create_user, module_id):
    """Factory: group(due_on, *learner names, trainer=None) -> (group id, {name: user id}, trainer id)."""
    trainers: dict[str, User] = {}

    def make(due_on: date | None, *names: str, trainer: str = "Tineke Trainer", group_name: str = "Groep Noord"):
        if trainer not in trainers:
            trainers[trainer] = create_user(role=Role.TRAINER, name=trainer)
        learners = {name: create_user(name=name, email=f"{name.lower()}@example.org") for name in names}
        with app.app_context():
            row = Group(name=group_name, trainer_id=trainers[trainer].id)
            db.session.add(row)
            db.session.flush()
            db.session.add_all(GroupMember(group_id=row.id, user_id=user.id) for user in learners.values())
            if due_on is not None:
                db.session.add(Assignment(group_id=row.id, module_id=module_id, due_on=due_on))
            db.session.commit()
            return row.id, {name: user.id for name, user in learners.items()}, trainers[trainer].id

    return make


def run(app, now: datetime = NOW) -> sending.ReminderReport:
    with app.app_context():
        return sending.send_reminders(app.extensions["catalog"], now)


def mails(app) -> list[tuple[str, str]]:
    """(recipient, subject) of every mail in the outbox, oldest first."""
    return [(row.recipient, row.subject) for row in outbox_rows(app)]


def certify(app, user_id: int, module_id: str, valid_until: date | None, **values) -> int:
    with app.app_context():
        certificate = Certificate(
            user_id=user_id,
            module_id=module_id,
            sequence=values.pop("sequence", 1),
            verification_code=f"CODE{next(_codes):04d}",
            learner_name="Naam",
            module_title="Hechtwijzer",
            content_version="1",
            study_load="4 uur",
            completed_on=date(2025, 2, 1),
            valid_until=valid_until,
            **values,
        )
        db.session.add(certificate)
        db.session.commit()
        return certificate.id


def set_users(app, user_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def test_learners_not_finished_are_reminded_a_week_and_a_day_before_and_once_after(app, group, module_id):
    due = TODAY + timedelta(days=7)
    group_id, ids, _ = group(due, "Anna", "Bram", "Cees", "Dirk", "Eva")
    certify(app, ids["Cees"], module_id, valid_until=None)  # finished: no reminders
    set_users(app, ids["Dirk"], reminders_enabled=False)  # switched off
    set_users(app, ids["Eva"], active=False)  # deactivated
    with app.app_context():  # Bram's own due date replaces the group's: tomorrow
        db.session.add(
            Assignment(group_id=group_id, user_id=ids["Bram"], module_id=module_id, due_on=TODAY + timedelta(days=1))
        )
        db.session.commit()
    title = app.extensions["catalog"].module.title

    report = run(app)

    assert dict(report.written) == {ReminderKind.DUE_SOON: 1, ReminderKind.DUE_TOMORROW: 1}
    assert sorted(mails(app)) == [
        ("anna@example.org", f"Over 7 dagen is de deadline voor {title}"),
        ("bram@example.org", f"Morgen is de deadline voor {title}"),
    ]
    [anna] = outbox_rows(app, "anna@example.org")
    assert "vóór 8 december 2026" in anna.body_text and "https://hechtwijzer.test/" in anna.body_text
    assert "https://hechtwijzer.test/account/profiel" in anna.body_text  # where to switch them off
    assert anna.module_id == module_id and anna.topic == "reminder.due_soon"

    assert run(app).total == 0  # the same day again: nothing twice
    # Thursday: Bram's date has passed (one overdue notice; his trainer's weekly overview); Anna had her week's.
    assert run(app, NOW + timedelta(days=2)).written == {ReminderKind.OVERDUE: 1, ReminderKind.TRAINER_DIGEST: 1}
    assert run(app, NOW + timedelta(days=3)).total == 0
    # Monday: the day before Anna's date, and a new week for the overview.
    assert run(app, NOW + timedelta(days=6)).written == {ReminderKind.DUE_TOMORROW: 1, ReminderKind.TRAINER_DIGEST: 1}
    assert run(app, NOW + timedelta(days=7)).total == 0  # due today
    assert run(app, NOW + timedelta(days=8)).written == {ReminderKind.OVERDUE: 1}  # Anna: one overdue notice
    assert run(app, NOW + timedelta(days=12)).total == 0
    recipients = [row.recipient for row in outbox_rows(app) if row.topic != "reminder.trainer_digest"]
    assert sorted(recipients) == ["anna@example.org"] * 3 + ["bram@example.org"] * 2
    assert not {"cees@example.org", "dirk@example.org", "eva@example.org"} & set(recipients)
    [overdue] = [row for row in outbox_rows(app, "anna@example.org") if row.topic == "reminder.overdue"]
    assert overdue.subject == f"De deadline voor {title} is verstreken"


def test_a_new_due_date_is_a_new_occasion(app, group):
    group(TODAY + timedelta(days=5), "Anna")
    assert run(app).total == 1
    with app.app_context():
        db.session.execute(sa.update(Assignment).values(due_on=TODAY + timedelta(days=6)))
        db.session.commit()
    assert run(app).written == {ReminderKind.DUE_SOON: 1}  # the trainer moved the deadline
    assert run(app).total == 0


def test_today_is_the_date_in_the_netherlands(app, group):
    """23:30 UTC on 1 December is already 2 December in Amsterdam: a due date of 3 December is tomorrow."""
    group(date(2026, 12, 3), "Anna")
    report = run(app, datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
    assert report.written == {ReminderKind.DUE_TOMORROW: 1}


def test_a_certificate_expiring_within_60_days_gets_one_notice_with_a_link_to_renew(app, create_user, module_id):
    anna, bram, cees, dirk = (create_user(email=f"{n}@example.org") for n in ("anna", "bram", "cees", "dirk"))
    certify(app, anna.id, module_id, valid_until=TODAY + timedelta(days=60))
    certify(app, bram.id, module_id, valid_until=TODAY + timedelta(days=61))  # not yet
    certify(app, cees.id, module_id, valid_until=TODAY + timedelta(days=10), status=CertificateStatus.REVOKED)
    certify(app, dirk.id, module_id, valid_until=TODAY + timedelta(days=10))  # renewed since:
    certify(app, dirk.id, module_id, valid_until=TODAY + timedelta(days=800), sequence=2)

    assert run(app).written == {ReminderKind.CERTIFICATE_EXPIRING: 1}
    [row] = outbox_rows(app)
    assert row.recipient == "anna@example.org"
    title = app.extensions["catalog"].module.title
    assert row.subject == f"Je certificaat voor {title} verloopt op 30 januari 2027"
    assert "https://hechtwijzer.test/certificaten" in row.body_text
    renew = re.search(r"hier:\n\nhttps://hechtwijzer\.test(\S+)", row.body_text).group(1)
    assert app.test_client().get(renew).status_code == 200  # the link to renew works
    assert run(app).total == 0
    assert run(app, NOW + timedelta(days=1)).written == {ReminderKind.CERTIFICATE_EXPIRING: 1}  # Bram's turn
    assert run(app, NOW + timedelta(days=2)).total == 0


def test_trainers_get_a_weekly_overview_of_late_learners_with_names_only(app, group, module_id):
    late = TODAY - timedelta(days=40)
    north, ids, trainer_id = group(late, "Anna", "Bram", group_name="Groep Noord")
    group(TODAY - timedelta(days=1), "Cees", group_name="Groep Zuid")
    group(TODAY + timedelta(days=9), "Dirk", group_name="Groep Oost")  # nobody late there
    certify(app, ids["Bram"], module_id, valid_until=None)  # finished, though late
    _, _, other_trainer = group(late, "Eva", trainer="Otto Trainer", group_name="Groep West")
    set_users(app, other_trainer, trainer_digest_enabled=False)
    set_users(app, ids["Anna"], reminders_enabled=False)  # her own reminders are off, her trainer still sees her

    report = run(app)

    assert report.written[ReminderKind.TRAINER_DIGEST] == 1
    [digest] = [row for row in outbox_rows(app) if row.topic == "reminder.trainer_digest"]
    with app.app_context():
        trainer_email = db.session.get(User, trainer_id).email
    assert digest.recipient == trainer_email
    assert digest.subject.startswith("Weekoverzicht: 2 cursisten zijn te laat met ")
    body = digest.body_text
    assert "Groep ‘Groep Noord’:\n- Anna (deadline 22 oktober 2026)\n" in body
    assert "Groep ‘Groep Zuid’:\n- Cees (deadline 30 november 2026)\n" in body
    assert "Bram" not in body and "Dirk" not in body and "Oost" not in body and "Eva" not in body
    assert "@" not in body  # names, no addresses
    assert f"https://hechtwijzer.test/trainer/groepen/{north}" in body

    assert run(app, NOW + timedelta(days=5)).written.get(ReminderKind.TRAINER_DIGEST) is None  # Sunday, same week
    assert run(app, NOW + timedelta(days=6)).written.get(ReminderKind.TRAINER_DIGEST) == 1  # Monday: next week


def test_reminders_are_switched_off_and_on_on_the_account_page(app, person):
    learner = person(Role.LEARNER, "Anna")
    page = learner.client.get("/account/profiel").get_data(as_text=True)
    assert 'id="reminders" name="reminders" value="y" checked' in page
    assert "trainer_digest" not in page  # a learner has no trainer overview

    token = csrf_token(learner.client, "/account/profiel")
    response = learner.client.post("/account/herinneringen", data={"csrf_token": token}, follow_redirects=True)
    assert "Je instellingen voor herinneringen zijn opgeslagen." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, learner.id).reminders_enabled is False
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reminders.settings"))
        assert event.details == {"reminders": False, "trainer_digest": True}

    learner.client.post("/account/herinneringen", data={"csrf_token": token, "reminders": "y"})
    with app.app_context():
        assert db.session.get(User, learner.id).reminders_enabled is True


def test_a_trainer_switches_the_overview_off_without_the_form_token_nothing_changes(app, person):
    trainer = person(Role.TRAINER, "Tineke")
    assert trainer.client.post("/account/herinneringen", data={"reminders": "y"}).status_code == 400
    token = csrf_token(trainer.client, "/account/profiel")
    trainer.client.post("/account/herinneringen", data={"csrf_token": token, "reminders": "y"})
    with app.app_context():
        user = db.session.get(User, trainer.id)
        assert (user.reminders_enabled, user.trainer_digest_enabled) == (True, False)


def test_two_runs_at_once_write_each_reminder_once(app, group):
    names = [f"Cursist{i:02d}" for i in range(30)]
    group(TODAY + timedelta(days=7), *names)
    start = threading.Barrier(2)
    reports: list[sending.ReminderReport] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            with app.app_context():
                catalog = app.extensions["catalog"]
                start.wait(timeout=10)
                reports.append(sending.send_reminders(catalog, NOW))
                db.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(report.total for report in reports) == 30
    recipients = [recipient for recipient, _ in mails(app)]
    assert sorted(recipients) == sorted(f"{name.lower()}@example.org" for name in names)  # each once
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderSent)) == 30
        linked = db.session.scalar(
            sa.select(sa.func.count()).select_from(ReminderSent).where(ReminderSent.outbox_id.is_not(None))
        )
        assert linked == 30


def test_the_command_reports_what_it_wrote_and_the_mail_arrives_with_a_working_link(app, runner, group, smtp_server):
    group(local_date(utcnow()) + timedelta(days=1), "Anna")  # the command uses the real clock
    result = runner.invoke(args=["course", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Herinneringen: 1 klaargezet (deadline morgen: 1)."
    assert runner.invoke(args=["course", "send-reminders"]).output.strip() == "Herinneringen: 0 klaargezet."
    assert runner.invoke(args=["course", "send-mail"]).exit_code == 0
    [message] = smtp_server.messages
    assert message["To"] == "anna@example.org" and message["Subject"].startswith("Morgen is de deadline")
    assert message.get_content_type() == "multipart/alternative"
    [link, settings] = re.findall(r"https?://\S+", plain_text(message))
    assert app.test_client().get(urlsplit(link).path).status_code == 200
    assert urlsplit(settings).path == "/account/profiel"
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.body_text)) == ""  # sent: the body is not kept


def test_only_a_current_certificate_for_this_module_counts_as_finished(app, group, module_id):
    """Reminded: a revoked certificate, one that expired yesterday, one for another module. Finished:
    a certificate valid through today, or longer."""
    _, ids, _ = group(TODAY + timedelta(days=7), "Anna", "Bram", "Cees", "Dirk", "Eva")
    certify(app, ids["Anna"], module_id, valid_until=TODAY)
    certify(app, ids["Bram"], module_id, valid_until=TODAY + timedelta(days=300))
    certify(app, ids["Cees"], module_id, valid_until=TODAY - timedelta(days=1))
    certify(app, ids["Dirk"], module_id, valid_until=None, status=CertificateStatus.REVOKED)
    certify(app, ids["Eva"], "andere-module", valid_until=None)

    run(app)

    reminded = sorted(row.recipient for row in outbox_rows(app) if row.topic == "reminder.due_soon")
    assert reminded == ["cees@example.org", "dirk@example.org", "eva@example.org"]


def test_a_deadline_for_another_module_and_a_trainer_in_the_group_get_no_reminder(app, group, create_user, module_id):
    other_module, _, _ = group(None, "Anna", group_name="Groep Oost")
    north, _, _ = group(TODAY - timedelta(days=1), "Bram", group_name="Groep Noord")
    co_trainer = create_user(role=Role.TRAINER, name="Carla Co", email="carla@example.org")
    with app.app_context():
        db.session.add(Assignment(group_id=other_module, module_id="andere-module", due_on=TODAY + timedelta(days=1)))
        db.session.add(GroupMember(group_id=north, user_id=co_trainer.id))  # a trainer who joined as a member
        db.session.commit()

    assert run(app).written == {ReminderKind.OVERDUE: 1, ReminderKind.TRAINER_DIGEST: 1}
    [overdue] = [row for row in outbox_rows(app) if row.topic == "reminder.overdue"]
    assert overdue.recipient == "bram@example.org"
    [digest] = [row for row in outbox_rows(app) if row.topic == "reminder.trainer_digest"]
    assert "- Bram (deadline 30 november 2026)\n" in digest.body_text and "Carla" not in digest.body_text
    assert digest.subject.startswith("Weekoverzicht: 1 cursist is te laat")


def test_reminders_start_a_week_before_and_an_overdue_notice_comes_at_most_30_days_late(app, group):
    """Learners who joined a group late: a deadline 8 days ahead is not yet reminded, 2 days ahead is;
    one passed 30 days ago still gets its overdue notice, one passed 31 days ago no longer does."""
    for days, name in ((8, "Anna"), (2, "Bram"), (-30, "Cees"), (-31, "Dirk")):
        group(TODAY + timedelta(days=days), name, group_name=f"Groep {name}")
    title = app.extensions["catalog"].module.title

    run(app)

    learners = [row for row in outbox_rows(app) if row.topic != "reminder.trainer_digest"]
    assert sorted((row.recipient, row.subject) for row in learners) == [
        ("bram@example.org", f"Over 2 dagen is de deadline voor {title}"),
        ("cees@example.org", f"De deadline voor {title} is verstreken"),
    ]


def test_a_deadline_today_skips_only_that_learner(app, group):
    """Yesterday's reminder said "tomorrow"; the other learners still get theirs on the same run."""
    for days, name in ((0, "Anna"), (3, "Bram"), (0, "Cees"), (1, "Dirk")):
        group(TODAY + timedelta(days=days), name, group_name=f"Groep {name}")
    assert run(app).written == {ReminderKind.DUE_SOON: 1, ReminderKind.DUE_TOMORROW: 1}
    assert sorted(recipient for recipient, _ in mails(app)) == ["bram@example.org", "dirk@example.org"]


def test_the_overview_lists_groups_by_name_oldest_first_and_learners_by_name(app, group, create_user):
    late = TODAY - timedelta(days=3)
    south, _, _ = group(late, "Zeger", "Anna", group_name="Groep Zuid")
    bart = create_user(name="Bart", email="zz@example.org")  # neither made first nor first by address
    with app.app_context():
        db.session.add(GroupMember(group_id=south, user_id=bart.id))
        db.session.commit()
    older, _, _ = group(late, "Bram", group_name="Groep Noord")
    newer, _, _ = group(late, "Aart", group_name="Groep Noord")  # the same name: a second group

    run(app)

    [digest] = [row for row in outbox_rows(app) if row.topic == "reminder.trainer_digest"]
    listed = re.findall(r"^(Groep ‘.+’:|- \w+|https://\S+/groepen/\d+)", digest.body_text, re.MULTILINE)
    assert listed == [
        "Groep ‘Groep Noord’:",
        "- Bram",
        f"https://hechtwijzer.test/trainer/groepen/{older}",
        "Groep ‘Groep Noord’:",
        "- Aart",
        f"https://hechtwijzer.test/trainer/groepen/{newer}",
        "Groep ‘Groep Zuid’:",
        "- Anna",
        "- Bart",
        "- Zeger",
        f"https://hechtwijzer.test/trainer/groepen/{south}",
    ]


def test_the_overview_goes_to_active_trainers_and_admins_and_late_means_after_the_due_date(app, group):
    late = TODAY - timedelta(days=1)
    _, _, tineke = group(late, "Anna", group_name="Groep Noord")
    group(TODAY, "Bram", group_name="Groep Zuid")  # due today: not late yet
    _, _, ada = group(late, "Cees", trainer="Ada Admin", group_name="Groep Oost")
    _, _, otto = group(late, "Dirk", trainer="Otto Weg", group_name="Groep West")
    _, _, lotte = group(late, "Eva", trainer="Lotte Oud", group_name="Groep Midden")
    set_users(app, ada, role=Role.ADMIN)
    set_users(app, otto, active=False)  # deactivated
    set_users(app, lotte, role=Role.LEARNER)  # no longer a trainer

    run(app)

    digests = {row.recipient: row.body_text for row in outbox_rows(app) if row.topic == "reminder.trainer_digest"}
    with app.app_context():
        addresses = {user_id: db.session.get(User, user_id).email for user_id in (tineke, ada)}
    assert set(digests) == {addresses[tineke], addresses[ada]}
    assert "- Anna (deadline 30 november 2026)" in digests[addresses[tineke]]
    assert "Bram" not in digests[addresses[tineke]] and "Zuid" not in digests[addresses[tineke]]
    assert "- Cees (deadline 30 november 2026)" in digests[addresses[ada]]
    switch_off = "Uitzetten kan bij je profiel:\n\nhttps://hechtwijzer.test/account/profiel\n"
    assert all(switch_off in body for body in digests.values())


def test_a_certificate_notice_only_for_the_newest_current_certificate_of_this_module(app, create_user, module_id):
    """Noticed: a certificate valid through today, and one whose owner has a newer certificate only for
    another module. Not: an expired certificate, another module's, a deactivated account's, an account
    with reminders off. A renewed certificate gets its own notice when it in turn runs out."""
    people = {n: create_user(email=f"{n}@example.org") for n in ("anna", "bram", "cees", "dirk", "eva", "fenna")}
    ending = TODAY + timedelta(days=20)
    certify(app, people["anna"].id, module_id, valid_until=TODAY)
    certify(app, people["bram"].id, module_id, valid_until=TODAY - timedelta(days=1))
    for name in ("cees", "dirk", "fenna"):
        certify(app, people[name].id, module_id, valid_until=ending)
    certify(app, people["eva"].id, "andere-module", valid_until=ending)
    certify(app, people["fenna"].id, "andere-module", valid_until=TODAY + timedelta(days=700), sequence=2)
    set_users(app, people["cees"].id, active=False)
    set_users(app, people["dirk"].id, reminders_enabled=False)

    run(app)

    notices = {row.recipient: row.body_text for row in outbox_rows(app)}
    assert sorted(notices) == ["anna@example.org", "fenna@example.org"]
    assert "Zet ze uit bij je profiel:\n\nhttps://hechtwijzer.test/account/profiel\n" in notices["anna@example.org"]

    certify(app, people["anna"].id, module_id, valid_until=TODAY + timedelta(days=30), sequence=2)  # renewed
    assert run(app, NOW + timedelta(days=1)).written == {ReminderKind.CERTIFICATE_EXPIRING: 1}
    subjects = sorted(row.subject.rpartition(" verloopt op ")[2] for row in outbox_rows(app, "anna@example.org"))
    assert subjects == ["1 december 2026", "31 december 2026"]


def test_a_reminder_about_another_module_does_not_stand_in_for_this_one(app, group, module_id):
    due = TODAY + timedelta(days=1)
    _, ids, _ = group(due, "Anna")
    with app.app_context():
        db.session.add(
            ReminderSent(
                user_id=ids["Anna"],
                module_id="andere-module",
                kind=ReminderKind.DUE_TOMORROW,
                occasion=due.isoformat(),
                created_at=NOW,
            )
        )
        db.session.commit()
    assert run(app).written == {ReminderKind.DUE_TOMORROW: 1}
    assert mails(app)[0][0] == "anna@example.org"


def test_a_personal_due_date_counts_only_in_its_own_group_and_module(app, group, module_id):
    """Anna is in two groups, both due in 20 days. In Groep Noord her trainer set her own date today;
    in Groep Zuid she has her own date today only for another module. Two weeks on: overdue in Noord,
    due in 6 days in Zuid."""
    far = TODAY + timedelta(days=20)
    north, ids, _ = group(far, "Anna", group_name="Groep Noord")
    south, _, _ = group(far, group_name="Groep Zuid")
    with app.app_context():
        db.session.add(GroupMember(group_id=south, user_id=ids["Anna"]))
        db.session.add(Assignment(group_id=north, user_id=ids["Anna"], module_id=module_id, due_on=TODAY))
        db.session.add(Assignment(group_id=south, user_id=ids["Anna"], module_id="andere-module", due_on=TODAY))
        db.session.commit()

    report = run(app, NOW + timedelta(days=14))

    assert report.written == {ReminderKind.OVERDUE: 1, ReminderKind.DUE_SOON: 1, ReminderKind.TRAINER_DIGEST: 1}


def test_the_log_says_how_many_reminders_a_run_wrote_for_which_day(app, group, caplog):
    """What an operator reads after the daily run: a count and the Dutch date, no names or addresses."""
    group(TODAY + timedelta(days=1), "Anna", "Bram")
    caplog.set_level("INFO", logger="course.reminders.sending")
    run(app, datetime(2026, 12, 1, 23, 30, tzinfo=UTC))  # already 2 December in Amsterdam
    lines = [r.getMessage() for r in caplog.records if r.name == "course.reminders.sending"]
    assert lines == ["Herinneringen: 0 klaargezet voor 2026-12-02"]
    run(app)
    lines = [r.getMessage() for r in caplog.records if r.name == "course.reminders.sending"]
    assert lines[-1] == "Herinneringen: 2 klaargezet voor 2026-12-01"
