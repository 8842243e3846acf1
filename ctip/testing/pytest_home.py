"""pytest plugin (loaded with ``-p``, before Django is set up): give the test run a node home.

A fresh KH home in a temporary folder, unless ``CTIP_HOME`` is set. Under pytest-xdist each
worker makes its own (tests may rotate the home's keys or write its files). ``DATABASE_URL``
(e.g. the PostgreSQL server in CI) is honoured by the settings as usual; pytest-django gives
each worker its own test database.

And a folder for the node home templates of ``ctip.testing.nodes`` (``ctip init``, ``ctip
demo_data``), made once for the whole run: the workers inherit its name and share it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if not os.environ.get("CTIP_HOME") or os.environ.get("CTIP_TEST_HOME_MADE"):
    from ctip.home import create_home

    _dir = tempfile.mkdtemp(prefix="ctip-test-home-")
    atexit.register(shutil.rmtree, _dir, True)
    create_home(os.path.join(_dir, "kh"), "KH")
    os.environ["CTIP_HOME"] = os.path.join(_dir, "kh")
    os.environ["CTIP_TEST_HOME_MADE"] = "1"  # xdist workers inherit it: each makes its own

if not os.environ.get("CTIP_TEST_TEMPLATES"):
    _templates = tempfile.mkdtemp(prefix="ctip-test-templates-")
    atexit.register(shutil.rmtree, _templates, True)  # the first process, the last to end
    os.environ["CTIP_TEST_TEMPLATES"] = _templates
