"""Issue 14, item 4: register number asked in time, reissue after a correction, institute and signatory
on the PDF without overlapping text, and a verify page that forgives look-alike characters."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
from reportlab.pdfbase import pdfmetrics

from course.catalog import ContentError, load_catalog
from course.certificates import codes
from course.certificates.pdf import render_certificate
from course.extensions import db
from course.formatting import nl_date
from course.models import AuditEvent, Certificate, CertificateStatus, Role, User
from tests.conftest import csrf_token
from tests.quiz_helpers import catalog, complete_module

ROOT = Path(__file__).resolve().parents[1]


def certificates(app) -> list[Certificate]:
    with app.app_context():
        found = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        db.session.expunge_all()
        return found


def set_register(app, user_id: int, name: str | None, number: str | None) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.register_name, user.register_number = name, number
        user.register_consent_at = sa.func.now() if number else None
        db.session.commit()


def save_profile(client, name: str, register: str, number: str, back: str | None = None):
    url = "/account/profiel" + (f"?terug={back}" if back else "")
    data = {"csrf_token": csrf_token(client, "/account/profiel"), "display_name": name, "register_name": register}
    data |= {"register_number": number, "consent": "y"}
    return client.post(url, data=data)


# --- asked when it matters ---------------------------------------------------------------------


def test_the_register_number_is_asked_before_the_final_test_and_on_the_dashboard(app, client, login_as):
    learner = login_as(Role.LEARNER)
    assert "Registratienummer op je certificaat?" in client.get("/toetsen/eindtoets").get_data(as_text=True)
    assert "Registratienummer op je certificaat?" in client.get("/").get_data(as_text=True)
    response = save_profile(client, "Test Gebruiker", "SKJ", "12345678", back="eindtoets")
    assert response.headers["Location"] == "/toetsen/eindtoets"  # back to the test it was asked for
    assert "Registratienummer op je certificaat?" not in client.get("/toetsen/eindtoets").get_data(as_text=True)
    assert "Registratienummer op je certificaat?" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, learner.id).register_number == "12345678"


def test_the_way_back_after_the_profile_only_goes_to_known_places(app, client, login_as):
    login_as(Role.LEARNER)
    response = save_profile(client, "Test Gebruiker", "SKJ", "12345678", back="//aanvaller.example")
    assert response.headers["Location"] == "/account/profiel"


# --- reissue by the learner (register number) --------------------------------------------------------


def test_a_learner_reissues_with_the_register_number_added_after_the_certificate(app, client, login_as):
    learner = login_as(Role.LEARNER)
    complete_module(app, client)
    [first] = certificates(app)
    assert first.register_number is None
    page = client.get("/certificaten").get_data(as_text=True)
    assert "opnieuw uitgeven" not in page  # nothing to correct yet
    save_profile(client, learner.display_name, "SKJ", "12345678")
    page = client.get("/certificaten").get_data(as_text=True)
    assert "Certificaat opnieuw uitgeven met mijn registratienummer" in page
    token = csrf_token(client, "/certificaten")
    assert client.post(f"/certificaten/{first.id}/opnieuw-uitgeven", data={"csrf_token": token}).status_code == 302
    old, new = certificates(app)
    assert old.status is CertificateStatus.SUPERSEDED and old.superseded_at is not None
    assert old.revoked_at is None  # replaced, not revoked
    assert new.status is CertificateStatus.VALID and new.verification_code != old.verification_code
    assert (new.register_name, new.register_number) == ("SKJ", "12345678")
    assert (new.completed_on, new.valid_until, new.learner_name) == (
        old.completed_on,
        old.valid_until,
        old.learner_name,
    )
    assert new.sequence == old.sequence + 1
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificate.reissue"))
        assert event.actor_id == learner.id and event.subject_id == old.id
        assert event.details == {"reason": "registernummer", "replacement_id": new.id, "user_id": learner.id}
    # A second reissue of the replaced certificate changes nothing.
    assert client.post(f"/certificaten/{old.id}/opnieuw-uitgeven", data={"csrf_token": token}).status_code == 302
    assert len(certificates(app)) == 2


def test_the_old_code_says_replaced_and_when_but_not_by_which_code(app, client, login_as):
    learner = login_as(Role.LEARNER)
    complete_module(app, client)
    save_profile(client, learner.display_name, "BIG", "987654321")
    [first] = certificates(app)
    client.post(f"/certificaten/{first.id}/opnieuw-uitgeven", data={"csrf_token": csrf_token(client, "/certificaten")})
    old, new = certificates(app)
    page = app.test_client().get(f"/verifieren/{old.verification_code}").get_data(as_text=True)
    assert "Vervangen certificaat" in page
    assert f"op {nl_date(old.superseded_at)} vervangen" in page
    assert new.verification_code not in page and codes.display(new.verification_code) not in page
    assert "Geldig certificaat" in app.test_client().get(f"/verifieren/{new.verification_code}").get_data(as_text=True)


def test_another_learners_certificate_cannot_be_reissued(app, client, auth, create_user):
    owner = create_user()
    auth.login(owner.email)
    complete_module(app, client)
    set_register(app, owner.id, "SKJ", "12345678")
    [cert] = certificates(app)
    auth.logout()
    other = create_user()
    auth.login(other.email)
    token = csrf_token(client, "/certificaten")
    assert client.post(f"/certificaten/{cert.id}/opnieuw-uitgeven", data={"csrf_token": token}).status_code == 404
    assert [c.status for c in certificates(app)] == [CertificateStatus.VALID]


# --- reissue by an admin (name) ------------------------------------------------------------------------


def test_an_admin_corrects_a_name_by_reissuing_not_revoking(app, client, auth, create_user):
    learner = create_user(name="Anna de Vris")
    auth.login(learner.email)
    complete_module(app, client)
    [cert] = certificates(app)
    auth.logout()
    admin = create_user(role=Role.ADMIN)
    auth.login(admin.email)
    url = f"/beheer/certificaten/{cert.id}/naam-corrigeren"
    token = csrf_token(client, f"/beheer/certificaten/{cert.id}")
    client.post(url, data={"csrf_token": token, "name": "   "})
    assert len(certificates(app)) == 1  # refused: no name
    assert client.post(url, data={"csrf_token": token, "name": "Anna de Vries"}).status_code == 302
    old, new = certificates(app)
    assert old.status is CertificateStatus.SUPERSEDED and new.learner_name == "Anna de Vries"
    assert new.completed_on == old.completed_on
    with app.app_context():
        assert db.session.get(User, learner.id).display_name == "Anna de Vries"
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)).all()
        assert {"user.name_correction", "certificate.reissue"} <= set(actions)


def test_a_revoked_learner_sees_the_reason(app, client, auth, create_user):
    learner = create_user()
    auth.login(learner.email)
    complete_module(app, client)
    [cert] = certificates(app)
    auth.logout()
    admin = create_user(role=Role.ADMIN)
    auth.login(admin.email)
    token = csrf_token(client, f"/beheer/certificaten/{cert.id}")
    client.post(f"/beheer/certificaten/{cert.id}", data={"csrf_token": token, "reason": "Fraude bij de eindtoets"})
    auth.logout()
    auth.login(learner.email)
    assert "Reden: Fraude bij de eindtoets" in client.get("/certificaten").get_data(as_text=True)
    assert "Je certificaat is ingetrokken. Reden: Fraude bij de eindtoets." in client.get("/").get_data(as_text=True)


# --- verify page -------------------------------------------------------------------------------------


def test_the_verify_page_shows_valid_until_and_forgives_look_alikes(app, client, login_as):
    login_as(Role.LEARNER)
    complete_module(app, client)
    [cert] = certificates(app)
    code = cert.verification_code
    public = app.test_client()
    page = public.get(f"/verifieren/{code}").get_data(as_text=True)
    assert "Geldig tot" in page and nl_date(cert.valid_until) in page
    # Typed the way people misread print: O as 0, I as 1 or l, L as 1.
    typed = code.replace("O", "0").replace("I", "l").replace("L", "1").lower()
    location = public.get("/verifieren", query_string={"code": codes.display(typed)}).headers["Location"]
    assert "Geldig certificaat" in public.get(location).get_data(as_text=True)


def test_look_alike_folding_follows_the_code_alphabet():
    assert codes.normalize("0" * 32) == "O" * 32
    assert codes.normalize("1" * 32) == "I" * 32
    assert codes.folded("ILIL") == codes.folded("LLII")
    assert codes.normalize("8" * 32) is None  # not a look-alike of anything in base32


# --- PDF: institute, signatory, no overlapping text ------------------------------------------------------


def text_boxes(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, y0, x1, y1) of every line drawn on the first page, from the PDF itself."""
    boxes = []

    def visit(text, cm, tm, font_dict, font_size):
        text = text.strip()
        if not text or font_dict is None:
            return
        font = "DejaVu-Bold" if "Bold" in str(font_dict["/BaseFont"]) else "DejaVu"
        face = pdfmetrics.getFont(font).face
        x, y = tm[4], tm[5]
        width = pdfmetrics.stringWidth(text, font, font_size)
        boxes.append((text, x, y + face.descent * font_size / 1000, x + width, y + face.ascent * font_size / 1000))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return boxes


