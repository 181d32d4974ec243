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


def _fitted(canvas: Canvas, text: str, font: str, size: float, max_width: float, smallest: float = 9.0) -> float:
    """The largest size up to `size` at which `text` fits on one line (never below `smallest`)."""
    width = pdfmetrics.stringWidth(text, font, size)
    return size if width <= max_width else max(smallest, size * max_width / width)


def _draw_fitted(
    canvas: Canvas, x: float, y: float, text: str, font: str, size: float, max_width: float, align: str = "left"
) -> None:
    """One line of text kept inside `max_width` (shrunk down to 5 pt): texts in their own boxes never overlap."""
    canvas.setFont(font, _fitted(canvas, text, font, size, max_width, smallest=5.0))
    {"left": canvas.drawString, "right": canvas.drawRightString, "centre": canvas.drawCentredString}[align](x, y, text)


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
    # The issuing institute (content/module.yaml `issuer`) where older texts said only "Hechtwijzer".
    institute = certificate.issuer_institute or "Hechtwijzer · e-learning"
    _draw_fitted(canvas, width - 24 * mm, height - 30 * mm, institute, "DejaVu", 13, width - 110 * mm, "right")

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
        _draw_fitted(canvas, 70 * mm, y, value, "DejaVu-Bold", 10.5, 100 * mm)
        y -= 6 * mm

    # Right column: signature above the QR code; left of the QR code: code, link and source, each
    # in a box of its own so that no length of code, link or name makes two texts overlap.
    right = width - 30 * mm
    qr_size = 38 * mm
    qr_x, qr_y = right - qr_size, 34 * mm
    if certificate.issuer_signatory:
        column = 70 * mm
        canvas.setStrokeColor(MUTED)
        canvas.setLineWidth(0.6)
        canvas.line(right - column, 92 * mm, right, 92 * mm)
        canvas.setFillColor(INK)
        _draw_fitted(canvas, right, 87 * mm, certificate.issuer_signatory, "DejaVu-Bold", 10.5, column, "right")
        canvas.setFillColor(MUTED)
        role = certificate.issuer_signatory_role or ""
        if certificate.issuer_institute:
            role = f"{role}, {certificate.issuer_institute}" if role else certificate.issuer_institute
        _draw_fitted(canvas, right, 82 * mm, role, "DejaVu", 8.5, column, "right")
    _draw_qr(canvas, verify_url, qr_x, qr_y, qr_size)
    canvas.setFillColor(MUTED)
    _draw_fitted(canvas, right, qr_y - 5 * mm, "Scan om te controleren", "DejaVu", 8.5, qr_size, "right")

    left = 30 * mm
    footer_width = qr_x - 8 * mm - left
    canvas.setFillColor(ACCENT)
    _draw_fitted(
        canvas,
        left,
        28 * mm,
        f"Verificatiecode: {display(certificate.verification_code)}",
        "DejaVu-Bold",
        10,
        footer_width,
    )
    canvas.setFillColor(MUTED)
    _draw_fitted(canvas, left, 23 * mm, f"Controleer dit certificaat: {verify_url}", "DejaVu", 8.5, footer_width)
    _draw_fitted(
        canvas,
        left,
        17 * mm,
        "Inhoud gebaseerd op: Nederlands Jeugdinstituut, Hechting en hechtingsproblemen. "
        "Risico- en beschermende factoren (maart 2021).",
        "DejaVu",
        8.5,
        footer_width,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
