"""Prevention demo of one node: the strategy (drafted and submitted on KH), each country's
tool package for cross-border marriage (published, three languages), dissemination events,
and on each node one singleness certificate signed with the node's key.

Idempotent: loading twice changes nothing. All names and numbers are invented."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ctip.accounts.models import Agency, User
from ctip.prevention import services
from ctip.prevention.models import (
    CivilCertificate,
    DisseminationEvent,
    StrategyDocument,
    ToolPackage,
)

STRATEGY_TITLE = "Joint preventive strategy on safe migration and cross-border marriage (demo)"
SECTIONS = [
    (
        "Purpose",
        "Prevent trafficking in persons through marriage and labour migration between "
        "Cambodia and China by informing people at risk and making forged papers useless.",
    ),
    (
        "Target groups",
        "Young women and men planning to marry or work across the border, their families, "
        "students in the last years of school, and village and community leaders.",
    ),
    (
        "Measures",
        "Publish each country's tool package in Khmer, Chinese and English; hold village "
        "meetings and school sessions; use social media and the hotlines; issue singleness "
        "and marriage certificates that both governments can verify.",
    ),
]

PACKAGES = {
    "KH": {
        "topic": "marriage",
        "title_en": "Marrying a Chinese citizen: what Cambodia requires (demo)",
        "title_km": "ការរៀបការជាមួយពលរដ្ឋចិន៖ អ្វីដែលកម្ពុជាតម្រូវ (សាកល្បង)",
        "title_zh_hans": "与中国公民结婚：柬埔寨的要求（演示）",
        "summary_en": "The documents and steps the Cambodian authorities require before you "
        "marry a foreign citizen, and how to recognise a broker who may be a trafficker.",
        "summary_km": "ឯកសារ និងជំហានដែលអាជ្ញាធរកម្ពុជាតម្រូវ មុនពេលអ្នករៀបការជាមួយជនបរទេស "
        "និងរបៀបស្គាល់មេខ្យល់ដែលអាចជាអ្នកជួញដូរមនុស្ស។",
        "summary_zh_hans": "与外国公民结婚前柬埔寨主管部门要求的文件和步骤，"
        "以及如何识别可能是人口贩子的中介。",
        "items": [
            (
                "step",
                "Ask for a certificate of singleness",
                "សុំវិញ្ញាបនបត្របញ្ជាក់ភាពនៅលីវ",
                "申请单身证明",
                "Go to your commune office with your identity card and family book.",
                "ទៅការិយាល័យឃុំរបស់អ្នក ជាមួយអត្តសញ្ញាណប័ណ្ណ និងសៀវភៅគ្រួសារ។",
                "携带身份证和户口簿前往乡公所。",
                True,
            ),
            (
                "step",
                "Register the marriage with both governments",
                "ចុះបញ្ជីអាពាហ៍ពិពាហ៍ជាមួយរដ្ឋាភិបាលទាំងពីរ",
                "在两国政府登记结婚",
                "A marriage is recognised only when it is registered with the civil "
                "registration authorities of both countries.",
                "អាពាហ៍ពិពាហ៍ត្រូវបានទទួលស្គាល់ លុះត្រាតែបានចុះបញ្ជីនៅអាជ្ញាធរអត្រានុកូលដ្ឋាននៃប្រទេសទាំងពីរ។",
                "婚姻只有在两国的民事登记机关登记后才被承认。",
                True,
            ),
            (
                "document",
                "Certificate of singleness (with verification code)",
                "វិញ្ញាបនបត្របញ្ជាក់ភាពនៅលីវ (មានលេខកូដផ្ទៀងផ្ទាត់)",
                "单身证明（附验证码）",
                "Check its code on the verification page before you travel.",
                "ពិនិត្យលេខកូដរបស់វានៅលើទំព័រផ្ទៀងផ្ទាត់ មុនពេលធ្វើដំណើរ។",
                "出行前在验证页面核对其验证码。",
                True,
            ),
            (
                "document",
                "Valid passport",
                "លិខិតឆ្លងដែនដែលមានសុពលភាព",
                "有效护照",
                "Keep it yourself. Nobody else may hold your passport.",
                "រក្សាវាដោយខ្លួនឯង។ គ្មាននរណាម្នាក់អាចកាន់លិខិតឆ្លងដែនរបស់អ្នកបានទេ។",
                "自己保管，任何人都无权扣留您的护照。",
                False,
            ),
            (
                "warning",
                "A broker asks for money or takes your passport",
                "មេខ្យល់សុំលុយ ឬយកលិខិតឆ្លងដែនរបស់អ្នក",
                "中介索要钱财或拿走您的护照",
                "Call the hotline. This is a sign of trafficking.",
                "ទូរស័ព្ទទៅខ្សែទូរស័ព្ទជំនួយ។ នេះជាសញ្ញានៃការជួញដូរមនុស្ស។",
                "请拨打热线电话。这是人口贩卖的迹象。",
                False,
            ),
            (
                "warning",
                "You cannot meet or call your future spouse before you leave",
                "អ្នកមិនអាចជួប ឬទូរស័ព្ទទៅគូស្រករអនាគតមុនពេលចាកចេញ",
                "出发前无法与未来配偶见面或通话",
                "",
                "",
                "",
                False,
            ),
        ],
    },
    "CN": {
        "topic": "marriage",
        "title_en": "Marrying a Cambodian citizen: what China requires (demo)",
        "title_km": "ការរៀបការជាមួយពលរដ្ឋកម្ពុជា៖ អ្វីដែលចិនតម្រូវ (សាកល្បង)",
        "title_zh_hans": "与柬埔寨公民结婚：中国的要求（演示）",
        "summary_en": "How a marriage with a Cambodian citizen is registered in China, and "
        "what an illegal matchmaking agency looks like.",
        "summary_km": "របៀបចុះបញ្ជីអាពាហ៍ពិពាហ៍ជាមួយពលរដ្ឋកម្ពុជានៅប្រទេសចិន និងលក្ខណៈនៃភ្នាក់ងារផ្សំផ្គុំខុសច្បាប់។",
        "summary_zh_hans": "如何在中国办理与柬埔寨公民的婚姻登记，以及非法婚介机构的特征。",
        "items": [
            (
                "step",
                "Register the marriage at the civil affairs bureau",
                "ចុះបញ្ជីអាពាហ៍ពិពាហ៍នៅការិយាល័យកិច្ចការស៊ីវិល",
                "在民政局办理结婚登记",
                "Both partners appear in person with their documents.",
                "ដៃគូទាំងពីរត្រូវមកដោយផ្ទាល់ជាមួយឯកសាររបស់ពួកគេ។",
                "双方须携带证件亲自到场。",
                True,
            ),
            (
                "document",
                "Cambodian certificate of singleness, verified",
                "វិញ្ញាបនបត្របញ្ជាក់ភាពនៅលីវរបស់កម្ពុជា ដែលបានផ្ទៀងផ្ទាត់",
                "经核验的柬埔寨单身证明",
                "The registry checks its code on the verification page.",
                "ការិយាល័យចុះបញ្ជីពិនិត្យលេខកូដរបស់វានៅលើទំព័រផ្ទៀងផ្ទាត់។",
                "登记机关在验证页面核对其验证码。",
                True,
            ),
            (
                "warning",
                "A matchmaking agency charges a large fee for a foreign bride",
                "ភ្នាក់ងារផ្សំផ្គុំយកថ្លៃច្រើនសម្រាប់កូនក្រមុំបរទេស",
                "婚介机构为介绍外籍新娘收取高额费用",
                "Cross-border matchmaking for profit is illegal in China.",
                "ការផ្សំផ្គុំឆ្លងដែនដើម្បីរកប្រាក់ចំណេញគឺខុសច្បាប់នៅប្រទេសចិន។",
                "在中国，以营利为目的的跨国婚介是违法的。",
                False,
            ),
        ],
    },
}

DISSEMINATION = {
    "KH": [
        (
            "village_meeting",
            "Prey Veng",
            ["prospective_spouses", "parents"],
            (34, 12, 20, 0, 5, 18, 0),
        ),
        ("school", "Kampong Cham", ["students"], (60, 22, 0, 55, 18, 0, 0)),
        (
            "social_media",
            "Phnom Penh",
            ["general_public", "migrant_workers"],
            (0, 0, 0, 0, 0, 0, 1500),
        ),
    ],
    "CN": [
        (
            "village_meeting",
            "Guangxi",
            ["community_leaders", "general_public"],
            (0, 8, 25, 0, 6, 30, 0),
        ),
    ],
}
CERTIFICATE = {
    "KH": ("singleness", "KH-SC-2026-000123", "CHAN SOKHA (demo)"),
    "CN": ("singleness", "CN-DJ-2026-004567", "LI NA (demo)"),
}


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _contact(country: str):
    from ctip.directory.models import FocalPerson

    return FocalPerson.objects.filter(country=country, published=True).order_by("name_en").first()


def load_demo(node: str) -> dict[str, int]:
    """Create the prevention demo of ``node`` (``KH`` or ``CN``) if missing."""
    prefix = node.lower()
    created = {"strategy": 0, "packages": 0, "dissemination": 0, "certificates": 0}
    me = _user(f"{prefix}_me_officer")
    if node == "KH" and me is not None and not StrategyDocument.objects.exists():
        version = services.strategy_create(user=me, title=STRATEGY_TITLE)
        for number, (heading, text) in enumerate(SECTIONS, start=1):
            services.section_save(
                user=me, version=version, number=number, heading=heading, text=text
            )
        services.version_submit(user=me, version=version)
        created["strategy"] = 1
    spec = PACKAGES[node]
    if (
        me is not None
        and not ToolPackage.objects.filter(country=node, topic=spec["topic"]).exists()
    ):
        package = services.package_save(
            user=me, data={k: v for k, v in spec.items() if k != "items"}
        )
        authority = (
            Agency.objects.filter(code=f"{prefix}-moi-gdi").first()
            or Agency.objects.filter(code=f"{prefix}-mca").first()
        )
        contact = _contact(node)
        numbers: dict[str, int] = {}
        for kind, t_en, t_km, t_zh, x_en, x_km, x_zh, official in spec["items"]:
            numbers[kind] = numbers.get(kind, 0) + 1
            services.item_save(
                user=me,
                package=package,
                data={
                    "kind": kind,
                    "number": numbers[kind],
                    "title_en": t_en,
                    "title_km": t_km,
                    "title_zh_hans": t_zh,
                    "text_en": x_en,
                    "text_km": x_km,
                    "text_zh_hans": x_zh,
                    "authority": authority if official else None,
                    "contact": contact if official else None,
                },
            )
        services.package_publish(user=me, package=package, published=True)
        created["packages"] = 1
    recorder = _user(f"{prefix}_supervisor")
    if recorder is not None and not DisseminationEvent.objects.filter(country=node).exists():
        package = ToolPackage.objects.filter(country=node).first()
        today = timezone.localdate()
        for i, (channel, province, audiences, counts) in enumerate(DISSEMINATION[node]):
            names = (
                "female_under_18",
                "female_18_24",
                "female_25_plus",
                "male_under_18",
                "male_18_24",
                "male_25_plus",
                "unknown",
            )
            services.dissemination_record(
                user=recorder,
                data={
                    "package": package,
                    "date": today - dt.timedelta(days=30 - 7 * i),
                    "channel": channel,
                    "province": province,
                    "audiences": audiences,
                    **dict(zip(names, counts, strict=True)),
                },
            )
            created["dissemination"] += 1
    registrar = _user(f"{prefix}_civil_registrar")
    if registrar is not None and registrar.agency_id and not CivilCertificate.objects.exists():
        from ctip.exchange.errors import KeysUnavailable

        doc_type, number, holder = CERTIFICATE[node]
        try:
            services.certificate_issue(
                user=registrar,
                data=services.CertificateInput(
                    doc_type=doc_type,
                    authority=registrar.agency,
                    number=number,
                    holder_name=holder,
                    issued_on=timezone.localdate() - dt.timedelta(days=3),
                    valid_until=timezone.localdate() + dt.timedelta(days=180),
                ),
            )
            created["certificates"] = 1
        except KeysUnavailable:
            pass  # a node without exchange keys signs nothing
    return created
