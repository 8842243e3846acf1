"""REST endpoints of the matching app, with the same rules as its pages: the review queue
(candidates, both records side by side, decide), a person's merge history and unmerge, and
cross-border match queries with the identity follow-up.

A candidate is listed and opened only when the user may see both persons; a person only
when the user may see it; missing and forbidden are the same 404. Personal fields (and
disclosed identities) appear only for roles that may see personal data, and every display
of them is audited. One input and one output serializer per endpoint; one endpoint per
workflow action. The logic stays in ``services``, ``selectors`` and ``xborder``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.audit.services import audit_view
from ctip.cases.models import Person
from ctip.cases.selectors import access_person
from ctip.core.api import ErrorSerializer, Pagination, paginated
from ctip.core.api import validation_error as _validation
from ctip.core.crypto import CryptoError
from ctip.matching import selectors, services, xborder
from ctip.matching.models import CandidateStatus, IdentityOutcome
from ctip.matching.views import FIELD_NAMES, LEVEL_TEXT

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}
RESOURCE = services.RESOURCE  # the review queue, merge and unmerge
QUERY = "matching_query"  # cross-border queries and identity requests
DECISIONS = [
    (CandidateStatus.CONFIRMED, CandidateStatus.CONFIRMED.label),
    (CandidateStatus.REJECTED, CandidateStatus.REJECTED.label),
    (CandidateStatus.UNSURE, CandidateStatus.UNSURE.label),
]


def _flag(request, name: str) -> bool:
    return request.query_params.get(name) in ("1", "true")


def _person_filter(request):
    """The ``person`` query parameter: a person the user may see, ``None`` when not given,
    ``False`` for one the user may not see (or no such id): the list is then empty."""
    if not request.query_params.get("person"):
        return None
    try:
        return access_person(request.user, request.query_params["person"], request=request)
    except permissions.NotFound:
        return False


def _page(request, rows, serialize):
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(serialize(page))


# --- The review queue ---------------------------------------------------------------------


class CandidateOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    left = serializers.UUIDField(source="left_id")
    left_reference = serializers.CharField(source="left.reference")
    right = serializers.UUIDField(source="right_id")
    right_reference = serializers.CharField(source="right.reference")
    probability = serializers.FloatField()
    found_by = serializers.CharField()
    status = serializers.ChoiceField(choices=CandidateStatus.choices)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)


@extend_schema(
    operation_id="matching_candidates_list",
    parameters=[
        OpenApiParameter(
            "status",
            str,
            enum=[*CandidateStatus.values, "all"],
            description="Candidates in this state (default: open); 'all' for every state",
        )
    ],
    responses={200: CandidateOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def candidates(request):
    """The review queue: duplicate candidates of which the user may see both persons,
    most probable first. References only, no personal data."""
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    status = request.query_params.get("status", CandidateStatus.OPEN)
    if status not in (*CandidateStatus.values, "all"):
        raise ValidationError(
            {"status": [_("Choose one of: %s.") % ", ".join([*CandidateStatus.values, "all"])]}
        )
    rows = selectors.candidate_list(
        user=request.user, status="" if status == "all" else status
    ).select_related("decided_by")
    return _page(request, rows, lambda page: CandidateOutSerializer(page, many=True).data)


candidates.ctip_permission = (RESOURCE, permissions.VIEW)


class ComparedFieldOutSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    left = serializers.CharField(allow_null=True)
    right = serializers.CharField(allow_null=True)


class EvidenceOutSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="name, name_zh, birth, sex, nationality, …")
    field_label = serializers.CharField()
    level = serializers.CharField(help_text="the engine's comparison level (stable, English)")
    level_text = serializers.CharField(help_text="the level in the user's language")
    weight = serializers.FloatField(help_text="log2 Bayes factor of this field's agreement")


class CandidateDetailOutSerializer(CandidateOutSerializer):
    compared = ComparedFieldOutSerializer(
        many=True,
        help_text="The two records side by side: only the fields the user may see (personal "
        "fields only for roles that see personal data).",
    )
    evidence = EvidenceOutSerializer(many=True, source="evidence_shown")


def _compared_value(person: Person, field: str):
    if field == "sex":
        return person.sex
    return selectors.readable(person, field)


@extend_schema(
    operation_id="matching_candidates_retrieve",
    responses={200: CandidateDetailOutSerializer, **ERRORS},
)
@api_view(["GET"])
def candidate_detail(request, pk):
    """Both records side by side with the fields the user may see, and the evidence per
    field. Every display of personal fields is audited, for both persons."""
    candidate = selectors.access_candidate(request.user, pk, request=request)
    fields = selectors.visible_compared_fields(request.user)
    left, right = candidate.left, candidate.right
    shown = [f for f in fields if f in Person.PII_FIELDS]
    audit_view(actor=request.user, objects=[left, right], fields=shown, request=request)
    labels = {
        f.name: f.verbose_name for f in Person._meta.get_fields() if hasattr(f, "verbose_name")
    }
    labels["birth_display"] = _("Birth")
    candidate.compared = [
        {
            "field": f,
            "label": str(labels.get(f, f)),
            "left": _compared_value(left, f),
            "right": _compared_value(right, f),
        }
        for f in fields
    ]
    candidate.evidence_shown = [
        {
            "field": name,
            "field_label": str(FIELD_NAMES.get(name, name)),
            "level": label,
            "level_text": str(LEVEL_TEXT.get(label, label)),
            "weight": weight,
        }
        for name, label, weight in candidate.evidence
    ]
    return Response(CandidateDetailOutSerializer(candidate).data)


candidate_detail.ctip_permission = (RESOURCE, permissions.VIEW)


class DecideInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=DECISIONS,
        help_text="confirmed merges the two persons (and the persons already merged with "
        "them); rejected and unsure merge nothing. Other fields are ignored.",
    )


@extend_schema(
    operation_id="matching_candidates_decide",
    request=DecideInSerializer,
    responses={200: CandidateOutSerializer, **ERRORS},
)
@api_view(["POST"])
def candidate_decide(request, pk):
    """Same person (merge), different people, or not sure."""
    permissions.require(request.user, RESOURCE, permissions.CHANGE, request=request)
    candidate = selectors.access_candidate(request.user, pk, request=request)
    serializer = DecideInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        candidate = services.candidate_decide(
            user=request.user,
            candidate=candidate,
            decision=serializer.validated_data["decision"],
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(CandidateOutSerializer(candidate).data)


candidate_decide.ctip_permission = (RESOURCE, permissions.CHANGE)


# --- Merge history and unmerge ------------------------------------------------------------


class LinkOutSerializer(serializers.Serializer):
    cluster = serializers.UUIDField()
    person = serializers.UUIDField()
    person_reference = serializers.CharField()
    name_latin = serializers.CharField(
        required=False, allow_null=True, help_text="only for roles that see personal data"
    )
    candidate = serializers.UUIDField(allow_null=True)
    active = serializers.BooleanField()
    linked_at = serializers.DateTimeField()
    linked_by = serializers.CharField(allow_null=True)
    unlinked_at = serializers.DateTimeField(allow_null=True)
    unlinked_by = serializers.CharField(allow_null=True)


class PersonLinksOutSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    reference = serializers.CharField()
    merged = serializers.BooleanField(help_text="the person is in a merged cluster now")
    links = LinkOutSerializer(many=True)

    def __init__(self, *args, show_pii: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_pii:
            self.fields["links"].child.fields.pop("name_latin")


@extend_schema(
    operation_id="matching_persons_links",
    responses={200: PersonLinksOutSerializer(show_pii=True), **ERRORS},
)
@api_view(["GET"])
def person_links(request, pk):
    """The person's merge history: every link (open and closed) of its clusters, with who
    linked and unlinked when; members the user may not see are left out."""
    permissions.require(request.user, RESOURCE, permissions.VIEW, request=request)
    person = access_person(request.user, pk, request=request)
    links = selectors.person_links(user=request.user, person=person)
    show = permissions.sees_pii(request.user)
    shown = ["name_latin"] if show else []
    audit_view(
        actor=request.user, objects={lnk.person for lnk in links}, fields=shown, request=request
    )
    rows = []
    for lnk in links:
        row = {
            "cluster": lnk.cluster,
            "person": lnk.person_id,
            "person_reference": lnk.person.reference,
            "candidate": lnk.candidate_id,
            "active": lnk.active,
            "linked_at": lnk.linked_at,
            "linked_by": lnk.linked_by.username if lnk.linked_by else None,
            "unlinked_at": lnk.unlinked_at,
            "unlinked_by": lnk.unlinked_by.username if lnk.unlinked_by else None,
        }
        if show:
            row["name_latin"] = selectors.readable(lnk.person, "name_latin")
        rows.append(row)
    data = {
        "person": person.pk,
        "reference": person.reference,
        "merged": any(lnk.active and lnk.person_id == person.pk for lnk in links),
        "links": rows,
    }
    return Response(PersonLinksOutSerializer(data, show_pii=show).data)


person_links.ctip_permission = (RESOURCE, permissions.VIEW)


class UnmergeInSerializer(serializers.Serializer):
    pass


class UnmergeOutSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    unlinked = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="the persons whose links were closed (a cluster left with one member is "
        "closed too)",
    )


@extend_schema(
    operation_id="matching_persons_unmerge",
    request=UnmergeInSerializer,
    responses={200: UnmergeOutSerializer, **ERRORS},
)
@api_view(["POST"])
def person_unmerge(request, pk):
    """Take the person out of its merged cluster. Nothing is deleted: the link is closed,
    with who and when. Refused (404) unless the user may see every member."""
    permissions.require(request.user, RESOURCE, permissions.CHANGE, request=request)
    person = access_person(request.user, pk, request=request)
    try:
        closed = services.person_unmerge(user=request.user, person=person, request=request)
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(UnmergeOutSerializer({"person": person.pk, "unlinked": closed}).data)


person_unmerge.ctip_permission = (RESOURCE, permissions.CHANGE)


# --- Cross-border match queries -----------------------------------------------------------


class QueryInSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Country.choices, help_text="the node to ask")


class AnswerCandidateOutSerializer(serializers.Serializer):
    handle = serializers.CharField(help_text="opaque; resolves only on the node that issued it")
    score = serializers.FloatField(help_text="Dice similarity of the encodings")


class QueryOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    query_id = serializers.CharField()
    peer = serializers.CharField()
    person = serializers.UUIDField(source="person_id", allow_null=True)
    person_reference = serializers.CharField(source="person.reference", default=None)
    asked_by = serializers.CharField(source="asked_by.username", default=None)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    refused = serializers.CharField(help_text="the peer's refusal code, if any")
    candidates = AnswerCandidateOutSerializer(
        source="answer", many=True, help_text="empty until answered, and when nobody matched"
    )


@extend_schema(
    operation_id="matching_persons_query",
    request=QueryInSerializer,
    responses={201: QueryOutSerializer, **ERRORS},
)
@api_view(["POST"])
def person_query(request, pk):
    """Ask the other node whether it holds someone matching this person: only keyed
    encodings leave the node. The answer (handles and scores) arrives later: see
    ``GET /api/v1/matching/queries``."""
    permissions.require(request.user, QUERY, permissions.CREATE, request=request)
    person = access_person(request.user, pk, request=request)
    serializer = QueryInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    to = serializer.validated_data["to"]
    from ctip.exchange.errors import ExchangeError

    try:
        query = xborder.query_send(user=request.user, person=person, to=to, request=request)
    except ExchangeError as exc:  # no such peer, or the exchange is closed (fail-closed)
        raise ValidationError({"to": [str(exc)]}) from None
    except xborder.QueryRefused as exc:
        if xborder.current_key(to) is None:
            raise ValidationError({"to": list(exc.messages)}) from None
        raise _validation(exc) from None
    return Response(QueryOutSerializer(query).data, status=201)


person_query.ctip_permission = (QUERY, permissions.CREATE)


@extend_schema(
    operation_id="matching_queries_list",
    parameters=[
        OpenApiParameter("person", str, description="Only the queries about this person (id)"),
        OpenApiParameter("mine", bool, description="Only the queries I sent"),
    ],
    responses={200: QueryOutSerializer(many=True), **ERRORS},
)
@paginated
@api_view(["GET"])
def queries(request):
    """The sent match queries about persons the user may see, newest first, with the
    peer's answer: handles and scores, or its refusal code."""
    permissions.require(request.user, QUERY, permissions.VIEW, request=request)
    person = _person_filter(request)
    rows = selectors.query_list(
        user=request.user, person=person or None, mine=_flag(request, "mine")
    )
    if person is False:
        rows = rows.none()
    return _page(request, rows, lambda page: QueryOutSerializer(page, many=True).data)


