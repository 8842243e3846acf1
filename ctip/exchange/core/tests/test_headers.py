"""Hostile headers in either layer, each crafted by hand with base64url JSON."""

from __future__ import annotations

import json

import pytest

from ctip.exchange.core import (
    DisallowedAlgorithm,
    DuplicateKey,
    HeaderKeyForbidden,
    MalformedToken,
    UnsupportedHeader,
    WrongType,
    ZipForbidden,
)
from ctip.exchange.core.encoding import b64url_encode, canonical_json
from ctip.exchange.core.jose import MESSAGE_TYP, RECEIPT_TYP

from .forge import (
    T,
    decoded_header,
    encrypt_to,
    encrypt_with_header,
    fake_jwe,
    header_segment,
    inner_jws,
    message_payload,
    rejected,
    replace_header,
    sign_raw,
)

ATTACK_ALGS = ["none", "HS256", "EdDSA", "RSA1_5", "ES256", "Ed448", "ED25519"]


KEY_HEADER_NAMES = ["jwk", "jku", "x5u", "x5c"]


def _key_header_value(name: str, vn) -> object:
    """A plausible value for each key-bearing header, pointing at attacker VN's key."""
    return {
        "jwk": vn.current("sig", T).public().to_jwk(),
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
        "x5c": ["MIIBfakecertificate"],
    }[name]


# --- algorithms --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ATTACK_ALGS)
def test_inner_jws_with_disallowed_alg_is_refused(kh, cn, open_at_cn, alg):
    """Includes HS256 keyed with KH's public key and a *valid* Ed25519 sig labelled EdDSA."""
    inner = inner_jws(message_payload("KH", "CN", T), kh.current("sig", T), alg=alg)
    assert decoded_header(inner)["alg"] == alg
    with rejected(DisallowedAlgorithm, "alg_not_allowed"):
        open_at_cn(encrypt_to(inner, cn.public()))


@pytest.mark.parametrize("alg", [*ATTACK_ALGS, "dir", "ECDH-ES", "A256KW", "ECDH-ES+A128KW"])
def test_outer_jwe_with_disallowed_alg_is_refused(cn, open_at_cn, alg):
    header = {"alg": alg, "enc": "A256GCM", "kid": cn.current("enc", T).kid, "cty": MESSAGE_TYP}
    with rejected(DisallowedAlgorithm, "alg_not_allowed"):
        open_at_cn(fake_jwe(header))


@pytest.mark.parametrize("enc", ["A128GCM", "A128CBC-HS256", "A256CBC-HS512", "none"])
def test_outer_jwe_with_disallowed_enc_is_refused(cn, sealed, open_at_cn, enc):
    header = {**decoded_header(sealed), "enc": enc}
    with rejected(DisallowedAlgorithm, "alg_not_allowed"):
        open_at_cn(replace_header(sealed, header))


def test_outer_epk_on_wrong_curve_is_refused(sealed, open_at_cn):
    header = decoded_header(sealed)
    header["epk"] = {**header["epk"], "crv": "X448"}
    with rejected(DisallowedAlgorithm, "alg_not_allowed"):
        open_at_cn(replace_header(sealed, header))


# --- keys supplied by the token ----------------------------------------------------------


@pytest.mark.parametrize("name", KEY_HEADER_NAMES)
def test_inner_header_supplied_key_is_refused(vn, cn, open_at_cn, name):
    """VN signs as "KH" with its own key and offers that key (or a URL to it) in the header."""
    value = _key_header_value(name, vn)
    inner = inner_jws(message_payload("KH", "CN", T), vn.current("sig", T), **{name: value})
    with rejected(HeaderKeyForbidden, "header_key_forbidden"):
        open_at_cn(encrypt_to(inner, cn.public()))


@pytest.mark.parametrize("name", KEY_HEADER_NAMES)
def test_outer_header_supplied_key_is_refused(vn, cn, sealed, open_at_cn, name):
    inner = inner_jws(message_payload("KH", "CN", T), vn.current("sig", T))
    token = encrypt_with_header(inner, cn.public(), {name: _key_header_value(name, vn)})
    assert name in decoded_header(token)
    with rejected(HeaderKeyForbidden, "header_key_forbidden"):
        open_at_cn(token)


# --- compression -------------------------------------------------------------------------


def test_outer_zip_def_is_refused(kh, cn, open_at_cn):
    """A genuinely DEFLATE-compressed, correctly encrypted envelope is still refused."""
    inner = inner_jws(message_payload("KH", "CN", T), kh.current("sig", T))
    token = encrypt_with_header(inner, cn.public(), {"zip": "DEF"})
    assert decoded_header(token)["zip"] == "DEF"
    with rejected(ZipForbidden, "zip_forbidden"):
        open_at_cn(token)


def test_inner_zip_is_refused(kh, cn, open_at_cn):
    inner = inner_jws(message_payload("KH", "CN", T), kh.current("sig", T), zip="DEF")
    with rejected(ZipForbidden, "zip_forbidden"):
        open_at_cn(encrypt_to(inner, cn.public()))


