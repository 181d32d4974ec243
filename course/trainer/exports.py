"""Accreditation exports (CSV and XLSX), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import IO

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
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


# Rows are fetched and written in batches of this many: memory stays flat at any group size.
BATCH = 1000


def iter_export_rows(group: Group, module_id: str, today: date | None = None) -> Iterator[tuple[str, ...]]:
    """One row per learner with a valid (not revoked, not expired) certificate, from its snapshot: the
    newest one, in name order. One query, read from the database in batches as the rows are used."""
    today = today or local_date(utcnow())
    members = sa.select(GroupMember.user_id).where(GroupMember.group_id == group.id).scalar_subquery()
    result = db.session.execute(
        sa.select(
            Certificate.user_id,
            Certificate.learner_name,
            Certificate.register_name,
            Certificate.register_number,
            Certificate.accreditation_points,
            Certificate.completed_on,
            Certificate.accreditation_activity_id,
            Certificate.accreditation_body,
            Certificate.module_title,
            Certificate.verification_code,
        )
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.user_id.in_(members),
            Certificate.module_id == module_id,
            Certificate.status == "valid",
            sa.or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
        )
        # A learner's certificates follow each other, oldest first: the last one of a run is the newest.
        .order_by(User.display_name, Certificate.user_id, Certificate.sequence)
        .execution_options(yield_per=BATCH)
    )
    newest = None
    for row in result:
        if newest is not None and row.user_id != newest.user_id:
            yield _export_row(newest)
        newest = row
    if newest is not None:
        yield _export_row(newest)


def _export_row(c: sa.Row) -> tuple[str, ...]:
    return tuple(
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


def export_rows(group: Group, module_id: str, today: date | None = None) -> list[tuple[str, ...]]:
    """All rows at once (small groups, tests); the pages stream `iter_export_rows`."""
    return list(iter_export_rows(group, module_id, today))


# Written instead of the rest when reading the rows fails halfway; see docs/decisions.md.
INCOMPLETE = "EXPORT AFGEBROKEN: dit bestand is onvolledig. Download de export opnieuw.\r\n"


def csv_chunks(rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The CSV in pieces of about BATCH rows, written as the rows come.

    A failure halfway (the database goes away) cannot turn into an error page any more: the rows sent
    so far end with the INCOMPLETE line, and the error goes on, so the server breaks off the response
    and the browser reports the download as failed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL)  # ';': Dutch Excel default
    buffer.write("\ufeff")  # BOM: Excel then reads UTF-8 names right
    writer.writerow(HEADER)
    try:
        for number, row in enumerate(rows, start=1):
            writer.writerow(row)
            if number % BATCH == 0:
                yield _take(buffer)
    except Exception:
        buffer.write(INCOMPLETE)
        yield _take(buffer)
        raise
    yield _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def to_csv(rows: Iterable[Sequence[str]]) -> bytes:
    return b"".join(csv_chunks(rows))


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


def write_xlsx(rows: Iterable[Sequence[str]], file: IO[bytes]) -> None:
    """The workbook, row by row into `file` (openpyxl's write-only mode keeps rows in a temporary file,
    with strings inline, so memory does not grow with the rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accreditatie")
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"  # the header stays in view while scrolling
    bold = Font(bold=True)
    sheet.append([_cell(sheet, value, font=bold) for value in HEADER])
    for row in rows:
        sheet.append([_cell(sheet, _typed(index, value)) for index, value in enumerate(row)])
    workbook.save(file)


def _cell(sheet, value: object, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    if font is not None:
        cell.font = font
    if isinstance(value, date):
        cell.number_format = "DD-MM-YYYY"
    elif isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever the content
    return cell


def to_xlsx(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer)
    return buffer.getvalue()
