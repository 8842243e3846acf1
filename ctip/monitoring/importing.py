"""Monthly migration statistics from a CSV file (UTF-8, one row per month).

Columns: ``month`` (YYYY-MM, required), ``border_crossings``, ``deportations``, ``returns``
and any of ``victims_<form>_<sex>`` (forms: the identification form's forms of
exploitation; sexes: female, male, other_unknown). An empty cell means "not reported".
A ``country`` column, if present, must name this node's country: only one's own figures
are imported. The whole file is checked first; every problem is reported as "line N,
column C: …" (the file's own line numbers, the header being line 1) without repeating the
cell's content; one problem and nothing is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from ctip.monitoring.models import SEX_COLUMNS, VICTIM_CATEGORIES, StatisticsSource
from ctip.monitoring.services import StatisticsInput, statistics_record

MAX_BYTES = 1_000_000
MAX_ROWS = 1000
COUNT_COLUMNS = ("border_crossings", "deportations", "returns")
VICTIM_COLUMNS = tuple(f"victims_{c}_{s}" for c in VICTIM_CATEGORIES for s in SEX_COLUMNS)
ALLOWED = {"month", "country", *COUNT_COLUMNS, *VICTIM_COLUMNS}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ImportError_(Exception):  # noqa: N801 - not the builtin
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _count(value: str) -> int | None:
    value = value.strip()
    if value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValueError
    return int(value)


def parse(data: bytes) -> list[StatisticsInput]:
    if len(data) > MAX_BYTES:
        raise ImportError_([_("The file is larger than 1 MB.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_([_("The file is not UTF-8 text.")]) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportError_([_("The file is empty.")]) from None
    problems = []
    unknown = [h for h in header if h not in ALLOWED]
    for name in unknown:
        problems.append(
            _("line 1, column %(column)s: unknown column") % {"column": name or "(empty)"}
        )
    if "month" not in header:
        problems.append(_("line 1: the column month is missing"))
    if len(set(header)) != len(header):
        problems.append(_("line 1: a column appears twice"))
    if problems:
        raise ImportError_(problems)
    out, seen = [], {}
    for line_no, raw in enumerate(reader, start=2):
        if line_no - 1 > MAX_ROWS:
            raise ImportError_([_("The file has more than 1000 rows.")])
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) != len(header):
            problems.append(
                _("line %(line)s: %(n)s cells where the header has %(m)s")
                % {"line": line_no, "n": len(raw), "m": len(header)}
            )
            continue
        row = dict(zip(header, raw, strict=True))

        def bad(column, message, line_no=line_no):
            problems.append(
                _("line %(line)s, column %(column)s: %(message)s")
                % {"line": line_no, "column": column, "message": message}
            )

        month = None
        match = MONTH.match(row["month"].strip())
        if (
            not match
            or not 1 <= int(match.group(2)) <= 12
            or not 2000 <= int(match.group(1)) <= 2100
        ):
            bad("month", _("give the month as YYYY-MM"))
        else:
            month = dt.date(int(match.group(1)), int(match.group(2)), 1)
            if month in seen:
                bad("month", _("this month is already on line %(line)s") % {"line": seen[month]})
            seen[month] = line_no
        if "country" in row and row["country"].strip().upper() not in ("", settings.CTIP_NODE):
            bad("country", _("only this node's own figures can be imported"))
        counts = {}
        for column in COUNT_COLUMNS:
            if column in row:
                try:
                    counts[column] = _count(row[column])
                except ValueError:
                    bad(column, _("not a whole number of 0 or more"))
        victims: dict[str, dict[str, int]] = {}
        any_victims = False
        for column in VICTIM_COLUMNS:
            if column not in row:
                continue
            try:
                value = _count(row[column])
            except ValueError:
                bad(column, _("not a whole number of 0 or more"))
                continue
            if value is None:
                continue
            any_victims = True
            _prefix, rest = column.split("_", 1)
            sex = next(s for s in SEX_COLUMNS if rest.endswith("_" + s))
            category = rest[: -len(sex) - 1]
            victims.setdefault(category, {})[sex] = value
        if month is not None:
            out.append(
                StatisticsInput(month=month, victims=victims if any_victims else None, **counts)
            )
    if problems:
        raise ImportError_(problems)
    if not out:
        raise ImportError_([_("The file has no rows.")])
    return out


@transaction.atomic
def statistics_import(*, user, data: bytes, dry_run: bool = False, request=None) -> list:
    """Check the whole file, then record every month (all or nothing)."""
    rows = parse(data)
    if dry_run:
        return rows
    return [
        statistics_record(user=user, data=row, source=StatisticsSource.IMPORTED, request=request)
        for row in rows
    ]
