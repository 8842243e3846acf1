"""Reads of the training app, through the acting user's permissions.

Trainings and the manual are visible to every role that may view trainings on this node.
Participants (names, scores, attendance) only to managers from an organising agency, and
each participant to themselves. Forbidden and missing are the same "not found".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from ctip.accounts import permissions
from ctip.training.models import (
    RESOURCE,
    Certificate,
    Chapter,
    ManualStatus,
    ManualVersion,
    Participant,
    Training,
    TrainingSession,
)
from ctip.training.services import normalise_code


def can_view(user) -> bool:
    return permissions.can(user, RESOURCE, permissions.VIEW)


def can_manage(user) -> bool:
    return permissions.can(user, RESOURCE, permissions.CHANGE)


def manages(user, training: Training) -> bool:
    """Whether the user manages this training (and so sees its participants' names)."""
    return can_manage(user) and training.is_organizer(user)


def _deny(user, pk, request, action=permissions.VIEW):
    return permissions.deny(user, RESOURCE, action, pk, request)


def _get(user, queryset: QuerySet, pk, request, action=permissions.VIEW):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        # A malformed id is answered like a missing one.
        raise _deny(user, pk, request, action) from None


# --- Trainings ----------------------------------------------------------------------------


def training_list(
    *, user, type: str = "", country: str = "", status: str = ""
) -> QuerySet[Training]:
    if not can_view(user):
        return Training.objects.none()
    qs = Training.objects.annotate(
        participant_count=Count("participants", distinct=True),
        certificate_count=Count(
            "participants__certificates",
            filter=Q(participants__certificates__revoked_at__isnull=True),
            distinct=True,
        ),
    )
    if type:
        qs = qs.filter(type=type)
    if country:
        qs = qs.filter(host_country=country)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-start_date", "title")


def access_training(user, pk, *, action: str = permissions.VIEW, request=None) -> Training:
    """A training to view (any viewer) or to change (a manager from an organising agency)."""
    if not permissions.can(user, RESOURCE, action):
        raise _deny(user, pk, request, action)
    training = _get(
        user, Training.objects.select_related("manual", "data_key"), pk, request, action
    )
    if action != permissions.VIEW and not training.is_organizer(user):
        raise _deny(user, pk, request, action)
    return training


def access_session(user, pk, *, request=None) -> TrainingSession:
    """A session whose attendance the user may record (manager of the training)."""
    if not can_manage(user):
        raise _deny(user, pk, request, permissions.CHANGE)
    session = _get(
        user,
        TrainingSession.objects.select_related("training"),
        pk,
        request,
        permissions.CHANGE,
    )
    if not session.training.is_organizer(user):
        raise _deny(user, pk, request, permissions.CHANGE)
    return session


def sessions_of(training: Training) -> QuerySet[TrainingSession]:
    return training.sessions.select_related("chapter").annotate(
        present_count=Count("attendance", filter=Q(attendance__present=True))
    )


def participants_of(*, user, training: Training) -> QuerySet[Participant]:
    if not manages(user, training):
        return Participant.objects.none()
    return (
        training.participants.select_related("agency", "user", "data_key")
        .annotate(
            attended=Count("attendance", filter=Q(attendance__present=True), distinct=True),
            valid_certificates=Count(
                "certificates", filter=Q(certificates__revoked_at__isnull=True), distinct=True
            ),
        )
        .order_by("registered_at")
    )


def own_participation(*, user, training: Training) -> Participant | None:
    if not can_view(user):
        return None
    return training.participants.filter(user=user).first()


def access_participant(user, pk, *, action: str = permissions.VIEW, request=None) -> Participant:
    """The participant themselves (to view), or a manager of the training."""
    if not can_view(user):
        raise _deny(user, pk, request, action)
    participant = _get(
        user,
        Participant.objects.select_related("training", "agency", "user", "data_key"),
        pk,
        request,
        action,
    )
    own = participant.user_id == user.pk and action == permissions.VIEW
    if not own and not manages(user, participant.training):
        raise _deny(user, pk, request, action)
    return participant


# --- Certificates -------------------------------------------------------------------------


def my_certificates(*, user) -> QuerySet[Certificate]:
    if not can_view(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(participant__user=user).select_related(
        "participant__training", "data_key"
    )


def access_certificate(user, pk, *, action: str = permissions.VIEW, request=None) -> Certificate:
    if not can_view(user):
        raise _deny(user, pk, request, action)
    certificate = _get(
        user,
        Certificate.objects.select_related(
            "participant__training", "participant__agency", "data_key"
        ),
        pk,
        request,
        action,
    )
    own = certificate.participant.user_id == user.pk and action == permissions.VIEW
    if not own and not manages(user, certificate.participant.training):
        raise _deny(user, pk, request, action)
    return certificate


def certificate_by_code(code: str) -> Certificate | None:
    """For the public verification page: exact match on the normalised code."""
    code = normalise_code(code)
    if not code:
        return None
    return (
        Certificate.objects.select_related("participant__training", "data_key")
        .filter(code=code)
        .first()
    )


# --- Manual -------------------------------------------------------------------------------


def manual_list(*, user) -> QuerySet[ManualVersion]:
    if not can_view(user):
        return ManualVersion.objects.none()
    qs = ManualVersion.objects.annotate(chapter_count=Count("chapters"))
    if not can_manage(user):
        qs = qs.filter(status=ManualStatus.PUBLISHED)  # drafts are the authors' business
    return qs.order_by("-created_at")


def access_manual(user, pk, *, action: str = permissions.VIEW, request=None) -> ManualVersion:
    if not permissions.can(user, RESOURCE, action):
        raise _deny(user, pk, request, action)
    return _get(user, manual_list(user=user), pk, request, action)


def access_chapter(user, pk, *, request=None) -> Chapter:
    if not can_manage(user):
        raise _deny(user, pk, request, permissions.CHANGE)
    return _get(user, Chapter.objects.select_related("manual"), pk, request, permissions.CHANGE)


def current_manual() -> ManualVersion | None:
    return (
        ManualVersion.objects.filter(status=ManualStatus.PUBLISHED)
        .order_by("-published_at")
        .first()
    )


def chapters_teaching(*, form_version: str = "", sop_version: str = "") -> QuerySet[Chapter]:
    """Published chapters that teach a given identification form version or SOP version
    (for the cases app: "which part of the manual explains this form?")."""
    qs = Chapter.objects.filter(manual__status=ManualStatus.PUBLISHED).select_related("manual")
    if form_version:
        qs = qs.filter(form_version=form_version)
    if sop_version:
        qs = qs.filter(sop_version=sop_version)
    if not form_version and not sop_version:
        return qs.none()
    return qs.order_by("-manual__published_at", "number")
