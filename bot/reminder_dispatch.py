"""Pacing the reminder tick: claim what is due in batches and keep a steady stream of
sends going, never more than Telegram's 30 a second. Plain asyncio; the send itself is
the caller's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.reminders import DueReminder, ReminderService

log = logging.getLogger(__name__)

# The tick runs this often; the schedule itself is in the database.
TICK_SECONDS = 20
FIRST_TICK_SECONDS = 2
# Sends claimed but not yet done: 1.5 s worth at 30/s (more with paid broadcasts) keeps the
# pace steady while the next batch is claimed, and bounds what a crash could leave claimed
# but unsent.
IN_FLIGHT = 45
# A tick stops claiming after this long; with the sends still in flight it ends before the
# next tick is due, so a backlog drains at nearly the full rate with no overlapping runs
# (and the Application, which waits for running jobs when it stops, is never held long).
TICK_BUDGET_SECONDS = 18
# Telegram allows about 30 messages a second. PTB's AIORateLimiter holds that on average,
# but it counts requests as they leave, and lets a burst of 30 through after a quiet spell.
REMINDERS_PER_SECOND = 30
# With paid broadcasts (the ALLOW_PAID_BROADCAST setting) Telegram takes up to 1,000 a
# second, for a fee per message beyond the free 30.
PAID_REMINDERS_PER_SECOND = 1000


class SendWindow:
    """At most `per_second` reminder sends in any one second, as the server counts them.

    A send holds one of `per_second` slots from its start until one second after it
    finished; the server received it somewhere in between, so no one-second window there
    ever holds more, however the network delays or bunches requests. Sends also start
    evenly spaced rather than in bursts. Shared by every run of the tick."""

    # A wake-up this late still counts from the planned time; a later one (a busy loop)
    # counts from now, so delayed sends never catch up in a burst.
    _TOLERANCE = 0.002

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._slots = asyncio.Semaphore(per_second)
        self._gap = 1.0 / per_second
        self._next = 0.0
        self._spacing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._slots.acquire()
        try:
            await self._spaced_start()
            yield
        finally:
            asyncio.get_running_loop().call_later(1.0, self._slots.release)

    async def _spaced_start(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._spacing:
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            planned = self._next if now - self._next < self._TOLERANCE else now
            self._next = planned + self._gap


async def dispatch_due(
    reminders: ReminderService,
    send: Callable[[DueReminder], Awaitable[None]],
    window: SendWindow,
    *,
    keep_claiming: Callable[[], bool],
    budget: float = TICK_BUDGET_SECONDS,
) -> int:
    """Claim due reminders oldest first and send them, keeping up to IN_FLIGHT sends going
    so the send window, not this loop, sets the pace. Returns how many were claimed."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + budget
    # 1.5 s worth of sends, at whatever rate the window allows.
    most = max(IN_FLIGHT, window.per_second * IN_FLIGHT // REMINDERS_PER_SECOND)
    in_flight: set[asyncio.Task[None]] = set()
    more, claimed = True, 0
    while True:
        claiming = more and loop.time() < stop_at and keep_claiming()
        if claiming and len(in_flight) <= most // 2:
            batch = await reminders.claim_due(most - len(in_flight))
            more = batch.more
            claimed += len(batch.reminders)
            in_flight.update(asyncio.create_task(_paced(send, r, window)) for r in batch.reminders)
            if more and not in_flight:
                continue  # the whole batch was moved on without a send; look again
        if not in_flight:
            return claimed
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("sending a reminder failed", exc_info=task.exception())


async def _paced(
    send: Callable[[DueReminder], Awaitable[None]], reminder: DueReminder, window: SendWindow
) -> None:
    async with window.slot():
        await send(reminder)
