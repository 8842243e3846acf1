"""REST endpoints of the training app, with the same rules as the pages: trainings for every
viewer; participants (names) only for managers from an organising agency; each user's own
certificates; indicators as aggregates. One input and one output serializer per endpoint."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country, User
from ctip.audit.services import audit_view
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.core.api import validation_error as _validation
from ctip.training import indicators, selectors, services
from ctip.training.models import (
    RESOURCE,
    ParticipantSex,
    ParticipantSource,
    TrainingStatus,
    TrainingType,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
SCORE = {"min_value": 0, "max_value": 100, "max_digits": 5, "decimal_places": 2}


# --- Trainings ----------------------------------------------------------------------------


class TrainingListInSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=TrainingType.choices, required=False, allow_blank=True, default=""
    )
    country = serializers.ChoiceField(
        choices=Country.choices, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(
        choices=TrainingStatus.choices, required=False, allow_blank=True, default=""
    )


class TrainingOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    type = serializers.CharField()
    host_country = serializers.CharField()
    place = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    status = serializers.CharField()
    target_groups = serializers.ListField(child=serializers.CharField())
    manual_version = serializers.CharField(source="manual.version", allow_null=True, default=None)
    participant_count = serializers.IntegerField()
    certificate_count = serializers.IntegerField()


@extend_schema(
    operation_id="trainings_list",
    parameters=[TrainingListInSerializer],
    responses={200: TrainingOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def trainings(request):
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    query = TrainingListInSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    qs = selectors.training_list(user=request.user, **query.validated_data).select_related("manual")
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(TrainingOutSerializer(page, many=True).data)


trainings.ctip_permission = (RESOURCE, permissions.VIEW)


class SessionOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    date = serializers.DateField()
    title = serializers.CharField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    chapter_number = serializers.IntegerField(
        source="chapter.number", allow_null=True, default=None
    )
    present_count = serializers.IntegerField()


class TrainingDetailOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    type = serializers.CharField()
    host_country = serializers.CharField()
    place = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    status = serializers.CharField()
    target_groups = serializers.ListField(child=serializers.CharField())
    organizers = serializers.ListField(child=serializers.CharField())
    manual_version = serializers.CharField(source="manual.version", allow_null=True, default=None)
    min_attendance_percent = serializers.IntegerField()
    pass_mark = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    sessions = SessionOutSerializer(many=True)


@extend_schema(
    operation_id="trainings_retrieve",
    responses={200: TrainingDetailOutSerializer, **ERRORS},
)
@api_view(["GET"])
def training_detail(request, pk):
    training = selectors.access_training(request.user, pk, request=request)
    data = {
        **{
            f: getattr(training, f)
            for f in (
                "id",
                "title",
                "type",
                "host_country",
                "place",
                "start_date",
                "end_date",
                "status",
                "target_groups",
                "manual",
                "min_attendance_percent",
                "pass_mark",
            )
        },
        "organizers": list(training.organizers.values_list("code", flat=True)),
        "sessions": list(selectors.sessions_of(training)),
    }
    return Response(TrainingDetailOutSerializer(data).data)


training_detail.ctip_permission = (RESOURCE, permissions.VIEW)


# --- Participants -------------------------------------------------------------------------


class ParticipantOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()
    username = serializers.CharField(source="user.username", allow_null=True, default=None)
    agency = serializers.CharField(source="agency_label")
    country = serializers.CharField()
    position = serializers.CharField(allow_null=True)
    sex = serializers.CharField()
    pre_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    post_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    source = serializers.CharField()


class ParticipantInSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    username = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    agency_name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )
    country = serializers.ChoiceField(
        choices=Country.choices, required=False, allow_blank=True, default=""
    )
    position = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    sex = serializers.ChoiceField(
        choices=ParticipantSex.choices, required=False, allow_blank=True, default=""
    )
    pre_score = serializers.DecimalField(required=False, allow_null=True, default=None, **SCORE)
    post_score = serializers.DecimalField(required=False, allow_null=True, default=None, **SCORE)

    def validate(self, attrs):
        username = attrs.pop("username", "")
        attrs["user"] = None
        if username:
            attrs["user"] = User.objects.filter(username=username, is_active=True).first()
            if attrs["user"] is None:
                raise ValidationError({"username": ["No active user of this node has it."]})
        elif not attrs.get("agency_name") or not attrs.get("country"):
            raise ValidationError(
                {"agency_name": ["An external participant needs an agency and a country."]}
            )
        return attrs


@extend_schema(
    methods=["GET"],
    operation_id="training_participants_list",
    responses={200: ParticipantOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="training_participants_register",
    request=ParticipantInSerializer,
    responses={201: ParticipantOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def participants(request, pk):
    user = request.user
    training = selectors.access_training(user, pk, action=permissions.CHANGE, request=request)
    if request.method == "POST":
        serializer = ParticipantInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            participant = services.participant_register(
                user=user,
                training=training,
                data=services.ParticipantInput(**serializer.validated_data),
                source=ParticipantSource.API,
                request=request,
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        audit_view(
            actor=user, objects=[participant], fields=["full_name", "position"], request=request
        )
        return Response(ParticipantOutSerializer(participant).data, status=201)
    qs = selectors.participants_of(user=user, training=training)
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    audit_view(actor=user, objects=page, fields=["full_name", "position"], request=request)
    return paginator.get_paginated_response(ParticipantOutSerializer(page, many=True).data)


participants.ctip_permission = (RESOURCE, permissions.CHANGE)


# --- Own certificates ---------------------------------------------------------------------


class CertificateOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.SerializerMethodField()
    holder_name = serializers.CharField()
    training = serializers.UUIDField(source="participant.training_id")
    training_title = serializers.CharField(source="participant.training.title")
    issued_at = serializers.DateTimeField()
    valid_until = serializers.DateField(allow_null=True)
    validity = serializers.SerializerMethodField()

    def get_code(self, obj) -> str:
        return services.format_code(obj.code)

    def get_validity(self, obj) -> str:
        return obj.validity()


@extend_schema(
    operation_id="training_my_certificates",
    responses={200: CertificateOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def my_certificates(request):
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    certificates = list(selectors.my_certificates(user=request.user))
    audit_view(actor=request.user, objects=certificates, fields=["holder_name"], request=request)
    return Response(CertificateOutSerializer(certificates, many=True).data)


my_certificates.ctip_permission = (RESOURCE, permissions.VIEW)


# --- Indicators ---------------------------------------------------------------------------


class IndicatorsInSerializer(serializers.Serializer):
    since = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)


class RowOutSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ShareOutSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    total = serializers.IntegerField()
    by_trained = serializers.IntegerField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    user_field = serializers.CharField()
    reason = serializers.CharField()


class ImprovementOutSerializer(serializers.Serializer):
    participants = serializers.IntegerField()
    mean_pre = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    mean_post = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    mean_change = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    improved = serializers.IntegerField()


class IndicatorsOutSerializer(serializers.Serializer):
    officials_by_country = RowOutSerializer(many=True)
    officials_by_agency = RowOutSerializer(many=True)
    officials_by_type = RowOutSerializer(many=True)
    cases_handled_by_trained = ShareOutSerializer()
    screenings_handled_by_trained_on_form = ShareOutSerializer()
    score_improvement = ImprovementOutSerializer()


@extend_schema(
    operation_id="training_indicators",
    parameters=[
        OpenApiParameter("since", str, description="YYYY-MM-DD, first day of the period"),
        OpenApiParameter("until", str, description="YYYY-MM-DD, last day of the period"),
    ],
    responses={200: IndicatorsOutSerializer, **ERRORS},
)
@api_view(["GET"])
def indicator_values(request):
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    query = IndicatorsInSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    since, until = query.validated_data["since"], query.validated_data["until"]
    data = {
        **{
            f"officials_by_{by}": indicators.officials_trained(by=by, as_of=until, since=since)
            for by in indicators.BY_CHOICES
        },
        "cases_handled_by_trained": indicators.cases_handled_by_trained(since=since, until=until),
        "screenings_handled_by_trained_on_form": indicators.screenings_handled_by_trained(
            since=since, until=until, training_types=[TrainingType.ID_FORM_SOP]
        ),
        "score_improvement": indicators.score_improvement(since=since, until=until),
    }
    return Response(IndicatorsOutSerializer(data).data)


indicator_values.ctip_permission = (RESOURCE, permissions.VIEW)
