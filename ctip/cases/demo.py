"""Demo screenings and cases for one node. Every name is invented for the demo.

Cambodia: people rescued from a scam compound (Chinese and Cambodian nationals), a child
case (sealed), a woman back from China. China: Cambodian women identified after brokered
marriages, a Chinese man back from a compound in Cambodia. Called by ``core.demo.load_demo``
through the services, so the audit log and timelines are as in real use.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ctip.accounts.models import User
from ctip.cases import services
from ctip.cases.models import Person


def _answers(kind: str, *, age: int | None, country: str, strong: bool = True) -> dict:
    """A filled-in identification form for a typical situation of this kind."""
    today = timezone.localdate()
    answers = {
        "interview_date": (today - dt.timedelta(days=3)).isoformat(),
        "interview_country": country,
        "interview_language": "km" if kind == "forced_marriage" else "zh",
        "interpreter_used": "yes",
        "referral_source": "police",
        "consent_to_interview": "yes",
        "exploitation_types": [kind],
        "exploitation_country": country,
        "immediate_needs": ["shelter", "medical", "contact_family"],
        "risk_if_returned": "unknown",
        "wants_assistance": "yes",
    }
    if age is None:
        answers["appears_under_18"] = "no"
    else:
        answers["age_at_screening"] = str(age)
    indicators = {
        "act_recruited": "yes",
        "act_transported": "yes",
        "act_transferred": "yes" if strong else "unknown",
        "act_harboured": "yes",
        "means_deception": "yes",
        "means_threats": "yes" if strong else "no",
        "means_violence": "no",
        "means_confined": "yes" if strong else "unknown",
        "means_documents": "yes",
        "means_debt": "yes",
        "means_isolation": "yes",
        "means_vulnerability": "yes",
    }
    if kind == "forced_marriage":
        indicators.update(
            act_received_by_spouse="yes",
            means_payment="yes",
            purpose_marriage="yes" if strong else "unknown",
            purpose_childbearing="yes",
        )
    elif kind == "forced_criminality":
        indicators.update(
            means_payment="no",
            purpose_wages="yes",
            purpose_hours="yes",
            purpose_scam="yes",
            purpose_quotas="yes" if strong else "unknown",
        )
    else:  # begging / forced labour of a child
        indicators.update(means_payment="no", purpose_forced_work="yes")
        if age is not None and age < 18:
            indicators["purpose_child_work"] = "yes"
    answers.update(indicators)
    return answers


DEMO = {
    "KH": [
        {
            "person": {
                "name_zh": "张浩然",
                "name_latin": "ZHANG HAORAN",
                "sex": "male",
                "birth_year": 1998,
                "nationality": "CN",
                "document_type": "passport",
                "origin_code": "CN-450100",
                "notes": "Rescued from a compound in Preah Sihanouk (demo).",
            },
            "kind": "forced_criminality",
            "age": 28,
            "country": "KH",
            "track": "cross_border",
            "advance": 1,
        },
        {
            "person": {
                "name_zh": "陈志强",
                "sex": "male",
                "age_estimate": 31,
                "nationality": "CN",
                "document_type": "none",
            },
            "kind": "forced_criminality",
            "age": 31,
            "country": "KH",
            "strong": False,
            "track": "cross_border",
        },
        {
            "person": {
                "name_km": "ពិសិដ្ឋ ខៀវ",
                "name_latin": "KHIEU PISETH",
                "sex": "male",
                "birth_year": 2004,
                "nationality": "KH",
                "origin_code": "KH-0401",
            },
            "kind": "forced_criminality",
            "age": 22,
            "country": "KH",
            "track": "in_country",
            "advance": 1,
        },
        {
            # A child: the case is sealed, visible only to named staff.
            "person": {
                "name_km": "ស្រីមុំ ឡុង",
                "name_latin": "LONG SREYMOM",
                "sex": "female",
                "birth_year": 2011,
                "birth_month": 4,
                "nationality": "KH",
                "origin_code": "KH-0602",
            },
            "kind": "begging",
            "age": 15,
            "country": "KH",
            "track": "in_country",
            "seal": "child victim; court hearing pending (demo)",
        },
        {
            "existing": "CHAN SOKHA",
            "kind": "forced_marriage",
            "age": 25,
            "country": "CN",
            "track": "in_country",
        },
    ],
    "CN": [
        {
            "existing": "Suo Ka",
            "kind": "forced_marriage",
            "age": 24,
            "country": "CN",
            "track": "cross_border",
            "consent": True,
            "advance": 2,
        },
        {
            "person": {
                "name_km": "ស្រីនាង ហេង",
                "name_latin": "HENG SREYNEANG",
                "name_zh": "斯雷娘·恒",
                "sex": "female",
                "age_estimate": 19,
                "nationality": "KH",
                "origin_code": "KH-1404",
            },
            "kind": "forced_marriage",
            "age": 19,
            "country": "CN",
            "track": "cross_border",
            "consent": True,
        },
        {
            "person": {
                "name_km": "ចាន់ធី សុខ",
                "name_latin": "SOK CHANTHY",
                "sex": "female",
                "birth_year": 2002,
                "nationality": "KH",
                "origin_code": "KH-0301",
            },
            "kind": "forced_marriage",
            "age": 24,
            "country": "CN",
            "strong": False,
            "track": "cross_border",
        },
        {
            "existing": "LI WEI",
            "kind": "forced_criminality",
            "age": 30,
            "country": "KH",
            "track": "in_country",
        },
    ],
}


def load_case_demo(node: str) -> int:
    """Screen the demo persons and open their cases. Returns the number of cases opened."""
    prefix = node.lower()
    caseworker = User.objects.get(username=f"{prefix}_caseworker")
    supervisor = User.objects.get(username=f"{prefix}_supervisor")
    opened = 0
    for item in DEMO[node]:
        person = _person(caseworker, item)
        if person is None or person.cases.exists():
            continue
        screening = services.screening_start(
            user=caseworker,
            person=person,
            source="paper" if item.get("strong") is False else "device",
        )
        screening = services.screening_submit(
            user=caseworker,
            screening=screening,
            raw=_answers(
                item["kind"],
                age=item["age"],
                country=item["country"],
                strong=item.get("strong", True),
            ),
        )
        if screening.result not in services.OPENING_RESULTS:
            continue
        case = services.case_open(
            user=caseworker, person=person, screening=screening, track=item["track"]
        )
        opened += 1
        services.case_add_note(
            user=caseworker, case=case, text="Interview done with an interpreter (demo note)."
        )
        if item.get("consent"):
            services.consent_record(
                user=caseworker,
                case=case,
                data=services.ConsentInput(
                    decision="given",
                    purpose="nationality_verification",
                    recipient_country="KH" if node == "CN" else "CN",
                    data_categories=("identity", "origin", "documents"),
                    given_on=timezone.localdate(),
                    expires_on=timezone.localdate() + dt.timedelta(days=180),
                    how_given="thumbprint",
                    language="km",
                    interpreter_used=True,
                    interpreter_name="Demo interpreter",
                ),
            )
        shelter = _local_service(node, "shelter")
        if shelter is not None and item.get("advance", 0) >= 1:
            services.referral_create(user=caseworker, case=case, service=shelter)
        for _ in range(item.get("advance", 0)):
            case = services.case_advance(user=caseworker, case=case)
        if item.get("seal"):
            services.case_set_sealed(
                user=supervisor, case=case, sealed=True, reason=item["seal"], named_users=[]
            )
    load_repatriation_demo(node)
    return opened


def _local_service(node: str, kind: str):
    """A service of this country from the directory's demo, if it was loaded."""
    from ctip.directory.models import Service

    return Service.objects.filter(country=node, service_type=kind).order_by("name_en").first()


