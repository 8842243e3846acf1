"""Monitoring pages: the indicators dashboard (charts with their tables), downloads through
the disclosure control, migration statistics side by side with the other node's (entered,
imported, computed, sent), received progress reports, the annual review pack (printable and
DOCX) and the de-identified HTCDS export. Thin views: parse, check, call, render."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.monitoring import catalogue, forms, htcds, pack, release, selectors, services
from ctip.monitoring import indicators as m
from ctip.monitoring.importing import ImportError_, statistics_import
from ctip.monitoring.models import NoteKind, StatisticsSource

RESOURCE = "monitoring"
VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE


def _period(request):
    """The dashboard's period, widened to whole calendar months (the grid on which its
    downloads leave the node)."""
    form = forms.PeriodForm(request.GET or None)
    start, end = selectors.default_period()
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    start, end = release.whole_months(start, end)
    return start, end, form


def _download_period(request, code: str) -> tuple[dt.date, dt.date]:
    """The period of a download as asked (not widened: a period off the grid is refused,
    ``release.check_period``); the table's default period when a date is not given."""
    period = dict(zip(("start", "end"), release.default_period(code), strict=True))
    for name in ("start", "end"):
        raw = request.GET.get(name)
        if raw:
            try:
                period[name] = dt.date.fromisoformat(raw)
            except ValueError:
                raise release.PeriodRefused(
                    name, _("Give the date as YYYY-MM-DD."), off_grid=False
                ) from None
    return period["start"], period["end"]


def _refused(refused: release.PeriodRefused) -> HttpResponse:
    return HttpResponse(
        f"{refused.parameter}: {refused.message}\n",
        status=400,
        content_type="text/plain; charset=utf-8",
    )


@permission(RESOURCE, VIEW)
@require_GET
def index(request):
    start, end, form = _period(request)
    refresh = request.GET.get("refresh") == "1"
    panels = selectors.dashboard(
        user=request.user, start=start, end=end, refresh=refresh, request=request
    )
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "panels": panels,
            "form": form,
            "start": start,
            "end": end,
            "cache_minutes": m.cache_seconds() // 60,
            "can_change": permissions.can(request.user, RESOURCE, CHANGE),
            "here": "dashboard",
        },
    )


