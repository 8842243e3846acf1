"""Exchange settings, with the defaults the protocol was designed around.

Each value may be overridden by a Django setting of the same name (``settings.py`` is the
one place that reads the environment). Times are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from ctip.exchange.core import DEFAULT_MAX_SKEW, ReceiverPolicy
from ctip.exchange.keystore import KEYS_FILE, KeyStoreError

HOUR = 3600
DAY = 86_400


def _setting(name: str, default):
    return getattr(settings, name, default)


@dataclass(frozen=True)
class ExchangeConf:
    #: Seconds to wait for the peer's answer to one HTTP delivery.
    http_timeout: float
    #: Exponential backoff: the n-th retry waits base * 2**(n-1), capped, times a jitter factor.
    retry_base: float
    retry_cap: float
    #: A message that waited longer than this raises the link-down alert.
    alert_after: int
    #: Lifetime of a token sealed for HTTP delivery, and age after which it is re-sealed.
    http_ttl: int
    reseal_after: int
    #: Lifetime of a token written into a bundle file (it may travel for days).
    bundle_ttl: int
    http_policy: ReceiverPolicy
    bundle_policy: ReceiverPolicy


def conf() -> ExchangeConf:
    http_ttl = int(_setting("CTIP_EXCHANGE_HTTP_TTL", DAY))
    http_max_age = int(_setting("CTIP_EXCHANGE_HTTP_MAX_AGE", 6 * HOUR))
    bundle_ttl = int(_setting("CTIP_EXCHANGE_BUNDLE_TTL", 14 * DAY))
    skew = int(_setting("CTIP_EXCHANGE_MAX_SKEW", DEFAULT_MAX_SKEW))
    return ExchangeConf(
        http_timeout=float(_setting("CTIP_EXCHANGE_HTTP_TIMEOUT", 10)),
        retry_base=float(_setting("CTIP_EXCHANGE_RETRY_BASE", 4)),
        retry_cap=float(_setting("CTIP_EXCHANGE_RETRY_CAP", 15 * 60)),
        alert_after=int(_setting("CTIP_EXCHANGE_ALERT_AFTER", HOUR)),
        http_ttl=http_ttl,
        # Re-seal well before the receiver would call the token too old.
        reseal_after=min(http_max_age // 2, http_ttl // 2),
        bundle_ttl=bundle_ttl,
        http_policy=ReceiverPolicy(skew, http_ttl, http_max_age),
        bundle_policy=ReceiverPolicy(skew, bundle_ttl, bundle_ttl),
    )


def keys_file() -> Path:
    explicit = _setting("CTIP_EXCHANGE_KEYS_FILE", None)
    if explicit:
        return Path(explicit)
    if settings.CTIP_HOME is None:
        raise KeyStoreError(
            "no node home and no CTIP_EXCHANGE_KEYS_FILE: the exchange keys cannot be found"
        )
    return Path(settings.CTIP_HOME) / KEYS_FILE
