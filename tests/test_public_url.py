"""Links in mails (`outbox.public_url`): PUBLIC_BASE_URL followed by the path, in a request whatever
Host header it came with and in a command that has no request; without PUBLIC_BASE_URL only a test or
development app makes links (from the request), and a production app refuses with a message that
names the setting."""

from __future__ import annotations

import pytest

from course import outbox

BASE = "https://cursus.example.nl/"  # with the trailing slash an operator may well type


def test_in_a_request_a_link_is_the_public_base_and_the_path_never_the_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    with app.test_request_context("/", base_url="http://aanvaller.example"):
        assert outbox.public_url("trainer.group", group_id=7) == "https://cursus.example.nl/trainer/groepen/7"
        assert outbox.public_url("auth.forgot_password") == "https://cursus.example.nl/wachtwoord-vergeten"


def test_in_a_command_a_link_is_the_public_base_and_the_path(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    with app.app_context():
        assert outbox.public_url("trainer.group", group_id=7) == "https://cursus.example.nl/trainer/groepen/7"


def test_without_a_public_base_a_test_or_development_app_links_to_the_request_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    with app.test_request_context("/", base_url="http://localhost:5000"):
        assert outbox.public_url("trainer.group", group_id=7) == "http://localhost:5000/trainer/groepen/7"
        monkeypatch.setitem(app.config, "TESTING", False)
        monkeypatch.setitem(app.config, "DEBUG", True)
        assert outbox.public_url("auth.forgot_password") == "http://localhost:5000/wachtwoord-vergeten"


def test_without_a_public_base_a_production_app_names_the_missing_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "DEBUG", False)
    refused = pytest.raises(RuntimeError, match=r"^PUBLIC_BASE_URL is niet ingesteld: nodig voor links in e-mails\.$")
    with app.test_request_context("/", base_url="http://aanvaller.example"), refused:
        outbox.public_url("auth.forgot_password")
