"""Every Bot API call that counts towards Telegram's limits goes through here: paced, and
in an order that puts the person on the mat first.

Telegram lets a bot send about 30 messages a second in all, 20 a minute to one group, and
up to 1,000 a second that are paid broadcasts. A call counts when it carries a chat_id
(edits too; answering a button does not), as Telegram and PTB's AIORateLimiter count them.

- **Strictly 30 in any one second.** AIORateLimiter's leaky bucket lets 30 through at
  once after a quiet spell and 30 more within the same second; here a call is granted
  only when the last second holds fewer than 30 grants.
- **Who goes first.** A reply to what someone just did, or a cue falling due now (LIVE),
  goes before a cue or closing message owed since a restart, or a reminder (BACKLOG):
  a backlog call lets every live call that arrives up to BACKLOG_YIELDS after it go
  first, but no more, so live work is first and nothing waits for ever. Otherwise first
  come first served, so at the limit every class waits alike.
- **Retiring old buttons only with headroom.** Taking the buttons off a cue the class has
  left (RETIRE) is sent at once only while nobody waits and a third of the second is
  free. Otherwise it is kept and sent when the bot is quieter, or dropped after
  RETIRE_PATIENCE: a stale button is answered "out of date" and retired when tapped. So
  at the limit a cue costs one counted call, not two. An edit of the same message made
  meanwhile wins over its kept retirement.
- **A 429 stays in its chat.** A 429 names the chat of the refused call: that chat's sends
  wait its retry_after, nobody else's (the call is then tried again, ahead of its
  priority's queue, up to `max_retries` times). Only when 429s come from FLOOD_CHATS
  different chats within FLOOD_WINDOW seconds is the bot over Telegram's limit for all
  chats together, and then every send waits (see FLOOD_CHATS below).
- **Several workers:** on PostgreSQL each granted call also takes a slot of the bot-wide
  second (bot/store/send_budget.py) just before it is sent, and again for each retry.

Callers say a call's priority with `sending_as(Priority.BACKLOG)` around it (a context
variable, so it covers every send of a timer or a sweep), or `rate_limit_args=` per call;
LIVE is the default.

**Stopping.** Work the database still owes when the bot stops (a timer's cue, a sweep's
take-over) is marked `stoppable()`: once `stop_waiting()` is called, such a call that has
not yet been granted a slot raises `Stopping` instead of waiting, so a stop does not wait
for a queue of thousands of cues to drain at 30 a second, and nothing is cancelled in the
middle of a request. What it would have sent stays owed in the database and goes out
after the restart. Replies to updates and claimed reminders are not stoppable: they are
sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import logging
import math
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from enum import IntEnum
from typing import Any, NamedTuple, Protocol

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.store.unit_of_work import inside_a_unit
from handlers.context import SERVICES

log = logging.getLogger(__name__)

# What a Bot API call returns: True, an object, or a list of them (PTB's JSONDict).
Sent = bool | dict[str, Any] | list[dict[str, Any]]
Call = Callable[..., Coroutine[Any, Any, Sent]]

MESSAGES_PER_SECOND = 30
PAID_MESSAGES_PER_SECOND = 1000
GROUP_MESSAGES_PER_MINUTE = 20
# A retirement goes at once only while this many of the second's slots are free.
HEADROOM = MESSAGES_PER_SECOND // 3
# A kept retirement older than this is dropped: its buttons answer "out of date" anyway.
RETIRE_PATIENCE = 30.0
# Kept retirements beyond this many drop the oldest: memory stays bounded under any load.
RETIREMENTS_KEPT = 10_000
# How often kept retirements look for headroom.
DRAIN_SECONDS = 0.5

# Telegram's Bot FAQ, "My bot is hitting limits, how do I avoid this?"
# (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about
# one message a second inside one chat (short bursts allowed, then 429s), about 30 a second
# to all chats together, 20 a minute to one group. A 429 names no limit, only the refused
# call; its chat is the one that went too fast, so one 429 pauses that chat alone for its
# retry_after. The bot-wide limit shows as 429s for several chats at once: when they come
# from FLOOD_CHATS different chats within FLOOD_WINDOW seconds, every send waits until the
# longest of their retry_afters has passed. (One chat's limit is one a second: two unlucky
# chats in the same two seconds are still two chats' own bursts; three are not chance.)
FLOOD_CHATS = 3
FLOOD_WINDOW = 2.0
# Telegram's retry_after is in whole seconds; waiting a hair longer never sends too early.
RETRY_MARGIN = 0.1


class Priority(IntEnum):
    LIVE = 0
    BACKLOG = 1
    RETIRE = 2


# Seconds of later arrivals a waiting call lets go first: its place in the queue is its
# arrival plus this.
BACKLOG_YIELDS = 10.0
_YIELDS = {Priority.LIVE: 0.0, Priority.BACKLOG: BACKLOG_YIELDS, Priority.RETIRE: RETIRE_PATIENCE}


_priority: ContextVar[Priority] = ContextVar("send_priority", default=Priority.LIVE)
_stoppable: ContextVar[bool] = ContextVar("send_stoppable", default=False)
_handed_over: ContextVar[Callable[[], None] | None] = ContextVar("send_handed_over", default=None)


@contextlib.contextmanager
def when_handed_over(callback: Callable[[], None]) -> Iterator[None]:
    """`callback` is called each time a call made inside leaves for Telegram: after its
    turn here, not while it waits for one (a picture's waiters count from then)."""
    token = _handed_over.set(callback)
    try:
        yield
    finally:
        _handed_over.reset(token)


_in_line_since: ContextVar[float | None] = ContextVar("send_in_line_since", default=None)


@contextlib.contextmanager
def in_line_since(when: float) -> Iterator[None]:
    """Every counted call made inside takes its place in the queue as of `when` (the
    limiter's clock: the event loop's time in the bot), if that is earlier than the call:
    a cue that first waited for its picture's upload by another send keeps the place in
    line it had when it was ready, instead of going behind every call queued meanwhile."""
    token = _in_line_since.set(when)
    try:
        yield
    finally:
        _in_line_since.reset(token)


def _handing_over() -> None:
    callback = _handed_over.get()
    if callback is not None:
        callback()


def is_stoppable() -> bool:
    """Whether a counted call made here now may be given up when the bot stops."""
    return _stoppable.get()


class Stopping(Exception):
    """The bot is stopping: a stoppable send that had not begun was not made (what it
    would have sent is still owed in the database)."""


@contextlib.contextmanager
def stoppable(on: bool = True) -> Iterator[None]:
    """Every counted call made inside may be given up, unsent, when the bot stops; with
    `on` False, none may (what was claimed or begun is sent)."""
    token = _stoppable.set(on)
    try:
        yield
    finally:
        _stoppable.reset(token)


@contextlib.contextmanager
def sending_as(priority: Priority) -> Iterator[None]:
    """Every counted call made inside goes at `priority` (unless a call says otherwise)."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


class Scheduler(Protocol):
    """The event loop's clock and timer, or a test's hand-driven one."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> object: ...


class SendSlots:
    """At most `per_second` sends in any one-second window, as the server counts them;
    whoever waits is served by priority, then by arrival.

    A send holds its slot from the moment it is granted until one second after it
    finished: Telegram received it somewhere in between, so however the network delays
    or bunches requests, no second there holds more (as bot/reminder_dispatch.py's
    window does for reminders alone)."""

    def __init__(self, per_second: int, scheduler: Scheduler | None = None) -> None:
        self._per_second = per_second
        self._scheduler = scheduler
        self._in_flight = 0
        self._finished: deque[float] = deque()
        # (place, arrival number, future): the smallest place is served first.
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._woken = False
        self._paused_until = 0.0

    @property
    def _clock(self) -> Scheduler:
        return self._scheduler or asyncio.get_running_loop()

    def _free(self, now: float) -> int:
        while self._finished and self._finished[0] <= now - 1.0:
            self._finished.popleft()
        return self._per_second - self._in_flight - len(self._finished)

    def _open(self, now: float) -> bool:
        return now >= self._paused_until and self._free(now) > 0

    def headroom(self, free: int) -> bool:
        """Nobody waits, no 429 is being waited out, and at least `free` slots are free."""
        now = self._clock.time()
        return not self._waiting and now >= self._paused_until and self._free(now) >= free

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def take(
        self, priority: Priority, *, retry: bool = False, since: float | None = None
    ) -> None:
        """Until a slot is granted; `release()` it once the call is over. `since`: when
        the call was ready, if earlier than now (its place in the queue)."""
        now = self._clock.time()
        if not self._waiting and self._open(now):
            self._in_flight += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        arrival = now if since is None else min(now, since)
        # A retried call was refused by a 429, not queued: it goes first once the wait ends.
        place = -math.inf if retry else arrival + _YIELDS[priority]
        heapq.heappush(self._waiting, (place, next(self._arrivals), future))
        self._wake_when_free()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted, then cancelled before it could send
            raise

    def release(self) -> None:
        self._in_flight -= 1
        self._finished.append(self._clock.time())
        if self._waiting:
            self._wake_when_free()

    def pause(self, seconds: float) -> None:
        """Grant nothing for `seconds` (Telegram said to wait)."""
        self._paused_until = max(self._paused_until, self._clock.time() + seconds)

    def _wake_when_free(self) -> None:
        if self._woken:
            return
        now = self._clock.time()
        at = max(now, self._paused_until)
        if self._free(now) <= 0:
            if not self._finished:
                return  # every slot is in flight: the first to finish wakes the queue
            # A hair after the oldest finish leaves the window, so it surely has.
            at = max(at, self._finished[0] + 1.0 + 1e-6)
        self._woken = True
        self._clock.call_at(at, self._grant)

    def _grant(self) -> None:
        self._woken = False
        now = self._clock.time()
        while self._waiting and self._open(now):
            _, _, future = heapq.heappop(self._waiting)
            if future.done():
                continue  # its caller gave up waiting
            self._in_flight += 1
            future.set_result(None)
        if self._waiting:
            self._wake_when_free()


class _Kept(NamedTuple):
    callback: Call
    args: Any
    kwargs: dict[str, Any]
    since: float


# The bot's type argument (handlers/context.py) is int: a Priority is one.
class PriorityRateLimiter(BaseRateLimiter[int]):
    def __init__(self, *, max_retries: int, scheduler: Scheduler | None = None) -> None:
        self._max_retries = max_retries
        self._scheduler = scheduler
        self._slots = SendSlots(MESSAGES_PER_SECOND, scheduler)
        self._paid = SendSlots(PAID_MESSAGES_PER_SECOND, scheduler)
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._kept: OrderedDict[tuple[str, int], _Kept] = OrderedDict()
        # Chats a 429 told to wait: chat -> until (the scheduler's time).
        self._chat_paused: dict[str, float] = {}
        # The 429s of the last FLOOD_WINDOW seconds: (when, chat, until).
        self._refusals: deque[tuple[float, str, float]] = deque()
        self._draining: asyncio.Task[None] | None = None
        # Once the bot stops, stoppable calls are not made; these are waiting for a turn.
        self._stopping = False
        self._stoppable_waiters: set[asyncio.Task[Any]] = set()
        # The application's bot_data once it is built: it holds the services.
        self.bot_data: dict[Any, Any] = {}

    async def initialize(self) -> None:
        self._draining = asyncio.create_task(self._drain_forever(), name="retirements")

    async def shutdown(self) -> None:
        if self._draining is not None:
            self._draining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._draining
            self._draining = None
        if self._kept:
            log.debug("%d button retirements dropped at shutdown", len(self._kept))
            self._kept.clear()

    @property
    def kept(self) -> int:
        """Retirements kept for later."""
        return len(self._kept)

    async def process_request(
        self,
        callback: Call,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Sent:
        unit = inside_a_unit()
        if unit is not None:
            # A call that hangs until its timeout would hold the unit's connection (and on
            # SQLite the one write lock) that long: every chat would wait for one.
            raise RuntimeError(f"a Bot API call ({endpoint}) inside a {unit} unit of work")
        chat_id = data.get("chat_id")
        if chat_id is None:
            _handing_over()
            return await callback(*args, **kwargs)  # not counted, e.g. answerCallbackQuery
        priority = _priority.get() if rate_limit_args is None else Priority(rate_limit_args)
        message_id = data.get("message_id")
        key = (str(chat_id), int(message_id)) if message_id is not None else None
        if priority is Priority.RETIRE and key is not None:
            # A chat waiting out its 429 keeps its retirements for later too.
            if not self._slots.headroom(HEADROOM) or self.chat_paused(chat_id):
                self._keep(key, _Kept(callback, args, kwargs, self._now()))
                return True  # what Telegram answers an edit of a message it keeps to itself
        elif key is not None:
            self._kept.pop(key, None)  # this edit of the message supersedes its retirement
        return await self._send(priority, chat_id, data, callback, args, kwargs)

    async def _send(
        self,
        priority: Priority,
        chat_id: int | str,
        data: dict[str, Any],
        callback: Call,
        args: Any,
        kwargs: dict[str, Any],
        *,
        retries: int | None = None,
    ) -> Sent:
        """`retries`: how many times a 429 is waited out and the call tried again (the
        limiter's max_retries unless given)."""
        paid = bool(data.get("allow_paid_broadcast"))
        slots = self._paid if paid else self._slots
        group = self._group(chat_id)
        retries = self._max_retries if retries is None else retries
        for attempt in range(retries + 1):
            # Waiting out the chat's own 429 holds no slot: other chats' sends go meanwhile.
            await self._turn(self._chat_turn(chat_id))
            async with group if group is not None else contextlib.nullcontext():
                since = _in_line_since.get()
                await self._turn(slots.take(priority, retry=attempt > 0, since=since))
                try:
                    if not paid:
                        await self._take_shared_slot()
                    _handing_over()
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    self._refused(chat_id, _retry_seconds(exc) + RETRY_MARGIN)
                    if attempt == retries:
                        raise
                finally:
                    slots.release()
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _turn(self, waiting: Coroutine[Any, Any, None]) -> None:
        """Wait for a turn; a stoppable call gives it up (Stopping) when the bot stops."""
        if not _stoppable.get():
            await waiting
            return
        if self._stopping:
            waiting.close()
            raise Stopping
        task = asyncio.current_task()
        assert task is not None
        self._stoppable_waiters.add(task)
        try:
            await waiting
        except asyncio.CancelledError:
            # Cancelled by stop_waiting: the wait ends, and nothing was sent.
            if self._stopping and task.uncancel() == 0:
                raise Stopping from None
            raise
        finally:
            self._stoppable_waiters.discard(task)

    def stop_waiting(self) -> int:
        """The bot stops: stoppable calls waiting for a turn give it up, and later ones
        are not made (both raise Stopping). Returns how many were waiting."""
        self._stopping = True
        waiting = list(self._stoppable_waiters)
        for task in waiting:
            task.cancel()
        return len(waiting)

    def chat_paused(self, chat_id: int | str) -> bool:
        """A 429 told this chat to wait, and the wait is not over."""
        until = self._chat_paused.get(str(chat_id))
        if until is None:
            return False
        if until <= self._now():
            del self._chat_paused[str(chat_id)]
            return False
        return True

    async def _chat_turn(self, chat_id: int | str) -> None:
        """Until the chat's 429 wait is over (at once if it has none)."""
        while self.chat_paused(chat_id):
            until = self._chat_paused[str(chat_id)]
            woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._clock().call_at(until, functools.partial(_wake, woken))
            await woken

    def _refused(self, chat_id: int | str, wait: float) -> None:
        """Telegram answered a call to `chat_id` with a 429: that chat waits `wait`
        seconds; if 429s came from FLOOD_CHATS chats within FLOOD_WINDOW, everyone does."""
        now = self._now()
        chat, until = str(chat_id), now + wait
        # Waits that are over go (429s are rare: memory stays bounded by the chats waiting).
        self._chat_paused = {c: end for c, end in self._chat_paused.items() if end > now}
        self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), until)
        self._refusals.append((now, chat, until))
        while self._refusals[0][0] < now - FLOOD_WINDOW:
            self._refusals.popleft()
        chats = {refused for _, refused, _ in self._refusals}
        if len(chats) < FLOOD_CHATS:
            log.info("Telegram asked one chat to wait %.1f s; only its sends wait", wait)
            return
        longest = max(end for _, _, end in self._refusals) - now
        log.info(
            "429s from %d chats within %.0f s: every send waits %.1f s",
            len(chats),
            FLOOD_WINDOW,
            longest,
        )
        self._slots.pause(longest)
        self._paid.pause(longest)

    async def _take_shared_slot(self) -> None:
        services = self.bot_data.get(SERVICES)
        budget = services.send_budget if services is not None else None
        if budget is not None:
            await budget.take()

    def _group(self, chat_id: int | str) -> AsyncLimiter | None:
        # A group or channel: negative ids and @usernames (as AIORateLimiter tells them).
        if isinstance(chat_id, int) and chat_id >= 0:
            return None
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit() and int(chat_id) >= 0:
            return None
        if chat_id not in self._groups:
            self._groups[chat_id] = AsyncLimiter(GROUP_MESSAGES_PER_MINUTE, 60)
        return self._groups[chat_id]

    def _clock(self) -> Scheduler:
        return self._scheduler or asyncio.get_running_loop()

    def _now(self) -> float:
        return self._clock().time()

    def _keep(self, key: tuple[str, int], kept: _Kept) -> None:
        self._kept.pop(key, None)
        self._kept[key] = kept
        while len(self._kept) > RETIREMENTS_KEPT:
            self._kept.popitem(last=False)

    async def drain(self) -> int:
        """Send kept retirements, oldest first, while there is headroom; drop those past
        their patience. Returns how many were sent."""
        sent = 0
        for key in list(self._kept):
            if not self._slots.headroom(HEADROOM):
                break
            kept = self._kept.get(key)
            if kept is None:
                continue  # an edit of its message superseded it meanwhile
            chat_id = key[0]
            if self._now() - kept.since > RETIRE_PATIENCE:
                del self._kept[key]
                continue
            if self.chat_paused(chat_id):
                continue  # its chat waits out a 429: kept until then (or its patience)
            del self._kept[key]
            try:
                # Not tried again after a 429: that would hold up the kept retirements of
                # other chats behind this one's wait. Its chat now waits; the buttons are
                # answered "out of date" if tapped.
                await self._send(
                    Priority.RETIRE, chat_id, {}, kept.callback, kept.args, kept.kwargs, retries=0
                )
            except TelegramError as exc:  # already gone, most often; nothing else depends on it
                log.debug("kept retirement of %s not sent: %s", chat_id, exc)
                continue
            sent += 1
        return sent

    async def _drain_forever(self) -> None:
        while True:
            await asyncio.sleep(DRAIN_SECONDS)
            await self.drain()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # its waiter may have given up (cancelled)
        future.set_result(None)


def _retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after will become a timedelta; both are handled.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
