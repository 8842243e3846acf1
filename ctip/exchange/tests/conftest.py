"""Exchange test fixtures: our KH keys in the test home, a CN peer held in memory, and a
fake CN node on loopback (the outside world, built on the real envelope core)."""

from __future__ import annotations

import shutil
import time

import pytest
from django.conf import settings

from ctip.exchange import keystore, services
from ctip.exchange.conf import keys_file
from ctip.exchange.core import NodeKeys, fingerprint, generate_node_keys, public_jwks, seal
from ctip.exchange.models import AnchorSource

from .fakepeer import FakePeer


@pytest.fixture(scope="session", autouse=True)
def kh_keys() -> NodeKeys:
    """This test node's (KH) exchange keys, in the test home like ``ctip init`` makes them."""
    path = keys_file()
    if not path.exists():
        # Valid from a month ago, so tests can seal messages "sent" in the past.
        keystore.create_keys(
            settings.CTIP_HOME, settings.CTIP_NODE, now=int(time.time()) - 30 * 86_400
        )
    services._keys_cache.clear()
    return services.our_keys()


@pytest.fixture
def restore_kh_keys(kh_keys):
    """For tests that rotate our keys: put the original file back afterwards."""
    path = keys_file()
    backup = path.with_suffix(".bak")
    shutil.copy2(path, backup)
    yield
    shutil.copy2(backup, path)
    backup.unlink()
    services._keys_cache.clear()


@pytest.fixture(scope="session")
def cn_keys() -> NodeKeys:
    now = int(time.time())
    return generate_node_keys("CN", not_before=now - 30 * 86_400, not_after=now + 365 * 86_400)


@pytest.fixture
def fake_cn(cn_keys, kh_keys):
    peer = FakePeer(cn_keys, kh_keys.public())
    peer.start()
    yield peer
    peer.stop()


def pin(keys: NodeKeys, url: str = ""):
    peer, _ = services.peer_pin(
        actor=None,
        jwks=public_jwks(keys.public()),
        expected_fingerprint=fingerprint(keys.public()),
        url=url,
        source=AnchorSource.FILE,
    )
    return peer


@pytest.fixture
def cn_peer(db, cn_keys, fake_cn):
    """CN pinned in our database, its address the fake CN node."""
    return pin(cn_keys, fake_cn.url)


def from_cn(cn_keys, kh_keys, **kwargs) -> str:
    """An envelope CN sends to us (KH)."""
    kwargs.setdefault("msg_type", "ping")
    kwargs.setdefault("body", {"nonce": "0123456789abcdef"})
    kwargs.setdefault("seq", 1)
    kwargs.setdefault("now", int(time.time()))
    return seal(sender_keys=cn_keys, receiver_public_keys=kh_keys.public(), **kwargs)
