"""Malformed form posts to every POST route, for every role: the answer is never a 500.

The POST routes are read from the app's url_map, so a new POST route is fuzzed without
changing this file. Hypothesis builds each post in one of two ways:

- deep: a URL naming objects that exist and belong to the signed-in user (or their group), a
  valid CSRF token, and the fields the view reads with plausible values, mostly just one of them
  broken; this gets past CSRF and routing into the view logic;
- wide: a URL with real or garbage values, a CSRF token that is valid, missing or broken, and
  any field names (real ones and random text) with any values.

Broken values are random text (unicode, NUL bytes, up to ~5,000 characters), numbers as text
(huge, negative, unicode digits), empty strings or several values for one field; the CSV
upload gets random, malformed and oversized files.

The session app runs with TESTING=True: an unhandled exception in a view is raised out of the
test client, so it fails the test just like a 500 would.

The database is emptied after each test function, not after each example: the objects are made
once per test, and an example may legitimately change them (finish the attempt, log out, erase
an account). Later examples then only have to not fail either.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import course
from course import register_blueprints
from course.certificates.codes import new_code
from course.extensions import db
from course.models import AttemptItem, Certificate, Group, Invitation, Role, User
from course.quizzes import attempts as quiz_attempts
from course.timeutil import local_date, utcnow
from course.trainer import groups
from tests.conftest import PASSWORD

ANON = "anonymous"
ROLES = [ANON, Role.LEARNER, Role.TRAINER, Role.ADMIN]
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_ARGUMENT = re.compile(r"<(?:([^:<>]+):)?([^:<>]+)>")


def post_endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods})


def _routes_only_app() -> Flask:
    """The app's routes without content or database: enough to list the POST routes when collecting."""
    bare = Flask(course.__name__)
    register_blueprints(bare)
    return bare


POST_ENDPOINTS = post_endpoints(_routes_only_app())


def test_every_post_route_is_fuzzed(app):
    assert POST_ENDPOINTS, "no POST routes found"
    assert post_endpoints(app) == POST_ENDPOINTS, "the fuzzed POST routes differ from the app's"


# The fields each view reads (see course/*/views.py and forms.py), for the deep posts. "q*" stands
# for the answer fields of the attempt's open page. A route missing here gets fields from FIELD_NAMES.
ROUTE_FIELDS: dict[str, list[str]] = {
    "auth.login": ["email", "password", "next"],
    "auth.register": ["display_name", "email", "password", "password_confirm"],
    "auth.create_confirmed_account": ["token"],
    "auth.logout": [],
    "auth.change_password": ["current_password", "new_password", "new_password_confirm"],
    "auth.profile": ["display_name", "register_name", "register_number", "consent"],
    "auth.erase_account": ["password", "confirm"],
    "auth.forgot_password": ["email"],
    "auth.reset_password": ["token", "new_password", "new_password_confirm"],
    "auth.verify_email": ["token"],
    "auth.resend_verification": [],
    "auth.change_email": ["new_email", "password"],
    "reminders.settings": ["reminders", "trainer_digest"],
    "lessons.mark_read": [],
    "lessons.save_reflection": ["text"],
    "lessons.share_reflection": ["share"],
    "lessons.delete_reflection": [],
    "quizzes.start": [],
    "quizzes.practise": [],
    "quizzes.save": ["revision", "action", "q*"],
    "quizzes.finish": ["revision", "confirm_incomplete", "q*"],
    "admin.certificate": ["reason"],
    "admin.user": ["role", "active"],
    "admin.erase_user": ["confirm"],
    "enrolment.join": ["code"],
    "enrolment.invitation": ["display_name", "password", "password_confirm"],
    "enrolment.answer_invitation": ["answer"],
    "trainer.create_group": ["name"],
    "trainer.invite": ["email"],
    "trainer.upload_csv": ["file"],
    "trainer.renew_code": [],
    "trainer.resend_invitation": [],
    "trainer.assign": ["due_on", "learner_id"],
    "trainer.grant_extra": ["reason", "quiz_id"],
    "trainer.reset_attempt": ["reason"],
}

FIELD_NAMES = [
    "csrf_token",
    "revision",
    "action",
    "confirm_incomplete",
    "q1",
    "q1-0",
    "q99",
    "email",
    "password",
    "password_confirm",
    "display_name",
    "register_name",
    "register_number",
    "consent",
    "reason",
    "quiz_id",
    "learner_id",
    "due_on",
    "code",
    "role",
    "active",
    "confirm",
    "name",
    "current_password",
    "new_password",
    "new_password_confirm",
    "new_email",
    "next",
    "file",
    "answer",
    "token",
    "reminders",
    "trainer_digest",
    "text",
    "share",
]


