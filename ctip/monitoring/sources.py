"""Sources of rows over the cases app's records, for the indicators (see indicators.py).

Each row is plain codes: month, sex, age band, nationality, province, forms of exploitation
and so on; never a name, a reference or a free text. The cases models are looked up with
``django.apps`` at call time (as the plan and training apps do), so a node without them
answers "not available" instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.apps import apps
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ctip.monitoring.indicators import AGE_BANDS, UNKNOWN, Source, age_band, register_source

IDENTIFIED = ("victim", "presumed_victim")
SEXES = ("female", "male", "other", "unknown")


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return low, high


def _month(value) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


def age_at(day: dt.date, birth_year, birth_month, age_estimate, recorded_at) -> int | None:
    """Age on ``day`` from a (partial) birth date, else from the estimate made when the
    person was recorded."""
    if birth_year:
        age = day.year - birth_year
        if birth_month and birth_month > day.month:
            age -= 1
        return age
    if age_estimate is not None:
        recorded = timezone.localtime(recorded_at).date() if recorded_at else day
        return age_estimate + max(0, day.year - recorded.year)
    return None


# --- labels --------------------------------------------------------------------------------


def sex_label(code: str) -> str:
    Sex = _model("cases.Person")
    if Sex is not None:
        for value, label in Sex._meta.get_field("sex").choices:
            if value == code:
                return str(label)
    return _("Unknown") if code == UNKNOWN else code


def nationality_label(code: str) -> str:
    names = {"KH": _("Cambodia"), "CN": _("China"), "VN": _("Viet Nam"), "TH": _("Thailand")}
    return str(names.get(code, _("Unknown") if code == UNKNOWN else code))


def province_label(code: str) -> str:
    if code == UNKNOWN:
        return _("Unknown")
    try:
        from ctip.cases.places import place
    except ImportError:
        return code
    found = place(code)
    return found.name if found else code


def exploitation_label(code: str) -> str:
    if code == UNKNOWN:
        return _("Not recorded")
    try:
        from ctip.cases.formdefs import current_definition
        from ctip.cases.idform.definition import text_in

        for choice in current_definition().choice_lists.get("exploitation_types", ()):
            if choice.value == code:
                return text_in(choice.label, get_language())
    except Exception:  # noqa: BLE001, S110 - a label only: fall back to the code
        pass
    return code


def age_label(code: str) -> str:
    return _("Unknown") if code == UNKNOWN else code


def stage_label(code: str) -> str:
    Case = _model("cases.Case")
    if Case is not None:
        for value, label in Case._meta.get_field("stage").choices:
            if value == code:
                return str(label)
    return code


def choice_label(model: str, field: str):
    def label(code: str) -> str:
        m = _model(model)
        if m is not None:
            for value, text in m._meta.get_field(field).choices or ():
                if value == code:
                    return str(text)
        return _("Unknown") if code == UNKNOWN else code

    return label


def yes_no(code: str) -> str:
    return _("Yes") if code == "yes" else _("No") if code == "no" else code


# --- sources ------------------------------------------------------------------------------


def victims_identified(start: dt.date, end: dt.date):
    """Submitted screenings with the result "victim" or "presumed victim", dated by the
    interview (or, without one, the submission) within the period."""
    Screening = _model("cases.Screening")
    if Screening is None:
        return []
    from ctip.monitoring.services import facts_refresh

    facts_refresh()
    low, high = _bounds(start, end)
    from django.db.models import Q

    qs = Screening.objects.filter(status="submitted", result__in=IDENTIFIED).filter(
        Q(interview_date__gte=start, interview_date__lte=end)
        | Q(interview_date__isnull=True, submitted_at__gte=low, submitted_at__lt=high)
    )
    rows = []
    for (
        interview_date,
        submitted_at,
        child,
        result,
        sex,
        birth_year,
        birth_month,
        age_estimate,
        created_at,
        nationality,
        province,
        types,
        country,
    ) in qs.values_list(
        "interview_date",
        "submitted_at",
        "child",
        "result",
        "person__sex",
        "person__birth_year",
        "person__birth_month",
        "person__age_estimate",
        "person__created_at",
        "person__nationality",
        "person__origin_province",
        "monitoring_fact__exploitation_types",
        "monitoring_fact__exploitation_country",
    ).iterator(chunk_size=5000):
        day = interview_date or timezone.localtime(submitted_at).date()
        age = age_at(day, birth_year, birth_month, age_estimate, created_at)
        band = age_band(age)
        if band == UNKNOWN and child:
            band = "child"  # under 18 by the form's "appears under 18", age not known
        rows.append(
            {
                "month": _month(day),
                "year": str(day.year),
                "result": result,
                "sex": sex or UNKNOWN,
                "age": band,
                "nationality": nationality or UNKNOWN,
                "province": province or UNKNOWN,
                "exploitation": [t for t in (types or "").split(",") if t],
                "exploitation_country": country or UNKNOWN,
            }
        )
    return rows


def referrals(start: dt.date, end: dt.date):
    Referral = _model("cases.Referral")
    if Referral is None:
        return []
    low, high = _bounds(start, end)
    qs = Referral.objects.filter(referred_at__gte=low, referred_at__lt=high)
    return [
        {"month": _month(at), "need": need, "status": status, "cross_border": "yes" if cb else "no"}
        for at, need, status, cb in qs.values_list(
            "referred_at", "need", "status", "cross_border"
        ).iterator(chunk_size=5000)
    ]


def repatriations(start: dt.date, end: dt.date):
    """Cross-border cases handed over to the home country in the period (the SOP stage
    "handed over" entered)."""
    CaseEvent = _model("cases.CaseEvent")
    if CaseEvent is None:
        return []
    low, high = _bounds(start, end)
    qs = CaseEvent.objects.filter(kind="stage", details__to="handed_over", at__gte=low, at__lt=high)
    return [
        {"month": _month(at), "sex": sex or UNKNOWN, "nationality": nat or UNKNOWN}
        for at, sex, nat in qs.values_list(
            "at", "case__person__sex", "case__person__nationality"
        ).iterator(chunk_size=5000)
    ]


def stage_stays(start: dt.date, end: dt.date):
    """One row per stay in an SOP stage that ended in the period: the stage, the days spent
    in it, the case's track."""
    CaseEvent = _model("cases.CaseEvent")
    if CaseEvent is None:
        return []
    low, high = _bounds(start, end)
    cases_ = (
        CaseEvent.objects.filter(kind="stage", at__gte=low, at__lt=high)
        .values("case_id")
        .distinct()
    )
    events = (
        CaseEvent.objects.filter(case_id__in=cases_, kind__in=("opened", "stage"), at__lt=high)
        .order_by("case_id", "seq")
        .values_list("case_id", "at", "kind", "details", "case__track")
    )
    rows = []
    by_case: dict = defaultdict(list)
    for case_id, at, kind, details, track in events.iterator(chunk_size=5000):
        by_case[case_id].append((at, kind, details or {}, track))
    for items in by_case.values():
        for (at, kind, details, track), (next_at, _k, _next_details, _t) in zip(
            items, items[1:], strict=False
        ):
            stage = details.get("stage") if kind == "opened" else details.get("to")
            if not stage or next_at < low:
                continue
            days = (next_at - at).total_seconds() / 86400
            rows.append({"month": _month(next_at), "stage": stage, "days": days, "track": track})
    return rows


