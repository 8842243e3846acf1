"""REST endpoints of the directory.

``directory/public`` is open to everyone (no sign-in) and returns only published entries,
and of those only the public fields. The other endpoints need a signed-in user with the
``directory`` (or ``shelter_assessment``) capability; changes go through the services, so
only directory editors and node administrators make them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Agency
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.directory import selectors, services
from ctip.directory.codes import LANGUAGES
from ctip.directory.models import (
    Channel,
    FollowUpStatus,
    PostType,
    RegistrationStatus,
    Sector,
    ServiceType,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
PUBLIC_LIMIT = 500


def field_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})


class NamesMixin(serializers.Serializer):
    name_en = serializers.CharField()
    name_km = serializers.CharField()
    name_zh_hans = serializers.CharField()


# --- public -------------------------------------------------------------------------------


class PublicQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    kind = serializers.ChoiceField(choices=["", "focal", "service"], required=False, default="")
    type = serializers.ChoiceField(choices=["", *ServiceType.values], required=False, default="")
    country = serializers.ChoiceField(choices=["", "KH", "CN"], required=False, default="")
    lang = serializers.ChoiceField(choices=["", *LANGUAGES], required=False, default="")


class PublicLanguageSerializer(serializers.Serializer):
    code = serializers.CharField()
    level = serializers.CharField()


class PublicFocalPersonSerializer(NamesMixin):
    id = serializers.UUIDField()
    country = serializers.CharField()
    title_en = serializers.CharField()
    title_km = serializers.CharField()
    title_zh_hans = serializers.CharField()
    agency = serializers.CharField(source="agency.name_en")
    agency_km = serializers.CharField(source="agency.name_km")
    agency_zh_hans = serializers.CharField(source="agency.name_zh_hans")
    post_type = serializers.CharField()
    post_city = serializers.CharField()
    post_country = serializers.CharField()
    responsibilities = serializers.ListField(child=serializers.CharField())
    languages = PublicLanguageSerializer(many=True)
    hours = serializers.CharField()
    phone = serializers.CharField()
    mobile = serializers.CharField()
    email = serializers.CharField()
    wechat = serializers.CharField()
    telegram = serializers.CharField()
    whatsapp = serializers.CharField()
    preferred_channel = serializers.CharField()
    updated_at = serializers.DateTimeField()


class PublicServiceSerializer(NamesMixin):
    id = serializers.UUIDField()
    country = serializers.CharField()
    service_type = serializers.CharField()
    sector = serializers.CharField()
    provider = serializers.CharField(source="provider.name_en")
    provider_km = serializers.CharField(source="provider.name_km")
    provider_zh_hans = serializers.CharField(source="provider.name_zh_hans")
    description_en = serializers.CharField()
    description_km = serializers.CharField()
    description_zh_hans = serializers.CharField()
    serves_women = serializers.BooleanField()
    serves_men = serializers.BooleanField()
    serves_children = serializers.BooleanField()
    nationalities = serializers.ListField(child=serializers.CharField())
    city = serializers.CharField()
    coverage_areas = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    phone = serializers.CharField()
    hotline = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()
    hours = serializers.CharField()
    registration_status = serializers.CharField()
    updated_at = serializers.DateTimeField()


class PublicDirectorySerializer(serializers.Serializer):
    focal_persons = PublicFocalPersonSerializer(many=True)
    services = PublicServiceSerializer(many=True)
    truncated = serializers.BooleanField()


@extend_schema(
    operation_id="directory_public",
    parameters=[PublicQuerySerializer],
    responses={200: PublicDirectorySerializer, 400: ERRORS[400]},
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def public_directory(request):
    query = PublicQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    f = query.validated_data
    common = {"query": f["q"], "country": f["country"], "language": f["lang"]}
    focal, found = [], []
    if f["kind"] == "focal" or (f["kind"] == "" and not f["type"]):
        focal = list(selectors.public_focal_persons(**common)[: PUBLIC_LIMIT + 1])
    if f["kind"] in ("", "service"):
        found = list(
            selectors.public_services(service_type=f["type"], **common)[: PUBLIC_LIMIT + 1]
        )
    data = {
        "focal_persons": focal[:PUBLIC_LIMIT],
        "services": found[:PUBLIC_LIMIT],
        "truncated": len(focal) > PUBLIC_LIMIT or len(found) > PUBLIC_LIMIT,
    }
    return Response(PublicDirectorySerializer(data).data)


public_directory.ctip_permission = ("public", None)


# --- services -----------------------------------------------------------------------------


class ServiceOutSerializer(PublicServiceSerializer):
    provider_code = serializers.CharField(source="provider.code")
    published = serializers.BooleanField()
    capacity = serializers.IntegerField(allow_null=True)
    places_available = serializers.IntegerField(allow_null=True)
    availability_updated_at = serializers.DateTimeField(allow_null=True)
    address = serializers.CharField()
    registration_number = serializers.CharField()
    registration_authority = serializers.CharField()
    registered_on = serializers.DateField(allow_null=True)
    renewal_due = serializers.DateField(allow_null=True)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ServiceInSerializer(serializers.Serializer):
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    sector = serializers.ChoiceField(choices=Sector.choices)
    provider = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    name_en = serializers.CharField(max_length=200)
    name_km = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    description_km = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    description_zh_hans = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    serves_women = serializers.BooleanField(required=False, default=True)
    serves_men = serializers.BooleanField(required=False, default=True)
    serves_children = serializers.BooleanField(required=False, default=False)
    nationalities = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list, max_length=60
    )
    city = serializers.CharField(max_length=100)
    coverage_areas = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=60
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=5), required=False, default=list, max_length=20
    )
    capacity = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    places_available = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    hotline = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hours = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    registration_status = serializers.ChoiceField(
        choices=RegistrationStatus.choices, required=False, default="pending"
    )
    registration_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    registration_authority = serializers.CharField(max_length=200, required=False, allow_blank=True)
    registered_on = serializers.DateField(required=False, allow_null=True)
    renewal_due = serializers.DateField(required=False, allow_null=True)
    published = serializers.BooleanField(required=False, default=False)


class ServicePatchSerializer(ServiceInSerializer):
    """The same fields as for registering, each optional: only those given change."""

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


LIST_PARAMS = [
    OpenApiParameter("q", str, description="words in names, places or descriptions"),
    OpenApiParameter("type", str, enum=ServiceType.values),
    OpenApiParameter("country", str, enum=["KH", "CN"]),
    OpenApiParameter("lang", str, description="language code, e.g. km, zh"),
]


@extend_schema(
    methods=["GET"],
    operation_id="directory_services_list",
    parameters=LIST_PARAMS,
    responses={200: ServiceOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="directory_services_create",
    request=ServiceInSerializer,
    responses={201: ServiceOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def service_collection(request):
    if request.method == "POST":
        permissions.require(request.user, "directory", permissions.CREATE, request=request)
        serializer = ServiceInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            service = services.service_create(
                user=request.user,
                data=services.ServiceInput(**serializer.validated_data),
                request=request,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from None
        return Response(ServiceOutSerializer(service).data, status=201)
    permissions.require(request.user, "directory", permissions.VIEW, request=request)
    p = request.query_params
    qs = selectors.service_list(
        user=request.user,
        query=p.get("q", "")[:200],
        service_type=p.get("type", ""),
        country=p.get("country", ""),
        language=p.get("lang", ""),
    )
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(ServiceOutSerializer(page, many=True).data)


service_collection.ctip_permission = ("directory", permissions.VIEW)


@extend_schema(
    methods=["GET"],
    operation_id="directory_services_retrieve",
    responses={200: ServiceOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="directory_services_update",
    request=ServicePatchSerializer,
    responses={200: ServiceOutSerializer, **ERRORS},
)
@api_view(["GET", "PATCH"])
def service_item(request, pk):
    if request.method == "PATCH":
        service = selectors.access_service(
            request.user, pk, action=permissions.CHANGE, request=request
        )
        serializer = ServicePatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            service = services.service_update(
                user=request.user,
                service=service,
                changes=dict(serializer.validated_data),
                request=request,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from None
        return Response(ServiceOutSerializer(service).data)
    service = selectors.access_service(request.user, pk, request=request)
    return Response(ServiceOutSerializer(service).data)


service_item.ctip_permission = ("directory", permissions.VIEW)


# --- focal persons ------------------------------------------------------------------------


class FocalPersonOutSerializer(PublicFocalPersonSerializer):
    agency_code = serializers.CharField(source="agency.code")
    published = serializers.BooleanField()
    appointed_on = serializers.DateField()
    appointment_reference = serializers.CharField()
    ends_on = serializers.DateField(allow_null=True)
    is_current = serializers.BooleanField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class LanguageLevelInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=5)
    level = serializers.CharField(max_length=10)


class FocalPersonInSerializer(serializers.Serializer):
    agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    name_en = serializers.CharField(max_length=200)
    name_km = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_en = serializers.CharField(max_length=200)
    title_km = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    post_type = serializers.ChoiceField(choices=PostType.choices)
    post_city = serializers.CharField(max_length=100)
    post_country = serializers.CharField(max_length=2)
    responsibilities = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=20
    )
    languages = LanguageLevelInSerializer(many=True, max_length=20)
    hours = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    wechat = serializers.CharField(max_length=30, required=False, allow_blank=True)
    telegram = serializers.CharField(max_length=40, required=False, allow_blank=True)
    whatsapp = serializers.CharField(max_length=30, required=False, allow_blank=True)
    preferred_channel = serializers.ChoiceField(
        choices=["", *Channel.values], required=False, default=""
    )
    appointed_on = serializers.DateField()
    appointment_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    published = serializers.BooleanField(required=False, default=False)


class FocalPersonPatchSerializer(FocalPersonInSerializer):
    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


def _plain(data: dict) -> dict:
    out = dict(data)
    if "languages" in out:
        out["languages"] = [dict(item) for item in out["languages"]]
    return out


@extend_schema(
    methods=["GET"],
    operation_id="directory_focal_persons_list",
    parameters=LIST_PARAMS[:1] + LIST_PARAMS[2:],
    responses={200: FocalPersonOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="directory_focal_persons_create",
    request=FocalPersonInSerializer,
    responses={201: FocalPersonOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def focal_person_collection(request):
    if request.method == "POST":
        permissions.require(request.user, "directory", permissions.CREATE, request=request)
        serializer = FocalPersonInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            person = services.focal_person_create(
                user=request.user,
                data=services.FocalPersonInput(**_plain(serializer.validated_data)),
                request=request,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from None
        return Response(FocalPersonOutSerializer(person).data, status=201)
    permissions.require(request.user, "directory", permissions.VIEW, request=request)
    p = request.query_params
    qs = selectors.focal_person_list(
        user=request.user,
        query=p.get("q", "")[:200],
        country=p.get("country", ""),
        language=p.get("lang", ""),
    )
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(FocalPersonOutSerializer(page, many=True).data)


focal_person_collection.ctip_permission = ("directory", permissions.VIEW)


@extend_schema(
    methods=["GET"],
    operation_id="directory_focal_persons_retrieve",
    responses={200: FocalPersonOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="directory_focal_persons_update",
    request=FocalPersonPatchSerializer,
    responses={200: FocalPersonOutSerializer, **ERRORS},
)
@api_view(["GET", "PATCH"])
def focal_person_item(request, pk):
    if request.method == "PATCH":
        person = selectors.access_focal_person(
            request.user, pk, action=permissions.CHANGE, request=request
        )
        serializer = FocalPersonPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            person = services.focal_person_update(
                user=request.user,
                person=person,
                changes=_plain(serializer.validated_data),
                request=request,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from None
        return Response(FocalPersonOutSerializer(person).data)
    person = selectors.access_focal_person(request.user, pk, request=request)
    return Response(FocalPersonOutSerializer(person).data)


focal_person_item.ctip_permission = ("directory", permissions.VIEW)


# --- shelter assessments ------------------------------------------------------------------


class ScoreOutSerializer(serializers.Serializer):
    standard = serializers.CharField(source="standard.code")
    score = serializers.IntegerField(allow_null=True)
    not_applicable = serializers.BooleanField()
    evidence = serializers.CharField()


class FollowUpOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    standard = serializers.CharField(source="standard.code", allow_null=True)
    action = serializers.CharField()
    responsible = serializers.CharField()
    due_on = serializers.DateField()
    status = serializers.CharField()
    completed_on = serializers.DateField(allow_null=True)
    outcome = serializers.CharField()
    is_overdue = serializers.BooleanField()


class AssessmentOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    shelter = serializers.UUIDField(source="service_id")
    checklist = serializers.CharField(source="checklist.code")
    checklist_version = serializers.IntegerField(source="checklist.version")
    assessed_on = serializers.DateField()
    assessing_agency = serializers.CharField(source="assessing_agency.code")
    team = serializers.CharField()
    summary = serializers.CharField()
    next_assessment_due = serializers.DateField(allow_null=True)
    compliance = serializers.CharField()
    score_total = serializers.IntegerField()
    score_max = serializers.IntegerField()
    scores = ScoreOutSerializer(many=True)
    follow_ups = FollowUpOutSerializer(many=True)


class ScoreInSerializer(serializers.Serializer):
    standard = serializers.CharField(max_length=12)
    score = serializers.IntegerField(required=False, allow_null=True)
    not_applicable = serializers.BooleanField(required=False, default=False)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class AssessmentInSerializer(serializers.Serializer):
    assessed_on = serializers.DateField()
    assessing_agency = serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.all()
    )
    team = serializers.CharField(max_length=300, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    next_assessment_due = serializers.DateField(required=False, allow_null=True)
    scores = ScoreInSerializer(many=True, max_length=200)


@extend_schema(
    methods=["GET"],
    operation_id="directory_assessments_list",
    responses={200: AssessmentOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="directory_assessments_create",
    request=AssessmentInSerializer,
    responses={201: AssessmentOutSerializer, **ERRORS},
)
@api_view(["GET", "POST"])
def shelter_assessments(request, pk):
    user = request.user
    if request.method == "POST":
        permissions.require(user, "shelter_assessment", permissions.CREATE, request=request)
        service = selectors.access_service(user, pk, request=request)
        serializer = AssessmentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        scores = [
            services.ScoreInput(
                s["standard"], s.get("score"), s["not_applicable"], s.get("evidence", "")
            )
            for s in data.pop("scores")
        ]
        try:
            assessment = services.assessment_record(
                user=user,
                service=service,
                checklist=selectors.current_checklist(service.country),
                scores=scores,
                request=request,
                **data,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from None
        return Response(AssessmentOutSerializer(assessment).data, status=201)
    permissions.require(user, "shelter_assessment", permissions.VIEW, request=request)
    service = selectors.access_service(user, pk, request=request)
    items = selectors.assessment_list(user=user, service=service).prefetch_related(
        "follow_ups__standard"
    )
    return Response(AssessmentOutSerializer(items, many=True).data)


shelter_assessments.ctip_permission = ("shelter_assessment", permissions.VIEW)


class FollowUpInSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=5000)
    responsible = serializers.CharField(max_length=200)
    due_on = serializers.DateField()
    standard = serializers.CharField(max_length=12, required=False, allow_blank=True)


@extend_schema(
    operation_id="directory_follow_ups_create",
    request=FollowUpInSerializer,
    responses={201: FollowUpOutSerializer, **ERRORS},
)
@api_view(["POST"])
def follow_up_create(request, pk):
    assessment = selectors.access_assessment(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    serializer = FollowUpInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    code = data.pop("standard", "")
    standard = assessment.checklist.standards.filter(code=code).first() if code else None
    if code and standard is None:
        raise serializers.ValidationError({"standard": ["Unknown standard of this checklist."]})
    try:
        follow_up = services.follow_up_create(
            user=request.user, assessment=assessment, standard=standard, request=request, **data
        )
    except DjangoValidationError as exc:
        raise field_errors(exc) from None
    return Response(FollowUpOutSerializer(follow_up).data, status=201)


follow_up_create.ctip_permission = ("shelter_assessment", permissions.CHANGE)


class FollowUpCloseInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[FollowUpStatus.DONE, FollowUpStatus.CANCELLED])
    completed_on = serializers.DateField()
    outcome = serializers.CharField(max_length=5000)


@extend_schema(
    operation_id="directory_follow_ups_close",
    request=FollowUpCloseInSerializer,
    responses={200: FollowUpOutSerializer, **ERRORS},
)
@api_view(["POST"])
def follow_up_close(request, pk):
    follow_up = selectors.access_follow_up(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    serializer = FollowUpCloseInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        follow_up = services.follow_up_close(
            user=request.user, follow_up=follow_up, request=request, **serializer.validated_data
        )
    except DjangoValidationError as exc:
        raise field_errors(exc) from None
    return Response(FollowUpOutSerializer(follow_up).data)


follow_up_close.ctip_permission = ("shelter_assessment", permissions.CHANGE)
