"""Loaders for the golden data files in ``tests/data`` (shared by tests and the generator)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class NameEntry:
    """A real Khmer name and the Latin spellings people use for it."""

    khmer: str
    kind: str  # "family" | "given"
    latin: tuple[str, ...]


def _rows(filename: str) -> list[list[str]]:
    lines = (DATA / filename).read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return rows[1:]  # header


def khmer_names() -> list[NameEntry]:
    return [
        NameEntry(khmer, kind, tuple(v.strip() for v in latin.split(",")))
        for khmer, kind, latin in _rows("khmer_names.tsv")
    ]


def chinese_transcriptions() -> list[tuple[str, str]]:
    return [(chinese, latin) for chinese, latin in _rows("chinese_transcriptions.tsv")]
