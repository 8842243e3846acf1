"""Demo data for one node: agencies, one user of every role, a few fictional persons.

Idempotent: loading twice changes nothing. All names are invented for the demo.
"""

from __future__ import annotations

import importlib
import secrets
from dataclasses import dataclass

from django.db import transaction

from ctip.accounts.models import Role, User
from ctip.accounts.services import AgencyInput, NewUser, agency_upsert, user_create

AGENCIES = {
    "KH": [
        AgencyInput(
            "kh-ncct",
            "National Committee for Counter Trafficking",
            "ministry",
            "KH",
            "គណៈកម្មាធិការជាតិប្រយុទ្ធប្រឆាំងការជួញដូរមនុស្ស",
            "柬埔寨国家打击人口贩卖委员会",
        ),
        AgencyInput(
            "kh-mosavy",
            "Ministry of Social Affairs, Veterans and Youth Rehabilitation",
            "ministry",
            "KH",
            "ក្រសួងសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា",
            "柬埔寨社会事务部",
        ),
        AgencyInput(
            "kh-ahtjp",
            "Anti-Human Trafficking and Juvenile Protection Department",
            "police",
            "KH",
            "នាយកដ្ឋានប្រឆាំងការជួញដូរមនុស្ស និងការពារអនីតិជន",
            "柬埔寨反拐卖人口及保护未成年人局",
        ),
        AgencyInput(
            "kh-moi-gdi",
            "Ministry of Interior, General Department of Identification",
            "ministry",
            "KH",
            "ក្រសួងមហាផ្ទៃ អគ្គនាយកដ្ឋានអត្តសញ្ញាណកម្ម",
            "柬埔寨内政部身份管理总局",
        ),
        AgencyInput(
            "kh-embassy-beijing",
            "Royal Embassy of Cambodia in Beijing",
            "embassy",
            "KH",
            "ស្ថានទូតកម្ពុជាប្រចាំទីក្រុងប៉េកាំង",
            "柬埔寨王国驻华大使馆",
        ),
        AgencyInput(
            "kh-shelter-pp",
            "Phnom Penh Transit Shelter (demo)",
            "shelter",
            "KH",
            "មណ្ឌលស្នាក់នៅបណ្ដោះអាសន្នភ្នំពេញ",
            "金边过渡庇护所",
            "kh-mosavy",
        ),
        AgencyInput(
            "kh-ngo-demo", "Demo Legal Aid NGO", "ngo", "KH", "អង្គការជំនួយផ្លូវច្បាប់", "法律援助组织"
        ),
    ],
    "CN": [
        AgencyInput(
            "cn-mps",
            "Ministry of Public Security, Criminal Investigation Department",
            "police",
            "CN",
            "ក្រសួងសន្តិសុខសាធារណៈ",
            "公安部刑事侦查局",
        ),
        AgencyInput(
            "cn-mca", "Ministry of Civil Affairs", "ministry", "CN", "ក្រសួងកិច្ចការស៊ីវិល", "民政部"
        ),
        AgencyInput(
            "cn-embassy-pp",
            "Embassy of the People's Republic of China in Phnom Penh",
            "embassy",
            "CN",
            "ស្ថានទូតចិនប្រចាំភ្នំពេញ",
            "中华人民共和国驻柬埔寨大使馆",
        ),
        AgencyInput(
            "cn-gx-shelter",
            "Guangxi Relief Station (demo)",
            "shelter",
            "CN",
            "មណ្ឌលជំនួយក្វាងស៊ី",
            "广西救助站",
            "cn-mca",
        ),
        AgencyInput(
            "cn-ngo-demo",
            "Demo Social Work Service Centre",
            "ngo",
            "CN",
            "មជ្ឈមណ្ឌលសង្គមកិច្ច",
            "社会工作服务中心",
        ),
    ],
}

# role -> agency code suffix (after the node prefix)
ROLE_AGENCY = {
    Role.CASEWORKER: "mosavy",
    Role.SUPERVISOR: "mosavy",
    Role.SHELTER_STAFF: "shelter-pp",
    Role.POLICE_FOCAL: "ahtjp",
    Role.CONSULAR_FOCAL: "embassy-beijing",
    Role.ME_OFFICER: "ncct",
    Role.DATA_PROTECTION_OFFICER: "ncct",
    Role.NODE_ADMIN: "ncct",
    Role.DIRECTORY_EDITOR: "ncct",
    Role.CIVIL_REGISTRAR: "moi-gdi",
}
CN_ROLE_AGENCY = {
    Role.CASEWORKER: "mca",
    Role.SUPERVISOR: "mca",
    Role.SHELTER_STAFF: "gx-shelter",
    Role.POLICE_FOCAL: "mps",
    Role.CONSULAR_FOCAL: "embassy-pp",
    Role.ME_OFFICER: "mca",
    Role.DATA_PROTECTION_OFFICER: "mca",
    Role.NODE_ADMIN: "mps",
    Role.DIRECTORY_EDITOR: "mca",
    Role.CIVIL_REGISTRAR: "mca",
}

