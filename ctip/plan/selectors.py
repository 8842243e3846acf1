"""Reads of the plan, always for an acting user. The whole plan is visible to every
signed-in user; ``permissions.require`` still guards each read so a user without the
capability gets the one "not found" answer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.monitoring import release
from ctip.plan import disclosure, indicators
from ctip.plan.apps import VIEW
from ctip.plan.models import (
    Activity,
    ActivityAgency,
    Area,
    Endorsement,
    FinancialNote,
    Indicator,
    IndicatorValue,
    OpenQuestion,
    PlanAgency,
    PlanVersion,
    ProgressReport,
    Status,
    StatusUpdate,
    in_language,
)

COUNTRIES = (Country.KH.value, Country.CN.value)


def lang_key(language: str) -> str:
    language = (language or "en").lower()
    return "km" if language.startswith("km") else "zh" if language.startswith("zh") else "en"


def _require(user, request=None):
    permissions.require(user, "plan", VIEW, request=request)


def version_list(*, user) -> QuerySet[PlanVersion]:
    _require(user)
    return PlanVersion.objects.select_related("created_by").prefetch_related(
        Prefetch("endorsements", queryset=Endorsement.objects.select_related("recorded_by"))
    )


def access_version(user, number, *, request=None) -> PlanVersion:
    _require(user, request)
    try:
        return version_list(user=user).get(number=int(number))
    except (PlanVersion.DoesNotExist, ValueError, TypeError):
        raise permissions.deny(user, "plan", VIEW, object_id=number, request=request) from None


def access_activity(user, number: str, *, request=None) -> Activity:
    _require(user, request)
    activity = (
        Activity.objects.select_related("area")
        .prefetch_related("steps", "timeframe", "results", "questions", agency_links())
        .filter(number=number)
        .first()
    )
    if activity is None:
        raise permissions.deny(user, "plan", VIEW, object_id=number, request=request)
    return activity


def access_indicator(user, code: str, *, request=None) -> Indicator:
    _require(user, request)
    indicator = (
        Indicator.objects.select_related("activity").filter(code=code, withdrawn=False).first()
    )
    if indicator is None:
        raise permissions.deny(user, "plan", VIEW, object_id=code, request=request)
    return indicator


def access_report(user, pk, *, request=None) -> ProgressReport:
    _require(user, request)
    try:
        return ProgressReport.objects.select_related("version", "created_by").get(pk=pk)
    except (ProgressReport.DoesNotExist, ValidationError, ValueError, TypeError):
        raise permissions.deny(user, "plan", VIEW, object_id=pk, request=request) from None


def agency_links() -> Prefetch:
    return Prefetch("agency_links", queryset=ActivityAgency.objects.select_related("agency"))


def latest_statuses(as_of: date | None = None) -> dict[tuple[int, str], StatusUpdate]:
    """The latest activity-level update per (activity, country) on or before ``as_of``."""
    qs = StatusUpdate.objects.filter(step__isnull=True).order_by(
        "activity_id", "country", "-as_of", "-recorded_at"
    )
    if as_of is not None:
        qs = qs.filter(as_of__lte=as_of)
    latest: dict[tuple[int, str], StatusUpdate] = {}
    for update in qs:
        latest.setdefault((update.activity_id, update.country), update)
    return latest


def step_statuses(activity: Activity) -> dict[tuple[int, str], StatusUpdate]:
    latest: dict[tuple[int, str], StatusUpdate] = {}
    for update in activity.updates.filter(step__isnull=False).select_related("step"):
        latest.setdefault((update.step.position, update.country), update)
    return latest


@dataclass
class Filters:
    area: str = ""
    agency: str = ""
    country: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, query) -> Filters:
        areas = set(Area.objects.values_list("code", flat=True))
        agencies = set(PlanAgency.objects.values_list("key", flat=True))
        area = query.get("area", "")
        agency = query.get("agency", "")
        country = query.get("country", "")
        status = query.get("status", "")
        return cls(
            area=area if area in areas else "",
            agency=agency if agency in agencies else "",
            country=country if country in COUNTRIES else "",
            status=status if status in Status.values else "",
        )

    @property
    def countries(self) -> tuple[str, ...]:
        return (self.country,) if self.country else COUNTRIES


@dataclass
class ActivityRow:
    activity: Activity
    statuses: dict[str, StatusUpdate | None]
    open_questions: int = 0
    agencies: list = field(default_factory=list)


def activity_rows(
    *, user, filters: Filters | None = None, as_of: date | None = None
) -> list[ActivityRow]:
    """The plan's current activities with their status per country, filtered."""
    _require(user)
    filters = filters or Filters()
    qs = (
        Activity.objects.filter(withdrawn=False)
        .select_related("area")
        .prefetch_related(
            "timeframe",
            agency_links(),
            Prefetch(
                "questions", queryset=OpenQuestion.objects.filter(status="open", withdrawn=False)
            ),
        )
    )
    if filters.area:
        qs = qs.filter(area__code=filters.area)
    if filters.agency:
        qs = qs.filter(agency_links__agency__key=filters.agency).distinct()
    latest = latest_statuses(as_of)
    rows = []
    for activity in qs:
        statuses = {c: latest.get((activity.pk, c)) for c in filters.countries}
        if filters.status:
            shown = [(u.status if u else Status.NOT_STARTED) for u in statuses.values()]
            if filters.status not in shown:
                continue
        rows.append(
            ActivityRow(
                activity=activity,
                statuses=statuses,
                open_questions=len(activity.questions.all()),
                agencies=list(activity.agency_links.all()),
            )
        )
    return rows


