"""Stopping the bot while a queue of cues waits for Telegram's 30 a second: the stop is
quick and quiet (nothing above INFO: the cues were left on purpose), and every cue left
is sent once after the restart.

Before, the stop waited for the running cue jobs, then APScheduler cancelled the rest
mid-send and logged each as an ERROR traceback; the sends already past the rate limiter
went on after the bot had closed its connection and its database."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bench.timers import CLASS_ID, seed, user_of
from bot.models import PracticeStatus
from handlers import reminder_tick
from handlers.buttons import PracticeButton
from handlers.rate_limit import is_stoppable
from playground.emulator import BotApiEmulator
from tests.harness.bot import bot_running, stored_practices

CLASSES = 90
# Cues are sent before the stop: the rest wait in the rate limiter.
SENT_BEFORE_STOP = 10
# Holds as long as settings allow: the cue sent after a restart is the class's last here.
SLOW = 100.0


def at_their_first_pose(emulator: BotApiEmulator, classes: int) -> None:
    """Each seeded practice's user has its first cue (message 1) in their chat."""
    for practice_id in range(1, classes + 1):
        chat = emulator.user(user_of(practice_id)).open_chat()
        button = {"text": "Next", "callback_data": f"p:n:{practice_id}:0"}
        emulator.state.add_message(
            chat, from_bot=True, text="the first pose",
            reply_markup={"inline_keyboard": [[button]]},
        )  # fmt: skip


def first_cues(emulator: BotApiEmulator, classes: int = CLASSES) -> Counter[int]:
    """How many times each practice's second pose (step 1) arrived."""
    arrived: Counter[int] = Counter()
    for practice_id in range(1, classes + 1):
        chat = emulator.user(user_of(practice_id)).chat
        assert chat is not None
        for message in chat.messages:
            presses = [PracticeButton.parse(b.get("callback_data")) for b in message.buttons]
            if any(p is not None and p.step == 1 for p in presses) and message.from_bot:
                arrived[practice_id] += 1
    return arrived


@pytest.mark.backends("sqlite")
async def test_a_stop_with_cues_waiting_is_quiet_and_the_restart_sends_each_once(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    at_their_first_pose(emulator, CLASSES)
    # Half the classes' first holds end at once, a moment after the start, the others'
    # over the next three seconds: the stop comes with cues waiting and timers firing.
    start = time.time() + 1.0
    await seed(
        database_url,
        {p: start + max(0, p - CLASSES // 2) * 3.0 / CLASSES for p in range(1, CLASSES + 1)},
    )
    async with bot_running(emulator, database_url, time_scale=SLOW):
        await emulator.wait_for(lambda: sum(first_cues(emulator).values()) >= SENT_BEFORE_STOP)
        caplog.clear()
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.INFO] == []
    sent_before = first_cues(emulator)
    assert sum(sent_before.values()) < CLASSES  # the stop came with cues still waiting

    async with bot_running(emulator, database_url, time_scale=SLOW):
        await emulator.wait_for(lambda: len(first_cues(emulator)) == CLASSES, timeout=30)
    assert set(first_cues(emulator).values()) == {1}
    practices = await stored_practices(database_url)
    assert {(p.status, p.current_step) for p in practices} == {(PracticeStatus.ACTIVE, 1)}
    assert all(p.class_id == CLASS_ID and p.cue_message_id is not None for p in practices)


@pytest.mark.backends("sqlite")
async def test_reminders_are_never_given_up_at_a_stop_however_timers_were_armed(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # APScheduler starts each due job with the context of whoever added a job last: a cue
    # timer armed from inside a stoppable cue send must not make the reminder tick, which
    # sends reminders already claimed (at most once), stoppable too.
    seen: list[bool] = []
    real_tick: Callable[..., Awaitable[None]] = reminder_tick._tick

    async def watched_tick(*args: Any, **kwargs: Any) -> None:
        seen.append(is_stoppable())
        await real_tick(*args, **kwargs)

    monkeypatch.setattr(reminder_tick, "_tick", watched_tick)
    monkeypatch.setattr(reminder_tick, "TICK_SECONDS", 1)
    monkeypatch.setattr(reminder_tick, "FIRST_TICK_SECONDS", 0.1)
    classes = 20
    at_their_first_pose(emulator, classes)
    start = time.time() + 0.5
    await seed(database_url, {p: start + p * 0.05 for p in range(1, classes + 1)})
    async with bot_running(emulator, database_url, time_scale=SLOW):
        # Ticks before, among and after the cue timers firing (and arming the next ones).
        await emulator.wait_for(lambda: len(first_cues(emulator, classes)) == classes)
        after = len(seen)
        await emulator.wait_for(lambda: len(seen) >= after + 3)
    assert seen and not any(seen)
