"""Reads of the directory.

The public directory (``public_*``) shows only published entries, and of focal persons only
those whose appointment is current. Signed-in users with ``directory: view`` also see
unpublished entries. Directory entries describe organisations and officials: they are not
scoped by agency like case records.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from ctip.accounts import permissions
from ctip.directory.codes import LANGUAGES
from ctip.directory.models import (
    FocalPerson,
    FollowUpAction,
    FollowUpStatus,
    RegistrationStatus,
    Service,
    ServiceType,
    ShelterAssessment,
    StandardsChecklist,
)

MAX_QUERY_WORDS = 8


def search(qs: QuerySet, query: str) -> QuerySet:
    """Every word of the query must occur in the entry's names, places or descriptions
    (in any of the three languages)."""
    for word in query.lower().split()[:MAX_QUERY_WORDS]:
        qs = qs.filter(search_text__contains=word)
    return qs


def _filter(qs: QuerySet, *, query="", country="", language="") -> QuerySet:
    if country:
        qs = qs.filter(country=country)
    if language in LANGUAGES:
        qs = qs.filter(search_text__contains=f" lang:{language} ")
    return search(qs, query)


def current_focal_persons(qs: QuerySet) -> QuerySet:
    today = timezone.localdate()
    return qs.filter(appointed_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


# --- public -------------------------------------------------------------------------------


def public_services(*, query="", service_type="", country="", language="") -> QuerySet[Service]:
    qs = Service.objects.filter(
        published=True, registration_status=RegistrationStatus.REGISTERED
    ).select_related("provider")
    if service_type in ServiceType.values:
        qs = qs.filter(service_type=service_type)
    return _filter(qs, query=query, country=country, language=language)


def public_focal_persons(*, query="", country="", language="") -> QuerySet[FocalPerson]:
    qs = current_focal_persons(FocalPerson.objects.filter(published=True)).select_related("agency")
    return _filter(qs, query=query, country=country, language=language)


def public_focal_person(pk) -> FocalPerson:
    """One published, current focal person, or NotFound."""
    try:
        return public_focal_persons().get(pk=pk)
    except (FocalPerson.DoesNotExist, ValueError):
        raise permissions.NotFound() from None


# --- signed in ----------------------------------------------------------------------------


def service_list(
    *, user, query="", service_type="", country="", language="", published=None
) -> QuerySet[Service]:
    if not permissions.can(user, "directory", permissions.VIEW):
        return Service.objects.none()
    qs = Service.objects.select_related("provider")
    if service_type in ServiceType.values:
        qs = qs.filter(service_type=service_type)
    if published is not None:
        qs = qs.filter(published=published)
    return _filter(qs, query=query, country=country, language=language)


def referral_services(*, user, service_type: str | None = None) -> QuerySet[Service]:
    """Services a case may be referred to: registered ones, of both countries."""
    qs = service_list(user=user, service_type=service_type or "").filter(
        registration_status=RegistrationStatus.REGISTERED
    )
    return qs


def focal_person_list(
    *, user, query="", country="", language="", current_only=False
) -> QuerySet[FocalPerson]:
    if not permissions.can(user, "directory", permissions.VIEW):
        return FocalPerson.objects.none()
    qs = FocalPerson.objects.select_related("agency")
    if current_only:
        qs = current_focal_persons(qs)
    return _filter(qs, query=query, country=country, language=language)


def _access(user, resource: str, qs: QuerySet, pk, action: str, request=None):
    if not permissions.can(user, resource, action):
        raise permissions.deny(user, resource, action, object_id=pk, request=request)
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise permissions.deny(user, resource, action, object_id=pk, request=request) from None


def access_service(user, pk, *, action: str = permissions.VIEW, request=None) -> Service:
    qs = Service.objects.select_related("provider")
    return _access(user, "directory", qs, pk, action, request)


def access_focal_person(user, pk, *, action: str = permissions.VIEW, request=None) -> FocalPerson:
    qs = FocalPerson.objects.select_related("agency")
    return _access(user, "directory", qs, pk, action, request)


# --- shelters and assessments -------------------------------------------------------------


def current_checklist(country: str) -> StandardsChecklist | None:
    """The latest checklist version for shelters of ``country`` (loading new files first)."""
    from ctip.directory.services import checklist_sync

    checklist_sync()
    qs = StandardsChecklist.objects.order_by("-version", "code")
    return qs.filter(country=country).first() or qs.first()


def assessment_list(*, user, service: Service) -> QuerySet[ShelterAssessment]:
    if not permissions.can(user, "shelter_assessment", permissions.VIEW):
        return ShelterAssessment.objects.none()
    return (
        ShelterAssessment.objects.filter(service=service)
        .select_related("checklist", "assessing_agency")
        .prefetch_related("scores__standard")
        .order_by("assessed_on", "created_at")
    )


def access_assessment(
    user, pk, *, action: str = permissions.VIEW, request=None
) -> ShelterAssessment:
    qs = ShelterAssessment.objects.select_related(
        "service__provider", "checklist", "assessing_agency"
    )
    return _access(user, "shelter_assessment", qs, pk, action, request)


def access_follow_up(user, pk, *, action: str = permissions.VIEW, request=None) -> FollowUpAction:
    qs = FollowUpAction.objects.select_related("assessment__service", "assessment__checklist")
    return _access(user, "shelter_assessment", qs, pk, action, request)


def follow_up_list(*, user, status: str = "", overdue: bool = False) -> QuerySet[FollowUpAction]:
    if not permissions.can(user, "shelter_assessment", permissions.VIEW):
        return FollowUpAction.objects.none()
    qs = FollowUpAction.objects.select_related("assessment__service", "standard").order_by("due_on")
    if status in FollowUpStatus.values:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=FollowUpStatus.OPEN, due_on__lt=timezone.localdate())
    return qs


def area_history(assessments: list[ShelterAssessment]) -> list[dict]:
    """Per area of the standards, the percentage reached at each assessment (oldest first),
    for the shelter's history table. Areas are those of the latest checklist used."""
    if not assessments:
        return []
    rows: dict[str, dict] = {}
    for index, assessment in enumerate(assessments):
        for score in assessment.scores.all():
            standard = score.standard
            row = rows.setdefault(
                standard.area_code,
                {"area": standard.area, "cells": [[0, 0] for _ in assessments]},
            )
            row["area"] = standard.area
            if not score.not_applicable:
                row["cells"][index][0] += score.score
                row["cells"][index][1] += standard.scale_max
    return [
        {
            "area": row["area"],
            "percents": [round(100 * got / top) if top else None for got, top in row["cells"]],
        }
        for row in rows.values()
    ]
