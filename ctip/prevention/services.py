"""Writes of the prevention app: keyword-only, atomic, validated, audited in the same
transaction. Messages to the other node are queued inside the same transaction (the
exchange's outbox), so a change and its announcement commit together."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ctip.accounts import permissions
from ctip.accounts.models import Agency, Country
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event
from ctip.core.crypto import index_token
from ctip.prevention import codes
from ctip.prevention.models import (
    CERTIFICATE,
    DISSEMINATION,
    PACKAGE,
    PLAN_ACTIVITY,
    STRATEGY,
    AudienceGroup,
    CivilCertificate,
    DisseminationEvent,
    DocType,
    PackageItem,
    PeerRevocation,
    RevocationReason,
    StepKind,
    StrategyComment,
    StrategyDocument,
    StrategySection,
    StrategyStatus,
    StrategyStep,
    StrategyVersion,
    ToolPackage,
    VerificationAttempt,
    VerificationResult,
)

log = logging.getLogger(__name__)
security_log = logging.getLogger("ctip.security")

VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE


def _label(user) -> str:
    """Who acted, as shown to the other side: the agency, not the person."""
    agency = getattr(user, "agency", None)
    return f"{agency.name_en} ({agency.country})" if agency else settings.CTIP_NODE


# --- Strategy -----------------------------------------------------------------------------


@transaction.atomic
def strategy_create(*, user, title: str, request=None) -> StrategyVersion:
    """A new strategy document with its first (draft) version."""
    permissions.require(user, STRATEGY, CREATE, request=request)
    document = StrategyDocument(title=title.strip(), origin=settings.CTIP_NODE)
    document.full_clean()
    document.save(force_insert=True)
    version = StrategyVersion(
        document=document, number=1, origin=settings.CTIP_NODE, author=_label(user)
    )
    version.full_clean()
    version.save(force_insert=True)
    audit_record(actor=user, action=Action.CREATE, obj=document, request=request)
    return version


def _require_draft(version: StrategyVersion) -> None:
    if version.submitted_at is not None or version.origin != settings.CTIP_NODE:
        raise ValidationError(_("Only a draft of this side can be changed."))


@transaction.atomic
def version_new(*, user, document: StrategyDocument, request=None) -> StrategyVersion:
    """A new draft, starting from the text of the latest submitted version."""
    permissions.require(user, STRATEGY, CREATE, request=request)
    versions = list(document.versions.all())
    if any(v.submitted_at is None and v.origin == settings.CTIP_NODE for v in versions):
        raise ValidationError(_("A draft already exists: finish it first."))
    base = max(
        (v for v in versions if v.submitted_at is not None),
        key=lambda v: (v.number, v.submitted_at),
        default=None,
    )
    version = StrategyVersion(
        document=document,
        number=max((v.number for v in versions), default=0) + 1,
        origin=settings.CTIP_NODE,
        author=_label(user),
    )
    version.full_clean()
    version.save(force_insert=True)
    if base is not None:
        StrategySection.objects.bulk_create(
            StrategySection(version=version, number=s.number, heading=s.heading, text=s.text)
            for s in base.sections.all()
        )
    audit_record(actor=user, action=Action.CREATE, obj=version, details={"number": version.number})
    return version


@transaction.atomic
def section_save(
    *,
    user,
    version: StrategyVersion,
    number: int,
    heading: str,
    text: str,
    section: StrategySection | None = None,
    request=None,
) -> StrategySection:
    permissions.require(user, STRATEGY, CHANGE, request=request)
    _require_draft(version)
    section = section or StrategySection(version=version)
    section.number, section.heading, section.text = number, heading.strip(), text.strip()
    section.full_clean()
    section.save()
    audit_record(actor=user, action=Action.UPDATE, obj=section, details={"number": number})
    return section


def _plan_status(*, user, version: StrategyVersion, note: str, request=None) -> bool:
    """Record where plan activity II.1 stands for this country, through the plan's own
    service. Skipped (False) when the plan is not loaded or the user may not report."""
    from ctip.plan.models import Activity, Status
    from ctip.plan.services import StatusInput, status_update_record

    activity = Activity.objects.filter(number=PLAN_ACTIVITY, withdrawn=False).first()
    if activity is None or not permissions.can(user, "plan", CHANGE):
        return False
    status_update_record(
        user=user,
        activity=activity,
        country=settings.CTIP_NODE,
        data=StatusInput(
            status=Status.IN_PROGRESS,
            as_of=timezone.localdate(),
            note=note,
            evidence_url=f"/prevention/strategy/{version.pk}/",
        ),
        request=request,
    )
    return True


def plan_note(version: StrategyVersion) -> str:
    if version.status == StrategyStatus.AGREED:
        return (
            f"Preventive strategy version {version.number} agreed by both sides "
            "(final text); implementation follows."
        )
    return f"Preventive strategy version {version.number} in review by both sides."


@transaction.atomic
def version_submit(*, user, version: StrategyVersion, request=None) -> StrategyVersion:
    """Freeze a draft and send it to the other side for review."""
    permissions.require(user, STRATEGY, CHANGE, request=request)
    version = StrategyVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if not version.sections.exists():
        raise ValidationError(_("A version needs at least one section."))
    version.submitted_at = timezone.now()
    version.save(update_fields=["submitted_at"])
    StrategyStep.objects.create(
        version=version, country=settings.CTIP_NODE, kind=StepKind.SUBMITTED, by=_label(user)
    )
    audit_record(actor=user, action=Action.UPDATE, obj=version, details={"step": "submitted"})
    _plan_status(user=user, version=version, note=plan_note(version), request=request)
    from ctip.prevention import sync

    sync.strategy_changed(actor=user, document=version.document, request=request)
    return version


@transaction.atomic
def version_step(
    *, user, version: StrategyVersion, kind: str, note: str = "", request=None
) -> StrategyStep:
    """This side reviews (asks for changes) or approves a submitted version. Approved by
    both sides, the version is the final agreed text."""
    permissions.require(user, STRATEGY, CHANGE, request=request)
    version = StrategyVersion.objects.select_for_update().get(pk=version.pk)
    if kind not in (StepKind.REVIEWED, StepKind.APPROVED):
        raise ValidationError(_("Choose review or approval."))
    if version.submitted_at is None:
        raise ValidationError(_("A draft cannot be reviewed: submit it first."))
    if version.status == StrategyStatus.AGREED:
        raise ValidationError(_("This version is already agreed."))
    if kind == StepKind.APPROVED and settings.CTIP_NODE in version.approvals:
        raise ValidationError(_("This side has already approved this version."))
    if kind == StepKind.REVIEWED and not note.strip():
        raise ValidationError({"note": _("Say what should change.")})
    step = StrategyStep(
        version=version, country=settings.CTIP_NODE, kind=kind, by=_label(user), note=note.strip()
    )
    step.full_clean()
    step.save(force_insert=True)
    audit_record(actor=user, action=Action.CREATE, obj=step, details={"step": kind})
    version = StrategyVersion.objects.prefetch_related("steps").get(pk=version.pk)
    if version.status == StrategyStatus.AGREED:
        _plan_status(user=user, version=version, note=plan_note(version), request=request)
    from ctip.prevention import sync

    sync.strategy_changed(actor=user, document=version.document, request=request)
    return step


@transaction.atomic
def comment_add(*, user, section: StrategySection, text: str, request=None) -> StrategyComment:
    permissions.require(user, STRATEGY, CHANGE, request=request)
    if section.version.submitted_at is None and section.version.origin != settings.CTIP_NODE:
        raise ValidationError(_("This version is not shared."))
    comment = StrategyComment(
        section=section, country=settings.CTIP_NODE, by=_label(user), text=text.strip()
    )
    comment.full_clean()
    comment.save(force_insert=True)
    audit_record(actor=user, action=Action.CREATE, obj=comment)
    if section.version.submitted_at is not None:
        from ctip.prevention import sync

        sync.strategy_changed(actor=user, document=section.version.document, request=request)
    return comment


@transaction.atomic
def plan_status_report(*, user, version: StrategyVersion, request=None) -> bool:
    """Report the strategy's state to plan activity II.1 for this country (e.g. after the
    other side's approval made it agreed)."""
    permissions.require(user, STRATEGY, CHANGE, request=request)
    if version.submitted_at is None:
        raise ValidationError(_("A draft is not reported."))
    return _plan_status(user=user, version=version, note=plan_note(version), request=request)


