"""The rate limiter: strictly 30 counted calls in any second, live sends before backlog,
button retirements only with headroom, 429s waited out. Time is a hand-driven clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter, TimedOut

from handlers.context import SERVICES
from handlers.rate_limit import (
    BACKLOG_YIELDS,
    FLOOD_CHATS,
    FLOOD_WINDOW,
    HEADROOM,
    MESSAGES_PER_SECOND,
    RETIRE_PATIENCE,
    Priority,
    PriorityRateLimiter,
    Stopping,
    in_line_since,
    sending_as,
    stoppable,
)


class HandClock:
    """The limiter's clock and timers, moved on by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> object:
        heapq.heappush(self._timers, (when, next(self._order), callback))
        return None

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, callback = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            callback()
            await settle()
        self.now = target
        await settle()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class Telegram:
    """Records each call the limiter lets through, with the hand clock's time."""

    def __init__(self, clock: HandClock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, float]] = []
        self.refuse: dict[str, int] = {}  # name -> retry_after, once

    def callback(self, name: str) -> Callable[[], Any]:
        async def call() -> dict[str, Any]:
            if name in self.refuse:
                raise RetryAfter(timedelta(seconds=self.refuse.pop(name)))
            self.sent.append((name, self.clock.now))
            return {"sent": name}

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
def telegram(clock: HandClock) -> Telegram:
    return Telegram(clock)


@pytest.fixture
def limiter(clock: HandClock) -> PriorityRateLimiter:
    return PriorityRateLimiter(max_retries=2, scheduler=clock)


def call(
    limiter: PriorityRateLimiter,
    telegram: Telegram,
    name: str,
    *,
    chat: int | None = 1,
    message: int | None = None,
    priority: Priority | None = None,
    paid: bool = False,
) -> asyncio.Task[Any]:
    data: dict[str, Any] = {} if chat is None else {"chat_id": chat}
    if message is not None:
        data["message_id"] = message
    if paid:
        data["allow_paid_broadcast"] = True
    request = limiter.process_request(telegram.callback(name), (), {}, "m", data, priority)
    return asyncio.ensure_future(request)