# --- the world: objects that exist, owned by the signed-in user or their group ------------------


@dataclass(repr=False)
class World:
    role: str
    url_values: dict[str, list[Any]]  # real values per URL argument, the most useful repeated
    field_values: dict[str, list[str]]  # plausible values per form field
    answers: dict[int, dict[str, list[str]]]  # own open attempt → its answer fields and plausible values
    token_pages: tuple[str, ...]  # where to pick up a fresh CSRF token, signed in or not

    def __repr__(self) -> str:  # short, for Hypothesis' failure reports
        return f"World({self.role})"


def _answer_fields(attempt_id: int, quiz) -> dict[str, list[str]]:
    """Field name → plausible values for the open page of a new attempt (page 0)."""
    fields: dict[str, list[str]] = {}
    items = db.session.scalars(
        sa.select(AttemptItem).where(AttemptItem.attempt_id == attempt_id, AttemptItem.page == 0)
    ).all()
    for item in items:
        question = quiz.question(item.question_id)
        if question.type == "matching":
            for row in range(len(item.option_order)):
                fields[f"q{item.position}-{row}"] = ["", *(c.id for c in question.categories)]
        else:
            fields[f"q{item.position}"] = [str(i) for i in range(len(item.option_order))]
    return fields


# The learner's open attempts: a quiz with feedback, the final test, and the case test (several pages).
# Several, so that one legitimately finished by an example leaves others open.
OPEN_ATTEMPTS = ["kennischeck-inleiding", "eindtoets", "casustoets"]


@pytest.fixture
def world(app, client, create_user, auth, role) -> World:
    learner = create_user(Role.LEARNER)
    outsider = create_user(Role.LEARNER)
    trainer = create_user(Role.TRAINER)
    admin = create_user(Role.ADMIN)
    catalog = app.extensions["catalog"]
    with app.app_context():
        trainer_row, learner_row = db.session.get(User, trainer.id), db.session.get(User, learner.id)
        group = groups.create_group(trainer_row, "Fuzzgroep")
        groups.add_member(group, learner_row)
        now, version = utcnow(), catalog.module.content_version
        attempts = [quiz_attempts.start_attempt(learner_row, catalog.quiz(q), now, version) for q in OPEN_ATTEMPTS]
        outsider_row = db.session.get(User, outsider.id)
        foreign = quiz_attempts.start_attempt(outsider_row, catalog.quiz(OPEN_ATTEMPTS[0]), now, version)
        certificate = Certificate(
            user_id=learner.id,
            module_id=catalog.module.id,
            sequence=1,
            verification_code=new_code(),
            learner_name=learner.display_name,
            module_title=catalog.module.title,
            content_version=version,
            study_load="4 uur",
            completed_on=local_date(now),
        )
        db.session.add(certificate)
        # Open invitations to another group for the learner and the outsider (mail links need a request).
        second = groups.create_group(trainer_row, "Fuzzgroep 2")
        with app.test_request_context():
            for email in (learner.email, outsider.email):
                groups.invite(second, email, trainer_row)
        invitation_ids = list(db.session.scalars(sa.select(Invitation.id).order_by(Invitation.id)))
        db.session.commit()
        ids = {"foreign": foreign.id, "group": group.id, "certificate": certificate.id}
        code = db.session.get(Group, group.id).enrolment_code
        answers = {a.id: _answer_fields(a.id, catalog.quiz(a.quiz_id)) for a in attempts}
    signed_in = {Role.LEARNER: learner, Role.TRAINER: trainer, Role.ADMIN: admin}.get(role)
    if signed_in is not None:
        assert auth.login(signed_in.email).status_code == 302
    today = local_date(utcnow())
    quiz_ids = [q.id for q in catalog.quizzes]
    return World(
        role=str(role),
        url_values={
            "attempt_id": [*answers, ids["foreign"]],
            "group_id": [ids["group"]],
            "invitation_id": invitation_ids,
            "user_id": [learner.id] * 3 + [outsider.id, trainer.id, admin.id],
            "certificate_id": [ids["certificate"]],
            "quiz_id": ["kennischeck-inleiding", *quiz_ids],
            "lesson_id": [lesson.id for lesson in catalog.lessons],
        },
        field_values={
            "revision": ["0", "1", "2"],
            "action": ["next", "save"],
            "confirm_incomplete": ["1", "y"],
            "email": [learner.email, outsider.email, trainer.email, "nieuw@example.org", " NIEUW@example.org "],
            "password": [PASSWORD, "kort", "x" * 257],
            "password_confirm": [PASSWORD],
            "display_name": ["Anne de Vries", " "],
            "register_name": ["", "SKJ", "BIG", "V&VN"],
            "register_number": ["12345678", "12 34 56 78", "١٢٣٤٥٦"],
            "consent": ["y", "on", "false"],
            "reason": ["Technische storing tijdens de toets", "kort"],
            "quiz_id": quiz_ids,
            "learner_id": [str(learner.id), str(outsider.id), str(trainer.id)],
            "due_on": [
                today.isoformat(),
                (today + timedelta(days=30)).isoformat(),
                (today - timedelta(days=1)).isoformat(),
                "9999-12-31",
                "0001-01-01",
                "2030-02-30",
            ],
            "code": [code, code.lower(), "-".join(code[i : i + 5] for i in (0, 5))],
            "role": ["learner", "trainer", "admin"],
            "active": ["y", "false", ""],
            "confirm": ["y", "false"],
            "answer": ["accepteren", "afwijzen", "ja"],
            "token": ["ONBEKEND", "x" * 43],
            "name": ["Groep B", " " * 3],
            "current_password": [PASSWORD],
            "new_password": [PASSWORD + "!"],
            "new_password_confirm": [PASSWORD + "!"],
            "next": ["/", "//evil.example", "/lessen/inleiding", "https://evil.example/"],
            "text": ["In mijn werk zie ik vaak ouders die onzeker zijn.", "regel 1\r\nregel 2", "x" * 4001],
            "share": ["ja", "nee"],
        },
        answers=answers,
        token_pages=("/inloggen", "/account/wachtwoord") if role == ANON else ("/account/wachtwoord", "/inloggen"),
    )


