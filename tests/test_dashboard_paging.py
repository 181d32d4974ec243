"""The trainer dashboard sorts, filters, searches, counts and pages in SQL, and shows what plain Python
over the same data would: the reference below is the rule the dashboard had when it built every row in
Python (a valid certificate is "afgerond"; else a passed deadline is "te laat"; else any lesson read or
graded attempt is "bezig"; else "niet gestart"), with ties broken by name and then by account."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.models import (
    Assignment,
    Attempt,
    AttemptGrant,
    AttemptMode,
    AttemptStatus,
    Certificate,
    CertificateStatus,
    Group,
    GroupMember,
    LessonRead,
    Role,
    User,
)
from course.paging import Paging, requested_page
from course.seeding import seed_group
from course.timeutil import as_utc, local_date, utcnow
from course.trainer import dashboard
from tests.conftest import Person
from tests.helpers import new_group, post, statements_during, text

TODAY = date(2026, 12, 1)
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NAMES = ["Anna de Vries", "anna de vries", "Bram Jansen", "Cees Bakker", "Daan_Smit", "Eva 100% Zeker", "Daantje"]


@pytest.fixture
def trainer(person) -> Person:
    return person(Role.TRAINER, "Tineke Trainer")


# --- a random small group --------------------------------------------------------------------------


def random_group(app, trainer_id: int, seed: int, learners: int = 23) -> int:
    """A group whose learners are in every state: reads, graded, practice and voided attempts (open and
    finished), extra attempts, certificates (valid, expired, revoked, reissued), deadlines for the group
    and for some learners, before and after TODAY; names repeat (ties) and carry LIKE wildcards."""
    rng = random.Random(seed)
    with app.app_context():
        catalog = app.extensions["catalog"]
        module = catalog.module.id
        quizzes = [q.id for q in catalog.quizzes]
        group = Group(name=f"Willekeurig {seed}", trainer_id=trainer_id, created_at=NOON - timedelta(days=60))
        db.session.add(group)
        db.session.flush()
        if rng.random() < 0.8:
            group_due = TODAY + timedelta(days=rng.choice([-3, 0, 5, 40]))
            db.session.add(Assignment(group_id=group.id, user_id=None, module_id=module, due_on=group_due))

        def moment() -> datetime:
            return NOON - timedelta(days=rng.randint(0, 50), minutes=rng.randint(0, 1000))

        for index in range(learners):
            user = User(
                email=f"cursist{index}.{seed}@example.org",
                display_name=rng.choice(NAMES),
                password_hash="seeded:!",
                role=Role.LEARNER,
                register_name="SKJ" if rng.random() < 0.3 else None,
                register_number="12345" if rng.random() < 0.3 else None,
                register_consent_at=NOON if rng.random() < 0.5 else None,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(GroupMember(group_id=group.id, user_id=user.id, joined_at=moment()))
            for lesson in rng.sample(catalog.lessons, rng.randint(0, len(catalog.lessons))):
                db.session.add(LessonRead(user_id=user.id, lesson_id=lesson.id, content_version="v", read_at=moment()))
            for quiz_id in rng.sample(quizzes, rng.randint(0, len(quizzes))):
                numbers = rng.randint(1, 3)
                for number in range(1, numbers + 1):
                    open_one = number == numbers and rng.random() < 0.2
                    started = moment()
                    percent = None if open_one else rng.choice([40.0, 70.0, 85.5, 100.0])
                    db.session.add(
                        Attempt(
                            user_id=user.id,
                            quiz_id=quiz_id,
                            mode=rng.choice([AttemptMode.GRADED, AttemptMode.GRADED, AttemptMode.VOIDED]),
                            number=number,
                            status=AttemptStatus.IN_PROGRESS if open_one else AttemptStatus.FINISHED,
                            content_version="v",
                            started_at=started,
                            finished_at=None if open_one else started + timedelta(minutes=rng.randint(1, 90)),
                            percent=percent,
                            passed=None if percent is None else percent >= 70,
                        )
                    )
                if rng.random() < 0.3:
                    db.session.add(
                        Attempt(
                            user_id=user.id,
                            quiz_id=quiz_id,
                            mode=AttemptMode.PRACTICE,
                            number=1,
                            status=AttemptStatus.FINISHED,
                            content_version="v",
                            started_at=moment(),
                            finished_at=NOON,
                            percent=50.0,
                        )
                    )
                if rng.random() < 0.2:
                    db.session.add(AttemptGrant(user_id=user.id, quiz_id=quiz_id, extra=rng.randint(1, 2)))
            for sequence in range(1, rng.choice([0, 0, 1, 1, 2]) + 1):
                db.session.add(
                    Certificate(
                        user_id=user.id,
                        module_id=module,
                        sequence=sequence,
                        verification_code=f"code-{seed}-{index}-{sequence}",
                        learner_name=user.display_name,
                        module_title="Module",
                        content_version="v",
                        study_load="4 uur",
                        completed_on=TODAY - timedelta(days=rng.randint(0, 20)),
                        valid_until=rng.choice([None, TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=30)]),
                        status=rng.choice(list(CertificateStatus)),
                    )
                )
            if rng.random() < 0.3:
                due_on = TODAY + timedelta(days=rng.choice([-10, -1, 0, 1, 14, 45]))
                db.session.add(Assignment(group_id=group.id, user_id=user.id, module_id=module, due_on=due_on))
        db.session.commit()
        return group.id


# --- the reference: every row built in Python, as the dashboard did before ------------------------------


@dataclass
class Reference:
    user_id: int
    name: str
    email: str
    register: tuple
    lessons_read: int = 0
    attempts: int = 0
    cells: dict = field(default_factory=dict)
    certificate: tuple = ("none", None, None)
    last_activity: datetime | None = None
    due_on: date | None = None
    status: str = "niet gestart"


def reference_rows(app, group_id: int, today: date) -> list[Reference]:
    with app.app_context():
        catalog = app.extensions["catalog"]
        rows: dict[int, Reference] = {}
        for user, joined in db.session.execute(
            sa.select(User, GroupMember.joined_at).join(GroupMember).where(GroupMember.group_id == group_id)
        ):
            consent = user.register_consent_at is not None
            register = (user.register_name, user.register_number) if consent else (None, None)
            rows[user.id] = Reference(user.id, user.display_name, user.email, register, last_activity=as_utc(joined))
        moments: dict[int, list[datetime]] = {uid: [] for uid in rows}
        for read in db.session.scalars(sa.select(LessonRead).where(LessonRead.user_id.in_(rows))):
            rows[read.user_id].lessons_read += 1
            moments[read.user_id].append(as_utc(read.read_at))
        graded: dict[tuple[int, str], list[Attempt]] = {}
        for attempt in db.session.scalars(
            sa.select(Attempt).where(Attempt.user_id.in_(rows), Attempt.mode == AttemptMode.GRADED)
        ):
            rows[attempt.user_id].attempts += 1
            graded.setdefault((attempt.user_id, attempt.quiz_id), []).append(attempt)
            moments[attempt.user_id] += [as_utc(m) for m in (attempt.started_at, attempt.finished_at) if m]
        extra: dict[tuple[int, str], int] = {}
        for grant in db.session.scalars(sa.select(AttemptGrant).where(AttemptGrant.user_id.in_(rows))):
            extra[(grant.user_id, grant.quiz_id)] = extra.get((grant.user_id, grant.quiz_id), 0) + grant.extra
        for certificate in db.session.scalars(
            sa.select(Certificate).where(Certificate.user_id.in_(rows)).order_by(Certificate.sequence)
        ):
            state = certificate.state(today)
            rows[certificate.user_id].certificate = (state, certificate.id, certificate.completed_on)
        personal, group_due = {}, None
        for assignment in db.session.scalars(sa.select(Assignment).where(Assignment.group_id == group_id)):
            if assignment.user_id is None:
                group_due = assignment.due_on
            else:
                personal[assignment.user_id] = assignment.due_on
        for row in rows.values():
            if moments[row.user_id]:
                row.last_activity = max(moments[row.user_id])
            for quiz_id in catalog.module.completion.quizzes_passed:
                tries = sorted(graded.get((row.user_id, quiz_id), []), key=lambda a: a.number)
                finished = [a for a in tries if a.status is AttemptStatus.FINISHED]
                limit = catalog.quiz(quiz_id).policy.max_attempts
                row.cells[quiz_id] = (
                    len(tries),
                    max((a.percent for a in tries if a.percent is not None), default=None),
                    finished[-1].percent if finished else None,
                    any(a.passed for a in tries),
                    None if limit is None else max(0, limit + extra.get((row.user_id, quiz_id), 0) - len(tries)),
                )
            row.due_on = personal.get(row.user_id, group_due)
            if row.certificate[0] == "valid":
                row.status = "afgerond"
            elif row.due_on is not None and today > row.due_on:
                row.status = "te laat"
            elif row.lessons_read or row.attempts:
                row.status = "bezig"
            row.lessons_read = min(row.lessons_read, len(catalog.lessons))
        return list(rows.values())


REFERENCE_SORTS = {
    "naam": lambda r: (),
    "status": lambda r: (dashboard.STATUS_ORDER[r.status],),
    "voortgang": lambda r: (r.lessons_read,),
    "activiteit": lambda r: (r.last_activity,),
    "deadline": lambda r: (r.due_on is None, r.due_on or date.min),
}


def reference_view(rows: list[Reference], view: dashboard.View) -> list[Reference]:
    if view.status:
        rows = [r for r in rows if r.status == view.status]
    if view.query:
        needle = view.query.lower()
        rows = [r for r in rows if needle in r.name.lower() or needle in r.email]
    key = REFERENCE_SORTS[view.sort]
    return sorted(rows, key=lambda r: (*key(r), r.name.lower(), r.user_id), reverse=view.descending)


def as_reference(row: dashboard.LearnerRow) -> Reference:
    attempts = sum(cell.attempts for cell in row.quizzes.values())
    return Reference(
        row.user_id,
        row.name,
        row.email,
        (row.register_name, row.register_number),
        lessons_read=row.lessons_read,
        attempts=attempts,
        cells={q: (c.attempts, c.best, c.last, c.passed, c.attempts_left) for q, c in row.quizzes.items()},
        certificate=(row.certificate_state, row.certificate_id, row.completed_on),
        last_activity=row.last_activity,
        due_on=row.due_on,
        status=row.status,
    )


def comparable(row: Reference) -> tuple:
    """Everything the page shows of a row (the total attempt count over all quizzes is only in the status)."""
    return (
        row.user_id,
        row.name,
        row.email,
        row.register,
        row.lessons_read,
        row.cells,
        row.certificate,
        row.last_activity,
        row.due_on,
        row.status,
    )


def every_page(
    app, group_id: int, today: date, view: dashboard.View, per_page: int
) -> tuple[list, dashboard.Dashboard]:
    """All rows of the view, page by page as a trainer would click through them."""
    with app.app_context():
        catalog = app.extensions["catalog"]
        first = dashboard.group_page(group_id, catalog, today, view, per_page=per_page)
        rows = list(first.rows)
        for page in range(2, first.paging.pages + 1):
            later = dashboard.group_page(
                group_id, catalog, today, dashboard.View(**{**view.__dict__, "page": page}), per_page
            )
            assert later.paging.page == page and later.counts == first.counts
            rows += later.rows
        return rows, first


@pytest.mark.parametrize("seed", [3, 11, 2026])
def test_every_sort_order_and_filter_gives_the_rows_plain_python_gives(app, trainer, seed):
    group_id = random_group(app, trainer.id, seed)
    for today in (TODAY, TODAY + timedelta(days=31)):  # the status follows the date: deadlines pass, certificates end
        reference = reference_rows(app, group_id, today)
        if today == TODAY:
            statuses = {r.status for r in reference}
            assert len(statuses) >= 3, statuses  # the data really covers the states
        for sort in dashboard.SORTS:
            for descending in (False, True):
                # Each status without a search, each search (LIKE wildcards are plain text) over every status.
                for status, query in [(s, "") for s in dashboard.STATUS_ORDER] + [
                    ("", q) for q in ("", "anna", "_", "100%", "CURSIST1", "niemand")
                ]:
                    view = dashboard.View.checked(sort, "aflopend" if descending else "", status, query, 1)
                    expected = reference_view(reference, view)
                    rows, board = every_page(app, group_id, today, view, per_page=6)
                    assert [comparable(as_reference(r)) for r in rows] == [comparable(r) for r in expected], (
                        today,
                        view,
                    )
                    assert board.shown == len(expected)
                    assert board.paging.pages == max(1, -(-len(expected) // 6))
                    assert board.counts == {s: sum(r.status == s for r in reference) for s in dashboard.STATUS_ORDER}
        completed: dict[date, int] = {}
        for r in reference:
            if r.status == "afgerond":
                completed[r.certificate[2]] = completed.get(r.certificate[2], 0) + 1
        assert board.completed_per_day == completed


def test_a_search_asked_past_its_last_page_shows_its_last_page(app, trainer):
    group_id = random_group(app, trainer.id, seed=7)
    expected = reference_view(
        reference_rows(app, group_id, TODAY), dashboard.View.checked("naam", "", "", "CURSIST1", 1)
    )
    assert len(expected) == 11  # cursist1 and cursist10 to cursist19: two pages of 6
    with app.app_context():
        catalog = app.extensions["catalog"]
        board = dashboard.group_page(
            group_id, catalog, TODAY, dashboard.View.checked("naam", "", "", "CURSIST1", 99), per_page=6
        )
    assert (board.shown, board.paging.page, board.paging.pages) == (11, 2, 2)
    assert [comparable(as_reference(r)) for r in board.rows] == [comparable(r) for r in expected[6:]]


def test_a_learner_page_shows_the_same_row_as_the_group_page(app, trainer):
    group_id = random_group(app, trainer.id, seed=5, learners=8)
    reference = {r.user_id: r for r in reference_rows(app, group_id, TODAY)}
    with app.app_context():
        catalog = app.extensions["catalog"]
        for user_id, expected in reference.items():
            row = dashboard.learner_row(group_id, catalog, TODAY, user_id)
            assert comparable(as_reference(row)) == comparable(expected)


# --- over HTTP: statements, paging, bad input, access ----------------------------------------------------


def page_of(trainer: Person, group_id: int, **params):
    response = trainer.client.get(f"/trainer/groepen/{group_id}", query_string=params)
    assert response.status_code == 200, params
    return text(response)


_NAMES = re.compile(r'<th scope="row"><a href="/trainer/groepen/\d+/cursisten/(\d+)">')


def shown_ids(html: str) -> list[int]:
    return [int(found) for found in _NAMES.findall(html)]


def test_the_page_costs_the_same_statements_for_3_and_60_learners(app, trainer):
    counted = {}
    for size in (3, 60):
        group_id = random_group(app, trainer.id, seed=size, learners=size)
        # No status filter: which status a seeded learner has depends on the real date the page is asked
        # on (the seeds are fixed around TODAY), and an empty page rightly skips the per-row statements.
        for params in ({}, {"sorteer": "activiteit", "volgorde": "aflopend"}):
            responses = []
            statements = statements_during(
                app,
                lambda g=group_id, p=params, r=responses: r.append(
                    trainer.client.get(f"/trainer/groepen/{g}", query_string=p)
                ),
            )
            assert responses[0].status_code == 200
            assert len(shown_ids(text(responses[0]))) == min(size, dashboard.PAGE_SIZE), "the page shows its rows"
            counted[(size, tuple(params))] = len(statements)
    assert counted[(3, ())] == counted[(60, ())]
    assert counted[(3, ("sorteer", "volgorde"))] == counted[(60, ("sorteer", "volgorde"))]


@pytest.mark.parametrize("size", [3, 60])
def test_a_dashboard_page_is_five_statements_and_a_search_six(app, trainer, size):
    """Bring the group up to date for today (nothing to do), the counts, the page's rows, and the
    quiz cells and granted attempts of those rows; a search finds, counts and pages its matches in one
    more. Whatever the group's size."""
    group_id = random_group(app, trainer.id, seed=size, learners=size)
    with app.app_context():
        catalog = app.extensions["catalog"]
        today = local_date(utcnow())
        dashboard.group_page(group_id, catalog, today, dashboard.View())  # the date's changes, once
        db.session.commit()
        for query, expected in (("", 5), ("cursist", 6)):
            view = dashboard.View.checked("naam", "", "", query, 1)
            pages = []
            statements = statements_during(
                app, lambda v=view, p=pages: p.append(dashboard.group_page(group_id, catalog, today, v))
            )
            assert pages[0].rows, "the page shows its rows"
            assert len(statements) == expected, statements