def overlapping(boxes):
    return [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


@pytest.mark.parametrize("code_length", [16, 32, 48, 64])
@pytest.mark.parametrize(
    "base_url",
    ["https://hw.nl", "https://leren.een-heel-lang-instituut-voor-jeugdzorg.example.nl/e-learning/hechtwijzer"],
)
def test_no_text_on_the_pdf_overlaps_at_any_code_length(app, code_length, base_url):
    module = catalog(app).module
    code = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 2)[:code_length]
    certificate = Certificate(
        learner_name="Maria Josefina van der Heijden-Oosterbroek",
        register_name="V&VN",
        register_number="123456789012",
        module_title=module.title,
        content_version=module.content_version,
        study_load=module.study_load,
        accreditation_body=module.accreditation.body,
        accreditation_points=module.accreditation.points,
        accreditation_activity_id=module.accreditation.activity_id,
        issuer_institute=module.issuer.institute,
        issuer_signatory=module.issuer.signatory,
        issuer_signatory_role=module.issuer.signatory_role,
        completed_on=date(2026, 12, 1),
        valid_until=date(2029, 12, 1),
        verification_code=code,
    )
    boxes = text_boxes(render_certificate(certificate, f"{base_url}/verifieren/{code}"))
    texts = " ".join(box[0] for box in boxes)
    assert module.issuer.institute in texts and module.issuer.signatory in texts
    assert module.issuer.signatory_role in texts
    assert overlapping(boxes) == []
    width, height = 297 / 25.4 * 72, 210 / 25.4 * 72
    assert all(x0 >= 0 and x1 <= width and y0 >= 0 and y1 <= height for _, x0, y0, x1, y1 in boxes)