# --- strategies -------------------------------------------------------------------------------

# "²", "³²" and "Ⅻ" pass str.isdigit() or isnumeric() but not int(); int() does take "١٢" and "１".
UNICODE_NUMBERS = st.sampled_from(["²", "³²", "Ⅻ", "١٢", "１"])
ODD_NUMBERS = st.sampled_from(["-1", "007", "1.5", "1e3", " 1", "1 ", "0x1", "NaN", "∞", "9" * 40])
NUMBERS = st.one_of(UNICODE_NUMBERS, ODD_NUMBERS, st.integers(min_value=-(10**30), max_value=10**30).map(str))
LONG_TEXT = st.builds(lambda part, size: (part * size)[:size], st.text(min_size=1, max_size=8), st.integers(200, 5000))
WITH_NUL = st.sampled_from(["\x00", "a\x00b", "\x00" * 3, "nul\x00@example.org", "1\x00"])
ANY_VALUE = st.one_of(st.text(max_size=40), NUMBERS, LONG_TEXT, WITH_NUL, st.just(""))
FIELD_NAME = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=20))

CSV_HEADERS = ["email", "E-mail", "naam;email", "naam,e-mailadres", "email\tnaam", "geen kolom", ""]
CSV_FILES = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda header, rows, encoding: "\n".join([header, *rows]).encode(encoding, errors="replace"),
        st.sampled_from(CSV_HEADERS),
        st.lists(
            st.one_of(st.text(max_size=40), st.sampled_from(["a@example.org", "b@example.org", "x@"])), max_size=20
        ),
        st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    ),
    # Sizes around the csv module's field limit (131,072 characters) and the 1 MB upload limit.
    st.builds(
        lambda size, filler: b"email\n" + filler * size,
        st.sampled_from([1000, 131_073, 200_000, 1_000_001]),
        st.sampled_from([b"a", b'"', b",", b"\x00"]),
    ),
)
FILE_NAMES = st.sampled_from(["leden.csv", "", "lijst met spaties é.csv", "leden.xlsx", "../../etc/passwd"])


# Without NUL: a NUL anywhere in the form is refused before the view runs, which would end the post there.
BROKEN_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40), LONG_TEXT, st.just("")
)


def broken_value(plausible: list[str]) -> st.SearchStrategy[str]:
    """Garbage for a field that still gets into the view; for a numeric field mostly not-quite numbers."""
    if plausible and all(value.isascii() and value.isdigit() for value in plausible):
        return st.one_of(UNICODE_NUMBERS, UNICODE_NUMBERS, NUMBERS, BROKEN_TEXT)
    return st.one_of(BROKEN_TEXT, NUMBERS)


