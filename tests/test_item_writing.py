"""The item-writing check finds cues a test-wise learner can score on: absolute words in wrong options,
the key as the longest option, false true/false statements marked by absolute words, and final-test
or case questions that nearly copy a knowledge-check question. Rules in docs/toetsplan.md."""

from __future__ import annotations

from math import comb

import pytest

from config import Config
from course.catalog import load_catalog
from course.quizzes.definitions import Counting, Option, Policy, Question, Quiz, QuizKind, ReviewPolicy
from course.quizzes.item_writing import (
    NEAR_COPY,
    absolute_words,
    fisher_greater,
    item_writing_problems,
    poisson_binomial_tail,
    similarity,
)

POLICY = Policy(
    max_attempts=3, cooldown_minutes=0, counts=Counting.BEST, review=ReviewPolicy.NEVER, pass_mark_percent=70
)


def choice(qid: str, key: str, wrong: list[str], prompt: str = "Welke?") -> Question:
    options = [Option("a", key, True, "")] + [Option(chr(ord("b") + i), t, False, "") for i, t in enumerate(wrong)]
    return Question(id=qid, type="single_choice", section="1", prompt=prompt, options=tuple(options))


def statement(qid: str, prompt: str, answer: bool) -> Question:
    options = (Option("a", "Waar", answer, ""), Option("b", "Niet waar", not answer, ""))
    return Question(id=qid, type="true_false", section="1", prompt=prompt, options=options)


def quiz(questions: list[Question], kind: QuizKind = QuizKind.SUMMATIVE, name: str = "proef") -> Quiz:
    return Quiz(
        id=name,
        title=name,
        kind=kind,
        description="",
        policy=POLICY,
        questions=tuple(questions),
        source_file=f"quizzes/{name}.yaml",
    )


# ---------------------------------------------------------------- the statistics, by hand


def test_fisher_exact_one_sided_matches_the_hypergeometric_tail_by_hand():
    # [[3, 0], [0, 3]]: of 6 options, 3 with the word; all 3 in row 1. P = 1 / C(6, 3) = 0.05.
    assert fisher_greater(3, 0, 0, 3) == pytest.approx(1 / 20)
    # [[2, 1], [1, 2]]: P(X >= 2) = (C(3,2)C(3,1) + C(3,3)C(3,0)) / C(6,3) = (9 + 1) / 20.
    assert fisher_greater(2, 1, 1, 2) == pytest.approx(0.5)


def test_the_longest_key_tail_is_the_binomial_tail_when_every_question_has_four_options():
    # 10 questions of 4 options, key longest in 6: P(X >= 6) for X ~ Bin(10, 1/4).
    expected = sum(comb(10, k) * 0.25**k * 0.75 ** (10 - k) for k in range(6, 11))
    assert poisson_binomial_tail([0.25] * 10, 6) == pytest.approx(expected)
    assert expected == pytest.approx(0.0197, abs=1e-4)


def test_absolute_words_are_whole_words_in_any_case():
    assert absolute_words("Dat geldt Alleen bij nooit-ziek") == ["alleen", "nooit"]
    assert absolute_words("Geen enkele ouder") == ["geen enkele"]
    assert absolute_words("alleenstaand ouderschap, zekerheid") == []


# ---------------------------------------------------------------- the rules


def test_absolute_words_in_wrong_options_far_more_often_than_in_keys_are_reported_per_option():
    # 8 of 24 wrong options against 0 of 8 keys: p = C(24,8) / C(32,8) = 0.07, not yet clear.
    almost = [
        choice(f"q{n}", f"Sleutel {n} zonder cue", [f"Geldt alleen bij {n}", f"Zonder cue {n}", f"Ook zonder {n}"])
        for n in range(8)
    ]
    assert [p for p in item_writing_problems((quiz(almost),)) if "absoluut" in p.rule] == []
    # 16 of 24 against 0 of 8: p = C(24,16) / C(32,16) = 0.0012.
    questions = [
        choice(f"q{n}", f"Sleutel {n}", [f"Geldt alleen bij {n}", f"Nooit bij {n}", f"Ook zonder {n}"])
        for n in range(8)
    ]
    problems = [str(p) for p in item_writing_problems((quiz(questions),))]
    absolute = [p for p in problems if "absoluut woord" in p]
    assert len(absolute) == 16
    assert absolute[0].startswith(
        "quizzes/proef.yaml: vraag 'q0' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(quizzes/proef.yaml: 16/24 onjuiste opties tegen 0/8 sleutels, p = 0.001)"
    )