# --- Tool packages ------------------------------------------------------------------------

PACKAGE_FIELDS = (
    "topic",
    "title_en",
    "title_km",
    "title_zh_hans",
    "summary_en",
    "summary_km",
    "summary_zh_hans",
)
ITEM_FIELDS = (
    "kind",
    "number",
    "title_en",
    "title_km",
    "title_zh_hans",
    "text_en",
    "text_km",
    "text_zh_hans",
    "authority",
    "contact",
)


def _own_package(package: ToolPackage) -> None:
    if package.country != settings.CTIP_NODE:
        raise ValidationError(_("Each country keeps its own tool packages."))


@transaction.atomic
def package_save(*, user, data: dict, package: ToolPackage | None = None, request=None):
    permissions.require(user, PACKAGE, CHANGE if package else CREATE, request=request)
    package = package or ToolPackage(country=settings.CTIP_NODE)
    _own_package(package)
    for name in PACKAGE_FIELDS:
        if name in data:
            setattr(package, name, data[name])
    package.updated_at = timezone.now()
    package.full_clean()
    package.save()
    audit_record(actor=user, action=Action.UPDATE, obj=package, details={"topic": package.topic})
    return package


def _check_item_links(package: ToolPackage, item: PackageItem) -> None:
    if item.authority_id and item.authority.country != package.country:
        raise ValidationError({"authority": _("The authority must be of the package's country.")})
    if item.contact_id and not item.contact.published:
        raise ValidationError({"contact": _("The contact must be published in the directory.")})