@pytest.fixture
def big_group(app, trainer) -> int:
    """250 learners: three pages of 100."""
    with app.app_context():
        group = seed_group(db.session.get(User, trainer.id), 250, app.extensions["catalog"], name="Groot")
        db.session.commit()
        return group.id


def test_pages_follow_each_other_without_gaps_or_repeats_up_to_the_last(trainer, big_group):
    first = page_of(trainer, big_group, sorteer="naam")
    assert '<nav aria-label="Paginering" class="pager">' in first
    assert "Pagina 1 van 3 (250 cursisten)" in pager_of(first) and "Vorige" not in pager_of(first)
    seen = []
    for page in (1, 2, 3):
        html = page_of(trainer, big_group, sorteer="naam", pagina=page)
        seen += shown_ids(html)
        assert f"Pagina {page} van 3" in html
    assert len(seen) == 250 == len(set(seen))
    last = page_of(trainer, big_group, sorteer="naam", pagina=3)
    pager = pager_of(last)
    assert "Vorige" in pager and "Volgende" not in pager
    assert f'href="/trainer/groepen/{big_group}?pagina=2&amp;sorteer=naam&amp;volgorde=oplopend"' in pager
    assert len(shown_ids(last)) == 50


def pager_of(html: str) -> str:
    return html.split('aria-label="Paginering"')[1].split("</nav>")[0]


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "２", "1e3", " 2", str(10**30), "999"])
def test_a_page_number_that_is_not_a_page_falls_back_to_one_that_exists(trainer, big_group, raw):
    html = page_of(trainer, big_group, sorteer="naam", pagina=raw)
    if raw == "999":  # past the end: the last page (a number too long to be a page is no page at all)
        assert "Pagina 3 van 3" in html and shown_ids(html) == shown_ids(
            page_of(trainer, big_group, sorteer="naam", pagina=3)
        )
    else:
        assert "Pagina 1 van 3" in html and shown_ids(html) == shown_ids(page_of(trainer, big_group, sorteer="naam"))


