"""Benchmarks: ``make bench`` (``python -m bench``) runs every ``bench/*.py`` module's ``run()``.

Each benchmark prints its figures as ratios to a baseline measured in the same run and
writes JSON to ``bench/results/<name>.json``. Not part of the test suite or CI.
"""