def _person(caseworker, item) -> Person | None:
    if "existing" in item:
        for person in Person.objects.filter(owner_agency=caseworker.agency, sealed=False):
            if person.name_latin == item["existing"]:
                return person
        return None
    return services.person_create(user=caseworker, data=services.PersonInput(**item["person"]))


# --- Repatriations in both directions at different stages (issue 8) -------------------------
#
# Both nodes' demos build the two sides of the same four repatriations, linked by the same
# shared references, as if the messages had travelled (the nodes are peered only after the
# demo data is loaded). Once ``ctip demo`` runs both nodes, the next steps travel for real.

OFFICERS = {
    "KH": {"name": "SOK Dara (demo)", "title": "First Secretary", "agency": "kh-embassy-beijing"},
    "CN": {"name": "LIU Yang (demo)", "title": "Consular officer", "agency": "cn-embassy-pp"},
}
REPATRIATION_DEMO = [
    {
        # A Cambodian woman found in Henan: the plan was proposed 9 days ago and Cambodia has
        # not answered (overdue, waiting on KH).
        "shared": "CN-C-DE000001",
        "host": "CN",
        "found_in": "CN-410000",
        "person": {
            "name_km": "សុភាព មាស",
            "name_latin": "MEAS SOPHEAP",
            "sex": "female",
            "birth_year": 1999,
            "nationality": "KH",
            "origin_code": "KH-1404",
            "document_type": "national_id",
            "document_number": "KH-DEMO-0001",
        },
        "upto": "plan_proposal",
        "days_ago": 9,
    },
    {
        # A Cambodian woman found in Guangdong: verification requested 4 days ago.
        "shared": "CN-C-DE000002",
        "host": "CN",
        "found_in": "CN-440000",
        "person": {
            "name_km": "ដាវី សួន",
            "name_latin": "SUON DAVY",
            "sex": "female",
            "age_estimate": 23,
            "nationality": "KH",
            "origin_code": "KH-0301",
        },
        "upto": "verification_request",
        "days_ago": 4,
    },
    {
        # A Chinese man rescued from a compound in Sihanoukville: Cambodia asked for his
        # travel document 2 days ago (waiting on CN).
        "shared": "KH-C-DE000003",
        "host": "KH",
        "found_in": "KH-18",
        "person": {
            "name_zh": "刘建国",
            "name_latin": "LIU JIANGUO",
            "sex": "male",
            "birth_year": 1995,
            "nationality": "CN",
            "origin_code": "CN-450100",
            "document_type": "passport",
            "document_number": "EDEMO0003",
        },
        "upto": "travel_document_request",
        "days_ago": 2,
    },
    {
        # A Chinese woman handed over at Phnom Penh airport, now in reintegration in China.
        "shared": "KH-C-DE000004",
        "host": "KH",
        "found_in": "KH-18",
        "person": {
            "name_zh": "周丽",
            "name_latin": "ZHOU LI",
            "sex": "female",
            "birth_year": 2000,
            "nationality": "CN",
            "origin_code": "CN-440000",
        },
        "upto": "reception_summary",
        "days_ago": 20,
    },
]


