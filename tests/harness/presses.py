"""The practice service driven as the chat drives it: a button pressed, a cue Telegram took
or did not take, each one event through `apply`."""

from __future__ import annotations

from datetime import datetime

from bot.cues import Cue, PracticeOutcome
from bot.practice.machine import Action, CueFailed, CueSent, HoldOver, Press
from bot.practice.service import PracticeService, StaleAction
from tests.harness.fakes import FakeTimers


async def press(
    practice: PracticeService, action: Action, user_id: int, practice_id: int, step: int
) -> PracticeOutcome:
    return await practice.apply(practice_id, Press(action, user_id, step))


async def delivered(
    practice: PracticeService,
    cue: Cue,
    chat_id: int,
    message_id: int,
    *,
    at: datetime | None = None,
) -> PracticeOutcome:
    """Telegram took the cue (at `at`, by default now)."""
    sent = CueSent(cue.step, chat_id, message_id, at or practice.now())
    return await practice.apply(cue.practice_id, sent)


async def undelivered(
    practice: PracticeService, timers: FakeTimers, cue: Cue, *, luck: float | None = None
) -> float | None:
    """Telegram did not take the cue: the seconds until it is tried again, or None when
    the practice has moved on or the cue was delivered meanwhile."""
    failed = CueFailed(cue.step, practice.luck() if luck is None else luck)
    try:
        await practice.apply(cue.practice_id, failed)
    except StaleAction:
        return None
    return (timers.armed[cue.practice_id].at - practice.now()).total_seconds()


async def advance_if_due(
    practice: PracticeService, practice_id: int, step: int, *, sender_gone: bool = False
) -> PracticeOutcome | None:
    """The timer's wake-up for `step`, as handlers/timers.py makes it; None once that step
    is over."""
    try:
        return await practice.apply(practice_id, HoldOver(step, sender_gone))
    except StaleAction:
        return None
