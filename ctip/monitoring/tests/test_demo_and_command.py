"""The demo loads twice without change; ``ctip stats export`` writes a k-anonymous file and
its report; ``ctip stats import`` reports the file's problems."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from ctip.monitoring.demo import load_demo
from ctip.monitoring.models import MonthlyStatistics, ReviewNote
from ctip.testing import personas

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent(agency_a):
    personas.make_user("kh_me_officer", agency_a, "me_officer")
    load_demo("KH")
    load_demo("KH")
    assert MonthlyStatistics.objects.filter(country="KH").count() == 3
    assert ReviewNote.objects.filter(country="KH").count() == 2
    assert MonthlyStatistics.objects.filter(revision=1).count() == 3


def test_stats_export_command(victims, tmp_path, capsys):
    out = tmp_path / "htcds.csv"
    call_command("stats", "export", "--format", "htcds", "--output", str(out), "--k", "3")
    printed = capsys.readouterr().out
    assert "rows written: 6" in printed and "left out" in printed
    assert out.read_text(encoding="utf-8").startswith("prs_Gender,vic_AgeWhenTrafficked")
    with pytest.raises(CommandError, match="at least 2"):
        call_command("stats", "export", "--format", "htcds", "--output", str(out), "--k", "1")


def test_stats_import_command(me_officer, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("month,returns\n2026-01,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("stats", "import", str(bad), "--user", "me_officer")
    assert "line 2, column returns" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text("month,returns\n2026-01,12\n", encoding="utf-8")
    call_command("stats", "import", str(good), "--user", "me_officer")
    assert MonthlyStatistics.objects.get().returns == 12