def open_questions(*, user) -> QuerySet[OpenQuestion]:
    _require(user)
    return OpenQuestion.objects.filter(
        status="open", withdrawn=False, activity__withdrawn=False
    ).select_related("activity")


def financial_notes(*, user) -> QuerySet[FinancialNote]:
    _require(user)
    return FinancialNote.objects.all()


@dataclass
class IndicatorCell:
    value: object = None
    source: str = ""  # computed | manual | ""
    as_of: date | None = None
    note: str = ""
    evidence: IndicatorValue | None = None
    withheld: bool = False  # shown as "<k" by the disclosure control (``value`` is "<k")


@dataclass
class IndicatorRow:
    indicator: Indicator
    cells: dict[str, IndicatorCell]


def _indicator_rows(*, user, start: date, end: date) -> list[IndicatorRow]:
    """Each indicator's value per country for a period: computed from this node's data where
    the system holds it, otherwise the latest value entered by hand on or before ``end``.

    True figures, for any period: only for the callers that put the protected indicators
    through the disclosure control before showing them (``indicator_page_rows``,
    ``report_content``)."""
    _require(user)
    manual: dict[tuple[int, str], IndicatorValue] = {}
    for value in (
        IndicatorValue.objects.filter(as_of__lte=end)
        .select_related("evidence")
        .order_by("indicator_id", "country", "-as_of", "-recorded_at")
    ):
        manual.setdefault((value.indicator_id, value.country), value)
    rows = []
    for indicator in Indicator.objects.filter(
        withdrawn=False, activity__withdrawn=False
    ).select_related("activity", "result"):
        cells = {}
        for country in COUNTRIES:
            cell = IndicatorCell()
            if indicator.computed:
                measure = indicators.compute(
                    indicator.computed, country=country, start=start, end=end
                )
                if measure.available:
                    cell = IndicatorCell(measure.value, "computed", end, measure.note)
            if not cell.source and (indicator.pk, country) in manual:
                entered = manual[(indicator.pk, country)]
                cell = IndicatorCell(entered.value, "manual", entered.as_of, entered.note, entered)
            cells[country] = cell
        rows.append(IndicatorRow(indicator, cells))
    return rows


