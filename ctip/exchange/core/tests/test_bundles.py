"""Bundle files: every way a file can be damaged is refused as a whole, with its reason."""

from __future__ import annotations

import json

import pytest

from ctip.exchange.core import (
    BadSignature,
    BundleItemAltered,
    BundleItemExtra,
    BundleItemMissing,
    BundleMalformed,
    BundleTruncated,
    DuplicateKey,
    InvalidPayload,
    OwnKeySigner,
    TokenTooLarge,
    UnknownSigner,
    WrongRecipient,
    WrongSender,
    digest,
    jose,
    make_bundle,
    open_bundle,
    seal,
)
from ctip.exchange.core.encoding import canonical_json

from .forge import T, decoded_header, rejected, sign_raw


@pytest.fixture(scope="module")
def tokens(kh, cn) -> list[str]:
    return [
        seal(
            msg_type="t",
            body={"n": n},
            seq=n,
            sender_keys=kh,
            receiver_public_keys=cn.public(),
            now=T,
        )
        for n in range(1, 4)
    ]


@pytest.fixture(scope="module")
def bundle(kh, tokens) -> bytes:
    return make_bundle(kind="envelopes", items=tokens, signer_keys=kh, recipient="CN", now=T)


def open_at_cn(data: bytes, kh, cn, **kwargs):
    kwargs.setdefault("anchors", [kh.public()])
    return open_bundle(data, expected_to="CN", own_keys=cn, **kwargs)


def edited(bundle: bytes, change) -> bytes:
    document = json.loads(bundle)
    change(document)
    return json.dumps(document).encode()


def test_round_trip(kh, cn, bundle, tokens):
    opened = open_at_cn(bundle, kh, cn)
    assert opened.items == tuple(tokens)
    assert (opened.kind, opened.sender, opened.iat) == ("envelopes", "KH", T)
    assert opened.signer_kid == kh.current("sig", T).kid
    assert decoded_header(json.loads(bundle)["manifest"])["typ"] == jose.BUNDLE_TYP


def test_empty_bundle_is_fine(kh, cn):
    data = make_bundle(kind="receipts", items=[], signer_keys=kh, recipient="CN", now=T)
    assert open_at_cn(data, kh, cn).items == ()


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused(kh, cn, bundle, fraction):
    cut = bundle[: int(len(bundle) * fraction)]
    with rejected(BundleTruncated, "bundle_truncated"):
        open_at_cn(cut, kh, cn)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe",
        b"[1, 2] trailing",
        b'{"format": "ctip-bundle/1"}',
        b"[]",
        b'{"format": "zip", "manifest": "", "items": []}',
        b'{"format": "ctip-bundle/1", "manifest": 1, "items": []}',
        b'{"format": "ctip-bundle/1", "manifest": "a.b.c", "items": [1]}',
    ],
)
def test_malformed_file_is_refused(kh, cn, data):
    with rejected(BundleMalformed, "bundle_malformed"):
        open_at_cn(data, kh, cn)


def test_duplicate_members_are_refused(kh, cn):
    data = b'{"format": "ctip-bundle/1", "format": "ctip-bundle/1", "manifest": "", "items": []}'
    with rejected(DuplicateKey, "duplicate_key"):
        open_at_cn(data, kh, cn)


def test_item_changed(kh, cn, bundle, tokens):
    def change(doc):
        doc["items"][1] = tokens[0]

    with rejected(BundleItemAltered, "bundle_item_altered") as info:
        open_at_cn(edited(bundle, change), kh, cn)
    assert "item 2" in str(info.value)


def test_items_reordered(kh, cn, bundle):
    with rejected(BundleItemAltered, "bundle_item_altered"):
        open_at_cn(edited(bundle, lambda doc: doc["items"].reverse()), kh, cn)


def test_item_removed(kh, cn, bundle):
    with rejected(BundleItemMissing, "bundle_item_missing"):
        open_at_cn(edited(bundle, lambda doc: doc["items"].pop(1)), kh, cn)


