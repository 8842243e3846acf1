"""Persons: list, record, create. Personal fields only for roles that may see them;
every display of them is audited."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ctip.accounts import permissions
from ctip.accounts.permissions import permission
from ctip.audit.services import audit_view
from ctip.cases import selectors, services
from ctip.cases.forms import PersonForm
from ctip.cases.models import Person

LIST_PII_FIELDS = ("name_km", "name_zh", "name_latin")


@permission("person", permissions.VIEW)
@require_GET
def person_list(request):
    user = request.user
    query = request.GET.get("q", "").strip()[:200]
    page = Paginator(selectors.person_list(user=user, query=query), 25).get_page(
        request.GET.get("page")
    )
    sees_pii = permissions.sees_pii(user)
    if sees_pii:
        audit_view(actor=user, objects=page.object_list, fields=LIST_PII_FIELDS, request=request)
    template = "cases/_person_rows.html" if request.htmx else "cases/person_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "query": query,
            "sees_pii": sees_pii,
            "can_create": permissions.can(user, "person", "create"),
        },
    )


@permission("person", permissions.VIEW)
@require_GET
def person_detail(request, pk):
    user = request.user
    person = selectors.access_person(user, pk, request=request)
    fields = permissions.visible_fields(user, Person.PII_FIELDS, Person.PII_FIELDS)
    shown = [f for f in fields if getattr(person, f)]
    audit_view(actor=user, objects=[person], fields=shown, request=request)
    rows = [(Person._meta.get_field(f).verbose_name, getattr(person, f)) for f in fields]
    return render(
        request,
        "cases/person_detail.html",
        {"person": person, "rows": rows, "sees_pii": permissions.sees_pii(user)},
    )


@permission("person", permissions.CREATE)
@require_http_methods(["GET", "POST"])
def person_create(request):
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {
            k: ("" if v is None and k in Person.PII_FIELDS else v)
            for k, v in form.cleaned_data.items()
        }
        person = services.person_create(
            user=request.user, data=services.PersonInput(**data), request=request
        )
        return redirect("cases:person_detail", pk=person.pk)
    return render(
        request, "cases/person_form.html", {"form": form}, status=400 if form.errors else 200
    )
