"""The practice's timers on PTB's JobQueue: the adapter behind the service's Timers port.

A job only wakes the service up; the deadline itself is a database column, so a job lost
with the process is re-armed from it at start-up. Every worker also sweeps the database
every second for deadlines nobody's timer took (the worker that armed them died), for cues
whose stored next try has come (cue_retry_at) and for cues and closing messages nobody is
sending: those owed since before a restart, or whose worker died (see
bot/store/chat_locks.py). A redraw of a cue that Telegram did not take waits here too, in
this process, for its next try.

Trouble is quiet: the database's and Telegram's outages are logged once each, as incidents
(bot/incidents.py), not once per timer, sweep or send.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from apscheduler.jobstores.base import JobLookupError
from telegram.error import Forbidden, TelegramError
from telegram.ext import Job, JobQueue

from bot.clock import Clock
from bot.cues import Cue, MessageRef, PracticeOutcome
from bot.practice import machine
from bot.practice.machine import HoldOver
from bot.practice.service import StaleAction
from bot.store import StoreUnavailable
from handlers.context import TIMERS, YogaContext
from handlers.present import present, redraw
from handlers.rate_limit import Priority, Stopping, sending_as, stoppable

log = logging.getLogger(__name__)


def timer_name(practice_id: int) -> str:
    return f"cue:{practice_id}"


class CueTimer(NamedTuple):
    practice_id: int
    step: int
    # Wake-ups in a row that found the database not answering.
    store_failures: int = 0
    # Armed already late (the deadline passed while the bot was down): its cue is catching
    # up, and waits behind live ones (handlers/rate_limit.py).
    catching_up: bool = False


class JobQueueTimers:
    """One job per practice, found again by its handle: arming or cancelling a timer costs
    the same with 10 practices open or 10,000 (a look-up by name scans every job)."""

    def __init__(self, job_queue: JobQueue[YogaContext], clock: Clock) -> None:
        self._jobs = job_queue
        self._clock = clock
        self._handles: dict[int, Job[YogaContext]] = {}
        # What each practice's timer was armed for: (step, deadline).
        self._armed_for: dict[int, tuple[int, datetime]] = {}
        self._next_catch_up: datetime | None = None
        # Redraws waiting for their next try, by the message they draw.
        self._redraws: dict[MessageRef, Job[YogaContext]] = {}

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        if self._armed_for.get(practice_id) == (step, at) and practice_id in self._handles:
            return  # armed for just that already (a cue confirmed in time keeps its deadline)
        # From the injected clock, so a test's or a scaled clock decides when "now" is.
        now = self._clock()
        wake = machine.wake_up(at, now, self._next_catch_up)
        self._next_catch_up = wake.next_catch_up
        timer = CueTimer(practice_id, step, catching_up=wake.catching_up)
        self.schedule(timer, chat_id, (wake.at - now).total_seconds())
        self._armed_for[practice_id] = (step, at)

    def cancel(self, practice_id: int) -> None:
        self._armed_for.pop(practice_id, None)
        job = self._handles.pop(practice_id, None)
        if job is not None:
            # A job that has just fired is no longer the scheduler's to remove.
            with contextlib.suppress(JobLookupError):
                job.schedule_removal()

    def schedule(self, timer: CueTimer, chat_id: int, delay: float) -> None:
        self.cancel(timer.practice_id)
        self._handles[timer.practice_id] = self._run_once(
            cue_due,
            when=delay,
            data=timer,
            name=timer_name(timer.practice_id),
            chat_id=chat_id,
            # APScheduler drops a job that is over a second late by default; a late cue
            # still has to arrive, so it may be any amount late.
            job_kwargs={"misfire_grace_time": None},
        )

    def _run_once(
        self, callback: Callable[[YogaContext], Coroutine[Any, Any, None]], **kwargs: Any
    ) -> Job[YogaContext]:
        """A job, scheduled from a context of its own: APScheduler wakes up and starts the
        jobs then due with the context of whoever added a job last, so a timer armed from
        inside a cue's send would lend its priority and its stoppable() to every job
        after it, a reminder tick included."""
        return contextvars.Context().run(self._jobs.run_once, callback, **kwargs)

    def fired(self, practice_id: int, job: Job[YogaContext]) -> None:
        """A job ran: its handle goes, unless a newer job has taken its place or the job is
        still scheduled (run by hand, as a test does)."""
        if self._handles.get(practice_id) is job and job.next_t is None:
            del self._handles[practice_id]

    @property
    def armed(self) -> int:
        return len(self._handles)

    # -- redraws waiting for their next try (handlers.practice.Redraws) --------------------

    def later(self, cue: Cue, at: MessageRef, failures: int) -> float:
        delay = machine.retry_delay(failures, random.random())
        self.drawn(at)
        self._redraws[at] = self._run_once(
            redraw_due,
            when=delay,
            data=Redraw(cue, at, failures),
            name=f"redraw:{at.chat_id}:{at.message_id}",
            chat_id=at.chat_id,
            job_kwargs={"misfire_grace_time": None},
        )
        return delay

    def drawn(self, at: MessageRef) -> None:
        job = self._redraws.pop(at, None)
        if job is not None:
            with contextlib.suppress(JobLookupError):
                job.schedule_removal()

    def waiting(self, at: MessageRef) -> Cue | None:
        job = self._redraws.get(at)
        return job.data.cue if job is not None and isinstance(job.data, Redraw) else None

    def redraw_fired(self, at: MessageRef, job: Job[YogaContext]) -> None:
        if self._redraws.get(at) is job and job.next_t is None:
            del self._redraws[at]

    @property
    def redraws_waiting(self) -> int:
        return len(self._redraws)


class Redraw(NamedTuple):
    """A cue to draw again in place of a message, after `failures` tries Telegram did not
    take."""

    cue: Cue
    at: MessageRef
    failures: int


async def redraw_due(context: YogaContext) -> None:
    """Draw the cue as it is now (its practice may have changed meanwhile); nothing if the
    practice has left that pose, whose buttons are then retired."""
    assert context.job is not None and isinstance(context.job.data, Redraw)
    job, waiting = context.job, context.job.data
    timers: JobQueueTimers = context.bot_data[TIMERS]
    timers.redraw_fired(waiting.at, job)
    # A redraw answers what the user did: live. Left as it is when the bot stops.
    with contextlib.suppress(Stopping), sending_as(Priority.LIVE), stoppable():
        await _redraw_due(context, timers, waiting)


async def _redraw_due(context: YogaContext, timers: JobQueueTimers, waiting: Redraw) -> None:
    services = context.services
    async with services.chat_locks.hold(waiting.at.chat_id):
        try:
            cue: Cue | None = waiting.cue
            if not waiting.cue.over:
                cue = await services.practice.on_screen(waiting.cue.practice_id, waiting.cue.step)
            if cue is None:
                return
            if waiting.cue.swap_media:
                # The message still shows the picture it showed before the press.
                cue = replace(cue, swap_media=True)
            await redraw(
                context.bot, services, cue, waiting.at, failures=waiting.failures, redraws=timers
            )
        except StoreUnavailable:
            timers.later(waiting.cue, waiting.at, waiting.failures + 1)
        except Forbidden:
            await services.account.unreachable(waiting.at.chat_id)


async def cue_due(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, CueTimer)
    timers: JobQueueTimers = context.bot_data[TIMERS]
    timers.fired(context.job.data.practice_id, context.job)
    priority = Priority.BACKLOG if context.job.data.catching_up else Priority.LIVE
    # A cue not yet sent when the bot stops stays owed in the database: it is sent after
    # the restart rather than holding the stop up (handlers/rate_limit.py, Stopping).
    try:
        with sending_as(priority), stoppable():
            async with context.services.chat_locks.hold(context.job.chat_id or 0):
                await _cue_due(context, context.job.data)
    except Stopping:
        log.debug("practice %s: its cue is left for after the restart", context.job.data)


async def _cue_due(context: YogaContext, timer: CueTimer) -> None:
    assert context.job is not None
    services = context.services
    chat_id = context.job.chat_id or 0
    try:
        hold_over = HoldOver(timer.step)
        outcome = await services.practice.apply(timer.practice_id, hold_over)
        await present(context.bot, services, outcome)
    except StaleAction:
        return  # that step is over: the timer has nothing to do
    except StoreUnavailable:
        # Quiet retries until the database answers (its incident is logged once); the
        # class goes on then, where it stopped.
        again = timer._replace(store_failures=timer.store_failures + 1)
        delay = machine.store_backoff(again.store_failures)
        timers: JobQueueTimers = context.bot_data[TIMERS]
        timers.schedule(again, chat_id, delay)
    except Forbidden:
        await services.account.unreachable(chat_id)
    except TelegramError as exc:
        # A closing message or a retirement Telegram did not take: the sweep sends what is
        # still owed; the outage itself is logged once.
        services.incidents.telegram.failed(f"{type(exc).__name__}: {exc}")


SWEEP_NAME = "deadline-sweep"
SWEEP_SECONDS = 1.0
# A deadline is left to the timer of the worker that armed it for this long; after that any
# worker takes it. So a class whose worker died goes on within about two seconds.
SWEEP_GRACE = timedelta(seconds=1)
# Practices taken per sweep; the oldest deadlines first, the rest at the next sweep.
SWEEP_BATCH = 200


def start_sweeping(jobs: JobQueue[YogaContext]) -> None:
    # Two instances may run at once, and the second returns at once while the first still
    # sweeps (a database that waits out busy_timeout, a slow send): so APScheduler never
    # skips a run and never logs "maximum number of running instances reached" each second
    # of an outage. The filter keeps that line quiet for the sweep should it come anyway.
    _quiet_skipped_sweeps()
    jobs.run_repeating(
        sweep_deadlines,
        interval=SWEEP_SECONDS,
        first=SWEEP_SECONDS,
        name=SWEEP_NAME,
        data=Sweeping(),
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 2},
    )


class Sweeping:
    """Whether this worker's sweep is running: one at a time."""

    def __init__(self) -> None:
        self.running = False


