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


def test_the_limits_are_inclusive_a_password_of_exactly_the_minimum_or_maximum_length_is_fine(app):
    # "Kq7#vLm2pX" is 10 characters and zxcvbn scores it 3, exactly PASSWORD_MIN_SCORE: both limits met.
    with app.app_context():
        assert passwords.problem("Kq7#vLm2pX") is None
        assert passwords.problem("Kq7#vLm2p") == "Kies een wachtwoord van minstens 10 tekens."
        longest = ("fietsbel regenjas boterham tulpenveld " * 7)[:256]
        assert len(longest) == 256 and passwords.problem(longest) is None


def test_an_empty_password_is_refused_for_its_length_whatever_minimum_is_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_MIN_LENGTH", 1)  # the app is shared by the whole session
    with app.app_context():
        assert passwords.problem("") == "Kies een wachtwoord van minstens 1 tekens."
        assert passwords.problem(None) == "Kies een wachtwoord van minstens 1 tekens."


def test_a_guessable_password_gets_the_verdict_then_each_hint_in_dutch_separated_by_spaces(app):
    # zxcvbn: score 2, no warning, two suggestions.
    with app.app_context():
        assert passwords.problem("Rotterdam010") == (
            "Dit wachtwoord is te makkelijk te raden. Voeg nog een of twee woorden toe; ongewone woorden zijn beter. "
            "Hoofdletters helpen niet veel."
        )
        # score 2 with a warning and two suggestions: warning first, then the suggestions in order.
        assert passwords.problem("ajaxajax12") == (
            "Dit wachtwoord is te makkelijk te raden. "
            "Herhalingen zoals ‘abcabcabc’ zijn maar een beetje moeilijker te raden dan ‘abc’. "
            "Voeg nog een of twee woorden toe; ongewone woorden zijn beter. "
            "Vermijd herhaalde woorden en tekens."
        )


def test_a_hint_without_a_dutch_translation_is_left_out_rather_than_shown_in_english():
    assert passwords.feedback_nl("Some hint a newer zxcvbn might give.") == ""


def test_a_breached_password_split_by_spaces_is_still_refused(app):
    with app.app_context():
        assert passwords.is_common("wacht woord") and passwords.problem("Wacht Woord") == COMMON


def test_personal_words_take_the_whole_local_part_and_ignore_the_domain_after_the_last_at_sign():
    # "j.de" splits into words too short to count, but the local part as a whole counts.
    assert passwords.personal_words(["j.de@voorbeeld.nl"]) == ["j.de"]
    assert passwords.personal_words(["Jan@Bakker@Thuis"]) == ["bakker", "jan@bakker"]


def test_generated_passwords_are_16_characters_pass_the_rules_and_differ(app):
    with app.app_context():
        made = {passwords.generate() for _ in range(5)}
        assert len(made) == 5
        assert all(len(password) == 16 and passwords.problem(password) is None for password in made)
