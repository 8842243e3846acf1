"""Read-only REST endpoints for watching the link: peers, sent and received messages.

Metadata only (types, sequence numbers, opaque case references, statuses, reasons), for
the node administrator and the data protection officer. Message bodies never appear.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.exchange import selectors
from ctip.exchange.models import OutboxStatus

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}


class PeerOutSerializer(serializers.Serializer):
    node_id = serializers.CharField(source="peer.node_id")
    url = serializers.CharField(source="peer.url")
    fingerprint = serializers.CharField()
    anchor_version = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    received = serializers.IntegerField()
    oldest_waiting = serializers.DateTimeField(allow_null=True)
    alert_raised_at = serializers.DateTimeField(source="peer.alert_raised_at", allow_null=True)


@extend_schema(
    operation_id="exchange_peers_list",
    responses={200: PeerOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def peer_list(request):
    permissions.require(request.user, "exchange", permissions.VIEW, request=request)
    rows = selectors.peer_overview(user=request.user)
    return Response(PeerOutSerializer(rows, many=True).data)


peer_list.ctip_permission = ("exchange", permissions.VIEW)


class OutboxQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OutboxStatus.choices, required=False)
    peer = serializers.RegexField(r"^[A-Z]{2}$", required=False)


class OutboxOutSerializer(serializers.Serializer):
    msg_id = serializers.UUIDField(source="id")
    peer = serializers.CharField(source="peer.node_id")
    seq = serializers.IntegerField()
    msg_type = serializers.CharField()
    schema_version = serializers.IntegerField()
    case_ref = serializers.CharField()
    purpose = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    transport = serializers.CharField()
    reason = serializers.CharField(source="last_error")
    reason_detail = serializers.CharField(source="last_error_detail")


@extend_schema(
    operation_id="exchange_outbox_list",
    parameters=[OutboxQuerySerializer],
    responses={200: OutboxOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def outbox_list(request):
    permissions.require(request.user, "exchange", permissions.VIEW, request=request)
    query = OutboxQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    qs = selectors.outbox_list(user=request.user, **query.validated_data)
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(OutboxOutSerializer(page, many=True).data)


outbox_list.ctip_permission = ("exchange", permissions.VIEW)


class InboxQuerySerializer(serializers.Serializer):
    peer = serializers.RegexField(r"^[A-Z]{2}$", required=False)


class InboxOutSerializer(serializers.Serializer):
    msg_id = serializers.UUIDField()
    peer = serializers.CharField(source="peer.node_id")
    seq = serializers.IntegerField()
    msg_type = serializers.CharField()
    schema_version = serializers.IntegerField()
    case_ref = serializers.CharField()
    purpose = serializers.CharField()
    transport = serializers.CharField()
    sent_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()


@extend_schema(
    operation_id="exchange_inbox_list",
    parameters=[InboxQuerySerializer],
    responses={200: InboxOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def inbox_list(request):
    permissions.require(request.user, "exchange", permissions.VIEW, request=request)
    query = InboxQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    qs = selectors.inbox_list(user=request.user, **query.validated_data)
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(InboxOutSerializer(page, many=True).data)


inbox_list.ctip_permission = ("exchange", permissions.VIEW)
