"""The outbox: mail written with its cause, delivered by `flask course send-mail` through a real
SMTP server (aiosmtpd), retried with backoff when the server is down, never sent twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from course import outbox
from course.extensions import db
from course.models import OutboxMessage, OutboxStatus
from course.timeutil import as_utc, utcnow
from tests.conftest import csrf_token, free_port, mail_via_smtp, outbox_rows, plain_text


def enqueue(app, count: int = 1) -> list[int]:
    """Mails to r<i>@example.org, written as any cause writes them."""
    with app.test_request_context():
        ids = [
            outbox.enqueue_mail(f"r{i}@example.org", "registration_existing", "test", login_url="http://x/inloggen").id
            for i in range(count)
        ]
        db.session.commit()
        return ids


def send(app, **kwargs) -> outbox.SendReport:
    with app.app_context():
        return outbox.send_due(**kwargs)


def test_a_mail_is_a_pending_row_until_the_sender_runs(app, smtp_server):
    enqueue(app)
    [row] = outbox_rows(app)
    assert (row.kind, row.status, row.attempts, row.recipient) == ("mail", OutboxStatus.PENDING, 0, "r0@example.org")
    assert row.subject == "Registratie met je e-mailadres bij Hechtwijzer"
    assert smtp_server.messages == []

    report = send(app)

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [message] = smtp_server.messages
    assert message["To"] == "r0@example.org"
    assert message["From"] == "Hechtwijzer <noreply@example.org>"
    assert message["Subject"] == "Registratie met je e-mailadres bij Hechtwijzer"
    assert "http://x/inloggen" in plain_text(message)
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1
    assert row.body_text == ""  # a sent body (which may hold a token) is not kept
    assert send(app).handled == 0  # nothing twice


def test_a_server_that_is_down_loses_nothing_and_the_mail_goes_out_when_it_is_back(app):
    enqueue(app)
    port = free_port()  # nothing listens here yet
    with mail_via_smtp(app, port):
        report = send(app)
    assert (report.sent, report.retrying) == (0, 1)
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert row.last_error.startswith("ConnectionRefusedError")
    assert "@" not in row.last_error
    assert as_utc(row.next_attempt_at) > utcnow() + timedelta(seconds=50)  # first retry after a minute
    assert row.body_text  # kept for the retry

    # Not due yet: a second run now does nothing.
    with mail_via_smtp(app, port):
        assert send(app).handled == 0

    # The server is back and the retry is due.
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):
            received.append(message_from_bytes(envelope.content, policy=default_policy))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_via_smtp(app, port):
            report = send(app, now=utcnow() + timedelta(minutes=2))
    finally:
        controller.stop()
    assert report.sent == 1
    assert [m["To"] for m in received] == ["r0@example.org"]
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.SENT and row.attempts == 2
    assert row.last_error is None  # the admin page no longer shows the earlier failure for it


def test_retries_back_off_exponentially_and_end_in_failure(app):
    enqueue(app)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 4
    delays = []
    try:
        with mail_via_smtp(app, free_port()):
            moment = utcnow()
            for _ in range(4):
                send(app, now=moment)
                [row] = outbox_rows(app)
                if row.status is OutboxStatus.PENDING:
                    delays.append(as_utc(row.next_attempt_at) - moment)
                    moment = as_utc(row.next_attempt_at)
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = 8
    assert [round(d.total_seconds() / 60) for d in delays] == [1, 2, 4]
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.FAILED and row.attempts == 4 and row.body_text == ""
    assert row.last_error == "ConnectionRefusedError errno 111"  # staff still see why it was given up


def test_a_row_stuck_in_sending_is_taken_back_after_the_lease(app, smtp_server):
    [row_id] = enqueue(app)
    with app.app_context():
        claimed = outbox.claim_one("mail", utcnow())  # a sender that claims, then dies
        assert claimed.id == row_id
        assert outbox.claim_one("mail", utcnow()) is None  # held: nobody else takes it
    assert send(app).handled == 0
    later = utcnow() + timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
    assert send(app, now=later).sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["r0@example.org"]


def test_two_senders_running_at_once_send_every_mail_exactly_once(app, smtp_server):
    enqueue(app, 40)
    start = threading.Barrier(2)
    reports: list[outbox.SendReport] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                reports.append(outbox.send_due())
                db.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(r.sent for r in reports) == 40
    recipients = [m["To"] for m in smtp_server.messages]
    assert sorted(recipients) == sorted(f"r{i}@example.org" for i in range(40))  # each once
    with app.app_context():
        statuses = db.session.scalars(sa.select(OutboxMessage.status).distinct()).all()
    assert statuses == [OutboxStatus.SENT]


def test_the_local_default_writes_each_mail_as_an_eml_file(app, tmp_path):
    enqueue(app, 2)
    saved = (
        {key: app.config[key] for key in ("MAIL_BACKEND", "MAIL_FILE_PATH")} if "MAIL_FILE_PATH" in app.config else None
    )
    app.config.update(MAIL_BACKEND="course.mail.eml_files.EmailBackend", MAIL_FILE_PATH=str(tmp_path / "outbox"))
    from course.extensions import mail

    mail.init_app(app)
    try:
        assert send(app).sent == 2
    finally:
        app.config.update(saved or {"MAIL_BACKEND": "locmem"})
        mail.init_app(app)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    parsed = sorted(message_from_bytes(f.read_bytes(), policy=default_policy)["To"] for f in files)
    assert parsed == ["r0@example.org", "r1@example.org"]


def test_send_mail_command_delivers_and_reports(app, runner, smtp_server):
    enqueue(app, 3)
    result = runner.invoke(args=["course", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "Mail: 3 verstuurd, 0 later opnieuw, 0 definitief mislukt." in result.output
    assert len(smtp_server.messages) == 3


def test_a_subject_cannot_carry_extra_headers(app, smtp_server):
    with app.test_request_context():
        row = outbox.enqueue_mail(
            "r@example.org",
            "invitation",
            "test",
            group_name="Groep\r\nBcc: evil@example.org",
            trainer_name="T",
            link="l",
            days=1,
        )
        db.session.commit()
        assert "\n" not in row.subject and "\r" not in row.subject
    send(app)
    [message] = smtp_server.messages
    assert message["Bcc"] is None


def test_admins_see_what_was_mailed_and_what_failed(app, person, smtp_server):
    from course.models import Role

    enqueue(app, 2)
    send(app)
    enqueue(app, 1)
    admin = person(Role.ADMIN, "Anouk Admin")
    page = admin.client.get("/beheer/uitgaande-mail").get_data(as_text=True)
    assert "In wachtrij: <strong>1</strong>" in page and "Verstuurd: <strong>2</strong>" in page
    assert page.count("<td>r0@example.org</td>") == 2  # the sent one and the waiting one


def test_a_request_that_causes_mail_does_not_wait_for_a_mail_server_that_is_down(app, client):
    port = free_port()  # nothing listens: a request that talked to SMTP would fail or hang here
    with mail_via_smtp(app, port):
        token = csrf_token(client, "/registreren")
        response = client.post(
            "/registreren",
            data={
                "csrf_token": token,
                "display_name": "Nieuw",
                "email": "nieuw@example.org",
                "password": "een lang wachtwoord",
                "password_confirm": "een lang wachtwoord",
            },
        )
        assert response.status_code == 200 and "Controleer je e-mail" in response.get_data(as_text=True)
        [row] = outbox_rows(app)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)  # the request did not try to send
        assert send(app).retrying == 1
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.PENDING and as_utc(row.next_attempt_at) > utcnow()
    assert "/registreren/bevestigen/" in row.body_text  # nothing lost


def refusing_server(port: int, stage: str, reply: str):
    """A real SMTP server (aiosmtpd) that answers `reply` at RCPT or at DATA."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_RCPT(self, _server, _session, envelope, address, _options):
            if stage == "rcpt":
                return reply
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, _server, _session, _envelope):
            return reply if stage == "data" else "250 OK"

    return Controller(Handler(), hostname="127.0.0.1", port=port)


