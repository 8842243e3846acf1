"""REST endpoints of the plan: the current plan with its status, activity statuses, one
version with its endorsements, progress reports, and the workflow actions (report a status,
record an endorsement, send a report to the other node)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.core.api import ErrorSerializer
from ctip.plan import selectors, services
from ctip.plan.apps import AMEND, CHANGE, VIEW
from ctip.plan.models import Status

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}


class PlanOutSerializer(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.DictField()
    title = serializers.DictField(child=serializers.CharField(allow_blank=True))
    areas = serializers.ListField(child=serializers.DictField())
    agencies = serializers.ListField(child=serializers.DictField())
    activities = serializers.ListField(child=serializers.DictField())
    financial_notes = serializers.ListField(child=serializers.DictField())
    endorsements = serializers.ListField(child=serializers.DictField())


class CountryStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    as_of = serializers.DateField(allow_null=True)
    next_step = serializers.CharField(allow_blank=True)
    next_step_due = serializers.DateField(allow_null=True)


class ActivityStatusOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    area = serializers.CharField()
    text = serializers.CharField()
    open_questions = serializers.IntegerField()
    KH = CountryStatusSerializer()
    CN = CountryStatusSerializer()


class StatusInSerializer(serializers.Serializer):
    country = serializers.ChoiceField(choices=Country.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    as_of = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    next_step_due = serializers.DateField(required=False, allow_null=True, default=None)
    evidence_url = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )
    step = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)


class StatusOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    activity = serializers.CharField(source="activity.number")
    country = serializers.CharField()
    status = serializers.CharField()
    as_of = serializers.DateField()
    next_step = serializers.CharField()
    next_step_due = serializers.DateField(allow_null=True)


@extend_schema(operation_id="plan_retrieve", responses={200: PlanOutSerializer, **ERRORS})
@api_view(["GET"])
def plan(request):
    permissions.require(request.user, "plan", VIEW, request=request)
    data = selectors.export_document(user=request.user)
    if data is None:
        raise permissions.NotFound()
    return Response(PlanOutSerializer(data).data)


plan.ctip_permission = ("plan", VIEW)


def _country(update) -> dict:
    return {
        "status": update.status if update else Status.NOT_STARTED.value,
        "as_of": update.as_of if update else None,
        "next_step": update.next_step if update else "",
        "next_step_due": update.next_step_due if update else None,
    }


@extend_schema(
    operation_id="plan_activities_list",
    responses={200: ActivityStatusOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def activities(request):
    permissions.require(request.user, "plan", VIEW, request=request)
    filters = selectors.Filters(area=request.query_params.get("area", "")[:8])
    rows = selectors.activity_rows(
        user=request.user, filters=selectors.Filters.from_query({"area": filters.area})
    )
    data = [
        {
            "number": row.activity.number,
            "area": row.activity.area.code,
            "text": row.activity.text_en,
            "open_questions": row.open_questions,
            "KH": _country(row.statuses.get("KH")),
            "CN": _country(row.statuses.get("CN")),
        }
        for row in rows
    ]
    return Response(ActivityStatusOutSerializer(data, many=True).data)


activities.ctip_permission = ("plan", VIEW)


@extend_schema(
    operation_id="plan_activity_status_create",
    request=StatusInSerializer,
    responses={201: StatusOutSerializer, **ERRORS},
)
@api_view(["POST"])
def activity_status(request, number: str):
    permissions.require(request.user, "plan", CHANGE, request=request)
    activity = selectors.access_activity(request.user, number, request=request)
    serializer = StatusInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        update = services.status_update_record(
            user=request.user,
            activity=activity,
            country=data["country"],
            data=services.StatusInput(
                status=data["status"],
                as_of=data["as_of"],
                note=data["note"],
                next_step=data["next_step"],
                next_step_due=data["next_step_due"],
                evidence_url=data["evidence_url"],
                step_position=data["step"],
            ),
            request=request,
        )
    except services.PlanError as exc:
        raise serializers.ValidationError({"activity": [str(exc)]}) from None
    except services.ValidationError as exc:
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        raise serializers.ValidationError(detail) from None
    return Response(StatusOutSerializer(update).data, status=201)


activity_status.ctip_permission = ("plan", CHANGE)


# --- Versions and endorsements ----------------------------------------------------------------


class EndorsementOutSerializer(serializers.Serializer):
    party = serializers.CharField()
    endorsed_by = serializers.CharField()
    endorsed_on = serializers.DateField()
    meeting = serializers.CharField()
    content_hash = serializers.CharField()
    received_from = serializers.CharField(allow_blank=True)
    recorded_at = serializers.DateTimeField()


class VersionOutSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    content_hash = serializers.CharField()
    reason = serializers.CharField()
    agreed = serializers.BooleanField(source="is_agreed")
    endorsements = EndorsementOutSerializer(many=True, source="endorsements.all")


@extend_schema(
    operation_id="plan_version_retrieve", responses={200: VersionOutSerializer, **ERRORS}
)
@api_view(["GET"])
def version(request, number: int):
    version = selectors.access_version(request.user, number, request=request)
    return Response(VersionOutSerializer(version).data)


version.ctip_permission = ("plan", VIEW)


class EndorsementInSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=Country.choices)
    endorsed_by = serializers.CharField(max_length=200)
    endorsed_on = serializers.DateField()
    meeting = serializers.CharField(max_length=300)


def _validation(exc) -> serializers.ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


@extend_schema(
    operation_id="plan_version_endorsement_create",
    request=EndorsementInSerializer,
    responses={201: VersionOutSerializer, **ERRORS},
)
@api_view(["POST"])
def version_endorse(request, number: int):
    """Record one party's endorsement; this node's own party's is sent to the other node."""
    permissions.require(request.user, "plan", AMEND, request=request)
    version = selectors.access_version(request.user, number, request=request)
    serializer = EndorsementInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    if version.endorsements.filter(party=serializer.validated_data["party"]).exists():
        raise serializers.ValidationError({"party": ["This party has already endorsed."]})
    try:
        services.endorsement_record(
            user=request.user, version=version, request=request, **serializer.validated_data
        )
    except services.ValidationError as exc:
        raise _validation(exc) from None
    version = selectors.access_version(request.user, number, request=request)
    return Response(VersionOutSerializer(version).data, status=201)


