from __future__ import annotations

import pytest

from ctip.cases.models import Case, Person, Screening
from ctip.core.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("node", ["KH", "CN"])
def test_demo_cases_load_once(node, settings):
    settings.CTIP_NODE = node  # each node loads its own country's demo
    load_demo(node)
    cases = Case.objects.count()
    assert cases >= 4 and Screening.objects.filter(status="submitted").count() >= cases
    assert load_demo(node) == [] and Case.objects.count() == cases
    if node == "KH":
        child = Case.objects.get(sealed=True)
        assert child.screening.child is True
        scripts = {bool(p.name_zh) for p in Person.objects.filter(nationality="CN")}
        assert scripts == {True}  # Chinese nationals' names in Chinese characters
    else:
        women = Person.objects.filter(nationality="KH", sex="female")
        assert women.count() >= 3 and all(p.name_km or p.name_zh for p in women)
        assert Case.objects.filter(consents__decision="given").exists()
    if Case.objects.filter(referrals__isnull=False).exists():  # the directory's demo ran first
        assert Case.objects.exclude(stage="identified").exists()