@transaction.atomic
def item_save(
    *, user, package: ToolPackage, data: dict, item: PackageItem | None = None, request=None
) -> PackageItem:
    permissions.require(user, PACKAGE, CHANGE, request=request)
    _own_package(package)
    item = item or PackageItem(package=package)
    for name in ITEM_FIELDS:
        if name in data:
            setattr(item, name, data[name])
    item.full_clean()
    _check_item_links(package, item)
    item.save()
    ToolPackage.objects.filter(pk=package.pk).update(updated_at=timezone.now())
    audit_record(actor=user, action=Action.UPDATE, obj=item, details={"kind": item.kind})
    return item


@transaction.atomic
def package_publish(*, user, package: ToolPackage, published: bool, request=None) -> ToolPackage:
    permissions.require(user, PACKAGE, CHANGE, request=request)
    _own_package(package)
    if published:
        kinds = set(package.items.values_list("kind", flat=True))
        if not {"step", "document", "warning"} <= kinds:
            raise ValidationError(
                _("A package needs steps, required documents and warning signs to be published.")
            )
    package.published = published
    package.updated_at = timezone.now()
    package.save(update_fields=["published", "updated_at"])
    audit_record(actor=user, action=Action.UPDATE, obj=package, details={"published": published})
    return package


# --- Dissemination ------------------------------------------------------------------------

DISSEMINATION_FIELDS = (
    "package",
    "date",
    "channel",
    "province",
    "place",
    "audiences",
    "female_under_18",
    "female_18_24",
    "female_25_plus",
    "male_under_18",
    "male_18_24",
    "male_25_plus",
    "unknown",
)


@transaction.atomic
def dissemination_record(*, user, data: dict, request=None) -> DisseminationEvent:
    permissions.require(user, DISSEMINATION, CREATE, request=request)
    if not user.agency_id:
        raise ValidationError(_("Only a user of an agency records dissemination."))
    event = DisseminationEvent(country=settings.CTIP_NODE, agency=user.agency, recorded_by=user)
    for name in DISSEMINATION_FIELDS:
        if name in data:
            setattr(event, name, data[name])
    audiences = event.audiences
    if (
        not isinstance(audiences, list)
        or not audiences
        or not set(audiences) <= set(AudienceGroup.values)
    ):
        raise ValidationError({"audiences": _("Choose at least one target group.")})
    event.audiences = sorted(set(audiences))
    if event.date and event.date > timezone.localdate():
        raise ValidationError({"date": _("Record dissemination once it took place.")})
    if event.package_id and event.package.country != settings.CTIP_NODE:
        raise ValidationError({"package": _("Choose one of this country's tool packages.")})
    event.full_clean()
    event.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=event,
        details={"channel": event.channel, "reached": event.reached},
        request=request,
    )
    return event


# --- Certificates -------------------------------------------------------------------------


def initials_of(name: str) -> str:
    """``Chan Sokha`` -> ``C.S.``: the first letter of up to four words."""
    words = [w for w in re.split(r"[\s,.'-]+", name.strip()) if w]
    return "".join(f"{w[0].upper()}." for w in words[:4])


def issuing_authorities(user) -> list[Agency]:
    """The registrar's agency and its sub-agencies (e.g. provincial offices)."""
    if not user.agency_id:
        return []
    return list(
        Agency.objects.filter(
            Q(pk=user.agency_id) | Q(parent_id=user.agency_id), country=settings.CTIP_NODE
        )
    )


