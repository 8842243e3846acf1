from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError

from ctip.accounts import permissions
from ctip.audit.views import AuditFilterForm, filter_events
from ctip.core.api import ErrorSerializer, Pagination, paginated


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    node = serializers.CharField()
    actor_username = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    ip = serializers.CharField()
    details = serializers.DictField()
    hash = serializers.CharField()


@extend_schema(
    operation_id="audit_events_list",
    parameters=[
        OpenApiParameter(name, str)
        for name in ("actor", "action", "object_type", "object_id", "since", "until")
    ],
    responses={
        200: AuditEventSerializer(many=True),
        400: OpenApiResponse(ErrorSerializer),
        401: OpenApiResponse(ErrorSerializer),
        403: OpenApiResponse(ErrorSerializer),
        404: OpenApiResponse(ErrorSerializer),
    },
)
@paginated
@api_view(["GET"])
def event_list(request):
    permissions.require(request.user, "audit", permissions.VIEW, request=request)
    form = AuditFilterForm(request.query_params)
    if not form.is_valid():
        raise ValidationError(form.errors)
    paginator = Pagination()
    page = paginator.paginate_queryset(filter_events(form.cleaned_data), request)
    return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)


event_list.ctip_permission = ("audit", permissions.VIEW)
