"""Plan pages: dashboard, activities and their status, timeline, open questions,
indicators, versions (amend, endorse, compare) and progress reports."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.monitoring import release
from ctip.plan import disclosure, document, forms, selectors, services, timeline
from ctip.plan.apps import AMEND, CHANGE, VIEW
from ctip.plan.models import Area, EvidenceDocument, PlanAgency, Status


def _caps(user) -> dict:
    return {
        "can_change": permissions.can(user, "plan", CHANGE),
        "can_amend": permissions.can(user, "plan", AMEND),
    }


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _status_summary(rows) -> list[dict]:
    out = []
    for country in selectors.COUNTRIES:
        counts = dict.fromkeys(Status.values, 0)
        for row in rows:
            update = row.statuses.get(country)
            counts[update.status if update else Status.NOT_STARTED] += 1
        out.append(
            {
                "country": country,
                "counts": [(Status(s).label, s, n) for s, n in counts.items()],
            }
        )
    return out


@permission("plan", VIEW)
@require_GET
def index(request):
    """The plan dashboard: where every activity stands on each side."""
    user = request.user
    version = services.latest_version()
    rows = selectors.activity_rows(user=user) if version else []
    today = timezone.localdate()
    due = sorted(
        (
            (update.next_step_due, row.activity, update)
            for row in rows
            for update in row.statuses.values()
            if update and update.next_step and update.status != Status.DONE
        ),
        key=lambda item: (item[0] or date.max, item[1].number),
    )
    return render(
        request,
        "plan/index.html",
        {
            "version": version,
            "rows": rows,
            "summary": _status_summary(rows),
            "questions": selectors.open_questions(user=user).count() if version else 0,
            "next_steps": due[:8],
            "today": today,
            "notes": selectors.financial_notes(user=user),
            "reports": selectors.report_list(user=user)[:3],
            **_caps(user),
        },
    )


@permission("plan", VIEW)
@require_GET
def activity_detail(request, number: str):
    user = request.user
    activity = selectors.access_activity(user, number, request=request)
    return _activity_page(request, activity)


def _activity_page(request, activity, form=None, status=200):
    user = request.user
    steps = [step for step in activity.steps.all() if not step.withdrawn]
    step_status = selectors.step_statuses(activity)
    history = activity.updates.select_related("step", "recorded_by", "evidence")
    latest = selectors.latest_statuses()
    form = form or forms.StatusForm(
        steps=steps,
        initial={"country": settings.CTIP_NODE, "as_of": timezone.localdate()},
    )
    return render(
        request,
        "plan/activity_detail.html",
        {
            "activity": activity,
            "steps": [
                (step, [(c, step_status.get((step.position, c))) for c in selectors.COUNTRIES])
                for step in steps
            ],
            "statuses": [(c, latest.get((activity.pk, c))) for c in selectors.COUNTRIES],
            "history": history,
            "indicators": activity.indicators.filter(withdrawn=False).select_related("result"),
            "questions": activity.questions.filter(withdrawn=False),
            "form": form,
            **_caps(user),
        },
        status=status,
    )


@permission("plan", CHANGE)
@require_POST
def status_add(request, number: str):
    user = request.user
    activity = selectors.access_activity(user, number, request=request)
    form = forms.StatusForm(
        request.POST, request.FILES, steps=activity.steps.filter(withdrawn=False)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.status_update_record(
                user=user,
                activity=activity,
                country=data["country"],
                data=services.StatusInput(
                    status=data["status"],
                    as_of=data["as_of"],
                    note=data["note"],
                    next_step=data["next_step"],
                    next_step_due=data["next_step_due"],
                    evidence_url=data["evidence_url"],
                    step_position=data["step"],
                ),
                evidence_data=form.evidence_bytes(),
                request=request,
            )
        except (ValidationError, services.PlanError) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("Status recorded."))
            return redirect("plan:activity", number=activity.number)
    return _activity_page(request, activity, form=form, status=400)


@permission("plan", VIEW)
@require_GET
def timeline_view(request):
    user = request.user
    filters = selectors.Filters.from_query(request.GET)
    version = services.latest_version()
    rows = selectors.activity_rows(user=user, filters=filters) if version else []
    chart = timeline.build(
        rows,
        version.content.get("years", []) if version else [],
        filters.countries,
        lambda a: reverse("plan:activity", args=[a.number]),
    )
    return render(
        request,
        "plan/timeline.html",
        {
            "chart": chart,
            "rows": rows,
            "filters": filters,
            "areas": Area.objects.all(),
            "agencies": PlanAgency.objects.all(),
            "countries": [(c, timeline.COUNTRY_NAMES[c]) for c in selectors.COUNTRIES],
            "statuses": Status.choices,
            "version": version,
        },
    )


@permission("plan", VIEW)
@require_GET
def questions(request):
    user = request.user
    return render(
        request,
        "plan/questions.html",
        {
            "questions": selectors.open_questions(user=user),
            "resolved": selectors.OpenQuestion.objects.filter(status="resolved", withdrawn=False)
            .select_related("activity")
            .order_by("key"),
            **_caps(user),
        },
    )


@permission("plan", VIEW)
@require_GET
def indicator_list(request):
    """The indicators over a period of whole calendar months (the half-year by default),
    the indicators about people shown as the progress reports show them, for every user
    (SECURITY.md DP-9, #40). Any other period is a 400 naming the field, the form shown
    again without figures; a period off the month grid is audited by the selector."""
    user = request.user
    start, end = selectors.default_period()
    form = forms.PeriodForm(request.GET or None, initial={"start": start, "end": end})
    rows, refused = [], form.is_bound and not form.is_valid()
    if not refused:
        if form.is_bound:
            start = form.cleaned_data["start"] or start
            end = form.cleaned_data["end"] or end
        try:
            rows = selectors.indicator_page_rows(user=user, start=start, end=end, request=request)
        except release.PeriodRefused as exc:
            form.add_error(exc.parameter, exc.message)
            refused = True
    return render(
        request,
        "plan/indicators.html",
        {
            "rows": rows,
            "refused": refused,
            "start": start,
            "end": end,
            "k": disclosure.threshold(),
            "period_form": form,
            "node": settings.CTIP_NODE,
            "value_form": forms.IndicatorValueForm(initial={"as_of": timezone.localdate()}),
            **_caps(user),
        },
        status=400 if refused else 200,
    )


@permission("plan", CHANGE)
@require_POST
def indicator_value_add(request, code: str):
    user = request.user
    indicator = selectors.access_indicator(user, code, request=request)
    form = forms.IndicatorValueForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.indicator_value_record(
                user=user,
                indicator=indicator,
                data=services.IndicatorInput(
                    country=data["country"],
                    as_of=data["as_of"],
                    value=data["value"],
                    note=data["note"],
                    evidence_url=data["evidence_url"],
                ),
                evidence_data=form.evidence_bytes(),
                request=request,
            )
        except (ValidationError, services.PlanError) as exc:
            messages.error(request, f"{indicator.code}: {_error_text(exc)}")
        else:
            messages.success(request, _("Value recorded."))
    else:
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"{indicator.code}: {errors}")
    return redirect("plan:indicators")


@permission("plan", VIEW)
@require_GET
def version_list(request):
    user = request.user
    versions = list(selectors.version_list(user=user))
    return render(
        request,
        "plan/versions.html",
        {"versions": versions, "compare_form": forms.CompareForm(), **_caps(user)},
    )


def _amend_forms(data=None, prefix_used=None):
    questions = selectors.OpenQuestion.objects.filter(status="open", withdrawn=False)
    activities = selectors.Activity.objects.filter(withdrawn=False).select_related("area")
    made = {
        "resolve": forms.ResolveQuestionForm(
            data if prefix_used == "resolve" else None, questions=questions, prefix="resolve"
        ),
        "timeframe": forms.TimeframeForm(
            data if prefix_used == "timeframe" else None, activities=activities, prefix="timeframe"
        ),
        "add": forms.AddActivityForm(
            data if prefix_used == "add" else None,
            areas=Area.objects.all(),
            agencies=PlanAgency.objects.all(),
            prefix="add",
        ),
    }
    return made


@permission("plan", VIEW)
@require_GET
def version_detail(request, number: int):
    user = request.user
    version = selectors.access_version(user, number, request=request)
    return _version_page(request, version)


def _version_page(request, version, endorse_form=None, amend=None, status=200):
    user = request.user
    parties = {e.party for e in version.endorsements.all()}
    latest = services.latest_version()
    return render(
        request,
        "plan/version_detail.html",
        {
            "version": version,
            "is_latest": latest and latest.pk == version.pk,
            "missing_parties": [c for c in selectors.COUNTRIES if c not in parties],
            "endorse_form": endorse_form
            or forms.EndorsementForm(initial={"endorsed_on": timezone.localdate()}),
            "amend": amend or _amend_forms(),
            **_caps(user),
        },
        status=status,
    )


@permission("plan", AMEND)
@require_POST
def version_endorse(request, number: int):
    user = request.user
    version = selectors.access_version(user, number, request=request)
    form = forms.EndorsementForm(request.POST)
    if form.is_valid():
        try:
            services.endorsement_record(
                user=user, version=version, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            version.refresh_from_db()
            if version.is_agreed:
                messages.success(request, _("Both parties have endorsed: this version is agreed."))
            else:
                messages.success(request, _("Endorsement recorded."))
            return redirect("plan:version", number=version.number)
    return _version_page(request, version, endorse_form=form, status=400)


@permission("plan", AMEND)
@require_POST
def version_amend(request):
    """One amendment (resolve a question, change a timeframe, add an activity) = one new
    version, with who, when and why."""
    user = request.user
    version = services.latest_version()
    if version is None:
        raise permissions.NotFound()
    op = request.POST.get("op", "")
    made = _amend_forms(request.POST, prefix_used=op)
    form = made.get(op)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if op == "resolve":
                doc = document.amend_resolve_question(
                    version.content,
                    key=data["question"],
                    resolution={
                        "en": data["resolution_en"],
                        "km": data["resolution_km"],
                        "zh": data["resolution_zh"],
                    },
                    version=version.number + 1,
                )
            elif op == "timeframe":
                doc = document.amend_set_timeframe(
                    version.content,
                    number=data["activity"],
                    year=data["year"],
                    note={"en": data["note_en"]},
                    remove=data["remove"],
                )
            else:
                doc, _number = document.amend_add_activity(
                    version.content,
                    area=data["area"],
                    text={"en": data["text_en"], "km": data["text_km"], "zh": data["text_zh"]},
                    result={"en": data["result_en"]},
                    agency_keys=data["agencies"],
                )
            new = services.plan_amend(
                user=user, doc=doc, reason=data["reason"], meeting=data["meeting"], request=request
            )
        except (document.AmendmentError, document.PlanFileError, services.PlanError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Amendment recorded as version %(n)s.") % {"n": new.number})
            return redirect("plan:version", number=new.number)
    return _version_page(request, version, amend=made, status=400)


@permission("plan", VIEW)
@require_GET
def version_compare(request):
    user = request.user
    form = forms.CompareForm(request.GET or None)
    changes, a, b = [], None, None
    if form.is_valid():
        a = selectors.access_version(user, form.cleaned_data["a"], request=request)
        b = selectors.access_version(user, form.cleaned_data["b"], request=request)
        changes = document.compare(a.content, b.content)
    return render(
        request,
        "plan/compare.html",
        {"form": form, "a": a, "b": b, "changes": changes},
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _reports_page(request, form=None, status=200):
    user = request.user
    start, end = selectors.default_period()
    return render(
        request,
        "plan/reports.html",
        {
            "reports": selectors.report_list(user=user),
            "node": settings.CTIP_NODE,
            "form": form
            or forms.ReportForm(
                initial={"period_start": start, "period_end": end, "language": "km"}
            ),
            **_caps(user),
        },
        status=status,
    )


@permission("plan", VIEW)
@require_GET
def report_list(request):
    return _reports_page(request)


@permission("plan", AMEND)
@require_POST
def report_create(request):
    """Issue a report. A period that is not whole calendar months is a 400 naming the
    field (and audited by the service); the form is shown again with the error."""
    user = request.user
    form = forms.ReportForm(request.POST)
    if form.is_valid():
        try:
            report = services.report_create(user=user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, _error_text(exc))
        except services.PlanError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("Progress report issued."))
            return redirect("plan:report", pk=report.pk)
    return _reports_page(request, form=form, status=400)


@permission("plan", AMEND)
@require_POST
def report_send(request, pk):
    """Queue one of this node's reports for the other node, through the exchange."""
    user = request.user
    report = selectors.access_report(user, pk, request=request)
    try:
        sent_to = services.report_send(user=user, report=report, request=request)
    except services.PlanError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Report queued for the other node (%(nodes)s).") % {"nodes": ", ".join(sent_to)},
        )
    return redirect("plan:reports")


