"""The admin lists (accounts, certificates, audit log) at any size: every row reachable exactly once
through the pages in a stable order, totals that match the filter, the same few SQL statements for 3
rows as for 60, and no parameter in the URL that can fail the page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from course.admin import paging
from course.extensions import db
from course.models import AuditEvent, Certificate, CertificateStatus, Group, GroupMember, Role, User
from course.timeutil import local_date, utcnow
from tests.conftest import Person
from tests.helpers import post, statements_during, text

PAGE = 50  # rows per page in the admin lists
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
USER_ROW = re.compile(r'<th scope="row"><a href="/beheer/gebruikers/(\d+)">([^<]*)</a></th>')
CERTIFICATE_ROW = re.compile(r'<th scope="row"><a href="/beheer/certificaten/(\d+)">([^<]*)</a></th>')
EVENT_ROW = re.compile(
    r"<tr><th scope=\"row\">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>reden: ([^<]*)</td>"
)
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">')


@pytest.fixture
def admin(person) -> Person:
    return person(Role.ADMIN, "Bea Beheer")


# --- rows written straight into the database (the lists only read them) -----------------------------


def add_users(app, names: list[str], role: Role = Role.LEARNER, created_at: datetime = NOW) -> list[int]:
    with app.app_context():
        users = [
            User(
                email=f"{role.value}{i}.{name.lower().replace(' ', '.')}@example.org",
                display_name=name,
                password_hash="!",
                role=role,
                created_at=created_at,
            )
            for i, name in enumerate(names)
        ]
        db.session.add_all(users)
        db.session.commit()
        return [u.id for u in users]


def add_certificates(app, count: int, name: str = "Anna Zelfde", **fields) -> list[int]:
    """`count` certificates with the same name and issue time unless `fields` say otherwise."""
    with app.app_context():
        start = db.session.scalar(sa.select(sa.func.count(Certificate.id)))
        certificates = [
            Certificate(
                user_id=None,
                module_id="hechtwijzer",
                sequence=1,
                verification_code=f"CODE{start + i:08d}",
                learner_name=name,
                module_title="Hechtwijzer",
                content_version="1",
                study_load="4 uur",
                completed_on=date(2026, 11, 1),
                issued_at=NOW,
                **fields,
            )
            for i in range(count)
        ]
        db.session.add_all(certificates)
        db.session.commit()
        return [c.id for c in certificates]


def add_events(app, count: int, at: datetime = NOW, action: str = "user.temporary_password", first: int = 0) -> None:
    """`count` events at the same moment (the worst case for paging), told apart by their reason."""
    with app.app_context():
        db.session.add_all(
            AuditEvent(at=at, actor_id=None, action=action, subject_type="user", details={"reason": f"nr {first + n}"})
            for n in range(count)
        )
        db.session.commit()


# --- reading the pages ------------------------------------------------------------------------------


def page(admin: Person, url: str) -> str:
    response = admin.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text(response)


def walk(admin: Person, url: str, rows: re.Pattern, link: re.Pattern = NEXT) -> list[list[tuple]]:
    """Every page from `url` on, following the pager's link; the rows of each page."""
    pages = []
    while url:
        html = page(admin, url.replace("&amp;", "&"))
        pages.append(rows.findall(html))
        found = link.search(html)
        url = found.group(1) if found else ""
        assert len(pages) < 20, "the pager does not end"
    return pages


def flat(pages: list[list[tuple]]) -> list[tuple]:
    return [row for rows in pages for row in rows]


def search(admin: Person, url: str, term: str, **fields) -> str:
    response = post(admin.client, url, {"term": term, **fields})
    assert response.status_code == 302
    return response.headers["Location"]


# --- accounts -----------------------------------------------------------------------------------------


