"""Rejection reasons for envelopes and receipts.

Every way an incoming token can be refused has its own exception class with a
stable ``code``. The codes are part of the wire contract: they travel back to
the sender inside signed negative receipts and are written to security logs,
so they must never be renamed. Messages (``str(exc)``) are for humans and may
change freely; nothing should branch on them.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ERROR_CODES",
    "BadSignature",
    "DecryptionFailed",
    "DigestMismatch",
    "DisallowedAlgorithm",
    "DuplicateKey",
    "EnvelopeError",
    "Expired",
    "HeaderKeyForbidden",
    "InvalidPayload",
    "BadReply",
    "BundleError",
    "BundleItemAltered",
    "BundleItemExtra",
    "BundleItemMissing",
    "BundleMalformed",
    "BundleTruncated",
    "HandlerRefused",
    "KeyNotValid",
    "KeyRevoked",
    "LifetimeTooLong",
    "SchemaInvalid",
    "TooOld",
    "UnknownMessageType",
    "UnknownSchemaVersion",
    "KeySelectionError",
    "MalformedToken",
    "NotYetValid",
    "OwnKeySigner",
    "TokenTooLarge",
    "UnknownRecipientKey",
    "UnknownSigner",
    "UnsupportedHeader",
    "WrongRecipient",
    "WrongSender",
    "WrongType",
    "ZipForbidden",
]


class EnvelopeError(Exception):
    """Base class: an incoming token was refused. ``code`` is the stable reason."""

    code: ClassVar[str] = "envelope_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class TokenTooLarge(EnvelopeError):
    """Token exceeds the size cap; refused before any parsing to bound work."""

    code = "too_large"


class MalformedToken(EnvelopeError):
    """Not a well-formed compact JWS/JWE (wrong segment count, bad base64, not JSON)."""

    code = "malformed"


class DuplicateKey(EnvelopeError):
    """A JSON object repeats a member name; parsers disagree on which wins, so refuse."""

    code = "duplicate_key"


class ZipForbidden(EnvelopeError):
    """``zip`` header present: compression before encryption leaks length information."""

    code = "zip_forbidden"


class HeaderKeyForbidden(EnvelopeError):
    """Header carries key material or a key URL (``jwk``/``jku``/``x5u``/``x5c``).

    Verification keys come only from the pinned peer anchor; a token that tries
    to tell us which key to trust is an attack, not a hint.
    """

    code = "header_key_forbidden"


class UnsupportedHeader(EnvelopeError):
    """Header has a parameter outside the per-layer allow-list (e.g. ``crit``, ``b64``)."""

    code = "unsupported_header"


class DisallowedAlgorithm(EnvelopeError):
    """``alg``/``enc`` is not the single algorithm allowed for that layer."""

    code = "alg_not_allowed"


class WrongType(EnvelopeError):
    """Explicit ``typ``/``cty`` does not match: stops a receipt being replayed as a message."""

    code = "wrong_typ"


class UnknownRecipientKey(EnvelopeError):
    """JWE names an encryption key we do not hold."""

    code = "unknown_recipient_key"


class DecryptionFailed(EnvelopeError):
    """AES-GCM authentication or key unwrap failed: ciphertext, tag or key was altered."""

    code = "decrypt_failed"


class BadSignature(EnvelopeError):
    """Ed25519 signature does not verify under the anchor key named by ``kid``."""

    code = "bad_signature"


class UnknownSigner(EnvelopeError):
    """Signing ``kid`` is not in the pinned anchor of the expected peer."""

    code = "unknown_signer"


class OwnKeySigner(EnvelopeError):
    """Signed with one of our own keys: a reflected message, never legitimate input."""

    code = "own_key_signer"


class KeyNotValid(EnvelopeError):
    """Signing key was outside its ``not_before``/``not_after`` window at the relevant time."""

    code = "key_not_valid"


class KeyRevoked(EnvelopeError):
    """Signing key had been revoked at the relevant time."""

    code = "key_revoked"


class WrongRecipient(EnvelopeError):
    """Signed ``to`` is not us: a message surreptitiously re-encrypted and forwarded."""

    code = "wrong_recipient"


class WrongSender(EnvelopeError):
    """Signed ``from`` does not name the peer whose anchor verified the signature."""

    code = "wrong_sender"


class Expired(EnvelopeError):
    """``exp`` has passed."""

    code = "expired"


class NotYetValid(EnvelopeError):
    """``iat`` is further in the future than the allowed clock skew."""

    code = "future_iat"


class LifetimeTooLong(EnvelopeError):
    """``exp - iat`` exceeds the receiver's maximum message lifetime.

    Key windows are judged at the signed ``iat``; without a cap on the lifetime a
    holder of an expired or revoked key could backdate ``iat`` into the key's
    window and choose a far ``exp``.
    """

    code = "lifetime_too_long"


class TooOld(EnvelopeError):
    """``iat`` is further in the past than the receiver's maximum message age."""

    code = "too_old"


