"""Property tests: arbitrary JSON survives the envelope; the JSON helpers are sound."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.exchange.core import DuplicateKey, canonical_json, digest, open_envelope, seal
from ctip.exchange.core.encoding import b64url_decode, b64url_encode, strict_json_loads
from ctip.exchange.core.errors import MalformedToken

from .forge import T

# No example database: keep test runs from writing files into the checkout.
PROPERTY = settings(max_examples=60, deadline=None, database=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)
json_bodies = st.dictionaries(st.text(), json_values, max_size=8)


@PROPERTY
@given(body=json_bodies, seq=st.integers(min_value=0, max_value=2**63 - 1))
def test_arbitrary_json_body_round_trips(kh, cn, body, seq):
    token = seal(
        msg_type="prop", body=body, seq=seq, sender_keys=kh, receiver_public_keys=cn.public(), now=T
    )
    message = open_envelope(
        token, receiver_keys=cn, sender_anchor=kh.public(), expected_to="CN", now=T
    )
    assert message.body == body
    assert message.seq == seq
    assert message.digest == digest(token)


@PROPERTY
@given(value=json_values)
def test_canonical_json_is_deterministic_and_parses_back(value):
    encoded = canonical_json(value)
    assert strict_json_loads(encoded) == value
    assert canonical_json(json.loads(encoded)) == encoded


@PROPERTY
@given(data=st.binary(max_size=256))
def test_b64url_round_trips_without_padding(data):
    encoded = b64url_encode(data)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert b64url_decode(encoded) == data


def test_canonical_json_sorts_keys_and_drops_spaces():
    assert canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'.encode()


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_digest_is_sha256_hex_of_the_wire_bytes():
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert digest(b"abc") == digest("abc")


@pytest.mark.parametrize("text", [b'{"a":1,"a":2}', b'{"x":{"k":1,"k":1}}', b'[{"a":0,"a":0}]'])
def test_strict_loads_refuses_duplicates_at_any_depth(text):
    with pytest.raises(DuplicateKey):
        strict_json_loads(text)


@pytest.mark.parametrize("text", [b"NaN", b'{"a":Infinity}', b"\xff", b"{", b"[1,]"])
def test_strict_loads_refuses_non_json(text):
    with pytest.raises(MalformedToken):
        strict_json_loads(text)