def test_item_added(kh, cn, bundle, tokens):
    with rejected(BundleItemExtra, "bundle_item_extra"):
        open_at_cn(edited(bundle, lambda doc: doc["items"].append(tokens[0])), kh, cn)


def test_manifest_dropped_or_forged(kh, cn, vn, bundle, tokens):
    def drop(doc):
        del doc["manifest"]

    with rejected(BundleMalformed, "bundle_malformed"):
        open_at_cn(edited(bundle, drop), kh, cn)

    def flip(doc):
        head, body, sig = doc["manifest"].split(".")
        doc["manifest"] = f"{head}.{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"

    with rejected(BadSignature, "bad_signature"):
        open_at_cn(edited(bundle, flip), kh, cn)
    # A manifest rewritten to cover an extra item must be re-signed: a stranger cannot.
    forged = make_bundle(
        kind="envelopes", items=[*tokens, tokens[0]], signer_keys=vn, recipient="CN", now=T
    )
    with rejected(UnknownSigner, "unknown_signer"):
        open_at_cn(forged, kh, cn)


def test_bundle_for_another_node(kh, cn, tokens):
    data = make_bundle(kind="envelopes", items=tokens, signer_keys=kh, recipient="VN", now=T)
    with rejected(WrongRecipient, "wrong_recipient"):
        open_at_cn(data, kh, cn)


def test_own_bundle_reflected(kh, cn, tokens):
    data = make_bundle(kind="envelopes", items=tokens, signer_keys=cn, recipient="CN", now=T)
    with rejected(OwnKeySigner, "own_key_signer"):
        open_at_cn(data, kh, cn, anchors=[kh.public(), cn.public()])


def test_manifest_from_names_the_signer(kh, cn):
    manifest = {
        "bundle_id": "b",
        "kind": "envelopes",
        "from": "VN",
        "to": "CN",
        "iat": T,
        "count": 0,
        "digests": [],
    }
    signed = sign_raw(
        {"alg": "Ed25519", "kid": kh.current("sig", T).kid, "typ": jose.BUNDLE_TYP},
        canonical_json(manifest),
        kh.current("sig", T),
    )
    data = json.dumps({"format": "ctip-bundle/1", "manifest": signed, "items": []}).encode()
    with rejected(WrongSender, "wrong_sender"):
        open_at_cn(data, kh, cn)


def test_manifest_digest_list_must_match_count(kh, cn):
    manifest = {
        "bundle_id": "b",
        "kind": "envelopes",
        "from": "KH",
        "to": "CN",
        "iat": T,
        "count": 2,
        "digests": [digest("x")],
    }
    signed = sign_raw(
        {"alg": "Ed25519", "kid": kh.current("sig", T).kid, "typ": jose.BUNDLE_TYP},
        canonical_json(manifest),
        kh.current("sig", T),
    )
    data = json.dumps({"format": "ctip-bundle/1", "manifest": signed, "items": []}).encode()
    with rejected(InvalidPayload, "invalid_payload"):
        open_at_cn(data, kh, cn)


def test_message_token_is_not_a_manifest(kh, cn, tokens):
    """A signed message cannot stand in for a manifest: the typ differs."""
    from ctip.exchange.core import WrongType

    inner = sign_raw(
        {"alg": "Ed25519", "kid": kh.current("sig", T).kid, "typ": jose.MESSAGE_TYP},
        b"{}",
        kh.current("sig", T),
    )
    data = json.dumps({"format": "ctip-bundle/1", "manifest": inner, "items": []}).encode()
    with rejected(WrongType, "wrong_typ"):
        open_at_cn(data, kh, cn)


def test_oversize_file_is_refused_before_parsing(kh, cn, bundle):
    with rejected(TokenTooLarge, "too_large"):
        open_at_cn(bundle, kh, cn, max_bytes=len(bundle) - 1)
