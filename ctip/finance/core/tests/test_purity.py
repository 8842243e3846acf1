"""The core stays importable without Django, and says what it offers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ctip.finance.core as core

REPO_ROOT = Path(__file__).resolve().parents[4]


def test_core_imports_without_django():
    script = (
        "import sys, ctip.finance.core; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_declared():
    assert sorted(core.__all__) == sorted(set(core.__all__))
    assert all(hasattr(core, name) for name in core.__all__)


def test_no_float_in_the_core():
    # Money is Decimal (and exact fractions in between); a float anywhere is a defect.
    for path in Path(core.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "float(" not in text, path.name