def test_the_issuer_is_snapshotted_on_the_certificate(app, client, login_as):
    login_as(Role.LEARNER)
    complete_module(app, client)
    [cert] = certificates(app)
    issuer = catalog(app).module.issuer
    assert (cert.issuer_institute, cert.issuer_signatory, cert.issuer_signatory_role) == (
        issuer.institute,
        issuer.signatory,
        issuer.signatory_role,
    )


def test_the_loader_checks_the_issuer_fields(tmp_path):
    content = tmp_path / "content"
    import shutil

    shutil.copytree(ROOT / "content", content)
    module_file = content / "module.yaml"
    original = module_file.read_text(encoding="utf-8")
    for broken, message in [
        ('  signatory: "drs. A. de Vries"\n', "issuer.signatory"),
        ('  institute: "Hechtwijzer Opleidingen (voorbeeldinstituut)"\n', "issuer.institute"),
    ]:
        module_file.write_text(original.replace(broken, ""), encoding="utf-8")
        with pytest.raises(ContentError, match=message):
            load_catalog(content, ROOT / "quizzes")
    module_file.write_text(original.replace("drs. A. de Vries", "x" * 61), encoding="utf-8")
    with pytest.raises(ContentError, match="langer dan 60"):
        load_catalog(content, ROOT / "quizzes")
