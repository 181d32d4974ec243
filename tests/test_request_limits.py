"""Request bodies: nothing larger than the app needs is read; the refusal is a Dutch 413 page."""

from __future__ import annotations

import io

import sqlalchemy as sa

from course.extensions import db
from course.models import GroupMember, Invitation, Role
from course.trainer.groups import MAX_CSV_BYTES
from tests.conftest import csrf_token


class UnreadableBody(io.RawIOBase):
    """A body that fails the test if anyone reads it."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, _buffer) -> int:
        raise AssertionError("the body was read")


def test_a_body_announced_larger_than_the_limit_is_refused_unread(client):
    response = client.post(
        "/inloggen",
        input_stream=UnreadableBody(),
        content_type="multipart/form-data; boundary=grens",
        environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024)},
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "groter dan we aannemen" in page and "Er is niets opgeslagen" in page


def test_a_large_urlencoded_form_is_refused_with_413(app, client):
    token = csrf_token(client, "/inloggen")
    password = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/inloggen", data={"csrf_token": token, "email": "a@example.org", "password": password})
    assert response.status_code == 413
    assert "groter dan we aannemen" in response.get_data(as_text=True)


def test_the_limit_leaves_room_for_a_csv_of_the_largest_allowed_size(app, client, login_as):
    """Just over 1 MB reaches the CSV check and gets its own message; the body limit is not in the way."""
    login_as(Role.TRAINER)
    client.post("/trainer/groepen", data={"name": "Groep", "csrf_token": csrf_token(client, "/trainer/")})
    with app.app_context():
        group_id = db.session.scalar(sa.text("SELECT id FROM groups"))
    data = b"email\n" + b"a@example.org\n" * ((MAX_CSV_BYTES + 1) // 14 + 1)
    assert len(data) > MAX_CSV_BYTES
    token = csrf_token(client, f"/trainer/groepen/{group_id}")
    # Encoded here, in memory: the test client would spool a body this large to a file it never closes.
    body = (
        b'--grens\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        b'--grens\r\nContent-Disposition: form-data; name="file"; filename="cursisten.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + data + b"\r\n--grens--\r\n"
    )
    response = client.post(
        f"/trainer/groepen/{group_id}/csv",
        data=body,
        content_type="multipart/form-data; boundary=grens",
        follow_redirects=True,
    )
    assert response.status_code != 413
    assert "Het bestand is groter dan 1 MB." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(GroupMember)) == 0
