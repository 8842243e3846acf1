"""Duplicate candidates, merges that keep every record, and cross-border match queries.

A merge never changes or deletes a Person: it adds :class:`PersonLink` rows that put the
persons in one cluster, and an unmerge closes those rows (they stay, with who and when).
Candidates carry the per-field evidence as level labels and weights, never names.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.core.models import DataKeyField, EncryptedTextField


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed: same person")
    REJECTED = "rejected", _("Rejected: different people")
    UNSURE = "unsure", _("Not sure")


class FoundBy(models.TextChoices):
    NEW_PERSON = "new_person", _("New person")
    SWEEP = "sweep", _("Nightly sweep")


class MatchCandidate(models.Model):
    """Two persons the engine thinks may be one; ``left`` < ``right`` by id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    left = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("match probability"))
    #: [[field, level label, log2 Bayes factor], ...]: the evidence per field, no values.
    evidence = models.JSONField(default=list)
    found_by = models.CharField(max_length=12, choices=FoundBy.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-probability", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="matchcandidate_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1),
                name="matchcandidate_probability_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(left=models.F("right")), name="matchcandidate_two_persons"
            ),
        ]

    def __str__(self) -> str:
        return f"candidate {self.pk}"


class PersonLink(models.Model):
    """One person's membership of a merged cluster; closed (not deleted) by an unmerge."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cluster = models.UUIDField(db_index=True)
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(
        MatchCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    unlinked_at = models.DateTimeField(null=True, blank=True)
    unlinked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["linked_at"]
        constraints = [
            # A person is in at most one open cluster.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(unlinked_at__isnull=True),
                name="personlink_one_open_cluster",
            )
        ]

    def __str__(self) -> str:
        return f"link {self.pk}"

    @property
    def active(self) -> bool:
        return self.unlinked_at is None


class PersonKey(models.Model):
    """A keyed token of one of a person's blocking keys (a name part and a birth year, two
    name parts...: :func:`~ctip.matching.core.engine.blocking_keys`), so that a new person's
    candidates are found by reading only the persons who share a key, not everyone. Tokens
    are HMACs under the node's index key, like the persons' search tokens: they tell which
    persons share a key, not what it is."""

    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "token"], name="personkey_unique"),
        ]

    def __str__(self) -> str:
        return f"key {self.pk}"


class TrainedModel(models.Model):
    """The Fellegi–Sunter weights learned by the last sweep (no personal data)."""

    created_at = models.DateTimeField(default=timezone.now)
    parameters = models.JSONField()
    records = models.PositiveIntegerField(default=0)
    pairs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"model {self.pk}"


class MatchKey(models.Model):
    """A key agreed with a peer node for the Bloom-filter encodings of match queries.

    The node that rotates sends the new key inside an encrypted exchange message; a key is
    used for queries until the next rotation, and accepted for answers until ``not_after``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    key_id = models.CharField(max_length=40, unique=True)
    peer = models.CharField(max_length=2)
    secret = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    not_after = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id


class QueryDirection(models.TextChoices):
    OUT = "out", _("Sent")
    IN = "in", _("Received")


class MatchQuery(models.Model):
    """One cross-border match query, sent or received. Holds no encodings and no names:
    the sent side keeps which person it asked about and the answer (handles and scores);
    the received side keeps only counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(max_length=3, choices=QueryDirection.choices)
    peer = models.CharField(max_length=2)
    query_id = models.CharField(max_length=40, db_index=True)
    key_id = models.CharField(max_length=40)
    person = models.ForeignKey(
        "cases.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    #: Sent queries: [{"handle": ..., "score": ...}]; received: [] (the handles are below).
    answer = models.JSONField(default=list)
    refused = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "peer", "query_id"], name="matchquery_unique"
            )
        ]

    def __str__(self) -> str:
        return f"match query {self.query_id}"


class MatchHandle(models.Model):
    """An opaque handle given to a peer for one candidate; resolves only here, and only
    through a follow-up request under the consent rules."""

    handle = models.CharField(max_length=40, primary_key=True)
    query = models.ForeignKey(MatchQuery, on_delete=models.CASCADE, related_name="handles")
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    #: A handle resolves for ``CTIP_MATCH_HANDLE_DAYS`` after it was issued.
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.handle


class IdentityOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for the answer")
    DISCLOSED = "disclosed", _("Identity disclosed")
    REFUSED = "refused", _("Refused")


class IdentityRequest(models.Model):
    """A follow-up request for the identity behind a handle, sent or received.

    Sent (``out``): the asking person, who asked, the purpose, and, once answered, the
    minimal identity the peer disclosed (encrypted under the asking person's data key, so
    crypto-shredding the person shreds it too) or the peer's refusal code.
    Received (``in``): the handle asked about, the outcome with the code sent back and the
    local reason (``sealed`` and ``no_consent`` both go out as ``not_disclosed``), the
    consenting case relied on, and the requesting officer as the peer named them
    (encrypted). A received row never holds the identity that was sent.
    """

    PII_FIELDS = ("identity", "officer")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    direction = models.CharField(max_length=3, choices=QueryDirection.choices)
    peer = models.CharField(max_length=2)
    request_id = models.CharField(max_length=40)
    handle = models.CharField(max_length=40, db_index=True)
    purpose = models.CharField(max_length=30)
    query = models.ForeignKey(
        MatchQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        "cases.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: Sent: the exchange message id of the request (the answer must reply to it).
    msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=IdentityOutcome.choices, default=IdentityOutcome.PENDING
    )
    #: The refusal code that crossed the border ("" when disclosed or pending).
    refused = models.CharField(max_length=40, blank=True)
    #: Received: why, on this node (e.g. ``wrong_peer``, ``sealed``, ``no_consent``).
    reason = models.CharField(max_length=40, blank=True)
    #: Received and disclosed: the case whose consent was relied on.
    case_ref = models.CharField(max_length=24, blank=True)
    officer = EncryptedTextField()
    #: Sent and disclosed: the identity as JSON.
    identity = EncryptedTextField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "peer", "request_id"], name="identityrequest_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"identity request {self.request_id}"
