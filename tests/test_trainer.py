"""Trainers: groups, invitations, CSV import, enrolment codes, deadlines, the group dashboard,
extra attempts, resets, attempt review, accreditation exports and item analysis.

Everything a user does goes through HTTP; the assertions look at the database and at the pages.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from markupsafe import escape

from course.extensions import db
from course.formatting import nl_date
from course.models import (
    Assignment,
    Attempt,
    AttemptGrant,
    AttemptMode,
    AttemptStatus,
    AuditEvent,
    Certificate,
    Group,
    GroupMember,
    Invitation,
    Role,
    User,
)
from course.quizzes import attempts as quiz_attempts
from course.quizzes.presenting import without_verdict
from course.timeutil import local_date, utcnow
from course.trainer.exports import HEADER, neutralise
from course.trainer.groups import CODE_ALPHABET
from course.trainer.item_analysis import ItemRow, analyse
from tests.conftest import Person
from tests.helpers import (
    add_members,
    answer,
    assign,
    count,
    due,
    fetch,
    finish_quiz,
    get,
    invitation_id,
    invite,
    new_group,
    post,
    rebuild_progress,
    reset,
    run_sql,
    text,
)
from tests.quiz_helpers import (
    answer_fields,
    attempt_id_from,
    catalog,
    complete_module,
    load_attempt,
    page_state,
    pass_quiz,
    post_attempt,
    start,
    with_policy,
)

# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def trainer(person) -> Person:
    return person(Role.TRAINER, "Tineke Trainer")


def members(app, group_id: int) -> set[int]:
    return set(fetch(app, sa.select(GroupMember.user_id).where(GroupMember.group_id == group_id)))


def invitations(app, group_id: int | None = None) -> set[str]:
    statement = sa.select(Invitation.email)
    if group_id is not None:
        statement = statement.where(Invitation.group_id == group_id)
    return set(fetch(app, statement))


def upload(trainer: Person, group_id: int, data: bytes, filename: str = "cursisten.csv"):
    return post(
        trainer.client,
        f"/trainer/groepen/{group_id}/csv",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


_ROW = re.compile(
    r'<tr( class="row-overdue")?>\s*<th scope="row"><a href="/trainer/groepen/\d+/cursisten/\d+">([^<]*)</a>(.*?)</tr>',
    re.S,
)


def dashboard(trainer: Person, group_id: int, **params) -> list[tuple[str, bool, str]]:
    """(name, flagged as overdue, row html) per learner row, in page order."""
    response = trainer.client.get(f"/trainer/groepen/{group_id}", query_string=params)
    assert response.status_code == 200
    return [(name, bool(overdue), html) for overdue, name, html in _ROW.findall(text(response))]


def search(trainer: Person, group_id: int, term: str, **params) -> list[tuple[str, bool, str]]:
    """Dashboard rows after searching: the term is posted and kept in the session, not in the URL."""
    response = post(trainer.client, f"/trainer/groepen/{group_id}", {"term": term, **params})
    assert response.status_code == 302
    assert not term or term.lower() not in response.headers["Location"].lower()
    page = trainer.client.get(response.headers["Location"])
    return [(name, bool(overdue), html) for overdue, name, html in _ROW.findall(text(page))]


def row_of(trainer: Person, group_id: int, name: str) -> str:
    rows = {n: html for n, _, html in dashboard(trainer, group_id)}
    return rows[str(escape(name))]


def audit_events(app, action: str) -> list[AuditEvent]:
    return fetch(app, sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


# --- groups and who may see them -----------------------------------------------------------


def test_a_trainer_creates_a_group_with_a_generated_code(app, trainer):
    group_id = new_group(trainer, "Jeugdteam Oost")
    group = get(app, Group, group_id)
    assert group.name == "Jeugdteam Oost" and group.trainer_id == trainer.id
    assert len(group.enrolment_code) == 10 and set(group.enrolment_code) <= set(CODE_ALPHABET)
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    assert "Jeugdteam Oost" in page and group.enrolment_code in page
    overview = text(trainer.client.get("/trainer/"))
    assert "Jeugdteam Oost" in overview and group.enrolment_code in overview
    assert [e.subject_id for e in audit_events(app, "group.create")] == [group_id]
    # A second group gets a code of its own.
    assert get(app, Group, new_group(trainer, "Tweede")).enrolment_code != group.enrolment_code


def test_a_group_needs_a_name(app, trainer):
    response = post(trainer.client, "/trainer/groepen", {"name": "  "}, follow_redirects=True)
    assert "Geef de groep een naam" in text(response)
    assert count(app, Group) == 0


def test_another_trainers_group_does_not_exist_for_them(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer, "Groep van Tineke")
    add_members(trainer, group_id, learner)
    attempt_id = finish_quiz(app, learner, "eindtoets")
    code = get(app, Group, group_id).enrolment_code
    base = f"/trainer/groepen/{group_id}"

    other = person(Role.TRAINER, "Olaf Anderetrainer")
    assert "Groep van Tineke" not in text(other.client.get("/trainer/"))
    for url in (
        base,
        f"{base}/cursisten/{learner.id}",
        f"{base}/pogingen/{attempt_id}",
        f"{base}/accreditatie.csv",
        f"{base}/accreditatie.xlsx",
        f"/trainer/toetsen/eindtoets/analyse?groep={group_id}",
    ):
        assert other.client.get(url).status_code == 404, url
    reason = {"reason": "Omdat het kan, zegt de ander", "quiz_id": "eindtoets"}
    for url, data in (
        (f"{base}/uitnodigen", {"email": "nieuw@example.org"}),
        (f"{base}/code", {}),
        (f"{base}/uitnodigingen/{invitation_id(app, group_id, learner.email)}/opnieuw", {}),
        (f"{base}/opdracht", {"due_on": due(7)}),
        (f"{base}/cursisten/{learner.id}/extra-poging", reason),
        (f"{base}/pogingen/{attempt_id}/ongedaan-maken", reason),
    ):
        assert post(other.client, url, data).status_code == 404, url
    csv_response = upload(other, group_id, b"email\nnieuw@example.org\n")
    assert csv_response.status_code == 404
    # Nothing the other trainer tried changed anything.
    assert invitations(app) == {learner.email}  # only the accepted one
    assert get(app, Group, group_id).enrolment_code == code
    assert count(app, Assignment) == count(app, AttemptGrant) == 0
    assert get(app, Attempt, attempt_id).mode is AttemptMode.GRADED

    for url in ("/trainer/", base, f"{base}/accreditatie.csv", "/trainer/toetsen/eindtoets/analyse"):
        assert learner.client.get(url).status_code == 403, url
    assert post(learner.client, f"{base}/uitnodigen", {"email": "nieuw@example.org"}).status_code == 403
    assert invitations(app) == {learner.email}  # only the accepted one

    admin = person(Role.ADMIN, "Bea Beheer")
    assert admin.client.get(base).status_code == 200


# --- inviting one by one -------------------------------------------------------------------


def test_an_invited_learner_joins_only_by_accepting(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    page = text(invite(trainer, group_id, f"  {learner.email.upper()} "))
    assert "De uitnodiging is verstuurd." in page
    assert members(app, group_id) == set()
    assert "Anna Cursist" not in page
    assert invitations(app, group_id) == {learner.email}
    assert "Je bent lid van de groep" in text(answer(learner, invitation_id(app, group_id, learner.email)))
    assert members(app, group_id) == {learner.id}
    again = text(invite(trainer, group_id, learner.email))
    assert "Deze cursist zat al in de groep." in again
    assert count(app, GroupMember) == 1


def test_an_invalid_or_empty_address_gets_a_message(app, trainer):
    group_id = new_group(trainer)
    assert "Niet uitgenodigd: geen geldig e-mailadres." in text(invite(trainer, group_id, "geen-adres"))
    assert "Niet uitgenodigd: geen geldig e-mailadres." in text(invite(trainer, group_id, "a@b@example.org"))
    assert "Vul een e-mailadres in." in text(invite(trainer, group_id, ""))
    assert members(app, group_id) == set() and invitations(app) == set()


# --- CSV upload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "bom"),
    [(";", True), (",", False), (",", True), (";", False)],
)
def test_a_good_csv_adds_and_invites_everyone(app, trainer, person, delimiter, bom):
    anna = person(Role.LEARNER, "Anna Cursist")
    bram = person(Role.LEARNER, "Bram Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, bram)
    lines = [
        ["Naam", "Email"],
        ["Anna", anna.email.upper()],
        ["Bram", bram.email],
        ["Nieuw", "nieuw@example.org"],
        ["", ""],
    ]
    body = "\r\n".join(delimiter.join(line) for line in lines) + "\r\n"
    response = upload(trainer, group_id, (("\ufeff" if bom else "") + body).encode("utf-8"))
    page = text(response)
    assert response.status_code == 200
    assert "Het bestand is verwerkt: 2 uitgenodigd, 1 al lid." in page
    report = dict(re.findall(r'<th scope="row">([^<]*)</th><td>([^<]*)</td>', page))
    assert report == {anna.email: "uitgenodigd", bram.email: "al lid", "nieuw@example.org": "uitgenodigd"}
    assert members(app, group_id) == {bram.id}  # Anna joins only when she accepts
    assert invitations(app, group_id) == {anna.email, bram.email, "nieuw@example.org"}


def test_a_single_column_csv_works(app, trainer):
    group_id = new_group(trainer)
    response = upload(trainer, group_id, b"e-mail\neen@example.org\ntwee@example.org\n")
    assert response.status_code == 200
    assert invitations(app, group_id) == {"een@example.org", "twee@example.org"}


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("Kapot;geen-adres", "regel 4: geen geldig e-mailadres"),
        ("Dubbel;ANNA@example.org", "regel 4: staat dubbel in het bestand"),
        ("Leeg;", "regel 4: geen geldig e-mailadres"),
    ],
)
def test_one_bad_row_rejects_the_whole_file(app, trainer, person, bad_line, message):
    learner = person(Role.LEARNER, "Bestaande Cursist")
    group_id = new_group(trainer)
    data = f"naam;email\nAnna;anna@example.org\nBestaand;{learner.email}\n{bad_line}\nZus;zus@example.org\n"
    response = upload(trainer, group_id, data.encode())
    page = text(response)
    assert response.status_code == 400
    assert "Niets gewijzigd" in page and "er is niemand toegevoegd of uitgenodigd" in page
    assert message in page
    assert "regel 2: in orde" in page and "regel 5: in orde" in page
    assert members(app, group_id) == set()
    assert invitations(app) == set()


def test_the_report_names_the_real_line_after_blank_lines(app, trainer):
    group_id = new_group(trainer)
    response = upload(trainer, group_id, b"email\n\neen@example.org\n\nkapot\n")
    page = text(response)
    assert response.status_code == 400
    assert "regel 3: in orde" in page  # line 3 of the file as the trainer sees it in an editor
    assert "regel 5: geen geldig e-mailadres" in page
    assert invitations(app) == set()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email\nJosé@example.org\n".encode("latin-1"), "Het bestand is geen UTF-8-tekst"),
        (b"naam;adres\nAnna;anna@example.org\n", "De eerste regel moet een kolom ‘email’ bevatten."),
        (b"", "Het bestand is leeg."),
        (b"\xef\xbb\xbf\r\n\r\n", "Het bestand is leeg."),
        (b"email\n", "Het bestand bevat geen e-mailadressen."),
    ],
)
def test_an_unusable_file_gets_a_clear_message_and_changes_nothing(app, trainer, data, message):
    group_id = new_group(trainer)
    response = upload(trainer, group_id, data)
    assert response.status_code == 400
    assert message in text(response) and "Niets gewijzigd" in text(response)
    assert members(app, group_id) == set() and invitations(app) == set()


def test_uploading_without_a_file_asks_for_one(app, trainer):
    group_id = new_group(trainer)
    response = post(trainer.client, f"/trainer/groepen/{group_id}/csv", follow_redirects=True)
    assert "Kies een CSV-bestand." in text(response)


# --- enrolment code ------------------------------------------------------------------------


def join(learner: Person, code: str):
    return post(learner.client, "/groep-aansluiten", {"code": code}, follow_redirects=True)


def test_a_learner_joins_with_the_code_however_it_is_typed(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer, "Consultatiebureau Zuid")
    code = get(app, Group, group_id).enrolment_code
    assert learner.client.get("/groep-aansluiten").status_code == 200
    typed = f"  {code[:5].lower()} - {code[5:].lower()} "
    response = join(learner, typed)
    assert "Je bent aangesloten bij de groep ‘Consultatiebureau Zuid’." in text(response)
    assert members(app, group_id) == {learner.id}
    join(learner, code)  # joining twice changes nothing
    assert count(app, GroupMember) == 1


def test_a_wrong_code_joins_nothing(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    code = get(app, Group, group_id).enrolment_code
    wrong = "0" + code[1:]  # 0 is not in the code alphabet, so no group has this code
    response = join(learner, wrong)
    assert response.status_code == 200
    assert "Deze code kennen we niet." in text(response)
    assert "Vul de code in" in text(join(learner, ""))
    assert "Deze code kennen we niet." in text(join(learner, "--"))
    assert count(app, GroupMember) == 0
    assert get(app, Group, group_id).enrolment_code == code
    assert post(trainer.client, "/groep-aansluiten", {"code": code}).status_code == 403  # for learners only


def test_renewing_the_code_makes_the_old_one_fail(app, trainer, person):
    early = person(Role.LEARNER, "Vroege Cursist")
    late = person(Role.LEARNER, "Late Cursist")
    group_id = new_group(trainer)
    old = get(app, Group, group_id).enrolment_code
    join(early, old)
    response = post(trainer.client, f"/trainer/groepen/{group_id}/code", follow_redirects=True)
    assert "de oude werkt niet meer" in text(response)
    new = get(app, Group, group_id).enrolment_code
    assert new != old and new in text(response)
    assert "Deze code kennen we niet." in text(join(late, old))
    assert members(app, group_id) == {early.id}  # who joined earlier stays
    assert "Je bent aangesloten" in text(join(late, new))
    assert members(app, group_id) == {early.id, late.id}
    assert [e.subject_id for e in audit_events(app, "group.renew_code")] == [group_id]


# --- assignments and deadlines -----------------------------------------------------------------


def set_due(app, group_id: int, user_id: int | None, days: int) -> None:
    """Move a deadline (into the past, which the form refuses) directly in the database."""
    which = Assignment.user_id.is_(None) if user_id is None else Assignment.user_id == user_id
    run_sql(
        app,
        sa.update(Assignment)
        .where(Assignment.group_id == group_id, which)
        .values(due_on=local_date(utcnow()) + timedelta(days=days)),
    )
    rebuild_progress(app)


def test_the_form_refuses_a_deadline_in_the_past(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    assert "Kies een datum vandaag of later." in text(assign(trainer, group_id, due(-1)))
    assert "Kies een datum vandaag of later." in text(assign(trainer, group_id, due(-1), learner))
    assert "Kies een datum" in text(assign(trainer, group_id, "geen datum"))
    assert count(app, Assignment) == 0


def test_today_means_the_dutch_date_also_just_after_midnight(app, trainer, monkeypatch):
    # 23:30 UTC on 27 November is 00:30 on 28 November in the Netherlands.
    monkeypatch.setattr("course.trainer.forms.utcnow", lambda: datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    group_id = new_group(trainer)
    assert "Kies een datum vandaag of later." in text(assign(trainer, group_id, "2026-11-27"))
    assert count(app, Assignment) == 0
    assert "Deadline vastgelegd: 28 november 2026." in text(assign(trainer, group_id, "2026-11-28"))
    assert count(app, Assignment) == 1


def test_a_personal_deadline_wins_over_the_group_deadline(app, trainer, person):
    anna = person(Role.LEARNER, "Anna Cursist")
    bram = person(Role.LEARNER, "Bram Cursist")
    group_id = new_group(trainer, "Groep Noord")
    add_members(trainer, group_id, anna, bram)

    response = assign(trainer, group_id, due(14))
    assert "Deadline vastgelegd" in text(response)
    response = assign(trainer, group_id, due(30), anna)
    assert response.request.path == f"/trainer/groepen/{group_id}/cursisten/{anna.id}"
    assignments = {a.user_id: a.due_on.isoformat() for a in fetch(app, sa.select(Assignment))}
    assert assignments == {None: due(14), anna.id: due(30)}
    assert all(a.assigned_by_id == trainer.id for a in fetch(app, sa.select(Assignment)))

    def shown(day: str, length: str = "medium") -> str:
        return nl_date(date.fromisoformat(day), length)

    assert shown(due(30)) in row_of(trainer, group_id, "Anna Cursist")
    assert shown(due(14)) in row_of(trainer, group_id, "Bram Cursist")
    home = text(anna.client.get("/"))
    assert "Opdrachten van je trainer" in home and "Tineke Trainer (Groep Noord)" in home
    assert shown(due(30), "long") in home and "(persoonlijke deadline)" in home
    assert "te laat" not in home
    assert shown(due(14), "long") in text(bram.client.get("/"))

    # The group's deadline passes, Anna's own one does not: only Bram is late, for both of them to see.
    set_due(app, group_id, None, -2)
    assert "te laat" not in text(anna.client.get("/"))
    assert "te laat" in text(bram.client.get("/"))
    flagged = {name: overdue for name, overdue, _ in dashboard(trainer, group_id)}
    assert flagged == {"Anna Cursist": False, "Bram Cursist": True}

    # A second assignment updates the date rather than adding a row.
    assign(trainer, group_id, due(20), anna)
    assert count(app, Assignment) == 2
    assert fetch(app, sa.select(Assignment.due_on).where(Assignment.user_id == anna.id))[0].isoformat() == due(20)


def test_a_personal_deadline_only_for_a_member(app, trainer, person):
    outsider = person(Role.LEARNER, "Buiten Groep")
    group_id = new_group(trainer)
    response = post(
        trainer.client, f"/trainer/groepen/{group_id}/opdracht", {"due_on": due(5), "learner_id": str(outsider.id)}
    )
    assert response.status_code == 404
    assert count(app, Assignment) == 0


def test_overdue_learners_are_flagged_filtered_sorted_and_searchable(app, trainer, person):
    anna = person(Role.LEARNER, "Anna de Vries")
    bram = person(Role.LEARNER, "Bram Jansen")
    cees = person(Role.LEARNER, "Cees Bakker")
    group_id = new_group(trainer, "Groep Noord")
    add_members(trainer, group_id, anna, bram, cees)
    assign(trainer, group_id, due(10))
    post(anna.client, f"/lessen/{catalog(app).lessons[0].id}/gelezen")  # Anna has started
    set_due(app, group_id, None, -1)

    home = text(cees.client.get("/"))
    assert "Opdrachten van je trainer" in home and '<strong class="tag-overdue">te laat</strong>' in home

    rows = dashboard(trainer, group_id)
    assert {name for name, overdue, _ in rows if overdue} == {"Anna de Vries", "Bram Jansen", "Cees Bakker"}
    assert all('<strong class="tag-overdue">Te laat</strong>' in html for _, _, html in rows)
    assert "<strong>3 te laat</strong>" in text(trainer.client.get(f"/trainer/groepen/{group_id}"))

    # Anna gets more time: she is no longer late, only "bezig".
    assign(trainer, group_id, due(3), anna)
    late = dashboard(trainer, group_id, status="te laat")
    assert [name for name, _, _ in late] == ["Bram Jansen", "Cees Bakker"]
    assert [name for name, _, _ in dashboard(trainer, group_id, status="bezig")] == ["Anna de Vries"]
    assert dashboard(trainer, group_id, status="afgerond") == []

    by_name_desc = dashboard(trainer, group_id, sorteer="naam", volgorde="aflopend")
    assert [name for name, _, _ in by_name_desc] == ["Cees Bakker", "Bram Jansen", "Anna de Vries"]
    by_name = dashboard(trainer, group_id, sorteer="naam", volgorde="oplopend")
    assert [name for name, _, _ in by_name] == ["Anna de Vries", "Bram Jansen", "Cees Bakker"]
    by_status = dashboard(trainer, group_id)  # default: most urgent first
    assert [name for name, _, _ in by_status] == ["Bram Jansen", "Cees Bakker", "Anna de Vries"]

    assert [name for name, _, _ in search(trainer, group_id, "JANS")] == ["Bram Jansen"]
    assert [name for name, _, _ in search(trainer, group_id, cees.email)] == ["Cees Bakker"]
    # The term stays while the trainer pages, sorts and filters, until it is cleared.
    assert [name for name, _, _ in dashboard(trainer, group_id, sorteer="naam")] == ["Cees Bakker"]
    late_and_cees = search(trainer, group_id, cees.email, status="te laat", sorteer="naam", volgorde="aflopend")
    assert [name for name, _, _ in late_and_cees] == ["Cees Bakker"]
    assert search(trainer, group_id, "niemand") == []
    nothing = trainer.client.get(f"/trainer/groepen/{group_id}")
    assert "Geen cursisten die aan het filter voldoen." in text(nothing)
    assert len(search(trainer, group_id, "")) == 3


# --- dashboard content -----------------------------------------------------------------------


def test_the_dashboard_shows_reading_scores_attempts_and_certificates(app, trainer, person, monkeypatch):
    with_policy(app, monkeypatch, "eindtoets", cooldown_minutes=0)
    busy = person(Role.LEARNER, "Anna Bezig")
    done = person(Role.LEARNER, "Bram Klaar")
    idle = person(Role.LEARNER, "Cees Niets")
    group_id = new_group(trainer)
    add_members(trainer, group_id, busy, done, idle)

    for lesson in catalog(app).lessons[:2]:
        post(busy.client, f"/lessen/{lesson.id}/gelezen")
    finish_quiz(app, busy, "eindtoets", right=True)
    finish_quiz(app, busy, "eindtoets", right=False)
    complete_module(app, done.client)
    certificate = fetch(app, sa.select(Certificate).where(Certificate.user_id == done.id))[0]

    lessons = len(catalog(app).lessons)
    busy_row = row_of(trainer, group_id, "Anna Bezig")
    assert f"<td>2/{lessons}</td>" in busy_row
    assert "<td>Bezig</td>" in busy_row
    # eindtoets: best 100%, last 0%, passed once, 2 of 3 attempts used; casustoets not tried.
    assert "100% / 0% ✓" in busy_row and "2 pog., 1 over" in busy_row
    assert busy_row.count("<td>–</td>") >= 2  # casustoets and certificate
    done_row = row_of(trainer, group_id, "Bram Klaar")
    assert f"<td>{lessons}/{lessons}</td>" in done_row and "<td>Afgerond</td>" in done_row
    assert f"Geldig ({nl_date(certificate.completed_on)})" in done_row
    assert done_row.count("100% / 100% ✓") == 2 and done_row.count("1 pog., 2 over") == 2
    idle_row = row_of(trainer, group_id, "Cees Niets")
    assert f"<td>0/{lessons}</td>" in idle_row and "<td>Niet gestart</td>" in idle_row

    detail = text(trainer.client.get(f"/trainer/groepen/{group_id}/cursisten/{busy.id}"))
    assert f"<dd>2 van {lessons}</dd>" in detail and "<dd>Nog niet</dd>" in detail
    assert re.search(r"Reden voor een extra poging Eindtoets \(nu 1 over\)", detail)
    assert detail.count("(geslaagd)") == 1
    done_detail = text(trainer.client.get(f"/trainer/groepen/{group_id}/cursisten/{done.id}"))
    assert f"Geldig, afgerond op {nl_date(certificate.completed_on)}" in done_detail


# --- extra attempts ------------------------------------------------------------------------------


def test_an_extra_attempt_needs_a_reason_and_unblocks_the_learner(app, trainer, person, monkeypatch):
    with_policy(app, monkeypatch, "eindtoets", max_attempts=1, cooldown_minutes=0)
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    finish_quiz(app, learner, "eindtoets", right=False)

    blocked = start(learner.client, "eindtoets")
    assert blocked.headers["Location"].endswith("/toetsen/eindtoets")
    assert "Je hebt geen pogingen meer over." in text(learner.client.get("/toetsen/eindtoets"))
    assert count(app, Attempt, Attempt.user_id == learner.id) == 1
    assert "1 pog., 0 over" in row_of(trainer, group_id, "Anna Cursist")

    url = f"/trainer/groepen/{group_id}/cursisten/{learner.id}/extra-poging"
    for reason in ("", "   ", "kort"):
        response = post(trainer.client, url, {"quiz_id": "eindtoets", "reason": reason}, follow_redirects=True)
        assert "Geef een reden op (5 tot 500 tekens)." in text(response)
    assert count(app, AttemptGrant) == 0 and audit_events(app, "attempt.grant_extra") == []
    assert post(trainer.client, url, {"quiz_id": "kennischeck-inleiding", "reason": "Onbeperkt al"}).status_code == 400
    assert post(trainer.client, url, {"quiz_id": "bestaat-niet", "reason": "Geen toets"}).status_code == 400
    assert count(app, AttemptGrant) == 0

    reason = "Stroomstoring tijdens de eerste poging"
    response = post(trainer.client, url, {"quiz_id": "eindtoets", "reason": reason}, follow_redirects=True)
    assert "Anna Cursist heeft een extra poging voor Eindtoets." in text(response)
    (grant,) = fetch(app, sa.select(AttemptGrant))
    assert (grant.user_id, grant.quiz_id, grant.extra, grant.granted_by_id) == (learner.id, "eindtoets", 1, trainer.id)
    (event,) = audit_events(app, "attempt.grant_extra")
    assert event.actor_id == trainer.id and event.subject_type == "user" and event.subject_id == learner.id
    assert event.details == {"quiz_id": "eindtoets", "reason": reason}
    assert "1 pog., 1 over" in row_of(trainer, group_id, "Anna Cursist")

    again = start(learner.client, "eindtoets")
    assert "/pogingen/" in again.headers["Location"]
    new_attempt, _ = load_attempt(app, attempt_id_from(again))
    assert new_attempt.number == 2 and new_attempt.mode is AttemptMode.GRADED


# --- resetting attempts ------------------------------------------------------------------------------


def test_a_reset_attempt_no_longer_counts(app, trainer, person, monkeypatch):
    with_policy(app, monkeypatch, "eindtoets", max_attempts=1, cooldown_minutes=0)
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    attempt_id = finish_quiz(app, learner, "eindtoets", right=True)
    assert "100% / 100% ✓" in row_of(trainer, group_id, "Anna Cursist")

    assert "Geef een reden op" in text(reset(trainer, group_id, attempt_id, ""))
    assert "Geef een reden op" in text(reset(trainer, group_id, attempt_id, "nee"))
    assert get(app, Attempt, attempt_id).mode is AttemptMode.GRADED
    assert audit_events(app, "attempt.reset") == []

    reason = "Samen met een collega gemaakt; overdoen"
    page = text(reset(trainer, group_id, attempt_id, reason))
    assert "De poging is ongedaan gemaakt en telt niet meer mee." in page
    assert "nee, ongedaan gemaakt" in page
    assert f"/pogingen/{attempt_id}/ongedaan-maken" not in page
    assert re.search(r"Reden voor een extra poging Eindtoets \(nu 1 over\)", page)
    attempt = get(app, Attempt, attempt_id)
    assert attempt.mode is AttemptMode.VOIDED and attempt.percent == 100  # kept for the record
    (event,) = audit_events(app, "attempt.reset")
    assert event.actor_id == trainer.id and event.subject_type == "attempt" and event.subject_id == attempt_id
    assert event.details["reason"] == reason and event.details["user_id"] == learner.id
    assert event.details["quiz_id"] == "eindtoets" and event.details["percent"] == 100

    # Nothing of it counts any more: no best score, not passed, the attempt is back.
    cell = row_of(trainer, group_id, "Anna Cursist")
    assert "✓" not in cell and "pog." not in cell
    with app.app_context():
        user = db.session.get(User, learner.id)
        standing = quiz_attempts.current_standing(user, catalog(app).quiz("eindtoets"), utcnow())
    assert standing.attempts_left == 1 and standing.best_percent is None and not standing.passed
    assert standing.can_start
    home = text(learner.client.get("/"))
    assert re.search(r"Eindtoets</a>.*?<td>–</td>\s*<td>–</td>\s*<td>1</td>\s*<td>Nog niet gemaakt</td>", home, re.S)

    # Resetting twice changes nothing more.
    assert "al ongedaan gemaakt" in text(reset(trainer, group_id, attempt_id, reason))
    assert len(audit_events(app, "attempt.reset")) == 1

    restarted = start(learner.client, "eindtoets")
    assert "/pogingen/" in restarted.headers["Location"]
    assert load_attempt(app, attempt_id_from(restarted))[0].number == 2  # numbers are never reused


def test_an_open_tab_cannot_save_into_a_reset_attempt(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    attempt_id = attempt_id_from(start(learner.client, "eindtoets"))
    _, revision, token = page_state(learner.client, attempt_id)  # the learner's open tab
    fields = answer_fields(app, attempt_id, right=True)

    assert "De poging is ongedaan gemaakt" in text(reset(trainer, group_id, attempt_id, "Storing bij het starten"))
    voided, _ = load_attempt(app, attempt_id)
    assert voided.mode is AttemptMode.VOIDED and voided.status is AttemptStatus.FINISHED

    as_fetch = post_attempt(
        learner.client,
        attempt_id,
        "save",
        fields,
        revision=revision,
        token=token,
        headers={"X-Requested-With": "fetch"},
    )
    assert as_fetch.status_code == 409 and "error" in as_fetch.get_json()
    as_form = post_attempt(learner.client, attempt_id, "save", fields, revision=revision, token=token)
    assert as_form.status_code == 302 and as_form.headers["Location"].endswith(f"/pogingen/{attempt_id}/resultaat")
    finished = post_attempt(learner.client, attempt_id, "finish", fields, revision=revision, token=token)
    assert finished.status_code == 302
    after, items = load_attempt(app, attempt_id)
    assert after.mode is AttemptMode.VOIDED and after.revision == voided.revision
    assert after.percent is None and all(item.response is None for item in items)

    # The learner simply starts again.
    restarted = start(learner.client, "eindtoets")
    assert attempt_id_from(restarted) != attempt_id


# --- reviewing an attempt -------------------------------------------------------------------------------


def explanations(app, quiz_id: str, question_ids: list[str]) -> list[str]:
    quiz = catalog(app).quiz(quiz_id)
    found = []
    for question_id in question_ids:
        question = quiz.question(question_id)
        found += [o.explanation for o in question.options] + [i.explanation for i in question.items]
    return found


def test_a_trainer_reviews_a_finished_attempt_with_answers_and_explanations(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    attempt_id = finish_quiz(app, learner, "eindtoets", right=False)
    attempt, items = load_attempt(app, attempt_id)

    response = trainer.client.get(f"/trainer/groepen/{group_id}/pogingen/{attempt_id}")
    page = text(response)
    assert response.status_code == 200
    assert "Eindtoets – poging 1 van Anna Cursist" in page
    assert f"{attempt.points:g} van {attempt.max_points} punten ({attempt.percent:g}%) – niet geslaagd" in page
    quiz = catalog(app).quiz("eindtoets")
    for item in items:
        assert str(escape(quiz.question(item.question_id).prompt)) in page
    for explanation in explanations(app, "eindtoets", [item.question_id for item in items]):
        assert str(escape(without_verdict(explanation))) in page
    assert "Gekozen." in page and "Juist antwoord." in page


def test_an_open_attempt_is_shown_without_the_key(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    attempt_id = attempt_id_from(start(learner.client, "eindtoets"))
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}/pogingen/{attempt_id}"))
    assert "Deze poging is nog bezig" in page
    assert "Juist antwoord." not in page
    _, items = load_attempt(app, attempt_id)
    for explanation in explanations(app, "eindtoets", [item.question_id for item in items]):
        assert str(escape(explanation)) not in page


def test_attempts_of_learners_outside_the_group_are_not_found(app, trainer, person):
    member = person(Role.LEARNER, "In Groep")
    outsider = person(Role.LEARNER, "Buiten Groep")
    group_id = new_group(trainer)
    add_members(trainer, group_id, member)
    elsewhere = new_group(trainer, "Andere groep")
    add_members(trainer, elsewhere, outsider)
    outsider_attempt = finish_quiz(app, outsider, "eindtoets")
    # The attempt exists in the trainer's other group, but not in this one.
    assert trainer.client.get(f"/trainer/groepen/{elsewhere}/pogingen/{outsider_attempt}").status_code == 200
    assert trainer.client.get(f"/trainer/groepen/{group_id}/pogingen/{outsider_attempt}").status_code == 404
    assert trainer.client.get(f"/trainer/groepen/{group_id}/pogingen/999999").status_code == 404
    assert trainer.client.get(f"/trainer/groepen/{group_id}/cursisten/{outsider.id}").status_code == 404
    reset_response = post(
        trainer.client, f"/trainer/groepen/{group_id}/pogingen/{outsider_attempt}/ongedaan-maken", {"reason": "Zomaar"}
    )
    assert reset_response.status_code == 404
    assert get(app, Attempt, outsider_attempt).mode is AttemptMode.GRADED


# --- accreditation exports ------------------------------------------------------------------------------------


def set_register(learner: Person, register: str, number: str) -> None:
    response = post(
        learner.client,
        "/account/profiel",
        {"display_name": learner.name, "register_name": register, "register_number": number, "consent": "y"},
    )
    assert response.status_code == 302


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def read_xlsx(data: bytes) -> list[list[openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


FORMULA_NAMES = ['=HYPERLINK("http://x")', "+1", "-1", "@cmd"]


def test_exports_hold_only_valid_certificates_and_neutralise_formulas(app, trainer, person):
    module = catalog(app).module
    learners = [person(Role.LEARNER, name) for name in FORMULA_NAMES]
    set_register(learners[0], "SKJ", "12345678")
    unfinished = person(Role.LEARNER, "Nog Bezig")
    outsider = person(Role.LEARNER, "Buiten Groep")
    group_id = new_group(trainer)
    add_members(trainer, group_id, *learners, unfinished)
    for learner in [*learners, outsider]:
        complete_module(app, learner.client)
    pass_quiz(app, unfinished.client, "eindtoets")
    certificates = {c.user_id: c for c in fetch(app, sa.select(Certificate))}
    assert len(certificates) == 5

    csv_response = trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    csv_rows = read_csv(csv_response.data)
    xlsx_response = trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.xlsx")
    assert xlsx_response.status_code == 200
    assert xlsx_response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    xlsx_rows = read_xlsx(xlsx_response.data)

    assert tuple(csv_rows[0]) == HEADER and tuple(c.value for c in xlsx_rows[0]) == HEADER
    by_name = {row[0]: row for row in csv_rows[1:]}
    assert set(by_name) == {"'" + name for name in FORMULA_NAMES}  # not "Nog Bezig", not "Buiten Groep"
    for learner in learners:
        row = by_name["'" + learner.name]
        cert = certificates[learner.id]
        assert row[3] == module.accreditation.points == cert.accreditation_points
        assert row[4] == cert.completed_on.isoformat()
        assert row[5] == module.accreditation.activity_id
        assert row[6] == module.accreditation.body
        assert row[8] == cert.verification_code
    assert by_name["'" + FORMULA_NAMES[0]][1:3] == ["SKJ", "12345678"]  # with consent
    assert by_name["'+1"][1:3] == ["", ""]  # no register, no consent: nothing

    assert len(xlsx_rows) == len(csv_rows)
    for csv_row, xlsx_row in zip(csv_rows[1:], xlsx_rows[1:], strict=True):
        # Points and completion date typed (number, date); every other cell the same text as in the CSV.
        values = [c.value or "" for c in xlsx_row]
        assert values[3] == int(csv_row[3]) and values[4].date().isoformat() == csv_row[4]
        assert values[:3] + values[5:] == csv_row[:3] + csv_row[5:]
        name = xlsx_row[0]
        assert name.value.startswith("'") and name.data_type == "s"
    texts = [
        c
        for row in xlsx_rows
        for i, c in enumerate(row)
        if c.value is not None and (row is xlsx_rows[0] or i not in (3, 4))
    ]
    assert all(c.data_type == "s" for c in texts)


@pytest.mark.parametrize("prefix", ["\ufeff", "\u200b", " \u2060", "\u202e"])
def test_invisible_characters_before_a_formula_do_not_get_it_past_neutralising(prefix):
    assert neutralise(prefix + "=1+1") == "'=1+1"
    assert neutralise(prefix + "@cmd") == "'@cmd"


def test_ordinary_values_are_exported_unchanged():
    assert neutralise("Anna de Vries") == "Anna de Vries"
    assert neutralise("\ufeffAnna") == "\ufeffAnna"  # nothing to neutralise: left as it was issued
    assert neutralise("=1") == "'=1"


def test_a_certificate_name_with_a_byte_order_mark_before_a_formula_is_neutralised_in_both_exports(
    app, trainer, person
):
    """Names can no longer hold U+FEFF, but certificates issued before keep their snapshot."""
    learner = person(Role.LEARNER, "Anna de Vries")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    complete_module(app, learner.client)
    formula = '=HYPERLINK("http://x","klik")'
    run_sql(app, sa.update(Certificate).values(learner_name="\ufeff" + formula))

    csv_rows = read_csv(trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.csv").data)
    xlsx_rows = read_xlsx(trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.xlsx").data)
    assert csv_rows[1][0] == "'" + formula
    assert xlsx_rows[1][0].value == "'" + formula and xlsx_rows[1][0].data_type == "s"


def test_revoked_and_expired_certificates_are_not_exported(app, trainer, person):
    kept = person(Role.LEARNER, "Anna Geldig")
    revoked = person(Role.LEARNER, "Bram Ingetrokken")
    expired = person(Role.LEARNER, "Cees Verlopen")
    group_id = new_group(trainer)
    add_members(trainer, group_id, kept, revoked, expired)
    for learner in (kept, revoked, expired):
        complete_module(app, learner.client)
    certificates = {c.user_id: c for c in fetch(app, sa.select(Certificate))}
    admin = person(Role.ADMIN, "Bea Beheer")
    response = post(
        admin.client, f"/beheer/certificaten/{certificates[revoked.id].id}", {"reason": "Fraude vastgesteld"}
    )
    assert response.status_code == 302
    run_sql(
        app,
        sa.update(Certificate)
        .where(Certificate.user_id == expired.id)
        .values(valid_until=local_date(utcnow()) - timedelta(days=1)),
    )
    rebuild_progress(app)
    states = {name: html for name, _, html in dashboard(trainer, group_id)}
    assert "Ingetrokken" in states["Bram Ingetrokken"] and "Verlopen" in states["Cees Verlopen"]

    csv_rows = read_csv(trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.csv").data)
    assert [row[0] for row in csv_rows[1:]] == ["Anna Geldig"]
    xlsx_rows = read_xlsx(trainer.client.get(f"/trainer/groepen/{group_id}/accreditatie.xlsx").data)
    assert [row[0].value for row in xlsx_rows[1:]] == ["Anna Geldig"]


# --- item analysis: through the page -------------------------------------------------------------------------


_ITEM = re.compile(
    r'<h2 id="item-\d+">\d+\. (?P<prompt>.*?)</h2>\s*<p class="section-ref">Bron: <a href="(?P<href>[^"]+)">'
    r".*?</a> · (?P<answered>\d+) keer beantwoord · p-waarde (?P<p>[^ ]+) · discriminatie (?P<d>[^<]+)</p>"
    r"(?P<rest>.*?)</section>",
    re.S,
)


def item_sections(page: str) -> dict[str, dict[str, str]]:
    return {m["prompt"]: m.groupdict() for m in _ITEM.finditer(page)}


def test_item_analysis_counts_only_the_trainers_own_learners(app, trainer, person, monkeypatch):
    # The same questions in the same order for everyone, so the numbers are known in advance.
    monkeypatch.setattr(quiz_attempts, "_rng", lambda: random.Random(20210301))
    strong = person(Role.LEARNER, "Anna Sterk")
    weak = person(Role.LEARNER, "Bram Zwak")
    dawdler = person(Role.LEARNER, "Cees Bezig")
    group_id = new_group(trainer)
    empty_group = new_group(trainer, "Lege groep")
    add_members(trainer, group_id, strong, weak, dawdler)
    other_trainer = person(Role.TRAINER, "Olaf Anderetrainer")
    outsider = person(Role.LEARNER, "Dirk Elders")
    other_group = new_group(other_trainer, "Groep Olaf")
    add_members(other_trainer, other_group, outsider)

    finish_quiz(app, strong, "eindtoets", right=True)
    weak_attempt = finish_quiz(app, weak, "eindtoets", right=False)
    finish_quiz(app, outsider, "eindtoets", right=True)
    start(dawdler.client, "eindtoets")  # in progress: not counted
    _, items = load_attempt(app, weak_attempt)
    asked = [item.question_id for item in items]

    response = trainer.client.get("/trainer/toetsen/eindtoets/analyse")
    page = text(response)
    assert response.status_code == 200
    assert "over 2 afgeronde pogingen." in page
    sections = item_sections(page)
    quiz = catalog(app).quiz("eindtoets")
    assert len(sections) == len(quiz.all_questions)
    for question in quiz.all_questions:
        found = sections[str(escape(question.prompt))]
        section = catalog(app).section(question.section)
        assert found["href"] == f"/lessen/{section.lesson_id}#{section.anchor}"
        if question.id in asked:
            assert (found["answered"], found["p"]) == ("2", "0,50"), question.id
        else:
            assert (found["answered"], found["p"]) == ("0", "–"), question.id
        assert found["d"] == "–"  # fewer than 10 answers

    # One single-choice question in detail: the right option once, the first wrong option once.
    single = next(quiz.question(q) for q in asked if quiz.question(q).type == "single_choice")
    rest = sections[str(escape(single.prompt))]["rest"]
    right = next(o for o in single.options if o.correct)
    wrong = next(o for o in single.options if not o.correct)
    assert f'<th scope="row">{escape(right.text)}</th><td>1</td><td>50%</td><td>ja</td>' in rest
    assert f'<th scope="row">{escape(wrong.text)}</th><td>1</td><td>50%</td><td>nee</td>' in rest
    for other in single.options:
        if other not in (right, wrong):
            assert f'<th scope="row">{escape(other.text)}</th><td>0</td><td>0%</td>' in rest
    # Two answers are too few to judge a question: the counts are shown, no "veelgekozen onjuist" or "makkelijk".
    assert "veelgekozen onjuist" not in rest and "makkelijk" not in rest
    assert "Nog te weinig antwoorden (2 van de minstens 10) voor een oordeel over deze vraag." in rest

    # The other trainer sees only their own learner; a group filter narrows it down.
    assert "over 1 afgeronde poging." in text(other_trainer.client.get("/trainer/toetsen/eindtoets/analyse"))
    narrowed = trainer.client.get(f"/trainer/toetsen/eindtoets/analyse?groep={empty_group}")
    assert "over 0 afgeronde pogingen." in text(narrowed)
    assert trainer.client.get(f"/trainer/toetsen/eindtoets/analyse?groep={other_group}").status_code == 404
    assert trainer.client.get("/trainer/toetsen/bestaat-niet/analyse").status_code == 404


def test_reset_attempts_leave_the_item_analysis(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    attempt_id = finish_quiz(app, learner, "eindtoets")
    assert "over 1 afgeronde poging." in text(trainer.client.get("/trainer/toetsen/eindtoets/analyse"))
    reset(trainer, group_id, attempt_id, "Technische storing")
    assert "over 0 afgeronde pogingen." in text(trainer.client.get("/trainer/toetsen/eindtoets/analyse"))


# --- item analysis: the statistics (pure) ---------------------------------------------------------------------------


@pytest.fixture
def eindtoets(app):
    return catalog(app).quiz("eindtoets")


def first_of(quiz, kind: str):
    return next(q for q in quiz.all_questions if q.type == kind)


def stats_for(quiz, question, rows):
    return next(s for s in analyse(quiz, rows) if s.question.id == question.id)


def test_facility_is_the_mean_score_and_discrimination_compares_top_and_bottom(eindtoets):
    question = first_of(eindtoets, "single_choice")
    scores = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1]  # by rising attempt percentage
    rows = [ItemRow(i, 5.0 + 10 * i, question.id, float(score), None) for i, score in enumerate(scores)]
    rows.reverse()  # order of the rows does not matter
    noise = [ItemRow(100 + i, 50.0, "een-andere-vraag", 0.0, None) for i in range(5)]
    unanswered = [ItemRow(200, 99.0, question.id, None, None)]  # not graded: ignored
    stats = stats_for(eindtoets, question, rows + noise + unanswered)
    assert stats.answered == 12
    assert stats.facility == pytest.approx(7 / 12)
    # 27% of 12 is 3 attempts: top three all right, bottom three one in three right.
    assert stats.discrimination == pytest.approx(1 - 1 / 3)


def test_partial_scores_count_in_facility_and_discrimination(eindtoets):
    question = first_of(eindtoets, "matching")
    scores = [0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1.0, 1.0, 1.0, 1.0]
    rows = [ItemRow(i, float(i), question.id, score, {}) for i, score in enumerate(scores)]
    stats = stats_for(eindtoets, question, rows)
    assert stats.facility == pytest.approx(sum(scores) / 10)
    assert stats.discrimination == pytest.approx(1.0 - (0.25 + 0.5 + 0.5) / 3)


def test_no_discrimination_below_ten_attempts(eindtoets):
    question = first_of(eindtoets, "single_choice")
    nine = [ItemRow(i, float(i), question.id, float(i % 2), None) for i in range(9)]
    stats = stats_for(eindtoets, question, nine)
    assert stats.answered == 9 and stats.discrimination is None
    assert stats.facility == pytest.approx(4 / 9)
    assert not any("onderscheidt" in flag for flag in stats.flags)
    ten = [*nine, ItemRow(9, 9.0, question.id, 1.0, None)]
    assert stats_for(eindtoets, question, ten).discrimination is not None
    nothing = stats_for(eindtoets, question, [])
    assert (nothing.answered, nothing.facility, nothing.discrimination) == (0, None, None)
    assert nothing.flags == []


def test_option_distribution_counts_each_choice(eindtoets):
    single = first_of(eindtoets, "single_choice")
    right = next(o for o in single.options if o.correct)
    wrongs = [o for o in single.options if not o.correct]
    responses = [right.id] * 5 + [wrongs[0].id] * 3 + [wrongs[1].id] + [None]
    rows = [ItemRow(i, 50.0, single.id, 1.0 if r == right.id else 0.0, r) for i, r in enumerate(responses)]
    stats = stats_for(eindtoets, single, rows)
    shares = {o.label: (o.count, o.share, o.correct) for o in stats.options}
    assert shares[right.text] == (5, 0.5, True)
    assert shares[wrongs[0].text] == (3, pytest.approx(0.3), False)
    assert shares[wrongs[1].text] == (1, pytest.approx(0.1), False)
    assert [o.label for o in stats.options] == [o.text for o in single.options]  # every option, in order

    multiple = first_of(eindtoets, "multiple_response")
    ids = [o.id for o in multiple.options]
    rows = [
        ItemRow(1, 50.0, multiple.id, 0.5, [ids[0], ids[1]]),
        ItemRow(2, 50.0, multiple.id, 0.5, [ids[0]]),
        ItemRow(3, 50.0, multiple.id, 0.0, None),
    ]
    counts = {o.label: o.count for o in stats_for(eindtoets, multiple, rows).options}
    assert counts[multiple.options[0].text] == 2 and counts[multiple.options[1].text] == 1
    assert sum(counts.values()) == 3

    matching = first_of(eindtoets, "matching")
    first, second = matching.items[0], matching.items[1]
    wrong_category = next(c for c in matching.categories if c.id != first.category)
    rows = [
        ItemRow(1, 50.0, matching.id, 1.0, {first.id: first.category, second.id: second.category}),
        ItemRow(2, 50.0, matching.id, 0.5, {first.id: wrong_category.id}),
    ]
    placed = {o.label: (o.count, o.correct) for o in stats_for(eindtoets, matching, rows).options}
    right_label = f"{first.text} → {matching.category(first.category).label}"
    assert placed[right_label] == (1, True)
    assert placed[f"{first.text} → {wrong_category.label}"] == (1, False)


def test_flags_point_at_misconceptions_and_weak_items(eindtoets):
    question = first_of(eindtoets, "single_choice")
    right = next(o for o in question.options if o.correct)
    wrong = next(o for o in question.options if not o.correct)
    # 10 attempts: the strongest four chose the wrong option, the weakest two the right one.
    choices = [right.id, right.id] + [None] * 4 + [wrong.id] * 4
    rows = [ItemRow(i, 10.0 * i, question.id, 1.0 if c == right.id else 0.0, c) for i, c in enumerate(choices)]
    stats = stats_for(eindtoets, question, rows)
    assert stats.facility == pytest.approx(0.2)
    assert stats.discrimination < 0
    assert stats.flags == [
        "moeilijk: minder dan 30% goed",
        "onderscheidt zwak tussen sterke en zwakke cursisten",
        f"veelgekozen onjuist antwoord: ‘{wrong.text}’ (misvatting?)",
    ]
    easy = [ItemRow(i, 10.0 * i, question.id, 1.0, right.id) for i in range(10)]
    easy_stats = stats_for(eindtoets, question, easy)
    assert "makkelijk: meer dan 90% goed" in easy_stats.flags
    assert not any("veelgekozen" in flag for flag in easy_stats.flags)
    # Below 30% a wrong option is not flagged.
    few = [ItemRow(i, 10.0 * i, question.id, 1.0, right.id) for i in range(8)]
    few += [ItemRow(8, 80.0, question.id, 0.0, wrong.id), ItemRow(9, 90.0, question.id, 0.0, wrong.id)]
    assert not any("veelgekozen" in flag for flag in stats_for(eindtoets, question, few).flags)


def test_the_item_analysis_page_is_linked_for_graded_tests(app, trainer):
    page = text(trainer.client.get("/trainer/"))
    assert 'href="/trainer/toetsen/eindtoets/analyse"' in page
    assert 'href="/trainer/toetsen/casustoets/analyse"' in page
