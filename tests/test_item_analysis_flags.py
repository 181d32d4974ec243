"""Item analysis as a trainer reads it: a question is flagged exactly when it crosses a threshold (too
hard, too easy, weakly discriminating, a popular wrong answer) and not otherwise; the option table
counts what was chosen, as a share of everyone who answered."""

from __future__ import annotations

import pytest

from course.quizzes.definitions import (
    Category,
    Counting,
    MatchItem,
    Option,
    Policy,
    Question,
    Quiz,
    QuizKind,
    ReviewPolicy,
)
from course.trainer.item_analysis import MIN_ANSWERS_FOR_FLAGS, ItemRow, ItemStats, OptionShare, analyse

HARD = "moeilijk: minder dan 30% goed"
EASY = "makkelijk: meer dan 90% goed"
WEAK = "onderscheidt zwak tussen sterke en zwakke cursisten"

SINGLE = Question(
    id="s",
    type="single_choice",
    section="1",
    prompt="?",
    options=(Option("a", "Juist", True, ""), Option("b", "Fout een", False, ""), Option("c", "Fout twee", False, "")),
)
MATCHING = Question(
    id="m",
    type="matching",
    section="1",
    prompt="?",
    categories=(Category("ouder", "Ouder"), Category("kind", "Kind")),
    items=(MatchItem("1", "Verslaving", "ouder", ""), MatchItem("2", "Prematuur", "kind", "")),
)
QUIZ = Quiz(
    id="eindtoets",
    title="Eindtoets",
    kind=QuizKind.SUMMATIVE,
    description="",
    policy=Policy(None, 0, Counting.BEST, ReviewPolicy.NEVER, 70),
    questions=(SINGLE, MATCHING),
)


def stats(facility=0.6, discrimination=0.4, options=()) -> ItemStats:
    return ItemStats(
        question=SINGLE, answered=20, facility=facility, discrimination=discrimination, options=list(options)
    )


def test_an_ordinary_question_has_no_flags():
    assert stats().flags == []


def test_no_flags_without_answers():
    assert stats(facility=None, discrimination=None).flags == []


@pytest.mark.parametrize(("facility", "flagged"), [(0.29, True), (0.3, False), (0.31, False)])
def test_hard_below_thirty_percent(facility, flagged):
    assert (HARD in stats(facility=facility).flags) is flagged


@pytest.mark.parametrize(("facility", "flagged"), [(0.89, False), (0.9, False), (0.91, True)])
def test_easy_above_ninety_percent(facility, flagged):
    assert (EASY in stats(facility=facility).flags) is flagged


@pytest.mark.parametrize(("discrimination", "flagged"), [(0.19, True), (0.2, False), (None, False), (-0.5, True)])
def test_weak_discrimination_below_point_two(discrimination, flagged):
    assert (WEAK in stats(discrimination=discrimination).flags) is flagged


@pytest.mark.parametrize(("share", "flagged"), [(0.29, False), (0.3, True), (0.5, True)])
def test_a_wrong_answer_chosen_by_thirty_percent_or_more_is_flagged(share, flagged):
    options = [OptionShare("Juist", 7, 0.7, True), OptionShare("Fout een", 3, share, False)]
    notes = stats(options=options).flags
    assert notes == (["veelgekozen onjuist antwoord: ‘Fout een’ (misvatting?)"] if flagged else [])


def test_a_popular_right_answer_is_no_misconception_and_the_first_popular_wrong_one_is_named():
    assert stats(options=[OptionShare("Juist", 9, 0.9, True)]).flags == []
    options = [
        OptionShare("Juist", 2, 0.2, True),
        OptionShare("Fout een", 4, 0.4, False),
        OptionShare("Fout twee", 4, 0.4, False),
    ]
    assert stats(options=options).flags == ["veelgekozen onjuist antwoord: ‘Fout een’ (misvatting?)"]


def test_all_flags_together_in_a_fixed_order():
    options = [OptionShare("Fout een", 5, 0.5, False)]
    assert stats(facility=0.1, discrimination=0.0, options=options).flags == [
        HARD,
        WEAK,
        "veelgekozen onjuist antwoord: ‘Fout een’ (misvatting?)",
    ]


def by_label(item: ItemStats) -> dict[str, tuple[int, float, bool]]:
    return {o.label: (o.count, o.share, o.correct) for o in item.options}


def test_option_table_of_a_choice_question_counts_answers_as_a_share_of_those_who_answered():
    rows = [ItemRow(n, 50.0, "s", 1.0 if r == "a" else 0.0, r) for n, r in enumerate(["a", "a", "b", None])]
    rows.append(ItemRow(9, 50.0, "s", None, "c"))  # not graded (left open in an unfinished attempt): not counted
    single = analyse(QUIZ, rows)[0]
    assert single.answered == 4
    assert by_label(single) == {"Juist": (2, 0.5, True), "Fout een": (1, 0.25, False), "Fout twee": (0, 0.0, False)}


def test_option_table_of_a_matching_question_counts_each_placement():
    rows = [
        ItemRow(1, 90.0, "m", 1.0, {"1": "ouder", "2": "kind"}),
        ItemRow(2, 60.0, "m", 0.5, {"1": "ouder", "2": "ouder"}),
        ItemRow(3, 40.0, "m", 0.0, {"1": "kind"}),
        ItemRow(4, 10.0, "m", 0.0, None),
    ]
    matching = analyse(QUIZ, rows)[1]
    assert matching.answered == 4 and matching.facility == pytest.approx(0.375)
    assert by_label(matching) == {
        "Verslaving → Ouder": (2, 0.5, True),
        "Verslaving → Kind": (1, 0.25, False),
        "Prematuur → Ouder": (1, 0.25, False),
        "Prematuur → Kind": (1, 0.25, True),
    }
    # In question order: item by item, category by category; placements nobody made are left out.
    assert [o.label for o in matching.options] == [
        "Verslaving → Ouder",
        "Verslaving → Kind",
        "Prematuur → Ouder",
        "Prematuur → Kind",
    ]


def test_discrimination_compares_the_top_and_bottom_27_percent():
    # 11 attempts: round(11 * 0.27) = 3 in each group; the middle five do not count.
    scores = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    rows = [ItemRow(n, float(n), "s", s, "a" if s else "b") for n, s in enumerate(scores)]
    assert analyse(QUIZ, rows)[0].discrimination == pytest.approx(1.0 - 1 / 3)
    # Ten attempts are the minimum for an index; the rows may come in any order.
    ten = list(reversed(rows[1:]))
    assert analyse(QUIZ, ten)[0].discrimination == pytest.approx(1.0 - 2 / 3)
    assert analyse(QUIZ, ten[:9])[0].discrimination is None


@pytest.mark.parametrize(("answered", "judged"), [(1, False), (9, False), (10, True)])
def test_no_judgement_below_the_stated_minimum_of_answers(answered, judged):
    # One answer makes a question 100% "easy"; below MIN_ANSWERS_FOR_FLAGS the page says nothing about it.
    wrong = [OptionShare("Juist", 0, 0.0, True), OptionShare("Fout", answered, 1.0, False)]
    few = ItemStats(question=SINGLE, answered=answered, facility=1.0, discrimination=None, options=wrong)
    assert bool(few.flags) is judged
    assert MIN_ANSWERS_FOR_FLAGS == 10
