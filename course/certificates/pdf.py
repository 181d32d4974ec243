"""The certificate as a one-page PDF (reportlab), with a QR code (segno) to the public verify page."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from course.certificates.codes import display
from course.models import Certificate

FONT_DIR = Path(__file__).parent / "fonts"
# Registered once per process; DejaVu covers every name a learner may type (not only Latin-1).
pdfmetrics.registerFont(TTFont("DejaVu", FONT_DIR / "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONT_DIR / "DejaVuSans-Bold.ttf"))

BRAND = HexColor("#1d5c63")
ACCENT = HexColor("#a4460f")
INK = HexColor("#1b1f23")
MUTED = HexColor("#4a5560")
# A fixed mask skips segno's search over all eight (most of its time); every mask is a valid QR code.
QR_MASK = 4
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def dutch_date(day) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _fitted(canvas: Canvas, text: str, font: str, size: float, max_width: float) -> float:
    """The largest size up to `size` at which `text` fits on one line."""
    width = pdfmetrics.stringWidth(text, font, size)
    return size if width <= max_width else max(9.0, size * max_width / width)


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(url, error="m", mask=QR_MASK).matrix
    module = size / len(matrix)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                path.rect(x + start * module, top, (col_index - start) * module, module)
                start = None
    canvas.setFillColor(INK)
    canvas.drawPath(path, fill=1, stroke=0)


def render_certificate(certificate: Certificate, verify_url: str) -> bytes:
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle(f"Certificaat – {certificate.module_title}")
    canvas.setAuthor("Hechtwijzer")
    canvas.setSubject(f"Verificatiecode {display(certificate.verification_code)}")

    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setFillColor(BRAND)
    canvas.rect(12 * mm, height - 40 * mm, width - 24 * mm, 28 * mm, fill=1, stroke=0)
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.setFont("DejaVu-Bold", 26)
    canvas.drawString(24 * mm, height - 30 * mm, "Certificaat")
    canvas.setFont("DejaVu", 13)
    canvas.drawRightString(width - 24 * mm, height - 30 * mm, "Hechtwijzer · e-learning")

    center = width / 2
    usable = width - 60 * mm
    canvas.setFillColor(MUTED)
    canvas.setFont("DejaVu", 13)
    canvas.drawCentredString(center, height - 60 * mm, "Hierbij verklaren wij dat")
    canvas.setFillColor(INK)
    name_size = _fitted(canvas, certificate.learner_name, "DejaVu-Bold", 28, usable)
    canvas.setFont("DejaVu-Bold", name_size)
    canvas.drawCentredString(center, height - 75 * mm, certificate.learner_name)
    line_y = height - 85 * mm
    if certificate.register_name and certificate.register_number:
        canvas.setFont("DejaVu", 12)
        canvas.setFillColor(MUTED)
        canvas.drawCentredString(
            center, line_y, f"{certificate.register_name}-registratienummer {certificate.register_number}"
        )
        line_y -= 8 * mm
    canvas.setFillColor(MUTED)
    canvas.setFont("DejaVu", 13)
    canvas.drawCentredString(center, line_y - 4 * mm, "de e-learningmodule met goed gevolg heeft afgerond:")
    canvas.setFillColor(BRAND)
    title_size = _fitted(canvas, certificate.module_title, "DejaVu-Bold", 20, usable)
    canvas.setFont("DejaVu-Bold", title_size)
    canvas.drawCentredString(center, line_y - 17 * mm, certificate.module_title)

    details = [
        ("Afgerond op", dutch_date(certificate.completed_on)),
        ("Studiebelasting", certificate.study_load),
        ("Inhoudsversie", certificate.content_version),
    ]
    if certificate.accreditation_body:
        details += [
            ("Accreditatie", certificate.accreditation_body),
            ("Punten", certificate.accreditation_points or "–"),
            ("Activiteitnummer", certificate.accreditation_activity_id or "–"),
        ]
    if certificate.valid_until:
        details.append(("Geldig tot en met", dutch_date(certificate.valid_until)))
    y = line_y - 34 * mm
    for label, value in details:
        canvas.setFont("DejaVu", 10.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(30 * mm, y, label)
        canvas.setFillColor(INK)
        canvas.setFont("DejaVu-Bold", 10.5)
        canvas.drawString(70 * mm, y, value)
        y -= 6 * mm

    qr_size = 38 * mm
    qr_x, qr_y = width - 30 * mm - qr_size, 22 * mm
    _draw_qr(canvas, verify_url, qr_x, qr_y + 12 * mm, qr_size)
    canvas.setFont("DejaVu", 8.5)
    canvas.setFillColor(MUTED)
    canvas.drawRightString(width - 30 * mm, qr_y + 7 * mm, "Controleer dit certificaat:")
    canvas.drawRightString(width - 30 * mm, qr_y + 3 * mm, verify_url)
    canvas.setFont("DejaVu-Bold", 10)
    canvas.setFillColor(ACCENT)
    canvas.drawString(30 * mm, 22 * mm, f"Verificatiecode: {display(certificate.verification_code)}")
    canvas.setFont("DejaVu", 8.5)
    canvas.setFillColor(MUTED)
    canvas.drawString(
        30 * mm,
        17 * mm,
        "Inhoud gebaseerd op: Nederlands Jeugdinstituut, Hechting en hechtingsproblemen. Risico- en beschermende factoren (maart 2021).",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