def _step_data() -> dict:
    today = timezone.localdate()
    return {
        "verification_result": {"confirmed": True},
        "family_tracing_result": {"family_found": True, "safe_to_return": "yes"},
        "travel_document_request": {"document_kind": "emergency_travel_document"},
        "travel_document_issued": {
            "document_kind": "emergency_travel_document",
            "document_number": "ETD-DEMO-42",
            "valid_until": (today + dt.timedelta(days=60)).isoformat(),
        },
        "plan_proposal": {
            "travel_date": (today + dt.timedelta(days=10)).isoformat(),
            "route": "Zhengzhou - Guangzhou - Phnom Penh by air",
            "border_point": "Phnom Penh International Airport",
            "escorts": [{"name": "Escort officer (demo)"}],
            "medical_needs": "none",
        },
        "plan_acceptance": {
            "travel_date": (today + dt.timedelta(days=10)).isoformat(),
            "border_point": "Phnom Penh International Airport",
            "reception_agency": "Transit shelter (demo)",
        },
        "handover_record": {"place": "Phnom Penh International Airport"},
        "handover_confirmation": {},
        "reception_summary": {
            "services": ["family_reunion", "vocational"],
            "follow_up_months": [3, 6, 12],
        },
    }


def _flow_until(upto: str) -> list[str]:
    from ctip.cases.repatriation import allowed_next

    done: list[str] = []
    while not done or done[-1] != upto:
        done.append(allowed_next(done)[0])
    return done


def load_repatriation_demo(node: str) -> int:
    """Both sides of the demo repatriations that concern this node. Idempotent."""
    from ctip.cases.models import Repatriation

    made = 0
    for item in REPATRIATION_DEMO:
        if Repatriation.objects.filter(shared_ref=item["shared"]).exists():
            continue
        if item["host"] == node:
            _demo_host_side(node, item)
        else:
            _demo_home_side(node, item)
        made += 1
    return made


def _demo_times(item, steps):
    now = timezone.now()
    last = now - dt.timedelta(days=item["days_ago"])
    return [last - dt.timedelta(days=2 * (len(steps) - 1 - i)) for i in range(len(steps))]


def _other(node: str) -> str:
    return "CN" if node == "KH" else "KH"


def _peer_body(step: str, item: dict, home: str) -> dict:
    """The body the other node would have sent for its step."""
    from ctip.cases import repatriation as rp

    body = {"shared_ref": item["shared"], **_step_data().get(step, {})}
    for key, spec in rp.STEPS[step].fields.items():
        if spec is rp.OFFICER:
            body[key] = OFFICERS[home] if rp.STEPS[step].by == "home" else OFFICERS[item["host"]]
        elif spec is rp.DATETIME:
            body[key] = timezone.now().isoformat(timespec="minutes")
    return body


def _fake(step: str, body: dict, sender: str, at):
    import uuid

    from ctip.exchange.registry import IncomingMessage

    return IncomingMessage(
        msg_id=f"demo-{uuid.uuid4()}",
        sender=sender,
        msg_type=f"repatriation.{step}",
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=None,
        in_reply_to=None,
        signer_kid="demo",
        sent_at=at,
        transport="demo",
    )