# --- other header members ----------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"crit": ["exp"], "exp": T}, id="crit"),
        pytest.param({"b64": False, "crit": ["b64"]}, id="b64-false"),
        pytest.param({"x5t#S256": "abc"}, id="x5t"),
        pytest.param({"cty": "JWT"}, id="cty"),
    ],
)
def test_inner_unsupported_header_member_is_refused(kh, cn, open_at_cn, extra):
    inner = inner_jws(message_payload("KH", "CN", T), kh.current("sig", T), **extra)
    with rejected(UnsupportedHeader, "unsupported_header"):
        open_at_cn(encrypt_to(inner, cn.public()))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"apu": b64url_encode(b"KH")}, id="apu"),
        pytest.param({"crit": ["x"], "x": 1}, id="crit"),
        pytest.param({"typ": "JWE"}, id="typ"),
    ],
)
def test_outer_unsupported_header_member_is_refused(sealed, open_at_cn, extra):
    header = {**decoded_header(sealed), **extra}
    with rejected(UnsupportedHeader, "unsupported_header"):
        open_at_cn(replace_header(sealed, header))


@pytest.mark.parametrize("typ", [RECEIPT_TYP, "JWT", None])
def test_inner_wrong_typ_is_refused(kh, cn, open_at_cn, typ):
    """A receipt (or an untyped JWS) signed by KH must not pass as a KH message."""
    inner = inner_jws(message_payload("KH", "CN", T), kh.current("sig", T), typ=typ)
    with rejected(WrongType, "wrong_typ"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_outer_wrong_cty_is_refused(sealed, open_at_cn):
    header = {**decoded_header(sealed), "cty": RECEIPT_TYP}
    with rejected(WrongType, "wrong_typ"):
        open_at_cn(replace_header(sealed, header))


# --- duplicate JSON members --------------------------------------------------------------


def test_duplicate_alg_in_inner_header_is_refused(kh, cn, open_at_cn):
    """First-wins parsers would see "none"; last-wins would see Ed25519. We see neither."""
    signer = kh.current("sig", T)
    header = f'{{"alg":"none","kid":"{signer.kid}","typ":"{MESSAGE_TYP}","alg":"Ed25519"}}'
    inner = sign_raw(header, canonical_json(message_payload("KH", "CN", T)), signer)
    with rejected(DuplicateKey, "duplicate_key"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_duplicate_alg_in_outer_header_is_refused(sealed, open_at_cn):
    original = json.dumps(decoded_header(sealed), separators=(",", ":"))
    duplicated = '{"alg":"RSA1_5",' + original[1:]
    with rejected(DuplicateKey, "duplicate_key"):
        open_at_cn(replace_header(sealed, duplicated))


def test_duplicate_to_in_signed_payload_is_refused(kh, cn, open_at_cn):
    """Validly signed by KH, but one parser would route it to VN and another to CN."""
    payload = message_payload("KH", "CN", T)
    del payload["to"]
    text = canonical_json(payload).decode("utf-8")
    raw = ('{"to":"VN",' + text[1:-1] + ',"to":"CN"}').encode("utf-8")
    inner = inner_jws(raw, kh.current("sig", T))
    with rejected(DuplicateKey, "duplicate_key"):
        open_at_cn(encrypt_to(inner, cn.public()))


# --- structure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t.rsplit(".", 1)[0], id="four-segments"),
        pytest.param(lambda t: t + ".extra", id="six-segments"),
        pytest.param(lambda t: "!" + t, id="bad-base64"),
        pytest.param(lambda t: t.replace("-", "+").replace("_", "/"), id="std-base64-alphabet"),
        pytest.param(lambda t: "é" + t, id="non-ascii"),
        pytest.param(lambda t: header_segment("[1,2]") + t[t.index(".") :], id="header-not-object"),
        pytest.param(lambda t: header_segment("{") + t[t.index(".") :], id="header-not-json"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_structurally_broken_tokens_are_malformed(sealed, open_at_cn, mangle):
    mangled = mangle(sealed)
    if mangled == sealed:
        pytest.skip("token happened to contain no characters to mangle")
    with rejected(MalformedToken, "malformed"):
        open_at_cn(mangled)


@pytest.mark.parametrize(
    "epk",
    [
        pytest.param(None, id="missing"),
        pytest.param("not-a-jwk", id="string"),
        pytest.param({"kty": "OKP", "crv": "X25519", "x": "AA", "d": "AA"}, id="private-part"),
    ],
)
def test_outer_epk_must_be_a_bare_public_key(sealed, open_at_cn, epk):
    header = decoded_header(sealed)
    header = {k: v for k, v in header.items() if k != "epk"}
    if epk is not None:
        header["epk"] = epk
    with rejected(MalformedToken, "malformed"):
        open_at_cn(replace_header(sealed, header))


def test_inner_jws_with_detached_payload_is_malformed(kh, cn, open_at_cn):
    signer = kh.current("sig", T)
    inner = inner_jws(message_payload("KH", "CN", T), signer)
    header, _, signature = inner.split(".")
    with rejected(MalformedToken, "malformed"):
        open_at_cn(encrypt_to(f"{header}..{signature}", cn.public()))
