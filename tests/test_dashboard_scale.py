"""The trainer dashboard costs the same number of SQL statements for 1,000 or 10,000 learners."""

from __future__ import annotations

import pytest

from course.extensions import db
from course.models import Role, User
from course.seeding import seed_group
from tests.helpers import statements_during


def statements_for_page(app, client, url: str) -> tuple[int, str]:
    responses = []
    statements = statements_during(app, lambda: responses.append(client.get(url)))
    [response] = responses
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@pytest.fixture
def trainer(login_as) -> User:
    return login_as(Role.TRAINER)


def test_dashboard_statement_count_is_the_same_for_1000_and_10000_learners(app, client, trainer):
    counts = {}
    for size in (1_000, 10_000):
        with app.app_context():
            group = seed_group(db.session.get(User, trainer.id), size, app.extensions["catalog"], name=f"Groep {size}")
            db.session.commit()
            group_id = group.id
        counts[size], html = statements_for_page(app, client, f"/trainer/groepen/{group_id}?sorteer=naam")
        assert f"{size:,} cursisten".replace(",", ".") in html  # Dutch thousands separator
        assert "Cursist 00000" in html  # first page, sorted by name
    assert counts[1_000] == counts[10_000]
    assert counts[1_000] <= 12, counts