def test_every_account_is_on_exactly_one_page_in_a_stable_order_for_each_sort(app, admin):
    # Many accounts share a name, a role and a creation time: the order must still be total.
    same = add_users(app, ["Anna Zelfde"] * 45)
    others = add_users(app, [f"Bram {n:02d}" for n in range(20)], created_at=NOW - timedelta(days=1))
    trainers = add_users(app, ["Anna Zelfde"] * 5, role=Role.TRAINER, created_at=NOW + timedelta(days=1))
    with app.app_context():
        everyone = db.session.execute(sa.select(User.id, User.display_name, User.email, User.role, User.created_at))
        accounts = [tuple(row) for row in everyone]
    assert len(accounts) == 71

    expected = {
        "naam": sorted(accounts, key=lambda a: (a[1], a[0])),
        "e-mail": sorted(accounts, key=lambda a: a[2]),
        "rol": sorted(accounts, key=lambda a: (a[3].value, a[1], a[0])),
        "aangemaakt": sorted(accounts, key=lambda a: (-a[4].replace(tzinfo=None).timestamp(), -a[0])),
    }
    for sort, order in expected.items():
        pages = walk(admin, f"/beheer/gebruikers?sorteer={sort}", USER_ROW)
        assert [len(rows) for rows in pages] == [PAGE, 21], sort
        assert [int(user_id) for user_id, _ in flat(pages)] == [a[0] for a in order], sort
    first = page(admin, "/beheer/gebruikers")
    assert "71 gebruikers; 1–50 getoond." in first
    assert "Pagina 1 van 2" in first and 'rel="prev"' not in first
    second = page(admin, "/beheer/gebruikers?pagina=2")
    assert "Pagina 2 van 2" in second and 'rel="next"' not in second
    assert {int(i) for i, _ in USER_ROW.findall(second)} <= set(same + others + trainers + [admin.id])


def test_the_total_follows_the_role_filter_and_the_search(app, admin):
    add_users(app, [f"Anna {n:02d}" for n in range(55)])
    add_users(app, ["Tineke Trainer", "Theo Trainer"], role=Role.TRAINER)
    add_users(app, ["100% Zeker"])
    assert "59 gebruikers" in page(admin, "/beheer/gebruikers")
    assert "Pagina 1 van 2" in page(admin, "/beheer/gebruikers?rol=learner")
    learners = walk(admin, "/beheer/gebruikers?rol=learner", USER_ROW)
    assert len(flat(learners)) == 56 and "56 gebruikers" in page(admin, "/beheer/gebruikers?rol=learner")
    trainers = page(admin, "/beheer/gebruikers?rol=trainer")
    assert "2 gebruikers." in trainers and "Pagina" not in trainers
    assert [name for _, name in USER_ROW.findall(trainers)] == ["Theo Trainer", "Tineke Trainer"]
    assert "1 gebruiker." in page(admin, "/beheer/gebruikers?rol=admin")

    # The search (kept out of the URL) narrows the count and the pages with the role and sort kept.
    location = search(admin, "/beheer/gebruikers", "anna 1", rol="learner", sorteer="aangemaakt")
    assert location == "/beheer/gebruikers?rol=learner&sorteer=aangemaakt"
    found = page(admin, location)
    assert "10 gebruikers." in found and len(USER_ROW.findall(found)) == 10
    # A % or _ in the term is a character, not a wildcard.
    search(admin, "/beheer/gebruikers", "100%")
    assert [name for _, name in USER_ROW.findall(page(admin, "/beheer/gebruikers"))] == ["100% Zeker"]
    search(admin, "/beheer/gebruikers", "a_n")
    assert "0 gebruikers." in page(admin, "/beheer/gebruikers")


def test_the_group_column_counts_memberships_and_groups_led(app, admin):
    [trainer] = add_users(app, ["Tineke Trainer"], role=Role.TRAINER)
    learner, loner = add_users(app, ["Anna Lid", "Bram Los"])
    with app.app_context():
        groups = [Group(name=f"Groep {n}", trainer_id=trainer) for n in range(3)]
        db.session.add_all(groups)
        db.session.flush()
        db.session.add_all(GroupMember(group_id=g.id, user_id=learner) for g in groups[:2])
        db.session.commit()
    html = page(admin, "/beheer/gebruikers")
    cells = dict(re.findall(r'/beheer/gebruikers/(\d+)">[^<]*</a></th>(?:<td>[^<]*</td>){3}<td>(\d+)</td>', html))
    assert cells == {str(trainer): "3", str(learner): "2", str(loner): "0", str(admin.id): "0"}


# --- certificates ---------------------------------------------------------------------------------------