async def fill_the_second(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    """Take every slot of the current second."""
    for n in range(MESSAGES_PER_SECOND):
        call(limiter, telegram, f"full{n}")
    await clock.advance(0)


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


async def test_no_second_holds_more_than_thirty_counted_calls(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    tasks = [call(limiter, telegram, f"m{n}", chat=n) for n in range(75)]
    await clock.advance(0)
    assert len(telegram.sent) == MESSAGES_PER_SECOND  # the rest wait
    await clock.advance(3)
    assert all(task.done() for task in tasks)
    assert busiest_second([t for _, t in telegram.sent]) == MESSAGES_PER_SECOND
    # A burst after a quiet spell gets no more than a steady stream does.
    await clock.advance(10)
    burst = [call(limiter, telegram, f"b{n}") for n in range(40)]
    await clock.advance(0)
    assert sum(1 for name, _ in telegram.sent if name.startswith("b")) == MESSAGES_PER_SECOND
    await clock.advance(2)
    assert all(task.done() for task in burst)


async def test_a_call_that_does_not_count_is_never_held(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    for n in range(MESSAGES_PER_SECOND + 5):
        call(limiter, telegram, f"m{n}")
    answer = call(limiter, telegram, "answerCallbackQuery", chat=None)
    await clock.advance(0)
    assert answer.done() and "answerCallbackQuery" in telegram.names()


async def test_live_sends_go_before_backlog_and_each_priority_first_come_first_served(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    await fill_the_second(clock, telegram, limiter)
    with sending_as(Priority.BACKLOG):
        for n in range(40):
            call(limiter, telegram, f"owed{n}", chat=100 + n)
    for n in range(5):
        call(limiter, telegram, f"live{n}", chat=200 + n)
    await clock.advance(1.01)
    after = telegram.names()[MESSAGES_PER_SECOND:]
    assert after[:5] == [f"live{n}" for n in range(5)]
    assert after[5:] == [f"owed{n}" for n in range(25)]
    await clock.advance(1.01)
    assert telegram.names()[-15:] == [f"owed{n}" for n in range(25, 40)]


async def test_at_the_limit_backlog_still_goes_once_live_work_has_overtaken_it_long_enough(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    """Live calls arriving without end (a full limiter) never starve a backlog call: it
    lets those that arrive up to BACKLOG_YIELDS after it go first, no more."""
    await fill_the_second(clock, telegram, limiter)
    call(limiter, telegram, "owed", priority=Priority.BACKLOG)
    second = 0
    while "owed" not in telegram.names() and second < 3 * BACKLOG_YIELDS:
        for n in range(MESSAGES_PER_SECOND):
            call(limiter, telegram, f"live{second}-{n}", chat=100 + n)
        await clock.advance(1.01)
        second += 1
    assert "owed" in telegram.names()
    assert BACKLOG_YIELDS <= second <= BACKLOG_YIELDS + 2
    # Everything live that arrived within BACKLOG_YIELDS of it went before it.
    before = telegram.names()[: telegram.names().index("owed")]
    assert sum(1 for name in before if name.startswith("live")) >= 9 * MESSAGES_PER_SECOND


async def test_a_call_made_late_keeps_the_place_in_line_it_had_when_ready(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    """A cue that waited for its picture's upload is sent in the order it was ready in,
    not behind every call queued while it waited."""
    await fill_the_second(clock, telegram, limiter)
    ready_at = clock.now
    await clock.advance(0.5)
    for n in range(40):
        call(limiter, telegram, f"queued{n}", chat=100 + n)
    with in_line_since(ready_at):
        call(limiter, telegram, "waited", chat=7)
    await clock.advance(0.6)
    assert telegram.names()[MESSAGES_PER_SECOND] == "waited"


async def test_a_per_call_priority_wins_over_the_surrounding_one(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    await fill_the_second(clock, telegram, limiter)
    call(limiter, telegram, "owed", priority=Priority.BACKLOG)
    with sending_as(Priority.BACKLOG):
        call(limiter, telegram, "reply", priority=Priority.LIVE)
    await clock.advance(1.01)
    assert telegram.names()[-2:] == ["reply", "owed"]


async def test_a_retirement_goes_at_once_with_headroom(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    retire = call(limiter, telegram, "retire", message=7, priority=Priority.RETIRE)
    await clock.advance(0)
    assert retire.done() and telegram.names() == ["retire"]
    assert limiter.kept == 0


async def test_without_headroom_a_retirement_is_kept_sent_later_or_dropped(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    for n in range(MESSAGES_PER_SECOND - HEADROOM + 1):
        call(limiter, telegram, f"cue{n}", chat=n)
    await clock.advance(0)
    early = call(limiter, telegram, "retire-early", chat=1, message=7, priority=Priority.RETIRE)
    await clock.advance(0)
    # Its caller goes on at once, as if Telegram had taken it; nothing was sent yet.
    assert early.done() and early.result() is True
    assert "retire-early" not in telegram.names() and limiter.kept == 1
    # The bot is quiet again a second later: the kept retirement goes.
    await clock.advance(1.01)
    assert await limiter.drain() == 1
    assert telegram.names()[-1] == "retire-early" and limiter.kept == 0

    for n in range(MESSAGES_PER_SECOND):
        call(limiter, telegram, f"more{n}", chat=n)
    await clock.advance(0)
    call(limiter, telegram, "retire-late", chat=2, message=8, priority=Priority.RETIRE)
    await clock.advance(0)
    assert limiter.kept == 1
    # Busy for longer than a retirement waits: it is dropped, never sent.
    await clock.advance(RETIRE_PATIENCE + 1)
    assert await limiter.drain() == 0
    assert "retire-late" not in telegram.names() and limiter.kept == 0


async def test_a_kept_retirement_that_fails_leaves_the_others_going(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    await fill_the_second(clock, telegram, limiter)

    async def refused() -> bool:
        raise BadRequest("Message to edit not found")

    await limiter.process_request(
        refused, (), {}, "m", {"chat_id": 3, "message_id": 1}, Priority.RETIRE
    )
    call(limiter, telegram, "retire-other", chat=3, message=2, priority=Priority.RETIRE)
    await clock.advance(1.01)
    assert limiter.kept == 2
    assert await limiter.drain() == 1  # the refused one is logged and let go
    assert telegram.names()[-1] == "retire-other" and limiter.kept == 0


async def test_an_edit_of_the_same_message_supersedes_its_kept_retirement(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    for n in range(MESSAGES_PER_SECOND):
        call(limiter, telegram, f"cue{n}", chat=n)
    await clock.advance(0)
    call(limiter, telegram, "retire", chat=5, message=9, priority=Priority.RETIRE)
    call(limiter, telegram, "retire-other", chat=5, message=10, priority=Priority.RETIRE)
    edit = call(limiter, telegram, "edit", chat=5, message=9)
    await clock.advance(1.01)
    assert edit.done() and limiter.kept == 1  # the other message's retirement still waits
    await clock.advance(1.01)
    await limiter.drain()
    assert telegram.names()[-2:] == ["edit", "retire-other"]
    assert "retire" not in telegram.names()


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_pauses_its_own_chat_only_and_the_refused_call_goes_first_after_it(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    telegram.refuse["first"] = 20
    refused = call(limiter, telegram, "first", chat=1)
    await clock.advance(0)
    same_chat = call(limiter, telegram, "same-chat", chat=1)
    others = [call(limiter, telegram, f"other{n}", chat=10 + n) for n in range(3)]
    await clock.advance(0)
    # Other chats go at once; the refused chat waits, and holds no slot while it does.
    assert telegram.names() == ["other0", "other1", "other2"]
    assert all(task.done() for task in others)
    await clock.advance(19)
    assert telegram.names() == ["other0", "other1", "other2"]
    await clock.advance(1.2)
    assert telegram.names()[3:] == ["first", "same-chat"]
    assert telegram.sent[3][1] >= 20.0
    assert refused.done() and same_chat.done()


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429s_from_several_chats_at_once_pause_every_send(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    """Telegram's limit for all chats together shows as 429s for FLOOD_CHATS different
    chats within FLOOD_WINDOW: then every send waits, for the longest retry_after."""
    for n in range(FLOOD_CHATS - 1):
        telegram.refuse[f"refused{n}"] = 3
        call(limiter, telegram, f"refused{n}", chat=n)
    await clock.advance(FLOOD_WINDOW / 2)
    # Fewer chats than FLOOD_CHATS: still their own bursts; a bystander goes at once.
    call(limiter, telegram, "bystander", chat=100)
    await clock.advance(0)
    assert telegram.names() == ["bystander"]
    telegram.refuse["last"] = 5
    call(limiter, telegram, "last", chat=FLOOD_CHATS)
    await clock.advance(0)
    late = call(limiter, telegram, "late-bystander", chat=101)
    await clock.advance(4.5)
    assert "late-bystander" not in telegram.names()
    await clock.advance(1)
    assert late.done()
    assert set(telegram.names()) == {"bystander", "late-bystander", "last"} | {
        f"refused{n}" for n in range(FLOOD_CHATS - 1)
    }


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429s_from_several_chats_far_apart_pause_only_their_chats(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    for n in range(FLOOD_CHATS):
        telegram.refuse[f"refused{n}"] = 10
        call(limiter, telegram, f"refused{n}", chat=n)
        await clock.advance(FLOOD_WINDOW + 0.5)
    bystander = call(limiter, telegram, "bystander", chat=100)
    await clock.advance(0)
    assert bystander.done() and telegram.names() == ["bystander"]


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_chat_waiting_out_a_429_keeps_its_retirements_for_later(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    telegram.refuse["cue"] = 3
    call(limiter, telegram, "cue", chat=1)
    await clock.advance(0)
    retire = call(limiter, telegram, "retire", chat=1, message=5, priority=Priority.RETIRE)
    other = call(limiter, telegram, "retire-other", chat=2, message=6, priority=Priority.RETIRE)
    await clock.advance(0)
    assert retire.done() and other.done()
    assert telegram.names() == ["retire-other"] and limiter.kept == 1
    assert await limiter.drain() == 0  # its chat still waits
    await clock.advance(3.2)
    assert await limiter.drain() == 1
    assert telegram.names()[-2:] == ["cue", "retire"]


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_past_the_retries_reaches_the_caller(
    clock: HandClock, telegram: Telegram
) -> None:
    limiter = PriorityRateLimiter(max_retries=0, scheduler=clock)
    telegram.refuse["once"] = 1
    refused = call(limiter, telegram, "once")
    await clock.advance(0)
    assert refused.done() and isinstance(refused.exception(), RetryAfter)


async def test_a_5xx_or_timeout_reaches_the_caller_untried_and_frees_its_slot(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    """Only a 429 is tried again here: whether a timed-out cue went out is the caller's
    call (cues at least once, reminders at most once)."""
    tries = 0

    async def failing() -> bool:
        nonlocal tries
        tries += 1
        raise TimedOut()

    with pytest.raises(TimedOut):
        await limiter.process_request(failing, (), {}, "m", {"chat_id": 1}, None)
    assert tries == 1
    await clock.advance(1.01)
    calls = [call(limiter, telegram, f"m{n}") for n in range(MESSAGES_PER_SECOND)]
    await clock.advance(0)
    assert all(task.done() for task in calls)


async def test_paid_broadcasts_go_past_thirty_without_taking_the_free_slots(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    paid = [call(limiter, telegram, f"paid{n}", chat=n, paid=True) for n in range(300)]
    await clock.advance(0)
    assert all(task.done() for task in paid)
    free = [call(limiter, telegram, f"free{n}", chat=n) for n in range(MESSAGES_PER_SECOND)]
    await clock.advance(0)
    assert all(task.done() for task in free)


async def test_a_waiter_that_gives_up_leaves_its_slot_to_the_next(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    await fill_the_second(clock, telegram, limiter)
    gone = call(limiter, telegram, "gone")
    waiting = call(limiter, telegram, "waiting")
    await clock.advance(0)
    gone.cancel()
    await clock.advance(1.01)
    assert waiting.done() and "gone" not in telegram.names()
    # Every slot came back: a full second's worth goes again.
    await clock.advance(2)
    more = [call(limiter, telegram, f"more{n}") for n in range(MESSAGES_PER_SECOND)]
    await clock.advance(0)
    assert all(task.done() for task in more)


def stoppable_call(
    limiter: PriorityRateLimiter, telegram: Telegram, name: str
) -> asyncio.Task[Any]:
    """A call made as a timer's cue is: given up, unsent, if the bot stops first."""
    with stoppable():
        # The task copies the context as it is now, stoppable() included.
        return call(limiter, telegram, name)


async def test_a_stop_ends_the_waits_of_stoppable_calls_and_no_other(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    await fill_the_second(clock, telegram, limiter)
    cues = [stoppable_call(limiter, telegram, f"cue{n}") for n in range(5)]
    reply = call(limiter, telegram, "reply")
    await clock.advance(0)
    assert limiter.stop_waiting() == 5
    await clock.advance(0)
    for cue in cues:
        assert cue.done() and isinstance(cue.exception(), Stopping)
    # A reply to an update is still sent, in its turn; the slots the cues had waited
    # for are not lost.
    await clock.advance(1.01)
    assert reply.done() and reply.result() == {"sent": "reply"}
    assert not [name for name in telegram.names() if name.startswith("cue")]
    # After the stop a stoppable call is not made at all, even with slots free.
    await clock.advance(2)
    late = stoppable_call(limiter, telegram, "late cue")
    await clock.advance(0)
    assert isinstance(late.exception(), Stopping)
    assert "late cue" not in telegram.names()
    more = [call(limiter, telegram, f"more{n}") for n in range(MESSAGES_PER_SECOND)]
    await clock.advance(0)
    assert all(task.done() for task in more)


async def test_a_stoppable_call_already_sending_is_not_stopped(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    release = asyncio.Event()

    async def slow_send() -> dict[str, Any]:
        await release.wait()
        return {"sent": "slowly"}

    with stoppable():
        sending = asyncio.ensure_future(
            limiter.process_request(slow_send, (), {}, "m", {"chat_id": 1}, None)
        )
    await clock.advance(0)
    assert limiter.stop_waiting() == 0
    release.set()
    await clock.advance(0)
    assert sending.result() == {"sent": "slowly"}


class CountingBudget:
    def __init__(self) -> None:
        self.taken = 0

    async def take(self) -> None:
        self.taken += 1


class WithBudget:
    def __init__(self, budget: CountingBudget) -> None:
        self.send_budget = budget


async def test_with_workers_each_free_counted_call_takes_a_bot_wide_slot(
    clock: HandClock, telegram: Telegram, limiter: PriorityRateLimiter
) -> None:
    budget = CountingBudget()
    limiter.bot_data[SERVICES] = WithBudget(budget)
    await asyncio.gather(
        call(limiter, telegram, "counted"),
        call(limiter, telegram, "answer", chat=None),
        call(limiter, telegram, "paid", paid=True),
    )
    assert budget.taken == 1
