"""REST endpoints of the enforcement app, with the same rules as the pages: police focal
officers only (everyone else gets "not found"), law-enforcement cases and requests of the
user's agency, the taskforce and meetings for every police focal officer of the node,
indicators as aggregates (also for M&E). One input and one output serializer per endpoint;
one endpoint per workflow action."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.audit.services import audit_view
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.core.api import validation_error as _validation
from ctip.enforcement import indicators, selectors, services
from ctip.enforcement.models import (
    INDICATORS,
    RESOURCE,
    Direction,
    InfoRequest,
    LeCase,
    LeCaseStatus,
    LegalBasis,
    Offence,
    Outcome,
    ParticipantRole,
    RequestStatus,
    SecondLanguage,
    Suspect,
    SuspectRole,
    SuspectStatus,
    Urgency,
    VictimRole,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE


def _paginate(request, rows, serializer):
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(serializer(page, many=True).data)


# --- Taskforce ----------------------------------------------------------------------------


class EnforcementMemberOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    country = serializers.CharField()
    taskforce_role = serializers.CharField()
    active = serializers.BooleanField()
    since = serializers.DateField()
    focal_person = serializers.UUIDField(source="focal_person_id")
    name = serializers.CharField(source="focal_person.name")
    title = serializers.CharField(source="focal_person.title")
    agency = serializers.CharField(source="focal_person.agency.code")
    languages = serializers.ListField(
        source="focal_person.languages", child=serializers.DictField()
    )
    contact = serializers.DictField(source="focal_person.channel_values")


@extend_schema(
    operation_id="enforcement_taskforce",
    responses={200: EnforcementMemberOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def taskforce(request):
    permissions.require(request.user, RESOURCE, VIEW, request=request)
    return _paginate(
        request, selectors.member_list(user=request.user), EnforcementMemberOutSerializer
    )


taskforce.ctip_permission = (RESOURCE, VIEW)


# --- Law-enforcement cases ----------------------------------------------------------------


class EnforcementLeCaseInSerializer(serializers.Serializer):
    offences = serializers.ListField(
        child=serializers.ChoiceField(choices=Offence.choices), min_length=1, max_length=10
    )
    status = serializers.ChoiceField(choices=LeCaseStatus.choices, default=LeCaseStatus.OPEN)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    locations = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EnforcementLeCaseOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    offences = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    agency = serializers.CharField(source="owner_agency.code")
    opened_at = serializers.DateTimeField()


class EnforcementSuspectOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    aliases = serializers.CharField(allow_null=True)
    nationality = serializers.CharField()
    birth_year = serializers.IntegerField(allow_null=True)
    role = serializers.CharField()
    status = serializers.CharField()


class EnforcementVictimOutSerializer(serializers.Serializer):
    label = serializers.CharField(source="link.label")
    role = serializers.CharField(source="link.role")
    linked = serializers.SerializerMethodField()
    case_reference = serializers.SerializerMethodField()

    def get_linked(self, row) -> bool:
        return bool(row.link.case_reference)

    def get_case_reference(self, row) -> str | None:
        """Only when this user may open the victim case (never a sealed one without a grant)."""
        return row.case.reference if row.case is not None else None


class EnforcementLeCaseDetailOutSerializer(EnforcementLeCaseOutSerializer):
    summary = serializers.CharField(allow_null=True)
    locations = serializers.CharField(allow_null=True)
    suspects = EnforcementSuspectOutSerializer(many=True)
    victims = EnforcementVictimOutSerializer(many=True)


def _case_detail(request, le_case: LeCase) -> dict:
    suspects = list(le_case.suspects.select_related("data_key"))
    audit_view(actor=request.user, objects=[le_case], fields=LeCase.PII_FIELDS, request=request)
    audit_view(actor=request.user, objects=suspects, fields=Suspect.PII_FIELDS, request=request)
    data = EnforcementLeCaseDetailOutSerializer(
        {
            **{
                f: getattr(le_case, f)
                for f in ("id", "reference", "offences", "status", "owner_agency", "opened_at")
            },
            "summary": le_case.summary,
            "locations": le_case.locations,
            "suspects": suspects,
            "victims": selectors.victims_of(user=request.user, le_case=le_case),
        }
    ).data
    return data


@extend_schema(
    methods=["GET"],
    operation_id="enforcement_cases_list",
    responses={200: EnforcementLeCaseOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="enforcement_cases_open",
    request=EnforcementLeCaseInSerializer,
    responses={201: EnforcementLeCaseDetailOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def cases(request):
    if request.method == "POST":
        permissions.require(request.user, RESOURCE, CREATE, request=request)
        body = EnforcementLeCaseInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data["offences"] = tuple(data["offences"])
        try:
            le_case = services.le_case_open(
                user=request.user, data=services.LeCaseInput(**data), request=request
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(_case_detail(request, le_case), status=201)
    permissions.require(request.user, RESOURCE, VIEW, request=request)
    rows = selectors.le_case_list(user=request.user).select_related("owner_agency")
    return _paginate(request, rows, EnforcementLeCaseOutSerializer)


cases.ctip_permission = (RESOURCE, VIEW)


@extend_schema(
    operation_id="enforcement_case", responses={200: EnforcementLeCaseDetailOutSerializer, **ERRORS}
)
@api_view(["GET"])
def case_detail(request, pk):
    le_case = selectors.access_le_case(request.user, pk, request=request)
    return Response(_case_detail(request, le_case))


case_detail.ctip_permission = (RESOURCE, VIEW)


class EnforcementSuspectInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    aliases = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    role = serializers.ChoiceField(choices=SuspectRole.choices)
    status = serializers.ChoiceField(choices=SuspectStatus.choices, default="identified")
    nationality = serializers.CharField(required=False, allow_blank=True, default="", max_length=2)
    birth_year = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1900, max_value=2100
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


@extend_schema(
    operation_id="enforcement_case_suspect_add",
    request=EnforcementSuspectInSerializer,
    responses={201: EnforcementSuspectOutSerializer, **ERRORS},
)
@api_view(["POST"])
def suspects(request, pk):
    le_case = selectors.access_le_case(request.user, pk, action=CHANGE, request=request)
    body = EnforcementSuspectInSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        suspect = services.suspect_add(
            user=request.user,
            le_case=le_case,
            data=services.SuspectInput(**body.validated_data),
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(EnforcementSuspectOutSerializer(suspect).data, status=201)


suspects.ctip_permission = (RESOURCE, CHANGE)


class EnforcementVictimInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=VictimRole.choices)
    case_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=24
    )


class EnforcementVictimLinkOutSerializer(serializers.Serializer):
    label = serializers.CharField()
    role = serializers.CharField()
    case_reference = serializers.CharField()


@extend_schema(
    operation_id="enforcement_case_victim_add",
    request=EnforcementVictimInSerializer,
    responses={201: EnforcementVictimLinkOutSerializer, **ERRORS},
)
@api_view(["POST"])
def victims(request, pk):
    le_case = selectors.access_le_case(request.user, pk, action=CHANGE, request=request)
    body = EnforcementVictimInSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        link = services.victim_link_add(
            user=request.user, le_case=le_case, request=request, **body.validated_data
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(EnforcementVictimLinkOutSerializer(link).data, status=201)


victims.ctip_permission = (RESOURCE, CHANGE)


# --- Requests -----------------------------------------------------------------------------


class EnforcementRequestInSerializer(serializers.Serializer):
    counterpart = serializers.UUIDField(required=False, allow_null=True, default=None)
    asked = serializers.CharField(max_length=10000, allow_blank=True)
    legal_basis = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    legal_basis_detail = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)
    deadline = serializers.DateField()
    victim_case_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=24
    )


class EnforcementRequestOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    peer_country = serializers.CharField()
    case = serializers.CharField(source="le_case.reference", allow_null=True, default=None)
    sender_reference = serializers.CharField()
    counterpart = serializers.UUIDField(source="counterpart_id")
    requester = serializers.UUIDField(source="requester_id", allow_null=True)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    legal_basis_detail = serializers.CharField()
    urgency = serializers.CharField()
    deadline = serializers.DateField()
    overdue = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    days_to_answer = serializers.FloatField(allow_null=True)

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()


class EnforcementDeliveryOutSerializer(serializers.Serializer):
    msg_id = serializers.CharField()
    status = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    has_receipt = serializers.BooleanField()


class EnforcementEventOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()


class EnforcementRequestDetailOutSerializer(EnforcementRequestOutSerializer):
    asked = serializers.CharField(allow_null=True)
    answer = serializers.CharField(allow_null=True)
    delivery = serializers.SerializerMethodField()
    answer_delivery = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    @extend_schema_field(EnforcementDeliveryOutSerializer(allow_null=True))
    def get_delivery(self, obj):
        """The request's exchange message and its receipt (requests this node sent)."""
        return _delivery(obj.request_msg_id if obj.direction == Direction.OUTGOING else None)

    @extend_schema_field(EnforcementDeliveryOutSerializer(allow_null=True))
    def get_answer_delivery(self, obj):
        """The answer's exchange message and its receipt (requests this node answered)."""
        return _delivery(obj.answer_msg_id if obj.direction == Direction.INCOMING else None)

    @extend_schema_field(EnforcementEventOutSerializer(many=True))
    def get_history(self, obj):
        return EnforcementEventOutSerializer(obj.events.all(), many=True).data