class InvalidPayload(EnvelopeError):
    """Signed payload is missing a required field, has a wrong type, or an unknown field."""

    code = "invalid_payload"


class DigestMismatch(EnvelopeError):
    """Receipt acknowledges a different envelope than the one we asked about."""

    code = "digest_mismatch"


# --- Refusals decided by the node after the envelope itself checked out ---------------------
# They are raised by the exchange app (message registry, reply rules, handlers) but
# defined here so that every code that can travel in a signed receipt is in one table.


class UnknownMessageType(EnvelopeError):
    """No handler is registered for the message ``type``."""

    code = "unknown_type"


class UnknownSchemaVersion(EnvelopeError):
    """The ``type`` is known, but not in this ``schema`` version."""

    code = "unknown_schema_version"


class SchemaInvalid(EnvelopeError):
    """The body does not validate against the JSON Schema of its type and version."""

    code = "schema_invalid"


class BadReply(EnvelopeError):
    """``in_reply_to``/``request_hash`` do not name a request we sent to this peer."""

    code = "bad_reply"


class HandlerRefused(EnvelopeError):
    """The domain handler refused the message (a business rule, not a transport fault)."""

    code = "handler_refused"


# --- Bundle files (the air-gapped transport) -----------------------------------------------


class BundleError(EnvelopeError):
    """A bundle file as a whole was refused; nothing in it is processed."""

    code = "bundle_error"


class BundleTruncated(BundleError):
    """The file ends in the middle of its JSON: cut short in copying or transfer."""

    code = "bundle_truncated"


class BundleMalformed(BundleError):
    """Not a bundle: wrong format marker, missing members, wrong types."""

    code = "bundle_malformed"


class BundleItemMissing(BundleError):
    """The signed manifest lists more items than the file holds."""

    code = "bundle_item_missing"


class BundleItemExtra(BundleError):
    """The file holds items that the signed manifest does not list."""

    code = "bundle_item_extra"


class BundleItemAltered(BundleError):
    """An item's digest differs from the manifest (changed, swapped or reordered)."""

    code = "bundle_item_altered"


class KeySelectionError(ValueError):
    """Local configuration problem when *sending*: no usable key for the operation.

    Deliberately not an :class:`EnvelopeError`: it describes our own key store,
    not a peer's token, so it must never end up in a negative receipt.
    """


def _collect_codes() -> dict[str, type[EnvelopeError]]:
    """Map every code to its class, failing loudly if two classes share a code."""
    codes: dict[str, type[EnvelopeError]] = {}
    pending: list[type[EnvelopeError]] = [EnvelopeError]
    while pending:
        cls = pending.pop()
        if cls.code in codes:
            raise RuntimeError(f"duplicate envelope error code {cls.code!r}")
        codes[cls.code] = cls
        pending.extend(cls.__subclasses__())
    return codes


#: Every stable rejection code, mapped to its exception class.
ERROR_CODES: dict[str, type[EnvelopeError]] = _collect_codes()