def test_staff_see_the_mail_servers_refusal_by_code_without_the_address(app):
    """What the admin's outbox page shows as the error: the kind of refusal and the server's code,
    never the text (a server quotes the recipient's address there). The connection is closed after a
    refusal too (pytest turns an unclosed socket into a failure)."""
    enqueue(app, 2)
    for stage, reply, expected in (
        ("rcpt", "550 5.1.1 <r0@example.org>: no such user", "SMTPRecipientsRefused [550]"),
        ("data", "451 4.3.0 try again later, r1@example.org", "SMTPDataError 451"),
    ):
        port = free_port()
        controller = refusing_server(port, stage, reply)
        controller.start()
        try:
            with mail_via_smtp(app, port):
                assert send(app, limit=1).retrying == 1
        finally:
            controller.stop()
        errors = [row.last_error for row in outbox_rows(app) if row.last_error]
        assert errors[-1] == expected


def test_retries_wait_at_most_the_longest_delay(app, monkeypatch):
    enqueue(app)
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_MAX_SECONDS", 3 * 60)
    delays = []
    with mail_via_smtp(app, free_port()):
        moment = utcnow()
        for _ in range(5):
            send(app, now=moment)
            [row] = outbox_rows(app)
            delays.append(as_utc(row.next_attempt_at) - moment)
            moment = as_utc(row.next_attempt_at)
    assert [round(d.total_seconds() / 60) for d in delays] == [1, 2, 3, 3, 3]


