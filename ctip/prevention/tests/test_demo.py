"""The prevention demo: idempotent, and it tells the story of the issue on each node."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from ctip.core.demo import load_demo as load_core_demo
from ctip.prevention.demo import load_demo
from ctip.prevention.models import (
    CivilCertificate,
    DisseminationEvent,
    StrategyStatus,
    StrategyVersion,
    ToolPackage,
)

pytestmark = pytest.mark.django_db
NOTHING = {"strategy": 0, "packages": 0, "dissemination": 0, "certificates": 0}


def test_kh_demo_is_idempotent_and_complete():
    load_core_demo("KH")  # runs this app's demo too
    assert load_demo("KH") == NOTHING
    version = StrategyVersion.objects.get()
    assert version.status == StrategyStatus.IN_REVIEW and version.sections.count() == 3
    package = ToolPackage.objects.get(country="KH")
    assert package.published and package.title_km and package.title_zh_hans
    assert {i.kind for i in package.items.all()} == {"step", "document", "warning"}
    assert package.items.filter(authority__code="kh-moi-gdi").exists()
    assert DisseminationEvent.objects.count() == 3
    certificate = CivilCertificate.objects.get()
    assert certificate.issued_by.username == "kh_civil_registrar"
    body = Client().get("/api/v1/prevention/verify", {"code": certificate.code}).json()
    assert body["result"] == "valid" and body["authority"] == "kh-moi-gdi"


@override_settings(CTIP_NODE="CN")
def test_cn_demo():
    load_core_demo("CN")
    assert load_demo("CN") == NOTHING
    assert not StrategyVersion.objects.exists()  # the strategy comes from KH
    assert ToolPackage.objects.get().country == "CN"
    assert CivilCertificate.objects.get().authority.code == "cn-mca"