@dataclass(frozen=True)
class CertificateInput:
    doc_type: str
    authority: Agency
    number: str
    holder_name: str
    issued_on: dt.date
    partner_name: str = ""
    valid_until: dt.date | None = None


def _signing_key(now: int):
    from ctip.exchange.identity import our_keys

    return our_keys().current("sig", now)


@transaction.atomic
def certificate_issue(*, user, data: CertificateInput, request=None) -> CivilCertificate:
    """Record an issued certificate and sign its verification code with this node's
    current exchange signing key."""
    permissions.require(user, CERTIFICATE, CREATE, request=request)
    if data.authority.pk not in {a.pk for a in issuing_authorities(user)}:
        raise ValidationError({"authority": _("Choose your own authority or one of its offices.")})
    if data.doc_type not in DocType.values:
        raise ValidationError({"doc_type": _("Choose the document.")})
    holder, partner, number = (
        data.holder_name.strip(),
        data.partner_name.strip(),
        data.number.strip(),
    )
    if data.doc_type == DocType.MARRIAGE and not partner:
        raise ValidationError({"partner_name": _("A marriage certificate names both spouses.")})
    if data.doc_type == DocType.SINGLENESS and partner:
        raise ValidationError({"partner_name": _("A singleness certificate names one person.")})
    if data.issued_on > timezone.localdate():
        raise ValidationError({"issued_on": _("The date of issue cannot be in the future.")})
    initials = initials_of(holder)
    if partner:
        initials = f"{initials} & {initials_of(partner)}"
    now = timezone.now()
    entry = _signing_key(int(now.timestamp()))
    certificate = CivilCertificate(
        doc_type=data.doc_type,
        authority=data.authority,
        number=number,
        number_token=index_token(number, "prevention.certificate-number"),
        holder_name=holder,
        partner_name=partner,
        initials=initials[: codes.MAX_INITIALS],
        issued_on=data.issued_on,
        valid_until=data.valid_until,
        serial=secrets.token_hex(codes.SERIAL_BYTES),
        kid=entry.kid,
        issued_at=now,
        issued_by=user,
    )
    certificate.full_clean(exclude=["code"])
    try:
        certificate.code = codes.encode(
            codes.Claims(
                issuer=settings.CTIP_NODE,
                key=codes.kid_prefix(entry.kid),
                serial=certificate.serial,
                doc_type=certificate.doc_type,
                signed_at=int(now.timestamp()),
                issued_on=certificate.issued_on,
                valid_until=certificate.valid_until,
                authority=certificate.authority.code,
                initials=certificate.initials,
            ),
            entry.key.private_key,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    certificate.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=certificate,
        fields=list(CivilCertificate.PII_FIELDS),
        details={"doc_type": certificate.doc_type, "authority": certificate.authority.code},
        request=request,
    )
    return certificate


@transaction.atomic
def certificate_revoke(
    *, user, certificate: CivilCertificate, reason: str, request=None
) -> CivilCertificate:
    """Revoke at once here, and announce it to the other node (its revocation list)."""
    permissions.require(user, CERTIFICATE, CHANGE, request=request)
    certificate = CivilCertificate.objects.select_for_update().get(pk=certificate.pk)
    if not certificate.ctip_visible_to(user):
        raise permissions.deny(user, CERTIFICATE, CHANGE, certificate.pk, request=request)
    if certificate.is_revoked:
        raise ValidationError(_("This certificate is already revoked."))
    if reason not in RevocationReason.values:
        raise ValidationError({"revocation_reason": _("Choose a reason.")})
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = user
    certificate.revocation_reason = reason
    certificate.full_clean()
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=certificate,
        fields=["revoked_at"],
        details={"reason": reason},
        request=request,
    )
    from ctip.prevention import sync

    sync.revocation_announce(actor=user, certificate=certificate, request=request)
    return certificate


# --- Verification (public) ----------------------------------------------------------------

RATE_LIMIT = 20  # checks per client per window
RATE_WINDOW = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Outcome:
    """What the verification page may show: the result, the reason when not valid, and
    only what the code itself says (never a name or number from the record)."""

    result: str
    reason: str = ""
    claims: codes.Claims | None = None

    @property
    def authority_name(self) -> str:
        if self.claims is None:
            return ""
        agency = Agency.objects.filter(code=self.claims.authority).first()
        return agency.name if agency else self.claims.authority

    @property
    def issuer_name(self) -> str:
        return Country(self.claims.issuer).label if self.claims else ""

    @property
    def doc_type_label(self) -> str:
        return DocType(self.claims.doc_type).label if self.claims else ""


