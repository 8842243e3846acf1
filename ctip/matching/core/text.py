"""Unicode helpers shared by the name modules: script detection and clean-up.

Names arrive from phones, scanned forms and three keyboards (Khmer, Chinese IMEs, Latin);
invisible characters, full-width forms and several "middle dots" are routine, so every
entry point cleans text the same way before anything else looks at it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

Script = Literal["khmer", "han", "latin", "other"]

#: Dots used between the parts of foreign names written in Chinese (索卡·占) or Japanese.
INTERPUNCTS = frozenset("\u00b7\u30fb\uff65\u2022\u2027\u2219\u22c5\u0387\u16eb\u2e31")

# Zero-width space (used as a Khmer word separator) and other invisible separators.
_SPACE_LIKE = frozenset("\u200b\u2060\ufeff\u3000\u00a0")
# Joiners and marks that carry no meaning for names.
_DROP = frozenset("\u200c\u200d\u00ad\u034f\u180e")
_WHITESPACE_RUN = re.compile(r"\s+")


def char_script(ch: str) -> Script:
    """Script of one character: Khmer, Han (CJK ideographs), Latin letters, or other."""
    cp = ord(ch)
    if 0x1780 <= cp <= 0x17FF or 0x19E0 <= cp <= 0x19FF:
        return "khmer"
    if (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x3134F
        or 0xF900 <= cp <= 0xFAFF
        or cp == 0x3007
    ):
        return "han"
    if ch.isascii() and ch.isalpha():
        return "latin"
    if ch.isalpha() and "LATIN" in unicodedata.name(ch, ""):
        return "latin"
    return "other"


def clean_text(text: str) -> str:
    """NFKC-normalise, turn invisible separators into spaces, drop joiners, squeeze spaces.

    NFKC folds full-width Latin (ＣＨＡＮ from Chinese keyboards) and CJK compatibility
    ideographs onto the ordinary characters.

    Interpuncts are kept (they carry information: the part boundary in 索卡·占).
    Idempotent, never raises on any ``str``.
    """
    if text.isascii() and text.isprintable():
        return " ".join(text.split())  # the common case: nothing to normalise or drop
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        if ch in _SPACE_LIKE:
            out.append(" ")
        elif ch in _DROP or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(" " if ch in "\t\n\r\v\f" else "")
        else:
            out.append(ch)
    return _WHITESPACE_RUN.sub(" ", "".join(out)).strip()


def fold_latin(text: str) -> str:
    """Lower-case ASCII letters only: accents stripped (Sôkha -> sokha), everything else dropped.

    Full-width Latin (ＣＨＡＮ from some Chinese keyboards) is folded by NFKD.
    """
    if text.isascii():
        return text.lower().translate(_NOT_ASCII_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


_NOT_ASCII_LETTERS = {i: None for i in range(128) if not ("a" <= chr(i) <= "z")}


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Order-preserving de-duplication that also drops empty strings."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)
