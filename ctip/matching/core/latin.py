"""Phonetic key for Latin spellings of Khmer-origin names.

Cambodian names reach Latin script through passports (UNGEGN-ish), French-era habits,
English-speaking NGO staff and Chinese pinyin. The same name therefore appears as
Sokha / Sokhar / Sok Kha, Chanthy / Chantey / Chanthi, Srey / Srei, Thida / Thita.
:func:`khmer_latin_key` maps such variants to one key. Each rule below folds a spelling
freedom that really occurs; none of them is tuned to a particular name.

Rules, applied in this order and repeated until nothing changes (so the key is stable):

1. Accents stripped, lower-cased, everything but a-z dropped (spaces and hyphens inside a
   name part go too: "Sok Kha" = "Sok-kha" = "Sokkha").
2. Consonant spellings (Khmer has no f, z, q or x; these arrive via French, English, pinyin):
   ``tch``/``chh``/``zh``/``j``/lone ``c`` -> ch; ``ck``/``q``/``g`` -> k; ``x``/``z`` -> s;
   ``w`` -> v; ``f`` -> ph. *ch/j care*: ``j`` only ever becomes ``ch``, never the reverse,
   and ``ch`` is then protected as one unit so later rules (final-h dropping, doubled letters)
   cannot break it apart. ``ng`` and ``nh``/``ny`` (ញ) are protected the same way.
3. Aspiration is not spelled consistently (Sophea/Sopea, Thida/Tida, Khim/Kim):
   ``ph`` -> p, ``th`` -> t, ``kh`` -> k, ``sh`` -> s, ``gh`` -> k; an ``h`` left after a
   consonant is dropped.
4. Vowel groups: ``oeu``/``aeu``/``eu``/``oe``/``ue`` -> eu (ើ ឿ ឺ); ``uo`` kept (ួ Suon);
   ``ou``/``oo``/``u`` -> u (Touch/Tuch); ``au``/``ao`` -> ao (Mau/Mao); ``ea``/``ia``/``ie``
   -> ea (Leang/Liang/Lieng); ``ee`` -> i.
5. i-endings: ``ey``/``ei``, and ``y`` after a consonant, become ``i`` when not followed by a
   vowel (Srey/Srei, Chanthy/Chanthi, Pisey/Pisei, Ly/Li); ``ay`` -> ai, ``oy`` -> oi.
6. A word-final ``ea`` becomes ``a``: the o-series long a (ភា) is written both ways at the end
   of names (Sophea/Sopha, Chariyea/Chariya).
7. ``r`` and ``h`` after a vowel and not before one are dropped: they only mark a long or
   breathy vowel (Sokhar, Dar, Thoeurn, Suorn, Sokhah).
8. ``d`` after the first letter becomes ``t``: ត between vowels is voiced in speech and
   spelled d (Thida/Thita, Chenda); initial d (ដ Dara) stays distinct from t (ត Tara).
   A final ``b`` becomes ``p`` (final ប is pronounced p).
9. Doubled letters collapse (Vanna/Vana, Rattana/Ratana, Sokkha/Sokha).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import fold_latin

# Placeholders: upper-case letters never survive step 1, so they cannot collide with input.
_UNITS = {"C": "ch", "N": "ng", "Y": "nh", "E": "eu", "W": "uo", "A": "ea"}
_V = "aeiouEWA"  # vowels, including vowel placeholders
_NOT_VOWEL = f"(?![{_V}])"

_CONSONANT_RULES: tuple[tuple[str, str], ...] = (
    ("tch", "ch"),
    ("zh", "ch"),
    ("ch+h*", "C"),
    ("ck", "k"),
    ("j", "C"),
    ("c", "C"),  # every c left is not followed by h
    ("q", "k"),
    ("x", "s"),
    ("z", "s"),
    ("w", "v"),
    ("f", "p"),
    ("ng", "N"),
    ("nh", "Y"),
    (f"ny(?=[{_V}y])", "Y"),
    ("ph", "p"),
    ("th", "t"),
    ("kh", "k"),
    ("gh", "k"),
    ("sh", "s"),
    ("g", "k"),
    ("(?<=[bdklmnprstvCNY])h", ""),
)

_VOWEL_RULES: tuple[tuple[str, str], ...] = (
    ("oeu|aeu|eu|oe|ue", "E"),
    ("uo", "W"),
    ("ou|oo|u", "u"),
    ("au|ao", "ao"),
    ("iea|ea|ia|ie", "A"),
    ("ee", "i"),
    (f"(ey|ei){_NOT_VOWEL}", "i"),
    (f"ay{_NOT_VOWEL}", "ai"),
    (f"oy{_NOT_VOWEL}", "oi"),
    (f"(?<=[^{_V}y])y{_NOT_VOWEL}", "i"),
    ("A$", "a"),
)

_LATE_RULES: tuple[tuple[str, str], ...] = (
    (f"(?<=[{_V}])[rh]{_NOT_VOWEL}", ""),
    ("(?<=.)d", "t"),
    ("b$", "p"),
    (r"(.)\1+", r"\1"),
)

_COMPILED = tuple(
    (re.compile(pattern), repl) for pattern, repl in _CONSONANT_RULES + _VOWEL_RULES + _LATE_RULES
)
_MAX_PASSES = 8


def _one_pass(key: str) -> str:
    for pattern, repl in _COMPILED:
        key = pattern.sub(repl, key)
    for placeholder, unit in _UNITS.items():
        key = key.replace(placeholder, unit)
    return key


@lru_cache(maxsize=262144)
def khmer_latin_key(name: str) -> str:
    """Phonetic key of one name part written in Latin letters (see the module rules).

    Keys are lower-case ASCII, idempotent (``key(key(x)) == key(x)``) and never raise.

    >>> khmer_latin_key("Sokhar"), khmer_latin_key("Sok Kha"), khmer_latin_key("SOKHA")
    ('soka', 'soka', 'soka')
    >>> khmer_latin_key("Chanthy") == khmer_latin_key("Chantey") == khmer_latin_key("chanthi")
    True
    """
    key = fold_latin(name)
    for _ in range(_MAX_PASSES):
        nxt = _one_pass(key)
        if nxt == key:
            break
        key = nxt
    return key


# --- The sound skeleton: what survives a Chinese transcription -----------------------------

_SKELETON_UNITS = (("ch", "c"), ("ng", "n"), ("nh", "n"))
_SKELETON_LETTERS = str.maketrans({"r": "l", "d": "t", "b": "p", "v": "p", "y": None})
_SKELETON_VOWELS = re.compile(r"[aeiou]+")
_SKELETON_FINAL = re.compile(r"(?<=[aeiou])[ktpcsl]$")
_SKELETON_FINAL_M = re.compile(r"(?<=[aeiou])m$")
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=262144)
def sound_skeleton(key: str) -> str:
    """The consonants of a phonetic key that survive transcription into Chinese characters.

    Mandarin has no final stops and no r, and Chinese transcriptions of foreign names
    write a lone consonant as a syllable of its own (恩 en for a final n, 斯 si for the s of
    "Srey"), which adds vowels and drops finals. So vowels are dropped, r = l, voicing is
    folded (d = t, b = p = v), ch/ng/nh become one letter, final stops (and a final s or l)
    are dropped and a final m is n (桑 sang for Sam), and repeats collapse: Sovann and
    索万恩 ("sovanen") both give "spn", Srey Leak and 斯雷丽 both give "sl".

    The skeleton is a coarse *sounds-alike* key: equal skeletons are weak evidence, used
    with the other parts of the name, the birth range and sex, never alone.

    >>> sound_skeleton("sovan"), sound_skeleton("sovanen")
    ('spn', 'spn')
    >>> sound_skeleton("sreileak") == sound_skeleton("slili")
    True
    """
    text = key
    for unit, letter in _SKELETON_UNITS:
        text = text.replace(unit, letter)
    text = text.translate(_SKELETON_LETTERS)
    text = _SKELETON_FINAL_M.sub("n", _SKELETON_FINAL.sub("", text))
    text = _SKELETON_VOWELS.sub("", text)
    return _REPEATS.sub(r"\1", text)
