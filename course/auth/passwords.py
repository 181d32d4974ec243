"""Is a new password good enough? Length, a shipped list of breached passwords, the person's own name
and address, and zxcvbn's estimate of how easily it is guessed, answered in Dutch. No network.

Temporary passwords (course/admin/users.py) are generated and not checked here; the passwords that
the CLI generates are (see `generate`).
"""

from __future__ import annotations

import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from flask import current_app
from zxcvbn import zxcvbn

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MAX_LENGTH = 256
# zxcvbn looks at this many characters at most (and is quadratic in them); beyond it a password
# is judged by its start, which for such a length is plenty.
ZXCVBN_MAX_LENGTH = 72
# Words anyone guessing at this site's passwords would try first.
SITE_WORDS = ("hechtwijzer", "hechting", "e-learning", "jeugdzorg")

# zxcvbn's feedback (zxcvbn/feedback.py) in Dutch. A test checks that every string it can give is here.
FEEDBACK_NL = {
    "Use a few words, avoid common phrases.": "Gebruik een paar woorden en vermijd bekende uitdrukkingen.",
    "No need for symbols, digits, or uppercase letters.": "Symbolen, cijfers of hoofdletters zijn niet nodig.",
    "Add another word or two. Uncommon words are better.": "Voeg nog een of twee woorden toe; ongewone woorden zijn beter.",
    "Straight rows of keys are easy to guess.": "Rechte rijen toetsen zijn makkelijk te raden.",
    "Short keyboard patterns are easy to guess.": "Korte patronen op het toetsenbord zijn makkelijk te raden.",
    "Use a longer keyboard pattern with more turns.": "Gebruik een langer patroon op het toetsenbord, met meer bochten.",
    'Repeats like "aaa" are easy to guess.': "Herhalingen zoals ‘aaa’ zijn makkelijk te raden.",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "Herhalingen zoals ‘abcabcabc’ zijn maar een beetje moeilijker te raden dan ‘abc’."
    ),
    "Avoid repeated words and characters.": "Vermijd herhaalde woorden en tekens.",
    'Sequences like "abc" or "6543" are easy to guess.': "Reeksen zoals ‘abc’ of ‘6543’ zijn makkelijk te raden.",
    "Avoid sequences.": "Vermijd reeksen.",
    "Recent years are easy to guess.": "Recente jaartallen zijn makkelijk te raden.",
    "Avoid recent years.": "Vermijd recente jaartallen.",
    "Avoid years that are associated with you.": "Vermijd jaartallen die met jou te maken hebben.",
    "Dates are often easy to guess.": "Datums zijn vaak makkelijk te raden.",
    "Avoid dates and years that are associated with you.": "Vermijd datums en jaartallen die met jou te maken hebben.",
    "This is a top-10 common password.": "Dit is een van de tien meest gebruikte wachtwoorden.",
    "This is a top-100 common password.": "Dit is een van de honderd meest gebruikte wachtwoorden.",
    "This is a very common password.": "Dit is een veelgebruikt wachtwoord.",
    "This is similar to a commonly used password.": "Dit lijkt op een veelgebruikt wachtwoord.",
    "A word by itself is easy to guess.": "Eén woord op zichzelf is makkelijk te raden.",
    "Names and surnames by themselves are easy to guess.": "Voor- en achternamen op zichzelf zijn makkelijk te raden.",
    "Common names and surnames are easy to guess.": "Veelvoorkomende voor- en achternamen zijn makkelijk te raden.",
    "Capitalization doesn't help very much.": "Hoofdletters helpen niet veel.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Alleen hoofdletters is bijna net zo makkelijk te raden als alleen kleine letters."
    ),
    "Reversed words aren't much harder to guess.": "Omgekeerde woorden zijn niet veel moeilijker te raden.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Voorspelbare vervangingen, zoals ‘@’ voor ‘a’, helpen niet veel."
    ),
}
TOO_GUESSABLE = "Dit wachtwoord is te makkelijk te raden."
GENERIC_ADVICE = "Kies een langer wachtwoord, bijvoorbeeld een paar woorden die niet bij elkaar horen."

# zxcvbn keeps the user inputs in a module-level dictionary between its steps: one check at a time.
_zxcvbn_lock = threading.Lock()
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def read_common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


# Read once per process; cached by wrapping, not by decorating, so mutmut mutates the reader.
common_passwords = cache(read_common_passwords)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_common(password: str) -> bool:
    """In the breached list as it is, or once digits and symbols around it are taken off (Welkom2024!)."""
    folded = _fold(password)
    core = _EDGES.sub("", folded)
    listed = common_passwords()
    return folded in listed or folded.replace(" ", "") in listed or (len(core) >= 6 and core in listed)


def personal_words(user_inputs: Iterable[str | None]) -> list[str]:
    """Parts of a name or e-mail address long enough to matter in a password (Dutch 'van', 'de' are not)."""
    words: set[str] = set()
    for value in user_inputs:
        if not value:
            continue
        folded = _fold(value)
        # The domain follows the last "@" (a local part may itself hold one, and so may a name).
        local = folded.rsplit("@", 1)[0] if "@" in folded else None
        for part in re.split(r"[\W_]+", local if local is not None else folded):
            if len(part) >= 4:
                words.add(part)
        if local is not None and len(local) >= 4:
            words.add(local)
    return sorted(words)


def feedback_nl(english: str) -> str:
    return FEEDBACK_NL.get(english, "")


def problem(password: str, user_inputs: Iterable[str | None] = ()) -> str | None:
    """Why this password may not be used, in Dutch; None when it is good enough."""
    password = password or ""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Kies een wachtwoord van minstens {minimum} tekens."
    if len(password) > MAX_LENGTH:
        return f"Een wachtwoord mag hoogstens {MAX_LENGTH} tekens lang zijn."
    if is_common(password):
        return (
            "Dit wachtwoord komt voor in lijsten van veelgebruikte wachtwoorden uit datalekken. "
            "Kies een ander wachtwoord."
        )
    user_inputs = list(user_inputs)
    folded = _fold(password)
    if any(word in folded for word in personal_words(user_inputs)):
        return "Gebruik je naam of e-mailadres niet in je wachtwoord."
    with _zxcvbn_lock:
        result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[*(v for v in user_inputs if v), *SITE_WORDS])
    if result["score"] >= current_app.config["PASSWORD_MIN_SCORE"]:
        return None
    advice = [feedback_nl(result["feedback"]["warning"])] if result["feedback"]["warning"] else []
    advice += [feedback_nl(s) for s in result["feedback"]["suggestions"]]
    advice = [line for line in advice if line] or [GENERIC_ADVICE]
    return " ".join([TOO_GUESSABLE, *advice])


def generate() -> str:
    """A random password (16 URL-safe characters) that passes `problem`; for the CLI's accounts."""
    while True:
        password = secrets.token_urlsafe(12)
        if problem(password) is None:
            return password
