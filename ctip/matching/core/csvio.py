"""The person-record CSV format of ``ctip match file``: reading with clear errors, writing.

Columns (header row required, any order)::

    record_id, source, name_original, name_latin, sex, birth_date, age_at_record,
    nationality, origin_place, record_date

Names may be in any script. ``birth_date`` as written: ``1998-03-14``, ``14/03/1998``,
``03/1998``, ``1998`` or empty; ``age_at_record`` (with ``record_date``) when there is no
birth date. ``origin_place`` as written, in any script ("Peam Ro, Prey Veng",
"ខេត្តព្រៃវែង", "柬埔寨波萝勉省"), is compared when it names a reference place (see
:mod:`.places`); one that names none is counted, not guessed. Further columns (e.g.
``document_number``, ``address``) are compared as extra identifying fields. Structural
problems (a missing column, bad encoding, an empty or duplicate record id, a short row)
raise :class:`CsvError` naming the line and column; a date that cannot be read is
*unknown* and counted, never an error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from .dates import BirthRange
from .engine import birth_from_fields
from .people import PersonRecord
from .places import resolve_place

COLUMNS = (
    "record_id",
    "source",
    "name_original",
    "name_latin",
    "sex",
    "birth_date",
    "age_at_record",
    "nationality",
    "origin_place",
    "record_date",
)
REQUIRED = frozenset(COLUMNS)
#: Columns that describe the record, not the person: never compared.
NOT_COMPARED = frozenset({"record_id", "source", "record_date"})
_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})[/.-](\d{4})\s*$")


class CsvError(ValueError):
    """A problem in the input file, with the line (1 = header) and column it is on."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.column = column


@dataclass
class ReadReport:
    rows: int = 0
    unknown_birth_dates: int = 0
    #: Dates read only in part (an impossible day or month: the month or year is kept).
    partly_read_birth_dates: int = 0
    unknown_record_dates: int = 0
    unknown_ages: int = 0
    #: Places of origin given but not found in the reference table (not compared).
    unknown_places: int = 0
    #: (line, column) of the first few unreadable values, for the report.
    examples: list[tuple[int, str]] = field(default_factory=list)

    def note(self, line: int, column: str) -> None:
        if len(self.examples) < 10:
            self.examples.append((line, column))


@dataclass
class Dataset:
    records: list[PersonRecord]
    extras: dict[str, dict[str, str]]
    sources: dict[str, str]
    report: ReadReport


@lru_cache(maxsize=65536)
def parse_birth(text: str) -> BirthRange:
    """:meth:`BirthRange.parse` plus month/year (``03/1998``) as written on many forms.
    Cached: dates repeat in a large file, and one range object then serves every record
    with that date."""
    if m := _MONTH_YEAR.match(text):
        return BirthRange.year_month(int(m[2]), int(m[1]))
    return BirthRange.parse(text)


_ISO_PARTS = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
_DMY_PARTS = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")


def parse_birth_partly(text: str) -> BirthRange | None:
    """What can be read of a date that is not a date: ``1974-01-64`` is January 1974,
    ``1971-13-19`` is 1971 (a mistyped day or month should not throw the year away).
    None when not even that."""
    m = _ISO_PARTS.match(text)
    if m:
        year, month = int(m[1]), int(m[2])
    elif m := _DMY_PARTS.match(text):
        year, month = int(m[3]), int(m[2])
    else:
        return None
    if not 1 <= year <= 9999:
        return None
    if 1 <= month <= 12:
        return BirthRange.year_month(year, month)
    return BirthRange.year(year)


def _record_date(text: str) -> date | None:
    rng = BirthRange.parse(text)
    if rng.earliest != rng.latest:
        raise ValueError("a record date must be a day")
    return rng.earliest


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
            line=line,
        ) from None


def read_records(source: str | Path | bytes, *, today: date) -> Dataset:
    """Read the CSV format above (a path or the file's bytes)."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    text = _decode(raw)
    if "\x00" in text:
        raise CsvError("the file holds NUL bytes: is it a spreadsheet rather than CSV?")
    return read_text(text, today=today)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise CsvError(f"malformed CSV: {exc}", line=reader.line_num) from None


def read_text(text: str, *, today: date) -> Dataset:
    rows = _rows(text)
    try:
        _, header = next(rows)
    except StopIteration:
        raise CsvError("the file is empty (a header row is needed)", line=1) from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CsvError(
            f"missing column(s) {', '.join(missing)}; the header must name " + ", ".join(COLUMNS),
            line=1,
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CsvError(f"column(s) named twice: {', '.join(dupes)}", line=1)
    index = {name: i for i, name in enumerate(header)}
    extra_cols = [h for h in header if h not in REQUIRED and h]
    report = ReadReport()
    records: list[PersonRecord] = []
    extras: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise CsvError(
                f"{len(row)} fields where the header has {len(header)}",
                line=line,
                column=header[len(row)] if len(row) < len(header) else None,
            )

        def get(col: str, row: list[str] = row) -> str:
            return row[index[col]].strip()

        rid = get("record_id")
        if not rid:
            raise CsvError("empty record_id", line=line, column="record_id")
        if rid in seen:
            raise CsvError(
                f"record_id repeats the one on line {seen[rid]}", line=line, column="record_id"
            )
        seen[rid] = line
        record_date = None
        if get("record_date"):
            try:
                record_date = _record_date(get("record_date"))
            except ValueError:
                report.unknown_record_dates += 1
                report.note(line, "record_date")
        birth, bad = None, False
        if get("birth_date"):
            try:
                birth = parse_birth(get("birth_date"))
            except ValueError:
                birth = parse_birth_partly(get("birth_date"))
                if birth is None:
                    bad = True
                    report.unknown_birth_dates += 1
                else:
                    report.partly_read_birth_dates += 1
                report.note(line, "birth_date")
        if birth is None and get("age_at_record"):
            birth, bad_age = birth_from_fields("", get("age_at_record"), record_date, today=today)
            if bad_age:
                report.unknown_ages += 1
                report.note(line, "age_at_record")
        del bad
        names = tuple(n for n in (get("name_original"), get("name_latin")) if n)
        place = resolve_place(get("origin_place"))
        if get("origin_place") and not place:
            report.unknown_places += 1
        records.append(
            PersonRecord(
                id=rid,
                names=names,
                sex=get("sex") or None,
                birth=birth,
                nationality=get("nationality") or None,
                place=place,
            )
        )
        sources[rid] = get("source")
        if extra_cols:
            extras[rid] = {c: get(c) for c in extra_cols if get(c)}
        report.rows += 1
    return Dataset(records, extras, sources, report)


def write_clusters(path: str | Path, clusters: dict[str, str], order: list[str]) -> None:
    """``record_id,cluster_id``; cluster ids are ``c1``, ``c2``... in order of first record."""
    numbering: dict[str, str] = {}
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "cluster_id"])
        for rid in order:
            root = clusters[rid]
            if root not in numbering:
                numbering[root] = f"c{len(numbering) + 1}"
            writer.writerow([rid, numbering[root]])
