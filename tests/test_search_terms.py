"""Search boxes: what someone types (a name, an e-mail address) never ends up in a URL."""

from __future__ import annotations

import pytest

from course import search_terms
from course.models import Role
from tests.conftest import AuthActions, Person
from tests.helpers import add_members, new_group, post, text

NAME = "Zoë van Oosterhout"
EMAIL = "zoe.oosterhout@voorbeeld.nl"


@pytest.fixture
def admin(person) -> Person:
    return person(Role.ADMIN, "Bea Beheer")


def searched(client, url: str, term: str, **fields) -> tuple[str, str]:
    """(where the search redirects to, the page shown there)."""
    response = post(client, url, {"term": term, **fields})
    assert response.status_code == 302
    location = response.headers["Location"]
    return location, text(client.get(location))


def test_the_search_forms_post_their_term(admin, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    group_id = new_group(trainer)
    for client, url in [
        (admin.client, "/beheer/gebruikers"),
        (admin.client, "/beheer/certificaten"),
        (trainer.client, f"/trainer/groepen/{group_id}"),
    ]:
        page = text(client.get(url))
        assert f'<form method="post" action="{url}"' in page
        assert 'name="term"' in page


def test_an_admin_search_keeps_the_name_out_of_the_url_and_shows_the_result(admin, person):
    person(Role.LEARNER, NAME, email=EMAIL)
    person(Role.LEARNER, "Anna de Vries")
    for term in (NAME, EMAIL, "oosterhout"):
        location, page = searched(admin.client, "/beheer/gebruikers", term, rol="learner")
        assert location == "/beheer/gebruikers?rol=learner"
        assert "Oosterhout" in page and "Anna de Vries" not in page
        assert f'value="{term}"' in page
    location, page = searched(admin.client, "/beheer/certificaten", NAME)
    assert location == "/beheer/certificaten"
    assert f'value="{NAME}"' in page


def test_a_trainer_search_is_kept_per_group_and_left_out_of_the_url(person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    zoe, anna = person(Role.LEARNER, NAME, email=EMAIL), person(Role.LEARNER, "Anna de Vries")
    first, second = new_group(trainer, "Groep A"), new_group(trainer, "Groep B")
    add_members(trainer, first, zoe, anna)
    add_members(trainer, second, zoe, anna)
    location, page = searched(trainer.client, f"/trainer/groepen/{first}", EMAIL, sorteer="naam", status="bogus")
    assert location == f"/trainer/groepen/{first}?sorteer=naam"
    assert NAME in page and "Anna de Vries" not in page
    # The other group is not filtered by a search made in the first.
    other = text(trainer.client.get(f"/trainer/groepen/{second}"))
    assert NAME in other and "Anna de Vries" in other


def test_logging_out_forgets_search_terms(admin, person):
    person(Role.LEARNER, NAME, email=EMAIL)
    searched(admin.client, "/beheer/gebruikers", "oosterhout")
    auth = AuthActions(admin.client)
    auth.logout()
    assert auth.login(admin.email).status_code == 302
    page = text(admin.client.get("/beheer/gebruikers"))
    assert 'value="oosterhout"' not in page
    assert 'name="term" type="search" maxlength="120" value=""' in page
    assert NAME in page and "Bea Beheer" in page  # the list is unfiltered again


def test_an_over_long_term_is_refused_and_the_previous_search_stays(admin, person):
    person(Role.LEARNER, NAME, email=EMAIL)
    person(Role.LEARNER, "Anna de Vries")
    searched(admin.client, "/beheer/gebruikers", "oosterhout")
    _, page = searched(admin.client, "/beheer/gebruikers", "x" * 121)
    assert "Zoekterm niet gebruikt: Hoogstens 120 tekens." in page
    assert 'value="oosterhout"' in page and "Anna de Vries" not in page


def test_the_session_keeps_terms_for_at_most_twenty_pages(app):
    with app.test_request_context("/"):
        for number in range(25):
            search_terms.remember(f"page-{number}", f"term {number}")
        assert search_terms.recall("page-4") == ""
        assert search_terms.recall("page-5") == "term 5"
        assert search_terms.recall("page-24") == "term 24"
        search_terms.remember("page-24", "   ")
        assert search_terms.recall("page-24") == ""
