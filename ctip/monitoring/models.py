"""Models of the monitoring app: no personal data anywhere.

* ``ScreeningFact``: the category codes the statistics need that the cases app keeps
  encrypted in a screening's answers (forms of exploitation, country of exploitation),
  read once per submitted screening so that the dashboard never decrypts.
* ``MonthlyStatistics``: one country's migration statistics for one month (border crossings
  reported, deportations, returns, identified victims by form of exploitation and sex),
  this node's own (computed, entered or imported) or the other node's (received).
* ``ReviewNote``: a lesson or a challenge recorded by one side for the annual review.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country

RESOURCE = "monitoring"


class ScreeningFact(models.Model):
    """Statistics codes of one submitted screening (derived data, rebuilt at will)."""

    screening = models.OneToOneField(
        "cases.Screening",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="monitoring_fact",
    )
    # Sorted codes of the form's "exploitation_types" choices, joined by ","; empty when
    # none was given (or the screening's key was shredded: nothing is known any more).
    exploitation_types = models.CharField(max_length=200, blank=True)
    exploitation_country = models.CharField(max_length=2, blank=True)
    read_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"fact {self.pk}"


class StatisticsSource(models.TextChoices):
    COMPUTED = "computed", _("Computed from this node's records")
    ENTERED = "entered", _("Entered by the M&E officer")
    IMPORTED = "imported", _("Imported from a CSV file")
    RECEIVED = "received", _("Received from the other node")


# The categories of "identified victims" in the statistics message: the identification
# form's forms of exploitation (cases/data/identification_form), and the sex columns.
VICTIM_CATEGORIES = (
    "forced_labour",
    "forced_criminality",
    "sexual_exploitation",
    "forced_marriage",
    "domestic_servitude",
    "begging",
    "other",
)
SEX_COLUMNS = ("female", "male", "other_unknown")


class MonthlyStatistics(models.Model):
    """Migration statistics of one country for one month (plan activity VI.3).

    ``victims`` holds a table ``{"rows": [...], "cols": [...], "cells": [[...]],
    "row_totals": [...], "col_totals": [...], "total": n}``; for this node's own figures the
    true counts, for received figures what the other node published (None where withheld).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    month = models.DateField(_("month"))  # the first day of the month
    source = models.CharField(_("source"), max_length=10, choices=StatisticsSource.choices)
    revision = models.PositiveIntegerField(default=1)
    border_crossings = models.PositiveIntegerField(
        _("border crossings reported"), null=True, blank=True
    )
    deportations = models.PositiveIntegerField(_("deportations"), null=True, blank=True)
    returns = models.PositiveIntegerField(_("returns"), null=True, blank=True)
    victims = models.JSONField(_("identified victims by category"), default=dict, blank=True)
    # For received figures: the threshold the sender applied.
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent to the other node"), null=True, blank=True)
    received_from = models.CharField(max_length=2, choices=Country.choices, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "country"]
        constraints = [
            models.UniqueConstraint(fields=["country", "month"], name="statistics_one_per_month"),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="statistics_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(source="received", received_from__gt="")
                | ~models.Q(source="received") & models.Q(received_from=""),
                name="statistics_received_has_sender",
            ),
        ]

    def __str__(self) -> str:
        return f"statistics {self.country} {self.month:%Y-%m}"


class NoteKind(models.TextChoices):
    LESSON = "lesson", _("Lesson learned")
    CHALLENGE = "challenge", _("Challenge")


class ReviewNote(models.Model):
    """A lesson or a challenge of one side, for the annual review workshop (VI.1). Write
    about the work, never about a person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    country = models.CharField(_("side"), max_length=2, choices=Country.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices)
    text_en = models.TextField(_("text in English"), max_length=2000)
    text_second = models.TextField(_("text in Khmer or Chinese"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["year", "country", "kind", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="review_note_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.country} {self.year}"


class ReleasedTable(models.Model):
    """One table that leaves the node, on the grid of blocks (``release``): an indicator by
    a breakdown for a calendar year ("2026"), or a part of the monthly statistics for a
    month ("2026-03"). Its row is locked while a new version is checked, so two releases of
    the same table are never checked side by side without each other."""

    table = models.CharField(max_length=80)
    by = models.CharField(max_length=30, blank=True)
    block = models.CharField(max_length=7)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["table", "by", "block"], name="released_table_once")
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.by} {self.block}"


class TableRelease(models.Model):
    """One version of a released table (the release log, SECURITY.md #40): what was
    published (``shown``: the grid with its margins, a number, null where withheld, -1
    where not published) and the true counts it was computed from (``counts``, kept here
    so that a later version can be checked against it; never sent). Codes and counts
    only."""

    released_table = models.ForeignKey(
        ReleasedTable, on_delete=models.CASCADE, related_name="versions"
    )
    rows = models.JSONField(default=list)
    cols = models.JSONField(default=list)
    counts = models.JSONField(default=list)
    shown = models.JSONField(default=list)
    digest = models.CharField(max_length=64)
    channel = models.CharField(max_length=20)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["released_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["released_table", "digest"], name="table_release_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.released_table} {self.digest[:8]}"