def _client(request) -> str:
    from ctip.audit.services import client_ip

    return index_token(client_ip(request) or "-", "prevention.verify-client")


def _public_keys(issuer: str):
    """The issuer's public key ring: ours, or the peer's pinned anchor; None if unknown."""
    if issuer == settings.CTIP_NODE:
        from ctip.exchange.identity import our_keys

        return our_keys().public()
    from ctip.exchange.models import Peer

    peer = Peer.objects.filter(node_id=issuer).first()
    if peer is None or not peer.anchors.exists():
        return None
    return peer.anchor()


def _check(code: str) -> Outcome:
    try:
        claims, signed, signature = codes.decode(code)
    except codes.CodeError as exc:
        return Outcome(VerificationResult.INVALID, exc.reason)
    if claims.issuer not in Country.values:
        return Outcome(VerificationResult.INVALID, "unknown_issuer")
    ring = _public_keys(claims.issuer)
    if ring is None:
        return Outcome(VerificationResult.INVALID, "unknown_issuer")
    entries = [e for e in ring.by_use("sig") if codes.kid_prefix(e.kid) == claims.key]
    if not entries:
        return Outcome(VerificationResult.INVALID, "unknown_key")
    entry = entries[0]
    if not codes.verify_signature(entry.key.public_key, signed, signature):
        return Outcome(VerificationResult.INVALID, "bad_signature")
    if not entry.is_valid_at(claims.signed_at):
        return Outcome(VerificationResult.INVALID, "key_not_valid")
    if claims.issuer == settings.CTIP_NODE:
        record = CivilCertificate.objects.filter(serial=claims.serial).first()
        if record is None or record.code != codes.normalise(code):
            return Outcome(VerificationResult.UNKNOWN, "no_record", claims)
        if record.is_revoked:
            return Outcome(VerificationResult.REVOKED, record.revocation_reason, claims)
    else:
        revocation = PeerRevocation.objects.filter(
            issuer=claims.issuer, serial=claims.serial
        ).first()
        if revocation is not None:
            return Outcome(VerificationResult.REVOKED, revocation.reason, claims)
    if claims.valid_until is not None and claims.valid_until < timezone.localdate():
        return Outcome(VerificationResult.EXPIRED, "", claims)
    return Outcome(VerificationResult.VALID, "", claims)


def certificate_verify(*, code: str, request=None) -> Outcome:
    """Check a code, offline: the signature against the issuer's key (ours, or the peer's
    pinned key), then the revocation list. Rate-limited per client, and every check is
    logged; a code that is not valid is also a security event."""
    client = _client(request)
    now = timezone.now()
    recent = VerificationAttempt.objects.filter(client=client, at__gte=now - RATE_WINDOW)
    if recent.count() >= RATE_LIMIT:
        security_log.warning("certificate verification throttled client=%s", client[:8])
        return Outcome(VerificationResult.THROTTLED, "rate_limited")
    outcome = _check(code)
    claims = outcome.claims
    with transaction.atomic():
        VerificationAttempt.objects.create(
            at=now,
            client=client,
            result=outcome.result,
            reason=outcome.reason[:30],
            issuer=claims.issuer if claims else "",
            serial=claims.serial if claims else "",
        )
        if outcome.result in (VerificationResult.INVALID, VerificationResult.UNKNOWN):
            audit_security_event(
                actor=None,
                event="certificate_code_refused",
                object_type="prevention.civilcertificate",
                object_id=claims.serial if claims else "",
                details={"reason": outcome.reason},
                request=request,
            )
            security_log.warning(
                "certificate code refused reason=%s client=%s", outcome.reason, client[:8]
            )
    return outcome


REASONS = {
    "malformed": gettext_lazy("The code is damaged, incomplete or not a certificate code."),
    "unsupported_version": gettext_lazy("The code is of a format this system does not know."),
    "unknown_issuer": gettext_lazy("The code names an issuer whose keys this node does not hold."),
    "unknown_key": gettext_lazy(
        "The code is signed with a key that is not a known key of the issuer."
    ),
    "bad_signature": gettext_lazy("The signature does not match: the code was forged or altered."),
    "key_not_valid": gettext_lazy(
        "The issuer's key was revoked or not valid when the code was signed."
    ),
    "no_record": gettext_lazy("The issuing authority holds no record of this certificate."),
    "rate_limited": gettext_lazy(
        "Too many checks from your connection: wait a minute and try again."
    ),
}
