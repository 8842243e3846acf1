"""The data protection officer's view of the audit log, with filters."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ctip.accounts import permissions
from ctip.accounts.permissions import permission
from ctip.audit.models import Action, AuditEvent


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", "—"), *Action.choices]
    )
    object_type = forms.CharField(label=_("Record type"), required=False, max_length=60)
    object_id = forms.CharField(label=_("Record id"), required=False, max_length=64)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def filter_events(data: dict):
    qs = AuditEvent.objects.all()
    if data.get("actor"):
        qs = qs.filter(actor_username=data["actor"])
    if data.get("action"):
        qs = qs.filter(action=data["action"])
    if data.get("object_type"):
        qs = qs.filter(object_type=data["object_type"])
    if data.get("object_id"):
        qs = qs.filter(object_id=data["object_id"])
    tz = timezone.get_current_timezone()
    if data.get("since"):
        qs = qs.filter(at__gte=datetime.combine(data["since"], time.min, tzinfo=tz))
    if data.get("until"):
        qs = qs.filter(at__lte=datetime.combine(data["until"], time.max, tzinfo=tz))
    return qs.order_by("-seq")


@permission("audit", permissions.VIEW)
@require_GET
def event_list(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filter_events(data), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "audit/_event_rows.html" if request.htmx else "audit/event_list.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})
