"""The SOP for assistance and repatriation, as configuration both countries can amend.

The default is ``data/sop.json``; a node replaces it with ``sop.json`` in its home folder.
Each stage says who acts (roles), its deadline in days, the records required before the
case may leave it (``screening``, ``referral``, ``service``, ``note``, ``consent``,
``document:<kind>``), and for cross-border stages the consent that must cover entering it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from ctip.accounts.models import Role
from ctip.cases.models import ConsentPurpose, DataCategory, DocumentKind, Stage, Track

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "sop.json"
RECORD_KINDS = {"screening", "referral", "service", "note", "consent"}


class SopError(ValueError):
    pass


@dataclass(frozen=True)
class ConsentRule:
    purpose: str
    data_categories: tuple[str, ...]


@dataclass(frozen=True)
class StageRule:
    stage: str
    deadline_days: int | None
    actors: frozenset[str]
    requires: tuple[str, ...]
    consent: ConsentRule | None


@dataclass(frozen=True)
class Sop:
    version: str
    tracks: dict[str, tuple[str, ...]]
    stages: dict[str, StageRule]
    source: str
    # Repatriation steps: name -> (who acts: "host" | "home", deadline in days).
    repatriation: dict[str, tuple[str, int]] = field(default_factory=dict)

    def next_stage(self, track: str, stage: str) -> str | None:
        order = self.tracks[track]
        i = order.index(stage)
        return order[i + 1] if i + 1 < len(order) else None

    def rule(self, stage: str) -> StageRule:
        return self.stages[stage]


def sop_file() -> Path:
    home = getattr(settings, "CTIP_HOME", None)
    if home and (Path(home) / "sop.json").exists():
        return Path(home) / "sop.json"
    return DEFAULT_FILE


def current_sop() -> Sop:
    path = sop_file()
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> Sop:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SopError(f"{path}: cannot read the SOP: {exc}") from None
    return parse_sop(raw, source=Path(path).name)


def parse_sop(raw: dict, source: str = "sop") -> Sop:
    def fail(msg: str) -> SopError:
        return SopError(f"{source}: {msg}")

    tracks = {}
    for track in Track.values:
        order = tuple(raw.get("tracks", {}).get(track, ()))
        if not order or order[0] != Stage.IDENTIFIED or order[-1] != Stage.CLOSED:
            raise fail(f"track {track} must run from identified to closed")
        if set(order) - set(Stage.values) or len(set(order)) != len(order):
            raise fail(f"track {track} names an unknown stage or one twice")
        tracks[track] = order
    stages = {}
    for stage in Stage.values:
        spec = raw.get("stages", {}).get(stage)
        if spec is None:
            raise fail(f"stage {stage} is not described")
        days = spec.get("deadline_days")
        if days is not None and (not isinstance(days, int) or days < 1):
            raise fail(f"stage {stage}: deadline_days must be a positive number of days")
        actors = frozenset(spec.get("actors", ()))
        if not actors or actors - set(Role.values):
            raise fail(f"stage {stage}: actors must be roles ({', '.join(Role.values)})")
        requires = tuple(spec.get("requires", ()))
        for item in requires:
            kind, _, arg = item.partition(":")
            if not (
                (kind in RECORD_KINDS and not arg)
                or (kind == "document" and arg in DocumentKind.values)
            ):
                raise fail(f"stage {stage}: unknown required record {item!r}")
        consent = None
        if spec.get("consent"):
            purpose = spec["consent"].get("purpose")
            categories = tuple(spec["consent"].get("data_categories", ()))
            if purpose not in ConsentPurpose.values or set(categories) - set(DataCategory.values):
                raise fail(f"stage {stage}: consent needs a known purpose and data categories")
            consent = ConsentRule(purpose, categories)
        stages[stage] = StageRule(stage, days, actors, requires, consent)
    steps = {}
    for name, spec in (raw.get("repatriation") or {}).get("steps", {}).items():
        days = spec.get("deadline_days") if isinstance(spec, dict) else None
        if spec.get("by") not in ("host", "home") or not isinstance(days, int) or days < 1:
            raise fail(f"repatriation step {name}: needs by (host|home) and deadline_days >= 1")
        steps[name] = (spec["by"], days)
    return Sop(str(raw.get("version", "unversioned")), tracks, stages, source, steps)
