"""Demo directory entries for one node: services, shelters with assessments, focal persons.

Idempotent: ``load_demo(node)`` adds what is missing and changes nothing else. It needs the
node's demo agencies and a user who may change the directory (the node administrator of
``ctip.core.demo``, or any directory editor). Every name, number and address here is
invented: phone numbers and e-mail domains are placeholders, not real offices.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from ctip.accounts.models import Agency, Role, User
from ctip.accounts.services import AgencyInput, agency_upsert
from ctip.directory import selectors, services
from ctip.directory.models import FocalPerson, Service, ShelterAssessment

# Agencies the directory demo needs besides those of ctip.core.demo.
EXTRA_AGENCIES = {
    "KH": [
        AgencyInput(
            "kh-consulate-shanghai",
            "Consulate-General of Cambodia in Shanghai (demo)",
            "embassy",
            "KH",
            "អគ្គកុងស៊ុលកម្ពុជាប្រចាំទីក្រុងសៀងហៃ",
            "柬埔寨驻上海总领事馆",
        ),
        AgencyInput(
            "kh-consulate-guangzhou",
            "Consulate-General of Cambodia in Guangzhou (demo)",
            "embassy",
            "KH",
            "អគ្គកុងស៊ុលកម្ពុជាប្រចាំទីក្រុងក្វាងចូវ",
            "柬埔寨驻广州总领事馆",
        ),
        AgencyInput(
            "kh-poipet-tc",
            "Poipet Transit Centre (demo)",
            "shelter",
            "KH",
            "មណ្ឌលឆ្លងកាត់ប៉ោយប៉ែត",
            "波贝过境中心",
            "kh-mosavy",
        ),
    ],
    "CN": [
        AgencyInput(
            "cn-gx-legal-aid",
            "Guangxi Legal Aid Centre (demo)",
            "ministry",
            "CN",
            "មជ្ឈមណ្ឌលជំនួយផ្លូវច្បាប់ក្វាងស៊ី",
            "广西法律援助中心",
        ),
        AgencyInput(
            "cn-gx-psd",
            "Guangxi Public Security Department, Anti-Trafficking Office (demo)",
            "police",
            "CN",
            "ការិយាល័យប្រឆាំងការជួញដូរមនុស្ស នគរបាលក្វាងស៊ី",
            "广西公安厅打拐办",
            "cn-mps",
        ),
        AgencyInput(
            "cn-yn-relief",
            "Kunming Relief and Protection Station (demo)",
            "shelter",
            "CN",
            "មណ្ឌលជំនួយ និងការពារគុនមីង",
            "昆明救助管理站",
            "cn-mca",
        ),
    ],
}


def _service(provider: str, **kw) -> dict:
    return {"provider": provider, **kw}


def _renewal(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def _ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


SERVICES = {
    "KH": [
        _service(
            "kh-shelter-pp",
            service_type="shelter",
            sector="government",
            name_en="Phnom Penh Transit Shelter (demo)",
            name_km="មណ្ឌលស្នាក់នៅបណ្ដោះអាសន្នភ្នំពេញ",
            name_zh_hans="金边过渡庇护所",
            description_en="Short-stay shelter for women and girls returned from abroad, "
            "while families are traced and reintegration is planned.",
            description_km="មណ្ឌលស្នាក់នៅរយៈពេលខ្លីសម្រាប់ស្ត្រី និងក្មេងស្រីដែលត្រឡប់មកពីបរទេស។",
            description_zh_hans="为从国外返回的妇女和女童提供短期住宿，同时寻访家庭、规划回归社会。",
            serves_men=False,
            serves_children=True,
            city="Phnom Penh",
            coverage_areas=["Phnom Penh", "Kandal", "Prey Veng"],
            languages=["km", "en"],
            capacity=40,
            places_available=11,
            hotline="+855 23 555 0100",
            email="intake@pp-shelter.example.org",
            hours="24 hours, every day",
            address="(demo address, not public)",
            registration_status="registered",
            registration_number="MOSAVY-RC-0101",
            registration_authority="MoSAVY",
            registered_on=_ago(700),
            renewal_due=_renewal(30),
            published=True,
        ),
        _service(
            "kh-poipet-tc",
            service_type="repatriation_support",
            sector="government",
            name_en="Poipet Transit Centre reception (demo)",
            name_km="ការទទួលនៅមណ្ឌលឆ្លងកាត់ប៉ោយប៉ែត",
            name_zh_hans="波贝过境中心接收服务",
            description_en="Reception of returned victims at the border: interview, health "
            "check, temporary stay and escort to the home province.",
            description_zh_hans="在边境接收返回的受害者：面谈、健康检查、临时安置并护送回原籍省份。",
            serves_children=True,
            city="Poipet",
            coverage_areas=["Banteay Meanchey"],
            languages=["km", "th"],
            capacity=60,
            places_available=25,
            phone="+855 54 555 0200",
            hours="Mon–Sat 07:30–17:30",
            registration_status="registered",
            registration_number="MOSAVY-TC-0007",
            registration_authority="MoSAVY",
            registered_on=_ago(1200),
            renewal_due=_renewal(400),
            published=True,
        ),
        _service(
            "kh-ngo-demo",
            service_type="legal_aid",
            sector="non_government",
            name_en="Legal aid for trafficking survivors (demo)",
            name_km="ជំនួយផ្លូវច្បាប់សម្រាប់ជនរងគ្រោះ",
            name_zh_hans="人口贩卖幸存者法律援助",
            description_en="Free lawyers for victims as civil parties; accompaniment to police "
            "and court; compensation claims.",
            city="Phnom Penh",
            coverage_areas=["Phnom Penh", "Siem Reap", "Battambang"],
            languages=["km", "en", "zh"],
            phone="+855 23 555 0300",
            email="help@legal-aid.example.org",
            website="https://legal-aid.example.org",
            hours="Mon–Fri 08:00–17:00",
            registration_status="registered",
            registration_number="MOI-NGO-2231",
            registration_authority="Ministry of Interior",
            registered_on=_ago(2000),
            renewal_due=_renewal(200),
            published=True,
        ),
        _service(
            "kh-ngo-demo",
            service_type="psychosocial",
            sector="non_government",
            name_en="Trauma counselling (demo)",
            name_km="ការប្រឹក្សាផ្លូវចិត្ត",
            name_zh_hans="创伤心理辅导",
            serves_children=True,
            city="Phnom Penh",
            languages=["km"],
            phone="+855 23 555 0301",
            hours="Mon–Fri 08:00–17:00",
            registration_status="registered",
            registration_number="MOI-NGO-2231-PS",
            renewal_due=_renewal(200),
            published=True,
        ),
        _service(
            "kh-mosavy",
            service_type="family_tracing",
            sector="government",
            name_en="Family tracing and assessment by provincial DoSVY (demo)",
            name_km="ការស្វែងរក និងវាយតម្លៃគ្រួសារ",
            name_zh_hans="家庭寻访与评估",
            serves_children=True,
            city="Phnom Penh",
            coverage_areas=["All provinces"],
            languages=["km"],
            phone="+855 23 555 0400",
            registration_status="registered",
            registration_number="MOSAVY-FT-01",
            renewal_due=_renewal(900),
            published=True,
        ),
        _service(
            "kh-ngo-demo",
            service_type="vocational_training",
            sector="non_government",
            name_en="Sewing and hospitality training (demo)",
            name_km="វគ្គបណ្តុះបណ្តាលកាត់ដេរ និងបដិសណ្ឋារកិច្ច",
            name_zh_hans="缝纫与酒店服务培训",
            serves_men=False,
            city="Siem Reap",
            languages=["km"],
            capacity=30,
            phone="+855 63 555 0500",
            registration_status="registered",
            registration_number="MOI-NGO-2231-VT",
            renewal_due=_renewal(200),
            published=True,
        ),
        _service(
            "kh-mosavy",
            service_type="interpretation",
            sector="government",
            name_en="Khmer–Chinese interpreters on call (demo)",
            name_km="អ្នកបកប្រែខ្មែរ-ចិន",
            name_zh_hans="高棉语-中文口译",
            description_en="Interpreters for interviews with victims and for case meetings.",
            city="Phnom Penh",
            coverage_areas=["Cambodia, by telephone"],
            languages=["km", "zh", "yue"],
            hotline="+855 23 555 0600",
            registration_status="registered",
            registration_number="MOSAVY-INT-02",
            renewal_due=_renewal(300),
            published=True,
        ),
        _service(
            "kh-ngo-demo",
            service_type="financial_support",
            sector="non_government",
            name_en="Reintegration grants (demo, being registered)",
            name_km="ជំនួយហិរញ្ញវត្ថុសម្រាប់សមាហរណកម្ម",
            city="Prey Veng",
            languages=["km"],
            phone="+855 43 555 0700",
            registration_status="pending",
            published=False,
        ),
    ],
    "CN": [
        _service(
            "cn-gx-shelter",
            service_type="shelter",
            sector="government",
            name_en="Guangxi Relief Station women's unit (demo)",
            name_km="ផ្នែកស្ត្រី មណ្ឌលជំនួយក្វាងស៊ី",
            name_zh_hans="广西救助站妇女部",
            description_en="Shelter for foreign women identified as victims in Guangxi, "
            "until repatriation.",
            description_zh_hans="为在广西被识别为受害者的外籍妇女提供庇护，直至遣返。",
            serves_men=False,
            serves_children=True,
            nationalities=["KH", "VN", "LA", "MM"],
            city="Nanning",
            coverage_areas=["Guangxi"],
            languages=["zh", "km", "vi"],
            capacity=50,
            places_available=8,
            hotline="+86 771 555 0100",
            hours="24小时",
            address="(demo address, not public)",
            registration_status="registered",
            registration_number="GX-MZ-JZ-001",
            registration_authority="Guangxi Department of Civil Affairs",
            registered_on=_ago(900),
            renewal_due=_renewal(250),
            published=True,
        ),
        _service(
            "cn-yn-relief",
            service_type="shelter",
            sector="government",
            name_en="Kunming Relief and Protection Station (demo)",
            name_km="មណ្ឌលជំនួយ និងការពារគុនមីង",
            name_zh_hans="昆明救助管理站",
            serves_children=True,
            city="Kunming",
            coverage_areas=["Yunnan"],
            languages=["zh", "my", "lo"],
            capacity=80,
            places_available=30,
            phone="+86 871 555 0200",
            registration_status="registered",
            registration_number="YN-MZ-JZ-014",
            renewal_due=_renewal(500),
            published=True,
        ),
        _service(
            "cn-gx-legal-aid",
            service_type="legal_aid",
            sector="government",
            name_en="Legal aid for foreign victims (demo)",
            name_km="ជំនួយផ្លូវច្បាប់សម្រាប់ជនរងគ្រោះបរទេស",
            name_zh_hans="外籍受害者法律援助",
            city="Nanning",
            coverage_areas=["Guangxi"],
            languages=["zh", "en"],
            hotline="+86 771 555 0348",
            email="legal-aid@gx.example.cn",
            registration_status="registered",
            registration_number="GX-SF-FY-02",
            renewal_due=_renewal(600),
            published=True,
        ),
        _service(
            "cn-ngo-demo",
            service_type="psychosocial",
            sector="non_government",
            name_en="Social work and counselling (demo)",
            name_km="ការងារសង្គម និងការប្រឹក្សា",
            name_zh_hans="社会工作与心理辅导",
            serves_children=True,
            city="Nanning",
            languages=["zh"],
            phone="+86 771 555 0400",
            registration_status="registered",
            registration_number="GX-MZ-SG-031",
            renewal_due=_renewal(120),
            published=True,
        ),
        _service(
            "cn-ngo-demo",
            service_type="interpretation",
            sector="non_government",
            name_en="Khmer interpretation volunteers (demo)",
            name_km="អ្នកស្ម័គ្រចិត្តបកប្រែភាសាខ្មែរ",
            name_zh_hans="高棉语翻译志愿者",
            city="Guangzhou",
            coverage_areas=["Guangdong", "Guangxi", "by video call"],
            languages=["km", "zh"],
            phone="+86 20 555 0500",
            registration_status="registered",
            registration_number="GD-MZ-ZY-077",
            renewal_due=_renewal(300),
            published=True,
        ),
        _service(
            "cn-mca",
            service_type="repatriation_support",
            sector="government",
            name_en="Escort and repatriation support (demo)",
            name_km="ការអមដំណើរ និងការគាំទ្រការបញ្ជូនត្រឡប់",
            name_zh_hans="护送与遣返支持",
            city="Beijing",
            coverage_areas=["China"],
            languages=["zh", "en"],
            phone="+86 10 555 0600",
            registration_status="registered",
            registration_number="MCA-QF-01",
            renewal_due=_renewal(800),
            published=True,
        ),
    ],
}

FOCAL_PERSONS = {
    "KH": [
        {
            "agency": "kh-ncct",
            "name_en": "KEO Sreymom (demo)",
            "name_km": "កែវ ស្រីមុំ",
            "title_en": "Deputy Secretary-General, NCCT secretariat",
            "title_km": "អនុអគ្គលេខាធិការ",
            "title_zh_hans": "秘书处副秘书长",
            "post_type": "ministry",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "responsibilities": ["prevention", "protection"],
            "languages": [
                {"code": "km", "level": "native"},
                {"code": "en", "level": "fluent"},
                {"code": "zh", "level": "basic"},
            ],
            "phone": "+855 23 555 1001",
            "email": "focal@ncct.example.org",
            "hours": "Mon–Fri 08:00–17:00",
        },
        {
            "agency": "kh-ahtjp",
            "name_en": "CHEA Vannak (demo)",
            "name_km": "ជា វណ្ណៈ",
            "title_en": "Deputy Director, anti-trafficking police",
            "title_zh_hans": "反拐警察副局长",
            "post_type": "police",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "responsibilities": ["law_enforcement", "identification"],
            "languages": [{"code": "km", "level": "native"}, {"code": "en", "level": "working"}],
            "phone": "+855 23 555 1002",
            "telegram": "@ahtjp_focal_demo",
            "preferred_channel": "telegram",
            "hours": "24 hours for urgent cases",
        },
        {
            "agency": "kh-embassy-beijing",
            "name_en": "SOK Dara (demo)",
            "name_km": "សុខ តារា",
            "name_zh_hans": "索·达拉",
            "title_en": "First Secretary (consular affairs)",
            "title_km": "លេខាទីមួយ (កិច្ចការកុងស៊ុល)",
            "title_zh_hans": "一等秘书（领事事务）",
            "post_type": "embassy",
            "post_city": "Beijing",
            "post_country": "CN",
            "responsibilities": ["nationality_verification", "travel_documents", "repatriation"],
            "languages": [
                {"code": "km", "level": "native"},
                {"code": "zh", "level": "fluent"},
                {"code": "en", "level": "working"},
            ],
            "phone": "+86 10 555 1003",
            "email": "consular@kh-embassy-bj.example.org",
            "wechat": "kh_consular_bj",
            "preferred_channel": "wechat",
            "hours": "Mon–Fri 09:00–12:00, 14:00–17:00",
        },
        {
            "agency": "kh-consulate-shanghai",
            "name_en": "LIM Sophea (demo)",
            "name_km": "លឹម សុភា",
            "name_zh_hans": "林·索菲亚",
            "title_en": "Consul",
            "title_zh_hans": "领事",
            "post_type": "consulate",
            "post_city": "Shanghai",
            "post_country": "CN",
            "responsibilities": ["nationality_verification", "repatriation", "protection"],
            "languages": [{"code": "km", "level": "native"}, {"code": "zh", "level": "working"}],
            "phone": "+86 21 555 1004",
            "mobile": "+86 138 5550 1004",
            "wechat": "kh_consul_sh",
            "hours": "Mon–Fri 09:00–17:00",
        },
        {
            "agency": "kh-consulate-guangzhou",
            "name_en": "NOV Ratha (demo, appointment being confirmed)",
            "name_km": "នៅ រដ្ឋា",
            "title_en": "Vice-Consul",
            "post_type": "consulate",
            "post_city": "Guangzhou",
            "post_country": "CN",
            "languages": [{"code": "km", "level": "native"}, {"code": "yue", "level": "basic"}],
            "phone": "+86 20 555 1005",
            "published": False,
        },
        {
            "agency": "kh-mosavy",
            "name_en": "PRAK Sothy (demo, former)",
            "name_km": "ប្រាក់ សុធី",
            "title_en": "Chief of victim protection office",
            "post_type": "ministry",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "languages": [{"code": "km", "level": "native"}],
            "phone": "+855 23 555 1006",
            "appointed_on": _ago(1500),
            "ends_on": _ago(60),
        },
    ],
    "CN": [
        {
            "agency": "cn-mps",
            "name_en": "WANG Li (demo)",
            "name_zh_hans": "王丽",
            "name_km": "វ៉ាង លី",
            "title_en": "Deputy Director, Anti-Trafficking Division",
            "title_zh_hans": "打拐处副处长",
            "post_type": "police",
            "post_city": "Beijing",
            "post_country": "CN",
            "responsibilities": ["law_enforcement", "identification"],
            "languages": [{"code": "zh", "level": "native"}, {"code": "en", "level": "working"}],
            "phone": "+86 10 555 2001",
            "email": "dagai@mps.example.cn",
            "hours": "周一至周五 08:30–17:30",
        },
        {
            "agency": "cn-mca",
            "name_en": "ZHANG Wei (demo)",
            "name_zh_hans": "张伟",
            "title_en": "Division Chief, Social Assistance",
            "title_zh_hans": "社会救助处处长",
            "post_type": "ministry",
            "post_city": "Beijing",
            "post_country": "CN",
            "responsibilities": ["protection", "reintegration"],
            "languages": [{"code": "zh", "level": "native"}],
            "phone": "+86 10 555 2002",
        },
        {
            "agency": "cn-embassy-pp",
            "name_en": "LIU Yang (demo)",
            "name_zh_hans": "刘洋",
            "name_km": "លីវ យ៉ាង",
            "title_en": "Consular officer",
            "title_zh_hans": "领事官员",
            "title_km": "មន្ត្រីកុងស៊ុល",
            "post_type": "embassy",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "responsibilities": ["nationality_verification", "travel_documents", "repatriation"],
            "languages": [
                {"code": "zh", "level": "native"},
                {"code": "km", "level": "working"},
                {"code": "en", "level": "working"},
            ],
            "phone": "+855 23 555 2003",
            "wechat": "cn_consular_pp",
            "preferred_channel": "wechat",
            "hours": "Mon–Fri 08:30–12:00",
        },
        {
            "agency": "cn-gx-psd",
            "name_en": "HUANG Min (demo)",
            "name_zh_hans": "黄敏",
            "title_en": "Anti-trafficking office liaison officer",
            "title_zh_hans": "打拐办联络员",
            "post_type": "provincial",
            "post_city": "Nanning",
            "post_country": "CN",
            "responsibilities": ["identification", "law_enforcement", "repatriation"],
            "languages": [
                {"code": "zh", "level": "native"},
                {"code": "yue", "level": "fluent"},
                {"code": "vi", "level": "basic"},
            ],
            "mobile": "+86 139 5550 2004",
            "wechat": "gx_dagai_liaison",
        },
    ],
}


def _actor(node: str) -> User:
    prefix = node.lower()
    user = (
        User.objects.filter(username=f"{prefix}_node_admin").first()
        or User.objects.filter(
            role_assignments__role__in=[Role.DIRECTORY_EDITOR, Role.NODE_ADMIN], is_active=True
        )
        .order_by("pk")
        .first()
    )
    if user is None:
        raise RuntimeError(
            "the directory demo needs a node administrator or directory editor: "
            "load the node's demo users first"
        )
    return user


def _agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


@transaction.atomic
def load_demo(node: str) -> dict[str, int]:
    """Add the node's demo directory entries that are missing; returns what was added."""
    for agency in EXTRA_AGENCIES[node]:
        if not Agency.objects.filter(code=agency.code).exists():
            agency_upsert(actor=None, data=agency)
    actor = _actor(node)
    added = {"services": 0, "focal_persons": 0, "assessments": 0}
    for item in SERVICES[node]:
        item = dict(item)
        provider = _agency(item.pop("provider"))
        exists = Service.objects.filter(
            provider=provider, service_type=item["service_type"], name_en=item["name_en"]
        ).exists()
        if not exists:
            services.service_create(
                user=actor, data=services.ServiceInput(provider=provider, **item)
            )
            added["services"] += 1
    today = timezone.localdate()
    for item in FOCAL_PERSONS[node]:
        item = dict(item)
        agency = _agency(item.pop("agency"))
        if FocalPerson.objects.filter(
            agency=agency, name_en=item["name_en"], post_city=item["post_city"]
        ).exists():
            continue
        data = services.FocalPersonInput(
            agency=agency,
            **{"appointed_on": today - datetime.timedelta(days=200), "published": True, **item},
        )
        services.focal_person_create(user=actor, data=data)
        added["focal_persons"] += 1
    if node == "KH":
        added["assessments"] = _demo_assessments(actor)
    return added


