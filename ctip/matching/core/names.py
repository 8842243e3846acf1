"""Parse a name written in Khmer, Chinese or Latin script into comparable parts.

Every part ends up with Khmer-Latin *spellings* and phonetic *keys* in one shared key space,
so ចាន់, CHAN and 占 can be compared directly. Honorifics are removed (and remembered, for the
evidence shown to caseworkers). Family-name position is recorded only where the writing
convention tells us (Khmer script and Chinese names are family-name first; "CHAN, Sokha"
and "Sokha CHAN" mark the family name); comparison itself ignores order because passports
and intake forms use either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .hanzi import (
    chinese_style_split,
    han_part_spellings,
    looks_like_pinyin,
    pinyin_spellings,
    segment_pinyin,
)
from .khmer import khmer_spellings, romanize_khmer
from .latin import khmer_latin_key
from .text import INTERPUNCTS, Script, char_script, clean_text, dedupe, fold_latin

Role = Literal["family", "given"]
ScriptHint = Literal["khmer", "han", "latin", "pinyin"]
NameScript = Literal["khmer", "han", "latin", "other", "mixed", "empty"]

_SCRIPT_HINTS = ("khmer", "han", "latin", "pinyin")
_MAX_SPELLINGS = 12

# Khmer titles written before a name, longest first so លោកស្រី is not read as លោក + ស្រី.
KHMER_HONORIFICS = ("លោកស្រី", "អ្នកនាង", "លោក", "កញ្ញា", "នាង", "អ្នក")
# Only removed as a prefix glued to the name when unambiguous (នាង also occurs inside names).
_KHMER_GLUED = ("លោកស្រី", "អ្នកនាង", "លោក", "កញ្ញា")
CHINESE_HONORIFICS = ("先生", "女士", "小姐", "太太", "夫人")
# Latin titles (lower-case, without dots), as word sequences, longest first.
LATIN_HONORIFICS = (
    ("lok", "srey"),
    ("lok", "srei"),
    ("neak", "srey"),
    ("neak", "srei"),
    ("mr",),
    ("mrs",),
    ("ms",),
    ("miss",),
    ("mx",),
    ("madam",),
    ("mme",),
    ("lok",),
    ("neak",),
)


@dataclass(frozen=True)
class NameToken:
    """One name part with its spellings in the shared Khmer-Latin key space."""

    text: str
    script: Script
    #: Khmer-Latin spellings, best first (romanisation, pinyin mapping, or the text itself).
    spellings: tuple[str, ...]
    #: Phonetic keys of ``spellings`` (deduplicated, best first).
    keys: tuple[str, ...]
    #: Romanisation or pinyin shown to people ("sokha", "suo ka").
    reading: str = ""
    role: Role | None = None

    @property
    def key(self) -> str:
        return self.keys[0] if self.keys else ""


@dataclass(frozen=True)
class ParsedName:
    """A name split into parts, with the honorifics that were removed."""

    text: str
    script: NameScript
    tokens: tuple[NameToken, ...]
    removed: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Best key of each part, in written order."""
        return tuple(t.key for t in self.tokens)

    @property
    def reading(self) -> str:
        return " ".join(t.reading or t.text for t in self.tokens)


@dataclass
class _Chunk:
    text: str
    script: Script
    after_comma: bool = False
    han_with_interpunct: bool = False


def parse_name(text: str, script_hint: ScriptHint | None = None) -> ParsedName:
    """Split ``text`` into name parts, strip honorifics, and key every part.

    ``script_hint`` is only needed for Latin text: ``"pinyin"`` reads Latin words as Chinese
    pinyin (Suo Ka) even without pinyin-only letters, ``"latin"`` never does. Khmer and Han
    characters are always recognised by their script.
    """
    if script_hint is not None and script_hint not in _SCRIPT_HINTS:
        raise ValueError(f"script_hint must be one of {_SCRIPT_HINTS} or None")
    return _parse_cached(text, script_hint)


