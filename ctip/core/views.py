"""Home dashboard, health check, and pages of plan areas not built yet."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ctip.accounts import permissions
from ctip.accounts.models import Role
from ctip.accounts.permissions import public, signed_in
from ctip.audit.models import AuditEvent
from ctip.core.areas import AREAS_BY_SLUG, area_url_name
from ctip.core.cards import Card, cards_for


@signed_in
@require_GET
def home(request):
    user = request.user
    if user.roles == {Role.ME_OFFICER}:
        # The NCCT secretariat works from the Plan of Action dashboard.
        return redirect("plan:index")
    cards = []
    if permissions.can(user, "audit", permissions.VIEW):
        cards.append(
            Card(
                _("entries in the audit log"),
                AuditEvent.objects.count(),
                reverse("audit:event_list"),
            )
        )
    if permissions.can(user, "user", permissions.VIEW):
        from ctip.accounts.models import User

        cards.append(Card(_("active user accounts"), User.objects.filter(is_active=True).count()))
    cards = cards_for(user) + cards
    return render(
        request,
        "core/home.html",
        {
            "cards": cards,
            "roles": sorted(Role(role).label for role in user.roles),
            "sees_pii": permissions.sees_pii(user),
        },
    )


@signed_in
@require_GET
def area(request, slug: str):
    area = AREAS_BY_SLUG.get(slug)
    if area is None or area_url_name(area):
        raise Http404
    return render(request, "core/area_coming.html", {"area": area})


@public
@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure is reported as such
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {
            "node": settings.CTIP_NODE,
            "version": settings.CTIP_VERSION,
            "database": database,
            "database_vendor": connection.vendor,
        },
        status=status,
    )
