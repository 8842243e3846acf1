"""Bringing in screenings collected offline (ODK Collect, KoboToolbox) as CSV or JSON.

All or nothing: every row is checked against the form version first; one bad row rejects
the whole file with a report naming each bad row and field, and nothing is written. A
submission already imported (same instance id) is skipped, so a file can be sent twice.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from ctip.cases import formdefs
from ctip.cases.idform import FormDefinition, clean_answers
from ctip.cases.models import Screening, ScreeningSource
from ctip.cases.xlsform import HASH_FIELD, VERSION_FIELD

MAX_ROWS = 5000
# Columns ODK Central and KoboToolbox add to every submission; not questions.
METADATA = {
    "start",
    "end",
    "today",
    "deviceid",
    "phonenumber",
    "username",
    "simserial",
    "subscriberid",
    "instancename",
    "uuid",
    "key",
    "submissiondate",
    "submitterid",
    "submittername",
    "attachmentspresent",
    "attachmentsexpected",
    "status",
    "reviewstate",
    "edits",
    "formversion",
    "version",
    "meta",
    "audit",
    "__version__",
}
INSTANCE_KEYS = ("instanceid", "_uuid", "uuid", "key")


class ImportError_(ValueError):  # noqa: N801 - not the builtin
    """The file cannot be read at all."""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        return [
            _("row %(row)s, %(field)s: %(message)s") % {"row": r, "field": f, "message": m}
            for r, f, m in self.errors
        ]


class ImportRejected(ValueError):
    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} problem(s); nothing was imported")
        self.report = report


def read_rows(name: str, content: bytes) -> list[dict]:
    """CSV (header row) or JSON (a list of submissions, or {"results": [...]})."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_(_("The file is not UTF-8 text.")) from None
    if name.lower().endswith(".json") or text.lstrip()[:1] in "[{":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportError_(_("The JSON cannot be read: %(e)s") % {"e": exc}) from None
        if isinstance(data, dict):
            data = data.get("results", data.get("value"))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ImportError_(_("The JSON must be a list of submissions."))
        rows = data
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    if len(rows) > MAX_ROWS:
        raise ImportError_(_("At most %(n)s submissions per file.") % {"n": MAX_ROWS})
    return rows


def _flatten(row: dict, prefix: str = "") -> dict:
    """Kobo's JSON nests groups ({"interview": {...}}); flatten to path keys."""
    flat = {}
    for key, value in row.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def normalise_row(definition: FormDefinition, row: dict) -> tuple[dict, str, list[str]]:
    """(answers by question id, instance id, unknown columns)."""
    questions = {q.id: q for q in definition.questions()}
    answers: dict = {}
    instance = ""
    unknown = []
    for key, value in _flatten(row).items():
        parts = [p for p in key.replace("-", "/").split("/") if p]
        if not parts:
            continue
        last = parts[-1]
        if last.lower() in INSTANCE_KEYS:
            instance = instance or str(value or "")
            continue
        if last.startswith("_") or last.lower() in METADATA or last in (VERSION_FIELD, HASH_FIELD):
            if last in (VERSION_FIELD, HASH_FIELD):
                answers[last] = value
            continue
        if (
            len(parts) >= 2
            and parts[-2] in questions
            and questions[parts[-2]].type == "select_multiple"
        ):
            continue  # Kobo's one-column-per-option copy of a multiple choice
        if last in questions:
            answers[last] = "" if value is None else value
        else:
            unknown.append(key)
    return answers, instance.removeprefix("uuid:"), unknown


def check_rows(
    definition: FormDefinition, rows: list[dict], *, lang: str
) -> tuple[ImportReport, list[tuple[dict, dict, str]]]:
    report = ImportReport(rows=len(rows))
    good = []
    seen = set()
    for number, row in enumerate(rows, start=1):
        answers, instance, unknown = normalise_row(definition, row)
        for key in unknown:
            report.errors.append((number, key, definition.message("unknown_field", lang)))
        version = str(answers.pop(VERSION_FIELD, "") or "")
        short_hash = str(answers.pop(HASH_FIELD, "") or "")
        if version != definition.version:
            report.errors.append(
                (
                    number,
                    VERSION_FIELD,
                    _("made with form version %(got)s, not %(want)s")
                    % {"got": version or "?", "want": definition.version},
                )
            )
            continue
        if short_hash and short_hash != definition.short_hash:
            report.errors.append((number, HASH_FIELD, _("the form's content differs (hash)")))
            continue
        if instance and (
            instance in seen or Screening.objects.filter(external_id=instance).exists()
        ):
            report.duplicates += 1
            continue
        seen.add(instance)
        result = clean_answers(definition, answers, lang=lang, include_identity=True)
        for qid, messages in result.errors.items():
            for message in messages:
                report.errors.append((number, qid, message))
        if result.ok:
            identity = {
                q.person_field: result.answers[q.id]
                for q in definition.identity_questions
                if q.person_field and q.id in result.answers
            }
            good.append((identity, result.answers, instance))
    return report, good


def screenings_import(
    *, user, rows: list[dict], lang: str = "en", dry_run: bool = False, request=None
) -> ImportReport:
    """Check every row; import all of them in one transaction, or none (``ImportRejected``)."""
    from ctip.accounts import permissions
    from ctip.cases import services

    permissions.require(user, "screening", "import", request=request)
    definition = formdefs.current_definition()
    report, good = check_rows(definition, rows, lang=lang)
    if not report.ok:
        raise ImportRejected(report)
    if dry_run:
        report.imported = len(good)
        return report
    with transaction.atomic():
        for identity, answers, instance in good:
            person = services.person_create(
                user=user, data=services.PersonInput(**identity), request=request
            )
            screening = services.screening_start(
                user=user,
                person=person,
                source=ScreeningSource.IMPORT,
                external_id=instance,
                request=request,
            )
            services.screening_submit(
                user=user, screening=screening, raw=answers, lang=lang, request=request
            )
            report.references.append(screening.reference)
    report.imported = len(good)
    return report
