"""REST endpoints of the prevention app: the public certificate check (same rules as the
page: rate-limited, logged, only what the code says), issuing and revoking certificates
(civil registration officers), and the dissemination indicators (aggregates).
One input and one output serializer per endpoint."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ctip.accounts import permissions
from ctip.accounts.models import Agency, Country
from ctip.core.api import ErrorSerializer
from ctip.core.api import validation_error as _validation
from ctip.prevention import indicators, selectors, services
from ctip.prevention.models import (
    CERTIFICATE,
    DISSEMINATION,
    DocType,
    RevocationReason,
    VerificationResult,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but two-factor or role missing"),
    404: OpenApiResponse(ErrorSerializer, description="Missing, or not yours to see"),
}


# --- Verification (public) ----------------------------------------------------------------


class CertificateVerifyInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=600)


class CertificateVerifyOutSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=VerificationResult.choices)
    reason = serializers.CharField()
    message = serializers.CharField()
    issuer = serializers.CharField(allow_blank=True)
    doc_type = serializers.CharField(allow_blank=True)
    authority = serializers.CharField(allow_blank=True)
    authority_name = serializers.CharField(allow_blank=True)
    initials = serializers.CharField(allow_blank=True)
    issued_on = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


@extend_schema(
    operation_id="prevention_verify",
    parameters=[CertificateVerifyInSerializer],
    responses={
        200: CertificateVerifyOutSerializer,
        400: ERRORS[400],
        429: OpenApiResponse(CertificateVerifyOutSerializer, description="Too many checks"),
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def verify(request):
    """Check a certificate's code offline (valid, revoked, expired, unknown or invalid)."""
    given = CertificateVerifyInSerializer(data=request.query_params)
    given.is_valid(raise_exception=True)
    outcome = services.certificate_verify(code=given.validated_data["code"], request=request)
    claims = outcome.claims
    shown = claims is not None and outcome.result != VerificationResult.INVALID
    if outcome.result == VerificationResult.REVOKED:
        message = str(RevocationReason(outcome.reason).label)
    else:
        message = str(services.REASONS.get(outcome.reason, ""))
    data = {
        "result": outcome.result,
        "reason": outcome.reason,
        "message": message,
        "issuer": claims.issuer if shown else "",
        "doc_type": claims.doc_type if shown else "",
        "authority": claims.authority if shown else "",
        "authority_name": outcome.authority_name if shown else "",
        "initials": claims.initials if shown else "",
        "issued_on": claims.issued_on if shown else None,
        "valid_until": claims.valid_until if shown else None,
    }
    status = 429 if outcome.result == VerificationResult.THROTTLED else 200
    return Response(CertificateVerifyOutSerializer(data).data, status=status)


verify.ctip_permission = ("public", None)


# --- Certificates -------------------------------------------------------------------------


class CivilCertificateInSerializer(serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=DocType.choices)
    authority = serializers.SlugField(max_length=40, help_text="The agency code")
    number = serializers.CharField(max_length=60)
    holder_name = serializers.CharField(max_length=200)
    partner_name = serializers.CharField(max_length=200, required=False, default="")
    issued_on = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)


class CivilCertificateOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    doc_type = serializers.CharField()
    authority = serializers.CharField(source="authority.code")
    initials = serializers.CharField()
    issued_on = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    code = serializers.CharField()
    revoked = serializers.BooleanField(source="is_revoked")
    revocation_reason = serializers.CharField()


@extend_schema(
    operation_id="prevention_certificate_issue",
    request=CivilCertificateInSerializer,
    responses={201: CivilCertificateOutSerializer, **ERRORS},
)
@api_view(["POST"])
def certificate_issue(request):
    """Record an issued singleness or marriage certificate; returns its signed code (the
    names and number are stored encrypted and are not returned)."""
    permissions.require(request.user, CERTIFICATE, permissions.CREATE, request=request)
    given = CivilCertificateInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    data = dict(given.validated_data)
    authority = Agency.objects.filter(code=data.pop("authority")).first()
    if authority is None:
        raise ValidationError({"authority": ["No such agency."]})
    try:
        certificate = services.certificate_issue(
            user=request.user,
            data=services.CertificateInput(authority=authority, **data),
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(CivilCertificateOutSerializer(certificate).data, status=201)


certificate_issue.ctip_permission = (CERTIFICATE, permissions.CREATE)


class CivilCertificateRevokeInSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RevocationReason.choices)


@extend_schema(
    operation_id="prevention_certificate_revoke",
    request=CivilCertificateRevokeInSerializer,
    responses={200: CivilCertificateOutSerializer, **ERRORS},
)
@api_view(["POST"])
def certificate_revoke(request, pk):
    """Revoke a certificate at once; the other node learns it through the exchange."""
    certificate = selectors.access_certificate(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    given = CivilCertificateRevokeInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        certificate = services.certificate_revoke(
            user=request.user,
            certificate=certificate,
            reason=given.validated_data["reason"],
            request=request,
        )
    except DjangoValidationError as exc:
        raise _validation(exc) from None
    return Response(CivilCertificateOutSerializer(certificate).data)


certificate_revoke.ctip_permission = (CERTIFICATE, permissions.CHANGE)


# --- Indicators ---------------------------------------------------------------------------


class PreventionIndicatorInSerializer(serializers.Serializer):
    country = serializers.ChoiceField(choices=Country.choices, required=False, default=None)
    start = serializers.DateField(required=False, default=None)
    end = serializers.DateField(required=False, default=None)


class PreventionRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    events = serializers.IntegerField()
    reached = serializers.IntegerField()


class PreventionIndicatorOutSerializer(serializers.Serializer):
    events = serializers.IntegerField()
    reached = serializers.IntegerField()
    female = serializers.IntegerField()
    male = serializers.IntegerField()
    unknown = serializers.IntegerField()
    by_group = serializers.DictField(child=serializers.IntegerField())
    by_channel = PreventionRowSerializer(many=True)
    by_audience = PreventionRowSerializer(many=True)


@extend_schema(
    operation_id="prevention_indicators",
    parameters=[PreventionIndicatorInSerializer],
    responses={200: PreventionIndicatorOutSerializer, **ERRORS},
)
@api_view(["GET"])
def indicator_values(request):
    """People reached by dissemination (counts only), by sex and age group, channel and
    target group."""
    permissions.require(request.user, DISSEMINATION, permissions.VIEW, request=request)
    given = PreventionIndicatorInSerializer(data=request.query_params)
    given.is_valid(raise_exception=True)
    period = given.validated_data
    reached = indicators.people_reached(**period)
    data = {
        "events": reached.events,
        "reached": reached.total,
        "female": reached.female,
        "male": reached.male,
        "unknown": reached.unknown,
        "by_group": reached.by_group,
        "by_channel": [r.__dict__ for r in indicators.reached_by("channel", **period)],
        "by_audience": [r.__dict__ for r in indicators.reached_by("audience", **period)],
    }
    return Response(PreventionIndicatorOutSerializer(data).data)


indicator_values.ctip_permission = (DISSEMINATION, permissions.VIEW)