def test_absolute_words_as_often_in_keys_as_in_wrong_options_pass():
    questions = [
        choice(f"q{n}", f"Niet alleen {n}", [f"Alleen bij {n}", f"Zonder cue {n}", f"Ook zonder {n}"]) for n in range(8)
    ]
    assert [p for p in item_writing_problems((quiz(questions),)) if "absoluut" in p.rule] == []


def test_the_key_as_longest_option_far_more_often_than_chance_is_reported():
    long_key = [
        choice(f"l{n}", "Een veel langere en preciezere sleutel", ["Kort", "Korter", "Kortst"]) for n in range(6)
    ]
    short_key = [choice(f"s{n}", "Kort", ["Een lange onjuiste optie", "Nog een", "En nog"]) for n in range(4)]
    problems = [str(p) for p in item_writing_problems((quiz(long_key + short_key),))]
    flagged = sorted(p.split("'")[1] for p in problems if "langste optie" in p)
    assert flagged == [f"l{n}" for n in range(6)]
    assert "(quizzes/proef.yaml: 6 van 10 vragen, kans 2.5, p = 0.020)" in problems[0]


def test_the_key_as_longest_option_at_chance_passes():
    long_key = [choice(f"l{n}", "Een veel langere sleutel", ["Kort", "Korter", "Kortst"]) for n in range(3)]
    short_key = [choice(f"s{n}", "Kort", ["Een lange onjuiste optie", "Nog een", "En nog"]) for n in range(9)]
    assert [p for p in item_writing_problems((quiz(long_key + short_key),)) if "langste" in p.rule] == []


def test_a_true_false_set_whose_false_statements_carry_the_absolute_words_is_reported():
    marked = [statement(f"f{n}", f"Stelling {n} geldt altijd.", answer=False) for n in range(5)]
    plain = [statement(f"t{n}", f"Stelling {n} geldt soms.", answer=True) for n in range(5)]
    problems = [str(p) for p in item_writing_problems((quiz(marked + plain),))]
    flagged = sorted(p.split("'")[1] for p in problems if "onjuiste stelling" in p)
    assert flagged == [f"f{n}" for n in range(5)]


def test_a_final_question_that_nearly_copies_a_knowledge_check_question_is_reported():
    formative = choice(
        "kc-x",
        "Continuïteit in het contact tussen ouder en kind",
        ["Veel opvoeders", "Weinig contact", "Geen structuur"],
        prompt="Wat is volgens hoofdstuk 4 van belang voor een veilige gehechtheidsrelatie?",
    )
    copy = choice(
        "et-x",
        "Continuïteit in het contact tussen ouder en kind",
        ["Wisselende opvoeders", "Een ziekenhuisopname", "Conflicten"],
        prompt="Wat is volgens hoofdstuk 4 van belang voor het ontstaan van een veilige gehechtheidsrelatie?",
    )
    own = choice(
        "et-y",
        "Omdat de opname het contact met de ouder onderbreekt",
        ["Door het temperament", "Door de armoede", "Door de scheiding"],
        prompt="Een peuter ligt lang in het ziekenhuis. Waarom kan dat volgens hoofdstuk 4 de band bedreigen?",
    )
    assert similarity(copy, formative) >= NEAR_COPY > similarity(own, formative)
    problems = [
        str(p)
        for p in item_writing_problems(
            (quiz([formative], QuizKind.FORMATIVE, "kennischeck-x"), quiz([copy, own], name="eindtoets"))
        )
    ]
    near = [p for p in problems if "kopie" in p]
    assert len(near) == 1
    assert near[0].startswith(
        "quizzes/eindtoets.yaml: vraag 'et-x': regel: bijna een kopie van kennischeckvraag 'kc-x'"
    )


def test_the_final_test_and_the_knowledge_checks_pass_the_item_writing_check():
    """The case test is rebuilt by the case writers (issue 11); every other file must pass on its own
    and together."""
    catalog = load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)
    mine = tuple(q for q in catalog.quizzes if q.kind is not QuizKind.VIGNETTE)
    assert [str(p) for p in item_writing_problems(mine)] == []


# ---------------------------------------------------------------- the items the review of issue 11 named


@pytest.fixture(scope="module")
def bank():
    return load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)


def question_in(bank, question_id: str) -> Question:
    return next(q for quiz in bank.quizzes if (q := quiz.question(question_id)) is not None)


def test_adopted_after_the_first_birthday_keys_only_what_the_source_states_outside_its_brackets(bank):
    """The source: '(als zij al een eerste gehechtheidsrelatie hebben opgebouwd)' is a condition in
    brackets, not a fact to key."""
    keys = [o.text for o in question_in(bank, "kc4-adoptie-kenmerken-later").options if o.correct]
    assert keys == [
        "Zij zijn vaker onveilig gehecht dan kinderen die niet geadopteerd zijn.",
        "Zij hebben vaak langere tijd in een instelling doorgebracht.",
    ]


