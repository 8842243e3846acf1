"""Minimum-standards checklists as versioned data files (``standards/<code>-v<N>.json``).

A file is parsed and checked here (no database); ``checklist_sync`` stores each version
once. A version already stored whose file has since changed is refused: a change to the
standards is a new version, so earlier assessments keep the checklist they were made with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
LANGS = ("en", "km", "zh_hans")


class ChecklistFileError(ValueError):
    pass


@dataclass(frozen=True)
class StandardData:
    code: str
    order: int
    area_code: str
    area: dict[str, str]
    title: dict[str, str]
    guidance: dict[str, str]
    critical: bool
    scale_min: int
    scale_max: int
    may_be_not_applicable: bool


@dataclass(frozen=True)
class ChecklistData:
    code: str
    version: int
    country: str
    title: dict[str, str]
    source: str
    pass_mark: int
    scale_labels: dict[str, dict[str, str]]
    digest: str
    standards: list[StandardData] = field(default_factory=list)


def _texts(obj, where: str, required: bool = True) -> dict[str, str]:
    if not isinstance(obj, dict) or (required and not obj.get("en")):
        raise ChecklistFileError(f"{where}: needs an English text ('en')")
    unknown = set(obj) - set(LANGS)
    if unknown:
        raise ChecklistFileError(f"{where}: unknown language keys {sorted(unknown)}")
    return {lang: str(obj.get(lang, "")).strip() for lang in LANGS}


def parse_checklist(raw: bytes, name: str = "checklist") -> ChecklistData:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ChecklistFileError(f"{name}: not valid JSON ({exc})") from None
    try:
        scale = data["scale"]
        smin, smax, pass_mark = int(scale["min"]), int(scale["max"]), int(scale["pass_mark"])
        if not 0 <= smin < smax or not smin <= pass_mark <= smax:
            raise ChecklistFileError(f"{name}: scale needs 0 <= min <= pass_mark <= max, min < max")
        labels = {str(k): _texts(v, f"{name}: scale label {k}") for k, v in scale["labels"].items()}
        standards: list[StandardData] = []
        seen: set[str] = set()
        for area in data["areas"]:
            area_title = _texts(area["title"], f"{name}: area {area['code']}")
            for item in area["standards"]:
                code = str(item["code"])
                if code in seen:
                    raise ChecklistFileError(f"{name}: standard {code} appears twice")
                seen.add(code)
                s_min = int(item.get("scale_min", smin))
                s_max = int(item.get("scale_max", smax))
                if not 0 <= s_min < s_max:
                    raise ChecklistFileError(f"{name}: standard {code} has an empty scale")
                standards.append(
                    StandardData(
                        code=code,
                        order=len(standards) + 1,
                        area_code=str(area["code"]),
                        area=area_title,
                        title=_texts(item["title"], f"{name}: standard {code}"),
                        guidance=_texts(item.get("guidance", {}), code, required=False),
                        critical=bool(item.get("critical", False)),
                        scale_min=s_min,
                        scale_max=s_max,
                        may_be_not_applicable=bool(item.get("not_applicable_allowed", False)),
                    )
                )
        if not standards:
            raise ChecklistFileError(f"{name}: no standards")
        return ChecklistData(
            code=str(data["code"]),
            version=int(data["version"]),
            country=str(data["country"]),
            title=_texts(data["title"], f"{name}: title"),
            source=str(data.get("source", "")),
            pass_mark=pass_mark,
            scale_labels=labels,
            digest=hashlib.sha256(raw).hexdigest(),
            standards=standards,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ChecklistFileError):
            raise
        raise ChecklistFileError(f"{name}: missing or malformed field ({exc})") from None


def checklist_files(directory: Path = STANDARDS_DIR) -> list[Path]:
    return sorted(directory.glob("*.json"))
