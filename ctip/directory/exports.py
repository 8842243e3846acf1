"""The public directory as CSV and as vCards (RFC 2426, vCard 3.0: the version address
books on phones and desktop mail programs read most widely).

Only fields meant for the public: no street address of a shelter, no registration or
appointment letter numbers, no capacity or free places.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable

from ctip.directory.codes import language_name
from ctip.directory.models import FocalPerson, Service

CSV_COLUMNS = [
    "kind",
    "id",
    "country",
    "name_en",
    "name_km",
    "name_zh_hans",
    "role",
    "organisation",
    "city",
    "location_country",
    "languages",
    "serves",
    "coverage_areas",
    "phone",
    "mobile",
    "hotline",
    "email",
    "website",
    "wechat",
    "telegram",
    "whatsapp",
    "hours",
    "updated_at",
]

_PHONE_LIKE = re.compile(r"^\+[0-9 ()\-]+$")


def csv_cell(value) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection), phone numbers intact."""
    text = "" if value is None else str(value)
    if text and text[0] in "=@\t\r" or (text[:1] in "+-" and not _PHONE_LIKE.match(text)):
        return "'" + text
    return text


def focal_languages(person: FocalPerson) -> str:
    from ctip.directory.models import LanguageLevel

    levels = dict(LanguageLevel.choices)
    return "; ".join(
        f"{language_name(item['code'])} ({levels.get(item['level'], item['level'])})"
        for item in person.languages
    )


def service_serves(service: Service) -> str:
    from django.utils.translation import gettext as _

    who = [
        label
        for flag, label in (
            (service.serves_women, _("women")),
            (service.serves_men, _("men")),
            (service.serves_children, _("children")),
        )
        if flag
    ]
    text = ", ".join(who)
    if service.nationalities:
        text += " · " + ", ".join(service.nationalities)
    return text


def focal_row(p: FocalPerson) -> dict:
    return {
        "kind": "focal_person",
        "id": p.pk,
        "country": p.country,
        "name_en": p.name_en,
        "name_km": p.name_km,
        "name_zh_hans": p.name_zh_hans,
        "role": p.title,
        "organisation": p.agency.name,
        "city": p.post_city,
        "location_country": p.post_country,
        "languages": focal_languages(p),
        "phone": p.phone,
        "mobile": p.mobile,
        "email": p.email,
        "wechat": p.wechat,
        "telegram": p.telegram,
        "whatsapp": p.whatsapp,
        "hours": p.hours,
        "updated_at": p.updated_at.isoformat(timespec="seconds"),
    }


def service_row(s: Service) -> dict:
    return {
        "kind": "service",
        "id": s.pk,
        "country": s.country,
        "name_en": s.name_en,
        "name_km": s.name_km,
        "name_zh_hans": s.name_zh_hans,
        "role": s.get_service_type_display(),
        "organisation": s.provider.name,
        "city": s.city,
        "location_country": s.country,
        "languages": "; ".join(language_name(c) for c in s.languages),
        "serves": service_serves(s),
        "coverage_areas": "; ".join(s.coverage_areas),
        "phone": s.phone,
        "hotline": s.hotline,
        "email": s.email,
        "website": s.website,
        "hours": s.hours,
        "updated_at": s.updated_at.isoformat(timespec="seconds"),
    }


def directory_csv(focal_persons: Iterable[FocalPerson], services: Iterable[Service]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheet programs read Khmer and Chinese as UTF-8
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in [*map(focal_row, focal_persons), *map(service_row, services)]:
        writer.writerow({k: csv_cell(row.get(k, "")) for k in CSV_COLUMNS})
    return out.getvalue()


# --- vCard --------------------------------------------------------------------------------


def vescape(value: str) -> str:
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets without splitting a UTF-8 character."""
    parts, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += n
    parts.append(current)
    return "\r\n".join(parts)


def _card(lines: list[tuple[str, str]]) -> str:
    body = ["BEGIN:VCARD", "VERSION:3.0"]
    body += [fold(f"{name}:{value}") for name, value in lines if value]
    body.append("END:VCARD")
    return "\r\n".join(body) + "\r\n"


def _rev(entry) -> str:
    return entry.updated_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def focal_vcard(p: FocalPerson) -> str:
    from django.utils.translation import gettext as _

    other_names = [n for n in (p.name_km, p.name_zh_hans, p.name_en) if n and n != p.name]
    note = [
        _("Languages: %(languages)s") % {"languages": focal_languages(p)},
        *(
            [_("Also written: %(names)s") % {"names": " / ".join(other_names)}]
            if other_names
            else []
        ),
        *([_("Hours: %(hours)s") % {"hours": p.hours}] if p.hours else []),
        *([f"WeChat: {p.wechat}"] if p.wechat else []),
        *([f"Telegram: {p.telegram}"] if p.telegram else []),
        *([f"WhatsApp: {p.whatsapp}"] if p.whatsapp else []),
    ]
    return _card(
        [
            ("UID", f"urn:uuid:{p.pk}"),
            ("FN", vescape(p.name)),
            ("N", f"{vescape(p.name_en)};;;;"),
            ("ORG", vescape(p.agency.name)),
            ("TITLE", vescape(p.title)),
            ("TEL;TYPE=WORK,VOICE", vescape(p.phone)),
            ("TEL;TYPE=CELL", vescape(p.mobile)),
            ("EMAIL;TYPE=INTERNET", vescape(p.email)),
            ("ADR;TYPE=WORK", f";;;{vescape(p.post_city)};;;{p.post_country}"),
            ("NOTE", vescape("\n".join(note))),
            ("REV", _rev(p)),
        ]
    )


def service_vcard(s: Service) -> str:
    from django.utils.translation import gettext as _

    note = [
        s.get_service_type_display(),
        _("For: %(who)s") % {"who": service_serves(s)},
        *(
            [
                _("Languages: %(languages)s")
                % {"languages": ", ".join(map(language_name, s.languages))}
            ]
            if s.languages
            else []
        ),
        *([_("Hours: %(hours)s") % {"hours": s.hours}] if s.hours else []),
    ]
    return _card(
        [
            ("UID", f"urn:uuid:{s.pk}"),
            ("FN", vescape(s.name)),
            ("N", ";;;;"),
            ("ORG", f"{vescape(s.name)};{vescape(s.provider.name)}"),
            ("X-ABShowAs", "COMPANY"),
            ("TEL;TYPE=WORK,VOICE", vescape(s.hotline)),
            ("TEL;TYPE=WORK", vescape(s.phone)),
            ("EMAIL;TYPE=INTERNET", vescape(s.email)),
            ("URL", s.website),
            ("ADR;TYPE=WORK", f";;;{vescape(s.city)};;;{s.country}"),
            ("NOTE", vescape("\n".join(note))),
            ("REV", _rev(s)),
        ]
    )


def directory_vcards(focal_persons: Iterable[FocalPerson], services: Iterable[Service]) -> str:
    return "".join([*map(focal_vcard, focal_persons), *map(service_vcard, services)])
