"""Training pages: trainings, sessions and attendance, participants and their scores,
certificates (printable; verifiable by anyone on the public page), the manual, indicators
and the participant-list import. Thin views: parse, check access, call a service, render."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission, public
from ctip.audit.services import audit_view
from ctip.training import forms, indicators, selectors, services
from ctip.training.importing import ImportFileError, ImportReport, participants_import, read_rows
from ctip.training.models import (
    RESOURCE,
    Certificate,
    Participant,
    TargetGroup,
    TrainingStatus,
    TrainingType,
)

VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _flash_errors(request, exc: ValidationError) -> None:
    for message in _errors(exc):
        messages.error(request, message)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errs in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _render_form(request, template, context, form):
    return render(request, template, context, status=400 if form.errors else 200)


# --- Trainings ----------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def index(request):
    user = request.user
    filters = {
        "type": request.GET.get("type", "") if request.GET.get("type") in TrainingType else "",
        "country": request.GET.get("country", "")[:2],
        "status": request.GET.get("status", "")
        if request.GET.get("status") in TrainingStatus
        else "",
    }
    page = Paginator(selectors.training_list(user=user, **filters), 25).get_page(
        request.GET.get("page")
    )
    template = "training/_training_rows.html" if request.htmx else "training/index.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": filters,
            "types": TrainingType.choices,
            "statuses": TrainingStatus.choices,
            "can_create": permissions.can(user, RESOURCE, CREATE),
            "can_manage": selectors.can_manage(user),
            "certificates": selectors.my_certificates(user=user).count(),
        },
    )


def _training_input(data) -> services.TrainingInput:
    return services.TrainingInput(
        title=data["title"],
        type=data["type"],
        host_country=data["host_country"],
        place=data["place"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        organizers=tuple(data["organizers"]),
        target_groups=tuple(data["target_groups"]),
        trainers=data["trainers"],
        manual=data["manual"],
        min_attendance_percent=data["min_attendance_percent"],
        pass_mark=data["pass_mark"],
        certificate_valid_months=data["certificate_valid_months"],
    )


@permission(RESOURCE, CREATE)
@require_http_methods(["GET", "POST"])
def training_create(request):
    form = forms.TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            training = services.training_create(
                user=request.user, data=_training_input(form.cleaned_data), request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The training was created."))
            return redirect("training:detail", pk=training.pk)
    return _render_form(request, "training/training_form.html", {"form": form}, form)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def training_edit(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    if request.method == "POST":
        form = forms.TrainingForm(request.POST)
        if form.is_valid():
            try:
                services.training_update(
                    user=request.user,
                    training=training,
                    data=_training_input(form.cleaned_data),
                    request=request,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The training was saved."))
                return redirect("training:detail", pk=training.pk)
    else:
        audit_view(actor=request.user, objects=[training], fields=["trainers"], request=request)
        initial = {f: getattr(training, f) for f in services.TRAINING_FIELDS}
        initial.update(
            organizers=training.organizers.exclude(pk=request.user.agency_id),
            target_groups=training.target_groups,
            trainers=training.trainers or "",
        )
        form = forms.TrainingForm(initial=initial)
    return _render_form(
        request, "training/training_form.html", {"form": form, "training": training}, form
    )


@permission(RESOURCE, VIEW)
@require_GET
def training_detail(request, pk):
    user = request.user
    training = selectors.access_training(user, pk, request=request)
    manages = selectors.manages(user, training)
    participants = list(selectors.participants_of(user=user, training=training))
    sessions = list(selectors.sessions_of(training))
    shown = [p for p in participants if p.full_name]
    if shown:
        audit_view(actor=user, objects=shown, fields=["full_name"], request=request)
    if manages and training.trainers:
        audit_view(actor=user, objects=[training], fields=["trainers"], request=request)
    for p in participants:
        p.percent = p.attended * 100 // len(sessions) if sessions else None
    return render(
        request,
        "training/training_detail.html",
        {
            "training": training,
            "organizers": training.organizers.all(),
            "target_groups": [
                TargetGroup(g).label for g in training.target_groups if g in TargetGroup.values
            ],
            "sessions": sessions,
            "materials": training.materials.select_related("manual"),
            "participants": participants,
            "participant_count": training.participants.count(),
            "manages": manages,
            "mine": selectors.own_participation(user=user, training=training),
            "improvement": indicators.score_improvement(training=training) if manages else None,
            "session_form": forms.SessionForm(training=training) if manages else None,
            "material_form": forms.MaterialForm() if manages else None,
            "can_mark_held": manages
            and training.status == TrainingStatus.PLANNED
            and training.end_date <= timezone.localdate(),
        },
    )


@permission(RESOURCE, CHANGE)
@require_POST
def training_status(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    try:
        services.training_set_status(
            user=request.user,
            training=training,
            status=request.POST.get("status", ""),
            request=request,
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The training's status was changed."))
    return redirect("training:detail", pk=training.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def session_add(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    form = forms.SessionForm(request.POST, training=training)
    if form.is_valid():
        try:
            services.session_add(
                user=request.user,
                training=training,
                data=services.SessionInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, _("The session was added."))
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
    return redirect("training:detail", pk=training.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def material_add(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    form = forms.MaterialForm(request.POST)
    if form.is_valid():
        services.material_add(
            user=request.user,
            training=training,
            data=services.MaterialInput(**form.cleaned_data),
            request=request,
        )
        messages.success(request, _("The material was added."))
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
    return redirect("training:detail", pk=training.pk)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def session_attendance(request, pk):
    user = request.user
    session = selectors.access_session(user, pk, request=request)
    training = session.training
    participants = list(selectors.participants_of(user=user, training=training))
    if request.method == "POST":
        try:
            counts = services.attendance_record(
                user=user,
                session=session,
                present=set(request.POST.getlist("present")),
                request=request,
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(
                request,
                _("Attendance saved: %(present)s present, %(absent)s absent.") % counts,
            )
            return redirect("training:detail", pk=training.pk)
    audit_view(actor=user, objects=participants, fields=["full_name"], request=request)
    present = set(session.attendance.filter(present=True).values_list("participant_id", flat=True))
    return render(
        request,
        "training/attendance.html",
        {
            "session": session,
            "training": training,
            "rows": [(p, p.pk in present) for p in participants],
        },
    )


# --- Participants -------------------------------------------------------------------------


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def participant_add(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    form = forms.ParticipantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = services.participant_register(
                user=request.user,
                training=training,
                data=services.ParticipantInput(
                    full_name=data["full_name"],
                    user=data["user"],
                    agency_name=data["agency_name"],
                    country=data["country"],
                    position=data["position"],
                    contact=data["contact"],
                    sex=data["sex"],
                    pre_score=data["pre_score"],
                    post_score=data["post_score"],
                ),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The participant was registered."))
            return redirect("training:participant_detail", pk=participant.pk)
    return _render_form(
        request, "training/participant_form.html", {"form": form, "training": training}, form
    )


@permission(RESOURCE, VIEW)
@require_GET
def participant_detail(request, pk):
    user = request.user
    participant = selectors.access_participant(user, pk, request=request)
    training = participant.training
    manages = selectors.manages(user, training)
    shown = [f for f in Participant.PII_FIELDS if getattr(participant, f)]
    audit_view(actor=user, objects=[participant], fields=shown, request=request)
    sessions = list(training.sessions.all())
    present = set(participant.attendance.filter(present=True).values_list("session_id", flat=True))
    certificates = list(participant.certificates.all())
    return render(
        request,
        "training/participant_detail.html",
        {
            "participant": participant,
            "training": training,
            "manages": manages,
            "attendance": [(s, s.pk in present) for s in sessions],
            "percent": services.attendance_percent(participant, len(sessions)),
            "certificates": certificates,
            "blockers": services.certificate_blockers(participant) if manages else [],
            "scores_form": forms.ScoresForm(
                initial={"pre_score": participant.pre_score, "post_score": participant.post_score}
            )
            if manages
            else None,
            "revoke_form": forms.RevokeForm() if manages else None,
        },
    )


@permission(RESOURCE, CHANGE)
@require_POST
def participant_scores(request, pk):
    participant = selectors.access_participant(request.user, pk, action=CHANGE, request=request)
    form = forms.ScoresForm(request.POST)
    if form.is_valid():
        services.participant_set_scores(
            user=request.user, participant=participant, request=request, **form.cleaned_data
        )
        messages.success(request, _("The test scores were saved."))
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
    return redirect("training:participant_detail", pk=participant.pk)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def participant_import(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    report: ImportReport | None = None
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        dry_run = form.cleaned_data["dry_run"]
        if upload.size > 5 * 1024 * 1024:
            report = ImportReport(dry_run=dry_run, file_error=_("The file is larger than 5 MB."))
        else:
            try:
                rows = read_rows(upload.read(), upload.name)
            except ImportFileError as exc:
                report = ImportReport(dry_run=dry_run, file_error=str(exc))
            else:
                report = participants_import(
                    user=request.user,
                    training=training,
                    rows=rows,
                    dry_run=dry_run,
                    request=request,
                )
        if report.ok and not dry_run:
            messages.success(request, report.lines()[-1])
            return redirect("training:detail", pk=training.pk)
    status = 400 if form.errors or (report is not None and not report.ok) else 200
    return render(
        request,
        "training/import.html",
        {"form": form, "training": training, "report": report},
        status=status,
    )


# --- Certificates -------------------------------------------------------------------------


@permission(RESOURCE, CHANGE)
@require_POST
def certificate_issue(request, pk):
    participant = selectors.access_participant(request.user, pk, action=CHANGE, request=request)
    try:
        certificate = services.certificate_issue(
            user=request.user, participant=participant, request=request
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("training:participant_detail", pk=participant.pk)
    messages.success(request, _("The certificate was issued."))
    return redirect("training:certificate", pk=certificate.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def certificates_issue_all(request, pk):
    training = selectors.access_training(request.user, pk, action=CHANGE, request=request)
    result = services.certificates_issue_all(user=request.user, training=training, request=request)
    messages.success(
        request,
        _("%(issued)s certificates issued; %(other)s participants do not qualify or hold one.")
        % {"issued": len(result.issued), "other": result.not_eligible},
    )
    return redirect("training:detail", pk=training.pk)


@permission(RESOURCE, VIEW)
@require_GET
def my_certificates(request):
    certificates = list(selectors.my_certificates(user=request.user))
    audit_view(actor=request.user, objects=certificates, fields=["holder_name"], request=request)
    return render(request, "training/my_certificates.html", {"certificates": certificates})


def verify_url(request, certificate: Certificate) -> str:
    return (
        request.build_absolute_uri(reverse("training:verify"))
        + "?code="
        + services.format_code(certificate.code)
    )


@permission(RESOURCE, VIEW)
@require_GET
def certificate_print(request, pk):
    """The printable certificate: a page of its own with a print stylesheet."""
    user = request.user
    certificate = selectors.access_certificate(user, pk, request=request)
    audit_view(actor=user, objects=[certificate], fields=["holder_name"], request=request)
    url = verify_url(request, certificate)
    training = certificate.participant.training
    return render(
        request,
        "training/certificate_print.html",
        {
            "certificate": certificate,
            "training": training,
            "code": services.format_code(certificate.code),
            "verify_url": url,
            "qr": segno.make(url, error="m").svg_data_uri(scale=3, border=2),
            "hours": sum((s.hours or 0) for s in training.sessions.all()),
            "manages": selectors.manages(user, training),
        },
    )


@permission(RESOURCE, CHANGE)
@require_POST
def certificate_revoke(request, pk):
    certificate = selectors.access_certificate(request.user, pk, action=CHANGE, request=request)
    form = forms.RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a reason."))
    else:
        try:
            services.certificate_revoke(
                user=request.user,
                certificate=certificate,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, _("The certificate was revoked."))
    return redirect("training:participant_detail", pk=certificate.participant_id)


@public
@require_GET
def verify(request):
    """Anyone may check a certificate by its code. Shown: the holder's name as printed,
    the training's title and dates, and whether the certificate is valid; nothing else.
    Codes carry 100 random bits, so guessing one is infeasible (see decisions.md)."""
    form = forms.VerifyForm(request.GET or None)
    certificate = None
    if form.is_valid():
        certificate = selectors.certificate_by_code(form.cleaned_data["code"])
        if certificate is not None:
            audit_view(actor=None, objects=[certificate], fields=["holder_name"], request=request)
    return render(
        request,
        "training/verify.html",
        {
            "form": form,
            "asked": form.is_bound,
            "certificate": certificate,
            "training": certificate.participant.training if certificate else None,
            "validity": certificate.validity() if certificate else "",
        },
    )


# --- Manual -------------------------------------------------------------------------------


@permission(RESOURCE, VIEW)
@require_GET
def manual_list(request):
    return render(
        request,
        "training/manual_list.html",
        {
            "manuals": selectors.manual_list(user=request.user),
            "current": selectors.current_manual(),
            "can_create": permissions.can(request.user, RESOURCE, CREATE),
        },
    )


def _manual_input(data) -> services.ManualInput:
    return services.ManualInput(
        version=data.get("version", ""),
        title_en=data["title_en"],
        title_km=data["title_km"],
        title_zh_hans=data["title_zh_hans"],
        languages=tuple(data["languages"]),
    )


@permission(RESOURCE, CREATE)
@require_http_methods(["GET", "POST"])
def manual_create(request):
    form = forms.ManualForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            manual = services.manual_create(
                user=request.user, data=_manual_input(form.cleaned_data), request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("training:manual_detail", pk=manual.pk)
    return _render_form(request, "training/manual_form.html", {"form": form}, form)


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def manual_edit(request, pk):
    manual = selectors.access_manual(request.user, pk, action=CHANGE, request=request)
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None:
        data["version"] = manual.version
    form = forms.ManualForm(
        data,
        initial={
            "version": manual.version,
            "title_en": manual.title_en,
            "title_km": manual.title_km,
            "title_zh_hans": manual.title_zh_hans,
            "languages": manual.languages,
        },
    )
    form.fields["version"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.manual_update(
                user=request.user,
                manual=manual,
                data=_manual_input(form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("training:manual_detail", pk=manual.pk)
    return _render_form(
        request, "training/manual_form.html", {"form": form, "manual": manual}, form
    )


@permission(RESOURCE, VIEW)
@require_GET
def manual_detail(request, pk):
    manual = selectors.access_manual(request.user, pk, request=request)
    manages = selectors.can_manage(request.user)
    return render(
        request,
        "training/manual_detail.html",
        {
            "manual": manual,
            "chapters": manual.chapters.all(),
            "manages": manages,
            "missing": services.manual_missing_texts(manual) if manages else [],
            "new_version_form": forms.NewVersionForm() if manages else None,
        },
    )


def _chapter_input(data) -> services.ChapterInput:
    return services.ChapterInput(**{f: data[f] for f in services.CHAPTER_FIELDS})


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def chapter_add(request, pk):
    manual = selectors.access_manual(request.user, pk, action=CHANGE, request=request)
    numbers = manual.chapters.order_by("-number").values_list("number", flat=True)
    next_number = (numbers.first() or 0) + 1
    form = forms.ChapterForm(request.POST or None, initial={"number": next_number})
    if request.method == "POST" and form.is_valid():
        try:
            services.chapter_save(
                user=request.user,
                manual=manual,
                data=_chapter_input(form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("training:manual_detail", pk=manual.pk)
    return _render_form(
        request, "training/chapter_form.html", {"form": form, "manual": manual}, form
    )


@permission(RESOURCE, CHANGE)
@require_http_methods(["GET", "POST"])
def chapter_edit(request, pk):
    chapter = selectors.access_chapter(request.user, pk, request=request)
    manual = chapter.manual
    initial = {f: getattr(chapter, f) for f in services.CHAPTER_FIELDS}
    form = forms.ChapterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.chapter_save(
                user=request.user,
                manual=manual,
                chapter=chapter,
                data=_chapter_input(form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("training:manual_detail", pk=manual.pk)
    return _render_form(
        request,
        "training/chapter_form.html",
        {"form": form, "manual": manual, "chapter": chapter},
        form,
    )


@permission(RESOURCE, CHANGE)
@require_POST
def manual_review(request, pk):
    manual = selectors.access_manual(request.user, pk, action=CHANGE, request=request)
    try:
        services.manual_review(user=request.user, manual=manual, request=request)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The manual version was marked reviewed."))
    return redirect("training:manual_detail", pk=manual.pk)


@permission(RESOURCE, CHANGE)
@require_POST
def manual_publish(request, pk):
    manual = selectors.access_manual(request.user, pk, action=CHANGE, request=request)
    try:
        services.manual_publish(user=request.user, manual=manual, request=request)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The manual version was published."))
    return redirect("training:manual_detail", pk=manual.pk)


@permission(RESOURCE, CREATE)
@require_POST
def manual_new_version(request, pk):
    source = selectors.access_manual(request.user, pk, request=request)
    form = forms.NewVersionForm(request.POST)
    if form.is_valid():
        try:
            manual = services.manual_new_version(
                user=request.user,
                source=source,
                version=form.cleaned_data["version"],
                request=request,
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            return redirect("training:manual_detail", pk=manual.pk)
    else:
        messages.error(request, _("Give a valid version, e.g. 2027.1"))
    return redirect("training:manual_detail", pk=source.pk)


# --- Indicators ---------------------------------------------------------------------------


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@permission(RESOURCE, VIEW)
@require_GET
def indicator_page(request):
    since = _date(request.GET.get("since", ""))
    until = _date(request.GET.get("until", ""))
    id_form = [TrainingType.ID_FORM_SOP]
    return render(
        request,
        "training/indicators.html",
        {
            "since": since,
            "until": until,
            "by_country": indicators.officials_trained(by="country", as_of=until, since=since),
            "by_agency": indicators.officials_trained(by="agency", as_of=until, since=since),
            "by_type": indicators.officials_trained(by="type", as_of=until, since=since),
            "cases": indicators.cases_handled_by_trained(since=since, until=until),
            "cases_le": indicators.cases_handled_by_trained(
                since=since, until=until, training_types=[TrainingType.LAW_ENFORCEMENT]
            ),
            "screenings": indicators.screenings_handled_by_trained(
                since=since, until=until, training_types=id_form
            ),
            "improvement": indicators.score_improvement(since=since, until=until),
            "improvement_by_type": [
                (
                    label,
                    indicators.score_improvement(training_types=[value], since=since, until=until),
                )
                for value, label in TrainingType.choices
            ],
        },
    )