def _demo_assessments(actor: User) -> int:
    """Two visits to the Phnom Penh shelter a year apart, with follow-up between them."""
    shelter = Service.objects.get(name_en="Phnom Penh Transit Shelter (demo)")
    if ShelterAssessment.objects.filter(service=shelter).exists():
        return 0
    checklist = selectors.current_checklist("KH")
    codes = list(checklist.standards.values_list("code", flat=True))
    agency = _agency("kh-mosavy")
    first_scores = dict.fromkeys(codes, 2) | {"SA1": 1, "ST2": 1, "ED3": 1, "RP3": 3}
    first = services.assessment_record(
        user=actor,
        service=shelter,
        checklist=checklist,
        assessed_on=_ago(380),
        assessing_agency=agency,
        team="MoSAVY inspection team and Phnom Penh DoSVY (demo)",
        summary="Clean, well-run premises. No written security plan; night staff untrained.",
        next_assessment_due=_ago(15),
        scores=[
            services.ScoreInput(code, score, False, "Seen during the visit (demo).")
            for code, score in first_scores.items()
        ],
    )
    done = services.follow_up_create(
        user=actor,
        assessment=first,
        standard=checklist.standards.get(code="SA1"),
        action="Write a security plan with the police post and train staff on it.",
        responsible="Shelter director",
        due_on=_ago(300),
    )
    services.follow_up_close(
        user=actor,
        follow_up=done,
        status="done",
        completed_on=_ago(310),
        outcome="Plan written and posted; all staff briefed (demo).",
    )
    services.follow_up_create(
        user=actor,
        assessment=first,
        standard=checklist.standards.get(code="ED3"),
        action="Agree vocational training places with a training provider.",
        responsible="Shelter social work team",
        due_on=_ago(200),
    )
    second_scores = dict.fromkeys(codes, 3) | {"ST2": 2, "ED3": 1, "CP2": 2}
    second = services.assessment_record(
        user=actor,
        service=shelter,
        checklist=checklist,
        assessed_on=_ago(20),
        assessing_agency=agency,
        team="MoSAVY inspection team (demo)",
        summary="Security plan in place. Vocational training still not arranged.",
        next_assessment_due=_renewal(345),
        scores=[
            services.ScoreInput(code, score, False, "Seen during the visit (demo).")
            for code, score in second_scores.items()
        ],
    )
    services.follow_up_create(
        user=actor,
        assessment=second,
        standard=checklist.standards.get(code="ED3"),
        action="Place the current residents who wish it in a vocational course.",
        responsible="Shelter social work team",
        due_on=_renewal(60),
    )
    return 2


__all__ = ["load_demo"]
