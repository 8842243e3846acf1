"""Cryptographic envelope core of the exchange app (pure Python, no Django).

Messages are Ed25519-signed JWS nested in ECDH-ES+A256KW/A256GCM JWE over
X25519. Verification keys come only from a pinned :class:`PeerAnchor`.
Every refusal raises a subclass of :class:`EnvelopeError` with a stable
``code`` suitable for signed negative receipts and security logs.

Kept free of Django so it can be tested, audited and reused (for example by
an offline archive verifier) on its own.
"""

from .encoding import canonical_json, digest
from .envelope import (
    DEFAULT_MAX_SKEW,
    DEFAULT_TTL,
    VerifiedMessage,
    VerifiedSignature,
    open_envelope,
    seal,
    verify_signature_at,
)
from .errors import (
    ERROR_CODES,
    BadSignature,
    DecryptionFailed,
    DigestMismatch,
    DisallowedAlgorithm,
    DuplicateKey,
    EnvelopeError,
    Expired,
    HeaderKeyForbidden,
    InvalidPayload,
    KeyNotValid,
    KeyRevoked,
    KeySelectionError,
    MalformedToken,
    NotYetValid,
    OwnKeySigner,
    TokenTooLarge,
    UnknownRecipientKey,
    UnknownSigner,
    UnsupportedHeader,
    WrongRecipient,
    WrongSender,
    WrongType,
    ZipForbidden,
)
from .jose import MAX_TOKEN_BYTES
from .keys import (
    KeyEntry,
    NodeKeys,
    PeerAnchor,
    anchor_from_jwks,
    dump_private_keys,
    fingerprint,
    generate_key,
    generate_node_keys,
    load_private_keys,
    public_jwks,
)
from .receipts import VerifiedReceipt, make_receipt, verify_receipt

__all__ = [
    # helpers
    "canonical_json",
    "digest",
    "MAX_TOKEN_BYTES",
    "DEFAULT_TTL",
    "DEFAULT_MAX_SKEW",
    # keys
    "KeyEntry",
    "NodeKeys",
    "PeerAnchor",
    "generate_key",
    "generate_node_keys",
    "public_jwks",
    "anchor_from_jwks",
    "fingerprint",
    "dump_private_keys",
    "load_private_keys",
    # envelopes
    "seal",
    "open_envelope",
    "VerifiedMessage",
    "verify_signature_at",
    "VerifiedSignature",
    # receipts
    "make_receipt",
    "verify_receipt",
    "VerifiedReceipt",
    # errors
    "ERROR_CODES",
    "EnvelopeError",
    "KeySelectionError",
    "TokenTooLarge",
    "MalformedToken",
    "DuplicateKey",
    "ZipForbidden",
    "HeaderKeyForbidden",
    "UnsupportedHeader",
    "DisallowedAlgorithm",
    "WrongType",
    "UnknownRecipientKey",
    "DecryptionFailed",
    "BadSignature",
    "UnknownSigner",
    "OwnKeySigner",
    "KeyNotValid",
    "KeyRevoked",
    "WrongRecipient",
    "WrongSender",
    "Expired",
    "NotYetValid",
    "InvalidPayload",
    "DigestMismatch",
]
