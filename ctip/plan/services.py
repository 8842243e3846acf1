"""Writes of the plan: load, amend, endorse, report status and indicator values, issue
progress reports. Each runs in one transaction with its audit row."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.monitoring import release
from ctip.plan import disclosure, document, indicators, sync
from ctip.plan.apps import AMEND, CHANGE, LOAD
from ctip.plan.models import (
    Activity,
    ActivityAgency,
    Area,
    Endorsement,
    EvidenceDocument,
    ExpectedResult,
    FinancialNote,
    Indicator,
    IndicatorValue,
    OpenQuestion,
    PlanAgency,
    PlanVersion,
    ProgressReport,
    StatusUpdate,
    Step,
    TimeframeCell,
)

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "joint-plan-v1.yaml"
FIRST_VERSION_REASON = "The draft Joint Plan of Action, as written"


class PlanError(ValueError):
    """A plan change that cannot be made (the message says why)."""


# --- Loading and versions --------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    version: PlanVersion
    created: bool
    message: str


def latest_version() -> PlanVersion | None:
    return PlanVersion.objects.order_by("-number").first()


@transaction.atomic
def plan_load(
    *,
    actor=None,
    text: str | None = None,
    path: str | Path | None = None,
    reason: str = "",
    meeting: str = "",
    request=None,
) -> LoadResult:
    """Load a plan file in one transaction.

    The first load makes version 1. Loading a file equal to a stored version changes
    nothing. A different file becomes a new version only with a ``reason`` (an amendment).
    A malformed file raises ``document.PlanFileError`` naming the line, and nothing changes.
    """
    if actor is not None:
        permissions.require(actor, "plan", LOAD, request=request)
    if text is None:
        text = Path(path or DEFAULT_FILE).read_text(encoding="utf-8")
    doc = document.parse_text(text, known_sources=indicators.registered())
    digest = document.content_hash(doc)
    same = PlanVersion.objects.filter(content_hash=digest).order_by("-number").first()
    latest = latest_version()
    if same is not None:
        note = "" if same == latest else f" (the current version is {latest.number})"
        return LoadResult(same, False, f"this plan is version {same.number}; nothing changed{note}")
    if latest is not None and not reason.strip():
        raise PlanError(
            f"the file differs from version {latest.number}; give a reason to load it "
            "as an amendment (a new version)"
        )
    version = _new_version(
        actor=actor,
        doc=doc,
        reason=reason.strip() or FIRST_VERSION_REASON,
        meeting=meeting,
        previous=latest,
        request=request,
    )
    return LoadResult(version, True, f"loaded as version {version.number}")


def _new_version(*, actor, doc, reason, meeting, previous, request=None) -> PlanVersion:
    changes = [asdict(c) for c in document.compare(previous.content, doc)] if previous else []
    if previous is not None and not changes:
        raise PlanError("the amendment changes nothing")
    version = PlanVersion(
        number=(previous.number + 1) if previous else 1,
        content=doc,
        content_hash=document.content_hash(doc),
        reason=reason,
        changes=changes,
        meeting=meeting,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    version.full_clean()
    version.save(force_insert=True)
    _sync_tables(doc)
    audit_record(
        actor=actor,
        action=Action.CREATE,
        obj=version,
        details={"version": version.number, "changes": len(changes)},
        request=request,
    )
    return version


def _texts(prefix: str, text: dict) -> dict:
    return {f"{prefix}_en": text["en"], f"{prefix}_km": text["km"], f"{prefix}_zh": text["zh"]}


def _sync_tables(doc: dict) -> None:
    """Make the current-plan tables say what ``doc`` says. Rows that status updates and
    indicator values refer to are kept (activities, steps, indicators by number/code/position)."""
    for position, area in enumerate(doc["areas"]):
        Area.objects.update_or_create(
            code=area["code"], defaults={"position": position, **_texts("title", area["title"])}
        )
    for position, agency in enumerate(doc["agencies"]):
        PlanAgency.objects.update_or_create(
            key=agency["key"],
            defaults={
                "party": agency["party"],
                "position": position,
                **_texts("name", agency["name"]),
            },
        )
    areas = {a.code: a for a in Area.objects.all()}
    plan_agencies = {a.key: a for a in PlanAgency.objects.all()}
    seen_activities, seen_indicators, seen_questions = set(), set(), set()
    for position, item in enumerate(doc["activities"]):
        activity, _ = Activity.objects.update_or_create(
            number=item["number"],
            defaults={
                "area": areas[item["area"]],
                "position": position,
                "agencies_draft": item["agencies_draft"],
                "withdrawn": False,
                **_texts("text", item["text"]),
            },
        )
        seen_activities.add(activity.pk)
        ActivityAgency.objects.filter(activity=activity).delete()
        ActivityAgency.objects.bulk_create(
            ActivityAgency(
                activity=activity,
                agency=plan_agencies[ref["key"]],
                uncertain=ref["uncertain"],
                position=i,
            )
            for i, ref in enumerate(item["agencies"])
        )
        for i, step in enumerate(item["steps"]):
            Step.objects.update_or_create(
                activity=activity,
                position=i,
                defaults={
                    "agency_keys": [r["key"] for r in step["agencies"]],
                    "withdrawn": False,
                    **_texts("text", step["text"]),
                },
            )
        dropped = Step.objects.filter(activity=activity, position__gte=len(item["steps"]))
        dropped.filter(updates__isnull=True).delete()
        dropped.update(withdrawn=True)  # those with a status history stay, marked
        TimeframeCell.objects.filter(activity=activity).delete()
        TimeframeCell.objects.bulk_create(
            TimeframeCell(
                activity=activity,
                year=cell["year"],
                draft=cell["draft"],
                uncertain=cell["uncertain"],
                **_texts("note", cell["note"]),
            )
            for cell in item["timeframe"]
        )
        results = []
        for i, result in enumerate(item["results"]):
            row, _ = ExpectedResult.objects.update_or_create(
                activity=activity, position=i, defaults=_texts("text", result["text"])
            )
            results.append(row)
        ExpectedResult.objects.filter(activity=activity, position__gte=len(results)).delete()
        for i, ind in enumerate(document.all_indicators(item)):
            Indicator.objects.update_or_create(
                code=ind["code"],
                defaults={
                    "activity": activity,
                    "result": results[ind["result"]] if ind["result"] is not None else None,
                    "computed": ind["computed"],
                    "unit": ind["unit"],
                    "position": i,
                    "withdrawn": False,
                    **_texts("text", ind["text"]),
                },
            )
            seen_indicators.add(ind["code"])
        for question in item["questions"]:
            OpenQuestion.objects.update_or_create(
                key=question["key"],
                defaults={
                    "activity": activity,
                    "cell": question["cell"],
                    "draft": question["draft"],
                    "status": question["status"],
                    "resolved_in": question["resolved_in"],
                    "withdrawn": False,
                    **_texts("text", question["text"]),
                    **_texts("resolution", question["resolution"]),
                },
            )
            seen_questions.add(question["key"])
    Activity.objects.exclude(pk__in=seen_activities).update(withdrawn=True)
    Indicator.objects.exclude(code__in=seen_indicators).update(withdrawn=True)
    OpenQuestion.objects.exclude(key__in=seen_questions).update(withdrawn=True)
    # Plan agencies dropped by an amendment stay as rows: older versions still name them.
    keys = []
    for position, note in enumerate(doc["financial_notes"]):
        FinancialNote.objects.update_or_create(
            key=note["key"], defaults={"position": position, **_texts("text", note["text"])}
        )
        keys.append(note["key"])
    FinancialNote.objects.exclude(key__in=keys).delete()


@transaction.atomic
def plan_amend(*, user, doc: dict, reason: str, meeting: str = "", request=None) -> PlanVersion:
    """Make a new version from an amended document (see ``document.amend_*``)."""
    permissions.require(user, "plan", AMEND, request=request)
    if not reason.strip():
        raise PlanError("an amendment needs a reason")
    previous = latest_version()
    if previous is None:
        raise PlanError("the plan is not loaded yet")
    checked = document.validate(document.to_file_form(doc), known_sources=indicators.registered())
    return _new_version(
        actor=user,
        doc=checked,
        reason=reason.strip(),
        meeting=meeting,
        previous=previous,
        request=request,
    )


@transaction.atomic
def endorsement_record(
    *,
    user,
    version: PlanVersion,
    party: str,
    endorsed_by: str,
    endorsed_on: date,
    meeting: str,
    request=None,
) -> Endorsement:
    """Record one party's endorsement of a version. With both parties', the version is agreed.

    This node's own party's endorsement is queued for the other node in the same
    transaction (``ctip.plan.sync``), so it is recorded and sent, or neither."""
    permissions.require(user, "plan", AMEND, request=request)
    if endorsed_on > timezone.localdate():
        raise ValidationError({"endorsed_on": "An endorsement cannot be dated in the future."})
    endorsement = Endorsement(
        version=version,
        party=party,
        endorsed_by=endorsed_by.strip(),
        endorsed_on=endorsed_on,
        meeting=meeting.strip(),
        content_hash=version.content_hash,
        recorded_by=user,
    )
    endorsement.full_clean()
    endorsement.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=endorsement,
        details={"version": version.number, "party": party, "agreed": version.is_agreed},
        request=request,
    )
    sync.endorsement_queue(actor=user, endorsement=endorsement, request=request)
    return endorsement


# --- Evidence --------------------------------------------------------------------------

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
OFFICE_TYPES = {
    "word/document.xml": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xl/workbook.xml": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": ("odt", "application/vnd.oasis.opendocument.text"),
    b"application/vnd.oasis.opendocument.spreadsheet": (
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
}


def sniff_evidence(data: bytes) -> tuple[str, str]:
    """(extension, content type) from the bytes themselves, or ValidationError.

    PDF and office documents only: images would need their location data stripped first."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                    raise ValidationError(_("The document unpacks to too much data."))
                names = {i.filename for i in infos}
                if "[Content_Types].xml" in names:
                    for marker, kind in OFFICE_TYPES.items():
                        if marker in names:
                            return kind
                if "mimetype" in names:
                    kind = ODF_TYPES.get(archive.read("mimetype").strip())
                    if kind:
                        return kind
        except zipfile.BadZipFile:
            pass
    raise ValidationError(_("Evidence must be a PDF, DOCX, XLSX, ODT or ODS document."))


