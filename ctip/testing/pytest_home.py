"""pytest plugin (loaded with ``-p``, before Django is set up): give the test run a node home.

A fresh KH home in a temporary folder, unless ``CTIP_HOME`` is set. ``DATABASE_URL``
(e.g. the PostgreSQL server in CI) is honoured by the settings as usual.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if not os.environ.get("CTIP_HOME"):
    from ctip.home import create_home

    _dir = tempfile.mkdtemp(prefix="ctip-test-home-")
    atexit.register(shutil.rmtree, _dir, True)
    create_home(os.path.join(_dir, "kh"), "KH")
    os.environ["CTIP_HOME"] = os.path.join(_dir, "kh")
