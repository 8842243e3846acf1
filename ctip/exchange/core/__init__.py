"""Cryptographic envelope core of the exchange app (pure Python, no Django).

Messages are Ed25519-signed JWS nested in ECDH-ES+A256KW/A256GCM JWE over
X25519. Verification keys come only from a pinned :class:`PeerAnchor`.
Every refusal raises a subclass of :class:`EnvelopeError` with a stable
``code`` suitable for signed negative receipts and security logs.

A :class:`ReceiverPolicy` caps message lifetime and age, so a token with a
backdated ``iat`` cannot outlive its signing key's expiry or revocation by more
than the policy allows. Bundle files (the air-gapped transport) carry a signed
manifest of their items (:func:`make_bundle`, :func:`open_bundle`).

Kept free of Django so it can be tested, audited and reused (for example by
an offline archive verifier) on its own.
"""

from .bundles import (
    BUNDLE_FORMAT,
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_ITEMS,
    VerifiedBundle,
    make_bundle,
    open_bundle,
)
from .encoding import canonical_json, digest
from .envelope import (
    DEFAULT_MAX_SKEW,
    DEFAULT_TTL,
    MAX_CASE_REF,
    ReceiverPolicy,
    SealedEnvelope,
    VerifiedMessage,
    VerifiedSignature,
    open_envelope,
    seal,
    seal_envelope,
    verify_signature_at,
)
from .errors import (
    ERROR_CODES,
    BadReply,
    BadSignature,
    BundleError,
    BundleItemAltered,
    BundleItemExtra,
    BundleItemMissing,
    BundleMalformed,
    BundleTruncated,
    DecryptionFailed,
    DigestMismatch,
    DisallowedAlgorithm,
    DuplicateKey,
    EnvelopeError,
    Expired,
    HandlerRefused,
    HeaderKeyForbidden,
    InvalidPayload,
    KeyNotValid,
    KeyRevoked,
    KeySelectionError,
    LifetimeTooLong,
    MalformedToken,
    NotYetValid,
    OwnKeySigner,
    SchemaInvalid,
    TokenTooLarge,
    TooOld,
    UnknownMessageType,
    UnknownRecipientKey,
    UnknownSchemaVersion,
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
    "MAX_CASE_REF",
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
    "seal_envelope",
    "SealedEnvelope",
    "open_envelope",
    "ReceiverPolicy",
    "VerifiedMessage",
    "verify_signature_at",
    "VerifiedSignature",
    # receipts
    "make_receipt",
    "verify_receipt",
    "VerifiedReceipt",
    # bundle files
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_ITEMS",
    "make_bundle",
    "open_bundle",
    "VerifiedBundle",
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
    "LifetimeTooLong",
    "TooOld",
    "UnknownMessageType",
    "UnknownSchemaVersion",
    "SchemaInvalid",
    "BadReply",
    "HandlerRefused",
    "BundleError",
    "BundleTruncated",
    "BundleMalformed",
    "BundleItemMissing",
    "BundleItemExtra",
    "BundleItemAltered",
]
