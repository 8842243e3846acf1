"""REST endpoints of the monitoring app: the indicators and one indicator's table, and the
monthly migration statistics. Everything here leaves the node, so every count passes the
disclosure control first (small counts come back as null). One input and one output
serializer per endpoint; no personal data."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.core.api import ErrorSerializer
from ctip.monitoring import catalogue, release, selectors, services
from ctip.monitoring import indicators as m

RESOURCE = "monitoring"
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}


class MonitoringIndicatorOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.DictField(child=serializers.CharField())
    unit = serializers.CharField()
    by = serializers.ListField(child=serializers.CharField())


@extend_schema(
    operation_id="monitoring_indicators_list",
    responses={200: MonitoringIndicatorOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def indicator_list(request):
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    codes = {code for code, _by in catalogue.PANELS}
    rows = [
        {"code": i.code, "name": i.name, "unit": i.unit, "by": list(i.by)}
        for i in m.registered()
        if i.code in codes
    ]
    return Response(MonitoringIndicatorOutSerializer(rows, many=True).data)


indicator_list.ctip_permission = (RESOURCE, permissions.VIEW)


class MonitoringTableInSerializer(serializers.Serializer):
    """The period is whole calendar months (``start`` the first day of a month, ``end`` the
    last day of one), or one calendar year for a table whose rows are not months; any other
    period is refused with a 400 naming the parameter, and audited (SECURITY.md #40)."""

    by = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class MonitoringTableOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    by = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    threshold = serializers.IntegerField()
    kind = serializers.CharField()
    rows = serializers.ListField(child=serializers.CharField())
    cols = serializers.ListField(child=serializers.CharField())
    cells = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True))
    )
    row_totals = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), allow_null=True
    )
    col_totals = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), allow_null=True
    )
    total = serializers.IntegerField(allow_null=True)


@extend_schema(
    operation_id="monitoring_indicator_table",
    parameters=[MonitoringTableInSerializer],
    responses={200: MonitoringTableOutSerializer, **ERRORS},
)
@api_view(["GET"])
def indicator_table(request, code: str):
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    query = MonitoringTableInSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    by = query.validated_data["by"]
    if (code, by) not in catalogue.PANELS:
        raise permissions.NotFound()
    start, end = release.default_period(code)
    start = query.validated_data.get("start", start)
    end = query.validated_data.get("end", end)
    try:
        pub = release.published_for(
            code,
            by,
            start=start,
            end=end,
            k=services.threshold(),
            user=request.user,
            channel="api",
            request=request,
        )
    except release.PeriodRefused as refused:
        raise serializers.ValidationError({refused.parameter: [refused.message]}) from None
    data = {
        "code": code,
        "by": by,
        "start": start,
        "end": end,
        "threshold": pub.threshold,
        "kind": pub.kind,
        "rows": list(pub.rows),
        "cols": list(pub.cols),
        "cells": [list(line) for line in pub.cells],
        "row_totals": None if pub.row_totals is None else list(pub.row_totals),
        "col_totals": None if pub.col_totals is None else list(pub.col_totals),
        "total": pub.total,
    }
    return Response(MonitoringTableOutSerializer(data).data)


indicator_table.ctip_permission = (RESOURCE, permissions.VIEW)


class MonitoringStatisticsOutSerializer(serializers.Serializer):
    country = serializers.CharField()
    month = serializers.CharField()
    source = serializers.CharField()
    revision = serializers.IntegerField()
    threshold = serializers.IntegerField()
    border_crossings = serializers.IntegerField(allow_null=True)
    deportations = serializers.IntegerField(allow_null=True)
    returns = serializers.IntegerField(allow_null=True)
    victims = serializers.DictField(allow_null=True)


@extend_schema(
    operation_id="monitoring_statistics_list",
    responses={200: MonitoringStatisticsOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def statistics_list(request):
    """Both countries' monthly figures as they may be published (this node's own through
    the disclosure control; the other node's as received)."""
    rows = []
    for row in selectors.statistics_rows(user=request.user, request=request)[:240]:
        if row.source == "received":
            body = {
                "country": row.country,
                "month": f"{row.month:%Y-%m}",
                "revision": row.revision,
                "threshold": row.threshold or services.threshold(),
                "border_crossings": row.border_crossings,
                "deportations": row.deportations,
                "returns": row.returns,
                "victims": row.victims or None,
            }
        else:
            body = services.statistics_body(row, user=request.user, channel="api", request=request)
        rows.append({**body, "source": row.source})
    return Response(MonitoringStatisticsOutSerializer(rows, many=True).data)


statistics_list.ctip_permission = (RESOURCE, permissions.VIEW)