PERSONS = {
    "KH": [
        {
            "name_km": "សុខា ចាន់",
            "name_latin": "CHAN SOKHA",
            "sex": "female",
            "birth_year": 2001,
            "nationality": "KH",
            "place_of_origin": "Prey Veng (demo)",
            "document_number": "N0000001",
        },
        {
            "name_km": "ស្រីល័ក្ខ ម៉ៅ",
            "name_latin": "MAO SREYLEAK",
            "sex": "female",
            "age_estimate": 19,
            "nationality": "KH",
            "place_of_origin": "Kampong Cham (demo)",
        },
    ],
    "CN": [
        {
            "name_zh": "索卡·占",
            "name_latin": "Suo Ka",
            "sex": "female",
            "age_estimate": 24,
            "nationality": "KH",
            "place_of_origin": "河南 (demo)",
        },
        {
            "name_zh": "李伟",
            "name_latin": "LI WEI",
            "sex": "male",
            "birth_year": 1996,
            "birth_month": 3,
            "nationality": "CN",
            "place_of_origin": "Sihanoukville compound (demo)",
        },
    ],
}


@dataclass(frozen=True)
class Credential:
    username: str
    role: str
    agency: str
    password: str
    totp_secret: str | None


# Each domain app's own idempotent demo loader (``ctip.<app>.demo.load_demo(node)``), run
# after the accounts, in this order (the directory's services before the cases' referrals).
DOMAIN_DEMOS = (
    "directory",
    "plan",
    "finance",
    "training",
    "prevention",
    "enforcement",
    "monitoring",
    "matching",
)


@transaction.atomic
def load_demo(node: str) -> list[Credential]:
    """Create the demo data if missing. Returns the new users' credentials (empty if they
    existed already); the domain apps' demo data is completed either way."""
    credentials = _load_accounts_and_cases(node)
    for app in DOMAIN_DEMOS:
        try:
            module = importlib.import_module(f"ctip.{app}.demo")
        except ModuleNotFoundError:
            continue  # the app has no demo data yet
        module.load_demo(node)
    return credentials


def _load_accounts_and_cases(node: str) -> list[Credential]:
    from ctip.cases.services import PersonInput, person_create

    prefix = node.lower()
    if User.objects.filter(username=f"{prefix}_node_admin").exists():
        return []
    for agency in AGENCIES[node]:
        agency_upsert(actor=None, data=agency)
    roles = ROLE_AGENCY if node == "KH" else CN_ROLE_AGENCY
    created: list[NewUser] = []
    for role, suffix in roles.items():
        agency = _agency(f"{prefix}-{suffix}")
        created.append(_user(f"{prefix}_{role}", agency, role))
    # A caseworker of another agency, to show that agencies do not see each other's records.
    created.append(
        _user(f"{prefix}_caseworker_ngo", _agency(f"{prefix}-ngo-demo"), Role.CASEWORKER)
    )
    caseworker = next(c.user for c in created if c.user.username == f"{prefix}_caseworker")
    for data in PERSONS[node]:
        person_create(user=caseworker, data=PersonInput(**data))
    # Services to refer to, then screenings and victim cases in their SOP stages.
    from ctip.cases.demo import load_case_demo
    from ctip.directory.demo import load_demo as load_directory_demo

    load_directory_demo(node)
    load_case_demo(node)
    return [
        Credential(
            c.user.username,
            ",".join(sorted(c.user.roles)),
            c.user.agency.code,
            c.password,
            c.totp_secret,
        )
        for c in created
    ]


def _agency(code: str):
    from ctip.accounts.models import Agency

    return Agency.objects.get(code=code)


def _user(username: str, agency, role: str) -> NewUser:
    # Readable demo passwords (long enough for the validators), random per install.
    password = f"demo-{secrets.token_hex(4)}-{secrets.token_hex(2)}"
    return user_create(
        actor=None, username=username, agency=agency, roles=[role], password=password
    )
