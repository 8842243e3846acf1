"""REST endpoints for persons, screenings and cases, with the same access rules as the UI.

Personal fields appear only for roles that may see them, and every display of them is
audited. One input and one output serializer per endpoint; one endpoint per workflow action.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import User
from ctip.audit.services import audit_view
from ctip.cases import formdefs, repatriation, selectors, services
from ctip.cases.idform import language_of
from ctip.cases.models import (
    ConsentDecision,
    ConsentPurpose,
    DataCategory,
    DocumentType,
    HowGiven,
    Person,
    Repatriation,
    Screening,
    ScreeningResult,
    ScreeningSource,
    ScreeningStatus,
    Sex,
    Stage,
    Track,
)
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.core.api import validation_error as _validation

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
NATIONALITIES = ["", "KH", "CN", "XX"]


def _lang(request) -> str:
    return language_of(translation.get_language())


# --- Persons ------------------------------------------------------------------------------


class PersonOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    owner_agency = serializers.CharField(source="owner_agency.code")
    sex = serializers.CharField()
    birth = serializers.CharField(source="birth_display")
    nationality = serializers.CharField()
    document_type = serializers.CharField()
    origin_province = serializers.CharField()
    created_at = serializers.DateTimeField()
    name_km = serializers.CharField(required=False, allow_null=True)
    name_zh = serializers.CharField(required=False, allow_null=True)
    name_latin = serializers.CharField(required=False, allow_null=True)
    aliases = serializers.CharField(required=False, allow_null=True)
    document_number = serializers.CharField(required=False, allow_null=True)
    contact = serializers.CharField(required=False, allow_null=True)
    place_of_origin = serializers.CharField(required=False, allow_null=True)
    origin_code = serializers.CharField(required=False, allow_null=True)
    family_contacts = serializers.CharField(required=False, allow_null=True)
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
    document_type = serializers.ChoiceField(
        choices=["", *DocumentType.values], required=False, default=""
    )
    document_number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    family_contacts = serializers.CharField(required=False, allow_blank=True, max_length=500)
    place_of_origin = serializers.CharField(required=False, allow_blank=True, max_length=200)
    origin_code = serializers.CharField(required=False, allow_blank=True, max_length=12)
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
    nationality = serializers.ChoiceField(choices=NATIONALITIES, required=False, default="")

    def validate_origin_code(self, value):
        from ctip.cases.places import place

        if value and place(value) is None:
            raise serializers.ValidationError("Unknown place code (see the reference places).")
        return value

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


class PersonUpdateInSerializer(PersonInSerializer):
    """The whole person is sent again (fields left out are cleared)."""


def _out(request, objects, many=False):
    show = permissions.sees_pii(request.user)
    if show:
        items = objects if many else [objects]
        audit_view(actor=request.user, objects=items, fields=Person.PII_FIELDS, request=request)
    return PersonOutSerializer(objects, many=many, show_pii=show).data


class SearchInSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200, help_text="a name in any script, a document number or a case reference"
    )


def _no_name_in_url(request) -> None:
    """DP-6: a name in a URL stays in proxy and server logs. Searches are POSTed."""
    if "q" in request.query_params:
        raise ValidationError(
            {"q": ["Names are never sent in a URL: POST the search to the list's /search."]}
        )


def _search_query(request) -> str:
    serializer = SearchInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["q"].strip()


@extend_schema(
    methods=["GET"],
    operation_id="persons_list",
    responses={200: PersonOutSerializer(many=True, show_pii=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="persons_create",
    request=PersonInSerializer,
    responses={201: PersonOutSerializer(show_pii=True), **ERRORS},
)
@paginated
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
    _no_name_in_url(request)
    return _person_page(request, selectors.person_list(user=request.user))


def _person_page(request, qs):
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(_out(request, page, many=True))


@extend_schema(
    operation_id="persons_search",
    request=SearchInSerializer,
    responses={200: PersonOutSerializer(many=True, show_pii=True), **ERRORS},
)
@paginated
@api_view(["POST"])
def persons_search(request):
    """Persons whose name (any script) or document number matches: the name in the body."""
    permissions.require(request.user, "person", permissions.VIEW, request=request)
    query = _search_query(request)
    return _person_page(request, selectors.person_list(user=request.user, query=query))


persons.ctip_permission = ("person", permissions.VIEW)
persons_search.ctip_permission = ("person", permissions.VIEW)


@extend_schema(
    methods=["GET"],
    operation_id="persons_retrieve",
    responses={200: PersonOutSerializer(show_pii=True), **ERRORS},
)
@extend_schema(
    methods=["PUT"],
    operation_id="persons_update",
    request=PersonUpdateInSerializer,
    responses={200: PersonOutSerializer(show_pii=True), **ERRORS},
)
@api_view(["GET", "PUT"])
def person_detail(request, pk):
    if request.method == "PUT":
        person = selectors.access_person(
            request.user, pk, action=permissions.CHANGE, request=request
        )
        serializer = PersonUpdateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        person = services.person_update(
            user=request.user, person=person, data=services.PersonInput(**data), request=request
        )
        return Response(_out(request, person))
    person = selectors.access_person(request.user, pk, request=request)
    return Response(_out(request, person))


person_detail.ctip_permission = ("person", permissions.VIEW)


# --- Screenings ---------------------------------------------------------------------------


class ScreeningOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    person = serializers.UUIDField(source="person_id")
    owner_agency = serializers.CharField(source="owner_agency.code")
    form_version = serializers.CharField(source="form_version.version")
    form_sha256 = serializers.CharField(source="form_version.sha256")
    status = serializers.ChoiceField(choices=ScreeningStatus.choices)
    source = serializers.ChoiceField(choices=ScreeningSource.choices)
    result = serializers.CharField()
    child = serializers.BooleanField(allow_null=True)
    interview_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    answers = serializers.DictField(required=False)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)


def _screening_out(request, screenings, many=False, detail=False):
    show = permissions.sees_pii(request.user)
    items = list(screenings) if many else [screenings]
    rows = []
    for s in items:
        row = {
            "id": s.pk,
            "reference": s.reference,
            "person_id": s.person_id,
            "owner_agency": s.owner_agency,
            "form_version": s.form_version,
            "status": s.status,
            "source": s.source,
            "result": s.result,
            "child": s.child,
            "interview_date": s.interview_date,
            "created_at": s.created_at,
            "submitted_at": s.submitted_at,
        }
        if detail and show:
            row["answers"] = services.screening_answers(s)
            score = services.screening_score(s)
            if score is not None:
                definition = formdefs.definition_of(s.form_version)
                row["reasons"] = score.reasons(definition, _lang(request))
        rows.append(row)
    if detail and show:
        audit_view(actor=request.user, objects=items, fields=Screening.PII_FIELDS, request=request)
    data = ScreeningOutSerializer(rows, many=True).data
    return data if many else data[0]


class ScreeningInSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    source = serializers.ChoiceField(choices=ScreeningSource.choices, default="device")
    answers = serializers.DictField(default=dict)
    submit = serializers.BooleanField(default=False)


class ScreeningDraftInSerializer(serializers.Serializer):
    answers = serializers.DictField()


class ScreeningSubmitInSerializer(serializers.Serializer):
    answers = serializers.DictField(required=False)


class FormOutSerializer(serializers.Serializer):
    form_id = serializers.CharField()
    version = serializers.CharField()
    sha256 = serializers.CharField()
    definition = serializers.DictField()


def _submit(request, screening, answers):
    try:
        return services.screening_submit(
            user=request.user,
            screening=screening,
            raw=answers,
            lang=_lang(request),
            request=request,
        )
    except services.FormErrors as exc:
        raise ValidationError(exc.fields) from None
    except DjangoValidationError as exc:
        raise _validation(exc) from None


@extend_schema(
    methods=["GET"],
    operation_id="screenings_list",
    parameters=[
        OpenApiParameter("result", str, enum=ScreeningResult.values),
        OpenApiParameter("status", str, enum=ScreeningStatus.values),
        OpenApiParameter("person", str, description="person id"),
    ],
    responses={200: ScreeningOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="screenings_create",
    request=ScreeningInSerializer,
    responses={201: ScreeningOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def screenings(request):
    user = request.user
    if request.method == "POST":
        permissions.require(user, "screening", permissions.CREATE, request=request)
        serializer = ScreeningInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            person = selectors.access_person(user, data["person"], request=request)
        except permissions.NotFound:
            raise ValidationError({"person": ["No such person."]}) from None
        with transaction.atomic():  # a refused submission leaves no draft behind
            screening = services.screening_start(
                user=user, person=person, source=data["source"], request=request
            )
            if data["submit"]:
                screening = _submit(request, screening, data["answers"])
            elif data["answers"]:
                services.screening_save_draft(
                    user=user, screening=screening, raw=data["answers"], lang=_lang(request)
                )
        return Response(_screening_out(request, screening, detail=True), status=201)
    permissions.require(user, "screening", permissions.VIEW, request=request)
    person = None
    if request.query_params.get("person"):
        try:
            person = selectors.access_person(user, request.query_params["person"])
        except permissions.NotFound:
            person = False  # a person the user may not see (or no such id): no screenings
    qs = selectors.screening_list(
        user=user,
        result=request.query_params.get("result", ""),
        status=request.query_params.get("status", ""),
        person=person or None,
    )
    if person is False:
        qs = qs.none()
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(_screening_out(request, page, many=True))


screenings.ctip_permission = ("screening", permissions.VIEW)


@extend_schema(
    methods=["GET"],
    operation_id="screenings_retrieve",
    responses={200: ScreeningOutSerializer, **ERRORS},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="screenings_update_draft",
    request=ScreeningDraftInSerializer,
    responses={200: ScreeningOutSerializer, **ERRORS},
)
@api_view(["GET", "PATCH"])
def screening_detail(request, pk):
    if request.method == "PATCH":
        screening = selectors.access_screening(
            request.user, pk, action=permissions.CHANGE, request=request
        )
        serializer = ScreeningDraftInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merged = {**services.screening_answers(screening), **serializer.validated_data["answers"]}
        try:
            result = services.screening_save_draft(
                user=request.user,
                screening=screening,
                raw=merged,
                lang=_lang(request),
                request=request,
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        if result.errors:
            raise ValidationError(result.errors)
        return Response(_screening_out(request, screening, detail=True))
    screening = selectors.access_screening(request.user, pk, request=request)
    return Response(_screening_out(request, screening, detail=True))


screening_detail.ctip_permission = ("screening", permissions.VIEW)


@extend_schema(
    operation_id="screenings_submit",
    request=ScreeningSubmitInSerializer,
    responses={200: ScreeningOutSerializer, **ERRORS},
)
@api_view(["POST"])
def screening_submit(request, pk):
    screening = selectors.access_screening(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    serializer = ScreeningSubmitInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    answers = serializer.validated_data.get("answers")
    if answers is not None:
        answers = {**services.screening_answers(screening), **answers}
    screening = _submit(request, screening, answers)
    return Response(_screening_out(request, screening, detail=True))


screening_submit.ctip_permission = ("screening", permissions.CHANGE)


@extend_schema(operation_id="screenings_form", responses={200: FormOutSerializer, **ERRORS})
@api_view(["GET"])
def screening_form(request):
    """The current identification form definition, with its hash (compare across nodes)."""
    permissions.require(request.user, "screening", permissions.VIEW, request=request)
    definition = formdefs.current_definition()
    return Response(
        FormOutSerializer(
            {
                "form_id": definition.form_id,
                "version": definition.version,
                "sha256": definition.sha256,
                "definition": json.loads(definition.canonical_json()),
            }
        ).data
    )


screening_form.ctip_permission = ("screening", permissions.VIEW)


# --- Cases --------------------------------------------------------------------------------


class CaseOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    person = serializers.UUIDField(source="person_id")
    screening = serializers.UUIDField(source="screening_id", allow_null=True)
    owner_agency = serializers.CharField(source="owner_agency.code")
    track = serializers.ChoiceField(choices=Track.choices)
    stage = serializers.ChoiceField(choices=Stage.choices)
    stage_entered_at = serializers.DateTimeField()
    stage_due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closure_reason = serializers.CharField()

    def get_overdue(self, case) -> bool:
        return case.is_overdue()


class CaseInSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    screening = serializers.UUIDField(required=False, allow_null=True)
    track = serializers.ChoiceField(choices=Track.choices)


class CaseUpdateInSerializer(serializers.Serializer):
    assigned_to = serializers.CharField(help_text="username of a caseworker of the agency")


class CaseAdvanceInSerializer(serializers.Serializer):
    pass


class EventOutSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    details = serializers.DictField()


class ConsentInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    recipient_country = serializers.ChoiceField(choices=["KH", "CN"])
    recipient_agency = serializers.CharField(required=False, allow_blank=True, max_length=40)
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), allow_empty=True
    )
    given_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True)
    how_given = serializers.ChoiceField(choices=HowGiven.choices)
    language = serializers.CharField(max_length=10)
    interpreter_used = serializers.BooleanField(default=False)
    interpreter_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ConsentOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    decision = serializers.CharField()
    purpose = serializers.CharField()
    recipient_country = serializers.CharField()
    data_categories = serializers.ListField(child=serializers.CharField())
    given_on = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)


class ReferralInSerializer(serializers.Serializer):
    service = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReferralOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    service = serializers.UUIDField(source="service_id")
    need = serializers.CharField()
    status = serializers.CharField()
    cross_border = serializers.BooleanField()
    referred_at = serializers.DateTimeField()


CASE_FILTERS = [
    OpenApiParameter("stage", str, enum=Stage.values),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("mine", bool, description="assigned to me"),
    OpenApiParameter("closed", bool, description="include closed cases"),
]


@extend_schema(
    methods=["GET"],
    operation_id="cases_list",
    parameters=CASE_FILTERS,
    responses={200: CaseOutSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="cases_create",
    request=CaseInSerializer,
    responses={201: CaseOutSerializer, **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def cases(request):
    user = request.user
    if request.method == "POST":
        permissions.require(user, "case", permissions.CREATE, request=request)
        serializer = CaseInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            person = selectors.access_person(user, data["person"], request=request)
            screening = (
                selectors.access_screening(user, data["screening"], request=request)
                if data.get("screening")
                else None
            )
        except permissions.NotFound:
            raise ValidationError({"person": ["No such person or screening."]}) from None
        try:
            case = services.case_open(
                user=user,
                person=person,
                screening=screening,
                track=data["track"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(CaseOutSerializer(case).data, status=201)
    permissions.require(user, "case", permissions.VIEW, request=request)
    _no_name_in_url(request)
    return _case_page(request, query="")


def _case_page(request, *, query: str):
    params = request.query_params
    qs = selectors.case_list(
        user=request.user,
        stage=params.get("stage", ""),
        overdue=params.get("overdue") in ("1", "true"),
        mine=params.get("mine") in ("1", "true"),
        include_closed=params.get("closed") in ("1", "true"),
        query=query,
    )
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(CaseOutSerializer(page, many=True).data)


@extend_schema(
    operation_id="cases_search",
    parameters=CASE_FILTERS,
    request=SearchInSerializer,
    responses={200: CaseOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["POST"])
def cases_search(request):
    """Cases by reference or by the person's name (any script): the name in the body; the
    other filters may stay in the query string."""
    permissions.require(request.user, "case", permissions.VIEW, request=request)
    return _case_page(request, query=_search_query(request))


cases.ctip_permission = ("case", permissions.VIEW)
cases_search.ctip_permission = ("case", permissions.VIEW)


@extend_schema(
    methods=["GET"], operation_id="cases_retrieve", responses={200: CaseOutSerializer, **ERRORS}
)
@extend_schema(
    methods=["PATCH"],
    operation_id="cases_update",
    request=CaseUpdateInSerializer,
    responses={200: CaseOutSerializer, **ERRORS},
)
@api_view(["GET", "PATCH"])
def case_detail(request, pk):
    if request.method == "PATCH":
        case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
        serializer = CaseUpdateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignee = User.objects.filter(
            username=serializer.validated_data["assigned_to"], agency=case.owner_agency
        ).first()
        if assignee is None:
            raise ValidationError({"assigned_to": ["No such caseworker in the case's agency."]})
        try:
            case = services.case_assign(
                user=request.user, case=case, assignee=assignee, request=request
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from None
        return Response(CaseOutSerializer(case).data)
    case = selectors.access_case(request.user, pk, request=request)
    return Response(CaseOutSerializer(case).data)


case_detail.ctip_permission = ("case", permissions.VIEW)


@extend_schema(
    operation_id="cases_advance",
    request=CaseAdvanceInSerializer,
    responses={200: CaseOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_advance(request, pk):
    """Move the case to its next SOP stage (cross-border stages need the person's consent)."""
    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    try:
        case = services.case_advance(user=request.user, case=case, request=request)
    except services.ConsentBlocked as exc:
        raise PermissionDenied(str(exc)) from None
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(CaseOutSerializer(case).data)


case_advance.ctip_permission = ("case", permissions.CHANGE)


@extend_schema(
    operation_id="cases_timeline", responses={200: EventOutSerializer(many=True), **ERRORS}
)
@api_view(["GET"])
def case_timeline(request, pk):
    case = selectors.access_case(request.user, pk, request=request)
    return Response(EventOutSerializer(selectors.case_timeline(case), many=True).data)


case_timeline.ctip_permission = ("case", permissions.VIEW)


@extend_schema(
    operation_id="cases_consents_create",
    request=ConsentInSerializer,
    responses={201: ConsentOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_consents(request, pk):
    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    serializer = ConsentInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data["data_categories"] = tuple(data["data_categories"])
    try:
        consent = services.consent_record(
            user=request.user, case=case, data=services.ConsentInput(**data), request=request
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(ConsentOutSerializer(consent).data, status=201)


case_consents.ctip_permission = ("case", permissions.CHANGE)


@extend_schema(
    operation_id="cases_referrals_create",
    request=ReferralInSerializer,
    responses={201: ReferralOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_referrals(request, pk):
    from ctip.directory.models import Service

    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    serializer = ReferralInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    service = Service.objects.filter(pk=serializer.validated_data["service"]).first()
    if service is None:
        raise ValidationError({"service": ["No such registered service."]})
    try:
        referral = services.referral_create(
            user=request.user,
            case=case,
            service=service,
            note=serializer.validated_data.get("note", ""),
            request=request,
        )
    except services.ConsentBlocked as exc:
        raise PermissionDenied(str(exc)) from None
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(ReferralOutSerializer(referral).data, status=201)


case_referrals.ctip_permission = ("case", permissions.CHANGE)


# --- Transfers between agencies -----------------------------------------------------------


class TransferInSerializer(serializers.Serializer):
    to_agency = serializers.SlugField(help_text="Code of the receiving agency (same country).")
    reason = serializers.CharField(max_length=500)
    keep_access = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        default=list,
        help_text="Usernames of colleagues who keep need-to-know access after the transfer.",
    )


class TransferOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    case_reference = serializers.CharField(source="case.reference")
    from_agency = serializers.CharField(source="from_agency.code")
    to_agency = serializers.CharField(source="to_agency.code")
    status = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class TransferDecideInSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, default="")


@extend_schema(
    operation_id="cases_transfer_propose",
    request=TransferInSerializer,
    responses={201: TransferOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_transfer(request, pk):
    """Propose to transfer the case to another agency of the same country."""
    from ctip.accounts.models import Agency

    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    serializer = TransferInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    to_agency = Agency.objects.filter(code=data["to_agency"]).first()
    if to_agency is None:
        raise ValidationError({"to_agency": ["No such agency."]})
    keepers = list(User.objects.filter(username__in=data["keep_access"], agency=case.owner_agency))
    try:
        transfer = services.case_transfer_propose(
            user=request.user,
            case=case,
            to_agency=to_agency,
            reason=data["reason"],
            keep_access=keepers,
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(TransferOutSerializer(transfer).data, status=201)


case_transfer.ctip_permission = ("case", permissions.CHANGE)


@extend_schema(
    operation_id="transfers_list", responses={200: TransferOutSerializer(many=True), **ERRORS}
)
@api_view(["GET"])
def transfers(request):
    """Transfers waiting: proposed to the user's agency, and proposed by it."""
    permissions.require(request.user, "case", permissions.VIEW, request=request)
    rows = list(selectors.transfers_incoming(user=request.user)) + list(
        selectors.transfers_outgoing(user=request.user)
    )
    return Response(TransferOutSerializer(rows, many=True).data)


transfers.ctip_permission = ("case", permissions.VIEW)


@extend_schema(
    operation_id="transfers_decide",
    request=TransferDecideInSerializer,
    responses={200: TransferOutSerializer, **ERRORS},
)
@api_view(["POST"])
def transfer_decide(request, pk):
    """The receiving agency accepts or declines a transfer proposed to it."""
    permissions.require(request.user, "case", permissions.CREATE, request=request)
    transfer = selectors.access_transfer(request.user, pk, incoming=True, request=request)
    serializer = TransferDecideInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        transfer = services.case_transfer_decide(
            user=request.user,
            transfer=transfer,
            accept=serializer.validated_data["accept"],
            note=serializer.validated_data["note"],
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(TransferOutSerializer(transfer).data)


transfer_decide.ctip_permission = ("case", permissions.CREATE)


# --- Repatriation (issue 8) ---------------------------------------------------------------


class RepatriationStepOutSerializer(serializers.Serializer):
    step = serializers.CharField()
    direction = serializers.CharField()
    msg_id = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    body_sha256 = serializers.CharField()


class RepatriationOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    case_reference = serializers.CharField(source="case.reference")
    stage = serializers.CharField(source="case.stage")
    shared_ref = serializers.CharField()
    side = serializers.CharField()
    peer = serializers.CharField()
    status = serializers.CharField()
    stop_reason = serializers.CharField()
    steps_done = serializers.ListField(child=serializers.CharField())
    waiting_on = serializers.CharField()
    awaited_step = serializers.CharField()
    since = serializers.DateTimeField()
    elapsed_days = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    focal_user = serializers.CharField(source="case.assigned_to.username", default=None)
    steps = RepatriationStepOutSerializer(many=True, source="steps.all")

    def get_elapsed_days(self, rep) -> int:
        return rep.elapsed_days()

    def get_overdue(self, rep) -> bool:
        return rep.is_overdue()


class RepatriationStepInSerializer(serializers.Serializer):
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text="What the user enters for the step (see the step's JSON Schema); the rest "
        "comes from the case. Unknown keys are ignored.",
    )


@extend_schema(
    operation_id="cases_repatriation", responses={200: RepatriationOutSerializer, **ERRORS}
)
@api_view(["GET"])
def case_repatriation(request, pk):
    """The case's repatriation: steps exchanged, whose turn it is, since when, until when."""
    case = selectors.access_case(request.user, pk, request=request)
    rep = Repatriation.objects.filter(case=case).first()
    if rep is None:
        raise permissions.NotFound()
    return Response(RepatriationOutSerializer(rep).data)


case_repatriation.ctip_permission = ("case", permissions.VIEW)


@extend_schema(
    operation_id="cases_repatriation_send",
    request=RepatriationStepInSerializer,
    responses={201: RepatriationOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_repatriation_step(request, pk, step):
    """Send the next step of the repatriation to the other node (order, side, the focal
    person in charge and the person's consent are checked; nothing changes on refusal)."""
    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    spec = repatriation.STEPS.get(step)
    if spec is None:
        raise permissions.NotFound()
    serializer = RepatriationStepInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = {k: v for k, v in serializer.validated_data["data"].items() if k in spec.fields} | (
        {"found_in": str(serializer.validated_data["data"].get("found_in", ""))[:12]}
        if step == "case_notification"
        else {}
    )
    try:
        repatriation.step_send(user=request.user, case=case, step=step, data=data, request=request)
    except services.ConsentBlocked as exc:
        raise PermissionDenied(str(exc)) from None
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(RepatriationOutSerializer(Repatriation.objects.get(case=case)).data, status=201)


case_repatriation_step.ctip_permission = ("case", permissions.CHANGE)


@extend_schema(
    operation_id="repatriations_list",
    parameters=[
        OpenApiParameter("overdue", bool, description="Only those past their step deadline"),
        OpenApiParameter("waiting_on", str, enum=["KH", "CN"]),
        OpenApiParameter("focal", str, description="Username of the focal person in charge"),
    ],
    responses={200: RepatriationOutSerializer(many=True), **ERRORS},
)
@api_view(["GET"])
def repatriations(request):
    """The overdue board: repatriations of the cases the user may see."""
    permissions.require(request.user, "case", permissions.VIEW, request=request)
    rows = selectors.repatriation_board(
        user=request.user,
        overdue=request.query_params.get("overdue") in ("1", "true"),
        waiting_on=request.query_params.get("waiting_on", ""),
        focal=request.query_params.get("focal", "")[:150],
    ).prefetch_related("steps__by")[:500]
    return Response(RepatriationOutSerializer(rows, many=True).data)


repatriations.ctip_permission = ("case", permissions.VIEW)


class ConsentWithdrawInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="")


@extend_schema(
    operation_id="cases_consents_withdraw",
    request=ConsentWithdrawInSerializer,
    responses={200: ConsentOutSerializer, **ERRORS},
)
@api_view(["POST"])
def case_consent_withdraw(request, pk, consent_pk):
    """The person withdraws a consent: cross-border actions relying on it stop; a
    repatriation under way stops and the other node is told (without personal data)."""
    case = selectors.access_case(request.user, pk, action=permissions.CHANGE, request=request)
    consent = case.consents.filter(pk=consent_pk).first()
    if consent is None:
        raise permissions.NotFound()
    serializer = ConsentWithdrawInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        consent = services.consent_withdraw(
            user=request.user,
            consent=consent,
            reason=serializer.validated_data["reason"],
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(ConsentOutSerializer(consent).data)


case_consent_withdraw.ctip_permission = ("case", permissions.CHANGE)