def test_every_certificate_is_on_exactly_one_page_in_a_stable_order_for_each_sort(app, admin):
    ids = add_certificates(app, 55)  # same name, same issue time
    ids += add_certificates(app, 5, name="Bram Anders", status=CertificateStatus.REVOKED, revoked_at=NOW)
    ids += add_certificates(app, 3, name="Carla Cee", valid_until=date(2020, 1, 1))  # expired
    ids += add_certificates(app, 2, name="Anna Zelfde", status=CertificateStatus.SUPERSEDED, superseded_at=NOW)
    newest_first = sorted(ids, reverse=True)  # all issued at the same moment: the id decides
    for sort in ("uitgegeven", "naam", "status"):
        pages = walk(admin, f"/beheer/certificaten?sorteer={sort}", CERTIFICATE_ROW)
        assert [len(rows) for rows in pages] == [PAGE, 15], sort
        listed = [int(i) for i, _ in flat(pages)]
        assert sorted(listed) == sorted(ids), sort
        if sort == "uitgegeven":
            assert listed == newest_first
        elif sort == "naam":
            by_name = {i: name for i, name in flat(pages)}
            assert listed == sorted(listed, key=lambda i: (by_name[str(i)], i))
        else:  # valid (expired ones are valid past their date), replaced, revoked; newest first within each
            with app.app_context():
                status = dict(db.session.execute(sa.select(Certificate.id, Certificate.status)).all())
            rank = {CertificateStatus.VALID: 0, CertificateStatus.SUPERSEDED: 1, CertificateStatus.REVOKED: 2}
            assert listed == sorted(ids, key=lambda i: (rank[status[i]], -i))
    assert "65 certificaten; 1–50 getoond." in page(admin, "/beheer/certificaten")


STATE_CELL = re.compile(r"<td>(Geldig|Verlopen|Vervangen|Ingetrokken)</td>")


def test_the_state_filter_and_its_totals(app, admin):
    add_certificates(app, 52)
    add_certificates(app, 2, name="Bram Anders", status=CertificateStatus.REVOKED, revoked_at=NOW)
    add_certificates(app, 3, name="Carla Cee", valid_until=local_date(utcnow()) - timedelta(days=1))
    add_certificates(app, 1, name="Dirk Vandaag", valid_until=local_date(utcnow()))  # valid through today
    add_certificates(app, 4, name="Anna Zelfde", status=CertificateStatus.SUPERSEDED, superseded_at=NOW)
    totals = {"geldig": 53, "verlopen": 3, "ingetrokken": 2, "vervangen": 4}
    for state, total in totals.items():
        pages = walk(admin, f"/beheer/certificaten?status={state}", STATE_CELL)
        label = {"geldig": "Geldig", "verlopen": "Verlopen", "ingetrokken": "Ingetrokken", "vervangen": "Vervangen"}
        assert flat(pages) == [label[state]] * total, state
        assert f"{total} certificaten" in page(admin, f"/beheer/certificaten?status={state}")
    assert "62 certificaten" in page(admin, "/beheer/certificaten")
    # The form sends the state along with the search; the term stays out of the URL.
    location = search(admin, "/beheer/certificaten", "carla", status="verlopen", sorteer="naam")
    assert location == "/beheer/certificaten?status=verlopen&sorteer=naam"
    assert "3 certificaten." in page(admin, location)


def test_the_certificate_list_names_the_account_holder(app, admin):
    [owner] = add_users(app, ["Anna Nieuwenaam"])
    add_certificates(app, 1, name="Anna Oudenaam")
    with app.app_context():
        db.session.execute(sa.update(Certificate).values(user_id=owner))
        db.session.commit()
    add_certificates(app, 1, name="Bram Gewist")  # the account was erased
    html = page(admin, "/beheer/certificaten?sorteer=naam")
    assert "<td>Anna Nieuwenaam</td>" in html  # the account's name now, beside the name as printed
    assert "<td>verwijderd account</td>" in html


# --- audit log ------------------------------------------------------------------------------------------


def reasons(pages: list[list[tuple]]) -> list[int]:
    return [int(row[3].removeprefix("nr ")) for row in flat(pages)]


def test_the_audit_log_pages_by_keyset_older_and_newer_with_equal_times(app, admin):
    add_events(app, 70, at=NOW)  # one moment: only the id orders them
    add_events(app, 10, at=NOW + timedelta(minutes=1), first=70)
    add_events(app, 45, at=NOW - timedelta(days=1), first=80)
    newest_first = list(range(70, 80))[::-1] + list(range(70))[::-1] + list(range(80, 125))[::-1]

    pages = walk(admin, "/beheer/logboek", EVENT_ROW)
    assert [len(rows) for rows in pages] == [PAGE, PAGE, 25]
    assert reasons(pages) == newest_first
    assert "125 gebeurtenissen; nieuwste eerst." in page(admin, "/beheer/logboek")

    # Back from the last page with "Nieuwere": the same pages, in reverse.
    last_url = NEXT.findall(page(admin, NEXT.search(page(admin, "/beheer/logboek")).group(1).replace("&amp;", "&")))
    back = walk(admin, last_url[0].replace("&amp;", "&"), EVENT_ROW, link=PREVIOUS)
    assert [reasons([rows]) for rows in back] == [newest_first[100:], newest_first[50:100], newest_first[:50]]
    assert 'rel="prev"' not in page(admin, "/beheer/logboek")


