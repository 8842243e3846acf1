"""Property tests: normalisation is idempotent and nothing raises on arbitrary Unicode."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.matching.core import (
    chinese_transcription_key,
    compare_names,
    hanzi_to_pinyin,
    khmer_latin_key,
    parse_name,
    romanize_khmer,
)
from ctip.matching.core.text import clean_text

khmer_text = st.text(st.characters(min_codepoint=0x1780, max_codepoint=0x17FF), max_size=20)
han_text = st.text(
    st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), st.sampled_from("·・• ")),
    max_size=8,
)
latin_name = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCHKOS -'"), max_size=20)
any_text = st.one_of(st.text(max_size=30), khmer_text, han_text, latin_name)

FAST = settings(max_examples=300, deadline=None)


@FAST
@given(any_text)
def test_latin_key_is_idempotent_lowercase_ascii(text):
    key = khmer_latin_key(text)
    assert khmer_latin_key(key) == key
    assert key == key.lower() and key.isascii()
    assert key == "" or key.isalpha()


@FAST
@given(any_text)
def test_clean_text_is_idempotent(text):
    assert clean_text(clean_text(text)) == clean_text(text)


@FAST
@given(khmer_text)
def test_romanised_khmer_is_latin(text):
    out = romanize_khmer(text)
    assert out.isascii()
    assert khmer_latin_key(out) == khmer_latin_key(khmer_latin_key(out))


@FAST
@given(any_text)
def test_nothing_raises(text):
    romanize_khmer(text)
    hanzi_to_pinyin(text)
    key = chinese_transcription_key(text)
    assert all(khmer_latin_key(part) == part for part in key.split())
    parsed = parse_name(text)
    assert all(t.keys for t in parsed.tokens)


@FAST
@given(any_text, any_text)
def test_name_scores_are_bounded(a, b):
    assert 0.0 <= compare_names(a, b).score <= 1.0


@FAST
@given(st.one_of(khmer_text, han_text, latin_name))
def test_a_name_matches_itself(text):
    parsed = parse_name(text)
    if parsed.tokens:
        assert compare_names(parsed, parsed).score == 1.0
