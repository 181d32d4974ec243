"""Issue 14, item 6: the trainer's group and learner pages say what they do and warn before a surprise."""

from __future__ import annotations

import pytest

from course.models import AttemptGrant, Role
from tests.conftest import Person
from tests.helpers import add_members, assign, count, due, new_group, post, text
from tests.quiz_helpers import pass_quiz


@pytest.fixture
def trainer(person) -> Person:
    return person(Role.TRAINER, "Tineke Trainer")


def test_adding_learners_comes_before_the_exports(trainer):
    page = text(trainer.client.get(f"/trainer/groepen/{new_group(trainer)}"))
    assert page.index('id="uitnodigen"') < page.index('id="export"')


def test_the_group_code_hint_names_a_link_that_exists(app, trainer, person):
    group_id = new_group(trainer)
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    assert "‘Groep aansluiten’" not in page
    assert "‘Sluit aan bij je groep’" in page
    learner = person(Role.LEARNER, "Anna Cursist")
    dashboard = text(learner.client.get("/"))
    assert ">Sluit aan bij je groep</a>" in dashboard  # the link the hint names
    assert '<a href="/groep-aansluiten">/groep-aansluiten</a>' in page


def test_the_due_date_field_shows_the_saved_date_and_the_button_says_what_it_does(trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    assert "Module toewijzen" not in page
    assert "Deadline vastleggen voor de hele groep" in page
    assign(trainer, group_id, due(21))
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    assert f'value="{due(21)}"' in page
    assert "Deadline wijzigen voor de hele groep" in page
    detail = text(trainer.client.get(f"/trainer/groepen/{group_id}/cursisten/{learner.id}"))
    assert f'value="{due(21)}"' not in detail  # no personal deadline yet: the personal field stays empty
    assign(trainer, group_id, due(7), learner)
    detail = text(trainer.client.get(f"/trainer/groepen/{group_id}/cursisten/{learner.id}"))
    assert f'value="{due(7)}"' in detail and "Persoonlijke deadline wijzigen" in detail


def test_an_extra_attempt_for_a_learner_who_passed_needs_a_confirmation(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    detail_url = f"/trainer/groepen/{group_id}/cursisten/{learner.id}"
    assert "al geslaagd" not in text(trainer.client.get(detail_url))
    pass_quiz(app, learner.client, "eindtoets")
    page = text(trainer.client.get(detail_url))
    assert "Anna Cursist is al geslaagd voor Eindtoets" in page
    assert 'name="confirm_passed"' in page
    url = f"{detail_url}/extra-poging"
    reason = {"quiz_id": "eindtoets", "reason": "Wil het nog eens proberen"}
    refused = text(post(trainer.client, url, reason, follow_redirects=True))
    assert "is al geslaagd voor Eindtoets. Vink aan" in refused
    assert count(app, AttemptGrant) == 0  # nothing changed
    granted = text(post(trainer.client, url, reason | {"confirm_passed": "ja"}, follow_redirects=True))
    assert "heeft een extra poging" in granted
    assert count(app, AttemptGrant) == 1
