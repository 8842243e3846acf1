"""Background work of the cases app, through huey (the worker: ``ctip run_huey``): deadline
reminders for SOP stages and awaited repatriation steps, every hour. Idempotent: a run
that repeats or overlaps another sends nothing twice (one reminder per stage entry, step
and threshold)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ctip.cases.services import stage_reminders_send


@db_periodic_task(crontab(minute="7"))
def stage_reminders() -> int:
    return len(stage_reminders_send())
