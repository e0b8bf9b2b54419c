"""The practice's timers on PTB's JobQueue: the adapter behind the service's Timers port.

A job only wakes the service up; the deadline itself is a database column, so a job lost
with the process is re-armed from it at start-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from telegram.ext import JobQueue

from bot.clock import Clock
from handlers.context import YogaContext
from handlers.practice import present


def timer_name(practice_id: int) -> str:
    return f"cue:{practice_id}"


class CueTimer(NamedTuple):
    practice_id: int
    step: int


class JobQueueTimers:
    def __init__(self, job_queue: JobQueue[YogaContext], clock: Clock) -> None:
        self._jobs = job_queue
        self._clock = clock

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        self.cancel(practice_id)
        self._jobs.run_once(
            cue_due,
            # From the injected clock, so a test's or a scaled clock decides when "now" is.
            when=max(0.0, (at - self._clock()).total_seconds()),
            data=CueTimer(practice_id, step),
            name=timer_name(practice_id),
            chat_id=chat_id,
            # APScheduler drops a job that is over a second late by default; a late cue still
            # has to arrive, so it may be any amount late.
            job_kwargs={"misfire_grace_time": None},
        )

    def cancel(self, practice_id: int) -> None:
        for job in self._jobs.get_jobs_by_name(timer_name(practice_id)):
            job.schedule_removal()


async def cue_due(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, CueTimer)
    timer, services = context.job.data, context.services
    outcome = await services.practice.advance_if_due(timer.practice_id, timer.step)
    await present(context.bot, services, outcome)