def test_the_adoption_study_is_not_tied_to_an_age_the_source_does_not_name(bank):
    question = question_in(bank, "kc6-studie-adoptiegezinnen")
    assert not any("verjaardag" in o.text or "maanden" in o.text for o in question.options)
    key = next(o for o in question.options if o.correct)
    assert "Over de leeftijd van de kinderen in de studie zegt de les niets" in key.explanation


def test_the_glossary_keeps_protective_factors_to_what_the_source_says_they_compensate(bank):
    term = next(t for t in bank.glossary if t.term == "beschermende factor")
    assert term.definition.startswith(
        "In de bron: een factor op het niveau van de ouder(s) of het gezin die risicofactoren bij het kind "
        "vaak kan compenseren."
    )
    assert "kunnen niet gecompenseerd worden door gunstige factoren bij het kind" in term.definition


@pytest.mark.parametrize("wording", ["Welk van de volgende", "één van de"])
def test_the_final_test_and_knowledge_checks_avoid_the_flagged_wording(bank, wording):
    for quiz in bank.quizzes:
        if quiz.kind is QuizKind.VIGNETTE:
            continue  # rebuilt by the case writers
        for q in quiz.all_questions:
            texts = [q.prompt] + [o.text + " " + o.explanation for o in q.options]
            assert not any(wording in text for text in texts), (q.id, wording)


# ---------------------------------------------------------------- the rules at their edges

# The list of docs/toetsplan.md section 6, rule 1.
DOCUMENTED_ABSOLUTE_WORDS = [
    "alleen",
    "altijd",
    "nooit",
    "uitsluitend",
    "zeker",
    "geen enkel",
    "geen enkele",
    "niets",
    "nergens",
    "volledig",
    "hoe dan ook",
    "per definitie",
    "onmogelijk",
]


@pytest.mark.parametrize("word", DOCUMENTED_ABSOLUTE_WORDS)
def test_every_absolute_word_the_rules_name_is_found(word):
    assert absolute_words(f"Dat geldt {word.upper()} voor ouders.") == [word]


def wrong_option_cue_file(name: str) -> Quiz:
    """Three two-option questions: every wrong option says 'alleen', no key does."""
    return quiz([choice(f"{name}{n}", f"Sleutel {n}", [f"Geldt alleen bij {n}"]) for n in range(3)], name=name)


def test_a_cue_at_exactly_p_005_in_each_file_passes_but_is_reported_for_the_whole_bank():
    # One file: [[3, 0], [0, 3]], p = 1 / C(6, 3) = 0.05 exactly: not below 0.05, so no problem.
    assert item_writing_problems((wrong_option_cue_file("proef-a"),)) == []
    # Both files: [[6, 0], [0, 6]], p = 1 / C(12, 6) = 0.001: the learner meets the cue across files.
    problems = [str(p) for p in item_writing_problems((wrong_option_cue_file("proef-a"), wrong_option_cue_file("b")))]
    assert problems == [
        "quizzes/b.yaml: vraag 'b0' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
        "quizzes/b.yaml: vraag 'b1' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
        "quizzes/b.yaml: vraag 'b2' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
        "quizzes/proef-a.yaml: vraag 'proef-a0' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
        "quizzes/proef-a.yaml: vraag 'proef-a1' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
        "quizzes/proef-a.yaml: vraag 'proef-a2' optie b: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(alle toetsen: 6/6 onjuiste opties tegen 0/6 sleutels, p = 0.001)",
    ]


def test_a_key_as_long_as_a_wrong_option_is_not_the_longest():
    # Six keys tie with a wrong option; counted as longest they would be 6 of 10 again (p = 0.020).
    tied = [choice(f"l{n}", "Even lang", ["Zo lang!!", "Kort", "Korter"]) for n in range(6)]
    short_key = [choice(f"s{n}", "Kort", ["Een lange onjuiste optie", "Nog een", "En nog"]) for n in range(4)]
    assert item_writing_problems((quiz(tied + short_key),)) == []


