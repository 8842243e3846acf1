"""Shared node key rings. Rings are immutable, so session scope is safe and fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ctip.exchange.core import NodeKeys, VerifiedMessage, generate_node_keys, open_envelope, seal

from .forge import DAY, T


def _ring(node_id: str) -> NodeKeys:
    return generate_node_keys(node_id, not_before=T - 30 * DAY, not_after=T + 365 * DAY)


@pytest.fixture(scope="session")
def kh() -> NodeKeys:
    """Cambodia's node (the usual sender in these tests)."""
    return _ring("KH")


@pytest.fixture(scope="session")
def cn() -> NodeKeys:
    """China's node (the usual receiver)."""
    return _ring("CN")


@pytest.fixture(scope="session")
def vn() -> NodeKeys:
    """A third node: the victim of forwarding, or an unknown impostor."""
    return _ring("VN")


@pytest.fixture(scope="session")
def sealed(kh: NodeKeys, cn: NodeKeys) -> str:
    """A genuine KH -> CN envelope sealed at T."""
    return seal(
        msg_type="case.refer",
        body={"case": "K-1", "names": ["Sok", "李"]},
        seq=7,
        sender_keys=kh,
        receiver_public_keys=cn.public(),
        now=T,
    )


@pytest.fixture(scope="session")
def open_at_cn(kh: NodeKeys, cn: NodeKeys) -> Callable[..., VerifiedMessage]:
    """CN opening a token it believes came from KH, at T + 1 by default."""

    def _open(token: str | bytes, **overrides: Any) -> VerifiedMessage:
        kwargs: dict[str, Any] = {
            "receiver_keys": cn,
            "sender_anchor": kh.public(),
            "expected_to": "CN",
            "now": T + 1,
        }
        kwargs.update(overrides)
        return open_envelope(token, **kwargs)

    return _open
