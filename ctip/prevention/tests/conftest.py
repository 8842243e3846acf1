"""Prevention test fixtures: this node's (KH) exchange keys in the test home, the CN peer's
keys pinned, civil registration officers of two authorities, and a strategy manager."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from ctip.exchange import keystore
from ctip.exchange.conf import keys_file
from ctip.exchange.core import NodeKeys, fingerprint, generate_node_keys, public_jwks
from ctip.exchange.identity import _keys_cache, our_keys
from ctip.exchange.models import AnchorSource
from ctip.testing import personas


@pytest.fixture(scope="session", autouse=True)
def kh_keys() -> NodeKeys:
    path = keys_file()
    if not path.exists():
        keystore.create_keys(
            settings.CTIP_HOME, settings.CTIP_NODE, now=int(time.time()) - 30 * 86_400
        )
    _keys_cache.clear()
    return our_keys()


@pytest.fixture(scope="session")
def cn_keys() -> NodeKeys:
    now = int(time.time())
    return generate_node_keys("CN", not_before=now - 30 * 86_400, not_after=now + 365 * 86_400)


@pytest.fixture
def cn_peer(db, cn_keys):
    from ctip.exchange import services

    peer, _ = services.peer_pin(
        actor=None,
        jwks=public_jwks(cn_keys.public()),
        expected_fingerprint=fingerprint(cn_keys.public()),
        url="",
        source=AnchorSource.FILE,
    )
    return peer


@pytest.fixture
def gdi(db):
    return personas.agency("kh-moi-gdi-test")


@pytest.fixture
def gdi_office(gdi):
    from ctip.accounts.services import AgencyInput, agency_upsert

    return agency_upsert(
        actor=None,
        data=AgencyInput(
            "kh-gdi-pp-test",
            "Phnom Penh civil registry",
            "ministry",
            "KH",
            parent_code="kh-moi-gdi-test",
        ),
    )


@pytest.fixture
def registrar(gdi):
    return personas.make_user("registrar_a", gdi, "civil_registrar").user


@pytest.fixture
def registrar_b(agency_b):
    return personas.make_user("registrar_b", agency_b, "civil_registrar").user


@pytest.fixture
def manager(agency_a):
    return personas.make_user("strategy_me", agency_a, "me_officer").user