@lru_cache(maxsize=8192)
def _parse_cached(text: str, script_hint: ScriptHint | None) -> ParsedName:
    cleaned = clean_text(text)
    chunks = _chunks(cleaned)
    chunks, removed = _strip_honorifics(chunks)
    tokens = _tokens(chunks, script_hint)
    return ParsedName(cleaned, _name_script(tokens), tokens, removed)


def _name_script(tokens: tuple[NameToken, ...]) -> NameScript:
    scripts = {t.script for t in tokens}
    if not scripts:
        return "empty"
    return next(iter(scripts)) if len(scripts) == 1 else "mixed"


# --- Chunking ------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;/()\[\]{}<>\"“”‘’「」『』（），、；：:|]+")


def _chunks(text: str) -> list[_Chunk]:
    """Split on separators and at script boundaries; remember commas and interpuncts."""
    chunks: list[_Chunk] = []
    comma_seen = False
    has_interpunct = any(ch in INTERPUNCTS for ch in text)
    for piece in re.split(r"(,|，)", text):
        if piece in (",", "，"):
            comma_seen = True
            continue
        for word in _SEPARATORS.split(piece):
            for part in _split_interpuncts(word):
                for run, script in _script_runs(part):
                    chunks.append(_Chunk(run, script, comma_seen, has_interpunct))
    return chunks


def _split_interpuncts(word: str) -> list[str]:
    parts, current = [], []
    for ch in word:
        if ch in INTERPUNCTS:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p]


def _script_runs(word: str) -> list[tuple[str, Script]]:
    """Maximal runs of one script; combining marks and apostrophes stay with their run."""
    if word.isascii() and word.isalpha():
        return [(word, "latin")]  # the common case, without a look at every character
    runs: list[tuple[str, Script]] = []
    for ch in word:
        script = char_script(ch)
        if script == "other" and runs and not ch.isalpha():
            runs[-1] = (runs[-1][0] + ch, runs[-1][1])
        elif runs and runs[-1][1] == script:
            runs[-1] = (runs[-1][0] + ch, script)
        else:
            runs.append((ch, script))
    return [(run, script) for run, script in runs if any(c.isalnum() for c in run)]


# --- Honorifics ------------------------------------------------------------------------


def _strip_honorifics(chunks: list[_Chunk]) -> tuple[list[_Chunk], tuple[str, ...]]:
    removed: list[str] = []
    out: list[_Chunk] = []
    for chunk in chunks:
        if chunk.script == "khmer":
            chunk = _strip_khmer(chunk, removed, standalone_ok=len(chunks) > 1)
        elif chunk.script == "han":
            chunk = _strip_chinese(chunk, removed)
        if chunk.text:
            out.append(chunk)
    out = _strip_latin_prefix(out, removed)
    return out, tuple(removed)


def _strip_khmer(chunk: _Chunk, removed: list[str], *, standalone_ok: bool) -> _Chunk:
    if chunk.text in KHMER_HONORIFICS and standalone_ok:
        removed.append(chunk.text)
        return _Chunk("", chunk.script)
    for title in _KHMER_GLUED:
        if chunk.text.startswith(title) and len(chunk.text) > len(title):
            removed.append(title)
            return _Chunk(chunk.text[len(title) :], chunk.script, chunk.after_comma)
    return chunk


def _strip_chinese(chunk: _Chunk, removed: list[str]) -> _Chunk:
    for title in CHINESE_HONORIFICS:
        if chunk.text.endswith(title):
            removed.append(title)
            rest = chunk.text[: -len(title)]
            return _Chunk(rest, chunk.script, chunk.after_comma, chunk.han_with_interpunct)
    return chunk


def _strip_latin_prefix(chunks: list[_Chunk], removed: list[str]) -> list[_Chunk]:
    """Remove leading Latin titles, but never the last remaining word."""
    changed = True
    while changed:
        changed = False
        words = [fold_latin(c.text) if c.script == "latin" else None for c in chunks]
        for title in LATIN_HONORIFICS:
            n = len(title)
            if len(chunks) > n and tuple(words[:n]) == title:
                removed.append(" ".join(c.text for c in chunks[:n]))
                chunks = chunks[n:]
                changed = True
                break
    return chunks