def evidence_store(*, user, data: bytes, request=None) -> EvidenceDocument:
    if not data:
        raise ValidationError(_("The document is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("The document is larger than 10 MB."))
    extension, content_type = sniff_evidence(data)
    doc = EvidenceDocument(
        content_type=content_type,
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=user,
    )
    doc.full_clean()
    doc.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=doc,
        details={"type": extension, "size": len(data)},
        request=request,
    )
    return doc


LOCAL_LINK = re.compile(r"^/(?!/)[A-Za-z0-9_\-./?=&%#]*$")


def _check_link(url: str) -> str:
    url = url.strip()
    if url and not LOCAL_LINK.match(url):
        raise ValidationError(
            {"evidence_url": "Give a link to a record in this system, like /persons/…"}
        )
    return url


# --- Status and indicator values ---------------------------------------------------------


@dataclass(frozen=True)
class StatusInput:
    status: str
    as_of: date
    note: str = ""
    next_step: str = ""
    next_step_due: date | None = None
    evidence_url: str = ""
    step_position: int | None = None


@transaction.atomic
def status_update_record(
    *,
    user,
    activity: Activity,
    country: str,
    data: StatusInput,
    evidence_data: bytes | None = None,
    request=None,
) -> StatusUpdate:
    permissions.require(user, "plan", CHANGE, request=request)
    if activity.withdrawn:
        raise PlanError(f"activity {activity.number} was withdrawn by an amendment")
    if data.as_of > timezone.localdate():
        raise ValidationError({"as_of": "A status cannot be reported for a future date."})
    step = None
    if data.step_position is not None:
        step = Step.objects.filter(
            activity=activity, position=data.step_position, withdrawn=False
        ).first()
        if step is None:
            raise ValidationError({"step": "No such step."})
    evidence = (
        evidence_store(user=user, data=evidence_data, request=request) if evidence_data else None
    )
    update = StatusUpdate(
        activity=activity,
        step=step,
        country=country,
        status=data.status,
        as_of=data.as_of,
        note=data.note.strip(),
        next_step=data.next_step.strip(),
        next_step_due=data.next_step_due,
        evidence_url=_check_link(data.evidence_url),
        evidence=evidence,
        recorded_by=user,
    )
    update.full_clean()
    update.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=update,
        details={
            "activity": activity.number,
            "country": country,
            "status": data.status,
            "step": data.step_position,
        },
        request=request,
    )
    return update


