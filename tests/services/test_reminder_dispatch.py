"""The reminder fan-out alone: the real claims on a real database, the real send window,
and a send that only records (no Telegram). What a crash would lose is what is claimed
and not yet answered, so that is what these tests watch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus
from bot.reminder_dispatch import REMINDERS_PER_SECOND, SendWindow, dispatch_due
from bot.reminders import ClaimResult, DueReminder, ReminderService, Schedule
from bot.store import Store, StoreUnavailable

SET_AT = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
EIGHT_AM = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
# README: claimed reminders wait for at most the next 0.2 s of sends, and a crash loses at
# most half a second of them, at Telegram's 30 a second.
WAITING_AT_MOST = 6
LOST_AT_MOST = 15


class WatchedReminders(ReminderService):
    """The real service, counting its claims and what they claimed to send; after
    `fail_after` claims it stops answering, as a locked database does."""

    def __init__(self, store: Store, clock: ManualClock, *, fail_after: int | None = None) -> None:
        super().__init__(store, clock)
        self.claims = 0
        self.claimed = 0
        self.fail_after = fail_after

    async def claim_due(self, limit: int, **more: Any) -> ClaimResult:
        if self.fail_after is not None and self.claims >= self.fail_after:
            raise StoreUnavailable("database is locked")
        self.claims += 1
        batch = await super().claim_due(limit, **more)
        self.claimed += len(batch.reminders)
        return batch


class Telegram:
    """The send: records each reminder, and what was claimed and not yet answered at the
    start of each send. With `answers_in_rounds_of`, it answers nothing until that many
    sends are out at once, then answers them all (a slow Telegram, without a clock)."""

    def __init__(self, reminders: WatchedReminders, *, answers_in_rounds_of: int = 0) -> None:
        self._reminders = reminders
        self._round = answers_in_rounds_of
        self._unanswered: list[asyncio.Future[None]] = []
        self.started: list[int] = []
        self.answered = 0
        self.waiting_most = 0  # claimed and not yet started, at any start
        self.unanswered_most = 0  # claimed and not yet answered, at any start

    async def send(self, reminder: DueReminder) -> None:
        self.started.append(reminder.user_id)
        claimed = self._reminders.claimed
        self.waiting_most = max(self.waiting_most, claimed - len(self.started))
        self.unanswered_most = max(self.unanswered_most, claimed - self.answered)
        if self._round:
            answer = asyncio.get_running_loop().create_future()
            self._unanswered.append(answer)
            if len(self._unanswered) == self._round:
                for each in self._unanswered:
                    each.set_result(None)
                self._unanswered.clear()
            await answer
        self.answered += 1


async def due(store: Store, clock: ManualClock, count: int) -> list[int]:
    """`count` users whose reminders fell due a minute apart from 07:00; now is 08:00."""
    clock.now = SET_AT
    service = ReminderService(store, clock)
    users = list(range(1, count + 1))
    for user_id in users:
        await service.set_schedule(user_id, user_id, "Test", Schedule(7, user_id - 1))
    clock.now = EIGHT_AM
    return users


async def fan_out(reminders: ReminderService, telegram: Telegram, **more: Any) -> int:
    window = SendWindow(REMINDERS_PER_SECOND)
    async with asyncio.timeout(20):  # bounded: a wrong bound would leave sends hanging
        return await dispatch_due(
            reminders, telegram.send, window, **{"keep_claiming": lambda: True, **more}
        )


async def test_reminders_are_claimed_just_ahead_of_their_sends(
    store: Store, clock: ManualClock
) -> None:
    users = await due(store, clock, 24)
    reminders = WatchedReminders(store, clock)
    telegram = Telegram(reminders)
    assert await fan_out(reminders, telegram) == 24
    assert telegram.started == users  # each once, oldest first
    assert 0 < telegram.waiting_most <= WAITING_AT_MOST


async def test_a_slow_telegram_never_has_more_than_half_a_second_of_sends_claimed(
    store: Store, clock: ManualClock
) -> None:
    users = await due(store, clock, 2 * LOST_AT_MOST)
    reminders = WatchedReminders(store, clock)
    # Telegram answers only once 15 sends are out: the window alone would let 30 go.
    telegram = Telegram(reminders, answers_in_rounds_of=LOST_AT_MOST)
    await fan_out(reminders, telegram)
    assert telegram.started == users
    assert telegram.unanswered_most == LOST_AT_MOST


async def test_what_was_claimed_is_sent_when_the_database_stops_answering(
    store: Store, clock: ManualClock
) -> None:
    users = await due(store, clock, 20)
    reminders = WatchedReminders(store, clock, fail_after=2)
    telegram = Telegram(reminders)
    with pytest.raises(StoreUnavailable):
        await fan_out(reminders, telegram)
    # What the two claims before the trouble claimed went out; the rest is still due.
    assert 0 < reminders.claimed < 20
    assert telegram.started == users[: reminders.claimed]
    left = await ReminderService(store, clock).claim_due(100)
    assert [r.user_id for r in left.reminders] == users[reminders.claimed :]


async def test_nothing_more_is_claimed_once_the_bot_stops(store: Store, clock: ManualClock) -> None:
    users = await due(store, clock, 20)
    reminders = WatchedReminders(store, clock)
    telegram = Telegram(reminders)
    stopping_after = -1  # the claims made when the Application began to stop

    def keep_claiming() -> bool:
        nonlocal stopping_after
        if stopping_after < 0 and len(telegram.started) >= 3:
            stopping_after = reminders.claims
        return stopping_after < 0

    await fan_out(reminders, telegram, keep_claiming=keep_claiming)
    assert reminders.claims == stopping_after
    # Whatever was claimed was sent, and nothing more.
    assert 3 <= reminders.claimed < 20
    assert telegram.started == users[: reminders.claimed]


async def test_a_claim_looks_past_rows_without_a_send_but_claims_only_the_sends_asked_for(
    store: Store, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    users = await due(store, clock, 10)
    # Users 1, 3, 5, 7, 9 practised this morning: their rows are moved on without a send.
    async with create_sessionmaker(db_engine).begin() as db:
        db.add_all(
            Practice(
                user_id=user_id,
                chat_id=user_id,
                class_id="tiny-class",
                status=PracticeStatus.FINISHED,
                started_at=SET_AT - timedelta(minutes=30),
                finished_at=SET_AT,
            )
            for user_id in users[::2]
        )
    reminders = ReminderService(store, clock)
    first = await reminders.claim_due(2, look_at=10)
    # Two sends; the rows after the second (users 5 to 10) are left due for the next claim.
    assert [r.user_id for r in first.reminders] == [2, 4] and first.more
    rest = await reminders.claim_due(10)
    assert [r.user_id for r in rest.reminders] == [6, 8, 10] and not rest.more
