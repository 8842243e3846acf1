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
    # Cases opened here come from a screening; a repatriation's home-side case comes from
    # the other country's notification (the screening stays there).
    screened = Case.objects.exclude(repatriation__side="home").count()
    assert cases >= 4 and Screening.objects.filter(status="submitted").count() >= screened
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


@pytest.mark.parametrize("node", ["KH", "CN"])
def test_demo_repatriations_both_directions_at_different_stages(node, settings):
    from ctip.cases.demo import REPATRIATION_DEMO
    from ctip.cases.models import Repatriation

    settings.CTIP_NODE = node
    load_demo(node)
    reps = {r.shared_ref: r for r in Repatriation.objects.select_related("case")}
    assert set(reps) == {item["shared"] for item in REPATRIATION_DEMO}
    assert {r.side for r in reps.values()} == {"host", "home"}
    stages = {r.case.stage for r in reps.values()}
    assert len(stages) >= 3
    # The home side's cases are routed to the embassy's consular focal person.
    home = [r for r in reps.values() if r.side == "home"]
    assert all(r.case.assigned_to.username == f"{node.lower()}_consular_focal" for r in home)
    # The CN-hosted plan waits on KH and is overdue, on both nodes.
    assert reps["CN-C-DE000001"].waiting_on == "KH" and reps["CN-C-DE000001"].is_overdue()
    # Host cases keep their own reference as the shared one; home cases have their own.
    for r in reps.values():
        assert (r.case.reference == r.shared_ref) == (r.side == "host")