def test_mails_go_out_oldest_first_and_a_limit_stops_the_run(app, smtp_server):
    enqueue(app, 3)
    assert send(app, limit=2).sent == 2
    assert [m["To"] for m in smtp_server.messages] == ["r0@example.org", "r1@example.org"]
    assert send(app).sent == 1
    assert [m["To"] for m in smtp_server.messages][-1] == "r2@example.org"


def test_the_log_follows_each_mail_by_number_without_its_address(app, monkeypatch, caplog, smtp_server):
    """What an operator reads: queued, each failed attempt (no traceback for a server that is down),
    given up after the last attempt, sent; by outbox number and topic, never the recipient."""
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    caplog.set_level("INFO", logger="course.outbox")
    first, second = enqueue(app, 2)
    with mail_via_smtp(app, free_port()):
        moment = utcnow()
        send(app, now=moment)
        send(app, now=moment + timedelta(hours=1))
    [third] = enqueue(app)
    send(app, now=moment + timedelta(hours=2))
    lines = [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records if r.name == "course.outbox"]
    refused = "ConnectionRefusedError errno 111"
    assert lines == [
        ("INFO", f"Outbox {first}: test klaargezet", False),
        ("INFO", f"Outbox {second}: test klaargezet", False),
        ("WARNING", f"Outbox {first}: poging 1 mislukt ({refused}), later opnieuw", False),
        ("WARNING", f"Outbox {second}: poging 1 mislukt ({refused}), later opnieuw", False),
        ("ERROR", f"Outbox {first}: definitief mislukt na 2 pogingen ({refused})", False),
        ("ERROR", f"Outbox {second}: definitief mislukt na 2 pogingen ({refused})", False),
        ("INFO", f"Outbox {third}: test klaargezet", False),
        ("INFO", f"Outbox {third}: test verstuurd", False),
    ]
    assert "@" not in caplog.text


def test_a_limit_counts_mails_given_up_on_too(app, monkeypatch):
    enqueue(app, 3)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    with mail_via_smtp(app, free_port()):
        report = send(app, limit=2)
    assert (report.sent, report.retrying, report.failed) == (0, 0, 2)
    rows = outbox_rows(app)
    assert [row.status for row in rows] == [OutboxStatus.FAILED, OutboxStatus.FAILED, OutboxStatus.PENDING]
    assert rows[0].last_error == "ConnectionRefusedError errno 111"  # given up at once, the reason still shown


def test_the_mail_sender_leaves_rows_of_other_senders_alone(app, smtp_server):
    from course.lti import scores

    with app.app_context():
        db.session.add(
            OutboxMessage(
                kind=scores.KIND, topic="lti.score", recipient="https://lms.example", subject="", body_text="{}"
            )
        )
        db.session.commit()
    assert send(app).handled == 0
    [row] = outbox_rows(app)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert smtp_server.messages == []


