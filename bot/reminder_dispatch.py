"""Pacing the reminder tick: claim what is due just before it is sent, a few at a time,
and keep a steady stream of sends going, never more than Telegram's 30 a second. Plain
asyncio; the send itself is the caller's.

A reminder is claimed (its day written to the database) before it is sent, so it is sent
at most once; what a crash loses is what was claimed and not yet sent. Two bounds keep
that small: reminders are claimed only for the next CLAIM_AHEAD_SECONDS of the send
window, and never more than IN_FLIGHT_SECONDS of sends are claimed and unanswered.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable

from bot.reminders import DueReminder, ReminderService

log = logging.getLogger(__name__)

# The tick runs this often; the schedule itself is in the database.
TICK_SECONDS = 20
FIRST_TICK_SECONDS = 2
# Claimed reminders waiting for their turn: the next 0.2 s of sends (6 at 30 a second).
# The next batch is claimed when half of them are left, so a claim (a few milliseconds)
# is done before the window runs dry, and a batch costs one transaction, not one a send.
CLAIM_AHEAD_SECONDS = 0.2
# Claimed and not yet answered by Telegram, waiting or on their way: at most half a
# second of sends (15 at 30 a second, 500 with paid broadcasts). Enough to keep the pace
# while Telegram takes up to about 0.3 s to answer; what a crash can lose, at most.
IN_FLIGHT_SECONDS = 0.5
# Due rows that are moved on without a send (too late, already practised) cost nothing on
# a crash: while a claim finds them, the next one looks at twice as many rows, up to this.
LOOK_AT_MOST = 500
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


def claim_ahead(per_second: int) -> int:
    """How many claimed reminders may wait for their turn in a window of `per_second`."""
    return max(1, math.ceil(per_second * CLAIM_AHEAD_SECONDS))


def most_in_flight(per_second: int) -> int:
    """How many reminders may be claimed and unanswered at once: what a crash can lose."""
    return max(claim_ahead(per_second), math.ceil(per_second * IN_FLIGHT_SECONDS))


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

    async def open(self) -> None:
        """Wait until the next send may start; then `close` must follow, once."""
        await self._slots.acquire()
        try:
            await self._spaced_start()
        except BaseException:
            self._slots.release()
            raise

    def close(self, *, sent: bool) -> None:
        """A send that started holds its slot one second more; an unused turn frees it."""
        if sent:
            asyncio.get_running_loop().call_later(1.0, self._slots.release)
        else:
            self._slots.release()

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
    """Claim due reminders oldest first, just ahead of their turn in the send window, and
    send each once. Returns how many were claimed to send.

    Whatever was claimed is sent before this returns, even when claiming fails (the
    database does not answer): that error is raised after the sends."""
    return await _Fanout(reminders, send, window, keep_claiming, budget).run()


class _Fanout:
    """One run of the tick: a claimer fills a short queue of claimed reminders; each turn
    the send window grants takes the first of them and sends it."""

    def __init__(
        self,
        reminders: ReminderService,
        send: Callable[[DueReminder], Awaitable[None]],
        window: SendWindow,
        keep_claiming: Callable[[], bool],
        budget: float,
    ) -> None:
        self._reminders = reminders
        self._send = send
        self._window = window
        self._keep_claiming = keep_claiming
        self._stop_at = asyncio.get_running_loop().time() + budget
        self._ahead = claim_ahead(window.per_second)
        self._most = most_in_flight(window.per_second)
        self._waiting: deque[DueReminder] = deque()  # claimed, not yet started
        self._unanswered = 0  # claimed and not yet answered: waiting or being sent
        self._claiming = True
        self._changed = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        claimer = asyncio.create_task(self._claim_all())
        try:
            while await self._send_next():
                pass
            if self._sending:
                await asyncio.wait(self._sending)
        except BaseException:
            claimer.cancel()  # this run was cancelled: nothing more is claimed
            raise
        # The claimer has ended; its error, if claiming failed, comes once all is sent.
        return await claimer

    async def _send_next(self) -> bool:
        """Wait for the window's next turn and start the next claimed send in it; False
        once nothing more will be claimed."""
        await self._window.open()
        try:
            reminder = await self._next_claimed()
        except BaseException:
            self._window.close(sent=False)
            raise
        if reminder is None:
            self._window.close(sent=False)
            return False
        task = asyncio.create_task(self._send_one(reminder))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return True

    async def _claim_all(self) -> int:
        claimed, widen = 0, 1
        try:
            loop = asyncio.get_running_loop()
            while True:
                await self._until(self._room_to_claim)
                # Looked at when a claim is due: a stop meanwhile ends the claiming.
                if loop.time() >= self._stop_at or not self._keep_claiming():
                    break
                room = min(self._ahead - len(self._waiting), self._most - self._unanswered)
                look_at = min(room * widen, max(room, LOOK_AT_MOST))
                batch = await self._reminders.claim_due(room, look_at=look_at)
                claimed += len(batch.reminders)
                self._waiting.extend(batch.reminders)
                self._unanswered += len(batch.reminders)
                self._wake()
                if not batch.more:
                    break
                # Rows moved on without a send: look further next time.
                widen = min(widen * 2, LOOK_AT_MOST) if len(batch.reminders) < room else 1
        finally:
            self._claiming = False
            self._wake()
        return claimed

    def _room_to_claim(self) -> bool:
        # Half the claimed queue is left, and the next batch keeps within the bound.
        return len(self._waiting) <= self._ahead // 2 and self._unanswered < self._most

    async def _next_claimed(self) -> DueReminder | None:
        """The next claimed reminder; None once nothing more will be claimed."""
        await self._until(lambda: bool(self._waiting) or not self._claiming)
        if not self._waiting:
            return None
        reminder = self._waiting.popleft()
        self._wake()
        return reminder

    async def _send_one(self, reminder: DueReminder) -> None:
        try:
            await self._send(reminder)
        except Exception:
            log.exception("sending a reminder failed")
        finally:
            self._window.close(sent=True)
            self._unanswered -= 1
            self._wake()

    def _wake(self) -> None:
        self._changed.set()

    async def _until(self, ready: Callable[[], bool]) -> None:
        # One event for every change; each waiter looks again at what it waits for.
        while not ready():
            self._changed.clear()
            await self._changed.wait()
