"""One flipped bit anywhere must be caught by AES-GCM or by Ed25519."""

from __future__ import annotations

import pytest

from ctip.exchange.core import BadSignature, DecryptionFailed

from .forge import decrypt_inner, encrypt_to, flip_byte, rejected

CIPHERTEXT, TAG = 3, 4


@pytest.mark.parametrize(
    ("segment", "position"),
    [
        pytest.param(CIPHERTEXT, 0, id="ciphertext-first-byte"),
        pytest.param(CIPHERTEXT, -1, id="ciphertext-last-byte"),
        pytest.param(TAG, 0, id="tag-first-byte"),
        pytest.param(TAG, -1, id="tag-last-byte"),
        pytest.param(2, 0, id="iv"),
        pytest.param(1, 0, id="wrapped-cek"),
    ],
)
def test_flipped_byte_in_jwe_fails_decryption(sealed, open_at_cn, segment, position):
    tampered = flip_byte(sealed, segment, position)
    assert tampered != sealed
    with rejected(DecryptionFailed, "decrypt_failed"):
        open_at_cn(tampered)


def test_flipped_byte_in_inner_signature_is_caught_after_reencryption(cn, sealed, open_at_cn):
    """Someone who can re-encrypt (anyone with CN's public key) still cannot alter the JWS."""
    inner = decrypt_inner(sealed, cn)
    token = encrypt_to(flip_byte(inner, 2, 10), cn.public())
    with rejected(BadSignature, "bad_signature"):
        open_at_cn(token)


def test_flipped_byte_in_inner_payload_is_caught_after_reencryption(cn, sealed, open_at_cn):
    inner = decrypt_inner(sealed, cn)
    token = encrypt_to(flip_byte(inner, 1, 5), cn.public())
    with rejected(BadSignature, "bad_signature"):
        open_at_cn(token)


def test_untampered_reencryption_still_opens(cn, sealed, open_at_cn):
    """Control for the two tests above: re-encryption alone is not what fails."""
    token = encrypt_to(decrypt_inner(sealed, cn), cn.public())
    assert open_at_cn(token).payload["to"] == "CN"