def test_a_misconfigured_mail_backend_is_retried_and_logged_with_a_traceback(app, tmp_path, caplog):
    """Not a network error but a setup mistake (MAIL_FILE_PATH is a file): kept for a retry, named by its
    class for staff, and logged with the traceback that helps fixing it."""
    from course.extensions import mail

    enqueue(app)
    not_a_folder = tmp_path / "outbox"
    not_a_folder.write_text("")
    saved = {key: app.config.get(key) for key in ("MAIL_BACKEND", "MAIL_FILE_PATH")}
    app.config.update(MAIL_BACKEND="course.mail.eml_files.EmailBackend", MAIL_FILE_PATH=str(not_a_folder))
    mail.init_app(app)
    try:
        assert send(app).retrying == 1
    finally:
        app.config.update(saved)
        mail.init_app(app)
    [row] = outbox_rows(app)
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "ImproperlyConfigured")
    [warning] = [r for r in caplog.records if r.name == "course.outbox" and r.levelname == "WARNING"]
    assert warning.exc_info and warning.exc_info[0].__name__ == "ImproperlyConfigured"


def test_a_sender_whose_lease_ran_out_does_not_undo_the_mail_another_sender_took_back_and_sent(app, smtp_server):
    """A sender hangs past its lease; another takes the mail back and sends it. When the first one's
    attempt finally fails, the mail stays sent (no error shown to staff) and is not sent a second time."""
    enqueue(app)
    start = utcnow()
    with app.app_context():
        hanging = outbox.claim_one("mail", start)
    later = start + timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
    assert send(app, now=later).sent == 1  # taken back after the lease and sent

    with app.app_context(), mail_via_smtp(app, free_port()):
        outbox.deliver_one(hanging, later)  # the hanging sender's attempt fails at last

    [row] = outbox_rows(app)
    assert (row.status, row.last_error, row.attempts) == (OutboxStatus.SENT, None, 2)
    assert send(app, now=later + timedelta(days=1)).handled == 0
    assert [m["To"] for m in smtp_server.messages] == ["r0@example.org"]  # once


def test_a_sender_that_finds_the_due_mail_locked_by_another_keeps_trying_until_it_gets_it(app, smtp_server):
    """Another sender holds the only due mail locked in the middle of its claim, so this sender's claim
    passes it over (SKIP LOCKED) and takes nothing. The run does not end as if nothing were due: it tries
    again while the mail is still due, and sends it once the other sender lets go without claiming
    (it failed). Row locks are PostgreSQL's; SQLite has one writer at a time, so no claim is lost there."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a claim passed over for a locked row happens on PostgreSQL only (scripts/test.sh's second pass)")
    [row_id] = enqueue(app)
    sender_threads: list[int] = []
    lost_a_claim = threading.Event()
    reports: list[outbox.SendReport] = []
    errors: list[BaseException] = []

    def watch(_conn, cursor, statement, *_args) -> None:
        claimed_nothing = statement.startswith(f"UPDATE {OutboxMessage.__tablename__} ") and cursor.rowcount == 0
        if claimed_nothing and threading.get_ident() in sender_threads:
            lost_a_claim.set()

    def sender() -> None:
        sender_threads.append(threading.get_ident())
        try:
            with app.app_context():
                reports.append(outbox.send_due())
                db.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    other_sender = engine.connect()
    other_claim = other_sender.begin()
    other_sender.execute(sa.select(OutboxMessage.id).where(OutboxMessage.id == row_id).with_for_update())
    sa.event.listen(engine, "after_cursor_execute", watch)
    thread = threading.Thread(target=sender)
    try:
        thread.start()
        assert lost_a_claim.wait(timeout=30)  # the sender passed over the locked mail at least once
        other_claim.rollback()  # the other sender lets go
    finally:
        other_sender.close()
        thread.join(timeout=60)
        sa.event.remove(engine, "after_cursor_execute", watch)
    assert not errors, errors
    assert [(r.sent, r.retrying, r.failed) for r in reports] == [(1, 0, 0)]  # sent in the same run
    assert [m["To"] for m in smtp_server.messages] == ["r0@example.org"]
