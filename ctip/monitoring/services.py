"""Writes of the monitoring app: statistics facts, monthly migration statistics (computed,
entered, imported, sent), lessons and challenges. Keyword-only, atomic, ``full_clean``
before save, an audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.monitoring import sdc
from ctip.monitoring.models import (
    SEX_COLUMNS,
    VICTIM_CATEGORIES,
    MonthlyStatistics,
    NoteKind,
    ReviewNote,
    ScreeningFact,
    StatisticsSource,
)

BATCH = 1000


def threshold() -> int:
    """The small-cell threshold (``CTIP_SDC_THRESHOLD``, default 10)."""
    return int(getattr(settings, "CTIP_SDC_THRESHOLD", sdc.DEFAULT_THRESHOLD))


# --- statistics facts (derived from encrypted answers, read once) ---------------------------


def facts_refresh() -> int:
    """Read the forms of exploitation of submitted screenings that have no fact yet (one
    decryption per screening, ever), and blank the facts of screenings whose key was
    shredded. Returns how many screenings were read. One audit row per run that read any."""
    Screening = apps.get_model("cases", "Screening")
    from ctip.core.crypto import CryptoError

    blanked = ScreeningFact.objects.filter(screening__data_key__shredded_at__isnull=False).exclude(
        exploitation_types="", exploitation_country=""
    )
    blanked.update(exploitation_types="", exploitation_country="")
    todo = Screening.objects.filter(status="submitted", monitoring_fact__isnull=True)
    read = 0
    while True:
        batch = list(todo.select_related("data_key")[:BATCH])
        if not batch:
            break
        facts = []
        for screening in batch:
            try:
                answers = json.loads(screening.answers or "{}")
            except (CryptoError, ValueError):
                answers = {}
            types = answers.get("exploitation_types") or []
            if isinstance(types, str):
                types = [types]
            codes = sorted({str(t) for t in types if isinstance(t, str) and t != "none_known"})
            country = answers.get("exploitation_country")
            facts.append(
                ScreeningFact(
                    screening_id=screening.pk,
                    exploitation_types=",".join(codes)[:200],
                    exploitation_country=country
                    if isinstance(country, str) and len(country) == 2
                    else "",
                )
            )
        with transaction.atomic():
            ScreeningFact.objects.bulk_create(facts, ignore_conflicts=True)
            audit_record(
                actor=None,
                action=Action.VIEW,
                object_type="cases.screening",
                fields=["answers"],
                details={"purpose": "statistics", "screenings": len(facts)},
            )
        read += len(facts)
    return read


# --- monthly migration statistics --------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsInput:
    month: dt.date
    border_crossings: int | None = None
    deportations: int | None = None
    returns: int | None = None
    # victims[category][sex] = count; None: not reported
    victims: dict[str, dict[str, int]] | None = None


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def victims_table(victims: dict[str, dict[str, int]] | None) -> dict:
    """The stored (unprotected) table of identified victims by category and sex."""
    if not victims:
        return {}
    cells = [
        [int(victims.get(cat, {}).get(sex, 0)) for sex in SEX_COLUMNS] for cat in VICTIM_CATEGORIES
    ]
    return {
        "rows": list(VICTIM_CATEGORIES),
        "cols": list(SEX_COLUMNS),
        "cells": cells,
        "row_totals": [sum(line) for line in cells],
        "col_totals": [
            sum(cells[i][j] for i in range(len(cells))) for j in range(len(SEX_COLUMNS))
        ],
        "total": sum(sum(line) for line in cells),
    }


def computed_input(month: dt.date) -> StatisticsInput:
    """This node's own figures for a month, from its records: identified victims by form
    of exploitation (the first form recorded; "other" when none) and sex, and returns
    (cross-border cases handed over). Border crossings and deportations are not recorded in
    this system: they stay empty until entered."""
    from ctip.monitoring.sources import repatriations, victims_identified

    start = month_start(month)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    victims: dict[str, dict[str, int]] = {cat: {} for cat in VICTIM_CATEGORIES}
    for row in victims_identified(start, end):
        forms = [f for f in row["exploitation"] if f in VICTIM_CATEGORIES] or ["other"]
        sex = row["sex"] if row["sex"] in ("female", "male") else "other_unknown"
        cell = victims[forms[0]]
        cell[sex] = cell.get(sex, 0) + 1
    return StatisticsInput(month=start, returns=len(repatriations(start, end)), victims=victims)


@transaction.atomic
def statistics_record(
    *, user, data: StatisticsInput, source: str = StatisticsSource.ENTERED, request=None
) -> MonthlyStatistics:
    """Record (or revise) this node's figures for one month."""
    if source not in (
        StatisticsSource.ENTERED,
        StatisticsSource.IMPORTED,
        StatisticsSource.COMPUTED,
    ):
        raise ValidationError(_("Only this node's own figures can be recorded here."))
    month = month_start(data.month)
    country = settings.CTIP_NODE
    row = MonthlyStatistics.objects.select_for_update().filter(country=country, month=month).first()
    created = row is None
    if created:
        row = MonthlyStatistics(country=country, month=month)
    else:
        row.revision += 1
    row.source = source
    row.border_crossings = data.border_crossings
    row.deportations = data.deportations
    row.returns = data.returns
    row.victims = victims_table(data.victims)
    row.recorded_by = user
    row.recorded_at = timezone.now()
    row.full_clean()
    row.save()
    audit_record(
        actor=user,
        action=Action.CREATE if created else Action.UPDATE,
        obj=row,
        details={"month": f"{month:%Y-%m}", "source": source, "revision": row.revision},
        request=request,
    )
    return row


