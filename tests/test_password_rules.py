"""Password rules word for word as the person choosing a password reads them, and the breached list
as shipped (read from the file, not from the per-process cache)."""

from __future__ import annotations

from course.auth import passwords

COMMON = "Dit wachtwoord komt voor in lijsten van veelgebruikte wachtwoorden uit datalekken. Kies een ander wachtwoord."


def test_the_breached_list_is_read_without_its_comment_lines_or_blank_lines():
    listed = passwords.read_common_passwords()
    assert "123456" in listed and len(listed) == 30000
    assert not any(line.startswith("#") or not line for line in listed)


def test_refusals_read_in_full(app):
    with app.app_context():
        assert passwords.problem(None) == "Kies een wachtwoord van minstens 10 tekens."
        assert passwords.problem("k" * 257) == "Een wachtwoord mag hoogstens 256 tekens lang zijn."
        assert passwords.problem("welkom2024!") == COMMON
        assert passwords.problem("wandelen met anna vries", ["Anna de Vries"]) == (
            "Gebruik je naam of e-mailadres niet in je wachtwoord."
        )


def test_personal_words_come_from_names_and_the_local_part_of_addresses():
    words = passwords.personal_words([None, "Anna de Vries", "", "j.bakker@voorbeeld.nl"])
    assert words == ["anna", "bakker", "j.bakker", "vries"]  # not "de", "j", nor the domain