@pytest.mark.parametrize(
    "params",
    [
        {"sorteer": "wachtwoord"},
        {"sorteer": "naam;DROP TABLE users"},
        {"volgorde": "zijwaarts"},
        {"status": "verwijderd"},
        {"status": ""},
        {"per_pagina": "1000000"},
    ],
)
def test_an_unknown_sort_order_or_status_shows_the_default_view(trainer, big_group, params):
    html = page_of(trainer, big_group, **params)
    assert "Pagina 1 van 3" in html
    assert shown_ids(html) == shown_ids(page_of(trainer, big_group))  # by status, ascending, every status
    assert len(shown_ids(html)) == dashboard.PAGE_SIZE  # the page size is the view's, never the URL's


def test_paging_helper_reads_only_plain_page_numbers():
    assert [requested_page(raw) for raw in (None, "", "0", "-1", "abc", "٣", "1234567890", "2", "007")] == [
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        2,
        7,
    ]
    assert Paging.of(10**30, 250, 100) == Paging(page=3, pages=3, total=250, per_page=100)
    assert Paging.of(1, 0, 100).pages == 1 and Paging.of(1, 0, 100).offset == 0


def test_a_search_pages_too_and_its_term_stays_out_of_the_page_links(trainer, big_group):
    post(trainer.client, f"/trainer/groepen/{big_group}", {"term": "Cursist 001", "sorteer": "naam"})
    html = page_of(trainer, big_group, sorteer="naam")
    assert "(100 van 250 na filter)" in html and 'aria-label="Paginering"' not in html  # one page: no pager
    post(trainer.client, f"/trainer/groepen/{big_group}", {"term": "Cursist 00", "sorteer": "naam"})
    html = page_of(trainer, big_group, sorteer="naam")
    links = re.findall(r'href="([^"]*)"', pager_of(html))
    assert links == [f"/trainer/groepen/{big_group}?pagina=2&amp;sorteer=naam&amp;volgorde=oplopend"]
    assert "Pagina 1 van 3 (250 cursisten)" in pager_of(html)


