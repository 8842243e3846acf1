"""REST endpoints of the plan: the current plan with its status, activity statuses, and
one workflow action (report a status)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.core.api import ErrorSerializer
from ctip.plan import selectors, services
from ctip.plan.apps import CHANGE, VIEW
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