def test_the_audit_log_filters_by_action_and_by_dutch_calendar_days(app, admin):
    # 23:30 UTC on 30 November is already 1 December in the Netherlands.
    add_events(app, 3, at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC), first=0)
    add_events(app, 4, at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), first=3)
    add_events(app, 55, at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC), action="user.role", first=7)
    add_events(app, 2, at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC), first=62)
    assert reasons(walk(admin, "/beheer/logboek?tot=2026-11-30", EVENT_ROW)) == [2, 1, 0]
    december = walk(admin, "/beheer/logboek?van=2026-12-01&tot=2026-12-01", EVENT_ROW)
    assert sorted(reasons(december)) == list(range(3, 62))
    assert "59 gebeurtenissen die aan het filter voldoen" in page(
        admin, "/beheer/logboek?van=2026-12-01&tot=2026-12-01"
    )
    roles = walk(admin, "/beheer/logboek?actie=user.role&van=2026-12-01", EVENT_ROW)
    assert [len(rows) for rows in roles] == [PAGE, 5] and sorted(reasons(roles)) == list(range(7, 62))
    assert "55 gebeurtenissen" in page(admin, "/beheer/logboek?actie=user.role")
    assert "0 gebeurtenissen" in page(admin, "/beheer/logboek?van=2026-12-03")
    # The filter's choices: every action in the log, by Dutch name.
    html = page(admin, "/beheer/logboek")
    assert '<option value="user.role">Rol gewijzigd</option>' in html
    assert '<option value="user.temporary_password">Tijdelijk wachtwoord gemaakt</option>' in html


# --- cost: the same statements for 3 rows as for 60 --------------------------------------------------------


def statements(app, admin: Person, url: str) -> int:
    responses = []
    found = statements_during(app, lambda: responses.append(admin.client.get(url)))
    assert responses[0].status_code == 200
    return len(found)


def test_each_list_costs_the_same_statements_for_3_rows_as_for_60(app, admin):
    with app.app_context():
        trainer = User(email="t@example.org", display_name="Tineke", password_hash="!", role=Role.TRAINER)
        db.session.add(trainer)
        db.session.commit()
        group = Group(name="Groep", trainer_id=trainer.id)
        db.session.add(group)
        db.session.commit()
        group_id = group.id

    def grow(n: int) -> None:
        ids = add_users(app, [f"Cursist {n}"] * n)
        with app.app_context():
            db.session.add_all(GroupMember(group_id=group_id, user_id=i) for i in ids)
            db.session.commit()
        add_certificates(app, n)
        add_events(app, n)
        with app.app_context():  # events naming accounts and a group: their names are looked up per page
            db.session.add_all(AuditEvent(action="group.create", subject_type="group", subject_id=group_id, actor_id=i)
                               for i in ids)  # fmt: skip
            db.session.commit()

    urls = ["/beheer/gebruikers", "/beheer/gebruikers?sorteer=rol", "/beheer/certificaten?sorteer=status"]
    urls += ["/beheer/logboek", "/beheer/logboek?actie=group.create&van=2020-01-01"]
    grow(3)
    few = {url: statements(app, admin, url) for url in urls}
    grow(57)
    many = {url: statements(app, admin, url) for url in urls}
    assert many == few
    assert max(few.values()) <= 6, few
    # A page further on (offset, or the log's cursor) costs no more than a few statements either.
    older = NEXT.search(page(admin, "/beheer/logboek")).group(1).replace("&amp;", "&")
    assert statements(app, admin, older) <= few["/beheer/logboek"] + 2
    assert statements(app, admin, "/beheer/gebruikers?pagina=2") == few["/beheer/gebruikers"]


# --- bad parameters: a default, or a Dutch 400; never a 500 ---------------------------------------------------

BAD_PAGES = ["0", "-1", "abc", str(10**30), "1e3", "٣", "", "2.5", " 2"]


