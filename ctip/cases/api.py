"""REST endpoints for persons. Personal fields appear only for roles that may see them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.audit.services import audit_view
from ctip.cases import selectors, services
from ctip.cases.models import Person, Sex
from ctip.core.api import ErrorSerializer

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}


class PersonOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    owner_agency = serializers.CharField(source="owner_agency.code")
    sex = serializers.CharField()
    birth = serializers.CharField(source="birth_display")
    nationality = serializers.CharField()
    created_at = serializers.DateTimeField()
    name_km = serializers.CharField(required=False, allow_null=True)
    name_zh = serializers.CharField(required=False, allow_null=True)
    name_latin = serializers.CharField(required=False, allow_null=True)
    aliases = serializers.CharField(required=False, allow_null=True)
    document_number = serializers.CharField(required=False, allow_null=True)
    contact = serializers.CharField(required=False, allow_null=True)
    place_of_origin = serializers.CharField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_null=True)

    def __init__(self, *args, show_pii: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_pii:
            for name in Person.PII_FIELDS:
                self.fields.pop(name)


class PersonInSerializer(serializers.Serializer):
    name_km = serializers.CharField(required=False, allow_blank=True, max_length=200)
    name_zh = serializers.CharField(required=False, allow_blank=True, max_length=200)
    name_latin = serializers.CharField(required=False, allow_blank=True, max_length=200)
    aliases = serializers.CharField(required=False, allow_blank=True, max_length=500)
    document_number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    place_of_origin = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    sex = serializers.ChoiceField(choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = serializers.IntegerField(
        required=False, allow_null=True, min_value=1900, max_value=2100
    )
    birth_month = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=12
    )
    birth_day = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=31)
    age_estimate = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120
    )
    nationality = serializers.ChoiceField(
        choices=["", "KH", "CN", "XX"], required=False, default=""
    )

    def validate(self, attrs):
        if not any(attrs.get(f) for f in ("name_km", "name_zh", "name_latin")):
            raise serializers.ValidationError(
                {"name_latin": ["Give the name in at least one script."]}
            )
        if attrs.get("birth_month") and not attrs.get("birth_year"):
            raise serializers.ValidationError(
                {"birth_month": ["A birth month needs a birth year."]}
            )
        if attrs.get("birth_day") and not attrs.get("birth_month"):
            raise serializers.ValidationError({"birth_day": ["A birth day needs a birth month."]})
        return attrs


def _out(request, objects, many=False):
    show = permissions.sees_pii(request.user)
    if show:
        items = objects if many else [objects]
        audit_view(actor=request.user, objects=items, fields=Person.PII_FIELDS, request=request)
    return PersonOutSerializer(objects, many=many, show_pii=show).data


@extend_schema(
    methods=["GET"],
    operation_id="persons_list",
    parameters=[OpenApiParameter("q", str, description="exact name or document search")],
    responses={200: PersonOutSerializer(many=True, show_pii=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="persons_create",
    request=PersonInSerializer,
    responses={201: PersonOutSerializer(show_pii=True), **ERRORS},
)
@api_view(["GET", "POST"])
def persons(request):
    if request.method == "POST":
        permissions.require(request.user, "person", permissions.CREATE, request=request)
        serializer = PersonInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = services.person_create(
            user=request.user,
            data=services.PersonInput(**serializer.validated_data),
            request=request,
        )
        return Response(_out(request, person), status=201)
    permissions.require(request.user, "person", permissions.VIEW, request=request)
    qs = selectors.person_list(user=request.user, query=request.query_params.get("q", "")[:200])
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(_out(request, page, many=True))


persons.ctip_permission = ("person", permissions.VIEW)


@extend_schema(
    operation_id="persons_retrieve", responses={200: PersonOutSerializer(show_pii=True), **ERRORS}
)
@api_view(["GET"])
def person_detail(request, pk):
    person = selectors.access_person(request.user, pk, request=request)
    return Response(_out(request, person))


person_detail.ctip_permission = ("person", permissions.VIEW)
