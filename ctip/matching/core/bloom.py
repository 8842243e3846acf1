"""Keyed Bloom-filter encodings for privacy-preserving matching between nodes.

A person is encoded as two bit sets (Schnell et al.'s cryptographic long-term keys):

* the *name* filter: the bigrams of every phonetic key of every name part (all readings
  of Khmer script and Chinese characters, in the shared Khmer-Latin key space), each
  bigram set at ``hashes`` positions chosen by HMAC-SHA256 under the agreed key;
* the *birth* filter: every birth year the birth range touches, widened by
  ``widen_years``, together with the sex when known.

Without the key the positions are unpredictable, so a peer cannot test guessed names
against a filter; with it, only the Dice coefficient of two filters is computed. The
encodings never leave the node in any other form, and answers carry only opaque handles
and scores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from .dates import BirthRange
from .names import parse_name

NAME_BITS = 1024
BIRTH_BITS = 256


@dataclass(frozen=True)
class Encoding:
    name: int
    birth: int

    def to_json(self) -> dict[str, str]:
        return {
            "name": _b64(self.name, NAME_BITS),
            "birth": _b64(self.birth, BIRTH_BITS),
        }

    @classmethod
    def from_json(cls, data: dict) -> Encoding:
        return cls(_unb64(data["name"], NAME_BITS), _unb64(data["birth"], BIRTH_BITS))


def _b64(value: int, bits: int) -> str:
    return base64.b64encode(value.to_bytes(bits // 8, "big")).decode()


def _unb64(text: str, bits: int) -> int:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != bits // 8:
        raise ValueError("encoding has the wrong length")
    return int.from_bytes(raw, "big")


def _positions(key: bytes, item: str, bits: int, hashes: int) -> list[int]:
    digest = hmac.new(key, item.encode(), hashlib.sha256).digest()
    # Double hashing (Kirsch–Mitzenmacher) from two halves of one keyed digest.
    h1 = int.from_bytes(digest[:8], "big")
    h2 = int.from_bytes(digest[8:16], "big") | 1
    return [(h1 + i * h2) % bits for i in range(hashes)]


def _filter(key: bytes, items: set[str], bits: int, hashes: int) -> int:
    value = 0
    for item in items:
        for pos in _positions(key, item, bits, hashes):
            value |= 1 << pos
    return value


def name_items(names: tuple[str, ...]) -> set[str]:
    items: set[str] = set()
    for text in names:
        for token in parse_name(text).tokens:
            for key in token.keys[:4]:
                padded = f"_{key}_"
                items.update(padded[i : i + 2] for i in range(len(padded) - 1))
    return items


def birth_items(birth: BirthRange | None, sex: str | None, widen_years: int = 2) -> set[str]:
    items: set[str] = set()
    if birth is not None:
        for year in range(birth.earliest.year - widen_years, birth.latest.year + widen_years + 1):
            items.add(f"y{year}")
    if sex:
        items.add(f"s{sex}")
    return items


def encode(
    key: bytes,
    names: tuple[str, ...],
    birth: BirthRange | None,
    sex: str | None,
    *,
    hashes: int = 20,
) -> Encoding:
    """The keyed encodings of one person."""
    if len(key) < 32:
        raise ValueError("the encoding key must be at least 32 bytes")
    return Encoding(
        _filter(key + b"|name", name_items(names), NAME_BITS, hashes),
        _filter(key + b"|birth", birth_items(birth, sex), BIRTH_BITS, 8),
    )


def dice(a: int, b: int) -> float:
    total = a.bit_count() + b.bit_count()
    return 2.0 * (a & b).bit_count() / total if total else 0.0


def similarity(a: Encoding, b: Encoding) -> float:
    """Name Dice, lowered when the birth/sex filters share little (weights 0.8 / 0.2)."""
    name = dice(a.name, b.name)
    if not a.birth or not b.birth:
        return round(name, 4)
    return round(0.8 * name + 0.2 * dice(a.birth, b.birth), 4)
