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