# --- Tokens --------------------------------------------------------------------------


def _tokens(chunks: list[_Chunk], hint: ScriptHint | None) -> tuple[NameToken, ...]:
    latin_words = [fold_latin(c.text) for c in chunks if c.script == "latin"]
    if hint == "pinyin":
        as_pinyin = all(segment_pinyin(w) for w in latin_words)
    else:
        as_pinyin = hint != "latin" and looks_like_pinyin(latin_words)
    tokens: list[NameToken] = []
    khmer_count = sum(c.script == "khmer" for c in chunks)
    khmer_seen = 0
    for chunk in chunks:
        if chunk.script == "khmer":
            role: Role | None = None
            if khmer_count > 1:
                role = "family" if khmer_seen == 0 else "given"
            khmer_seen += 1
            tokens.append(_khmer_token(chunk.text, role))
        elif chunk.script == "han":
            tokens.extend(_han_tokens(chunk))
        elif chunk.script == "latin":
            tokens.append(_latin_token(chunk.text, as_pinyin))
        else:
            tokens.append(_other_token(chunk.text))
    tokens = _latin_roles(tokens, chunks)
    return tuple(t for t in tokens if t.keys)


def _token(text: str, script: Script, spellings: tuple[str, ...], reading: str) -> NameToken:
    keys = dedupe(khmer_latin_key(s) for s in spellings)
    return NameToken(text, script, spellings, keys, reading)


def _khmer_token(text: str, role: Role | None) -> NameToken:
    token = _token(text, "khmer", khmer_spellings(text), romanize_khmer(text))
    return _with_role(token, role)


def _han_tokens(chunk: _Chunk) -> list[NameToken]:
    split = None if chunk.han_with_interpunct else chinese_style_split(chunk.text)
    if split is None:
        spellings, reading = han_part_spellings(chunk.text, surname=False, limit=_MAX_SPELLINGS)
        return [_token(chunk.text, "han", spellings, reading)]
    family, given = split
    fam_spellings, fam_reading = han_part_spellings(family, surname=True, limit=_MAX_SPELLINGS)
    giv_spellings, giv_reading = han_part_spellings(given, surname=False, limit=_MAX_SPELLINGS)
    return [
        _with_role(_token(family, "han", fam_spellings, fam_reading), "family"),
        _with_role(_token(given, "han", giv_spellings, giv_reading), "given"),
    ]


def _latin_token(text: str, as_pinyin: bool) -> NameToken:
    word = fold_latin(text)
    spellings: tuple[str, ...] = (word,)
    if as_pinyin:
        syllables = segment_pinyin(word)
        if syllables:
            spellings = dedupe([word, *pinyin_spellings(syllables, _MAX_SPELLINGS - 1)])
    return _token(text, "latin", spellings, word)


def _other_token(text: str) -> NameToken:
    word = fold_latin(text)
    return _token(text, "other", (word,), word)


def _with_role(token: NameToken, role: Role | None) -> NameToken:
    if role is None:
        return token
    return NameToken(token.text, token.script, token.spellings, token.keys, token.reading, role)


def _latin_roles(tokens: list[NameToken], chunks: list[_Chunk]) -> list[NameToken]:
    """'CHAN, Sokha' and 'Sokha CHAN' say which part is the family name."""
    latin = [t for t in tokens if t.script == "latin"]
    if len(latin) < 2 or len(latin) != len(tokens) or len(tokens) != len(chunks):
        return tokens
    if any(c.after_comma for c in chunks) and not all(c.after_comma for c in chunks):
        return [
            _with_role(t, "given" if c.after_comma else "family")
            for t, c in zip(tokens, chunks, strict=True)
        ]
    upper = [t.text.isupper() and len(t.text) > 1 for t in tokens]
    if sum(upper) == 1:
        return [
            _with_role(t, "family" if u else "given") for t, u in zip(tokens, upper, strict=True)
        ]
    return tokens
