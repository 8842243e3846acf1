"""Background work of the cases app, through huey (the worker: ``ctip run_huey``): deadline
reminders for SOP stages and awaited repatriation steps, every hour. Idempotent: a run
that repeats or overlaps another sends nothing twice (one reminder per stage entry, step
and threshold). The retention purge, every night: records past their retention are
crypto-shredded (DP-7, docs/retention.md); a second run finds nothing to do."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ctip.cases.retention import retention_purge
from ctip.cases.services import stage_reminders_send


@db_periodic_task(crontab(minute="7"))
def stage_reminders() -> int:
    return len(stage_reminders_send())


@db_periodic_task(crontab(hour="1", minute="40"))
def retention_purge_nightly() -> dict | None:
    if not settings.CTIP_RETENTION_PURGE_NIGHTLY:
        return None
    return retention_purge(apply=True).as_dict()
