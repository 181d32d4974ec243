"""Item-writing check: cues a test-wise learner can score on without knowing the content.

Pure functions over loaded quizzes; `flask course check` reports what they find by file and id.
The rules and their thresholds are explained in docs/toetsplan.md:

- absolute words (alleen, altijd, nooit, ...) in wrong options clearly more often than in keys:
  one-sided Fisher exact test, p < ALPHA;
- the key the (strictly) longest option of a single-choice question clearly more often than chance
  (1 / number of options per question): one-sided exact test on the Poisson-binomial count, p < ALPHA;
- true/false statements: those with absolute words clearly more often false than the others
  (one-sided Fisher exact test, p < ALPHA);
- a final-test or case question that nearly copies a knowledge-check question (whose answer the
  learner has seen): Jaccard similarity of the content words of prompt and key >= NEAR_COPY.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from math import comb

from course.quizzes.blueprint import Problem, file_label
from course.quizzes.definitions import Question, Quiz, QuizKind

ALPHA = 0.05
NEAR_COPY = 0.5

# Words that make a statement absolute; as whole words, case-insensitive.
ABSOLUTE_WORDS = (
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
)
_ABSOLUTE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ABSOLUTE_WORDS) + r")\b", re.IGNORECASE)

# Words that carry no content for the near-copy measure.
_STOPWORDS_TEXT = """de het een en of van in op aan bij met voor door over naar uit als dat die dit deze zijn is was
    wat welke wie hoe waarom wordt worden kan kunnen zal zou er om te tot ook niet wel nog dan zo
    volgens les paragraaf hoofdstuk stelling kies alle juiste antwoorden antwoord zegt noemt zij ze hij
    haar zijn hun je jij jouw u"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def absolute_words(text: str) -> list[str]:
    return [m.group(1).lower() for m in _ABSOLUTE.finditer(text)]


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p: chance of `a` or more in the top-left cell of [[a, b], [c, d]] with
    the margins fixed (row 1 'has the property' more often than row 2)."""
    row1, col1, n = a + b, a + c, a + b + c + d
    denominator = comb(n, col1)
    return sum(comb(row1, k) * comb(n - row1, col1 - k) for k in range(a, min(row1, col1) + 1)) / denominator


def poisson_binomial_tail(probabilities: list[float], at_least: int) -> float:
    """P(X >= at_least) for X the number of successes of independent trials with these probabilities."""
    dist = [1.0]
    for p in probabilities:
        nxt = [0.0] * (len(dist) + 1)
        for k, value in enumerate(dist):
            nxt[k] += value * (1 - p)
            nxt[k + 1] += value * p
        dist = nxt
    return sum(dist[at_least:])


@dataclass(frozen=True)
class CueCount:
    """The numbers behind one rule, for the report and docs/toetsplan.md."""

    scope: str
    hits: int
    total: int
    baseline_hits: float
    baseline_total: int
    p: float

    @property
    def significant(self) -> bool:
        return is_significant(self.p)


def is_significant(p: float) -> bool:
    # A plain function, so mutation testing reaches the threshold (mutmut skips decorated functions).
    return p < ALPHA


def _choice_questions(quizzes: Iterable[Quiz]) -> list[tuple[Quiz, Question]]:
    return [
        (quiz, q) for quiz in quizzes for q in quiz.all_questions if q.type in ("single_choice", "multiple_response")
    ]


def absolute_word_count(quizzes: Iterable[Quiz], scope: str) -> CueCount:
    """Wrong options with an absolute word against keys with one."""
    wrong = [o for _, q in _choice_questions(quizzes) for o in q.options if not o.correct]
    keys = [o for _, q in _choice_questions(quizzes) for o in q.options if o.correct]
    w = sum(bool(absolute_words(o.text)) for o in wrong)
    k = sum(bool(absolute_words(o.text)) for o in keys)
    p = fisher_greater(w, len(wrong) - w, k, len(keys) - k) if w else 1.0
    return CueCount(scope, w, len(wrong), k, len(keys), p)


def longest_key_count(quizzes: Iterable[Quiz], scope: str) -> CueCount:
    """Single-choice questions whose key is strictly the longest option, against chance."""
    questions = [q for quiz in quizzes for q in quiz.all_questions if q.type == "single_choice"]
    hits = sum(_key_is_longest(q) for q in questions)
    chances = [1 / len(q.options) for q in questions]
    p = poisson_binomial_tail(chances, hits) if questions else 1.0
    return CueCount(scope, hits, len(questions), sum(chances), len(questions), p)


def _key_is_longest(q: Question) -> bool:
    key = next(o for o in q.options if o.correct)
    return all(len(key.text) > len(o.text) for o in q.options if o is not key)


def true_false_count(quizzes: Iterable[Quiz], scope: str) -> CueCount:
    """False statements among those with absolute words, against false ones among the rest."""
    statements = [q for quiz in quizzes for q in quiz.all_questions if q.type == "true_false"]
    marked = [q for q in statements if absolute_words(q.prompt)]
    plain = [q for q in statements if not absolute_words(q.prompt)]
    a = sum(_is_false(q) for q in marked)
    c = sum(_is_false(q) for q in plain)
    p = fisher_greater(a, len(marked) - a, c, len(plain) - c) if a else 1.0
    return CueCount(scope, a, len(marked), c, len(plain), p)


def _is_false(q: Question) -> bool:
    return q.options[1].correct  # "Niet waar" is the key


def content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    return frozenset(w for w in words if len(w) > 2 and w not in STOPWORDS)


def fingerprint(q: Question) -> frozenset[str]:
    """What a learner would recognise: the prompt and the key (right options, or items per category)."""
    parts = [q.prompt] + [o.text for o in q.options if o.correct and q.type != "true_false"]
    parts += [f"{i.text}" for i in q.items]
    return content_words(" ".join(parts))


def similarity(a: Question, b: Question) -> float:
    fa, fb = fingerprint(a), fingerprint(b)
    return len(fa & fb) / len(fa | fb) if fa | fb else 0.0


def near_copies(quizzes: tuple[Quiz, ...]) -> list[tuple[Quiz, Question, Question, float]]:
    formative = [q for quiz in quizzes if quiz.kind is QuizKind.FORMATIVE for q in quiz.all_questions]
    found = []
    for quiz in quizzes:
        if quiz.kind is QuizKind.FORMATIVE:
            continue
        for q in quiz.all_questions:
            best = max(formative, key=lambda f: similarity(q, f), default=None)
            if best is not None and (score := similarity(q, best)) >= NEAR_COPY:
                found.append((quiz, q, best, score))
    return found


def _scopes(quizzes: tuple[Quiz, ...]) -> list[tuple[str, tuple[Quiz, ...]]]:
    """Each file on its own, then the whole bank (a learner meets the cues across files)."""
    return [(file_label(q.source_file), (q,)) for q in quizzes] + [("alle toetsen", quizzes)]


def item_writing_problems(quizzes: tuple[Quiz, ...]) -> list[Problem]:
    """Offenders of every cue rule that fails, each once (with the first scope where the rule failed)."""
    problems: list[Problem] = []
    for scope, group in _scopes(quizzes):
        count = absolute_word_count(group, scope)
        if count.significant:
            for quiz, q in _choice_questions(group):
                for o in q.options:
                    if not o.correct and (words := absolute_words(o.text)):
                        problems.append(
                            Problem(
                                file_label(quiz.source_file),
                                f"vraag '{q.id}' optie {o.id}",
                                f"regel: absoluut woord ‘{words[0]}’ in een onjuiste optie ({scope}: "
                                f"{count.hits}/{count.total} onjuiste opties tegen {count.baseline_hits:g}/"
                                f"{count.baseline_total} sleutels, p = {count.p:.3f})",
                            )
                        )
        count = longest_key_count(group, scope)
        if count.significant:
            for quiz in group:
                for q in quiz.all_questions:
                    if q.type == "single_choice" and _key_is_longest(q):
                        problems.append(
                            Problem(
                                file_label(quiz.source_file),
                                f"vraag '{q.id}'",
                                f"regel: de sleutel is de langste optie ({scope}: {count.hits} van {count.total} "
                                f"vragen, kans {count.baseline_hits:.1f}, p = {count.p:.3f})",
                            )
                        )
        count = true_false_count(group, scope)
        if count.significant:
            for quiz in group:
                for q in quiz.all_questions:
                    if q.type == "true_false" and _is_false(q) and (words := absolute_words(q.prompt)):
                        problems.append(
                            Problem(
                                file_label(quiz.source_file),
                                f"vraag '{q.id}'",
                                f"regel: onjuiste stelling met absoluut woord ‘{words[0]}’ ({scope}: {count.hits} "
                                f"van {count.total} stellingen met zo’n woord zijn onjuist, tegen "
                                f"{count.baseline_hits:g} van {count.baseline_total} zonder, p = {count.p:.3f})",
                            )
                        )
    for quiz, q, formative, score in near_copies(quizzes):
        problems.append(
            Problem(
                file_label(quiz.source_file),
                f"vraag '{q.id}'",
                f"regel: bijna een kopie van kennischeckvraag '{formative.id}' (overeenkomst {score:.2f}, "
                f"grens {NEAR_COPY})",
            )
        )
    once: dict[tuple[str, str, str], Problem] = {}
    for problem in problems:
        once.setdefault((problem.file, problem.id, problem.rule.split("(")[0]), problem)
    return sorted(once.values(), key=lambda p: (p.file, p.id, p.rule))
