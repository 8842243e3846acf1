"""De-identified case export in the Human Trafficking Case Data Standard (HTCDS v2.0, the
Counter Trafficking Data Collaborative's standard).

One row per identified victim (a submitted screening with the result victim or presumed
victim; sealed records are never exported). Only these columns, with HTCDS field names and
picklist values:

=============================  =============================================================
``prs_Gender``                 Feminine, Masculine, NonSpecifiedUnknown
``vic_AgeWhenTrafficked``      banded as CTDC's public dataset does (0-8, 9-17, 18-20, …, 48+)
``prs_Citizenship``            ISO 3166 code
``vic_TypeOfExploitation``     multiselect, values joined by ";"
``hte_Type``, ``hte_Country``  "Exploitation" and the ISO code of the country where it happened
``hte_Date``                   the year only
``vic_TraffickingStatus``      ActualVictimOfTrafficking / PossibleVictimOfTrafficking
``cas_Status``                 Active, Closed (or empty without a case)
=============================  =============================================================

No identifier of any kind (names, references, ids, dates, places below the country).

**k-anonymity** over the quasi-identifiers gender, age band, citizenship, country of
exploitation, type of exploitation and year (k = 10 by default, as CTDC): a record whose
combination is shared by fewer than k records first has its type and country of
exploitation withheld (the rarest attributes); if its combination is still rarer than k,
the record is left out. Every combination in the file is then shared by at least k rows,
and the report says how many were generalised or left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from ctip.monitoring.indicators import UNKNOWN, age_band
from ctip.monitoring.sources import IDENTIFIED, age_at

DEFAULT_K = 10
WITHHELD = ""  # a generalised value is written as an empty cell

COLUMNS = (
    "prs_Gender",
    "vic_AgeWhenTrafficked",
    "prs_Citizenship",
    "vic_TypeOfExploitation",
    "hte_Type",
    "hte_Country",
    "hte_Date",
    "vic_TraffickingStatus",
    "cas_Status",
)
QUASI_IDENTIFIERS = (
    "prs_Gender",
    "vic_AgeWhenTrafficked",
    "prs_Citizenship",
    "hte_Country",
    "vic_TypeOfExploitation",
    "hte_Date",
)
GENERALISED = ("vic_TypeOfExploitation", "hte_Country")

GENDER = {"female": "Feminine", "male": "Masculine"}
EXPLOITATION = {
    "forced_labour": "ForcedLabour",
    "sexual_exploitation": "SexualExploitation",
    "forced_marriage": "ForcedMarriage",
    "domestic_servitude": "Servitude",
    "begging": "ForcedBegging",
    # HTCDS v2.0 has no value for forced criminality (online scam compounds): Other.
    "forced_criminality": "Other",
    "other": "Other",
}
STATUS = {"victim": "ActualVictimOfTrafficking", "presumed_victim": "PossibleVictimOfTrafficking"}


@dataclass(frozen=True)
class ExportReport:
    k: int
    records: int  # identified victims considered (sealed ones not counted)
    sealed_left_out: int
    written: int
    generalised: int
    left_out: int
    smallest_group: int

    def lines(self) -> list[str]:
        return [
            f"HTCDS export, k = {self.k}",
            f"identified victims considered: {self.records} (sealed records never exported: "
            f"{self.sealed_left_out})",
            f"rows written: {self.written}",
            f"rows with type and country of exploitation withheld: {self.generalised}",
            f"rows left out (combination shared by fewer than {self.k}): {self.left_out}",
            f"smallest combination in the file: {self.smallest_group or '-'}",
        ]


def records() -> tuple[list[dict], int]:
    """The identified victims as HTCDS rows (before k-anonymity), and how many sealed
    records were left out."""
    Screening = apps.get_model("cases", "Screening")
    from ctip.monitoring.services import facts_refresh

    facts_refresh()
    base = Screening.objects.filter(status="submitted", result__in=IDENTIFIED)
    sealed = (
        base.filter(sealed=True).count() + base.filter(sealed=False, person__sealed=True).count()
    )
    qs = base.filter(sealed=False, person__sealed=False)
    out = []
    for (
        interview_date,
        submitted_at,
        result,
        sex,
        birth_year,
        birth_month,
        age_estimate,
        created_at,
        nationality,
        types,
        country,
        case_closed,
        case_id,
    ) in qs.values_list(
        "interview_date",
        "submitted_at",
        "result",
        "person__sex",
        "person__birth_year",
        "person__birth_month",
        "person__age_estimate",
        "person__created_at",
        "person__nationality",
        "monitoring_fact__exploitation_types",
        "monitoring_fact__exploitation_country",
        "case__closed_at",
        "case__id",
    ).iterator(chunk_size=5000):
        day = interview_date or timezone.localtime(submitted_at).date()
        band = age_band(age_at(day, birth_year, birth_month, age_estimate, created_at))
        forms = sorted({EXPLOITATION.get(t, "Other") for t in (types or "").split(",") if t})
        out.append(
            {
                "prs_Gender": GENDER.get(sex, "NonSpecifiedUnknown"),
                "vic_AgeWhenTrafficked": "" if band == UNKNOWN else band,
                "prs_Citizenship": nationality or "",
                "vic_TypeOfExploitation": ";".join(forms),
                "hte_Type": "Exploitation",
                "hte_Country": country or "",
                "hte_Date": str(day.year),
                "vic_TraffickingStatus": STATUS[result],
                "cas_Status": "" if case_id is None else ("Closed" if case_closed else "Active"),
            }
        )
    return out, sealed


def _key(row: dict) -> tuple:
    return tuple(row[q] for q in QUASI_IDENTIFIERS)


def k_anonymise(rows: list[dict], k: int) -> tuple[list[dict], int, int]:
    """Rows whose quasi-identifier combinations are each shared by at least ``k`` rows:
    rare ones generalised, then left out. Returns (rows, generalised, left out)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    counts = Counter(_key(r) for r in rows)
    kept, rare = [], []
    for row in rows:
        (kept if counts[_key(row)] >= k else rare).append(row)
    generalised = [{**row, **dict.fromkeys(GENERALISED, WITHHELD)} for row in rare]
    counts = Counter(_key(r) for r in generalised)
    rescued = [r for r in generalised if counts[_key(r)] >= k]
    left_out = len(generalised) - len(rescued)
    return kept + rescued, len(rescued), left_out


def export(*, k: int = DEFAULT_K) -> tuple[str, ExportReport]:
    """The CSV text and the report of what was withheld."""
    rows, sealed = records()
    safe, generalised, left_out = k_anonymise(rows, k)
    safe.sort(key=lambda r: tuple(r[c] for c in COLUMNS))  # no trace of the record order
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe)
    sizes = Counter(_key(r) for r in safe)
    report = ExportReport(
        k=k,
        records=len(rows),
        sealed_left_out=sealed,
        written=len(safe),
        generalised=generalised,
        left_out=left_out,
        smallest_group=min(sizes.values()) if sizes else 0,
    )
    return out.getvalue(), report


def export_audited(
    *, actor, k: int = DEFAULT_K, via: str, request=None
) -> tuple[str, ExportReport]:
    from django.db import transaction

    from ctip.audit.models import Action
    from ctip.audit.services import audit_record

    text, report = export(k=k)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.EXPORT,
            object_type="monitoring.htcds",
            details={
                "via": via,
                "k": k,
                "written": report.written,
                "generalised": report.generalised,
                "left_out": report.left_out,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            request=request,
        )
    return text, report
