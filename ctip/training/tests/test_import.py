"""Participant lists from CSV and XLSX: a report naming each bad row and column, and
nothing imported unless every row is good."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from ctip.audit.models import Action, AuditEvent
from ctip.training.importing import ImportFileError, participants_import, read_rows
from ctip.training.models import Participant
from ctip.training.tests.conftest import register

pytestmark = pytest.mark.django_db

HEADER = "full_name,username,agency_code,agency,country,position,sex,pre_score,post_score\n"
GOOD = (
    HEADER
    + "Wang Li 王丽,,,Ministry of Public Security,CN,Police officer,female,55,80\n"
    + "Sok Dara,caseworker_a,,,,,female,40,75.5\n"
    + "Keo Vannak,,kh-agency-b,,,Social worker,male,,\n"
)


def csv_rows(text: str):
    return read_rows(text.encode(), "list.csv")


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_good_csv_is_imported_in_full(supervisor_a, caseworker_a, agency_b, training):
    report = participants_import(user=supervisor_a, training=training, rows=csv_rows(GOOD))
    assert report.ok and report.imported == 3 and report.rows == 3
    people = {p.full_name: p for p in Participant.objects.filter(training=training)}
    assert set(people) == {"Wang Li 王丽", "Sok Dara", "Keo Vannak"}
    assert people["Sok Dara"].user == caseworker_a and people["Sok Dara"].country == "KH"
    assert str(people["Sok Dara"].post_score) == "75.50"
    assert people["Keo Vannak"].agency == agency_b
    assert people["Wang Li 王丽"].agency_name == "Ministry of Public Security"
    assert {p.source for p in people.values()} == {"import"}
    rows = AuditEvent.objects.filter(action=Action.CREATE, object_type="training.participant")
    assert rows.count() == 3
    assert all("Wang" not in str(r.details) for r in rows)


def test_a_good_xlsx_is_imported(supervisor_a, training):
    data = xlsx_bytes(
        [
            ["Full name", "Agency", "Country", "Pre score", "Post score"],
            ["Chen Ming 陈明", "Embassy of China", "CN", 60, 82.5],
            [None, None, None, None, None],  # an empty row is skipped, numbering kept
            ["Liu Yang", "Guangxi Relief Station", "cn", 45, None],
        ]
    )
    rows = read_rows(data, "list.xlsx")
    assert [number for number, _ in rows] == [2, 4]
    report = participants_import(user=supervisor_a, training=training, rows=rows)
    assert report.ok and report.imported == 2
    chen = next(p for p in Participant.objects.all() if p.full_name.startswith("Chen"))
    assert str(chen.post_score) == "82.50" and chen.country == "CN"


def test_bad_rows_are_named_and_nothing_is_imported(supervisor_a, training):
    register(supervisor_a, training, "Already Here")
    text = (
        HEADER
        + "Good Person,,,Some Agency,CN,,,50,60\n"  # row 2: fine
        + ",,,Some Agency,CN,,,,\n"  # row 3: no name
        + "Bad Score,,,Some Agency,CN,,,150,abc\n"  # row 4: two bad scores
        + "Nobody,no_such_user,,,,,,,\n"  # row 5: unknown user
        + "No Country,,,Some Agency,XX,,unknown,,\n"  # row 6: country and sex
        + "good person,,,Other,KH,,,,\n"  # row 7: same person as row 2
        + "Already Here,,,Some Agency,CN,,,,\n"  # row 8: registered before
        + "No Agency,,no-such-code,,,,,,\n"  # row 9: unknown agency code
    )
    report = participants_import(user=supervisor_a, training=training, rows=csv_rows(text))
    assert not report.ok and report.imported == 0
    found = {(e.row, e.column) for e in report.errors}
    assert found == {
        (3, "full_name"),
        (4, "pre_score"),
        (4, "post_score"),
        (5, "username"),
        (6, "country"),
        (6, "sex"),
        (7, ""),
        (8, ""),
        (9, "agency_code"),
    }
    assert "row 7: The same person as on row 2." in [str(e) for e in report.errors]
    assert report.lines()[-1] == "7 of 8 rows have errors; nothing was imported."
    # Not even the good row was imported; no cell value is repeated in the report.
    assert Participant.objects.filter(training=training).count() == 1
    assert "Bad Score" not in "\n".join(report.lines())


def test_dry_run_saves_nothing(supervisor_a, caseworker_a, agency_b, training):
    report = participants_import(
        user=supervisor_a, training=training, rows=csv_rows(GOOD), dry_run=True
    )
    assert report.ok and report.imported == 0
    assert report.lines() == ["All 3 rows are valid (dry run: nothing saved)."]
    assert not Participant.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"full_name,favourite_colour\nA,blue\n", "x.csv", "Unknown columns: favourite_colour"),
        (b"agency,country\nX,CN\n", "x.csv", "no full_name column"),
        (b"full_name\n", "x.csv", "no participants"),
        (b"", "x.csv", "empty"),
        ("full_name\nSokha\n".encode("utf-16"), "x.csv", "not UTF-8"),
        (b"full_name\nA\n", "x.txt", ".csv or .xlsx"),
        (b"not a zip file", "x.xlsx", "not a readable .xlsx"),
        (b"full_name,full_name\nA,B\n", "x.csv", "appears twice"),
    ],
)
def test_unreadable_files_are_refused_whole(content, name, message):
    with pytest.raises(ImportFileError) as err:
        read_rows(content, name)
    assert message in str(err.value)


def test_a_spreadsheet_that_unpacks_to_gigabytes_is_refused_before_reading():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    with pytest.raises(ImportFileError) as err:
        read_rows(out.getvalue(), "bomb.xlsx")
    assert "50 MB" in str(err.value)


def test_command_with_dry_run_and_errors(tmp_path, supervisor_a, caseworker_a, agency_b, training):
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "training_import",
        str(good),
        training=str(training.pk),
        user="supervisor_a",
        dry_run=True,
        stdout=out,
    )
    assert "All 3 rows are valid (dry run: nothing saved)." in out.getvalue()
    assert not Participant.objects.exists()

    call_command(
        "training_import", str(good), training=str(training.pk), user="supervisor_a", stdout=out
    )
    assert "Imported 3 participants." in out.getvalue()
    assert Participant.objects.count() == 3

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "New One,,,Agency,CN,,,999,\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "training_import", str(bad), training=str(training.pk), user="supervisor_a", stdout=out
        )
    assert "row 2, column pre_score: Give a number from 0 to 100" in out.getvalue()
    assert Participant.objects.count() == 3


def test_command_refuses_a_user_who_does_not_manage_the_training(tmp_path, caseworker_a, training):
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(CommandError, match="No training with this id"):
        call_command("training_import", str(path), training=str(training.pk), user="caseworker_a")


def test_import_page_shows_the_report_and_the_other_user_cannot_import(
    client_of, supervisor_a, caseworker_a, agency_b, training
):
    client = client_of(supervisor_a)
    url = f"/training/{training.pk}/participants/import/"
    bad = (HEADER + "X,,,A,CN,,,,\n,,,A,CN,,,,\n").encode()
    response = client.post(
        url, {"file": SimpleUploadedFile("list.csv", bad, "text/csv"), "dry_run": ""}
    )
    assert response.status_code == 400
    assert "row 3, column full_name" in response.content.decode()
    assert not Participant.objects.exists()

    response = client.post(
        url, {"file": SimpleUploadedFile("list.csv", GOOD.encode(), "text/csv")}, follow=True
    )
    assert response.status_code == 200
    assert "Imported 3 participants." in response.content.decode()
    assert Participant.objects.count() == 3

    other = client_of(caseworker_a)
    response = other.post(url, {"file": SimpleUploadedFile("list.csv", GOOD.encode(), "text/csv")})
    assert response.status_code == 404
    assert Participant.objects.count() == 3