def _request_detail(request, req: InfoRequest) -> dict:
    audit_view(actor=request.user, objects=[req], fields=InfoRequest.PII_FIELDS, request=request)
    return EnforcementRequestDetailOutSerializer(req).data


def _delivery(msg_id):
    found = selectors.delivery_of(msg_id)
    return EnforcementDeliveryOutSerializer(found).data if found else None


@extend_schema(
    operation_id="enforcement_case_request_send",
    request=EnforcementRequestInSerializer,
    responses={201: EnforcementRequestDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def request_send(request, pk):
    le_case = selectors.access_le_case(request.user, pk, action=CHANGE, request=request)
    body = EnforcementRequestInSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        req = services.request_send(
            user=request.user,
            le_case=le_case,
            data=services.RequestInput(**body.validated_data),
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(_request_detail(request, req), status=201)


request_send.ctip_permission = (RESOURCE, CHANGE)


class EnforcementRequestListInSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=Direction.choices, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(
        choices=RequestStatus.choices, required=False, allow_blank=True, default=""
    )
    overdue = serializers.BooleanField(required=False, default=False)


@extend_schema(
    operation_id="enforcement_requests",
    parameters=[EnforcementRequestListInSerializer],
    responses={200: EnforcementRequestOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def requests(request):
    permissions.require(request.user, RESOURCE, VIEW, request=request)
    query = EnforcementRequestListInSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = selectors.request_list(user=request.user, **query.validated_data)
    return _paginate(request, rows, EnforcementRequestOutSerializer)


requests.ctip_permission = (RESOURCE, VIEW)


@extend_schema(
    operation_id="enforcement_request",
    responses={200: EnforcementRequestDetailOutSerializer, **ERRORS},
)
@api_view(["GET"])
def request_detail(request, pk):
    req = selectors.access_request(request.user, pk, request=request)
    return Response(_request_detail(request, req))


request_detail.ctip_permission = (RESOURCE, VIEW)


class EnforcementAnswerInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    answer = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)


@extend_schema(
    operation_id="enforcement_request_answer",
    request=EnforcementAnswerInSerializer,
    responses={200: EnforcementRequestDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def request_answer(request, pk):
    req = selectors.access_request(request.user, pk, action=CHANGE, request=request)
    body = EnforcementAnswerInSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        req = services.request_answer(
            user=request.user,
            info_request=req,
            answer=body.validated_data["answer"],
            outcome=body.validated_data["outcome"],
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(_request_detail(request, req))


request_answer.ctip_permission = (RESOURCE, CHANGE)


# --- Meetings -----------------------------------------------------------------------------


class EnforcementMeetingInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    host_country = serializers.ChoiceField(choices=Country.choices)
    place = serializers.CharField(max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    second_language = serializers.ChoiceField(choices=SecondLanguage.choices)
    agenda = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    le_cases = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )
    case_references = serializers.ListField(
        child=serializers.CharField(max_length=24), required=False, default=list, max_length=50
    )


class EnforcementParticipantOutSerializer(serializers.Serializer):
    member = serializers.UUIDField(source="member_id", allow_null=True)
    name = serializers.CharField(source="display_name")
    organisation = serializers.CharField(source="display_organisation")
    country = serializers.CharField()
    role = serializers.CharField()


class EnforcementActionItemOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    owner = serializers.UUIDField(source="owner_id", allow_null=True)
    owner_name = serializers.CharField(source="display_owner")
    due_on = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)


class EnforcementMeetingOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    origin = serializers.CharField()
    title = serializers.CharField()
    host_country = serializers.CharField()
    place = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    status = serializers.CharField()
    version = serializers.IntegerField()


class EnforcementMeetingDetailOutSerializer(EnforcementMeetingOutSerializer):
    agenda = serializers.CharField()
    second_language = serializers.CharField()
    minutes_en = serializers.CharField(allow_null=True)
    minutes_second = serializers.CharField(allow_null=True)
    case_references = serializers.ListField(child=serializers.CharField())
    participants = EnforcementParticipantOutSerializer(many=True, source="participants.all")
    decisions = serializers.SerializerMethodField()
    action_items = EnforcementActionItemOutSerializer(many=True, source="action_items.all")

    def get_decisions(self, obj) -> list[str]:
        return [d.text for d in obj.decisions.all()]


def _meeting_detail(request, meeting) -> dict:
    meeting = selectors.access_meeting(request.user, meeting.pk, request=request)
    audit_view(actor=request.user, objects=[meeting], fields=meeting.PII_FIELDS, request=request)
    return EnforcementMeetingDetailOutSerializer(meeting).data


@extend_schema(
    methods=["GET"],
    operation_id="enforcement_meetings_list",
    responses={200: EnforcementMeetingOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="enforcement_meetings_schedule",
    request=EnforcementMeetingInSerializer,
    responses={201: EnforcementMeetingDetailOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def meetings(request):
    if request.method == "POST":
        permissions.require(request.user, RESOURCE, CREATE, request=request)
        body = EnforcementMeetingInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data["le_cases"] = tuple(data["le_cases"])
        data["case_references"] = tuple(data["case_references"])
        try:
            meeting = services.meeting_schedule(
                user=request.user, data=services.MeetingInput(**data), request=request
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(_meeting_detail(request, meeting), status=201)
    permissions.require(request.user, RESOURCE, VIEW, request=request)
    return _paginate(
        request, selectors.meeting_list(user=request.user), EnforcementMeetingOutSerializer
    )


meetings.ctip_permission = (RESOURCE, VIEW)


@extend_schema(
    operation_id="enforcement_meeting",
    responses={200: EnforcementMeetingDetailOutSerializer, **ERRORS},
)
@api_view(["GET"])
def meeting_detail(request, pk):
    meeting = selectors.access_meeting(request.user, pk, request=request)
    return Response(_meeting_detail(request, meeting))


meeting_detail.ctip_permission = (RESOURCE, VIEW)


class EnforcementParticipantInSerializer(serializers.Serializer):
    member = serializers.UUIDField(required=False, allow_null=True, default=None)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    organisation = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    country = serializers.ChoiceField(choices=Country.choices, default=lambda: settings.CTIP_NODE)
    role = serializers.ChoiceField(choices=ParticipantRole.choices, default="member")


class EnforcementMinutesInSerializer(serializers.Serializer):
    minutes_en = serializers.CharField(max_length=50000, allow_blank=True)
    minutes_second = serializers.CharField(max_length=50000, allow_blank=True)
    decisions = serializers.ListField(
        child=serializers.CharField(max_length=5000), required=False, default=list, max_length=100
    )


class EnforcementActionItemInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    due_on = serializers.DateField()
    owner = serializers.UUIDField(required=False, allow_null=True, default=None)
    owner_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


def _meeting_action(request, pk, serializer, run):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        run(meeting, dict(body.validated_data))
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(_meeting_detail(request, meeting))


@extend_schema(
    operation_id="enforcement_meeting_participant_add",
    request=EnforcementParticipantInSerializer,
    responses={200: EnforcementMeetingDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def meeting_participants(request, pk):
    def run(meeting, data):
        services.participant_add(
            user=request.user,
            meeting=meeting,
            data=services.ParticipantInput(**data),
            request=request,
        )

    return _meeting_action(request, pk, EnforcementParticipantInSerializer, run)


meeting_participants.ctip_permission = (RESOURCE, CHANGE)


@extend_schema(
    operation_id="enforcement_meeting_minutes",
    request=EnforcementMinutesInSerializer,
    responses={200: EnforcementMeetingDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def meeting_minutes(request, pk):
    def run(meeting, data):
        services.meeting_record_minutes(
            user=request.user,
            meeting=meeting,
            minutes_en=data["minutes_en"],
            minutes_second=data["minutes_second"],
            decisions=tuple(data["decisions"]),
            request=request,
        )

    return _meeting_action(request, pk, EnforcementMinutesInSerializer, run)


meeting_minutes.ctip_permission = (RESOURCE, CHANGE)


@extend_schema(
    operation_id="enforcement_meeting_action_item_add",
    request=EnforcementActionItemInSerializer,
    responses={200: EnforcementMeetingDetailOutSerializer, **ERRORS},
)
@api_view(["POST"])
def meeting_action_items(request, pk):
    def run(meeting, data):
        services.action_item_add(
            user=request.user,
            meeting=meeting,
            data=services.ActionItemInput(**data),
            request=request,
        )

    return _meeting_action(request, pk, EnforcementActionItemInSerializer, run)


meeting_action_items.ctip_permission = (RESOURCE, CHANGE)


# --- Indicators ---------------------------------------------------------------------------


class EnforcementIndicatorInSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, allow_null=True, default=None)
    end = serializers.DateField(required=False, allow_null=True, default=None)


class EnforcementIndicatorOutSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    requests_sent = serializers.IntegerField()
    requests_answered = serializers.IntegerField()
    median_days_to_answer = serializers.FloatField(allow_null=True)
    requests_received = serializers.IntegerField()
    requests_received_answered = serializers.IntegerField()
    median_days_we_answer = serializers.FloatField(allow_null=True)
    overdue_requests = serializers.IntegerField()
    meetings_held = serializers.IntegerField()
    cases_addressed = serializers.IntegerField()
    focal_officers_active = serializers.IntegerField()


@extend_schema(
    operation_id="enforcement_indicators",
    parameters=[EnforcementIndicatorInSerializer],
    responses={200: EnforcementIndicatorOutSerializer, **ERRORS},
)
@api_view(["GET"])
def indicator_values(request):
    permissions.require(request.user, INDICATORS, VIEW, request=request)
    query = EnforcementIndicatorInSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    summary = indicators.summary(**query.validated_data)
    return Response(EnforcementIndicatorOutSerializer(summary).data)


indicator_values.ctip_permission = (INDICATORS, VIEW)