def one_or_more(value: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.one_of(value.map(lambda v: [v]), value.map(lambda v: [v]), st.lists(value, min_size=2, max_size=4))


@st.composite
def deep_form(draw, names: list[str], field_values: dict[str, list[str]]) -> MultiDict:
    """The fields a view reads: most of them present and plausible, mostly one of them broken.

    One broken field at a time gets furthest: a view that refuses the first bad field never reads the next."""
    present = [name for name in names if draw(st.sampled_from([True, True, True, False]))]
    count = min(len(present), draw(st.sampled_from([1, 1, 1, 2])))
    broken = set(draw(st.lists(st.sampled_from(present), min_size=count, max_size=count))) if present else set()
    form = MultiDict()
    for name in present:
        plausible = field_values.get(name, [])
        if name in broken or not plausible:
            garbage = WITH_NUL if draw(st.sampled_from([False] * 7 + [True])) else broken_value(plausible)
            values = draw(one_or_more(garbage), label=f"broken {name}")
        else:
            values = [draw(st.sampled_from(plausible))]
        for value in values:
            form.add(name, value)
    if draw(st.sampled_from([False] * 7 + [True])):
        form.add(draw(FIELD_NAME, label="extra field"), draw(ANY_VALUE))
    return form


@st.composite
def wide_form(draw, field_values: dict[str, list[str]]) -> MultiDict:
    """Any field names, real or random, with any values."""
    form = MultiDict()
    for name in draw(st.lists(FIELD_NAME, max_size=8)):
        value = ANY_VALUE
        if field_values.get(name):
            value = st.one_of(st.sampled_from(field_values[name]), ANY_VALUE)
        for item in draw(one_or_more(value)):
            form.add(name, item)
    return form


def url_value(world: World, converter: str | None, name: str, deep: bool) -> st.SearchStrategy:
    """A real value for this URL argument (deep: always, when there is one), or garbage."""
    if converter == "int":
        garbage = st.one_of(
            st.sampled_from([0, 999_999, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]),
            st.integers(min_value=0, max_value=10**40),
            st.text(min_size=1, max_size=10),  # not an int: 404 by routing
        )
    else:
        garbage = st.one_of(st.text(max_size=30), LONG_TEXT, WITH_NUL)
    real = world.url_values.get(name)
    if not real:
        return garbage
    return st.sampled_from(real) if deep else st.one_of(st.sampled_from(real), garbage)


def post_rule(app: Flask, endpoint: str):
    return next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint and "POST" in rule.methods)


def fresh_csrf_token(client, pages: tuple[str, ...]) -> str:
    """A token for the client's current session (signed in, or no longer: an example may log out)."""
    for url in pages:
        response = client.get(url)
        match = _CSRF_RE.search(response.get_data(as_text=True))
        response.close()
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on any of {pages}")


# --- the fuzz test ----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES, ids=str)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_malformed_posts_never_fail(app, client, world: World, role, endpoint: str, data):
    deep = data.draw(st.sampled_from([True, True, False]), label="deep")
    rule = post_rule(app, endpoint)
    values = {
        name: data.draw(url_value(world, converter, name, deep), label=f"url {name}")
        for converter, name in _ARGUMENT.findall(rule.rule)
    }
    path = _ARGUMENT.sub(lambda m: quote(str(values[m.group(2)]), safe=""), rule.rule)

    if deep:
        answers = world.answers.get(values.get("attempt_id"), {})
        names = [n for name in ROUTE_FIELDS.get(endpoint, FIELD_NAMES) for n in (answers if name == "q*" else [name])]
        form = data.draw(deep_form([n for n in names if n != "file"], {**world.field_values, **answers}), label="form")
        csrf = "valid"
        upload = "file" in names and data.draw(st.sampled_from([True] * 4 + [False]), label="upload")
    else:
        form = data.draw(wide_form(world.field_values), label="form")
        csrf = data.draw(st.sampled_from(["valid", "valid", "missing", "broken", "as fuzzed"]), label="csrf")
        upload = data.draw(st.sampled_from([False] * 4 + [True]), label="upload")
    if csrf in ("valid", "broken"):
        token = fresh_csrf_token(client, world.token_pages)
        form.setlist("csrf_token", [token if csrf == "valid" else token[:-4] + "AAAA"])
    elif csrf == "missing":
        form.poplist("csrf_token")

    body: dict[str, Any] = {"data": form}
    if upload:
        content, filename = data.draw(CSV_FILES, label="file"), data.draw(FILE_NAMES, label="file name")
        form.setlist("file", [FileStorage(io.BytesIO(content), filename=filename, content_type="text/csv")])
        # Encoded here, in memory: the test client spools a large body to a temporary file it never closes.
        boundary, encoded = encode_multipart(form)
        body = {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}
    headers = {"X-Requested-With": "fetch"} if data.draw(st.booleans(), label="fetch") else {}

    note(f"{role} POST {path}")
    response = client.post(path, headers=headers, **body)
    response.close()
    assert response.status_code < 500, f"{role} POST {path}: {response.status_code}"