@dataclass(frozen=True)
class IndicatorInput:
    country: str
    as_of: date
    value: Decimal
    note: str = ""
    evidence_url: str = ""


@transaction.atomic
def indicator_value_record(
    *,
    user,
    indicator: Indicator,
    data: IndicatorInput,
    evidence_data: bytes | None = None,
    request=None,
) -> IndicatorValue:
    """A value entered by hand. Computed indicators of this node's country are not entered:
    the system counts them."""
    permissions.require(user, "plan", CHANGE, request=request)
    if indicator.computed and data.country == settings.CTIP_NODE:
        raise PlanError(f"indicator {indicator.code} is computed from this node's data")
    if data.as_of > timezone.localdate():
        raise ValidationError({"as_of": "A value cannot be reported for a future date."})
    url = _check_link(data.evidence_url)
    if not url and not evidence_data:
        raise ValidationError({"evidence_url": "A value entered by hand needs evidence."})
    evidence = (
        evidence_store(user=user, data=evidence_data, request=request) if evidence_data else None
    )
    value = IndicatorValue(
        indicator=indicator,
        country=data.country,
        as_of=data.as_of,
        value=data.value,
        note=data.note.strip(),
        evidence_url=url,
        evidence=evidence,
        recorded_by=user,
    )
    value.full_clean()
    value.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=value,
        details={"indicator": indicator.code, "country": data.country},
        request=request,
    )
    return value


