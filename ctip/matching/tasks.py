"""Background work of the matching app, through huey: candidates for each new person, the
nightly sweep that retrains the weights and offers new candidates, and the daily purge of
expired cross-border match handles."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ctip.matching.services import candidates_for_person, matching_sweep
from ctip.matching.xborder import handles_purge


@db_task()
def find_candidates(person_id: str) -> int:
    return len(candidates_for_person(person_id=person_id))


@db_periodic_task(crontab(hour="2", minute="30"))
def nightly_sweep() -> dict[str, int]:
    return matching_sweep()


@db_periodic_task(crontab(hour="3", minute="15"))
def purge_expired_handles() -> int:
    return handles_purge()
