"""Code lists the directory validates against: languages and nationalities (ISO codes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Languages a service works in or a focal person speaks (ISO 639-1, or 639-3 where
# 639-1 has none). ``zh`` is written Chinese / Mandarin; ``yue`` is Cantonese.
LANGUAGES: dict[str, object] = {
    "km": _("Khmer"),
    "zh": _("Chinese (Mandarin)"),
    "yue": _("Cantonese"),
    "en": _("English"),
    "th": _("Thai"),
    "vi": _("Vietnamese"),
    "lo": _("Lao"),
    "my": _("Burmese"),
    "ms": _("Malay"),
    "id": _("Indonesian"),
    "tl": _("Filipino"),
    "fr": _("French"),
    "ru": _("Russian"),
    "ko": _("Korean"),
    "ja": _("Japanese"),
    "cmo": _("Bunong"),
    "cja": _("Cham"),
}

# ISO 3166-1 alpha-2, officially assigned codes.
_ISO_3166 = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
    "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
    "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
    "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
    "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
    "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
COUNTRY_CODES: frozenset[str] = frozenset(_ISO_3166.split())


def language_name(code: str) -> str:
    return str(LANGUAGES.get(code, code))
