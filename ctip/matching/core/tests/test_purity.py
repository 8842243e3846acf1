"""The core must stay importable without Django (batch jobs, audits, offline tools)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ctip.matching.core as core

REPO_ROOT = Path(__file__).resolve().parents[4]


def test_core_imports_without_django():
    script = (
        "import sys, ctip.matching.core; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_declared():
    assert sorted(core.__all__) == core.__all__
    assert all(hasattr(core, name) for name in core.__all__)
