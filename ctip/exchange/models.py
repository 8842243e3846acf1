"""Peers and their pinned keys, the outbox and inbox, and the hash-chained message log.

Message bodies may hold personal data: they are stored only in ``EncryptedTextField``s
(``OutboxMessage.body``, ``InboxMessage.body``, ``LogEntry.evidence``), each row under its
own data key. Everything else here is metadata: types, opaque case references, digests,
key ids, reason codes.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.core.models import DataKeyField, EncryptedTextField
from ctip.exchange.core import PeerAnchor, anchor_from_jwks


class Peer(models.Model):
    """The other node: where it is, and the counter that orders what we send it."""

    node_id = models.CharField(_("node"), max_length=2, unique=True)
    url = models.CharField(_("address"), max_length=200, blank=True)
    next_seq = models.PositiveBigIntegerField(default=1)
    # During our key rollover: the signing key the peer is known to hold (empty: newest).
    sign_with = models.CharField(max_length=64, blank=True)
    # Set while the link-down alert is raised (the oldest waiting message is too old).
    alert_raised_at = models.DateTimeField(null=True, blank=True)
    # When a relay run is already scheduled for (so failures do not pile up schedules).
    wakeup_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["node_id"]

    def __str__(self) -> str:
        return self.node_id

    @cached_property
    def pinned(self) -> PinnedAnchor:
        anchor = self.anchors.order_by("-version").first()
        if anchor is None:
            raise PinnedAnchor.DoesNotExist(f"peer {self.node_id} has no pinned keys")
        return anchor

    def anchor(self) -> PeerAnchor:
        return self.pinned.core()


class AnchorSource(models.TextChoices):
    URL = "url", _("fetched from the peer and compared by fingerprint")
    FILE = "file", _("read from a file and compared by fingerprint")
    MESSAGE = "message", _("announced by the peer in a signed message")
    REVOCATION = "revocation", _("key revoked here")


class PinnedAnchor(models.Model):
    """One version of a peer's public keys. Versions are kept: old messages verify under them."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="anchors")
    version = models.PositiveIntegerField()
    jwks = models.JSONField()
    fingerprint = models.CharField(max_length=39)
    source = models.CharField(max_length=12, choices=AnchorSource.choices)
    pinned_at = models.DateTimeField(default=timezone.now)
    pinned_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["peer", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "version"], name="exchange_anchor_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="exchange_anchor_v1"),
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} v{self.version} {self.fingerprint}"

    def core(self) -> PeerAnchor:
        return anchor_from_jwks(self.jwks)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENT = "sent", _("sent, no receipt yet")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    FAILED = "failed", _("refused")
    # Never to be sent (consent withdrawn, or no longer covering it when it was due); kept
    # as the record of what was stopped. Nothing moves a message out of it but the peer's
    # signed receipt for a copy that had already left (see ``services.outbox_cancel``).
    CANCELLED = "cancelled", _("cancelled, not to be sent")


class Transport(models.TextChoices):
    HTTP = "http", _("network")
    BUNDLE = "bundle", _("bundle file")


class OutboxMessage(models.Model):
    """A message we send. Its primary key is the message id the peer deduplicates on."""

    PII_FIELDS = ("body",)
    UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENT)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbox")
    seq = models.PositiveBigIntegerField()
    msg_type = models.CharField(_("type"), max_length=80)
    schema_version = models.PositiveSmallIntegerField(default=1)
    case_ref = models.CharField(_("case"), max_length=64, blank=True)
    purpose = models.CharField(_("purpose"), max_length=60, blank=True)
    legal_basis = models.CharField(max_length=60, blank=True)
    consent_ref = models.CharField(max_length=64, blank=True)
    in_reply_to = models.UUIDField(null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    body = EncryptedTextField(_("body"))  # canonical JSON
    token = models.TextField(editable=False)  # the current sealed JWE (ciphertext to the peer)
    token_iat = models.BigIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=14, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    transport = models.CharField(max_length=8, choices=Transport.choices, blank=True)
    last_error = models.CharField(_("reason"), max_length=64, blank=True)
    last_error_detail = models.CharField(max_length=200, blank=True)
    receipt = models.TextField(blank=True)  # the peer's signed receipt (no case data)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["peer", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "seq"], name="exchange_outbox_peer_seq"),
            models.CheckConstraint(
                condition=~models.Q(status="acknowledged") | models.Q(receipt__gt=""),
                name="exchange_outbox_ack_has_receipt",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | models.Q(cancelled_at__isnull=False),
                name="exchange_outbox_cancel_has_time",
            ),
        ]
        indexes = [models.Index(fields=["peer", "status", "seq"], name="exchange_outbox_queue")]

    def __str__(self) -> str:
        return f"{self.peer_id}#{self.seq} {self.msg_type}"

    @property
    def msg_id(self) -> str:
        return str(self.id)


class OutboxToken(models.Model):
    """Every token sealed for an outbox message: a receipt may name any of them."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.PROTECT, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    iat = models.BigIntegerField()
    transport = models.CharField(max_length=8, choices=Transport.choices, blank=True)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["message", "sealed_at"]

    def __str__(self) -> str:
        return self.digest


class InboxMessage(models.Model):
    """A message a peer sent us that we accepted and processed, exactly once."""

    PII_FIELDS = ("body",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbox")
    msg_id = models.UUIDField()
    seq = models.PositiveBigIntegerField()
    msg_type = models.CharField(_("type"), max_length=80)
    schema_version = models.PositiveSmallIntegerField()
    case_ref = models.CharField(_("case"), max_length=64, blank=True)
    purpose = models.CharField(_("purpose"), max_length=60, blank=True)
    in_reply_to = models.UUIDField(null=True, blank=True)
    body = EncryptedTextField(_("body"))
    envelope_digest = models.CharField(max_length=64)
    signer_kid = models.CharField(max_length=64)
    transport = models.CharField(max_length=8, choices=Transport.choices)
    receipt = models.TextField()  # our signed receipt, returned again for duplicates
    sent_at = models.DateTimeField()  # the signed iat
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "msg_id"], name="exchange_inbox_once"),
        ]
        indexes = [models.Index(fields=["case_ref"], name="exchange_inbox_case")]

    def __str__(self) -> str:
        return f"{self.peer_id}#{self.seq} {self.msg_type}"


class LogKind(models.TextChoices):
    MESSAGE_OUT = "message_out", _("message signed by us")
    MESSAGE_IN = "message_in", _("message received")
    RECEIPT_OUT = "receipt_out", _("receipt given")
    RECEIPT_IN = "receipt_in", _("receipt received")


class LogEntry(models.Model):
    """The append-only, hash-chained message log: signed evidence of what crossed the border.

    The chain covers the digests, not the signed text itself, so an entry's ``evidence``
    can be crypto-shredded at the end of its retention while the chain still verifies.
    Database triggers make UPDATE and DELETE fail (see the migration).
    """

    PII_FIELDS = ("evidence",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=LogKind.choices)
    peer = models.CharField(max_length=2)
    msg_id = models.UUIDField(null=True, blank=True)
    msg_type = models.CharField(max_length=80, blank=True)
    transport = models.CharField(max_length=8, blank=True)
    envelope_digest = models.CharField(max_length=64, blank=True)
    evidence_digest = models.CharField(max_length=64)
    signer_kid = models.CharField(max_length=64)
    anchor = models.ForeignKey(
        PinnedAnchor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = EncryptedTextField()  # the signed JWS: the message (with its body) or receipt
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="exchange_log_seq_pos")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.peer}"
