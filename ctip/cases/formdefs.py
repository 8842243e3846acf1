"""Which versions of the identification form this node holds, and their database rows."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ctip.cases.idform import FormDefinition, FormDefinitionError
from ctip.cases.models import FormVersion

FORM_DIR = Path(__file__).resolve().parent / "data" / "identification_form"


class FormFrozenError(FormDefinitionError):
    """A used (frozen) version's file was changed instead of given a new version."""


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


@lru_cache(maxsize=1)
def _files(stamp: tuple) -> dict[str, FormDefinition]:
    found = {}
    for path in sorted(FORM_DIR.glob("*.json")):
        definition = FormDefinition.from_file(path)
        if definition.version != path.stem:
            raise FormDefinitionError(
                f"{path.name}: the file name must be its version ({definition.version})"
            )
        found[definition.version] = definition
    if not found:
        raise FormDefinitionError(f"no identification form in {FORM_DIR.name}")
    return found


def available() -> dict[str, FormDefinition]:
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(FORM_DIR.glob("*.json")))
    return _files(stamp)


def current_definition() -> FormDefinition:
    forms = available()
    return forms[max(forms, key=_version_key)]


@lru_cache(maxsize=16)
def _from_row(sha256: str, text: str) -> FormDefinition:
    return FormDefinition.from_json(text, source=f"stored form {sha256[:12]}")


def definition_of(row: FormVersion) -> FormDefinition:
    """The definition a screening was made with (kept in the database, file or not)."""
    return _from_row(row.sha256, row.definition)


@transaction.atomic
def form_version_row(definition: FormDefinition | None = None) -> FormVersion:
    """The row of this definition (the current one by default), refusing changed frozen ones."""
    definition = definition or current_definition()
    row, created = FormVersion.objects.select_for_update().get_or_create(
        form_id=definition.form_id,
        version=definition.version,
        defaults={"sha256": definition.sha256, "definition": definition.canonical_json()},
    )
    if not created and row.sha256 != definition.sha256:
        if row.frozen_at is not None:
            raise FormFrozenError(
                f"form {definition.form_id} version {definition.version} is frozen (used since "
                f"{row.frozen_at:%Y-%m-%d}) and its file has changed: give the changed form a "
                "new version"
            )
        row.sha256, row.definition = definition.sha256, definition.canonical_json()
        row.loaded_at = timezone.now()
        row.save(update_fields=["sha256", "definition", "loaded_at"])
    return row


def freeze(row: FormVersion) -> None:
    if row.frozen_at is None:
        FormVersion.objects.filter(pk=row.pk, frozen_at__isnull=True).update(
            frozen_at=timezone.now()
        )
        row.frozen_at = timezone.now()