def test_an_empty_group_shows_no_rows_and_no_pager(trainer):
    group_id = new_group(trainer)
    for params in ({}, {"pagina": "2"}, {"status": "bezig", "sorteer": "deadline", "volgorde": "aflopend"}):
        html = page_of(trainer, group_id, **params)
        assert "0 cursisten: 0 afgerond, 0 bezig, 0 niet gestart" in html
        assert "Geen cursisten" in html and 'aria-label="Paginering"' not in html


def test_another_trainers_group_stays_hidden_whatever_the_paging(app, person, trainer, big_group):
    other = person(Role.TRAINER, "Andere Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    for params in ({}, {"pagina": "2", "sorteer": "naam"}, {"pagina": str(10**30)}):
        assert other.client.get(f"/trainer/groepen/{big_group}", query_string=params).status_code == 404
        assert learner.client.get(f"/trainer/groepen/{big_group}", query_string=params).status_code == 403


# --- the trainer's page of one learner: the attempts in pages ------------------------------------------


def learner_with_attempts(app, trainer: Person, attempts: int) -> tuple[int, int]:
    """A member of a new group with `attempts` finished graded attempts at a knowledge check (no limit)."""
    group_id = random_group(app, trainer.id, seed=attempts, learners=1)
    with app.app_context():
        user_id = db.session.scalar(sa.select(GroupMember.user_id).where(GroupMember.group_id == group_id))
        db.session.execute(sa.delete(Attempt).where(Attempt.user_id == user_id))
        db.session.add_all(
            Attempt(
                user_id=user_id,
                quiz_id="kennischeck-inleiding",
                mode=AttemptMode.GRADED,
                number=number,
                status=AttemptStatus.FINISHED,
                content_version="v",
                started_at=NOON,
                finished_at=NOON,
                percent=float(number % 100),
            )
            for number in range(1, attempts + 1)
        )
        db.session.commit()
    return group_id, user_id


_ATTEMPT = re.compile(r'<th scope="row">Kennischeck[^<]*</th>\s*<td>(\d+)</td>')


def test_a_learners_attempts_come_in_pages_of_50(app, trainer):
    group_id, user_id = learner_with_attempts(app, trainer, 120)
    url = f"/trainer/groepen/{group_id}/cursisten/{user_id}"
    numbers = []
    for page in (1, 2, 3):
        html = text(trainer.client.get(url, query_string={"pagina": page}))
        assert f"Pagina {page} van 3 (120 pogingen)" in pager_of(html)
        numbers += [int(n) for n in _ATTEMPT.findall(html)]
    assert numbers == list(range(1, 121))
    for raw in ("0", "abc", str(10**30)):
        assert _ATTEMPT.findall(text(trainer.client.get(url, query_string={"pagina": raw})))[0] == "1"
    assert _ATTEMPT.findall(text(trainer.client.get(url, query_string={"pagina": "99"})))[0] == "101"


def test_a_learners_page_costs_the_same_statements_for_3_and_60_attempts(app, trainer):
    counted = []
    for attempts in (3, 60):
        group_id, user_id = learner_with_attempts(app, trainer, attempts)
        responses = []
        url = f"/trainer/groepen/{group_id}/cursisten/{user_id}"
        statements = statements_during(app, lambda u=url, r=responses: r.append(trainer.client.get(u)))
        assert responses[0].status_code == 200
        counted.append(len(statements))
    assert counted[0] == counted[1]
