"""Demo data of the training app: the common training manual (published, three languages),
a joint training on the identification form and SOPs with participants from both countries,
attendance, test scores and certificates, and a planned law-enforcement training.

Idempotent: loading twice changes nothing. It builds on the core demo (agencies and users
such as ``kh_caseworker``); whatever of those is missing is left out. Every name is
invented for the demo. Everything is written through the app's services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ctip.accounts.models import Agency, User
from ctip.training import services
from ctip.training.models import (
    Language,
    ManualStatus,
    ManualVersion,
    MaterialKind,
    TargetGroup,
    Training,
    TrainingStatus,
    TrainingType,
)

MANUAL_VERSION = "2026.1"
FORM_VERSION = "2026.1"  # the identification form version of the cases app's data file
SOP_VERSION = "2026.1-default"  # the SOP configuration shipped with the cases app

CHAPTERS = [
    services.ChapterInput(
        number=1,
        title_en="Trafficking in persons: the law in Cambodia and China",
        title_km="ការជួញដូរមនុស្ស៖ ច្បាប់នៅកម្ពុជា និងចិន",
        title_zh_hans="人口贩卖：柬埔寨和中国的法律",
        body_en="Definitions, the offences in both countries' laws, and the rights of victims.",
        body_km="និយមន័យ បទល្មើសក្នុងច្បាប់របស់ប្រទេសទាំងពីរ និងសិទ្ធិរបស់ជនរងគ្រោះ។",
        body_zh_hans="定义、两国法律中的罪行以及被害人的权利。",
    ),
    services.ChapterInput(
        number=2,
        title_en="Using the common victim identification form",
        title_km="ការប្រើប្រាស់ទម្រង់រួមសម្រាប់កំណត់អត្តសញ្ញាណជនរងគ្រោះ",
        title_zh_hans="使用共同的被害人识别表",
        body_en="How to interview safely, fill in each section and read the result.",
        body_km="របៀបសម្ភាសដោយសុវត្ថិភាព បំពេញផ្នែកនីមួយៗ និងអានលទ្ធផល។",
        body_zh_hans="如何安全地进行面谈、填写各部分并解读结果。",
        form_version=FORM_VERSION,
    ),
    services.ChapterInput(
        number=3,
        title_en="The SOP for assistance and repatriation",
        title_km="នីតិវិធីប្រតិបត្តិស្តង់ដារសម្រាប់ជំនួយ និងការធ្វើមាតុភូមិនិវត្តន៍",
        title_zh_hans="援助和遣返标准作业程序",
        body_en="The stages of a case, their deadlines, consent and the hand-over at the border.",
        body_km="ដំណាក់កាលនៃករណី ពេលវេលាកំណត់ ការយល់ព្រម និងការប្រគល់នៅព្រំដែន។",
        body_zh_hans="案件的各个阶段、期限、同意以及在边境的移交。",
        form_version=FORM_VERSION,
        sop_version=SOP_VERSION,
    ),
]


@dataclass(frozen=True)
class Official:
    """A participant: a demo user of this node (by username) or an external official."""

    full_name: str
    username: str = ""
    agency: str = ""
    country: str = ""
    position: str = ""
    sex: str = ""
    pre: str = ""
    post: str = ""
    absent_from: tuple[int, ...] = ()  # session numbers (1-based) missed


JOINT_TRAINING = {
    "KH": {
        "title": "Joint training on the common victim identification form and SOPs",
        "type": TrainingType.ID_FORM_SOP,
        "host_country": "KH",
        "place": "Phnom Penh",
        "organizers": ("kh-ncct", "kh-mosavy"),
        "manager": "kh_supervisor",
        "target_groups": (
            TargetGroup.POLICE,
            TargetGroup.SOCIAL_WORKERS,
            TargetGroup.DIPLOMATIC,
        ),
        "trainers": "Sophea Lim (demo trainer)\nZhou Hong (demo trainer)",
        "officials": [
            Official("Sok Dara", "kh_caseworker", sex="female", pre="52", post="81"),
            Official("Keo Vannak", "kh_police_focal", sex="male", pre="60", post="78"),
            Official("Chea Sreymom", "kh_consular_focal", sex="female", pre="48", post="74"),
            Official(
                "Wang Li 王丽",
                agency="Ministry of Public Security, Criminal Investigation Department",
                country="CN",
                position="Police officer",
                sex="female",
                pre="58",
                post="85",
            ),
            Official(
                "Chen Ming 陈明",
                agency="Embassy of the People's Republic of China in Phnom Penh",
                country="CN",
                position="Consular officer",
                sex="male",
                pre="63",
                post="80",
            ),
            Official(
                "Liu Yang 刘洋",
                agency="Guangxi Relief Station",
                country="CN",
                position="Social worker",
                sex="male",
                pre="45",
                post="57",
                absent_from=(2, 3),
            ),
        ],
    },
    "CN": {
        "title": "Joint training for law enforcement on trafficking investigations",
        "type": TrainingType.LAW_ENFORCEMENT,
        "host_country": "CN",
        "place": "Kunming",
        "organizers": ("cn-mps",),
        "manager": "cn_supervisor",
        "target_groups": (TargetGroup.POLICE, TargetGroup.DIPLOMATIC),
        "trainers": "Zhang Wei (demo trainer)",
        "officials": [
            Official("Zhao Lei 赵磊", "cn_police_focal", sex="male", pre="55", post="79"),
            Official(
                "Pich Sovann",
                agency="Anti-Human Trafficking and Juvenile Protection Department",
                country="KH",
                position="Police officer",
                sex="male",
                pre="50",
                post="76",
            ),
            Official(
                "Ly Sokunthea",
                agency="Royal Embassy of Cambodia in Beijing",
                country="KH",
                position="Consular officer",
                sex="female",
                pre="61",
                post="83",
            ),
        ],
    },
}

PLANNED_TRAINING = {
    "KH": {
        "title": "Joint training for law enforcement, including Cambodian diplomatic officials",
        "type": TrainingType.DIPLOMATIC,
        "host_country": "CN",
        "place": "Kunming",
        "organizers": ("kh-ncct",),
        "manager": "kh_me_officer",
    },
    "CN": {
        "title": "Joint training on the common victim identification form and SOPs",
        "type": TrainingType.ID_FORM_SOP,
        "host_country": "KH",
        "place": "Phnom Penh",
        "organizers": ("cn-mca",),
        "manager": "cn_supervisor",
    },
}

SESSIONS = [
    ("Trafficking in persons and the law", 1),
    ("The common identification form: practice interviews", 2),
    ("The SOP: from identification to hand-over", 3),
]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).select_related("agency").first()


def _agencies(codes) -> list[Agency]:
    return list(Agency.objects.filter(code__in=codes))


@transaction.atomic
def load_demo(node: str) -> dict[str, int]:
    """Create the training demo of ``node`` (``KH`` or ``CN``) if missing.
    Returns what was created (all zero when it was already there)."""
    prefix = node.lower()
    created = {"manuals": 0, "trainings": 0, "participants": 0, "certificates": 0}
    manual = _manual(prefix, created)
    today = timezone.localdate()
    joint = JOINT_TRAINING[node]
    manager = _user(joint["manager"])
    if manager is not None and not Training.objects.filter(title=joint["title"]).exists():
        _held_training(joint, manager, manual, today, created)
    planned = PLANNED_TRAINING[node]
    planner = _user(planned["manager"])
    if planner is not None and not Training.objects.filter(title=planned["title"]).exists():
        start = today + dt.timedelta(days=45)
        services.training_create(
            user=planner,
            data=services.TrainingInput(
                title=planned["title"],
                type=planned["type"],
                host_country=planned["host_country"],
                place=planned["place"],
                start_date=start,
                end_date=start + dt.timedelta(days=1),
                organizers=tuple(_agencies(planned["organizers"])),
                target_groups=(TargetGroup.POLICE, TargetGroup.DIPLOMATIC),
                manual=manual,
            ),
        )
        created["trainings"] += 1
    return created


def _manual(prefix: str, created: dict) -> ManualVersion | None:
    existing = ManualVersion.objects.filter(version=MANUAL_VERSION).first()
    if existing is not None:
        return existing if existing.status == ManualStatus.PUBLISHED else None
    author, reviewer = _user(f"{prefix}_me_officer"), _user(f"{prefix}_supervisor")
    if author is None or reviewer is None:
        return None
    manual = services.manual_create(
        user=author,
        data=services.ManualInput(
            version=MANUAL_VERSION,
            title_en="Common training manual for law enforcement and social workers",
            title_km="សៀវភៅណែនាំបណ្តុះបណ្តាលរួមសម្រាប់អ្នកអនុវត្តច្បាប់ និងបុគ្គលិកសង្គមកិច្ច",
            title_zh_hans="执法人员和社会工作者共同培训手册",
            languages=(Language.EN, Language.KM, Language.ZH_HANS),
        ),
    )
    for chapter in CHAPTERS:
        services.chapter_save(user=author, manual=manual, data=chapter)
    services.manual_review(user=reviewer, manual=manual)
    manual = services.manual_publish(user=reviewer, manual=manual)
    created["manuals"] += 1
    return manual


def _held_training(spec: dict, manager: User, manual, today: dt.date, created: dict) -> None:
    start = today - dt.timedelta(days=40)
    training = services.training_create(
        user=manager,
        data=services.TrainingInput(
            title=spec["title"],
            type=spec["type"],
            host_country=spec["host_country"],
            place=spec["place"],
            start_date=start,
            end_date=start + dt.timedelta(days=2),
            organizers=tuple(_agencies(spec["organizers"])),
            target_groups=spec["target_groups"],
            trainers=spec["trainers"],
            manual=manual,
            min_attendance_percent=80,
            pass_mark=Decimal("60"),
            certificate_valid_months=36,
        ),
    )
    created["trainings"] += 1
    chapters = {c.number: c for c in manual.chapters.all()} if manual else {}
    sessions = [
        services.session_add(
            user=manager,
            training=training,
            data=services.SessionInput(
                date=start + dt.timedelta(days=i),
                title=title,
                hours=Decimal("6"),
                chapter=chapters.get(number),
            ),
        )
        for i, (title, number) in enumerate(SESSIONS)
    ]
    if manual is not None:
        services.material_add(
            user=manager,
            training=training,
            data=services.MaterialInput(
                kind=MaterialKind.MANUAL,
                title=manual.title_en,
                language=Language.EN,
                manual=manual,
            ),
        )
    present: dict[int, set] = {i: set() for i in range(len(sessions))}
    for official in spec["officials"]:
        user = _user(official.username) if official.username else None
        if official.username and user is None:
            continue
        participant = services.participant_register(
            user=manager,
            training=training,
            data=services.ParticipantInput(
                full_name=official.full_name,
                user=user,
                agency_name=official.agency,
                country=official.country,
                position=official.position,
                sex=official.sex,
                pre_score=Decimal(official.pre) if official.pre else None,
                post_score=Decimal(official.post) if official.post else None,
            ),
        )
        created["participants"] += 1
        for i in present:
            if i + 1 not in official.absent_from:
                present[i].add(participant.pk)
    for i, session in enumerate(sessions):
        services.attendance_record(user=manager, session=session, present=present[i])
    services.training_set_status(user=manager, training=training, status=TrainingStatus.HELD)
    result = services.certificates_issue_all(user=manager, training=training)
    created["certificates"] += len(result.issued)