# --- Progress reports ------------------------------------------------------------------


def report_create(
    *, user, period_start: date, period_end: date, language: str, request=None
) -> ProgressReport:
    """Issue this node's progress report for a period, frozen as it stands now.

    The period is whole calendar months: any other is refused (``ValidationError`` naming
    ``period_start`` or ``period_end``) and audited as a blocked differencing attempt, kept
    although nothing is issued. The figures about people go through the disclosure
    control (``disclosure``). It is sent to the other node by :func:`report_send`, an
    explicit action."""
    permissions.require(user, "plan", AMEND, request=request)
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    try:
        disclosure.check_period(user=user, start=period_start, end=period_end, request=request)
    except release.PeriodRefused as refused:
        raise ValidationError({f"period_{refused.parameter}": refused.message}) from None
    return _report_issue(
        user=user,
        period_start=period_start,
        period_end=period_end,
        language=language,
        request=request,
    )


@transaction.atomic
def _report_issue(*, user, period_start, period_end, language, request) -> ProgressReport:
    from ctip.plan.selectors import report_content

    version = latest_version()
    if version is None:
        raise PlanError("the plan is not loaded yet")
    content = report_content(
        user=user, start=period_start, end=period_end, language=language, request=request
    )
    report = ProgressReport(
        period_start=period_start,
        period_end=period_end,
        country=settings.CTIP_NODE,
        language=language,
        version=version,
        content=content,
        created_by=user,
    )
    report.full_clean()
    report.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=report,
        details={"period": [str(period_start), str(period_end)], "language": language},
        request=request,
    )
    return report


@transaction.atomic
def report_send(*, user, report: ProgressReport, request=None) -> list[str]:
    """Queue an issued report of this node for the other node (through the exchange
    outbox, in this transaction). Sending again is harmless: the other node keeps the
    first copy. Returns the nodes it was queued for."""
    permissions.require(user, "plan", AMEND, request=request)
    if report.received_from or report.country != settings.CTIP_NODE:
        raise PlanError("a report received from the other node is not sent back")
    try:
        release.check_months(report.period_start, report.period_end)
    except release.PeriodRefused:
        raise PlanError(
            "this report's period is not whole calendar months (issued before the "
            "disclosure control): issue a new report to send"
        ) from None
    small = disclosure.small_figures(report.content, k=disclosure.threshold())
    if small:
        raise PlanError(
            f"this report shows small counts about people ({', '.join(small)}; issued before "
            "the disclosure control): issue a new report to send"
        )
    messages = sync.report_queue(actor=user, report=report, request=request)
    if not messages:
        raise PlanError("no other node is peered yet: nothing was sent")
    report.sent_at = timezone.now()
    report.save(update_fields=["sent_at"])
    sent_to = sorted(m.peer.node_id for m in messages)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=report,
        fields=["sent_at"],
        details={"sent_to": sent_to},
        request=request,
    )
    return sent_to
