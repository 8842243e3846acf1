"""Import of participant lists from CSV or XLSX files.

The whole file is validated first; the report names each bad row (as numbered in the
spreadsheet, the header being row 1) and column. If any row is bad nothing is imported;
otherwise every row is saved in one transaction. A dry run validates and saves nothing.
Error messages never repeat a cell's value (the cells hold names).

Columns (header row, any order, case-insensitive):

=============  ==============================================================
full_name      required: the name as it will be printed on the certificate
username       a user of this node (their agency and country are taken)
agency_code    an agency registered on this node, by its code
agency         otherwise the agency's name as written (external participants)
country        KH or CN (required unless username or agency_code is given)
position       job title
contact        e-mail or phone
sex            female, male or other
pre_score      0 to 100
post_score     0 to 100
=============  ==============================================================
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ctip.accounts.models import Agency, Country, User
from ctip.audit.models import Action
from ctip.audit.services import Entry, audit_append
from ctip.training.models import Participant, ParticipantSex, ParticipantSource, Training
from ctip.training.services import (
    ParticipantInput,
    build_participant,
    require_organizer,
)

COLUMNS = (
    "full_name",
    "username",
    "agency_code",
    "agency",
    "country",
    "position",
    "contact",
    "sex",
    "pre_score",
    "post_score",
)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
# Model field -> file column, to name the column of a validation error.
FIELD_COLUMN = {
    "full_name": "full_name",
    "user": "username",
    "agency": "agency",
    "agency_name": "agency",
    "country": "country",
    "position": "position",
    "contact": "contact",
    "sex": "sex",
    "pre_score": "pre_score",
    "post_score": "post_score",
}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, size, header)."""


@dataclass(frozen=True)
class RowError:
    row: int  # as numbered in the spreadsheet: the header is row 1
    column: str  # "" when the row as a whole is wrong
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: int = 0
    dry_run: bool = False
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    def lines(self) -> list[str]:
        if self.file_error:
            return [_("The file was refused: %(reason)s") % {"reason": self.file_error}]
        out = [str(e) for e in self.errors]
        if self.errors:
            out.append(
                _("%(bad)s of %(rows)s rows have errors; nothing was imported.")
                % {"bad": len({e.row for e in self.errors}), "rows": self.rows}
            )
        elif self.dry_run:
            out.append(_("All %(rows)s rows are valid (dry run: nothing saved).") % self.__dict__)
        else:
            out.append(_("Imported %(imported)s participants.") % self.__dict__)
        return out


# --- Reading files ------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for each non-empty data row of a CSV or XLSX file."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB."))
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_table(data)
    elif name.endswith(".csv"):
        table = _csv_table(data)
    else:
        raise ImportFileError(_("Give a .csv or .xlsx file."))
    if not table:
        raise ImportFileError(_("The file is empty."))
    header = [" ".join(str(h or "").split()).lower().replace(" ", "_") for h in table[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(cols)s. Known columns: %(known)s.")
            % {"cols": ", ".join(unknown), "known": ", ".join(COLUMNS)}
        )
    if "full_name" not in header:
        raise ImportFileError(_("The header row has no full_name column."))
    if len([h for h in header if h]) != len({h for h in header if h}):
        raise ImportFileError(_("A column appears twice in the header row."))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {h: _text(cells[i]) if i < len(cells) else "" for i, h in enumerate(header) if h}
        if any(values.values()):
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("More than %(max)s rows.") % {"max": MAX_ROWS})
    if not rows:
        raise ImportFileError(_("The file has a header but no participants."))
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _csv_table(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The CSV file is not UTF-8 text.")) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file cannot be read: %(e)s") % {"e": exc}) from None


def _xlsx_table(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A few kilobytes can unpack to gigabytes: refuse before openpyxl reads it.
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
                raise ImportFileError(_("The spreadsheet unpacks to more than 50 MB."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(_("This is not a readable .xlsx spreadsheet.")) from None
    try:
        sheet = book.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            table.append(list(row))
            if len(table) > MAX_ROWS + 1:
                break
        return table
    finally:
        book.close()


# --- Validating and saving ----------------------------------------------------------------


def _score(text: str):
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError
    return value


def _input_of(
    number: int, values: dict[str, str], errors: list[RowError]
) -> ParticipantInput | None:
    bad = len(errors)

    def err(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    user = agency = None
    username = values.get("username", "")
    if username:
        user = User.objects.select_related("agency").filter(username=username).first()
        if user is None:
            err("username", _("No user of this node has this username."))
    code = values.get("agency_code", "")
    if code and not username:
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            err("agency_code", _("No agency of this node has this code."))
    country = values.get("country", "").upper()
    if not username and not code:
        if country not in Country.values:
            err("country", _("Give KH or CN."))
        if not values.get("agency"):
            err("agency", _("Give the agency (or an agency_code or username)."))
    sex = values.get("sex", "").lower()
    if sex and sex not in ParticipantSex.values:
        err("sex", _("Give female, male or other, or leave it empty."))
    scores = {}
    for column in ("pre_score", "post_score"):
        try:
            scores[column] = _score(values.get(column, ""))
        except ValueError:
            err(column, _("Give a number from 0 to 100, or leave it empty."))
    if len(errors) > bad:
        return None
    return ParticipantInput(
        full_name=values.get("full_name", ""),
        user=user,
        agency=agency,
        agency_name=values.get("agency", ""),
        country=country,
        position=values.get("position", ""),
        contact=values.get("contact", ""),
        sex=sex,
        pre_score=scores["pre_score"],
        post_score=scores["post_score"],
    )


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            (FIELD_COLUMN.get(name, ""), str(message))
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [("", str(m)) for m in exc.messages]


@transaction.atomic
def participants_import(
    *,
    user,
    training: Training,
    rows: list[tuple[int, dict[str, str]]],
    dry_run: bool = False,
    request=None,
) -> ImportReport:
    """Validate every row; save all of them, or none."""
    require_organizer(user, training, request)
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    built: list[Participant] = []
    first_row_of: dict[str, int] = {}
    for number, values in rows:
        data = _input_of(number, values, report.errors)
        if data is None:
            continue
        try:
            participant = build_participant(user, training, data, ParticipantSource.IMPORT)
        except ValidationError as exc:
            for column, message in _messages(exc):
                report.errors.append(RowError(number, column, message))
            continue
        keys = [f"name:{participant.name_token}"]
        if participant.user_id:
            keys.append(f"user:{participant.user_id}")
        twin = next((first_row_of[k] for k in keys if k in first_row_of), None)
        if twin is not None:
            report.errors.append(
                RowError(number, "", _("The same person as on row %(row)s.") % {"row": twin})
            )
            continue
        for k in keys:
            first_row_of[k] = number
        built.append(participant)
    if not report.ok or dry_run:
        return report
    for participant in built:
        participant.save(force_insert=True)
    audit_append(
        actor=user,
        entries=[
            Entry(
                Action.CREATE,
                "training.participant",
                str(p.pk),
                tuple(f for f in Participant.PII_FIELDS if getattr(p, f)),
                {"training": str(training.pk), "external": p.is_external, "source": "import"},
            )
            for p in built
        ],
        request=request,
    )
    report.imported = len(built)
    return report
