"""The practice's timers on PTB's JobQueue: the adapter behind the service's Timers port.

A job only wakes the service up; the deadline itself is a database column, so a job lost
with the process is re-armed from it at start-up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple, cast

from telegram.ext import JobQueue

from bot.clock import Clock
from bot.store import StoreUnavailable
from handlers.context import YogaContext
from handlers.practice import present

log = logging.getLogger(__name__)


def timer_name(practice_id: int) -> str:
    return f"cue:{practice_id}"


class CueTimer(NamedTuple):
    practice_id: int
    step: int
    # Wake-ups in a row that found the database not answering.
    store_failures: int = 0


# A timer whose database does not answer tries again after these pauses (seconds), the
# last one repeating until it answers: the class goes on then, where it stopped.
STORE_BACKOFF = (1, 2, 4, 8, 16, 30)


class JobQueueTimers:
    def __init__(self, job_queue: JobQueue[YogaContext], clock: Clock) -> None:
        self._jobs = job_queue
        self._clock = clock

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        # From the injected clock, so a test's or a scaled clock decides when "now" is.
        delay = max(0.0, (at - self._clock()).total_seconds())
        _schedule(self._jobs, CueTimer(practice_id, step), chat_id, delay)

    def cancel(self, practice_id: int) -> None:
        _cancel(self._jobs, practice_id)


def _schedule(jobs: JobQueue[YogaContext], timer: CueTimer, chat_id: int, delay: float) -> None:
    _cancel(jobs, timer.practice_id)
    jobs.run_once(
        cue_due,
        when=delay,
        data=timer,
        name=timer_name(timer.practice_id),
        chat_id=chat_id,
        # APScheduler drops a job that is over a second late by default; a late cue still
        # has to arrive, so it may be any amount late.
        job_kwargs={"misfire_grace_time": None},
    )


def _cancel(jobs: JobQueue[YogaContext], practice_id: int) -> None:
    for job in jobs.get_jobs_by_name(timer_name(practice_id)):
        job.schedule_removal()


async def cue_due(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, CueTimer)
    timer, services = context.job.data, context.services
    try:
        outcome = await services.practice.advance_if_due(timer.practice_id, timer.step)
    except StoreUnavailable as exc:
        # One warning per incident, then quiet retries until the database answers.
        if timer.store_failures == 0:
            log.warning("practice %s: the database does not answer (%s)", timer.practice_id, exc)
        delay = STORE_BACKOFF[min(timer.store_failures, len(STORE_BACKOFF) - 1)]
        jobs = cast(JobQueue[YogaContext], context.job_queue)
        again = timer._replace(store_failures=timer.store_failures + 1)
        _schedule(jobs, again, context.job.chat_id or 0, delay)
        return
    if timer.store_failures:
        log.info("practice %s: the database answers again", timer.practice_id)
    await present(context.bot, services, outcome)