def indicator_page_rows(*, user, start: date, end: date, request=None) -> list[IndicatorRow]:
    """The indicators page (SECURITY.md DP-9, #40): each indicator's value per country, the
    indicators about people (``disclosure.is_protected``) shown only as a progress report
    shows them, for every user alike.

    The period must be whole calendar months (at most three years):
    ``release.PeriodRefused`` naming ``start`` or ``end`` otherwise, an off-grid one
    audited as a blocked differencing attempt (object ``plan.indicator``, channel
    ``plan.page``). A protected figure goes through ``disclosure.protect`` and the release
    log the reports use (a withheld one has ``withheld`` set and the value "<k"); a value
    entered by hand for one is "<k" when small. The other indicators keep their figures."""
    _require(user, request)
    disclosure.check_period(
        user=user,
        start=start,
        end=end,
        request=request,
        code=disclosure.PAGE_CODE,
        channel=disclosure.PAGE_CHANNEL,
        object_type=disclosure.PAGE_OBJECT_TYPE,
    )
    figures = _Figures(
        user=user, start=start, end=end, request=request, channel=disclosure.PAGE_CHANNEL
    )
    rows = _indicator_rows(user=user, start=start, end=end)
    for row in rows:
        code = row.indicator.computed
        if not disclosure.is_protected(code):
            continue
        for country, cell in row.cells.items():
            if cell.value is None:
                continue
            value, hidden = figures.figure(code, country, cell)
            if hidden:
                value = disclosure.withheld(figures.k)
            available = value is not None
            row.cells[country] = replace(
                cell, value=value, withheld=hidden, source=cell.source if available else ""
            )
    return rows


def default_period(today: date | None = None) -> tuple[date, date]:
    """The half-year that contains ``today``: reports are made twice a year."""
    today = today or timezone.localdate()
    if today.month <= 6:
        return date(today.year, 1, 1), date(today.year, 6, 30)
    return date(today.year, 7, 1), date(today.year, 12, 31)


def _both(obj, field_name: str, second: str) -> dict:
    return {"en": getattr(obj, f"{field_name}_en"), "second": in_language(obj, field_name, second)}


def _label(value, second: str) -> dict:
    with translation.override("en"):
        en = str(value)
    with translation.override(second):
        other = str(value)
    return {"en": en, "second": "" if other == en else other}


def report_content(
    *, user, start: date, end: date, language: str, request=None, channel: str = ""
) -> dict:
    """Everything a progress report says, in English and ``language``, as plain data.

    It leaves the node (sent, printed, downloaded, in the review pack): the figures of
    indicators about people go through the disclosure control (``disclosure``), so the
    period must be whole calendar months (``release.PeriodRefused`` otherwise)."""
    _require(user)
    second = lang_key(language)
    version = PlanVersion.objects.order_by("-number").prefetch_related("endorsements").first()
    latest = latest_statuses(end)
    in_period = {}
    for update in StatusUpdate.objects.filter(as_of__gte=start, as_of__lte=end, step__isnull=True):
        in_period.setdefault((update.activity_id, update.country), []).append(update)
    areas = []
    next_steps = []
    for area in Area.objects.prefetch_related(
        Prefetch("activities", queryset=Activity.objects.filter(withdrawn=False))
    ):
        activities = []
        for activity in area.activities.all():
            status = {}
            for country in COUNTRIES:
                update = latest.get((activity.pk, country))
                value = update.status if update else Status.NOT_STARTED
                status[country] = {
                    "status": value,
                    "label": _label(Status(value).label, language),
                    "as_of": str(update.as_of) if update else "",
                    "note": update.note if update else "",
                    "next_step": update.next_step if update else "",
                    "next_step_due": str(update.next_step_due or "") if update else "",
                    "updates_in_period": len(in_period.get((activity.pk, country), [])),
                }
                if update and update.next_step and value != Status.DONE:
                    next_steps.append(
                        {
                            "activity": activity.number,
                            "country": country,
                            "next_step": update.next_step,
                            "due": str(update.next_step_due or ""),
                        }
                    )
            activities.append(
                {
                    "number": activity.number,
                    "text": _both(activity, "text", second),
                    "status": status,
                }
            )
        areas.append(
            {"code": area.code, "title": _both(area, "title", second), "activities": activities}
        )
    indicator_list = []
    figures = _Figures(
        user=user, start=start, end=end, request=request, channel=channel or disclosure.CHANNEL
    )
    for row in _indicator_rows(user=user, start=start, end=end):
        indicator_list.append(
            {
                "code": row.indicator.code,
                "activity": row.indicator.activity.number,
                "text": _both(row.indicator, "text", second),
                "unit": row.indicator.unit,
                "computed": bool(row.indicator.computed),
                "values": {
                    c: {
                        "value": figures.shown(row.indicator.computed, c, cell),
                        "source": cell.source,
                        "as_of": str(cell.as_of or ""),
                    }
                    for c, cell in row.cells.items()
                },
            }
        )
    questions = [
        {
            "key": q.key,
            "activity": q.activity.number,
            "draft": q.draft,
            "text": _both(q, "text", second),
        }
        for q in open_questions(user=user)
    ]
    return {
        "language": language,
        "country": settings.CTIP_NODE,
        "period": [str(start), str(end)],
        "version": version.number if version else None,
        "agreed": bool(version and version.is_agreed),
        "translation_draft": bool(
            version and version.content.get("translations", {}).get(second) == "draft"
        )
        if second != "en"
        else False,
        "title": _both_doc(version, "title", second) if version else {"en": "", "second": ""},
        "areas": areas,
        "indicators": indicator_list,
        "open_questions": questions,
        "next_steps": next_steps,
    }


