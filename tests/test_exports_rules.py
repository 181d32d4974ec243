"""The accreditation export as the accrediting body reads it: one row per learner of the group with a
certificate that is valid today (no expiry date, or expiring today or later), the newest one, in name
order, with the column names the body expects, and no cell a spreadsheet could run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from itertools import count

import openpyxl
import pytest

from course.models import Certificate, CertificateStatus, Group, GroupMember
from course.trainer.exports import export_rows, neutralise, to_csv, to_xlsx

TODAY = date(2026, 6, 15)
MODULE = "hechtwijzer"
_codes = count(1)

EXPECTED_HEADER = [
    "Naam",
    "Register",
    "Registratienummer",
    "Accreditatiepunten",
    "Datum afronding",
    "Activiteitnummer",
    "Accreditatie-instantie",
    "Module",
    "Verificatiecode",
]


@pytest.fixture
def group_with(db, create_user):
    """group_with(*names) -> (group, {name: user id}) with those learners as members."""

    def make(*names: str):
        trainer = create_user(name="Tom Trainer")
        ids = {name: create_user(name=name).id for name in names}
        group = Group(name="Groep", trainer_id=trainer.id)
        db.session.add(group)
        db.session.flush()
        db.session.add_all(GroupMember(group_id=group.id, user_id=user_id) for user_id in ids.values())
        db.session.commit()
        return group, ids

    return make


def certify(db, user_id: int, name: str, sequence: int = 1, module_id: str = MODULE, **values) -> None:
    db.session.add(
        Certificate(
            user_id=user_id,
            module_id=module_id,
            sequence=sequence,
            verification_code=f"CODE{next(_codes):04d}",
            learner_name=name,
            module_title="Hechtwijzer",
            content_version="1",
            study_load="4 uur",
            accreditation_points=values.pop("accreditation_points", "4"),
            completed_on=values.pop("completed_on", TODAY - timedelta(days=30)),
            **values,
        )
    )
    db.session.commit()


def test_only_certificates_valid_today_are_exported_and_an_expiry_date_is_optional(db, group_with):
    group, ids = group_with("Anna", "Bram", "Cees", "Dirk", "Eva")
    certify(db, ids["Anna"], "Anna", valid_until=None)  # never expires
    certify(db, ids["Bram"], "Bram", valid_until=TODAY)  # last day
    certify(db, ids["Cees"], "Cees", valid_until=TODAY - timedelta(days=1))  # expired yesterday
    certify(db, ids["Dirk"], "Dirk", status=CertificateStatus.REVOKED)
    certify(db, ids["Eva"], "Eva", module_id="andere-module")
    assert [row[0] for row in export_rows(group, MODULE, TODAY)] == ["Anna", "Bram"]


def test_learners_outside_the_group_are_not_exported(db, group_with, create_user):
    group, ids = group_with("Anna")
    outsider = create_user(name="Olaf")
    certify(db, ids["Anna"], "Anna")
    certify(db, outsider.id, "Olaf")
    assert [row[0] for row in export_rows(group, MODULE, TODAY)] == ["Anna"]


def test_rows_are_in_name_order_with_the_newest_certificate_per_learner(db, group_with):
    group, ids = group_with("Zeger", "Anna", "Mira")
    certify(db, ids["Mira"], "Mira", sequence=2, completed_on=date(2026, 5, 2))
    certify(db, ids["Zeger"], "Zeger")
    certify(db, ids["Mira"], "Mira", sequence=1, completed_on=date(2025, 5, 1))
    certify(db, ids["Anna"], "Anna")
    rows = export_rows(group, MODULE, TODAY)
    assert [row[0] for row in rows] == ["Anna", "Mira", "Zeger"]
    assert rows[1][4] == "2026-05-02"


def test_csv_and_xlsx_start_with_the_columns_the_accrediting_body_expects(db, group_with):
    group, ids = group_with("Anna")
    certify(db, ids["Anna"], "Anna", register_name="SKJ", register_number="123", accreditation_body="SKJ")
    rows = export_rows(group, MODULE, TODAY)
    table = list(csv.reader(io.StringIO(to_csv(rows).decode("utf-8-sig")), delimiter=";"))
    assert table[0] == EXPECTED_HEADER
    assert table[1][:5] == ["Anna", "SKJ", "123", "4", "2026-05-16"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows))).active
    assert [cell.value for cell in sheet[1]] == EXPECTED_HEADER
    assert sheet.title == "Accreditatie"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_character_that_starts_a_formula_gets_a_quote(start):
    assert neutralise(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("value", ["Anna", "1+1", " Anna", "", None, 4])
def test_other_values_are_left_as_they_are(value):
    assert neutralise(value) == ("" if value is None else str(value))


def test_a_value_of_only_invisible_characters_is_left_as_it_is():
    assert neutralise("\u200b\ufeff") == "\u200b\ufeff"


def test_the_xlsx_types_points_and_dates_and_has_widths_and_a_frozen_header(db, group_with):
    group, ids = group_with("Anna", "Bram")
    certify(db, ids["Anna"], "Anna", register_name="SKJ", register_number="0123")
    certify(db, ids["Bram"], "Bram", accreditation_points="2,5")
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(export_rows(group, MODULE, TODAY)))).active
    anna, bram = sheet[2], sheet[3]
    assert anna[3].value == 4 and anna[3].data_type == "n"
    assert bram[3].value == 2.5
    assert anna[4].value.date() == date(2026, 5, 16) and anna[4].is_date and anna[4].number_format == "DD-MM-YYYY"
    assert anna[2].value == "0123" and anna[2].data_type == "s"  # a register number keeps its leading zero
    assert sheet.freeze_panes == "A2"
    assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHI")
    assert all(cell.font.bold for cell in sheet[1])


def test_a_formula_in_the_points_column_stays_neutralised_text(db, group_with):
    group, ids = group_with("Anna")
    certify(db, ids["Anna"], "Anna", accreditation_points="=1+1")
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(export_rows(group, MODULE, TODAY)))).active
    assert sheet[2][3].value == "'=1+1" and sheet[2][3].data_type == "s"
