"""The public directory: no sign-in, published and current entries only, in three
languages, searchable, printable, and downloadable as CSV and vCard. Nothing unpublished
and no internal detail leaks, through any of them."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from ctip.directory import services
from ctip.directory.exports import csv_cell, fold
from ctip.directory.tests.conftest import SECRET_MARKERS

pytestmark = pytest.mark.django_db


def assert_no_secret(text: str):
    for marker in SECRET_MARKERS:
        assert marker not in text, marker


def test_anyone_sees_the_published_directory(directory):
    response = Client().get(reverse("directory:index"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Phnom Penh Transit Shelter", "Legal Aid Desk", "SOK Dara (demo)", "CHEA Vanna"):
        assert name in html
    assert "ផ្នែកជំនួយផ្លូវច្បាប់" in html and "法律援助处" in html  # all scripts shown
    assert "kh_consul_sh" in html and "+86 21 5555 0101" in html
    assert "directory/directory.css" in html  # the print stylesheet
    assert_no_secret(html)


@pytest.mark.parametrize(
    ("language", "heading", "type_label"),
    [
        ("km", 'lang="km"', None),
        ("zh-hans", 'lang="zh-hans"', None),
        ("en", 'lang="en"', "Legal aid"),
    ],
)
def test_the_page_in_three_languages(directory, language, heading, type_label):
    client = Client(headers={"accept-language": language})
    html = client.get(reverse("directory:index")).content.decode()
    assert f"<html {heading}>" in html
    if language == "zh-hans":
        # The entry's Chinese name comes first, the others after it.
        assert html.index("法律援助处") < html.index("Legal Aid Desk")
    if language == "km":
        assert html.index("ផ្នែកជំនួយផ្លូវច្បាប់") < html.index("Legal Aid Desk")
    if type_label:
        assert type_label in html
    assert_no_secret(html)


@pytest.mark.parametrize(
    ("params", "present", "absent"),
    [
        ({"q": "法律"}, ["Legal Aid Desk"], ["Phnom Penh Transit Shelter", "SOK Dara"]),
        ({"q": "ច្បាប់"}, ["Legal Aid Desk"], ["Phnom Penh Transit Shelter"]),
        ({"q": "shanghai"}, ["SOK Dara"], ["CHEA Vanna", "Legal Aid Desk"]),
        ({"q": "hidden"}, [], ["HIDDEN-SHELTER", "HIDDEN-PERSON"]),
        ({"type": "shelter"}, ["Phnom Penh Transit Shelter"], ["Legal Aid Desk", "SOK Dara"]),
        ({"kind": "focal"}, ["SOK Dara", "CHEA Vanna"], ["Legal Aid Desk"]),
        ({"lang": "zh"}, ["SOK Dara", "Legal Aid Desk"], ["CHEA Vanna", "Transit Shelter"]),
        ({"country": "CN"}, [], ["SOK Dara", "Legal Aid Desk"]),
    ],
)
def test_search_and_filters(directory, params, present, absent):
    html = Client().get(reverse("directory:index"), params).content.decode()
    for text in present:
        assert text in html, text
    for text in absent:
        assert text not in html, text


def test_htmx_search_returns_only_the_results(directory):
    response = Client().get(
        reverse("directory:index"), {"q": "legal"}, headers={"hx-request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and "Legal Aid Desk" in html
    assert "directory.csv?q=legal" in html  # downloads follow the search


def test_csv_download(directory):
    response = Client().get(reverse("directory:export_csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    names = sorted(r["name_en"] for r in rows)
    assert names == sorted(
        ["Phnom Penh Transit Shelter", "Legal Aid Desk", "SOK Dara (demo)", "CHEA Vanna (demo)"]
    )
    consul = next(r for r in rows if r["name_en"] == "SOK Dara (demo)")
    assert consul["phone"] == "+86 21 5555 0101" and consul["wechat"] == "kh_consul_sh"
    assert "Khmer" in consul["languages"]
    assert_no_secret(text)
    filtered = Client().get(reverse("directory:export_csv"), {"kind": "focal"}).content.decode()
    assert "Legal Aid Desk" not in filtered and "SOK Dara" in filtered


def test_csv_cells_cannot_run_as_formulas():
    assert csv_cell('=HYPERLINK("http://x")').startswith("'=")
    assert csv_cell("@SUM(1)").startswith("'@")
    assert csv_cell("+SUM(1)").startswith("'+")
    assert csv_cell("-2+3") == "'-2+3"
    assert csv_cell("+855 23 100 200") == "+855 23 100 200"
    assert csv_cell("Phnom Penh") == "Phnom Penh"


def test_vcard_download(directory):
    response = Client().get(reverse("directory:export_vcard"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.count("BEGIN:VCARD") == 4 == text.count("END:VCARD")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert f"UID:urn:uuid:{directory['consul'].pk}" in unfolded
    assert "TEL;TYPE=WORK,VOICE:+86 21 5555 0101" in unfolded
    assert "ORG:Legal Aid Desk;Agency kh-shelter-test" in unfolded
    assert "WeChat: kh_consul_sh" in unfolded
    assert_no_secret(unfolded)


def test_single_vcard_only_for_published_current_entries(directory, make_focal):
    client = Client()
    consul = directory["consul"]
    ok = client.get(reverse("directory:focal_person_vcard", args=[consul.pk]))
    assert ok.status_code == 200 and b"FN:SOK Dara (demo)" in ok.content
    hidden = make_focal(name_en="Another hidden", published=False)
    assert client.get(reverse("directory:focal_person_vcard", args=[hidden.pk])).status_code == 404


def test_unpublishing_removes_an_entry_everywhere(directory, editor):
    services.focal_person_update(
        user=editor, person=directory["consul"], changes={"published": False}
    )
    client = Client()
    for name in ("directory:index", "directory:export_csv", "directory:export_vcard"):
        assert "SOK Dara" not in client.get(reverse(name)).content.decode()


def test_fold_keeps_utf8_characters_whole():
    line = "FN:" + "ស្រីល័ក្ខ" * 20
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line
