"""The core must stay importable without Django (audits, offline archive verifier)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ctip.exchange.core as core

REPO_ROOT = Path(__file__).resolve().parents[4]


def test_core_imports_without_django():
    script = (
        "import sys, ctip.exchange.core; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_declared():
    assert all(hasattr(core, name) for name in core.__all__)
    assert "open" not in core.__all__  # never shadow the builtin on star-import


def test_error_codes_are_unique_and_stable():
    assert set(core.ERROR_CODES) >= {
        "too_large",
        "malformed",
        "duplicate_key",
        "zip_forbidden",
        "header_key_forbidden",
        "unsupported_header",
        "alg_not_allowed",
        "wrong_typ",
        "unknown_recipient_key",
        "decrypt_failed",
        "bad_signature",
        "unknown_signer",
        "own_key_signer",
        "key_not_valid",
        "key_revoked",
        "wrong_recipient",
        "wrong_sender",
        "expired",
        "future_iat",
        "invalid_payload",
        "digest_mismatch",
        "lifetime_too_long",
        "too_old",
        "unknown_type",
        "unknown_schema_version",
        "schema_invalid",
        "bad_reply",
        "handler_refused",
        "bundle_truncated",
        "bundle_malformed",
        "bundle_item_missing",
        "bundle_item_extra",
        "bundle_item_altered",
    }
    for code, cls in core.ERROR_CODES.items():
        assert cls.code == code
        assert issubclass(cls, core.EnvelopeError)
