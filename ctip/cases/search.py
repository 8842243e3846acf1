"""Search tokens for names across Khmer script, Chinese characters and Latin letters.

Every name word gives keyed tokens (``core.crypto.index_token``, a keyed HMAC: not
reversible without the node's index key) of its normalised form and of its phonetic keys
from the matching library (``ctip.matching.core``): Khmer is romanised, Chinese read as
pinyin, and both, like Latin spellings, land in one Khmer-Latin key space. A query word
matches a person when one of its own tokens is among the person's.
"""

from __future__ import annotations

from ctip.core.crypto import index_token, normalise_for_index
from ctip.matching.core import parse_name

PURPOSE_WORD = "person.name"
PURPOSE_KEY = "person.name.key"


def _words(value: str) -> list[str]:
    return normalise_for_index(value).replace(",", " ").replace("·", " ").split()


def name_tokens(value: str) -> set[str]:
    if not value.strip():
        return set()
    tokens = {index_token(w, PURPOSE_WORD) for w in _words(value)}
    for keys in name_keys(value):
        tokens.update(index_token(k, PURPOSE_KEY) for k in keys)
    return tokens


def name_keys(value: str) -> list[tuple[str, ...]]:
    """Phonetic keys per name part; a Chinese given name also per character (明 of 小明)."""
    out: list[tuple[str, ...]] = []
    for token in parse_name(value).tokens:
        out.append(tuple(k for k in token.keys if k))
        if token.script == "han" and len(token.text) > 1:
            for char in token.text:
                out.extend(tuple(k for k in t.keys if k) for t in parse_name(char).tokens)
    return [keys for keys in out if keys]


def query_alternatives(query: str) -> list[set[str]]:
    """For each name part the user typed, the tokens any of which may match it (all parts
    must match). A word that is several name parts (王小明) counts as those parts."""
    alternatives: list[set[str]] = []
    for word in _words(query):
        parts = parse_name(word).tokens
        if len(parts) <= 1:
            keys = parts[0].keys if parts else ()
            alternatives.append(
                {index_token(word, PURPOSE_WORD)} | {index_token(k, PURPOSE_KEY) for k in keys if k}
            )
            continue
        for part in parts:
            alternatives.append(
                {index_token(normalise_for_index(part.text), PURPOSE_WORD)}
                | {index_token(k, PURPOSE_KEY) for k in part.keys if k}
            )
    return alternatives
