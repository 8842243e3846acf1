from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Agency
from ctip.core.api import ErrorSerializer, Pagination, paginated

AUTH_ERRORS = {401: OpenApiResponse(ErrorSerializer), 403: OpenApiResponse(ErrorSerializer)}


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    agency = serializers.CharField(source="agency.code", allow_null=True)
    country = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    sees_personal_data = serializers.BooleanField()


class AgencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_km = serializers.CharField()
    name_zh_hans = serializers.CharField()
    type = serializers.CharField()
    country = serializers.CharField()
    parent = serializers.CharField(source="parent.code", allow_null=True)


@extend_schema(operation_id="me_retrieve", responses={200: MeSerializer, **AUTH_ERRORS})
@api_view(["GET"])
def me(request):
    user = request.user
    data = {
        "username": user.username,
        "agency": user.agency,
        "country": user.country,
        "roles": sorted(user.roles),
        "sees_personal_data": permissions.sees_pii(user),
    }
    return Response(MeSerializer(data).data)


me.ctip_permission = ("signed_in", None)


@extend_schema(
    operation_id="agencies_list",
    responses={
        200: AgencySerializer(many=True),
        400: OpenApiResponse(ErrorSerializer),  # a limit or offset that is not a number
        **AUTH_ERRORS,
    },
)
@paginated
@api_view(["GET"])
def agency_list(request):
    # Agencies are the public structure of both governments' response: any signed-in user.
    paginator = Pagination()
    page = paginator.paginate_queryset(Agency.objects.select_related("parent"), request)
    return paginator.get_paginated_response(AgencySerializer(page, many=True).data)


agency_list.ctip_permission = ("signed_in", None)