@pytest.mark.parametrize("url", ["/beheer/gebruikers", "/beheer/certificaten"])
def test_bad_paging_and_sort_parameters_fall_back_to_defaults(app, admin, url):
    add_users(app, [f"Anna {n:02d}" for n in range(60)])
    add_certificates(app, 60)
    rows = USER_ROW if "gebruikers" in url else CERTIFICATE_ROW
    default = rows.findall(page(admin, url))
    assert len(default) == PAGE
    for bad in BAD_PAGES:
        html = page(admin, f"{url}?pagina={bad}")
        assert "Pagina 1 van 2" in html, bad
    for bad in ("bogus", "naam;drop", "x" * 500):
        assert rows.findall(page(admin, f"{url}?sorteer={bad}&rol={bad}&status={bad}")) == default
    # Past the end: the last page.
    assert "Pagina 2 van 2" in page(admin, f"{url}?pagina=3") and "Pagina 2 van 2" in page(
        admin, f"{url}?pagina=999999999"
    )


def test_a_forged_audit_cursor_shows_the_newest_page_and_a_bad_date_is_a_dutch_400(app, admin):
    add_events(app, 60)
    newest = EVENT_ROW.findall(page(admin, "/beheer/logboek"))
    for cursor in ("abc", "-1", "0", "999999", str(10**30), "1.5", ""):
        for direction in ("ouder", "nieuwer"):
            assert EVENT_ROW.findall(page(admin, f"/beheer/logboek?{direction}={cursor}")) == newest, cursor
    for bad in ("gisteren", "2026-13-01", "0001-01-01", "9999-12-31", "2026-02-30"):
        for field in ("van", "tot"):
            response = admin.client.get(f"/beheer/logboek?{field}={bad}")
            assert response.status_code == 400, (field, bad)
            assert "Geef een datum op als jjjj-mm-dd" in text(response)
    assert EVENT_ROW.findall(page(admin, "/beheer/logboek?actie=" + "x" * 500)) == []


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER])
def test_only_admins_see_the_lists_whatever_the_parameters(person, role):
    someone = person(role, "Geen Beheerder")
    for url in (
        "/beheer/gebruikers?pagina=2&sorteer=e-mail&rol=admin",
        "/beheer/certificaten?status=ingetrokken&sorteer=status",
        "/beheer/logboek?actie=user.role&van=2026-01-01&ouder=1",
    ):
        assert someone.client.get(url).status_code == 403, url


# --- counting stops at a limit; paging goes on -------------------------------------------------------------


def test_past_the_count_limit_the_lists_say_more_than_and_still_reach_every_row(app, admin, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_LIMIT", 100)  # 10,000 in the app; the same code path with fewer rows
    add_users(app, ["Anna Zelfde"] * 130)
    add_events(app, 130)
    first = page(admin, "/beheer/gebruikers")
    assert "Meer dan 100 gebruikers; 1–50 getoond." in first and "Pagina 1 van meer dan 2" in first
    pages = walk(admin, "/beheer/gebruikers", USER_ROW)
    assert [len(rows) for rows in pages] == [PAGE, PAGE, 31]
    assert len({user_id for user_id, _ in flat(pages)}) == 131
    # A page number beyond the rows (it cannot be clamped to a last page that was not counted).
    beyond = page(admin, "/beheer/gebruikers?pagina=999999999")
    assert USER_ROW.findall(beyond) == [] and "op deze pagina staan er geen" in beyond and 'rel="prev"' in beyond
    assert "Meer dan 100 gebeurtenissen" in page(admin, "/beheer/logboek")
    assert len(flat(walk(admin, "/beheer/logboek", EVENT_ROW))) == 130


def test_a_search_term_needs_three_characters_and_a_shorter_one_keeps_the_previous_search(app, admin):
    add_users(app, ["Li Wu", "Anna de Vries"])
    search(admin, "/beheer/gebruikers", "vries")
    search(admin, "/beheer/gebruikers", "wu")
    html = page(admin, "/beheer/gebruikers")
    assert "Zoekterm niet gebruikt: typ minstens 3 tekens." in html
    assert [name for _, name in USER_ROW.findall(html)] == ["Anna de Vries"] and 'value="vries"' in html
    search(admin, "/beheer/gebruikers", "i w")
    assert [name for _, name in USER_ROW.findall(page(admin, "/beheer/gebruikers"))] == ["Li Wu"]
    search(admin, "/beheer/certificaten", "an")
    assert "Zoekterm niet gebruikt: typ minstens 3 tekens." in page(admin, "/beheer/certificaten")
