"""Reads of the prevention app, through the acting user's permissions. Forbidden and
missing are the same "not found" (logged)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from ctip.accounts import permissions
from ctip.prevention.models import (
    CERTIFICATE,
    DISSEMINATION,
    PACKAGE,
    STRATEGY,
    CivilCertificate,
    DisseminationEvent,
    PackageItem,
    StrategyDocument,
    StrategySection,
    StrategyVersion,
    ToolPackage,
)

VIEW = permissions.VIEW


def _get(user, resource: str, queryset: QuerySet, pk, action, request):
    if not permissions.can(user, resource, action):
        raise permissions.deny(user, resource, action, pk, request)
    try:
        obj = queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise permissions.deny(user, resource, action, pk, request) from None
    visible = getattr(obj, "ctip_visible_to", None)
    if visible is not None and not visible(user):
        raise permissions.deny(user, resource, action, pk, request)
    return obj


# --- Strategy -----------------------------------------------------------------------------


def strategy_list(*, user) -> QuerySet[StrategyDocument]:
    if not permissions.can(user, STRATEGY, VIEW):
        return StrategyDocument.objects.none()
    return StrategyDocument.objects.prefetch_related("versions__steps")


def shown_versions(document: StrategyDocument) -> list[StrategyVersion]:
    """Submitted versions, and this side's drafts (the other side's drafts are not here)."""
    return [
        v
        for v in document.versions.all()
        if v.submitted_at is not None or v.origin == settings.CTIP_NODE
    ]


def access_document(user, pk, *, action=VIEW, request=None) -> StrategyDocument:
    return _get(user, STRATEGY, StrategyDocument.objects.all(), pk, action, request)


def access_version(user, pk, *, action=VIEW, request=None) -> StrategyVersion:
    return _get(
        user,
        STRATEGY,
        StrategyVersion.objects.select_related("document").prefetch_related(
            "sections__comments", "steps"
        ),
        pk,
        action,
        request,
    )


def access_section(user, pk, *, action=VIEW, request=None) -> StrategySection:
    section = _get(
        user, STRATEGY, StrategySection.objects.select_related("version"), pk, action, request
    )
    if not section.version.ctip_visible_to(user):
        raise permissions.deny(user, STRATEGY, action, pk, request)
    return section


# --- Tool packages ------------------------------------------------------------------------


def package_list(*, user) -> QuerySet[ToolPackage]:
    if not permissions.can(user, PACKAGE, VIEW):
        return ToolPackage.objects.none()
    return ToolPackage.objects.all()


def access_package(user, pk, *, action=VIEW, request=None) -> ToolPackage:
    return _get(user, PACKAGE, ToolPackage.objects.all(), pk, action, request)


def access_item(user, pk, *, action=VIEW, request=None) -> PackageItem:
    return _get(user, PACKAGE, PackageItem.objects.select_related("package"), pk, action, request)


def public_packages() -> QuerySet[ToolPackage]:
    return ToolPackage.objects.filter(published=True)


def public_package(pk) -> ToolPackage:
    """A published package with its items, authorities and published contacts."""
    try:
        return public_packages().get(pk=pk)
    except (ToolPackage.DoesNotExist, ValidationError, ValueError, TypeError):
        raise permissions.NotFound() from None


def package_items(package: ToolPackage, *, public: bool) -> dict[str, list[PackageItem]]:
    items = package.items.select_related("authority", "contact__agency")
    grouped: dict[str, list[PackageItem]] = {"step": [], "document": [], "warning": []}
    for item in items:
        if public and item.contact_id and not item.contact.published:
            item.contact = None  # an unpublished contact never reaches the public page
        grouped[item.kind].append(item)
    return grouped


# --- Dissemination ------------------------------------------------------------------------


def dissemination_list(
    *, user, channel: str = "", year: int | None = None
) -> QuerySet[DisseminationEvent]:
    if not permissions.can(user, DISSEMINATION, VIEW):
        return DisseminationEvent.objects.none()
    qs = DisseminationEvent.objects.select_related("agency", "package")
    if channel:
        qs = qs.filter(channel=channel)
    if year:
        qs = qs.filter(date__year=year)
    return qs


# --- Certificates -------------------------------------------------------------------------


def certificate_list(*, user) -> QuerySet[CivilCertificate]:
    """Certificates of the user's authority and its offices."""
    if not permissions.can(user, CERTIFICATE, VIEW) or not user.agency_id:
        return CivilCertificate.objects.none()
    return CivilCertificate.objects.filter(
        Q(authority_id=user.agency_id) | Q(authority__parent_id=user.agency_id)
    ).select_related("authority", "data_key")


def access_certificate(user, pk, *, action=VIEW, request=None) -> CivilCertificate:
    return _get(
        user,
        CERTIFICATE,
        CivilCertificate.objects.select_related("authority", "data_key"),
        pk,
        action,
        request,
    )


def versions_awaiting_this_side(*, user) -> list[StrategyVersion]:
    """Submitted versions, not yet agreed, that this side has not approved."""
    if not permissions.can(user, STRATEGY, permissions.CHANGE):
        return []
    versions = StrategyVersion.objects.filter(submitted_at__isnull=False).prefetch_related("steps")
    return [
        v for v in versions if v.status == "in_review" and settings.CTIP_NODE not in v.approvals
    ]
