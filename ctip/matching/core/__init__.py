"""Name normalisation and person comparison core of the matching app (pure Python, no Django).

One person's records must be found across Khmer script, Chinese characters and Latin
spellings: សុខា ចាន់ (family report), CHAN SOKHA (passport), Sokhar Chan (shelter intake) and
索卡·占 (Chinese police record) are the same woman. Everything here maps names into one
Khmer-Latin phonetic key space and compares people with explicit evidence for and against,
so that caseworkers can check every suggested link.

Kept free of Django so it can be tested, audited and reused on its own.
"""

from .compare import (
    Evidence,
    MatchResult,
    NameEvidence,
    blocking_keys,
    compare_names,
    compare_people,
)
from .config import MatchConfig
from .dates import BirthRange
from .hanzi import chinese_transcription_key, hanzi_to_pinyin
from .khmer import romanize_khmer
from .latin import khmer_latin_key
from .names import NameToken, ParsedName, parse_name
from .people import PersonRecord

__all__ = [
    "BirthRange",
    "Evidence",
    "MatchConfig",
    "MatchResult",
    "NameEvidence",
    "NameToken",
    "ParsedName",
    "PersonRecord",
    "blocking_keys",
    "chinese_transcription_key",
    "compare_names",
    "compare_people",
    "hanzi_to_pinyin",
    "khmer_latin_key",
    "parse_name",
    "romanize_khmer",
]
