"""Prevention pages: the strategy (versions, sections, comments, steps), tool packages
(managed here, published on public pages and as a printable leaflet), dissemination with
its indicators, and civil certificates with the public verification page ``/verify/``.
Thin views: parse, check access, call a service, render."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission, public
from ctip.audit.services import audit_view
from ctip.prevention import forms, indicators, selectors, services
from ctip.prevention.models import (
    CERTIFICATE,
    DISSEMINATION,
    PACKAGE,
    STRATEGY,
    CivilCertificate,
    DisseminationChannel,
    RevocationReason,
    StrategyStatus,
    Topic,
)

VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE
LANGUAGES = ("en", "km", "zh-hans")


def _flash(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errs in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _render_form(request, template: str, context: dict, form):
    return render(request, template, context, status=400 if form.errors else 200)


@permission(STRATEGY, VIEW)
@require_GET
def index(request):
    user = request.user
    return render(
        request,
        "prevention/index.html",
        {
            "documents": [
                (d, selectors.shown_versions(d)) for d in selectors.strategy_list(user=user)
            ],
            "packages": selectors.package_list(user=user),
            "summary": indicators.people_reached(),
            "can_create_strategy": permissions.can(user, STRATEGY, CREATE),
            "can_create_package": permissions.can(user, PACKAGE, CREATE),
            "can_certify": permissions.can(user, CERTIFICATE, VIEW),
            "strategy_form": forms.StrategyForm(),
        },
    )


# --- Strategy -----------------------------------------------------------------------------


@permission(STRATEGY, CREATE)
@require_POST
def strategy_create(request):
    form = forms.StrategyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the strategy a title."))
        return redirect("prevention:index")
    version = services.strategy_create(
        user=request.user, title=form.cleaned_data["title"], request=request
    )
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, CREATE)
@require_POST
def version_new(request, pk):
    document = selectors.access_document(request.user, pk, action=CREATE, request=request)
    try:
        version = services.version_new(user=request.user, document=document, request=request)
    except ValidationError as exc:
        _flash(request, exc)
        return redirect("prevention:index")
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, VIEW)
@require_GET
def version_detail(request, pk):
    user = request.user
    version = selectors.access_version(user, pk, request=request)
    manage = permissions.can(user, STRATEGY, CHANGE)
    is_draft = version.status == StrategyStatus.DRAFT
    return render(
        request,
        "prevention/version.html",
        {
            "version": version,
            "document": version.document,
            "versions": selectors.shown_versions(version.document),
            "sections": version.sections.all(),
            "steps": version.steps.all(),
            "manage": manage,
            "editable": manage and is_draft and version.origin == settings.CTIP_NODE,
            "can_step": manage and version.status == StrategyStatus.IN_REVIEW,
            "agreed": version.status == StrategyStatus.AGREED,
            "section_form": forms.SectionForm(initial={"number": version.sections.count() + 1}),
            "step_form": forms.StepForm(),
            "comment_form": forms.CommentForm(),
        },
    )


@permission(STRATEGY, CHANGE)
@require_POST
def section_save(request, pk):
    version = selectors.access_version(request.user, pk, action=CHANGE, request=request)
    form = forms.SectionForm(request.POST)
    section = None
    if request.POST.get("section"):
        section = selectors.access_section(
            request.user, request.POST["section"], action=CHANGE, request=request
        )
        if section.version_id != version.pk:
            raise permissions.deny(request.user, STRATEGY, CHANGE, pk, request)
    if form.is_valid():
        try:
            services.section_save(
                user=request.user,
                version=version,
                section=section,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Section saved."))
    else:
        messages.error(request, _("Give the section a number, a heading and its text."))
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, CHANGE)
@require_POST
def version_submit(request, pk):
    version = selectors.access_version(request.user, pk, action=CHANGE, request=request)
    try:
        services.version_submit(user=request.user, version=version, request=request)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Submitted for review by both sides."))
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, CHANGE)
@require_POST
def version_step(request, pk):
    version = selectors.access_version(request.user, pk, action=CHANGE, request=request)
    form = forms.StepForm(request.POST)
    if form.is_valid():
        try:
            services.version_step(
                user=request.user,
                version=version,
                kind=form.cleaned_data["kind"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Step recorded."))
    else:
        messages.error(request, _("Choose review or approval."))
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, CHANGE)
@require_POST
def plan_report(request, pk):
    version = selectors.access_version(request.user, pk, action=CHANGE, request=request)
    try:
        done = services.plan_status_report(user=request.user, version=version, request=request)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        if done:
            messages.success(request, _("Reported to plan activity II.1."))
        else:
            messages.error(request, _("Plan activity II.1 is not loaded on this node."))
    return redirect("prevention:version", pk=version.pk)


@permission(STRATEGY, CHANGE)
@require_POST
def comment_add(request, pk):
    section = selectors.access_section(request.user, pk, action=CHANGE, request=request)
    form = forms.CommentForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.comment_add(
                user=request.user,
                section=section,
                text=form.cleaned_data["text"],
                request=request,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Write a comment.")
    if request.htmx:
        return render(
            request,
            "prevention/_comments.html",
            {"section": section, "error": error, "comment_form": forms.CommentForm()},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("prevention:version", pk=section.version_id)


# --- Tool packages: public ----------------------------------------------------------------


def _content_language(request) -> str:
    lang = request.GET.get("lang", "")
    return lang if lang in LANGUAGES else ""


@public
@require_GET
def package_list_public(request):
    return render(
        request,
        "prevention/packages_public.html",
        {"packages": selectors.public_packages(), "topics": Topic},
    )


def _package_page(request, pk, template: str):
    package = selectors.public_package(pk)
    lang = _content_language(request)
    context = {
        "package": package,
        "items": selectors.package_items(package, public=True),
        "lang": lang,
        "languages": LANGUAGES,
    }
    if lang:
        with override(lang):
            return render(request, template, context)
    return render(request, template, context)


@public
@require_GET
def package_public(request, pk):
    return _package_page(request, pk, "prevention/package_public.html")


@public
@require_GET
def package_leaflet(request, pk):
    return _package_page(request, pk, "prevention/leaflet.html")


# --- Tool packages: managing --------------------------------------------------------------


@permission(PACKAGE, VIEW)
@require_GET
def package_manage(request):
    return render(
        request,
        "prevention/packages_manage.html",
        {
            "packages": selectors.package_list(user=request.user),
            "can_create": permissions.can(request.user, PACKAGE, CREATE),
        },
    )


@permission(PACKAGE, CREATE)
@require_http_methods(["GET", "POST"])
def package_create(request):
    form = forms.PackageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            package = services.package_save(
                user=request.user, data=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("prevention:package_edit", pk=package.pk)
    return _render_form(request, "prevention/package_form.html", {"form": form}, form)


@permission(PACKAGE, VIEW)
@require_http_methods(["GET", "POST"])
def package_edit(request, pk):
    user = request.user
    action = CHANGE if request.method == "POST" else VIEW
    package = selectors.access_package(user, pk, action=action, request=request)
    form = forms.PackageForm(request.POST or None, instance=package)
    if request.method == "POST" and form.is_valid():
        try:
            services.package_save(
                user=user, package=package, data=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("prevention:package_edit", pk=package.pk)
    return _render_form(
        request,
        "prevention/package_form.html",
        {
            "form": form,
            "package": package,
            "items": selectors.package_items(package, public=False),
            "item_form": forms.ItemForm(),
            "manage": permissions.can(user, PACKAGE, CHANGE)
            and package.country == settings.CTIP_NODE,
        },
        form,
    )


@permission(PACKAGE, CHANGE)
@require_POST
def item_add(request, pk):
    package = selectors.access_package(request.user, pk, action=CHANGE, request=request)
    form = forms.ItemForm(request.POST)
    if form.is_valid():
        try:
            services.item_save(
                user=request.user, package=package, data=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("prevention:package_edit", pk=package.pk)


@permission(PACKAGE, CHANGE)
@require_http_methods(["GET", "POST"])
def item_edit(request, pk):
    item = selectors.access_item(request.user, pk, action=CHANGE, request=request)
    form = forms.ItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_save(
                user=request.user,
                package=item.package,
                item=item,
                data=form.cleaned_data,
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("prevention:package_edit", pk=item.package_id)
    return _render_form(request, "prevention/item_form.html", {"form": form, "item": item}, form)


@permission(PACKAGE, CHANGE)
@require_POST
def package_publish(request, pk):
    package = selectors.access_package(request.user, pk, action=CHANGE, request=request)
    try:
        services.package_publish(
            user=request.user,
            package=package,
            published=request.POST.get("published") == "1",
            request=request,
        )
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("prevention:package_edit", pk=package.pk)


# --- Dissemination ------------------------------------------------------------------------


@permission(DISSEMINATION, VIEW)
@require_GET
def dissemination_list(request):
    channel = request.GET.get("channel", "")
    channel = channel if channel in DisseminationChannel.values else ""
    page = Paginator(selectors.dissemination_list(user=request.user, channel=channel), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "prevention/dissemination.html",
        {
            "page": page,
            "channel": channel,
            "channels": DisseminationChannel.choices,
            "reached": indicators.people_reached(),
            "by_channel": indicators.reached_by("channel"),
            "by_audience": indicators.reached_by("audience"),
            "can_create": permissions.can(request.user, DISSEMINATION, CREATE),
        },
    )


@permission(DISSEMINATION, CREATE)
@require_http_methods(["GET", "POST"])
def dissemination_create(request):
    form = forms.DisseminationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dissemination_record(
                user=request.user, data=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Dissemination recorded."))
            return redirect("prevention:dissemination")
    return _render_form(request, "prevention/dissemination_form.html", {"form": form}, form)


# --- Certificates -------------------------------------------------------------------------


@permission(CERTIFICATE, VIEW)
@require_GET
def certificate_list(request):
    page = Paginator(selectors.certificate_list(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    audit_view(actor=request.user, objects=list(page), fields=["holder_name"], request=request)
    return render(request, "prevention/certificates.html", {"page": page})


@permission(CERTIFICATE, CREATE)
@require_http_methods(["GET", "POST"])
def certificate_create(request):
    authorities = services.issuing_authorities(request.user)
    form = forms.CertificateForm(
        request.POST or None,
        authorities=authorities,
        initial={"issued_on": timezone.localdate(), "authority": request.user.agency_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.certificate_issue(
                user=request.user,
                data=services.CertificateInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("prevention:certificate", pk=certificate.pk)
    return _render_form(request, "prevention/certificate_form.html", {"form": form}, form)


def verify_path() -> str:
    try:
        return reverse("verify")
    except NoReverseMatch:
        return reverse("prevention:verify")


def verify_url(request, certificate: CivilCertificate) -> str:
    return request.build_absolute_uri(verify_path()) + "?c=" + certificate.code


@permission(CERTIFICATE, VIEW)
@require_GET
def certificate_print(request, pk):
    """The printable certificate, with its verification code as a QR code."""
    certificate = selectors.access_certificate(request.user, pk, request=request)
    audit_view(
        actor=request.user,
        objects=[certificate],
        fields=list(CivilCertificate.PII_FIELDS),
        request=request,
    )
    url = verify_url(request, certificate)
    return render(
        request,
        "prevention/certificate_print.html",
        {
            "certificate": certificate,
            "verify_url": url,
            "qr": segno.make(url, error="m").svg_data_uri(scale=3, border=4),
            "revoke_form": forms.RevokeForm(),
            "can_revoke": permissions.can(request.user, CERTIFICATE, CHANGE),
        },
    )


@permission(CERTIFICATE, CHANGE)
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
            _flash(request, exc)
        else:
            messages.success(request, _("The certificate was revoked."))
    return redirect("prevention:certificate", pk=certificate.pk)


def _reason_text(outcome) -> str:
    if outcome is None or not outcome.reason:
        return ""
    if outcome.result == "revoked" and outcome.reason in RevocationReason.values:
        return str(RevocationReason(outcome.reason).label)
    return str(services.REASONS.get(outcome.reason, ""))


@public
@require_GET
def verify(request):
    """Anyone may check a singleness or marriage certificate's code, on either node.
    Shown: valid, revoked, expired, unknown or not valid (with the reason), and only what
    the signed code says: initials, document type, authority, dates."""
    form = forms.VerifyForm(request.GET or None)
    outcome = None
    if form.is_valid():
        outcome = services.certificate_verify(code=form.cleaned_data["c"], request=request)
    status = 429 if outcome is not None and outcome.result == "throttled" else 200
    return render(
        request,
        "prevention/verify.html",
        {
            "form": form,
            "outcome": outcome,
            "reason_text": _reason_text(outcome),
        },
        status=status,
    )
