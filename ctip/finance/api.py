"""REST endpoints of the finance app, under /api/v1/finance/.

Amounts travel as decimal strings ("1250.50"), never as JSON numbers, so that no client
turns them into binary floating point. Bad input answers 400 with one error per field, the
same sentences as the web pages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.core.api import ErrorSerializer
from ctip.finance import core, selectors, services, sources, statements
from ctip.finance.models import (
    Category,
    Currency,
    DonorKind,
    EntryKind,
    MeetingKind,
    MeetingSource,
    MemberRole,
    SupportType,
)

R = "finance"
VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
PARTIES = [c for c, _label in Country.choices]


def _call(func, **kwargs):
    """Run a service; its field errors become a 400 in the API's one error shape."""
    try:
        return func(**kwargs)
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
        raise ValidationError(detail) from None


def _money(value: core.Money | None) -> dict | None:
    if value is None:
        return None
    return {"amount": f"{value.amount:f}", "currency": value.currency.value}


class FinanceMoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="Decimal string, e.g. 1250.50 (KHR: whole riel)")
    currency = serializers.ChoiceField(choices=Currency.choices)


class FinanceRateInSerializer(serializers.Serializer):
    rate = serializers.CharField(required=False, allow_blank=True, max_length=40)
    rate_base = serializers.CharField(required=False, allow_blank=True, max_length=3)
    rate_date = serializers.DateField(required=False, allow_null=True)

    def rate_input(self) -> services.RateInput:
        d = self.validated_data
        return services.RateInput(
            rate=d.get("rate") or None,
            rate_base=(d.get("rate_base") or "").upper(),
            rate_date=d.get("rate_date"),
        )


# --- Meetings -----------------------------------------------------------------------------


class FinanceMeetingOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    title_km = serializers.CharField()
    title_zh_hans = serializers.CharField()
    kind = serializers.CharField()
    plan_activity = serializers.CharField()
    host_country = serializers.CharField()
    place = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reporting_currency = serializers.CharField()
    ruleset = serializers.CharField()
    source_type = serializers.CharField(help_text="taken from: training, enforcement, or empty")
    source_id = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    parties = serializers.SerializerMethodField()

    def get_parties(self, meeting) -> list[str]:
        return sorted(meeting.party_codes(), key=PARTIES.index)


class FinanceMeetingInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    title_km = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    plan_activity = serializers.CharField(max_length=8, required=False, allow_blank=True)
    host_country = serializers.CharField(max_length=2)
    place = serializers.CharField(max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reporting_currency = serializers.CharField(max_length=10, default="USD")


@extend_schema(
    methods=["GET"],
    operation_id="finance_meetings_list",
    parameters=[OpenApiParameter("year", int, description="meetings starting in this year")],
    responses={200: FinanceMeetingOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="finance_meetings_create",
    request=FinanceMeetingInSerializer,
    responses={201: FinanceMeetingOutSerializer, **ERRORS},
)
@api_view(["GET", "POST"])
def meetings(request):
    if request.method == "POST":
        permissions.require(request.user, R, CREATE, request=request)
        s = FinanceMeetingInSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        meeting = _call(
            services.meeting_create,
            user=request.user,
            data=services.MeetingInput(**s.validated_data),
            request=request,
        )
        return Response(FinanceMeetingOutSerializer(meeting).data, status=201)
    permissions.require(request.user, R, VIEW, request=request)
    try:
        year = int(request.query_params.get("year", "") or 0) or None
    except ValueError:
        raise ValidationError({"year": ["Give a year, such as 2019."]}) from None
    qs = selectors.meeting_list(user=request.user, year=year)[:500]
    return Response(FinanceMeetingOutSerializer(qs, many=True).data)


meetings.ctip_permission = (R, VIEW)


class FinanceSourceOutSerializer(serializers.Serializer):
    source_type = serializers.ChoiceField(choices=MeetingSource.choices)
    source_id = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    host_country = serializers.CharField()
    place = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    parties = serializers.ListField(child=serializers.CharField())
    meeting = serializers.UUIDField(allow_null=True, help_text="the finance meeting taken from it")


class FinanceSourceInSerializer(serializers.Serializer):
    source_type = serializers.ChoiceField(choices=MeetingSource.choices)
    source_id = serializers.CharField(max_length=64)
    reporting_currency = serializers.CharField(max_length=10, default="USD")


@extend_schema(
    operation_id="finance_sources_list",
    description="Trainings and law-enforcement meetings a finance meeting can be taken from.",
    responses={200: FinanceSourceOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def meeting_sources(request):
    permissions.require(request.user, R, CREATE, request=request)
    taken = selectors.meetings_by_source()
    return Response(
        [
            {
                **{f: getattr(m, f) for f in FinanceSourceOutSerializer().fields if f != "meeting"},
                "parties": sorted(m.parties, key=PARTIES.index),
                "meeting": getattr(taken.get((m.source_type, m.source_id)), "pk", None),
            }
            for m in sources.available(request.user)
        ]
    )


meeting_sources.ctip_permission = (R, CREATE)


@extend_schema(
    operation_id="finance_meetings_from_source",
    description="Record a finance meeting taken from a training or a law-enforcement meeting "
    "(its host, place, dates, Parties, officials and programme). 404 for a source the user "
    "may not see; 400 if one was already taken from it.",
    request=FinanceSourceInSerializer,
    responses={201: FinanceMeetingOutSerializer, **ERRORS},
)
@api_view(["POST"])
def meeting_from_source(request):
    permissions.require(request.user, R, CREATE, request=request)
    s = FinanceSourceInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    meeting = _call(
        services.meeting_from_source, user=request.user, request=request, **s.validated_data
    )
    return Response(FinanceMeetingOutSerializer(meeting).data, status=201)


meeting_from_source.ctip_permission = (R, CREATE)


class FinanceMemberOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(source="display_name")
    position = serializers.CharField()
    organisation = serializers.CharField()
    role = serializers.CharField()


class FinanceDelegationOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    country = serializers.CharField()
    visiting = serializers.BooleanField(source="is_visiting")
    members = FinanceMemberOutSerializer(many=True, source="members.all")


class FinanceShareOutSerializer(serializers.Serializer):
    bearer = serializers.CharField(help_text='a Party ("KH", "CN") or "donor:<id>"')
    amount = FinanceMoneySerializer()
    reporting = FinanceMoneySerializer()
    basis = serializers.CharField(help_text='rule code, or "exception:<id>"')


class FinanceAllocationOutSerializer(serializers.Serializer):
    ruleset = serializers.CharField()
    rule = serializers.CharField(help_text="what the Financial Notes say for this item")
    decided_by = serializers.CharField(help_text='the rule, or "exception:<id>"')
    reporting_total = FinanceMoneySerializer()
    shares = FinanceShareOutSerializer(many=True)


class FinanceCostItemOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    category = serializers.CharField()
    description = serializers.CharField()
    amount = FinanceMoneySerializer()
    rate = serializers.CharField(allow_blank=True)
    rate_date = serializers.DateField(allow_null=True)
    incurred_by = serializers.CharField()
    for_party = serializers.CharField(help_text="empty: the meeting as a whole")
    allocation = FinanceAllocationOutSerializer(allow_null=True)


class FinancePartyTotalSerializer(serializers.Serializer):
    bearer = serializers.CharField()
    borne = FinanceMoneySerializer()
    paid = FinanceMoneySerializer(allow_null=True)
    net = FinanceMoneySerializer(help_text="paid - borne: above zero, to be reimbursed")


class FinanceMeetingDetailOutSerializer(FinanceMeetingOutSerializer):
    delegations = FinanceDelegationOutSerializer(many=True)
    programme = serializers.ListField(child=serializers.DictField())
    cost_items = FinanceCostItemOutSerializer(many=True)
    totals = FinancePartyTotalSerializer(many=True)
    total = FinanceMoneySerializer(allow_null=True)


def _allocation_data(result: core.ItemAllocation | None) -> dict | None:
    if result is None:
        return None
    return {
        "ruleset": result.ruleset,
        "rule": result.rule,
        "decided_by": result.decided_by,
        "reporting_total": _money(result.reporting_total),
        "shares": [
            {
                "bearer": s.bearer,
                "amount": _money(s.amount),
                "reporting": _money(s.reporting),
                "basis": s.basis,
            }
            for s in result.shares
        ],
    }


def _item_data(item, result) -> dict:
    return {
        "id": item.pk,
        "category": item.category,
        "description": item.description,
        "amount": _money(item.money()),
        "rate": item.rate_display,
        "rate_date": item.rate_date,
        "incurred_by": item.incurred_by,
        "for_party": item.for_party,
        "allocation": _allocation_data(result),
    }


def _meeting_detail(meeting) -> dict:
    allocation = selectors.meeting_allocation(meeting)
    results = {r.line.id: r for r in allocation.items}
    data = FinanceMeetingOutSerializer(meeting).data
    data.update(
        delegations=FinanceDelegationOutSerializer(meeting.delegations.all(), many=True).data,
        programme=[
            {
                "day": p.day.isoformat(),
                "time": p.starts_at.isoformat() if p.starts_at else None,
                "title": p.title,
            }
            for p in meeting.programme.all()
        ],
        cost_items=[_item_data(i, results.get(str(i.pk))) for i in meeting.cost_items.all()],
        totals=[
            {
                "bearer": key,
                "borne": _money(borne),
                "paid": _money(allocation.paid.get(key)),
                "net": _money(allocation.net[key]),
            }
            for key, borne in allocation.borne.items()
        ],
        total=_money(allocation.total),
    )
    return data


@extend_schema(
    methods=["GET"],
    operation_id="finance_meetings_retrieve",
    responses={200: FinanceMeetingDetailOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["PUT"],
    operation_id="finance_meetings_update",
    description="Change the meeting's particulars (all of them). Refused (400) if a recorded "
    "cost no longer fits, or the meeting is cancelled. Only the recording agency's editors.",
    request=FinanceMeetingInSerializer,
    responses={200: FinanceMeetingDetailOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["DELETE"],
    operation_id="finance_meetings_destroy",
    description="Delete a meeting recorded by mistake: refused (400) once costs, exceptions or "
    "donor commitments are recorded (cancel it instead).",
    responses={204: None, **ERRORS},
)
@api_view(["GET", "PUT", "DELETE"])
def meeting_detail(request, pk):
    if request.method == "GET":
        meeting = selectors.access_meeting(request.user, pk, request=request)
        return Response(_meeting_detail(meeting))
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    if request.method == "DELETE":
        _call(services.meeting_delete, user=request.user, meeting=meeting, request=request)
        return Response(status=204)
    s = FinanceMeetingInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    _call(
        services.meeting_update,
        user=request.user,
        meeting=meeting,
        data=services.MeetingInput(**s.validated_data),
        request=request,
    )
    return Response(_meeting_detail(selectors.access_meeting(request.user, pk, request=request)))


class FinanceCancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


@extend_schema(
    operation_id="finance_meetings_cancel",
    description="The meeting did not take place: kept with its costs, no longer changeable.",
    request=FinanceCancelInSerializer,
    responses={200: FinanceMeetingDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def meeting_cancel(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    s = FinanceCancelInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    _call(
        services.meeting_cancel,
        user=request.user,
        meeting=meeting,
        reason=s.validated_data["reason"],
        request=request,
    )
    return Response(_meeting_detail(selectors.access_meeting(request.user, pk, request=request)))


meeting_cancel.ctip_permission = (R, CHANGE)


meeting_detail.ctip_permission = (R, VIEW)


class FinanceMemberInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    user_id = serializers.IntegerField(required=False, allow_null=True)
    position = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices, default="member")
    contact = serializers.CharField(max_length=300, required=False, allow_blank=True)


class FinanceDelegationInSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=2)
    members = FinanceMemberInSerializer(many=True, required=False)


@extend_schema(
    operation_id="finance_delegations_create",
    request=FinanceDelegationInSerializer,
    responses={201: FinanceDelegationOutSerializer, **ERRORS},
)
@api_view(["POST"])
def delegations(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    s = FinanceDelegationInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    with transaction.atomic():  # the delegation with all its members, or nothing
        delegation = _delegation_with_members(request, meeting, s.validated_data)
    return Response(FinanceDelegationOutSerializer(delegation).data, status=201)


def _delegation_with_members(request, meeting, data):
    delegation = _call(
        services.delegation_add,
        user=request.user,
        meeting=meeting,
        country=data["country"],
        request=request,
    )
    for member in data.get("members", []):
        _call(
            services.member_add,
            user=request.user,
            delegation=delegation,
            data=services.MemberInput(**member),
            request=request,
        )
    return delegation


delegations.ctip_permission = (R, CHANGE)


@extend_schema(
    operation_id="finance_delegations_destroy",
    description="Remove a delegation and its members: refused (400) while a cost or an "
    "exception of the meeting concerns that Party.",
    responses={204: None, **ERRORS},
)
@api_view(["DELETE"])
def delegation_detail(request, pk):
    delegation = selectors.access_delegation(request.user, pk, request=request)
    _call(services.delegation_delete, user=request.user, delegation=delegation, request=request)
    return Response(status=204)


delegation_detail.ctip_permission = (R, CHANGE)


@extend_schema(
    operation_id="finance_members_create",
    request=FinanceMemberInSerializer,
    responses={201: FinanceMemberOutSerializer, **ERRORS},
)
@api_view(["POST"])
def members(request, pk):
    delegation = selectors.access_delegation(request.user, pk, request=request)
    s = FinanceMemberInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    member = _call(
        services.member_add,
        user=request.user,
        delegation=delegation,
        data=services.MemberInput(**s.validated_data),
        request=request,
    )
    return Response(FinanceMemberOutSerializer(member).data, status=201)


members.ctip_permission = (R, CHANGE)


@extend_schema(
    methods=["PUT"],
    operation_id="finance_members_update",
    request=FinanceMemberInSerializer,
    responses={200: FinanceMemberOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["DELETE"], operation_id="finance_members_destroy", responses={204: None, **ERRORS}
)
@api_view(["PUT", "DELETE"])
def member_detail(request, pk):
    member = selectors.access_member(request.user, pk, request=request)
    if request.method == "DELETE":
        _call(services.member_delete, user=request.user, member=member, request=request)
        return Response(status=204)
    s = FinanceMemberInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    member = _call(
        services.member_update,
        user=request.user,
        member=member,
        data=services.MemberInput(**s.validated_data),
        request=request,
    )
    return Response(FinanceMemberOutSerializer(member).data)


member_detail.ctip_permission = (R, CHANGE)


class FinanceCostItemInSerializer(FinanceRateInSerializer):
    category = serializers.CharField(max_length=30)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = serializers.CharField(max_length=40, help_text="decimal string, e.g. 1250.50")
    currency = serializers.CharField(max_length=10)
    incurred_by = serializers.CharField(max_length=2)
    for_party = serializers.CharField(max_length=2, required=False, allow_blank=True)
    incurred_on = serializers.DateField(required=False, allow_null=True)


@extend_schema(
    operation_id="finance_cost_items_create",
    request=FinanceCostItemInSerializer,
    responses={201: FinanceCostItemOutSerializer, **ERRORS},
)
@api_view(["POST"])
def cost_items(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    s = FinanceCostItemInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    item = _call(
        services.cost_item_add,
        user=request.user,
        meeting=meeting,
        data=_cost_input(s),
        request=request,
    )
    return Response(_allocated_item(request, item), status=201)


cost_items.ctip_permission = (R, CHANGE)


def _cost_input(s: FinanceCostItemInSerializer) -> services.CostItemInput:
    d = s.validated_data
    return services.CostItemInput(
        category=d["category"],
        amount=d["amount"],
        currency=d["currency"].upper(),
        incurred_by=d["incurred_by"],
        for_party=d.get("for_party", ""),
        description=d.get("description", ""),
        incurred_on=d.get("incurred_on"),
        rate=s.rate_input(),
    )


def _allocated_item(request, item) -> dict:
    meeting = selectors.access_meeting(request.user, item.meeting_id, request=request)
    result = {r.line.id: r for r in selectors.meeting_allocation(meeting).items}[str(item.pk)]
    return _item_data(item, result)


@extend_schema(
    methods=["PUT"],
    operation_id="finance_cost_items_update",
    description="Correct a cost item (all its fields), checked as a new one; what donors "
    "covered must still fit in it.",
    request=FinanceCostItemInSerializer,
    responses={200: FinanceCostItemOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["DELETE"],
    operation_id="finance_cost_items_destroy",
    description="Delete a cost recorded by mistake: refused (400) if a donor covered it or a "
    "written exception names it.",
    responses={204: None, **ERRORS},
)
@api_view(["PUT", "DELETE"])
def cost_item_detail(request, pk):
    item = selectors.access_cost_item(request.user, pk, request=request)
    if request.method == "DELETE":
        _call(services.cost_item_delete, user=request.user, item=item, request=request)
        return Response(status=204)
    s = FinanceCostItemInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    item = _call(
        services.cost_item_update,
        user=request.user,
        item=item,
        data=_cost_input(s),
        request=request,
    )
    return Response(_allocated_item(request, item))


cost_item_detail.ctip_permission = (R, CHANGE)


class FinanceExceptionInSerializer(serializers.Serializer):
    cost_item = serializers.UUIDField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    for_party = serializers.CharField(max_length=2, required=False, allow_blank=True)
    share_kh = serializers.CharField(max_length=20, help_text="percent, e.g. 50")
    share_cn = serializers.CharField(max_length=20, help_text="percent, e.g. 50")
    reason = serializers.CharField(max_length=2000, allow_blank=True)
    agreed_by = serializers.CharField(max_length=300, allow_blank=True)
    agreed_on = serializers.DateField()
    document = serializers.CharField(max_length=200, required=False, allow_blank=True)


class FinanceExceptionOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    cost_item = serializers.UUIDField(source="cost_item_id", allow_null=True)
    category = serializers.CharField()
    for_party = serializers.CharField()
    share_kh = serializers.DecimalField(max_digits=7, decimal_places=4)
    share_cn = serializers.DecimalField(max_digits=7, decimal_places=4)
    reason = serializers.CharField()
    agreed_by = serializers.CharField()
    agreed_on = serializers.DateField()
    document = serializers.CharField()


@extend_schema(
    operation_id="finance_exceptions_create",
    request=FinanceExceptionInSerializer,
    responses={201: FinanceExceptionOutSerializer, **ERRORS},
)
@api_view(["POST"])
def exceptions(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    s = FinanceExceptionInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    exception = _call(
        services.exception_record,
        user=request.user,
        meeting=meeting,
        data=services.ExceptionInput(
            share_kh=d["share_kh"],
            share_cn=d["share_cn"],
            reason=d["reason"],
            agreed_by=d["agreed_by"],
            agreed_on=d["agreed_on"],
            cost_item_id=d.get("cost_item"),
            category=d.get("category", ""),
            for_party=d.get("for_party", ""),
            document=d.get("document", ""),
        ),
        request=request,
    )
    return Response(FinanceExceptionOutSerializer(exception).data, status=201)


exceptions.ctip_permission = (R, CHANGE)


class FinanceCoverageInSerializer(FinanceRateInSerializer):
    cost_item = serializers.UUIDField()
    commitment = serializers.UUIDField()
    amount = serializers.CharField(max_length=40, help_text="in the cost item's currency")


class FinanceCoverageOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    cost_item = serializers.UUIDField(source="cost_item_id")
    commitment = serializers.UUIDField(source="commitment_id")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    amount_committed = serializers.DecimalField(max_digits=18, decimal_places=2)


@extend_schema(
    operation_id="finance_coverage_create",
    request=FinanceCoverageInSerializer,
    responses={201: FinanceCoverageOutSerializer, **ERRORS},
)
@api_view(["POST"])
def coverage(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    s = FinanceCoverageInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    item = meeting.cost_items.filter(pk=d["cost_item"]).first()
    if item is None:
        raise ValidationError({"cost_item": ["Choose a cost item of this meeting."]})
    result = _call(
        services.coverage_record,
        user=request.user,
        cost_item=item,
        commitment_id=d["commitment"],
        amount=d["amount"],
        rate=s.rate_input(),
        request=request,
    )
    return Response(FinanceCoverageOutSerializer(result).data, status=201)


coverage.ctip_permission = (R, CHANGE)


class FinanceStatementLineSerializer(serializers.Serializer):
    cost_item = serializers.UUIDField()
    category = serializers.CharField()
    description = serializers.CharField()
    amount = FinanceMoneySerializer()
    share = FinanceMoneySerializer()
    share_reporting = FinanceMoneySerializer()
    basis = serializers.CharField()
    rule = serializers.CharField()


class FinanceStatementOutSerializer(serializers.Serializer):
    meeting = serializers.UUIDField()
    party = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    ruleset = serializers.CharField()
    lines = FinanceStatementLineSerializer(many=True)
    borne = FinanceMoneySerializer()
    paid = FinanceMoneySerializer()
    net = FinanceMoneySerializer()
    covered_by_donors = FinanceMoneySerializer()
    rules_applied = serializers.ListField(child=serializers.DictField())


@extend_schema(
    operation_id="finance_statement_retrieve",
    parameters=[OpenApiParameter("party", str, enum=PARTIES, required=True)],
    responses={200: FinanceStatementOutSerializer, **ERRORS},
)
@api_view(["GET"])
def statement(request, pk):
    meeting = selectors.access_meeting(request.user, pk, request=request)
    party = request.query_params.get("party", "")
    if party not in meeting.party_codes():
        raise ValidationError({"party": ["This Party is not in the meeting."]})
    st = statements.meeting_statement(meeting, selectors.meeting_allocation(meeting), party)
    return Response(
        {
            "meeting": meeting.pk,
            "party": party,
            "languages": ["en", st.language],
            "ruleset": st.allocation.ruleset,
            "lines": [
                {
                    "cost_item": line.item.pk,
                    "category": line.item.category,
                    "description": line.item.description,
                    "amount": _money(line.item.money()),
                    "share": _money(line.share),
                    "share_reporting": _money(line.share_reporting),
                    "basis": line.basis,
                    "rule": line.rule_code,
                }
                for line in st.lines
            ],
            "borne": _money(st.borne),
            "paid": _money(st.paid),
            "net": _money(st.net),
            "covered_by_donors": _money(st.covered),
            "rules_applied": [
                {"code": code, "en": en, st.language: local} for code, en, local in st.rules_applied
            ],
        }
    )


statement.ctip_permission = (R, VIEW)


# --- Donors -------------------------------------------------------------------------------


class FinanceCommitmentOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    meeting = serializers.UUIDField(source="meeting_id", allow_null=True)
    plan_activity = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    committed_on = serializers.DateField()
    reference = serializers.CharField()


class FinanceDonorOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_km = serializers.CharField()
    name_zh_hans = serializers.CharField()
    kind = serializers.CharField()
    commitments = FinanceCommitmentOutSerializer(many=True, source="commitments.all")


class FinanceDonorInSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    name_km = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=DonorKind.choices)


@extend_schema(
    methods=["GET"],
    operation_id="finance_donors_list",
    responses={200: FinanceDonorOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="finance_donors_create",
    request=FinanceDonorInSerializer,
    responses={201: FinanceDonorOutSerializer, **ERRORS},
)
@api_view(["GET", "POST"])
def donors(request):
    if request.method == "POST":
        permissions.require(request.user, R, CREATE, request=request)
        s = FinanceDonorInSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        donor = _call(
            services.donor_create,
            user=request.user,
            data=services.DonorInput(**s.validated_data),
            request=request,
        )
        return Response(FinanceDonorOutSerializer(donor).data, status=201)
    permissions.require(request.user, R, VIEW, request=request)
    return Response(
        FinanceDonorOutSerializer(selectors.donor_list(user=request.user), many=True).data
    )


donors.ctip_permission = (R, VIEW)


class FinanceCommitmentInSerializer(serializers.Serializer):
    meeting = serializers.UUIDField(required=False, allow_null=True)
    plan_activity = serializers.CharField(max_length=8, required=False, allow_blank=True)
    amount = serializers.CharField(max_length=40)
    currency = serializers.CharField(max_length=10)
    committed_on = serializers.DateField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_schema(
    operation_id="finance_commitments_create",
    request=FinanceCommitmentInSerializer,
    responses={201: FinanceCommitmentOutSerializer, **ERRORS},
)
@api_view(["POST"])
def commitments(request, pk):
    donor = selectors.access_donor(request.user, pk, action=CREATE, request=request)
    s = FinanceCommitmentInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    commitment = _call(
        services.commitment_create,
        user=request.user,
        donor=donor,
        data=services.CommitmentInput(
            amount=d["amount"],
            currency=d["currency"].upper(),
            committed_on=d["committed_on"],
            meeting_id=d.get("meeting"),
            plan_activity=d.get("plan_activity", ""),
            reference=d.get("reference", ""),
        ),
        request=request,
    )
    return Response(FinanceCommitmentOutSerializer(commitment).data, status=201)


commitments.ctip_permission = (R, CREATE)


# --- Reintegration budget -----------------------------------------------------------------


class FinanceSupportRecordSerializer(serializers.Serializer):
    source = serializers.CharField(help_text='"referral" or "service" (received)')
    id = serializers.UUIDField()
    case = serializers.CharField(help_text="the case's reference")
    support = serializers.CharField()
    on = serializers.DateField()
    status = serializers.CharField(help_text="a referral's status")


class FinanceCaseTotalsSerializer(serializers.Serializer):
    case = serializers.CharField()
    committed = FinanceMoneySerializer()
    spent = FinanceMoneySerializer()
    open = FinanceMoneySerializer()
    overspent = serializers.BooleanField(help_text="more spent than was committed for it")


class FinanceBudgetOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    country = serializers.CharField()
    year = serializers.IntegerField()
    allocated = FinanceMoneySerializer()
    spent = FinanceMoneySerializer()
    committed = FinanceMoneySerializer()
    open_commitments = FinanceMoneySerializer()
    remaining = FinanceMoneySerializer()
    remaining_percent = serializers.CharField()
    alert_below = serializers.CharField()
    level = serializers.ChoiceField(choices=[lv.value for lv in core.Level])
    cases = FinanceCaseTotalsSerializer(many=True)
    unbudgeted_referrals = FinanceSupportRecordSerializer(
        many=True, help_text="the year's referrals of open cases with no commitment yet"
    )
    unpaid_services = FinanceSupportRecordSerializer(
        many=True, help_text="the year's services received with no spending yet"
    )


def _record(r) -> dict:
    return {
        "source": r.source,
        "id": r.id,
        "case": r.case,
        "support": r.support,
        "on": r.on,
        "status": r.status,
    }


def _budget_data(allocation) -> dict:
    st = selectors.budget_status(allocation)
    support = selectors.case_support(allocation, st)
    return {
        "id": allocation.pk,
        "country": allocation.country,
        "year": allocation.year,
        "allocated": _money(st.allocated),
        "spent": _money(st.spent),
        "committed": _money(st.committed),
        "open_commitments": _money(st.open_commitments),
        "remaining": _money(st.remaining),
        "remaining_percent": f"{st.remaining_percent:f}",
        "alert_below": f"{allocation.alert_below:f}",
        "level": st.level.value,
        "cases": [
            {
                "case": c.case,
                "committed": _money(c.committed),
                "spent": _money(c.spent),
                "open": _money(c.open),
                "overspent": row.overspent,
            }
            for row in support.cases
            for c in (row.totals,)
        ],
        "unbudgeted_referrals": [_record(r) for r in support.unbudgeted_referrals],
        "unpaid_services": [_record(r) for r in support.unpaid_services],
    }


class FinanceBudgetInSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=2)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    amount = serializers.CharField(max_length=40)
    currency = serializers.CharField(max_length=10)
    alert_below = serializers.DecimalField(
        max_digits=4, decimal_places=3, default=core.BudgetConfig().alert_below
    )
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_schema(
    methods=["GET"],
    operation_id="finance_budgets_list",
    responses={200: FinanceBudgetOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="finance_budgets_create",
    request=FinanceBudgetInSerializer,
    responses={201: FinanceBudgetOutSerializer, **ERRORS},
)
@api_view(["GET", "POST"])
def budgets(request):
    if request.method == "POST":
        permissions.require(request.user, R, CREATE, request=request)
        s = FinanceBudgetInSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        d["currency"] = d["currency"].upper()
        allocation = _call(
            services.budget_allocation_create,
            user=request.user,
            data=services.AllocationInput(**d),
            request=request,
        )
        allocation = selectors.access_budget(request.user, allocation.pk, request=request)
        return Response(_budget_data(allocation), status=201)
    permissions.require(request.user, R, VIEW, request=request)
    return Response([_budget_data(b) for b in selectors.budget_list(user=request.user)])


budgets.ctip_permission = (R, VIEW)


@extend_schema(
    operation_id="finance_budgets_retrieve", responses={200: FinanceBudgetOutSerializer, **ERRORS}
)
@api_view(["GET"])
def budget_detail(request, pk):
    return Response(_budget_data(selectors.access_budget(request.user, pk, request=request)))


budget_detail.ctip_permission = (R, VIEW)


class FinanceEntryInSerializer(FinanceRateInSerializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    case_reference = serializers.CharField(max_length=40)
    support = serializers.ChoiceField(
        choices=SupportType.choices,
        required=False,
        allow_blank=True,
        help_text="not needed when the entry comes from a referral or a service received",
    )
    amount = serializers.CharField(max_length=40)
    currency = serializers.CharField(max_length=10)
    entry_date = serializers.DateField()
    against = serializers.UUIDField(required=False, allow_null=True)
    referral_reference = serializers.CharField(max_length=40, required=False, allow_blank=True)
    referral_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="the case's referral this commitment is for"
    )
    service_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="the service received this spending pays"
    )


class FinanceEntryOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    case_reference = serializers.CharField()
    support = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    amount_budget = serializers.DecimalField(max_digits=18, decimal_places=2)
    against = serializers.UUIDField(source="against_id", allow_null=True)
    entry_date = serializers.DateField()
    referral_id = serializers.UUIDField(allow_null=True)
    service_id = serializers.UUIDField(allow_null=True)
    level = serializers.CharField(help_text="the budget's alert level after this entry")


@extend_schema(
    operation_id="finance_budget_entries_create",
    request=FinanceEntryInSerializer,
    responses={201: FinanceEntryOutSerializer, **ERRORS},
)
@api_view(["POST"])
def budget_entries(request, pk):
    allocation = selectors.access_budget(request.user, pk, action=CHANGE, request=request)
    s = FinanceEntryInSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    entry = _call(
        services.budget_entry_add,
        user=request.user,
        allocation=allocation,
        data=services.EntryInput(
            kind=d["kind"],
            case_reference=d["case_reference"],
            support=d.get("support", ""),
            amount=d["amount"],
            currency=d["currency"].upper(),
            entry_date=d["entry_date"],
            against_id=d.get("against"),
            referral_reference=d.get("referral_reference", ""),
            rate=s.rate_input(),
            referral_id=d.get("referral_id"),
            service_id=d.get("service_id"),
        ),
        request=request,
    )
    allocation = selectors.access_budget(request.user, pk, request=request)
    data = FinanceEntryOutSerializer(
        {
            **{
                f: getattr(entry, f)
                for f in (
                    "id",
                    "kind",
                    "case_reference",
                    "support",
                    "amount",
                    "currency",
                    "amount_budget",
                    "against_id",
                    "entry_date",
                    "referral_id",
                    "service_id",
                )
            },
            "level": selectors.budget_status(allocation).level.value,
        }
    ).data
    return Response(data, status=201)


budget_entries.ctip_permission = (R, CHANGE)