def cases_opened(start: dt.date, end: dt.date):
    Case = _model("cases.Case")
    if Case is None:
        return []
    low, high = _bounds(start, end)
    qs = Case.objects.filter(opened_at__gte=low, opened_at__lt=high)
    return [
        {"month": _month(at), "track": track, "sex": sex or UNKNOWN}
        for at, track, sex in qs.values_list("opened_at", "track", "person__sex").iterator(
            chunk_size=5000
        )
    ]


def stages() -> tuple[str, ...]:
    Case = _model("cases.Case")
    if Case is None:
        return ()
    return tuple(v for v, _ in Case._meta.get_field("stage").choices if v != "closed")


def register_all() -> None:
    from ctip.monitoring.models import VICTIM_CATEGORIES

    register_source(
        Source(
            "cases.victims_identified",
            victims_identified,
            dimensions={
                "sex": sex_label,
                "age": age_label,
                "nationality": nationality_label,
                "province": province_label,
                "exploitation": exploitation_label,
                "exploitation_country": nationality_label,
                "result": choice_label("cases.Screening", "result"),
            },
            multi=frozenset({"exploitation"}),
            orders={
                "sex": SEXES,
                "age": (*AGE_BANDS, "child", UNKNOWN),
                "exploitation": VICTIM_CATEGORIES,
            },
        )
    )
    register_source(
        Source(
            "cases.referrals",
            referrals,
            dimensions={
                "status": choice_label("cases.Referral", "status"),
                "cross_border": yes_no,
            },
        )
    )
    register_source(
        Source(
            "cases.repatriations",
            repatriations,
            dimensions={"sex": sex_label, "nationality": nationality_label},
            orders={"sex": SEXES},
        )
    )
    register_source(
        Source(
            "cases.stage_stays",
            stage_stays,
            dimensions={"stage": stage_label, "track": choice_label("cases.Case", "track")},
            orders={"stage": stages()},
        )
    )
    register_source(
        Source(
            "cases.cases_opened",
            cases_opened,
            dimensions={"track": choice_label("cases.Case", "track"), "sex": sex_label},
            orders={"sex": SEXES},
        )
    )