version_endorse.ctip_permission = ("plan", AMEND)


# --- Progress reports ---------------------------------------------------------------------------


class ReportOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    country = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    language = serializers.CharField()
    version = serializers.IntegerField(source="content.version", allow_null=True)
    created_at = serializers.DateTimeField()
    received_from = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)


@extend_schema(
    operation_id="plan_reports_list", responses={200: ReportOutSerializer(many=True), **ERRORS}
)
@api_view(["GET"])
def reports(request):
    rows = selectors.report_list(user=request.user)[:200]
    return Response(ReportOutSerializer(rows, many=True).data)


reports.ctip_permission = ("plan", VIEW)


class ReportSendInSerializer(serializers.Serializer):
    """No fields: the report is named by the path."""


class ReportSendOutSerializer(serializers.Serializer):
    report = ReportOutSerializer()
    sent_to = serializers.ListField(child=serializers.CharField())


@extend_schema(
    operation_id="plan_report_send",
    request=ReportSendInSerializer,
    responses={202: ReportSendOutSerializer, **ERRORS},
)
@api_view(["POST"])
def report_send(request, pk):
    """Queue one of this node's progress reports for the other node, through the exchange."""
    permissions.require(request.user, "plan", AMEND, request=request)
    report = selectors.access_report(request.user, pk, request=request)
    ReportSendInSerializer(data=request.data).is_valid(raise_exception=True)
    try:
        sent_to = services.report_send(user=request.user, report=report, request=request)
    except services.PlanError as exc:
        raise serializers.ValidationError({"report": [str(exc)]}) from None
    return Response(ReportSendOutSerializer({"report": report, "sent_to": sent_to}).data, 202)


report_send.ctip_permission = ("plan", AMEND)
