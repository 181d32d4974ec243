"""Names as people type them and certificates print them: NFC, single spaces, nothing invisible.

Format characters (Unicode category Cf: zero-width spaces and joiners, U+FEFF, the soft hyphen) are
invisible, and the bidirectional controls among them (U+202A–U+202E, U+2066–U+2069, U+200E/F,
U+061C) reorder what follows, so a name could print as something else than was typed, or as
nothing. Control, private-use and unassigned characters have no business in a name either.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Blank characters outside those categories: Hangul fillers (letters that draw nothing), the braille
# blank, the combining grapheme joiner, Khmer inherent vowels and variation selectors.
BLANK_CHARACTERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5" + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)


class InvalidName(ValueError):
    """The message is Dutch and meant for the person who typed the name."""


def is_invisible(char: str) -> bool:
    """A character that shows nothing (or only moves what follows): format, control or white space."""
    return _refused(char) or char.isspace()


def _refused(char: str) -> bool:
    return (
        unicodedata.category(char) in REFUSED_CATEGORIES or char in BLANK_CHARACTERS or 0xE0100 <= ord(char) <= 0xE01EF
    )


def normalise(raw: str) -> str:
    """NFC, and runs of white space (including the ends) made single spaces. Refuses nothing."""
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


def problem(name: str, subject: str = "Je naam") -> str | None:
    """What is wrong with an (already normalised) name, in Dutch; None when it may be used."""
    for char in name:
        if _refused(char):
            return (
                f"{subject} bevat een onzichtbaar teken of een teken dat de leesrichting verandert "
                f"(U+{ord(char):04X}). Typ de naam opnieuw, zonder zulke tekens."
            )
    if name and not any(unicodedata.category(char)[0] in "LN" for char in name):
        return f"{subject} moet minstens één letter of cijfer bevatten."
    return None


def clean(raw: str, subject: str = "Je naam") -> str:
    """The normalised name; InvalidName (with a Dutch message) when it may not be used."""
    name = normalise(raw)
    if not name:
        raise InvalidName("Vul een naam in.")
    if message := problem(name, subject):
        raise InvalidName(message)
    return name
