"""Name rules word for word as the person typing a name reads them, and at the edges of the
character ranges they refuse."""

from __future__ import annotations

import pytest

from course import names


def refused(text: str, subject: str = "Je naam") -> str:
    return (
        f"{subject} bevat een onzichtbaar teken of een teken dat de leesrichting verandert "
        f"({text}). Typ de naam opnieuw, zonder zulke tekens."
    )


def test_an_empty_name_asks_for_one():
    for raw in ("", "   ", None):
        with pytest.raises(names.InvalidName, match=r"^Vul een naam in\.$"):
            names.clean(raw)


def test_the_message_names_the_character_and_the_field():
    with pytest.raises(names.InvalidName) as refusal:
        names.clean("Anna\u200bde Vries")
    assert str(refusal.value) == refused("U+200B")
    assert names.problem("Groep\u202e1", "De groepsnaam") == refused("U+202E", "De groepsnaam")
    assert names.problem("A\U000e0100") == refused("U+E0100")


def test_a_name_without_a_letter_or_digit_is_refused_with_its_own_message():
    assert names.problem("- . -") == "Je naam moet minstens één letter of cijfer bevatten."
    with pytest.raises(names.InvalidName) as refusal:
        names.clean("...", "De groepsnaam")
    assert str(refusal.value) == "De groepsnaam moet minstens één letter of cijfer bevatten."
    assert names.problem("3") is None and names.problem("٣") is None  # a digit in any script will do
    assert names.problem("") is None  # emptiness is clean()'s to report


@pytest.mark.parametrize("code", [0xE0100, 0xE0150, 0xE01EF])
def test_variation_selectors_supplement_is_refused_from_first_to_last(code):
    assert names.problem("A" + chr(code)) == refused(f"U+{code:04X}")
    assert names.is_invisible(chr(code))


def test_visible_characters_are_not_invisible_and_white_space_is():
    assert not names.is_invisible("a") and not names.is_invisible("é")
    assert names.is_invisible(" ") and names.is_invisible("\u00a0") and names.is_invisible("\u2800")