def test_only_false_statements_with_an_absolute_word_are_reported_with_the_counts():
    marked_false = [statement(f"f{n}", f"Stelling {n} geldt altijd.", answer=False) for n in range(5)]
    marked_true = [statement("w0", "Een baby huilt nooit zonder reden.", answer=True)]
    plain = [statement(f"t{n}", f"Stelling {n} geldt soms.", answer=True) for n in range(4)]
    plain_false = [statement("n0", "Stelling geldt vaak.", answer=False)]
    plain_true = statement("t4", "Stelling geldt vaak.", answer=True)
    # [[5, 1], [1, 4]]: P(X >= 5) = C(6,5) C(5,1) / C(11,6) + C(6,6) C(5,0) / C(11,6) = 31 / 462 = 0.067: passes.
    assert item_writing_problems((quiz(marked_false + marked_true + plain + plain_false),)) == []
    # [[5, 1], [0, 5]]: P = C(6,5) C(5,0) / C(11,5) = 6 / 462 = 0.013.
    problems = [str(p) for p in item_writing_problems((quiz(marked_false + marked_true + plain + [plain_true]),))]
    assert [p.split("'")[1] for p in problems] == [f"f{n}" for n in range(5)]
    assert problems[0] == (
        "quizzes/proef.yaml: vraag 'f0': regel: onjuiste stelling met absoluut woord ‘altijd’ (quizzes/proef.yaml: "
        "5 van 6 stellingen met zo’n woord zijn onjuist, tegen 0 van 5 zonder, p = 0.013)"
    )


def near_copy_problems(formative: Question, final: Question) -> list[str]:
    bank = (quiz([formative], QuizKind.FORMATIVE, "kennischeck-x"), quiz([final], name="eindtoets"))
    return [str(p) for p in item_writing_problems(bank) if "kopie" in p.rule]


def test_half_of_the_content_words_in_common_is_a_near_copy():
    # {hechting, rol, contact} against {hechting, rol, troost}: 2 of 4 words, exactly the limit 0.50.
    # Function words ('wat', 'zegt', 'les', 'over', 'het') and words of one or two letters ('ik') do not count.
    formative = choice("kc-x", "Contact", ["Geen"], prompt="Wat zegt de les over hechting en de rol?")
    final = choice("et-x", "Troost", ["Geen"], prompt="Hechting: het is ik, rol?")
    assert near_copy_problems(formative, final) == [
        "quizzes/eindtoets.yaml: vraag 'et-x': regel: bijna een kopie van kennischeckvraag 'kc-x' "
        "(overeenkomst 0.50, grens 0.5)"
    ]


def test_true_false_statements_are_compared_on_the_statement_not_on_waar_or_niet_waar():
    # {hechting, troost} against {hechting, contact}: 1 of 3. The keys 'Waar' and 'Niet waar' would add 'waar'.
    formative = statement("kc-s", "Hechting vraagt troost.", answer=True)
    final = statement("et-s", "Hechting vraagt contact.", answer=False)
    assert similarity(formative, final) == pytest.approx(2 / 4)  # 'vraagt' is a content word
    formative = statement("kc-s", "Hechting en troost.", answer=True)
    final = statement("et-s", "Hechting en contact.", answer=False)
    assert near_copy_problems(formative, final) == []


def test_questions_without_content_words_are_no_copies_of_each_other():
    formative = choice("kc-x", "Ja", ["Nee"], prompt="En?")
    final = choice("et-x", "Ja", ["Nee"], prompt="Of?")
    assert similarity(formative, final) == 0.0
    assert near_copy_problems(formative, final) == []


def test_absolute_words_in_keys_as_well_keep_wrong_options_with_them_from_being_a_cue():
    # 16 of 24 wrong options as in the reported case above, but now 8 of 8 keys too: no cue.
    questions = [
        choice(f"q{n}", f"Niet alleen {n}", [f"Geldt alleen bij {n}", f"Nooit bij {n}", f"Ook zonder {n}"])
        for n in range(8)
    ]
    assert [p for p in item_writing_problems((quiz(questions),)) if "absoluut" in p.rule] == []


def test_absolute_words_in_the_wrong_options_of_multiple_response_questions_count_too():
    questions = [
        Question(
            id=f"m{n}",
            type="multiple_response",
            section="1",
            prompt="Welke twee?",
            options=(
                Option("a", f"Sleutel {n}", True, ""),
                Option("b", f"Ook een sleutel {n}", True, ""),
                Option("c", f"Geldt alleen bij {n}", False, ""),
                Option("d", f"Nooit bij {n}", False, ""),
            ),
        )
        for n in range(4)
    ]
    # 8 of 8 wrong options against 0 of 8 keys: p = 1 / C(16, 8) < 0.001.
    problems = [str(p) for p in item_writing_problems((quiz(questions),))]
    assert len(problems) == 8
    assert problems[0] == (
        "quizzes/proef.yaml: vraag 'm0' optie c: regel: absoluut woord ‘alleen’ in een onjuiste optie "
        "(quizzes/proef.yaml: 8/8 onjuiste opties tegen 0/8 sleutels, p = 0.000)"
    )
