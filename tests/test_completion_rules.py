"""The completion checklist a learner sees on the lessons page, and the completion date a certificate
prints: every lesson read and every required test passed; the date is when the last requirement was
first met; after a revocation only passes made afterwards count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from course.certificates.completion import evaluate

T = datetime(2026, 11, 1, 10, tzinfo=UTC)
CHECKLIST = [
    ("Les 1: Inleiding lezen", "lesson", "inleiding"),
    ("Les 2: Kenmerken en gedrag van de ouder lezen", "lesson", "kenmerken-ouder"),
    ("Les 3: Kenmerken van het jonge kind lezen", "lesson", "kenmerken-kind"),
    (
        "Les 4: Stabiliteit en continuïteit in het contact tussen ouder en kind lezen",
        "lesson",
        "stabiliteit-continuiteit",
    ),
    ("Les 5: Gezins- en leefomstandigheden lezen", "lesson", "gezins-leefomstandigheden"),
    (
        "Les 6: Kan gedesorganiseerde gehechtheid worden hersteld? lezen",
        "lesson",
        "herstel-gedesorganiseerde-gehechtheid",
    ),
    ("Eindtoets halen", "quiz", "eindtoets"),
    ("Casustoets halen", "quiz", "casustoets"),
]


def catalog(app):
    return app.extensions["catalog"]


def all_read(app, at=T):
    return {lesson.id: at for lesson in catalog(app).lessons}


def test_the_checklist_names_every_lesson_and_test_in_course_order(app):
    result = evaluate(catalog(app), {}, {})
    assert [(s.label, s.kind, s.target_id) for s in result.steps] == CHECKLIST
    assert not any(s.done for s in result.steps)
    assert result.done_count == 0 and result.next_step == result.steps[0]
    assert result.complete is False and result.completed_at is None


def test_the_checklist_ticks_what_is_done_and_points_at_the_first_open_step(app):
    reads = {"inleiding": T, "kenmerken-kind": T}
    result = evaluate(catalog(app), reads, {"casustoets": [T]})
    assert [s.done for s in result.steps] == [True, False, True, False, False, False, False, True]
    assert result.done_count == 3
    assert result.next_step.label == "Les 2: Kenmerken en gedrag van de ouder lezen"
    assert result.complete is False and result.completed_at is None


def test_complete_when_everything_is_done_dated_when_the_last_requirement_was_first_met(app):
    reads = all_read(app) | {"inleiding": T + timedelta(days=3)}  # read last, after the tests
    passes = {"eindtoets": [T + timedelta(days=2), T + timedelta(days=1)], "casustoets": [T + timedelta(days=2)]}
    result = evaluate(catalog(app), reads, passes)
    assert result.complete and result.next_step is None and result.done_count == 8
    assert result.completed_at == T + timedelta(days=3)
    # A test passed twice counts from its first pass: retaking it later does not move the date.
    passes = {"eindtoets": [T + timedelta(days=5), T + timedelta(days=1)], "casustoets": [T + timedelta(days=2)]}
    assert evaluate(catalog(app), all_read(app), passes).completed_at == T + timedelta(days=2)


def test_naive_times_from_sqlite_count_as_utc(app):
    naive = T.replace(tzinfo=None)
    result = evaluate(catalog(app), all_read(app, naive), {"eindtoets": [naive], "casustoets": [naive]})
    assert result.complete and result.completed_at == T


def test_after_a_revocation_passes_up_to_that_moment_do_not_count_again(app):
    revoked = T + timedelta(days=1)
    passes = {"eindtoets": [T, revoked], "casustoets": [revoked + timedelta(minutes=1)]}
    result = evaluate(catalog(app), all_read(app), passes, since=revoked)
    assert [s.done for s in result.steps][-2:] == [False, True]
    assert result.next_step.label == "Eindtoets halen"
    passes["eindtoets"].append(revoked + timedelta(days=1))
    again = evaluate(catalog(app), all_read(app), passes, since=revoked)
    assert again.complete and again.completed_at == revoked + timedelta(days=1)
