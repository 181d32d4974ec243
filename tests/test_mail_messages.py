"""Every mail is multipart text + HTML rendered from templates/mail/<name>.txt and .html: Dutch,
links spelled out, no images or tracking, and nothing put into a name or subject adds a header."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
import sqlalchemy as sa

from course import outbox
from course.extensions import db
from course.models import OutboxMessage, OutboxStatus, Role, User
from course.trainer import groups
from tests.conftest import free_port, mail_via_smtp, outbox_rows
from tests.helpers import mail_sample_context

MAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
TEXT_TEMPLATES = sorted(path.stem for path in MAIL_TEMPLATES.glob("*.txt"))
URL_RE = re.compile(r"https?://\S+")


class Anchors(HTMLParser):
    """Every <a>: its href and its visible text; and every tag name used."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self.html_lang: str | None = None
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "html":
            self.html_lang = dict(attrs).get("lang")
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._text).strip()))
            self._href = None


def test_there_are_mail_templates_to_check():
    assert {"invitation", "registration_confirm", "registration_existing"} <= set(TEXT_TEMPLATES)


@pytest.mark.parametrize("name", TEXT_TEMPLATES)
def test_every_mail_template_has_an_html_part_that_says_the_same_accessibly(app, name):
    html_source = (MAIL_TEMPLATES / f"{name}.html").read_text(encoding="utf-8")  # the sibling must exist
    assert html_source.startswith('{% extends "mail/base.html" %}')
    with app.test_request_context():
        subject, text, html = outbox.render_mail(name, **mail_sample_context(app, name))

    assert subject and "\n" not in subject
    assert html.startswith("<!DOCTYPE html>")
    # Both parts end in exactly one line break, after their last line.
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert html.endswith("</html>\n")
    parsed = Anchors()
    parsed.feed(html)
    assert parsed.html_lang == "nl"
    assert f"<title>{subject}</title>" in html
    assert "h1" in parsed.tags  # a heading to navigate by
    # No images (no tracking pixels), no scripts, forms, frames or style sheets to load.
    assert not parsed.tags & {"img", "script", "form", "iframe", "link", "object", "embed", "picture", "svg"}
    assert "src=" not in html and "url(" not in html
    # Links spelled out: each visible text is the link itself, and the text part has the same links.
    assert parsed.anchors, "a mail without a link"
    assert all(href == visible for href, visible in parsed.anchors), parsed.anchors
    assert sorted({href for href, _ in parsed.anchors}) == sorted(set(URL_RE.findall(text)))
    # Dutch, and the same message: every paragraph of the plain text is in the HTML too.
    assert "Hechtwijzer" in html and "Met vriendelijke groet" in html
    unescaped = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("&amp;", "&"))
    for paragraph in text.split("\n\n"):
        words = " ".join(re.sub(r"^- ", "", paragraph, flags=re.M).split())  # list items lose their dash
        assert words in unescaped, paragraph


def test_a_mail_template_without_its_subject_line_is_refused_with_its_name(app, monkeypatch):
    broken = jinja2.DictLoader({"mail/kapot.txt": "Beste cursist,\n\nHier ontbreekt de onderwerpregel.\n"})
    monkeypatch.setattr(app.jinja_env, "loader", jinja2.ChoiceLoader([broken, app.jinja_env.loader]))
    refused = pytest.raises(ValueError, match=r"^templates/mail/kapot\.txt must start with 'Onderwerp:'$")
    with app.test_request_context(), refused:
        outbox.render_mail("kapot")


def invite_by(app, trainer_name: str, group_name: str, email: str = "iemand@example.org") -> None:
    """A trainer (named as given, bypassing the name checks of the forms) invites `email`."""
    with app.test_request_context():
        trainer = User(email="trainer@example.org", display_name=trainer_name, role=Role.TRAINER)
        trainer.set_password("x", method="pbkdf2:sha256:1")
        db.session.add(trainer)
        db.session.flush()
        group = groups.create_group(trainer, "placeholder")
        group.name = group_name  # as if stored before any name rule existed
        groups.invite(group, email, trainer)
        db.session.commit()


def send(app) -> outbox.SendReport:
    with app.app_context():
        return outbox.send_due()


