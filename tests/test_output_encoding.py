"""What people type is shown as text: markup in a name never becomes markup on a page, and password
fields mask what is typed."""

from __future__ import annotations

import re

from markupsafe import escape

from course.models import Role

HOSTILE_NAME = '<script>alert(1)</script><img src=x onerror="alert(2)">'
PASSWORD_FIELDS = re.compile(r'<input[^>]*\bname="(?:current_|new_)?password(?:_confirm)?"[^>]*>')


def test_a_name_with_markup_is_shown_as_text_to_its_owner_and_to_an_admin(person):
    learner = person(Role.LEARNER, name=HOSTILE_NAME)
    admin = person(Role.ADMIN)
    pages = [
        learner.client.get("/").get_data(as_text=True),
        admin.client.get("/beheer/gebruikers").get_data(as_text=True),
        admin.client.get(f"/beheer/gebruikers/{learner.id}").get_data(as_text=True),
    ]
    for page in pages:
        assert HOSTILE_NAME not in page
        assert str(escape(HOSTILE_NAME)) in page


def test_password_fields_mask_what_is_typed(client, login_as):
    pages = [client.get("/inloggen"), client.get("/registreren")]
    login_as(Role.LEARNER)
    pages += [client.get("/account/wachtwoord"), client.get("/account/gegevens")]
    for response in pages:
        fields = PASSWORD_FIELDS.findall(response.get_data(as_text=True))
        assert fields, response.request.path
        assert all('type="password"' in field for field in fields), response.request.path