queries.ctip_permission = (QUERY, permissions.VIEW)


# --- Identity requests: who is behind a handle --------------------------------------------


class IdentityRequestInSerializer(serializers.Serializer):
    handle = serializers.RegexField(
        r"^[A-Za-z0-9_-]{8,40}$", help_text="a handle from the answer to one of our queries"
    )
    purpose = serializers.ChoiceField(
        choices=list(xborder.IDENTITY_PURPOSES),
        help_text="what the identity is for (never law enforcement); also the envelope's purpose",
    )


class IdentityOutSerializer(serializers.Serializer):
    case_ref = serializers.CharField(help_text="the other node's case reference")
    name_km = serializers.CharField(required=False)
    name_zh = serializers.CharField(required=False)
    name_latin = serializers.CharField(required=False)
    sex = serializers.CharField()
    nationality = serializers.CharField()
    born_from = serializers.IntegerField(allow_null=True)
    born_to = serializers.IntegerField(allow_null=True)


class IdentityRequestOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    request_id = serializers.CharField()
    peer = serializers.CharField()
    handle = serializers.CharField()
    person = serializers.UUIDField(allow_null=True)
    person_reference = serializers.CharField(allow_null=True)
    purpose = serializers.CharField()
    asked_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(choices=IdentityOutcome.choices)
    refused = serializers.CharField(help_text="the peer's refusal code, if refused")
    identity = IdentityOutSerializer(
        allow_null=True,
        help_text="the identity the other node disclosed; only for roles that see personal "
        "data, and every display is audited",
    )

    def __init__(self, *args, show_pii: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_pii:
            self.fields.pop("identity")


def _identity_row(asked, identity) -> dict:
    return {
        "id": asked.pk,
        "request_id": asked.request_id,
        "peer": asked.peer,
        "handle": asked.handle,
        "person": asked.person_id,
        "person_reference": asked.person.reference if asked.person else None,
        "purpose": asked.purpose,
        "asked_by": asked.asked_by.username if asked.asked_by else None,
        "created_at": asked.created_at,
        "answered_at": asked.answered_at,
        "outcome": asked.outcome,
        "refused": asked.refused,
        "identity": identity,
    }


def _disclosed(asked) -> dict | None:
    if asked.outcome != IdentityOutcome.DISCLOSED:
        return None
    try:
        return xborder.identity_of(asked) or None
    except CryptoError:  # the asking person was crypto-shredded, and the identity with it
        return None


@extend_schema(
    methods=["GET"],
    operation_id="matching_identity_requests_list",
    parameters=[
        OpenApiParameter("person", str, description="Only the requests about this person (id)")
    ],
    responses={200: IdentityRequestOutSerializer(many=True, show_pii=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    operation_id="matching_identity_requests_create",
    request=IdentityRequestInSerializer,
    responses={201: IdentityRequestOutSerializer(show_pii=False), **ERRORS},
)
@paginated
@api_view(["GET", "POST"])
def identity_requests(request):
    """Ask the node that issued a handle who is behind it (GET: the requests sent about
    persons the user may see, with the identities disclosed; those only for roles that see
    personal data, and audited)."""
    user = request.user
    if request.method == "POST":
        permissions.require(user, QUERY, permissions.CREATE, request=request)
        serializer = IdentityRequestInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            asked = xborder.identity_request_send(
                user=user,
                handle=serializer.validated_data["handle"],
                purpose=serializer.validated_data["purpose"],
                request=request,
            )
        except permissions.NotFound:
            # An unknown handle and one of a query about a person the user may not see are
            # the same answer (the service logged it).
            raise ValidationError({"handle": [_("No such handle.")]}) from None
        except xborder.QueryRefused as exc:
            raise _validation(exc) from None
        return Response(
            IdentityRequestOutSerializer(_identity_row(asked, None), show_pii=False).data,
            status=201,
        )
    permissions.require(user, QUERY, permissions.VIEW, request=request)
    person = _person_filter(request)
    rows = [] if person is False else xborder.identity_requests(user=user, person=person)
    return _page(request, rows, lambda page: _identity_page(request, page))


identity_requests.ctip_permission = (QUERY, permissions.VIEW)


def _identity_page(request, page) -> list:
    show = permissions.sees_pii(request.user)
    identities = {}
    if show:
        identities = {a.pk: i for a in page if (i := _disclosed(a)) is not None}
        audit_view(
            actor=request.user,
            objects=[a for a in page if a.pk in identities],
            fields=["identity"],
            request=request,
        )
    rows = [_identity_row(a, identities.get(a.pk)) for a in page]
    return IdentityRequestOutSerializer(rows, many=True, show_pii=show).data
