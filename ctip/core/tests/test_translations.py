"""Every catalogue is complete, compiled, marked draft, and keeps its placeholders."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.mark.parametrize("language", ["km", "zh_Hans"])
def test_catalogue_is_complete_and_compiled(language):
    folder = LOCALE / language / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries()
    assert "DRAFT" in po.metadata.get("Language-Team", "")
    compiled = gettext.GNUTranslations(open(folder / "django.mo", "rb"))  # noqa: SIM115
    for entry in po.translated_entries():
        if entry.msgid_plural:  # Khmer and Chinese have one plural form
            translated = entry.msgstr_plural[0]
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == translated
            expected = set(PLACEHOLDER.findall(entry.msgid_plural))
            assert set(PLACEHOLDER.findall(translated)) == expected, entry.msgid
            continue
        assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(entry.msgstr))
        assert compiled.gettext(entry.msgid) == entry.msgstr, f"{entry.msgid!r}: run make messages"