def report_labels(language: str) -> dict:
    """The report's headings in English and the second language."""
    texts = {
        "report": "Progress report on the Joint Plan of Action",
        "period": "Period",
        "country": "Reporting country",
        "version": "Plan version",
        "agreed": "agreed by both parties",
        "not_agreed": "not yet endorsed by both parties",
        "status": "Status of activities",
        "activity": "Activity",
        "indicators": "Indicators",
        "indicator": "Indicator",
        "questions": "Open questions",
        "next_steps": "Next steps",
        "due": "due",
        "computed": "computed from the system's data",
        "manual": "entered with evidence",
        "not_available": "not available",
        "draft_translation": "Draft translation, for official review.",
        "Cambodia": "Cambodia",
        "China": "China",
    }
    out = {}
    for key, text in texts.items():
        with translation.override("en"):
            en = _(text)
        with translation.override(language):
            second = _(text)
        # An untranslated heading is shown once, not twice.
        out[key] = {"en": en, "second": "" if second == en else second}
    return out


@permission("plan", VIEW)
@require_GET
def report_detail(request, pk):
    """The printable report (a page of its own, without the menus)."""
    report = selectors.access_report(request.user, pk, request=request)
    lang = report.language
    return render(
        request,
        "plan/report_print.html",
        {
            "report": report,
            "c": report.content,
            "labels": report_labels(lang),
            "second_lang": lang,
            "countries": [("KH", "Cambodia"), ("CN", "China")],
        },
    )


@permission("plan", VIEW)
@require_GET
def report_docx(request, pk):
    from ctip.plan.docx_report import render_docx

    report = selectors.access_report(request.user, pk, request=request)
    body = render_docx(report, report_labels(report.language))
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        obj=report,
        details={"format": "docx"},
        request=request,
    )
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    name = f"progress-report-{report.country}-{report.period_start}-{report.period_end}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission("plan", VIEW)
@require_GET
def evidence_download(request, pk):
    permissions.require(request.user, "plan", VIEW, request=request)
    try:
        doc = EvidenceDocument.objects.get(pk=pk)
    except (EvidenceDocument.DoesNotExist, ValidationError, ValueError):
        raise permissions.deny(request.user, "plan", VIEW, object_id=pk, request=request) from None
    response = HttpResponse(bytes(doc.data), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="evidence-{doc.pk}.{doc.extension}"'
    return response