class _SkippedSweep(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg):
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return getattr(job, "name", None) != SWEEP_NAME


_SKIPPED_SWEEP = _SkippedSweep()


def _quiet_skipped_sweeps() -> None:
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if _SKIPPED_SWEEP not in scheduler_log.filters:
        scheduler_log.addFilter(_SKIPPED_SWEEP)


async def sweep_deadlines(context: YogaContext) -> None:
    assert context.job is not None
    sweeping = context.job.data
    if isinstance(sweeping, Sweeping):
        if sweeping.running:
            return  # the last sweep is still at work: it sees what this one would
        sweeping.running = True
    try:
        # What the sweep sends is owed from before: it waits behind what is live, and
        # is left for after the restart if the bot stops meanwhile.
        with sending_as(Priority.BACKLOG), stoppable():
            await _sweep(context)
    except Stopping:
        log.debug("sweep: the bot stops; what it owes is sent after the restart")
    finally:
        if isinstance(sweeping, Sweeping):
            sweeping.running = False


async def _sweep(context: YogaContext) -> None:
    services = context.services
    try:
        found = await services.practice.overdue(grace=SWEEP_GRACE, limit=SWEEP_BATCH)
        owed = await services.practice.summaries_owed()
    except StoreUnavailable:
        return  # logged once as the database's incident; the next sweep tries again
    for item in found:
        await _take_over(
            context,
            item.chat_id,
            item.practice_id,
            services.practice.apply(item.practice_id, HoldOver(item.step, sender_gone=True)),
        )
    for practice_id, chat_id in owed:
        await _take_over(context, chat_id, practice_id, services.practice.owed_summary(practice_id))


async def _take_over(
    context: YogaContext,
    chat_id: int,
    practice_id: int,
    change: Coroutine[Any, Any, PracticeOutcome | None],
) -> None:
    """Run `change` and show its outcome if nobody is serving the chat right now."""
    services = context.services
    async with services.chat_locks.try_hold(chat_id) as held:
        if not held:
            change.close()  # a worker is serving this chat right now: not ours to take
            return
        try:
            await present(context.bot, services, await change)
        except Forbidden:
            await services.account.unreachable(chat_id)
        except TelegramError as exc:
            # One chat's trouble never holds up the others; the next sweep tries again.
            # The outage is logged once, as Telegram's incident.
            services.incidents.telegram.failed(f"{type(exc).__name__}: {exc}")
            log.debug("sweep: practice %s not taken over: %s", practice_id, exc)
        except StoreUnavailable as exc:
            log.debug("sweep: practice %s not taken over: %s", practice_id, exc)
        except StaleAction:
            return  # it moved on meanwhile: nothing is owed
