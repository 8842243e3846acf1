"""Demo data of the plan: the draft as version 1, an amendment endorsed by both parties as
version 2, realistic statuses on both sides, a few indicator values and one progress report.

Idempotent: ``load_demo(node)`` loads what is missing and changes nothing the second time.
Statuses are recorded by the node's demo M&E officer (``<node>_me_officer``); without that
user only the plan itself is loaded. All of it is invented for the demo.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ctip.plan import document, services
from ctip.plan.models import Activity, IndicatorValue, PlanVersion, ProgressReport, StatusUpdate

# number: ((KH status, KH next step), (CN status, CN next step))
STATUSES = {
    "I.1": (("done", ""), ("done", "")),
    "II.1": (
        ("in_progress", "Review the draft preventive strategy at the joint workshop"),
        ("in_progress", "Send comments on the draft preventive strategy"),
    ),
    "II.2": (
        ("in_progress", "Print the singleness-certificate leaflet for Prey Veng"),
        ("not_started", ""),
    ),
    "III.1": (("done", ""), ("in_progress", "Pilot the agreed form in Guangxi relief stations")),
    "III.2": (
        ("in_progress", "Joint review of the repatriation SOP draft"),
        ("in_progress", "Comment on the SOP draft"),
    ),
    "III.3": (
        ("in_progress", "Assess two provincial shelters against the minimum standards"),
        ("done", ""),
    ),
    "III.4": (
        ("in_progress", "Publish the focal persons of the consulates in Guangzhou and Shanghai"),
        ("done", ""),
    ),
    "III.5": (("in_progress", ""), ("in_progress", "")),
    "III.6": (
        ("in_progress", "Train provincial social workers to record cases"),
        ("not_started", ""),
    ),
    "III.7": (("in_progress", "Register the NGO services of Phnom Penh"), ("not_started", "")),
    "III.8": (
        ("blocked", "Raise the reintegration budget line with the Ministry of Economy and Finance"),
        ("not_started", ""),
    ),
    "IV.1": (("done", ""), ("done", "")),
    "IV.2": (("in_progress", "Joint taskforce meeting to finalise the SOP"), ("in_progress", "")),
    "IV.3": (("in_progress", "Agree the case-information message format"), ("in_progress", "")),
    "IV.4": (("done", ""), ("in_progress", "Name the focal officers of Yunnan and Guangxi")),
    "IV.5": (("in_progress", ""), ("in_progress", "")),
    "IV.6": (("not_started", ""), ("not_started", "")),
    "V.1": (
        ("in_progress", "Translate the manual's chapter on victim identification"),
        ("in_progress", ""),
    ),
    "V.2": (("blocked", "Find funding for the joint training"), ("not_started", "")),
    "V.3": (("not_started", ""), ("not_started", "")),
    "VI.1": (("done", ""), ("done", "")),
    "VI.2": (("in_progress", "Issue the half-year progress report"), ("in_progress", "")),
    "VI.3": (("not_started", ""), ("blocked", "Agree which migration data may be shared")),
}
PROGRESS = {
    "done": "Completed and confirmed at the annual review (demo).",
    "in_progress": "Work under way (demo).",
    "blocked": "Waiting for a decision (demo).",
    "not_started": "",
}


@transaction.atomic
def load_demo(node: str) -> bool:
    """Load the plan demo for ``node`` (KH or CN). Returns True if anything was added."""
    from ctip.accounts.models import User

    result = services.plan_load()
    officer = User.objects.filter(username=f"{node.lower()}_me_officer").first()
    if officer is None or StatusUpdate.objects.exists():
        return result.created
    today = timezone.localdate()

    # Version 2: the 2017 "To be discussed" of III.1 settled, endorsed by both parties.
    if PlanVersion.objects.count() == 1:
        v1 = result.version
        doc = document.amend_resolve_question(
            v1.content,
            key="III.1-timeframe-2017",
            resolution={
                "en": "The form is agreed at the meeting that finalises the plan.",
                "km": "ទម្រង់បែបបទត្រូវឯកភាពនៅកិច្ចប្រជុំដែលបញ្ចប់ផែនការ។",
                "zh": "甄别表在敲定计划的会议上商定。",
            },
            version=2,
        )
        doc = document.amend_set_timeframe(
            doc,
            number="III.1",
            year=2018,
            note={"en": "Form in use", "km": "ប្រើទម្រង់បែបបទ", "zh": "使用甄别表"},
        )
        v2 = services.plan_amend(
            user=officer,
            doc=doc,
            reason="The joint meeting settled when the identification form is agreed (demo).",
            meeting="Joint meeting to finalise the Plan of Action (demo)",
        )
        for party, office in (
            ("KH", "Chair, National Committee for Counter Trafficking"),
            (
                "CN",
                "Director-General, Criminal Investigation Department, Ministry of Public Security",
            ),
        ):
            services.endorsement_record(
                user=officer,
                version=v2,
                party=party,
                endorsed_by=office,
                endorsed_on=today - timedelta(days=200),
                meeting="Joint meeting to finalise the Plan of Action (demo)",
            )

    for index, (number, sides) in enumerate(STATUSES.items()):
        activity = Activity.objects.get(number=number)
        for country, (status, next_step) in zip(("KH", "CN"), sides, strict=True):
            if status == "not_started" and not next_step:
                continue
            services.status_update_record(
                user=officer,
                activity=activity,
                country=country,
                data=services.StatusInput(
                    status=status,
                    as_of=today - timedelta(days=20 + index * 3),
                    note=PROGRESS[status],
                    next_step=next_step,
                    next_step_due=today + timedelta(days=30 + index * 5) if next_step else None,
                    evidence_url=f"/plan/versions/{PlanVersion.objects.count()}/"
                    if status == "done"
                    else "",
                ),
            )
    # The steps of I.1 (draft by Cambodia, review by both, meeting to finalise) tracked too.
    i1 = Activity.objects.get(number="I.1")
    for position, countries in ((0, ("KH",)), (1, ("KH", "CN")), (2, ("KH", "CN"))):
        for country in countries:
            services.status_update_record(
                user=officer,
                activity=i1,
                country=country,
                data=services.StatusInput(
                    status="done",
                    as_of=today - timedelta(days=400 - position * 100),
                    step_position=position,
                ),
            )
    if not IndicatorValue.objects.exists():
        from ctip.plan.models import Indicator

        other = "CN" if node == "KH" else "KH"
        for code, country, value in (
            ("VI.1-workshops", "KH", Decimal(1)),
            ("VI.1-workshops", "CN", Decimal(1)),
            ("III.3-satisfied", other, Decimal(82)),
            ("IV.4-focal-officers", other, Decimal(6)),
            ("V.1-manual-published", node, Decimal(0)),
        ):
            services.indicator_value_record(
                user=officer,
                indicator=Indicator.objects.get(code=code),
                data=services.IndicatorInput(
                    country=country,
                    as_of=today - timedelta(days=15),
                    value=value,
                    note="Reported at the annual review (demo).",
                    evidence_url=f"/plan/versions/{PlanVersion.objects.count()}/",
                ),
            )
    if not ProgressReport.objects.exists():
        # The last six whole months (reports cover whole calendar months).
        end = today.replace(day=1) - timedelta(days=1)
        start = (end - timedelta(days=160)).replace(day=1)
        services.report_create(
            user=officer,
            period_start=start,
            period_end=end,
            language="km" if node == "KH" else "zh-hans",
        )
    return True