def _demo_host_side(node: str, item: dict) -> None:
    from ctip.cases import repatriation as rp
    from ctip.cases.models import Repatriation, RepatriationSide, StepDirection

    caseworker = User.objects.get(username=f"{node.lower()}_caseworker")
    home = _other(node)
    person = services.person_create(user=caseworker, data=services.PersonInput(**item["person"]))
    screening = services.screening_start(user=caseworker, person=person)
    services.screening_submit(
        user=caseworker,
        screening=screening,
        raw=_answers(
            "forced_marriage" if node == "CN" else "forced_criminality",
            age=None,
            country=node,
        ),
    )
    case = services.case_open(
        user=caseworker,
        person=person,
        screening=screening,
        track="cross_border",
        reference=item["shared"],
    )
    for purpose, categories in (
        ("nationality_verification", ("identity", "origin", "documents")),
        ("repatriation", ("identity", "documents", "case_progress", "health")),
    ):
        services.consent_record(
            user=caseworker,
            case=case,
            data=services.ConsentInput(
                decision="given",
                purpose=purpose,
                recipient_country=home,
                data_categories=categories,
                given_on=timezone.localdate() - dt.timedelta(days=item["days_ago"] + 30),
                how_given="thumbprint" if home == "KH" else "written",
                language="km" if home == "KH" else "zh",
                interpreter_used=True,
                interpreter_name="Demo interpreter",
            ),
        )
    steps = _flow_until(item["upto"])
    times = _demo_times(item, steps)
    rep = Repatriation(
        case=case,
        shared_ref=item["shared"],
        side=RepatriationSide.HOST,
        peer=home,
        since=times[0],
    )
    rep.full_clean()
    rep.save(force_insert=True)
    for step, at in zip(steps, times, strict=True):
        spec = rp.STEPS[step]
        if spec.by == "host":
            data = {"found_in": item["found_in"], **_step_data().get(step, {})}
            body = rp.build_body(spec, case, rep, data, caseworker)
            direction, user = StepDirection.SENT, caseworker
        else:
            body, direction, user = _peer_body(step, item, home), StepDirection.RECEIVED, None
        rp._apply(
            rep=rep, step=spec, body=body, direction=direction, msg_id="demo", user=user, now=at
        )
        rep.refresh_from_db()


def _demo_home_side(node: str, item: dict) -> None:
    from ctip.cases import repatriation as rp
    from ctip.cases.models import Repatriation, StepDirection

    host = item["host"]
    steps = _flow_until(item["upto"])
    times = _demo_times(item, steps)
    person = item["person"]
    notification = {
        "shared_ref": item["shared"],
        "nationality": node,
        "sex": person["sex"],
        "birth_year": person.get("birth_year"),
        "age_estimate": person.get("age_estimate"),
        "found_in": item["found_in"],
        "host_agency": f"{host.lower()}-mca" if host == "CN" else "kh-mosavy",
        "consents": [
            {
                "purpose": purpose,
                "data_categories": list(categories),
                "given_on": (
                    timezone.localdate() - dt.timedelta(days=item["days_ago"] + 30)
                ).isoformat(),
                "expires_on": None,
                "how_given": "thumbprint" if node == "KH" else "written",
                "language": "km" if node == "KH" else "zh",
                "interpreter_used": True,
            }
            for purpose, categories in (
                ("nationality_verification", ("identity", "origin", "documents")),
                ("repatriation", ("case_progress", "documents", "health", "identity")),
            )
        ],
    }
    rp.receive_step(_fake("case_notification", notification, host, times[0]), times[0])
    rep = Repatriation.objects.get(shared_ref=item["shared"])
    consul = rep.case.assigned_to
    for step, at in zip(steps[1:], times[1:], strict=True):
        spec = rp.STEPS[step]
        if spec.by == "host":
            if step == "verification_request":
                body = {"shared_ref": item["shared"]}
                for key in (
                    "name_km",
                    "name_zh",
                    "name_latin",
                    "document_type",
                    "document_number",
                    "origin_code",
                ):
                    if person.get(key):
                        body[key] = person[key]
                body["birth_month"] = person.get("birth_month")
                body["birth_day"] = None
            else:
                body = _peer_body(step, item, node)
            rp.receive_step(_fake(step, body, host, at), at)
        else:
            body = rp.build_body(spec, rep.case, rep, _step_data().get(step, {}), consul)
            rp._apply(
                rep=rep,
                step=spec,
                body=body,
                direction=StepDirection.SENT,
                msg_id="demo",
                user=consul,
                now=at,
            )
        rep.refresh_from_db()