class _Figures:
    """The figures of one report as they may leave the node (``disclosure``): each
    protected indicator's figure once per country, through the release log."""

    def __init__(self, *, user, start, end, request, channel):
        release.check_months(start, end)
        self.k = disclosure.threshold()
        self.args = {"start": start, "end": end, "k": self.k, "user": user}
        self.args |= {"request": request, "channel": channel}
        self.done: dict[tuple[str, str], disclosure.Figure] = {}

    def figure(self, code: str, country: str, cell: IndicatorCell) -> tuple[object, bool]:
        """(value, withheld) of a protected indicator's cell (a value, not None)."""
        if cell.source == "manual":
            return disclosure.entered(cell.value, k=self.k)
        key = (code, country)
        if key not in self.done:
            self.done[key] = disclosure.protect(code, country=country, **self.args)
        figure = self.done[key]
        return figure.value, figure.withheld

    def shown(self, code: str, country: str, cell: IndicatorCell) -> str | None:
        if not code or not disclosure.is_protected(code) or cell.value is None:
            return None if cell.value is None else str(cell.value)
        value, hidden = self.figure(code, country, cell)
        if hidden:
            return disclosure.withheld(self.k)
        return None if value is None else str(value)


def _both_doc(version: PlanVersion, key: str, second: str) -> dict:
    text = version.content.get(key) or {}
    return {"en": text.get("en", ""), "second": text.get(second) or text.get("en", "")}


def report_list(*, user) -> QuerySet[ProgressReport]:
    _require(user)
    return ProgressReport.objects.select_related("version", "created_by")


def export_document(*, user=None) -> dict | None:
    """The current version in the plan file's shape, with each activity's current status
    per country and the endorsements. ``user`` is None for the node operator's command."""
    from ctip.plan import document

    if user is not None:
        _require(user)
    version = PlanVersion.objects.order_by("-number").prefetch_related("endorsements").first()
    if version is None:
        return None
    out = document.to_file_form(version.content)
    latest = latest_statuses()
    ids = dict(Activity.objects.values_list("number", "pk"))
    for activity in out["activities"]:
        status = {}
        for country in COUNTRIES:
            update = latest.get((ids.get(activity["number"]), country))
            status[country] = {
                "status": update.status if update else Status.NOT_STARTED.value,
                "as_of": update.as_of.isoformat() if update else None,
                "next_step": update.next_step if update else "",
                "next_step_due": update.next_step_due.isoformat()
                if update and update.next_step_due
                else None,
            }
        activity["status"] = status
    out["version"] = {
        "number": version.number,
        "content_hash": version.content_hash,
        "agreed": version.is_agreed,
        "reason": version.reason,
    }
    out["endorsements"] = [
        {
            "party": e.party,
            "endorsed_by": e.endorsed_by,
            "endorsed_on": e.endorsed_on.isoformat(),
            "meeting": e.meeting,
        }
        for e in version.endorsements.all()
    ]
    out["node"] = settings.CTIP_NODE
    out["exported_at"] = timezone.now().isoformat(timespec="seconds")
    return out
