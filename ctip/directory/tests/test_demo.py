"""The demo directory loads on both nodes, once, and shows in the public directory."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from ctip.core.demo import load_demo as load_core_demo
from ctip.directory.demo import load_demo
from ctip.directory.models import FocalPerson, FollowUpAction, Service, ShelterAssessment

pytestmark = pytest.mark.django_db


def test_kh_demo_is_idempotent_and_public(capsys):
    load_core_demo("KH")  # the node's demo, which loads the directory's
    assert Service.objects.filter(country="KH").count() == 8
    assert FocalPerson.objects.filter(country="KH").count() == 6
    assert load_demo("KH") == {"services": 0, "focal_persons": 0, "assessments": 0}
    call_command("directory_demo")
    assert "added 0 services" in capsys.readouterr().out
    assert Service.objects.filter(country="KH").count() == 8
    history = ShelterAssessment.objects.order_by("assessed_on")
    assert [a.compliance for a in history] == ["does_not_meet", "partly"]
    assert FollowUpAction.objects.filter(status="open").count() == 2
    html = Client(headers={"accept-language": "km"}).get("/directory/").content.decode()
    assert "សុខ តារា" in html and "មណ្ឌលស្នាក់នៅបណ្ដោះអាសន្នភ្នំពេញ" in html
    assert "NOV Ratha" not in html  # unpublished
    assert "PRAK Sothy" not in html  # appointment ended
    assert "Reintegration grants" not in html  # registration pending


def test_cn_demo(settings):
    settings.CTIP_NODE = "CN"
    load_core_demo("CN")
    assert load_demo("CN") == {"services": 0, "focal_persons": 0, "assessments": 0}
    assert Service.objects.filter(country="CN").count() == 6
    assert set(FocalPerson.objects.values_list("country", flat=True)) == {"CN"}
    assert FocalPerson.objects.count() == 4
    html = Client(headers={"accept-language": "zh-hans"}).get("/directory/").content.decode()
    assert "刘洋" in html and "广西救助站妇女部" in html
