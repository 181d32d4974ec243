"""The accreditation exports stream: the same bytes (CSV) and the same cells (XLSX) as the exports built
in memory before issue 15 (kept as files in tests/data/exports), one query however many rows, and memory
that does not grow with the number of rows."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from course.catalog.access import get_catalog
from course.extensions import db as _db
from course.models import Certificate, CertificateStatus, Group, GroupMember, Role, User
from course.timeutil import utcnow
from course.trainer import exports
from tests.helpers import statements_during

GOLDEN = Path(__file__).parent / "data" / "exports"
TODAY = date(2026, 6, 15)


def certificate(user_id: int, name: str, code: str, **values) -> Certificate:
    return Certificate(
        user_id=user_id,
        module_id=values.pop("module_id", None) or get_catalog().module.id,
        sequence=values.pop("sequence", 1),
        verification_code=code,
        learner_name=name,
        module_title="Hechtwijzer",
        content_version="1",
        study_load="4 uur",
        accreditation_points=values.pop("accreditation_points", "4"),
        accreditation_activity_id=values.pop("accreditation_activity_id", "ACT-2026-17"),
        accreditation_body=values.pop("accreditation_body", "Stichting Kwaliteitsregister Jeugd"),
        completed_on=values.pop("completed_on", date(2026, 5, 16)),
        **values,
    )


@pytest.fixture
def accreditation_group(db, create_user):
    """A group whose export holds every kind of value the exports treat specially."""
    trainer = create_user(Role.TRAINER, name="Tom Trainer")
    people = {
        name: create_user(name=name).id
        for name in (
            "Anna de Vries",
            "Bram Bakker",
            'Cees; "de" Jong',
            "Dirk Formule",
            "Eva Onzichtbaar",
            "Zoë Ünal",
            "Verlopen Vera",
            "Ingetrokken Ids",
        )
    }
    outsider = create_user(name="Buiten Groep").id
    group = Group(name="Groep Noord", trainer_id=trainer.id)
    db.session.add(group)
    db.session.flush()
    db.session.add_all(GroupMember(group_id=group.id, user_id=uid) for name, uid in people.items())
    db.session.add_all(
        [
            certificate(
                people["Anna de Vries"], "Anna de Vries", "CODE0001", register_name="SKJ", register_number="0123"
            ),
            certificate(people["Bram Bakker"], "Bram Bakker", "CODE0002", completed_on=date(2025, 5, 1)),
            certificate(
                people["Bram Bakker"],
                "Bram Bakker",
                "CODE0003",
                sequence=2,
                accreditation_points="2,5",
                completed_on=date(2026, 5, 2),
                valid_until=date(2028, 5, 2),
            ),
            certificate(people['Cees; "de" Jong'], 'Cees; "de" Jong', "CODE0004", accreditation_points="=1+1"),
            certificate(people["Dirk Formule"], '=HYPERLINK("http://x","klik")', "CODE0005", register_number="+31"),
            certificate(people["Eva Onzichtbaar"], "\ufeff@cmd", "CODE0006", accreditation_activity_id="-5"),
            certificate(people["Zoë Ünal"], "Zoë Ünal", "CODE0007", accreditation_points=None, register_name="NIP"),
            certificate(people["Verlopen Vera"], "Verlopen Vera", "CODE0008", valid_until=date(2026, 6, 14)),
            certificate(people["Ingetrokken Ids"], "Ingetrokken Ids", "CODE0009", status=CertificateStatus.REVOKED),
            certificate(outsider, "Buiten Groep", "CODE0010"),
            certificate(people["Anna de Vries"], "Anna de Vries", "CODE0011", module_id="andere-module"),
        ]
    )
    db.session.commit()
    return group.id


def rows_of(group_id: int) -> list[tuple[str, ...]]:
    return exports.export_rows(_db.session.get(Group, group_id), get_catalog().module.id, TODAY)


def xlsx_cells(data: bytes | Path):
    """Everything a reader sees of the sheet: per cell its value, type, number format and boldness."""
    book = openpyxl.load_workbook(data if isinstance(data, Path) else io.BytesIO(data))
    sheet = book.active
    cells = [[(c.value, c.data_type, c.number_format, c.font.bold) for c in row] for row in sheet.iter_rows()]
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHI"}
    return book.sheetnames, sheet.title, sheet.freeze_panes, widths, cells


def test_the_streamed_csv_is_byte_for_byte_the_csv_of_before(app, accreditation_group):
    with app.app_context():
        streamed = b"".join(exports.csv_chunks(rows_of(accreditation_group)))
    assert streamed == (GOLDEN / "accreditatie.csv").read_bytes()
    table = list(csv.reader(io.StringIO(streamed.decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in table[1:]] == [
        "Anna de Vries",
        "Bram Bakker",
        'Cees; "de" Jong',
        '\'=HYPERLINK("http://x","klik")',
        "'@cmd",
        "Zoë Ünal",
    ]


def test_the_streamed_xlsx_has_cell_for_cell_the_cells_of_before(app, accreditation_group, tmp_path):
    target = tmp_path / "export.xlsx"
    with app.app_context(), target.open("wb") as file:
        exports.write_xlsx(rows_of(accreditation_group), file)
    assert xlsx_cells(target) == xlsx_cells(GOLDEN / "accreditatie.xlsx")


def test_the_export_pages_send_the_same_files(app, accreditation_group, person):
    """Through the pages (scoped to today's date: the golden rows are all valid now too)."""
    owner = person(Role.TRAINER, "Tineke Trainer")
    with app.app_context():
        _db.session.execute(sa.update(Group).values(trainer_id=owner.id))
        _db.session.commit()
    base = f"/trainer/groepen/{accreditation_group}"
    response = owner.client.get(f"{base}/accreditatie.csv")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="accreditatie.csv"'
    assert response.get_data() == (GOLDEN / "accreditatie.csv").read_bytes()
    response = owner.client.get(f"{base}/accreditatie.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="accreditatie.xlsx"'
    data = response.get_data()
    response.close()  # as a WSGI server does once sent: closes (and so removes) the temporary file
    assert int(response.headers["Content-Length"]) == len(data)
    assert xlsx_cells(data) == xlsx_cells(GOLDEN / "accreditatie.xlsx")


def seed_certified_group(app, learners: int, name: str) -> int:
    """A group of `learners` new members, each with a valid certificate, inserted in bulk."""
    with app.app_context():
        now = utcnow()
        trainer_id = _db.session.execute(
            sa.insert(User).values(
                email=f"trainer.{name}@example.org", display_name="Tom Trainer", password_hash="x", role=Role.TRAINER
            )
        ).inserted_primary_key[0]
        group_id = _db.session.execute(sa.insert(Group).values(name=name, trainer_id=trainer_id)).inserted_primary_key[
            0
        ]
        emails = [f"{name}.{n}@example.org" for n in range(learners)]
        _db.session.execute(
            sa.insert(User),
            [
                {"email": email, "display_name": f"Cursist {n:06d}", "password_hash": "x", "role": Role.LEARNER}
                for n, email in enumerate(emails)
            ],
        )
        ids = _db.session.scalars(sa.select(User.id).where(User.email.in_(emails))).all()
        _db.session.execute(sa.insert(GroupMember), [{"group_id": group_id, "user_id": uid} for uid in ids])
        _db.session.execute(
            sa.insert(Certificate),
            [
                {
                    "user_id": uid,
                    "module_id": get_catalog().module.id,
                    "sequence": 1,
                    "verification_code": f"V{uid:010d}",
                    "learner_name": f"Cursist {uid:06d}",
                    "register_name": "SKJ",
                    "register_number": f"{uid:08d}",
                    "module_title": "Hechtwijzer",
                    "content_version": "1",
                    "study_load": "4 uur",
                    "accreditation_body": "Stichting Kwaliteitsregister Jeugd",
                    "accreditation_points": "4",
                    "accreditation_activity_id": "ACT-1",
                    "completed_on": date(2026, 5, 1),
                    "issued_at": now,
                }
                for uid in ids
            ],
        )
        _db.session.commit()
        return group_id


def peak_memory(app, group_id: int, write) -> int:
    """tracemalloc's peak while one export of the group is written to a temporary file."""
    with app.app_context(), tempfile.TemporaryFile() as file:
        group = _db.session.get(Group, group_id)
        tracemalloc.start()
        try:
            write(exports.iter_export_rows(group, get_catalog().module.id, TODAY), file)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def write_csv(rows, file) -> None:
    for chunk in exports.csv_chunks(rows):
        file.write(chunk)


@pytest.mark.parametrize(
    ("write", "small_size", "batch"),
    # The workbook at half the CSV's sizes and with batches of 100 rows (memory then is flat from 200
    # rows on): openpyxl under tracemalloc is slow.
    [(write_csv, 2_000, exports.BATCH), (exports.write_xlsx, 1_000, 100)],
    ids=["csv", "xlsx"],
)
@pytest.mark.memory
def test_memory_does_not_grow_with_the_rows(app, monkeypatch, write, small_size, batch):
    monkeypatch.setattr(exports, "BATCH", batch)
    large_size = 10 * small_size
    small, large = seed_certified_group(app, small_size, "klein"), seed_certified_group(app, large_size, "groot")
    with app.app_context(), tempfile.TemporaryFile() as file:
        assert len(exports.export_rows(_db.session.get(Group, large), get_catalog().module.id, TODAY)) == large_size
        # Once untraced, so that imports and caches are not counted.
        write(exports.iter_export_rows(_db.session.get(Group, small), get_catalog().module.id, TODAY), file)
    small_peak, large_peak = peak_memory(app, small, write), peak_memory(app, large, write)
    assert large_peak < 2 * small_peak, (small_peak, large_peak)


def test_an_export_costs_the_same_statements_for_3_and_60_learners(app, person):
    owner = person(Role.TRAINER, "Tineke Trainer")
    statements = {}
    for size in (3, 60):
        group_id = seed_certified_group(app, size, f"groep{size}")
        with app.app_context():
            _db.session.execute(sa.update(Group).where(Group.id == group_id).values(trainer_id=owner.id))
            _db.session.commit()
        for kind in ("csv", "xlsx"):
            responses = []
            url = f"/trainer/groepen/{group_id}/accreditatie.{kind}"
            statements[size, kind] = statements_during(
                app, lambda u=url, r=responses: r.append(owner.client.get(u).get_data())
            )
            assert responses[0]
    assert len(statements[3, "csv"]) == len(statements[60, "csv"])
    assert len(statements[3, "xlsx"]) == len(statements[60, "xlsx"])
    assert sum("FROM certificates" in sql for sql in statements[60, "csv"]) == 1


class BrokenOff(Exception):
    pass


def rows_then_failure(count: int):
    for n in range(count):
        yield (f"Cursist {n}", "", "", "4", "2026-05-01", "ACT-1", "SKJ", "Hechtwijzer", f"V{n}")
    raise BrokenOff


def test_a_csv_broken_off_halfway_ends_with_a_line_that_says_so_and_the_error_goes_on():
    sent: list[bytes] = []
    with pytest.raises(BrokenOff):
        for chunk in exports.csv_chunks(rows_then_failure(2_500)):
            sent.append(chunk)
    text = b"".join(sent).decode("utf-8-sig")
    lines = text.splitlines()
    assert len(lines) == 1 + 2_500 + 1
    assert lines[-1] == "EXPORT AFGEBROKEN: dit bestand is onvolledig. Download de export opnieuw."
    assert lines[-2].startswith("Cursist 2499;")
