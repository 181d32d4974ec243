"""Security events reach the application log, without personal data and without forged lines."""

from __future__ import annotations

import logging
import re

import pytest

from course.models import Role


@pytest.fixture
def security_lines(caplog):
    caplog.set_level(logging.INFO, logger="hechtwijzer.security")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "hechtwijzer.security"]

    return lines


def test_a_failed_sign_in_is_logged_without_the_address(client, auth, create_user, security_lines):
    user = create_user(email="geheim.adres@example.org")
    auth.login(user.email, password="niet het wachtwoord")
    (line,) = [line for line in security_lines() if line.startswith("authenticatie_mislukt")]
    assert "account=anoniem" in line and "address=" in line and "client=" in line
    assert "geheim" not in line and "example.org" not in line and "127.0.0.1" not in line


def test_refused_access_is_logged_with_the_account_id(app, person, security_lines):
    learner = person(Role.LEARNER)
    assert learner.client.get("/beheer/").status_code == 403
    assert learner.client.get("/pogingen/999999").status_code == 404
    lines = [line for line in security_lines() if line.startswith("toegang_geweigerd")]
    assert len(lines) == 2
    assert f"account={learner.id}" in lines[0] and "GET /beheer/" in lines[0] and "status=403" in lines[0]
    assert "status=404" in lines[1]


def test_a_csrf_failure_and_malformed_input_are_logged(client, security_lines):
    client.post("/inloggen", data={"email": "a@example.org", "password": "x"})
    client.post("/inloggen", data={"email": "a\x00@example.org", "password": "x", "csrf_token": "t"})
    events = [line.split(" ", 1)[0] for line in security_lines()]
    assert "csrf_geweigerd" in events and "invoer_geweigerd" in events


def test_a_line_break_in_a_url_cannot_forge_a_log_line(app, person, security_lines):
    learner = person(Role.LEARNER)
    learner.client.get("/beheer/%0aINFO%20vervalst%20account=1")
    (line,) = [line for line in security_lines() if line.startswith("toegang_geweigerd")]
    assert "\n" not in line and "\\n" in line


def test_failed_sign_ins_at_one_address_share_one_pseudonym_and_another_address_gets_another(
    client, auth, security_lines
):
    # Without the address itself, an investigator can still tell one address tried many times from many.
    for email in ("iemand@example.org", " Iemand@Example.org", "iemand.anders@example.org"):
        auth.login(email, password="niet het wachtwoord")
    lines = [line for line in security_lines() if line.startswith("authenticatie_mislukt")]
    first, again, other = (re.search(r"address=([0-9a-f]{12})\b", line).group(1) for line in lines)
    assert first == again != other
