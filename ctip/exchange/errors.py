"""Local problems of the exchange (as opposed to refusals of a peer's token, which are the
``EnvelopeError`` classes of :mod:`ctip.exchange.core`). Messages are one line for people,
and never hold personal data."""

from __future__ import annotations


class ExchangeError(Exception):
    code = "exchange_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NoSuchPeer(ExchangeError):
    code = "no_peer"


class ConsentRefused(ExchangeError):
    """A message with personal data was refused at outbox insert: no consent covers it."""

    code = "consent_refused"


class PinRefused(ExchangeError):
    """A peer's keys were not pinned: wrong fingerprint, our own keys, or not a key set."""

    code = "pin_refused"


class BundleRefused(ExchangeError):
    """A bundle file was refused as a whole; ``code`` is the stable reason."""


class PingFailed(ExchangeError):
    """The link check did not get a valid, positive receipt; ``code`` says why."""


class KeysUnavailable(ExchangeError):
    code = "keys_unavailable"
