"""Law-enforcement pages: the taskforce and the SOP, law-enforcement cases (suspects,
victims, operations, testimony), case-information requests and answers, investigation
meetings, and the indicators. Thin views: parse, check access, call a service, render.
Only police focal officers reach them (everyone else gets "not found")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.models import User
from ctip.accounts.permissions import permission
from ctip.audit.services import audit_view
from ctip.directory.models import FocalPerson
from ctip.enforcement import forms, indicators, selectors, services
from ctip.enforcement.models import (
    INDICATORS,
    RESOURCE,
    Direction,
    InfoRequest,
    LeCase,
    LeCaseStatus,
    MeetingStatus,
    Operation,
    RequestStatus,
    SopStatus,
    Suspect,
    Testimony,
)

VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE
FORM = "enforcement/form.html"


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errs in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _form_page(request, form, title: str, cancel: str, **extra):
    return render(
        request,
        FORM,
        {"form": form, "title": title, "cancel": cancel, **extra},
        status=400 if form.errors else 200,
    )


def _flash(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- Overview -----------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def index(request):
    user = request.user
    return render(
        request,
        "enforcement/index.html",
        {
            "cases": selectors.le_case_list(user=user).exclude(status=LeCaseStatus.CLOSED)[:10],
            "to_answer": selectors.request_list(
                user=user, direction=Direction.INCOMING, status=RequestStatus.RECEIVED
            ).order_by("deadline")[:10],
            "overdue": selectors.request_list(user=user, overdue=True).count(),
            "upcoming": selectors.meeting_list(user=user, status=MeetingStatus.SCHEDULED).order_by(
                "starts_on"
            )[:5],
            "summary": indicators.summary(),
        },
    )


# --- Taskforce and SOP --------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def taskforce(request):
    user = request.user
    members = list(selectors.member_list(user=user))
    return render(
        request,
        "enforcement/taskforce.html",
        {
            "own": [m for m in members if m.is_local],
            "other": [m for m in members if not m.is_local],
            "sops": selectors.sop_list(user=user),
            "can_change": selectors.can_change(user),
        },
    )


def _member_form(request, data=None, initial=None):
    here = settings.CTIP_NODE
    return forms.MemberForm(
        data,
        initial=initial,
        focal_persons=FocalPerson.objects.filter(country=here).order_by("name_en"),
        users=User.objects.filter(
            is_active=True,
            agency__country=here,
            role_assignments__role="police_focal",
        ).order_by("username"),
    )


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def member_add(request):
    form = _member_form(request, request.POST or None, {"since": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.member_save(
                user=request.user,
                data=services.MemberInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Taskforce member saved."))
            return redirect("enforcement:taskforce")
    return _form_page(request, form, _("Add a taskforce member"), "enforcement:taskforce")


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def member_edit(request, pk):
    member = selectors.access_member(request.user, pk, request=request)
    initial = {
        "focal_person": member.focal_person,
        "taskforce_role": member.taskforce_role,
        "since": member.since,
        "user": member.user,
        "active": member.active,
    }
    form = _member_form(request, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_save(
                user=request.user,
                member=member,
                data=services.MemberInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Taskforce member saved."))
            return redirect("enforcement:taskforce")
    return _form_page(request, form, _("Change a taskforce member"), "enforcement:taskforce")


@permission(RESOURCE, VIEW)
@require_GET
def sop_detail(request, pk):
    sop = selectors.access_sop(request.user, pk, request=request)
    meetings = selectors.meeting_list(user=request.user, status=MeetingStatus.HELD)
    return render(
        request,
        "enforcement/sop_detail.html",
        {
            "sop": sop,
            "can_change": selectors.can_change(request.user) and sop.is_local,
            "finalise_form": forms.FinaliseForm(meetings=meetings),
        },
    )


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def sop_edit(request, pk=None):
    sop = selectors.access_sop(request.user, pk, request=request) if pk else None
    initial = {name: getattr(sop, name) for name in services.SOP_FIELDS} if sop else None
    form = forms.SopForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sop = services.sop_save(
                user=request.user,
                sop=sop,
                data=services.SopInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("SOP version saved."))
            return redirect("enforcement:sop", sop.pk)
    return _form_page(
        request, form, _("SOP for law-enforcement cooperation"), "enforcement:taskforce"
    )


@permission(RESOURCE, CHANGE)
@require_POST
def sop_exchange(request, pk):
    sop = selectors.access_sop(request.user, pk, request=request)
    try:
        services.sop_exchange(user=request.user, sop=sop, request=request)
        messages.success(request, _("The SOP version was sent to the other country."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("enforcement:sop", sop.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def sop_finalise(request, pk):
    sop = selectors.access_sop(request.user, pk, request=request)
    meetings = selectors.meeting_list(user=request.user, status=MeetingStatus.HELD)
    form = forms.FinaliseForm(request.POST, meetings=meetings)
    if not form.is_valid():
        messages.error(request, _("Choose a joint taskforce meeting that was held."))
        return redirect("enforcement:sop", sop.pk)
    try:
        services.sop_finalise(
            user=request.user, sop=sop, meeting=form.cleaned_data["meeting"], request=request
        )
        messages.success(request, _("The SOP version is finalised."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("enforcement:sop", sop.pk)


# --- Law-enforcement cases ----------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def case_list(request):
    status = request.GET.get("status", "")
    status = status if status in LeCaseStatus.values else ""
    return render(
        request,
        "enforcement/case_list.html",
        {
            "cases": selectors.le_case_list(user=request.user, status=status),
            "status": status,
            "statuses": LeCaseStatus.choices,
        },
    )


@permission(RESOURCE, CREATE)
@require_http_methods(["GET", "POST"])
def case_create(request):
    form = forms.LeCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            le_case = services.le_case_open(
                user=request.user,
                data=services.LeCaseInput(
                    offences=tuple(form.cleaned_data["offences"]),
                    summary=form.cleaned_data["summary"],
                    locations=form.cleaned_data["locations"],
                    status=form.cleaned_data["status"],
                ),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("enforcement:case", le_case.pk)
    return _form_page(request, form, _("Open a law-enforcement case"), "enforcement:cases")


@permission(RESOURCE, VIEW)
@require_GET
def case_detail(request, pk):
    user = request.user
    le_case = selectors.access_le_case(user, pk, request=request)
    suspects = list(le_case.suspects.select_related("data_key"))
    operations = list(le_case.operations.select_related("data_key"))
    testimonies = list(selectors.testimonies_of(le_case))
    audit_view(actor=user, objects=[le_case], fields=LeCase.PII_FIELDS, request=request)
    audit_view(actor=user, objects=suspects, fields=Suspect.PII_FIELDS, request=request)
    audit_view(actor=user, objects=operations, fields=Operation.PII_FIELDS, request=request)
    audit_view(actor=user, objects=testimonies, fields=Testimony.PII_FIELDS, request=request)
    return render(
        request,
        "enforcement/case_detail.html",
        {
            "le_case": le_case,
            "suspects": suspects,
            "victims": selectors.victims_of(user=user, le_case=le_case),
            "operations": operations,
            "requests": le_case.requests.select_related("counterpart__focal_person"),
            "meetings": le_case.meetings.all(),
            "testimonies": testimonies,
            "today": timezone.localdate(),
        },
    )


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    le_case = selectors.access_le_case(request.user, pk, action=CHANGE, request=request)
    initial = {
        "offences": le_case.offences,
        "status": le_case.status,
        "summary": le_case.summary,
        "locations": le_case.locations,
    }
    form = forms.LeCaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.le_case_update(
                user=request.user,
                le_case=le_case,
                data=services.LeCaseInput(
                    offences=tuple(form.cleaned_data["offences"]),
                    summary=form.cleaned_data["summary"],
                    locations=form.cleaned_data["locations"],
                    status=form.cleaned_data["status"],
                ),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("enforcement:case", le_case.pk)
    return _form_page(request, form, le_case.reference, "enforcement:cases")


def _case_form(request, pk, form_class, title, save, **form_kwargs):
    le_case = selectors.access_le_case(request.user, pk, action=CHANGE, request=request)
    kwargs = {key: value(le_case) for key, value in form_kwargs.items()}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            save(le_case, form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("enforcement:case", le_case.pk)
    return _form_page(request, form, title, "enforcement:cases", le_case=le_case)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def suspect_add(request, pk):
    def save(le_case, data):
        services.suspect_add(
            user=request.user, le_case=le_case, data=services.SuspectInput(**data), request=request
        )

    return _case_form(request, pk, forms.SuspectForm, _("Add a suspect"), save)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def victim_add(request, pk):
    def save(le_case, data):
        services.victim_link_add(user=request.user, le_case=le_case, request=request, **data)

    return _case_form(request, pk, forms.VictimForm, _("Add a victim or witness"), save)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def operation_add(request, pk):
    def save(le_case, data):
        services.operation_add(
            user=request.user,
            le_case=le_case,
            data=services.OperationInput(**data),
            request=request,
        )

    return _case_form(request, pk, forms.OperationForm, _("Record an operation or rescue"), save)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def testimony_add(request, pk):
    def save(le_case, data):
        data = {**data, "protective_measures": tuple(data["protective_measures"])}
        services.testimony_save(
            user=request.user,
            le_case=le_case,
            data=services.TestimonyInput(**data),
            request=request,
        )

    return _case_form(
        request,
        pk,
        forms.TestimonyForm,
        _("Arrange testimony"),
        save,
        witnesses=lambda le_case: le_case.victims.all(),
    )


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def request_create(request, pk):
    here = settings.CTIP_NODE

    def save(le_case, data):
        counterpart = data.pop("counterpart")
        req = services.request_send(
            user=request.user,
            le_case=le_case,
            data=services.RequestInput(counterpart=counterpart, **data),
            request=request,
        )
        messages.success(request, _("The request was sent to the other country."))
        return req

    return _case_form(
        request,
        pk,
        forms.RequestForm,
        _("Send a case-information request"),
        save,
        counterparts=lambda le_case: selectors.counterparts(user=request.user, here=here),
    )


# --- Requests -----------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def request_list(request):
    direction = request.GET.get("direction", "")
    direction = direction if direction in Direction.values else ""
    status = request.GET.get("status", "")
    status = status if status in RequestStatus.values else ""
    overdue = request.GET.get("overdue") == "1"
    rows = selectors.request_list(
        user=request.user, direction=direction, status=status, overdue=overdue
    )
    template = "enforcement/_request_rows.html" if request.htmx else "enforcement/request_list.html"
    return render(
        request,
        template,
        {
            "requests": rows,
            "direction": direction,
            "status": status,
            "overdue": overdue,
            "directions": Direction.choices,
            "statuses": RequestStatus.choices,
            "today": timezone.localdate(),
        },
    )


@permission(RESOURCE, VIEW)
@require_GET
def request_detail(request, pk):
    req = selectors.access_request(request.user, pk, request=request)
    audit_view(actor=request.user, objects=[req], fields=InfoRequest.PII_FIELDS, request=request)
    outgoing = req.direction == Direction.OUTGOING
    return render(
        request,
        "enforcement/request_detail.html",
        {
            "req": req,
            "events": req.events.select_related("actor"),
            "request_delivery": selectors.delivery_of(req.request_msg_id) if outgoing else None,
            "answer_delivery": None if outgoing else selectors.delivery_of(req.answer_msg_id),
            "can_answer": selectors.can_change(request.user)
            and not outgoing
            and req.status == RequestStatus.RECEIVED,
            "answer_form": forms.AnswerForm(),
            "today": timezone.localdate(),
        },
    )


@permission(RESOURCE, CHANGE)
@require_POST
def request_answer(request, pk):
    req = selectors.access_request(request.user, pk, action=CHANGE, request=request)
    form = forms.AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.request_answer(
                user=request.user,
                info_request=req,
                answer=form.cleaned_data["answer"],
                outcome=form.cleaned_data["outcome"],
                request=request,
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("The answer was sent to the other country."))
    else:
        messages.error(request, _("Choose the outcome of the answer."))
    return redirect("enforcement:request", req.pk)


# --- Meetings -----------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def meeting_list(request):
    status = request.GET.get("status", "")
    status = status if status in MeetingStatus.values else ""
    return render(
        request,
        "enforcement/meeting_list.html",
        {
            "meetings": selectors.meeting_list(user=request.user, status=status),
            "status": status,
            "statuses": MeetingStatus.choices,
        },
    )


@permission(RESOURCE, CREATE)
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    cases = selectors.le_case_list(user=request.user)
    form = forms.MeetingForm(
        request.POST or None,
        cases=cases,
        initial={"host_country": settings.CTIP_NODE},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["le_cases"] = tuple(data["le_cases"])
        data["case_references"] = tuple(
            r.strip() for r in data["case_references"].split(",") if r.strip()
        )
        try:
            meeting = services.meeting_schedule(
                user=request.user, data=services.MeetingInput(**data), request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("enforcement:meeting", meeting.pk)
    return _form_page(request, form, _("Schedule a meeting"), "enforcement:meetings")


@permission(RESOURCE, VIEW)
@require_GET
def meeting_detail(request, pk):
    user = request.user
    meeting = selectors.access_meeting(user, pk, request=request)
    audit_view(actor=user, objects=[meeting], fields=meeting.PII_FIELDS, request=request)
    members = selectors.member_list(user=user, active_only=True)
    editable = selectors.can_change(user) and meeting.is_local
    return render(
        request,
        "enforcement/meeting_detail.html",
        {
            "meeting": meeting,
            "cases": selectors.meeting_cases(user=user, meeting=meeting),
            # The other country's references (this node's cases are shown above, if visible).
            "other_references": [
                ref
                for ref in meeting.case_references
                if ref not in set(meeting.le_cases.values_list("reference", flat=True))
            ],
            "editable": editable,
            "participant_form": forms.ParticipantForm(members=members),
            "minutes_form": forms.MinutesForm(
                initial={
                    "minutes_en": meeting.minutes_en,
                    "minutes_second": meeting.minutes_second,
                }
            ),
            "action_form": forms.ActionItemForm(members=members),
            "today": timezone.localdate(),
        },
    )


def _meeting_post(request, pk, form_class, save, **form_kwargs):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    form = form_class(request.POST, **form_kwargs)
    if form.is_valid():
        try:
            save(meeting, form.cleaned_data)
        except ValidationError as exc:
            _flash(request, exc)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("enforcement:meeting", meeting.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def participant_add(request, pk):
    def save(meeting, data):
        services.participant_add(
            user=request.user,
            meeting=meeting,
            data=services.ParticipantInput(**data),
            request=request,
        )

    members = selectors.member_list(user=request.user, active_only=True)
    return _meeting_post(request, pk, forms.ParticipantForm, save, members=members)


@permission(RESOURCE, CHANGE)
@require_POST
def meeting_minutes(request, pk):
    def save(meeting, data):
        services.meeting_record_minutes(
            user=request.user,
            meeting=meeting,
            minutes_en=data["minutes_en"],
            minutes_second=data["minutes_second"],
            decisions=tuple(data["decisions"].splitlines()),
            request=request,
        )
        messages.success(request, _("Minutes recorded; the meeting is held."))

    return _meeting_post(request, pk, forms.MinutesForm, save)


@permission(RESOURCE, CHANGE)
@require_POST
def action_add(request, pk):
    def save(meeting, data):
        services.action_item_add(
            user=request.user,
            meeting=meeting,
            data=services.ActionItemInput(**data),
            request=request,
        )

    members = selectors.member_list(user=request.user, active_only=True)
    return _meeting_post(request, pk, forms.ActionItemForm, save, members=members)


@permission(RESOURCE, CHANGE)
@require_POST
def meeting_cancel(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    try:
        services.meeting_cancel(user=request.user, meeting=meeting, request=request)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("enforcement:meeting", meeting.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def action_done(request, pk):
    item = selectors.access_action_item(request.user, pk, request=request)
    try:
        services.action_item_done(user=request.user, item=item, request=request)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("enforcement:meeting", item.meeting_id)


# --- Indicators ---------------------------------------------------------------------------


def _date(value):
    try:
        return parse_date(value or "")
    except ValueError:
        return None


@permission(INDICATORS, VIEW)
@require_GET
def indicator_page(request):
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    if start and end and end < start:
        start, end = end, start
    return render(
        request,
        "enforcement/indicators.html",
        {
            "summary": indicators.summary(start=start, end=end),
            "start": start,
            "end": end,
            "sop_finalised": SopStatus.FINALISED,
        },
    )
