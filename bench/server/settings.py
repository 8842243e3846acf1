"""The product's settings, with the benchmark's URL configuration (product URLs + hello)."""

from ctip.settings import *  # noqa: F403 - the same settings, only the URL conf differs

ROOT_URLCONF = "bench.server.urls"