@permission(RESOURCE, VIEW)
@require_GET
def panel_csv(request, code: str, by: str):
    """One panel's table as CSV, through the disclosure control (it leaves the node)."""
    by = "" if by == "all" else by
    if (code, by) not in catalogue.PANELS:
        raise permissions.NotFound()
    try:
        start, end = _download_period(request, code)
    except release.PeriodRefused as refused:
        return _refused(refused)
    try:
        pub = release.published_for(
            code,
            by,
            start=start,
            end=end,
            k=services.threshold(),
            user=request.user,
            channel="download",
            request=request,
        )
    except release.PeriodRefused as refused:
        return _refused(refused)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([selectors.panel_title(code, by), f"{start} – {end}"])
    writer.writerows(selectors.published_rows(pub))
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type="monitoring.indicator",
        object_id=code,
        details={"by": by, "start": str(start), "end": str(end), "threshold": services.threshold()},
        request=request,
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{code.split('.')[-1]}-{by or 'all'}-{start:%Y%m}-{end:%Y%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- migration statistics ------------------------------------------------------------------


def _statistics_page(request, *, form=None, import_form=None, problems=None, status=200):
    return render(
        request,
        "monitoring/statistics.html",
        {
            "months": selectors.side_by_side(user=request.user, request=request),
            "form": form or forms.StatisticsForm(),
            "import_form": import_form or forms.ImportForm(),
            "problems": problems or [],
            "sex_columns": selectors.sex_columns(),
            "can_change": permissions.can(request.user, RESOURCE, CHANGE),
            "here": "statistics",
            "threshold": services.threshold(),
        },
        status=status,
    )


@permission(RESOURCE, VIEW)
@require_GET
def statistics(request):
    return _statistics_page(request)


@permission(RESOURCE, CHANGE)
@require_POST
def statistics_record(request):
    form = forms.StatisticsForm(request.POST)
    if not form.is_valid():
        return _statistics_page(request, form=form, status=400)
    data = form.cleaned_data
    if data["from_records"]:
        computed = services.computed_input(data["month"])
        entry = services.StatisticsInput(
            month=data["month"],
            border_crossings=data["border_crossings"],
            deportations=data["deportations"],
            returns=computed.returns if data["returns"] is None else data["returns"],
            victims=computed.victims,
        )
    else:
        entry = services.StatisticsInput(
            month=data["month"],
            border_crossings=data["border_crossings"],
            deportations=data["deportations"],
            returns=data["returns"],
        )
    try:
        services.statistics_record(
            user=request.user, data=entry, source=StatisticsSource.ENTERED, request=request
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _statistics_page(request, form=form, status=400)
    messages.success(
        request, _("The figures for %(month)s were recorded.") % {"month": f"{data['month']:%Y-%m}"}
    )
    return redirect("monitoring:statistics")


@permission(RESOURCE, CHANGE)
@require_POST
def statistics_import_view(request):
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _statistics_page(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > 1_000_000:
        return _statistics_page(
            request, import_form=form, problems=[_("The file is larger than 1 MB.")], status=400
        )
    try:
        rows = statistics_import(
            user=request.user,
            data=upload.read(),
            dry_run=form.cleaned_data["dry_run"],
            request=request,
        )
    except ImportError_ as exc:
        return _statistics_page(request, import_form=form, problems=exc.problems, status=400)
    if form.cleaned_data["dry_run"]:
        messages.info(
            request, _("%(n)s month(s) checked; nothing was imported.") % {"n": len(rows)}
        )
    else:
        messages.success(request, _("%(n)s month(s) imported.") % {"n": len(rows)})
    return redirect("monitoring:statistics")


@permission(RESOURCE, CHANGE)
@require_POST
def statistics_send(request, pk):
    row = selectors.access_statistics(request.user, pk, request=request)
    try:
        services.statistics_send(user=request.user, row=row, request=request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("monitoring:statistics")
    messages.success(request, _("Queued for the other node, after disclosure control."))
    return redirect("monitoring:statistics")


# --- progress reports ------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def reports(request):
    return render(
        request,
        "monitoring/reports.html",
        {
            "received": selectors.received_reports(user=request.user, request=request),
            "sent": selectors.sent_reports(user=request.user, request=request),
            "here": "reports",
        },
    )


# --- annual review ---------------------------------------------------------------------------


def _year_and_language(request):
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    language = request.GET.get("lang") or (
        "zh-hans" if request.user.agency and request.user.agency.country == "CN" else "km"
    )
    if language not in ("km", "zh-hans"):
        language = "km"
    return year, language


@permission(RESOURCE, VIEW)
@require_GET
def review(request):
    year, language = _year_and_language(request)
    return render(
        request,
        "monitoring/review.html",
        {
            "year": year,
            "language": language,
            "notes": selectors.review_notes(user=request.user, year=year, request=request),
            "form": forms.NoteForm(
                initial={"country": request.user.agency.country if request.user.agency else "KH"}
            ),
            "can_change": permissions.can(request.user, RESOURCE, CHANGE),
            "here": "review",
        },
    )


@permission(RESOURCE, CHANGE)
@require_POST
def note_add(request):
    year, _language = _year_and_language(request)
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(user=request.user, year=year, request=request, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Recorded."))
    else:
        messages.error(request, _("Fill in the side, the kind and the English text."))
    return redirect(f"{_reverse('monitoring:review')}?year={year}")


def _reverse(name):
    from django.urls import reverse

    return reverse(name)


@permission(RESOURCE, VIEW)
@require_GET
def review_pack(request):
    year, language = _year_and_language(request)
    c = pack.content(user=request.user, year=year, language=language, request=request)
    for panel in c["panels"]:
        panel["chart"] = pack.panel_chart(panel)
    return render(
        request,
        "monitoring/pack.html",
        {
            "c": c,
            "labels": pack.labels(language),
            "second_lang": language,
            "kinds": NoteKind.values,
        },
    )


@permission(RESOURCE, VIEW)
@require_GET
def review_docx(request):
    year, language = _year_and_language(request)
    c = pack.content(user=request.user, year=year, language=language, request=request)
    data = pack.render_docx(c, pack.labels(language))
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type="monitoring.review_pack",
        object_id=str(year),
        details={"language": language},
        request=request,
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="annual-review-{year}-{language}.docx"'
    return response


# --- de-identified export ------------------------------------------------------------------


@permission(RESOURCE, CHANGE)
@require_GET
def htcds_export(request):
    text, report = htcds.export_audited(actor=request.user, via="web", request=request)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    stamp = dt.date.today().strftime("%Y%m%d")  # noqa: DTZ011 - a file name only
    response["Content-Disposition"] = f'attachment; filename="htcds-{stamp}.csv"'
    response["X-CTIP-Export-Report"] = " | ".join(report.lines())
    return response


__all__ = ["index", "translation"]