def test_a_mail_goes_out_as_multipart_alternative_with_text_and_html(app, smtp_server):
    invite_by(app, "Tineke Trainer", "Pleegzorg Noord")
    [row] = outbox_rows(app)
    assert row.body_html.startswith("<!DOCTYPE html>") and "/uitnodiging/" in row.body_html

    assert send(app).sent == 1

    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    assert text_part.get_content_charset() == html_part.get_content_charset() == "utf-8"
    [text_link] = URL_RE.findall(text_part.get_content())
    assert text_link.startswith("https://hechtwijzer.test/uitnodiging/")
    assert f'<a href="{text_link}"' in html_part.get_content()
    assert "Tineke Trainer nodigt je uit voor de groep ‘Pleegzorg Noord’" in html_part.get_content()
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.SENT
    assert (row.body_text, row.body_html) == ("", "")  # a delivered link (a live token) is not kept


def test_a_mail_given_up_on_keeps_no_html_part_either(app):

    invite_by(app, "Tineke Trainer", "Pleegzorg Noord")
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    try:
        with mail_via_smtp(app, free_port()):
            assert send(app).failed == 1
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = 8
    [row] = outbox_rows(app)
    assert row.status is OutboxStatus.FAILED and (row.body_text, row.body_html) == ("", "")


def test_the_local_eml_file_holds_both_parts(app, tmp_path):
    from course.extensions import mail

    invite_by(app, "Tineke Trainer", "Pleegzorg Noord")
    saved = {key: app.config.get(key) for key in ("MAIL_BACKEND", "MAIL_FILE_PATH")}
    app.config.update(MAIL_BACKEND="course.mail.eml_files.EmailBackend", MAIL_FILE_PATH=str(tmp_path))
    mail.init_app(app)
    try:
        assert send(app).sent == 1
    finally:
        app.config.update(saved)
        mail.init_app(app)
    [eml] = tmp_path.glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == ["text/plain", "text/html"]


EXPECTED_HEADERS = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Auto-Submitted",
}


def test_names_with_line_breaks_or_header_characters_add_no_headers(app, smtp_server):
    trainer_name = "Tineke\r\nBcc: dief@example.org\r\nX-Extra: 1"
    group_name = "Noord\r\nBcc: dief@example.org\nReply-To: dief@example.org\u2028X-Extra: <b>ja</b>"
    invite_by(app, trainer_name, group_name)

    assert send(app).sent == 1

    [message] = smtp_server.messages
    assert set(message.keys()) == EXPECTED_HEADERS
    assert message["To"] == "iemand@example.org"
    assert message["From"] == "Hechtwijzer <noreply@example.org>"
    assert message["Subject"] == (
        "Uitnodiging voor de groep Noord Bcc: dief@example.org Reply-To: dief@example.org X-Extra: <b>ja</b> "
        "in Hechtwijzer"
    )
    text_part, html_part = message.get_payload()
    assert set(text_part.keys()) <= {"Content-Type", "Content-Transfer-Encoding", "MIME-Version"}
    assert set(html_part.keys()) <= {"Content-Type", "Content-Transfer-Encoding", "MIME-Version"}
    html = html_part.get_content()
    assert "<b>ja</b>" not in html and "&lt;b&gt;ja&lt;/b&gt;" in html  # names are text in the HTML part


def test_a_stored_subject_with_a_line_break_is_still_sent_as_one_header(app, smtp_server):
    """A row written by other code (or before enqueue_mail made subjects one line) cannot inject either:
    before, Flask-Mailman refused it (BadHeaderError) and the mail was retried until it failed."""
    with app.app_context():
        db.session.add(
            OutboxMessage(
                kind="mail",
                topic="test",
                recipient="iemand@example.org",
                subject="Hallo\r\nBcc: dief@example.org",
                body_text="Tekst\n",
                body_html="",
            )
        )
        db.session.commit()

    assert send(app).sent == 1

    [message] = smtp_server.messages
    assert set(message.keys()) == EXPECTED_HEADERS | {"Content-Transfer-Encoding"}  # a single part
    assert message["Subject"] == "Hallo Bcc: dief@example.org"
    assert message.get_content_type() == "text/plain"  # a row without HTML part goes out as plain text
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status)) is OutboxStatus.SENT
