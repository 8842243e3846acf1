"""Directory pages.

``index`` is the public directory: no sign-in, published entries only, in the reader's
language, searchable, printable and downloadable (CSV, vCard). The other pages are for
signed-in users: the whole directory including unpublished entries, and for directory
editors and node administrators the forms that change it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission, public
from ctip.directory import exports, selectors, services
from ctip.directory.forms import (
    AssessmentForm,
    FocalPersonForm,
    FollowUpCloseForm,
    FollowUpForm,
    PublicSearchForm,
    ServiceForm,
    add_errors,
)
from ctip.directory.models import FollowUpStatus

PUBLIC_LIMIT = 500  # per kind; more than that asks the reader to narrow the search


def _public_results(filters: dict) -> dict:
    kind, service_type = filters["kind"], filters["type"]
    common = {"query": filters["q"], "country": filters["country"], "language": filters["lang"]}
    focal, found = [], []
    if kind == "focal" or (kind == "" and not service_type):
        focal = list(selectors.public_focal_persons(**common)[: PUBLIC_LIMIT + 1])
    if kind in ("", "service"):
        found = list(
            selectors.public_services(service_type=service_type, **common)[: PUBLIC_LIMIT + 1]
        )
    return {
        "focal_persons": focal[:PUBLIC_LIMIT],
        "services": found[:PUBLIC_LIMIT],
        "truncated": len(focal) > PUBLIC_LIMIT or len(found) > PUBLIC_LIMIT,
    }


@public
@require_GET
def index(request):
    form = PublicSearchForm(request.GET or None)
    filters = form.filters()
    context = {
        "form": form,
        "filters": filters,
        "query_string": request.GET.urlencode(),
        "can_manage": permissions.can(request.user, "directory", permissions.VIEW),
        "today": timezone.localdate(),
        **_public_results(filters),
    }
    template = "directory/_public_results.html" if request.htmx else "directory/index.html"
    return render(request, template, context)


def _download(body: str, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    name = f"ctip-directory-{settings.CTIP_NODE.lower()}-{timezone.localdate():%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@public
@require_GET
def export_csv(request):
    found = _public_results(PublicSearchForm(request.GET or None).filters())
    body = exports.directory_csv(found["focal_persons"], found["services"])
    return _download(body, "text/csv", "csv")


@public
@require_GET
def export_vcard(request):
    found = _public_results(PublicSearchForm(request.GET or None).filters())
    body = exports.directory_vcards(found["focal_persons"], found["services"])
    return _download(body, "text/vcard", "vcf")


@public
@require_GET
def focal_person_vcard(request, pk):
    person = selectors.public_focal_person(pk)
    response = HttpResponse(exports.focal_vcard(person), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="focal-person-{person.pk}.vcf"'
    return response


# --- signed in: services ------------------------------------------------------------------


def _page(request, qs, size=50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


@permission("directory", permissions.VIEW)
@require_GET
def service_list(request):
    form = PublicSearchForm(request.GET or None)
    f = form.filters()
    qs = selectors.service_list(
        user=request.user,
        query=f["q"],
        service_type=f["type"],
        country=f["country"],
        language=f["lang"],
    )
    return render(
        request,
        "directory/service_list.html",
        {
            "form": form,
            "page": _page(request, qs),
            "can_create": permissions.can(request.user, "directory", permissions.CREATE),
        },
    )


@permission("directory", permissions.VIEW)
@require_GET
def service_detail(request, pk):
    user = request.user
    service = selectors.access_service(user, pk, request=request)
    assessments = list(selectors.assessment_list(user=user, service=service))
    open_follow_ups = [
        f for a in assessments for f in a.follow_ups.all() if f.status == FollowUpStatus.OPEN
    ]
    return render(
        request,
        "directory/service_detail.html",
        {
            "service": service,
            "assessments": assessments,
            "history": selectors.area_history(assessments),
            "open_follow_ups": sorted(open_follow_ups, key=lambda f: f.due_on),
            "sees_assessments": permissions.can(user, "shelter_assessment", permissions.VIEW),
            "can_change": service.is_local
            and permissions.can(user, "directory", permissions.CHANGE),
            "can_assess": service.is_local
            and service.is_shelter
            and permissions.can(user, "shelter_assessment", permissions.CREATE),
        },
    )


@permission("directory", permissions.CREATE)
@require_http_methods(["GET", "POST"])
def service_create(request):
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(
                user=request.user,
                data=services.ServiceInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The service is registered."))
            return redirect("directory:service_detail", pk=service.pk)
    return render(
        request,
        "directory/entry_form.html",
        {"form": form, "title": _("Register a service")},
        status=400 if form.errors else 200,
    )


@permission("directory", permissions.CHANGE)
@require_http_methods(["GET", "POST"])
def service_edit(request, pk):
    service = selectors.access_service(request.user, pk, action=permissions.CHANGE, request=request)
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(
                user=request.user, service=service, changes=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The service is saved."))
            return redirect("directory:service_detail", pk=service.pk)
    return render(
        request,
        "directory/entry_form.html",
        {"form": form, "title": _("Change a service"), "entry": service},
        status=400 if form.errors else 200,
    )


# --- signed in: focal persons -------------------------------------------------------------


@permission("directory", permissions.VIEW)
@require_GET
def focal_person_list(request):
    form = PublicSearchForm(request.GET or None)
    f = form.filters()
    qs = selectors.focal_person_list(
        user=request.user, query=f["q"], country=f["country"], language=f["lang"]
    )
    return render(
        request,
        "directory/focal_person_list.html",
        {
            "form": form,
            "page": _page(request, qs),
            "can_create": permissions.can(request.user, "directory", permissions.CREATE),
        },
    )


@permission("directory", permissions.VIEW)
@require_GET
def focal_person_detail(request, pk):
    person = selectors.access_focal_person(request.user, pk, request=request)
    return render(
        request,
        "directory/focal_person_detail.html",
        {
            "person": person,
            "languages": exports.focal_languages(person),
            "can_change": person.is_local
            and permissions.can(request.user, "directory", permissions.CHANGE),
        },
    )


@permission("directory", permissions.CREATE)
@require_http_methods(["GET", "POST"])
def focal_person_create(request):
    form = FocalPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.focal_person_create(
                user=request.user,
                data=services.FocalPersonInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The focal person is registered."))
            return redirect("directory:focal_person_detail", pk=person.pk)
    return render(
        request,
        "directory/focal_person_form.html",
        {"form": form, "title": _("Register a focal person")},
        status=400 if form.errors else 200,
    )


@permission("directory", permissions.CHANGE)
@require_http_methods(["GET", "POST"])
def focal_person_edit(request, pk):
    person = selectors.access_focal_person(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    form = FocalPersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.focal_person_update(
                user=request.user, person=person, changes=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The focal person is saved."))
            return redirect("directory:focal_person_detail", pk=person.pk)
    return render(
        request,
        "directory/focal_person_form.html",
        {"form": form, "title": _("Change a focal person"), "entry": person},
        status=400 if form.errors else 200,
    )


# --- signed in: shelter assessments and follow-up -----------------------------------------


@permission("shelter_assessment", permissions.CREATE)
@require_http_methods(["GET", "POST"])
def assessment_create(request, pk):
    user = request.user
    service = selectors.access_service(user, pk, request=request)
    if not (service.is_shelter and service.is_local):
        raise permissions.deny(user, "shelter_assessment", "create", pk, request)
    checklist = selectors.current_checklist(service.country)
    form = AssessmentForm(
        request.POST or None,
        checklist=checklist,
        initial={"assessed_on": timezone.localdate(), "assessing_agency": user.agency_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment = services.assessment_record(
                user=user,
                service=service,
                checklist=checklist,
                assessed_on=data["assessed_on"],
                assessing_agency=data["assessing_agency"],
                team=data["team"],
                summary=data["summary"],
                next_assessment_due=data["next_assessment_due"],
                scores=form.score_inputs(),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The assessment is recorded."))
            return redirect("directory:assessment_detail", pk=assessment.pk)
    return render(
        request,
        "directory/assessment_form.html",
        {"form": form, "service": service, "checklist": checklist},
        status=400 if form.errors else 200,
    )


def _assessment_context(request, assessment, follow_up_form=None):
    can_change = assessment.service.is_local and permissions.can(
        request.user, "shelter_assessment", permissions.CHANGE
    )
    return {
        "assessment": assessment,
        "scores": assessment.scores.select_related("standard"),
        "follow_ups": assessment.follow_ups.select_related("standard").order_by("due_on"),
        "can_change": can_change,
        "follow_up_form": follow_up_form or FollowUpForm(checklist=assessment.checklist),
        "close_form": FollowUpCloseForm(initial={"completed_on": timezone.localdate()}),
    }


@permission("shelter_assessment", permissions.VIEW)
@require_GET
def assessment_detail(request, pk):
    assessment = selectors.access_assessment(request.user, pk, request=request)
    return render(
        request, "directory/assessment_detail.html", _assessment_context(request, assessment)
    )


@permission("shelter_assessment", permissions.CHANGE)
@require_POST
def follow_up_create(request, pk):
    assessment = selectors.access_assessment(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    form = FollowUpForm(request.POST, checklist=assessment.checklist)
    if form.is_valid():
        try:
            services.follow_up_create(
                user=request.user, assessment=assessment, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The follow-up action is added."))
            return redirect("directory:assessment_detail", pk=assessment.pk)
    return render(
        request,
        "directory/assessment_detail.html",
        _assessment_context(request, assessment, form),
        status=400,
    )


@permission("shelter_assessment", permissions.CHANGE)
@require_POST
def follow_up_close(request, pk):
    follow_up = selectors.access_follow_up(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    form = FollowUpCloseForm(request.POST)
    if form.is_valid():
        try:
            services.follow_up_close(
                user=request.user, follow_up=follow_up, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_errors(form, exc)
    if form.errors:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        messages.success(request, _("The follow-up action is closed."))
    return redirect("directory:assessment_detail", pk=follow_up.assessment_id)


@permission("shelter_assessment", permissions.VIEW)
@require_GET
def follow_up_list(request):
    overdue = request.GET.get("overdue") == "1"
    qs = selectors.follow_up_list(
        user=request.user, status="" if overdue else FollowUpStatus.OPEN, overdue=overdue
    )
    return render(
        request,
        "directory/follow_up_list.html",
        {"page": _page(request, qs), "overdue": overdue},
    )