STATISTICS_TABLE = "monitoring.statistics"
SINGLE_FIGURES = ("border_crossings", "deportations", "returns")


def statistics_body(
    row: MonthlyStatistics, *, k: int | None = None, user=None, channel: str, request=None
) -> dict:
    """What leaves the node: every figure through the disclosure control and the release
    log (``release.release_grid``; one block per figure and month), so that a revision
    never shows a small change against what an earlier revision or answer published."""
    from ctip.monitoring.release import release_grid

    k = k or threshold()
    month = f"{row.month:%Y-%m}"
    body = {
        "country": row.country,
        "month": month,
        "revision": row.revision,
        "threshold": k,
        "victims": None,
    }
    for name in SINGLE_FIGURES:
        value = getattr(row, name)
        if value is None:
            body[name] = None
            continue
        p = release_grid(
            table=STATISTICS_TABLE,
            by=name,
            block=month,
            rows=("n",),
            cols=("n",),
            counts=((value,),),
            region={(0, 0), (0, 1), (1, 0), (1, 1)},
            k=k,
            user=user,
            channel=channel,
            request=request,
        )
        body[name] = p.cells[0][0]
    table = row.victims or {}
    if table.get("cells"):
        r, c = len(table["rows"]), len(table["cols"])
        p = release_grid(
            table=STATISTICS_TABLE,
            by="victims",
            block=month,
            rows=table["rows"],
            cols=table["cols"],
            counts=table["cells"],
            region={(i, j) for i in range(r + 1) for j in range(c + 1)},
            k=k,
            user=user,
            channel=channel,
            request=request,
        )
        body["victims"] = {
            "rows": list(p.rows),
            "cols": list(p.cols),
            "cells": [list(line) for line in p.cells],
            "row_totals": list(p.row_totals),
            "col_totals": list(p.col_totals),
            "total": p.total,
        }
    return body


@transaction.atomic
def statistics_send(*, user, row: MonthlyStatistics, request=None) -> list:
    """Queue this node's figures for the month to the other node (after disclosure
    control)."""
    if row.country != settings.CTIP_NODE or row.source == StatisticsSource.RECEIVED:
        raise ValidationError(_("Only this node's own figures are sent."))
    from ctip.exchange.services import message_send
    from ctip.monitoring.sync import STATISTICS_TYPE, peers

    targets = peers()
    if not targets:
        raise ValidationError(_("No other node is peered with this one yet."))
    body = statistics_body(row, user=user, channel="message", request=request)
    sent = [
        message_send(actor=user, to=node, msg_type=STATISTICS_TYPE, body=body, request=request)
        for node in targets
    ]
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])
    audit_record(
        actor=user,
        action=Action.EXPORT,
        obj=row,
        details={"to": targets, "month": body["month"], "threshold": body["threshold"]},
        request=request,
    )
    return sent


@transaction.atomic
def statistics_receive(*, sender: str, body: dict) -> MonthlyStatistics | None:
    """Keep the other node's published figures (called by the exchange handler)."""
    year, mon = (int(x) for x in body["month"].split("-"))
    month = dt.date(year, mon, 1)
    row = MonthlyStatistics.objects.select_for_update().filter(country=sender, month=month).first()
    if row is not None and row.source != StatisticsSource.RECEIVED:
        raise ValidationError("figures of the sender's country are held here as this node's own")
    if row is not None and row.revision >= body["revision"]:
        return None  # a repeated or older delivery changes nothing
    created = row is None
    row = row or MonthlyStatistics(country=sender, month=month)
    row.source = StatisticsSource.RECEIVED
    row.revision = body["revision"]
    row.border_crossings = body["border_crossings"]
    row.deportations = body["deportations"]
    row.returns = body["returns"]
    row.victims = body["victims"] or {}
    row.threshold = body["threshold"]
    row.received_from = sender
    row.received_at = timezone.now()
    row.recorded_by = None
    row.full_clean()
    row.save()
    audit_record(
        actor=None,
        action=Action.CREATE if created else Action.UPDATE,
        obj=row,
        details={"from": sender, "month": body["month"], "revision": row.revision},
    )
    return row


# --- lessons and challenges ----------------------------------------------------------------------


@transaction.atomic
def note_add(
    *, user, year: int, country: str, kind: str, text_en: str, text_second: str = "", request=None
) -> ReviewNote:
    if kind not in NoteKind.values:
        raise ValidationError({"kind": _("Choose lesson or challenge.")})
    note = ReviewNote(
        year=year,
        country=country,
        kind=kind,
        text_en=text_en.strip(),
        text_second=text_second.strip(),
        recorded_by=user,
    )
    note.full_clean()
    note.save()
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=note,
        details={"year": year, "country": country, "kind": kind},
        request=request,
    )
    return note
