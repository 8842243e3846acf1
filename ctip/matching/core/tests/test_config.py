from __future__ import annotations

import dataclasses
import math

import pytest

from ctip.matching.core import MatchConfig


def test_defaults_are_valid_and_frozen():
    config = MatchConfig()
    assert config.possible_threshold <= config.match_threshold
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.match_threshold = 0.5  # type: ignore[misc]


def test_as_dict_lists_every_setting():
    assert set(MatchConfig().as_dict()) == {f.name for f in dataclasses.fields(MatchConfig)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("match_threshold", 1.5),
        ("possible_threshold", -0.1),
        ("name_match_min", math.nan),
        ("token_floor", "0.8"),
        ("token_near", True),
        ("vowel_variant_credit", 2),
        ("weight_birth", -1),
        ("missing_part_weight", -0.5),
        ("birth_max_gap_years", math.inf),
        ("max_merge_tokens", -1),
        ("max_merge_tokens", 2.5),
        ("max_name_tokens", 0),
        ("max_spellings", True),
        ("sex_mismatch_is_veto", 1),
    ],
)
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        MatchConfig(**{field: value})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"possible_threshold": 0.9, "match_threshold": 0.8}, "possible_threshold"),
        ({"name_possible_min": 0.95, "name_match_min": 0.9}, "name_possible_min"),
        ({"token_floor": 0.9, "token_near": 0.85}, "token_floor"),
        ({"weight_name": 0.0}, "weight_name"),
    ],
)
def test_inconsistent_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MatchConfig(**kwargs)
