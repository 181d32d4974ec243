"""The session cookie is signed: a changed cookie is no cookie at all."""

from __future__ import annotations

from tests.conftest import sign_in


def test_a_tampered_session_cookie_signs_no_one_in(app, create_user):
    user = create_user()
    genuine = sign_in(app, user).get_cookie("session").value
    payload, _, signature = genuine.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    copy = app.test_client()
    copy.set_cookie("session", genuine)
    assert copy.get("/account/gegevens.json").status_code == 200, "the genuine cookie works"
    for forged in [f"{payload}.{flipped}", f"{payload[:-2]}xx.{signature}"]:
        client = app.test_client()
        client.set_cookie("session", forged)
        response = client.get("/account/gegevens.json")
        assert response.status_code == 302 and response.headers["Location"].startswith("/inloggen")
