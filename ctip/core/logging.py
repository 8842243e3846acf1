"""Log filters that keep identifiers out of log lines (do-no-harm rule DP-6)."""

from __future__ import annotations

import contextlib
import logging

REDACTED = "[path withheld]"


class RedactRequestPath(logging.Filter):
    """Django logs 'Not Found: <path>' and 'Internal Server Error: <path>'. A path can hold
    what someone typed (a name in a search URL, a document number): drop it from the line.
    The status code, the view's traceback and the time stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and isinstance(record.args, tuple):
            paths = {getattr(request, "path", None), getattr(request, "path_info", None)}
            with contextlib.suppress(Exception):  # a broken request must not break logging
                paths.add(request.get_full_path())
            paths.discard(None)
            record.args = tuple(REDACTED if arg in paths else arg for arg in record.args)
        return True
