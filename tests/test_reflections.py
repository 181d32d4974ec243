"""The optional reflection per lesson: private to the learner, shared with trainers only by their choice.

Through HTTP as the learner and the trainer act; the assertions look at the database and the pages."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from course.models import AuditEvent, Reflection, Role
from tests.helpers import add_members, count, fetch, new_group, post, text
from tests.quiz_helpers import catalog

LESSON = "kenmerken-kind"
URL = f"/lessen/{LESSON}/reflectie"
# A marker no page shows by itself: wherever it appears, the reflection's text is on that page.
PRIVATE = "Mijn eigen praktijk: moeder op het consultatiebureau, privé-notitie 7Q4Z."
SHARED = "Wat ik wil bespreken: een vader in detentie, gedeelde notitie 9K2X."


def reflections(app, user_id: int | None = None) -> list[tuple[str, str, bool]]:
    statement = sa.select(Reflection).order_by(Reflection.id)
    if user_id is not None:
        statement = statement.where(Reflection.user_id == user_id)
    return [(r.lesson_id, r.text, r.shared) for r in fetch(app, statement)]


def write(person, text_: str, lesson: str = LESSON):
    return post(person.client, f"/lessen/{lesson}/reflectie", {"text": text_})


def share(person, choice: str = "ja", lesson: str = LESSON, **kwargs):
    return post(person.client, f"/lessen/{lesson}/reflectie/delen", {"share": choice}, **kwargs)


def events(app, prefix: str = "reflection.") -> list[AuditEvent]:
    return [e for e in fetch(app, sa.select(AuditEvent).order_by(AuditEvent.id)) if e.action.startswith(prefix)]


# --- writing, editing, deleting ---------------------------------------------------------------------


def test_the_lesson_page_asks_the_lessons_own_question_and_says_the_reflection_is_optional_and_private(app, person):
    learner = person(Role.LEARNER)
    page = text(learner.client.get(f"/lessen/{LESSON}"))
    question = catalog(app).lesson(LESSON).reflection_prompt
    assert f'<label for="text">{question}</label>' in page
    assert "Reflectie op je eigen praktijk (vrijwillig)" in page
    assert "niet verplicht en telt niet mee voor het afronden" in page
    assert "alleen jij kunt het lezen, tenzij je het zelf deelt" in page
    assert 'maxlength="4000"' in page
    # Every lesson has a question of its own.
    prompts = [lesson.reflection_prompt for lesson in catalog(app).lessons]
    assert len(set(prompts)) == len(prompts) == 6


def test_a_learner_writes_edits_and_deletes_their_reflection(app, person):
    learner = person(Role.LEARNER)

    saved = write(learner, "  Eerste versie.\r\nTweede regel.  ")
    assert saved.status_code == 302 and saved.headers["Location"] == f"/lessen/{LESSON}#reflectie"
    assert reflections(app, learner.id) == [(LESSON, "Eerste versie.\nTweede regel.", False)]
    page = text(learner.client.get(f"/lessen/{LESSON}"))
    assert "Je reflectie is bewaard." in page
    assert "Eerste versie.\nTweede regel.</textarea>" in page
    assert "Privé: alleen jij kunt deze reflectie lezen" in page

    assert write(learner, "Aangepast na gesprek met collega.").status_code == 302
    assert reflections(app, learner.id) == [(LESSON, "Aangepast na gesprek met collega.", False)]
    assert write(learner, "Aangepast na gesprek met collega.").status_code == 302
    assert "er is niets veranderd" in text(learner.client.get(f"/lessen/{LESSON}"))

    deleted = post(learner.client, f"{URL}/verwijderen")
    assert deleted.status_code == 302
    assert reflections(app, learner.id) == []
    page = text(learner.client.get(f"/lessen/{LESSON}"))
    assert "Je reflectie is verwijderd." in page and "Reflectie verwijderen" not in page
    again = post(learner.client, f"{URL}/verwijderen", follow_redirects=True)
    assert "Er was geen reflectie bij deze les om te verwijderen." in text(again)


def test_each_learner_has_one_reflection_per_lesson(app, person):
    anna, bram = person(Role.LEARNER, "Anna"), person(Role.LEARNER, "Bram")
    write(anna, "Anna over les 3.")
    write(anna, "Anna over les 1.", lesson="inleiding")
    write(bram, "Bram over les 3.")
    assert reflections(app, anna.id) == [(LESSON, "Anna over les 3.", False), ("inleiding", "Anna over les 1.", False)]
    assert reflections(app, bram.id) == [(LESSON, "Bram over les 3.", False)]
    assert "Anna over les 3." not in text(bram.client.get(f"/lessen/{LESSON}"))
    assert {r.module_id for r in fetch(app, sa.select(Reflection))} == {catalog(app).module.id}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Schrijf eerst je reflectie; een lege reflectie wordt niet bewaard."),
        (" \r\n\t ", "Schrijf eerst je reflectie; een lege reflectie wordt niet bewaard."),
        ("x" * 4001, "Je reflectie is 4001 tekens lang; er passen er hoogstens 4000 in."),
        ("Gewoon\u202etxet", "Je reflectie bevat een onzichtbaar teken (U+202E)."),
        ("bel\x07", "Je reflectie bevat een onzichtbaar teken (U+0007)."),
    ],
)
def test_a_bad_reflection_is_refused_with_a_message_and_changes_nothing(app, person, value, message):
    learner = person(Role.LEARNER)
    write(learner, "Wat er al stond.")
    response = write(learner, value)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert reflections(app, learner.id) == [(LESSON, "Wat er al stond.", False)]


def test_exactly_the_limit_is_accepted(app, person):
    learner = person(Role.LEARNER)
    assert write(learner, "x" * 4000).status_code == 302
    assert len(reflections(app, learner.id)[0][1]) == 4000


def test_without_csrf_token_or_for_an_unknown_lesson_nothing_is_saved(app, person):
    learner = person(Role.LEARNER)
    assert learner.client.post(URL, data={"text": "Zonder token."}).status_code == 400
    assert write(learner, "Onbekende les.", lesson="bestaat-niet").status_code == 404
    assert share(learner, lesson="bestaat-niet").status_code == 404
    assert post(learner.client, "/lessen/bestaat-niet/reflectie/verwijderen").status_code == 404
    assert count(app, Reflection) == 0


# --- sharing ---------------------------------------------------------------------------------------


@pytest.fixture
def group(person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    return trainer, learner, group_id


def trainer_pages(trainer, group_id: int, learner_id: int) -> dict[str, str]:
    """Every page and export a trainer has about the group and the learner, as text."""
    base = f"/trainer/groepen/{group_id}"
    pages = {}
    for url in [
        "/trainer/",
        base,
        f"{base}/cursisten/{learner_id}",
        f"{base}/accreditatie.csv",
        *(f"/trainer/toetsen/{quiz}/analyse?groep={group_id}" for quiz in ("eindtoets", "casustoets")),
    ]:
        response = trainer.client.get(url)
        assert response.status_code == 200, url
        pages[url] = text(response)
    xlsx = trainer.client.get(f"{base}/accreditatie.xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx.data)) as archive:
        pages["xlsx"] = " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return pages


def test_an_unshared_reflection_is_on_no_trainer_page_or_export(app, group):
    trainer, learner, group_id = group
    assert write(learner, PRIVATE).status_code == 302
    pages = trainer_pages(trainer, group_id, learner.id)
    assert [url for url, page in pages.items() if "7Q4Z" in page] == []
    assert "Geen gedeelde reflecties." in pages[f"/trainer/groepen/{group_id}/cursisten/{learner.id}"]


def test_a_shared_reflection_shows_on_the_learners_trainer_page_only_and_only_while_shared(app, group, person):
    trainer, learner, group_id = group
    write(learner, PRIVATE, lesson="inleiding")  # stays private
    write(learner, SHARED)
    response = share(learner)
    assert response.status_code == 302
    assert "Je reflectie is gedeeld" in text(learner.client.get(f"/lessen/{LESSON}"))
    assert reflections(app, learner.id) == [("inleiding", PRIVATE, False), (LESSON, SHARED, True)]

    pages = trainer_pages(trainer, group_id, learner.id)
    learner_page = f"/trainer/groepen/{group_id}/cursisten/{learner.id}"
    assert [url for url, page in pages.items() if "9K2X" in page] == [learner_page]
    assert "Les 3: Kenmerken van het jonge kind" in pages[learner_page]
    assert [url for url, page in pages.items() if "7Q4Z" in page] == []
    # A trainer of another group does not reach the learner at all.
    outsider = person(Role.TRAINER, "Other Trainer")
    other_group = new_group(outsider, "Andere groep")
    assert outsider.client.get(f"/trainer/groepen/{other_group}/cursisten/{learner.id}").status_code == 404
    assert outsider.client.get(f"/trainer/groepen/{group_id}/cursisten/{learner.id}").status_code == 404

    assert share(learner, "nee").status_code == 302
    assert reflections(app, learner.id)[1] == (LESSON, SHARED, False)
    assert "9K2X" not in text(trainer.client.get(learner_page))


def test_sharing_changes_are_audited_without_the_text(app, group):
    _, learner, _ = group
    write(learner, SHARED)
    share(learner)
    share(learner)  # already shared: no second event
    share(learner, "nee")
    share(learner)
    post(learner.client, f"{URL}/verwijderen")  # deleting a shared reflection ends the sharing too
    recorded = [(e.action, e.actor_id, e.subject_type, e.subject_id, e.details) for e in events(app)]
    about = {"module_id": catalog(app).module.id, "lesson_id": LESSON}
    assert recorded == [
        ("reflection.share", learner.id, "user", learner.id, about),
        ("reflection.unshare", learner.id, "user", learner.id, about),
        ("reflection.share", learner.id, "user", learner.id, about),
        ("reflection.unshare", learner.id, "user", learner.id, {**about, "deleted": True}),
    ]
    assert not any("9K2X" in json.dumps(e.details) for e in events(app))


def test_sharing_needs_a_reflection_and_a_clear_choice(app, group):
    _, learner, _ = group
    nothing = share(learner, follow_redirects=True)
    assert "Er is nog geen reflectie bij deze les om te delen." in text(nothing)
    write(learner, PRIVATE)
    for choice in ("", "misschien", "JA"):
        assert share(learner, choice).status_code == 400
    assert post(learner.client, f"{URL}/delen").status_code == 400
    assert reflections(app, learner.id) == [(LESSON, PRIVATE, False)]
    assert events(app) == []


# --- the learner's data: export and erasure -----------------------------------------------------------


def test_the_data_export_holds_every_reflection_shared_or_not(app, group):
    _, learner, _ = group
    write(learner, PRIVATE, lesson="inleiding")
    write(learner, SHARED)
    share(learner)
    exported = json.loads(learner.client.get("/account/gegevens.json").data)
    rows = [(r["lesson_id"], r["text"], r["shared"]) for r in exported["reflections"]]
    assert rows == [("inleiding", PRIVATE, False), (LESSON, SHARED, True)]
    assert all(r["module_id"] == catalog(app).module.id and r["updated_at"] for r in exported["reflections"])
    assert [e["action"] for e in exported["audit_events_about_you"]] == ["reflection.share"]


def test_erasing_the_account_erases_the_reflections(app, group, person):
    _, learner, _ = group
    other = person(Role.LEARNER, "Bram Anders")
    write(learner, PRIVATE)
    write(other, SHARED)
    response = post(learner.client, "/account/verwijderen", {"password": "correct horse battery", "confirm": "y"})
    assert response.status_code == 302
    assert reflections(app, learner.id) == []
    assert reflections(app) == [(LESSON, SHARED, False)]
