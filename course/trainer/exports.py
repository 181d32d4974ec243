"""Accreditation exports (CSV and XLSX), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from course.extensions import db
from course.models import Certificate, Group, GroupMember, User
from course.names import is_invisible
from course.timeutil import local_date, utcnow

HEADER = (
    "Naam",
    "Register",
    "Registratienummer",
    "Accreditatiepunten",
    "Datum afronding",
    "Activiteitnummer",
    "Accreditatie-instantie",
    "Module",
    "Verificatiecode",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Text a spreadsheet will not run as a formula: a leading = + - @ gets a quote in front.

    Invisible characters in front (U+FEFF, zero-width spaces, white space) do not protect: a
    spreadsheet may drop them on import and then read the formula, so the check looks past them
    and such a value is written without them."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    visible = _strip_leading_invisible(text)
    return "'" + visible if visible.startswith(_FORMULA_START) else text


def _strip_leading_invisible(text: str) -> str:
    for index, char in enumerate(text):
        if not is_invisible(char):
            return text[index:]
    return ""


def export_rows(group: Group, module_id: str, today: date | None = None) -> list[tuple[str, ...]]:
    """One row per learner with a valid (not revoked, not expired) certificate, from its snapshot."""
    today = today or local_date(utcnow())
    members = sa.select(GroupMember.user_id).where(GroupMember.group_id == group.id).scalar_subquery()
    certificates = db.session.scalars(
        sa.select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.user_id.in_(members),
            Certificate.module_id == module_id,
            Certificate.status == "valid",
            sa.or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
        )
        .order_by(User.display_name, Certificate.sequence)
    )
    latest: dict[int, Certificate] = {}
    for certificate in certificates:
        latest[certificate.user_id] = certificate
    return [
        tuple(
            neutralise(v)
            for v in (
                c.learner_name,
                c.register_name,
                c.register_number,
                c.accreditation_points,
                c.completed_on.isoformat(),
                c.accreditation_activity_id,
                c.accreditation_body,
                c.module_title,
                c.verification_code,
            )
        )
        for c in latest.values()
    ]


def to_csv(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL)  # ';': Dutch Excel default
    writer.writerow(HEADER)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8 names right


POINTS_COLUMN, DATE_COLUMN = 3, 4
_NUMBER = re.compile(r"^\d{1,4}([.,]\d{1,2})?$")
# Width in characters per column: wide enough for typical values, so nothing shows as "###".
COLUMN_WIDTHS = (28, 10, 18, 18, 16, 22, 40, 44, 36)


def _typed(index: int, value: str) -> object:
    """Points as a number and the completion date as a date, so a spreadsheet can sum and sort them.

    Only these two columns, and only values of their exact form: everything else stays text (a
    register number keeps its leading zeros, and nothing is ever read as a formula)."""
    if index == POINTS_COLUMN and _NUMBER.match(value):
        number = float(value.replace(",", "."))
        return int(number) if number.is_integer() else number
    if index == DATE_COLUMN:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def to_xlsx(rows: Iterable[Sequence[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Accreditatie"
    sheet.append(HEADER)
    for row in rows:
        sheet.append([_typed(index, value) for index, value in enumerate(row)])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "DD-MM-YYYY"
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula, whatever the content
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"  # the header stays in view while scrolling
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
