"""Demo data of the enforcement app: this country's taskforce members (from the demo
directory's police focal persons, with the demo police focal officer's account), a draft
SOP for law-enforcement cooperation, one law-enforcement case with suspects, victims and a
rescue, a held investigation meeting with minutes in two languages, decisions and action
items, a scheduled one in the other country, and an arranged in-camera testimony.

Requests need the other node: the demo is loaded before the nodes are peered, so it holds
none (send one from the case page once they are). Idempotent: loading twice changes
nothing. Every name is invented for the demo. Everything goes through the services.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ctip.accounts.models import User
from ctip.directory.models import FocalPerson
from ctip.enforcement import services
from ctip.enforcement.models import LeCase, Meeting, SopVersion, TaskforceMember

MEETING_TITLE = {
    "KH": "Case investigation meeting: recruitment to scam compounds (demo)",
    "CN": "案件调查会议：跨境婚姻诈骗 (demo)",
}
OTHER = {"KH": "CN", "CN": "KH"}
SECOND = {"KH": "km", "CN": "zh-hans"}

CASES = {
    "KH": {
        "offences": ("scam_compound", "labour_trafficking"),
        "summary": "Recruitment through social media of young adults for 'office jobs' abroad; "
        "victims taken across the border and held in a compound (demo).",
        "locations": "Phnom Penh (recruitment); border crossing; compound abroad (demo)",
        "suspects": [
            ("SOM Rith (demo suspect)", "recruiter", "KH", 1990, "wanted"),
            ("LIANG Hao (demo suspect)", "broker", "CN", 1985, "identified"),
        ],
    },
    "CN": {
        "offences": ("forced_marriage",),
        "summary": "Brokered marriages of Cambodian women under false promises (demo).",
        "locations": "Guangxi, Henan (demo)",
        "suspects": [("ZHAO Jun (demo suspect)", "broker", "CN", 1979, "arrested")],
    },
}


def _ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


@transaction.atomic
def load_demo(node: str) -> dict[str, int]:
    added = {"members": 0, "cases": 0, "meetings": 0, "sop": 0}
    officer = User.objects.filter(username=f"{node.lower()}_police_focal").first()
    if officer is None:
        return added  # the accounts demo is not loaded
    for focal in FocalPerson.objects.filter(country=node, published=True).order_by("name_en"):
        if "law_enforcement" not in (focal.responsibilities or []):
            continue
        if TaskforceMember.objects.filter(focal_person=focal).exists():
            continue
        linked = officer if focal.agency_id == officer.agency_id else None
        if linked and TaskforceMember.objects.filter(user=officer).exists():
            linked = None
        services.member_save(
            user=officer,
            data=services.MemberInput(
                focal_person=focal,
                taskforce_role="focal_officer" if linked else "member",
                since=_ago(180),
                user=linked,
            ),
        )
        added["members"] += 1
    if node == "KH" and not SopVersion.objects.filter(version="2026.1-draft").exists():
        services.sop_save(
            user=officer,
            data=services.SopInput(
                version="2026.1-draft",
                title_en="SOP for law-enforcement cooperation (draft, demo)",
                title_km="នីតិវិធីប្រតិបត្តិស្តង់ដារសម្រាប់កិច្ចសហប្រតិបត្តិការអនុវត្តច្បាប់ (សេចក្តីព្រាង)",
                title_zh_hans="执法合作标准作业程序（草案，演示）",
                body_en="1. Focal officers. 2. Case-information requests: form, legal basis, "
                "answer within 30 days (7 if urgent). 3. Joint investigation meetings. "
                "4. Testimony of victims, with protective measures and consent.",
                body_km="១. មន្ត្រីទំនាក់ទំនង។ ២. សំណើព័ត៌មានករណី។ ៣. កិច្ចប្រជុំស៊ើបអង្កេតរួម។ "
                "៤. សក្ខីកម្មរបស់ជនរងគ្រោះ។",
                body_zh_hans="一、联络官。二、案件信息请求。三、联合调查会议。四、被害人作证。",
            ),
        )
        added["sop"] += 1
    if Meeting.objects.filter(title=MEETING_TITLE[node]).exists():
        return added
    data = CASES[node]
    le_case = services.le_case_open(
        user=officer,
        data=services.LeCaseInput(
            offences=data["offences"],
            summary=data["summary"],
            locations=data["locations"],
            status="investigation",
        ),
    )
    added["cases"] += 1
    for name, role, nationality, year, status in data["suspects"]:
        services.suspect_add(
            user=officer,
            le_case=le_case,
            data=services.SuspectInput(
                name=name, role=role, nationality=nationality, birth_year=year, status=status
            ),
        )
    victim = services.victim_link_add(user=officer, le_case=le_case, role="victim")
    services.victim_link_add(user=officer, le_case=le_case, role="victim")
    services.victim_link_add(user=officer, le_case=le_case, role="witness")
    services.operation_add(
        user=officer,
        le_case=le_case,
        data=services.OperationInput(
            kind="rescue",
            date=_ago(45),
            country=node,
            place="Border district (demo)",
            persons_rescued=4,
            arrests=1,
        ),
    )
    _meetings(node, officer, le_case)
    added["meetings"] += 2
    services.testimony_save(
        user=officer,
        le_case=le_case,
        data=services.TestimonyInput(
            witness=victim,
            court="Phnom Penh Court of First Instance (demo)"
            if node == "KH"
            else "Nanning Intermediate People's Court (demo)",
            hearing_country=node,
            hearing_mode="in_camera",
            hearing_date=timezone.localdate() + dt.timedelta(days=40),
            protective_measures=("screen", "support_person", "interpreter", "pseudonym"),
            consent_given=True,
            consent_on=_ago(10),
            consent_language="km",
            interpreter_used=node == "CN",
            status="arranged",
        ),
    )
    return added


def _meetings(node: str, officer: User, le_case: LeCase) -> None:
    other = OTHER[node]
    member = TaskforceMember.objects.filter(user=officer).first()
    held = services.meeting_schedule(
        user=officer,
        data=services.MeetingInput(
            title=MEETING_TITLE[node],
            host_country=node,
            place="Phnom Penh (demo)" if node == "KH" else "Nanning (demo)",
            starts_on=_ago(20),
            ends_on=_ago(19),
            second_language=SECOND[node],
            agenda="1. Facts of the case. 2. Information each side holds. "
            "3. Suspects abroad. 4. Victims' testimony.",
            le_cases=(le_case,),
        ),
    )
    if member is not None:
        services.participant_add(
            user=officer,
            meeting=held,
            data=services.ParticipantInput(country=node, member=member, role="head"),
        )
    services.participant_add(
        user=officer,
        meeting=held,
        data=services.ParticipantInput(
            country=other,
            name="WANG Li (demo)" if other == "CN" else "CHEA Vannak (demo)",
            organisation="Ministry of Public Security (demo)"
            if other == "CN"
            else "Anti-Human Trafficking and Juvenile Protection Police (demo)",
            role="head",
        ),
    )
    services.participant_add(
        user=officer,
        meeting=held,
        data=services.ParticipantInput(
            country=node, name="Interpreter (demo)", organisation="-", role="interpreter"
        ),
    )
    second = (
        "កិច្ចប្រជុំបានពិនិត្យការពិតនៃករណី និងបានព្រមព្រៀងលើការផ្លាស់ប្តូរព័ត៌មាន។"
        if node == "KH"
        else "会议审查了案件事实，并就信息交换达成一致。"
    )
    services.meeting_record_minutes(
        user=officer,
        meeting=held,
        minutes_en="The meeting reviewed the facts of the case and agreed how information "
        "will be exchanged (demo).",
        minutes_second=second,
        decisions=(
            "Each side sends what it holds on the broker within 30 days.",
            "Victims' testimony is taken in camera, with an interpreter.",
        ),
    )
    services.action_item_add(
        user=officer,
        meeting=held,
        data=services.ActionItemInput(
            text="Send a case-information request on the broker's bank accounts.",
            due_on=timezone.localdate() + dt.timedelta(days=10),
            owner=member,
            owner_name="" if member else "Police focal officer",
        ),
    )
    done = services.action_item_add(
        user=officer,
        meeting=held,
        data=services.ActionItemInput(
            text="Share the list of rescued persons' case references with the social workers.",
            due_on=_ago(5),
            owner=member,
            owner_name="" if member else "Police focal officer",
        ),
    )
    services.action_item_done(user=officer, item=done, on=_ago(6))
    services.meeting_schedule(
        user=officer,
        data=services.MeetingInput(
            title=f"Follow-up investigation meeting in {'China' if other == 'CN' else 'Cambodia'}"
            " (demo)",
            host_country=other,
            place="Kunming (demo)" if other == "CN" else "Siem Reap (demo)",
            starts_on=timezone.localdate() + dt.timedelta(days=30),
            ends_on=timezone.localdate() + dt.timedelta(days=31),
            second_language=SECOND[node],
            agenda="1. Answers received. 2. Joint operation. 3. SOP for law-enforcement "
            "cooperation.",
            le_cases=(le_case,),
        ),
    )
