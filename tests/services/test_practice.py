"""The practice service alone: no Telegram, time moved by hand, timers faked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.models import Practice, PracticeStatus
from bot.practice.machine import (
    RETRY_JITTER,
    RETRY_MAX,
    SEND_GRACE,
    Action,
    Press,
    Refusal,
    decide,
    store_backoff,
)
from bot.practice.service import (
    MessageRef,
    PracticeOutcome,
    PracticeService,
    StaleAction,
)
from bot.store import Store, StoreUnavailable, UnitOfWork
from sequences import YogaClass
from tests.harness.factories import make_class
from tests.harness.fakes import Armed, FakeTimers
from tests.harness.presses import advance_if_due, delivered, press, undelivered

USER, CHAT = 42, 42


async def shown(practice: PracticeService, outcome: PracticeOutcome | None, message_id: int) -> int:
    """Deliver the outcome's cue as the presenter does; its step."""
    assert outcome is not None and outcome.show is not None
    await delivered(practice, outcome.show, outcome.chat_id, message_id)
    return outcome.show.step


async def test_start_shows_the_first_pose_and_arms_its_deadline(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    assert (started.show.step, started.show.total, started.show.pose.id) == (0, 3, "pose-1")
    assert timers.armed == {started.practice_id: Armed(0, CHAT, clock() + timedelta(seconds=60))}


async def test_timer_before_the_deadline_arms_itself_again(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    await shown(practice, started, 10)
    deadline = timers.armed[started.practice_id].at
    timers.armed.clear()
    clock.advance(30)
    early = await advance_if_due(practice, started.practice_id, 0)
    assert early is not None and (early.show, early.retire, early.summary) == (None, (), None)
    assert timers.armed == {started.practice_id: Armed(0, CHAT, deadline)}


async def test_timer_after_the_deadline_moves_on_once(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    await delivered(practice, started.show, CHAT, message_id=10)
    clock.advance(60)
    moved = await advance_if_due(practice, started.practice_id, 0)
    assert moved is not None and moved.show is not None and moved.show.step == 1
    assert moved.retire == (MessageRef(CHAT, 10),)
    assert timers.armed[started.practice_id] == Armed(1, CHAT, clock() + timedelta(seconds=60))
    # The same timer firing twice (or a restart re-arming it) finds the step already over.
    assert await advance_if_due(practice, started.practice_id, 0) is None


async def test_next_skips_ahead_and_a_second_tap_is_stale(practice: PracticeService) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    moved = await press(practice, Action.NEXT, USER, started.practice_id, 0)
    assert moved.show is not None and moved.show.step == 1
    with pytest.raises(StaleAction):
        await press(practice, Action.NEXT, USER, started.practice_id, 0)


async def test_someone_elses_button_changes_nothing(practice: PracticeService) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    with pytest.raises(StaleAction):
        await press(practice, Action.NEXT, USER + 1, started.practice_id, 0)
    with pytest.raises(StaleAction):
        await press(practice, Action.STOP, USER + 1, started.practice_id, 0)
    assert (await practice.current_cue(started.practice_id)).step == 0


async def test_easier_option_is_recorded_once_and_redrawn(practice: PracticeService) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    practice_id = started.practice_id
    revealed = await press(practice, Action.EASIER, USER, practice_id, 0)
    assert revealed.redraw is not None and revealed.redraw.easier_shown
    assert revealed.show is None
    await press(practice, Action.EASIER, USER, practice_id, 0)
    assert (await practice.current_cue(practice_id)).easier_shown
    await press(practice, Action.NEXT, USER, practice_id, 0)
    await press(practice, Action.NEXT, USER, practice_id, 1)
    closing = await press(practice, Action.NEXT, USER, practice_id, 2)
    assert closing.summary is not None
    assert closing.summary.easier_used == 1


async def test_pause_stops_the_clock_and_resume_keeps_the_rest(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    practice_id = started.practice_id
    clock.advance(20)
    paused = await press(practice, Action.PAUSE, USER, practice_id, 0)
    assert paused.redraw is not None and paused.redraw.paused
    assert practice_id not in timers.armed and timers.cancelled == [practice_id]
    clock.advance(600)
    # A paused pose never falls due, however long the break.
    assert await advance_if_due(practice, practice_id, 0) is None
    with pytest.raises(StaleAction):
        await press(practice, Action.PAUSE, USER, practice_id, 0)
    resumed = await press(practice, Action.RESUME, USER, practice_id, 0)
    assert resumed.redraw is not None and not resumed.redraw.paused
    assert timers.armed[practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=40))


async def test_whole_class_by_timer_ends_with_a_summary(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    practice_id, step = started.practice_id, await shown(practice, started, 10)
    while True:
        clock.advance(60)
        outcome = await advance_if_due(practice, practice_id, step)
        assert outcome is not None
        if outcome.summary is not None:
            break
        step = await shown(practice, outcome, 11 + step)
    summary = outcome.summary
    assert summary.status == PracticeStatus.FINISHED
    assert (summary.minutes, summary.poses_done, summary.easier_used) == (3, 3, 0)
    assert summary.ask_after
    assert timers.armed == {} and timers.cancelled == [practice_id]
    # Until the closing message is delivered, a restart sends it again.
    [owed] = await practice.resume_all()
    assert owed.summary == summary and owed.show is None
    await practice.summary_shown(practice_id)
    assert await practice.resume_all() == []


async def test_stop_records_a_stopped_practice_with_time_practised(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    await shown(practice, started, 10)
    clock.advance(60)
    await shown(practice, await advance_if_due(practice, started.practice_id, 0), 11)
    clock.advance(30)
    asked = await press(practice, Action.STOP, USER, started.practice_id, 1)
    assert asked.summary is None  # Stop asks first
    clock.advance(120)  # the clock stands still while it asks
    stopped = await press(practice, Action.END, USER, started.practice_id, 1)
    assert stopped.summary is not None
    assert stopped.summary.status == PracticeStatus.STOPPED
    # The first pose held to its end; the second stopped part-way.
    assert (stopped.summary.poses_done, stopped.summary.ended_on) == (1, 1)
    assert stopped.summary.minutes == round(90 / 60)
    assert not stopped.summary.ask_after
    assert started.practice_id not in timers.armed
    with pytest.raises(StaleAction):
        await press(practice, Action.NEXT, USER, started.practice_id, 1)


async def test_time_scale_shortens_holds_but_not_the_minutes_reported(
    store: Store, clock: ManualClock, tiny_class: YogaClass, timers: FakeTimers
) -> None:
    fast = PracticeService(store, {tiny_class.id: tiny_class}, clock, timers, time_scale=0.01)
    started = await fast.start(USER, CHAT, "Ana")
    assert timers.armed[started.practice_id].at - clock() == timedelta(seconds=0.6)
    outcome: PracticeOutcome | None = started
    for step in range(3):
        await shown(fast, outcome, 10 + step)
        clock.advance(0.6)
        outcome = await advance_if_due(fast, started.practice_id, step)
        assert outcome is not None
    assert outcome is not None
    assert outcome.summary is not None and outcome.summary.minutes == 3


async def test_starting_again_stops_the_open_practice_and_its_timer(
    practice: PracticeService, timers: FakeTimers
) -> None:
    first = await practice.start(USER, CHAT, "Ana")
    assert first.show is not None
    await delivered(practice, first.show, CHAT, 77)
    second = await practice.start(USER, CHAT, "Ana")
    assert second.retire == (MessageRef(CHAT, 77),)
    assert first.practice_id in timers.cancelled
    assert list(timers.armed) == [second.practice_id]
    [resent] = await practice.resume_all()
    assert resent.practice_id == second.practice_id


async def test_resume_all_arms_deadlines_and_resends_unconfirmed_cues(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    confirmed = await practice.start(USER, CHAT, "Ana")
    assert confirmed.show is not None
    await delivered(practice, confirmed.show, CHAT, 5)
    unconfirmed = await practice.start(USER + 1, CHAT + 1, "Ben")
    paused = await practice.start(USER + 2, CHAT + 2, "Cy")
    await press(practice, Action.PAUSE, USER + 2, paused.practice_id, 0)
    deadline = timers.armed[confirmed.practice_id].at
    timers.armed.clear()

    outcomes = await practice.resume_all()

    # The confirmed cue is not sent again; the unconfirmed one is, and its timer is armed
    # once it is delivered (or fails). A paused practice has no deadline, so no timer.
    [resent] = outcomes
    assert resent.practice_id == unconfirmed.practice_id and resent.show is not None
    assert timers.armed == {confirmed.practice_id: Armed(0, CHAT, deadline)}


async def test_starting_closes_every_other_open_practice(
    practice: PracticeService, store: Store, clock: ManualClock, tiny_class: YogaClass
) -> None:
    # Two open practices at once (say, left by a timer racing an earlier start).
    async with store.write() as uow:
        await uow.users.save(USER, CHAT, "Ana", clock())
        for _ in range(2):
            await uow.practices.create(
                user_id=USER,
                chat_id=CHAT,
                class_id=tiny_class.id,
                now=clock(),
                hold_ends_at=clock() + timedelta(seconds=60),
            )
    started = await practice.start(USER, CHAT, "Ana")
    async with store.read() as uow:
        [still_open] = await uow.practices.open_of(USER)
    assert still_open.id == started.practice_id


async def test_a_practice_of_a_removed_class_ends_quietly(
    store: Store, clock: ManualClock, tiny_class: YogaClass, timers: FakeTimers
) -> None:
    old = PracticeService(store, {"old-class": make_class("old-class")}, clock, timers)
    orphan = await old.start(USER, CHAT, "Ana")
    await press(old, Action.PAUSE, USER, orphan.practice_id, 0)
    # The class file is renamed in a deploy; the paused practice must not break anything.
    practice = PracticeService(store, {tiny_class.id: tiny_class}, clock, timers)
    assert await practice.resume_all() == []
    with pytest.raises(StaleAction):
        await press(practice, Action.NEXT, USER, orphan.practice_id, 0)
    assert await advance_if_due(practice, orphan.practice_id, 0) is None
    started = await practice.start(USER, CHAT, "Ana")
    async with store.read() as uow:
        [open_now] = await uow.practices.open_of(USER)
    assert open_now.id == started.practice_id


async def test_a_cue_confirmed_after_the_read_is_never_left_with_buttons(
    practice: PracticeService, store: Store, clock: ManualClock
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    async with store.read() as uow:
        seen = await uow.practices.state(started.practice_id)
    assert seen is not None
    # The cue's send returns between a Next tap reading the row and moving it on: decided
    # on what it read, the move would retire no message and leave 42 with its buttons.
    assert (await delivered(practice, started.show, CHAT, message_id=42)).retire == ()
    move = decide(seen, Press(Action.NEXT, USER, 0), clock(), practice._plan(seen))
    assert not isinstance(move, Refusal) and move.state.step == 1 and move.retire == ()
    async with store.write() as uow:
        assert await uow.practices.save(seen, move, clock()) is False
    clock.advance(60)
    outcome = await advance_if_due(practice, started.practice_id, 0)
    assert outcome is not None and outcome.retire == (MessageRef(CHAT, 42),)
    # A cue whose send returns only after the practice moved on is retired at once.
    late = await delivered(practice, started.show, CHAT, message_id=43)
    assert late.retire == (MessageRef(CHAT, 43),)


async def test_an_unreachable_chat_ends_its_open_practices(
    practice: PracticeService, store: Store, timers: FakeTimers
) -> None:
    mine = await practice.start(USER, CHAT, "Ana")
    other = await practice.start(USER + 1, CHAT + 1, "Ben")
    await practice.abandon_chat(CHAT)
    async with store.read() as uow:
        assert await uow.practices.open_of(USER) == []
        [still_open] = await uow.practices.open_of(USER + 1)
    assert still_open.id == other.practice_id
    assert mine.practice_id in timers.cancelled and list(timers.armed) == [other.practice_id]


async def test_many_users_at_once_never_meet_a_locked_database(
    practice: PracticeService, store: Store
) -> None:
    # Each start reads the user's open practices and then writes: on SQLite such a unit
    # must hold the write lock from its start, or a commit beside it fails it at once.
    users = range(100, 130)
    started = await asyncio.gather(*(practice.start(u, u, "Ana") for u in users))
    moved = await asyncio.gather(
        *(
            press(practice, Action.NEXT, u, s.practice_id, 0)
            for u, s in zip(users, started, strict=True)
        )
    )
    assert all(m.show is not None and m.show.step == 1 for m in moved)
    async with store.read() as uow:
        assert len(await uow.practices.all_open()) == len(users)


async def shown_steps(store: Store, practice_id: int) -> list[int]:
    async with store.read() as uow:
        counts = await uow.users.event_counts_of(USER)
    return [n for (pid, kind), n in counts.items() if pid == practice_id and kind == "shown"]


async def test_a_cue_telegram_did_not_take_is_sent_again_and_its_hold_waits(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    # Only a delivered cue counts as shown.
    assert await shown_steps(store, started.practice_id) == []
    delay = await undelivered(practice, timers, started.show)
    assert delay is not None and delay == pytest.approx(1, rel=RETRY_JITTER)
    assert timers.armed[started.practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=delay))
    clock.advance(delay)
    again = await advance_if_due(practice, started.practice_id, 0)
    assert again is not None and again.show == started.show
    clock.advance(120)  # long past the first deadline: the hold had not begun for the user
    assert (await delivered(practice, started.show, CHAT, 5)).retire == ()
    assert timers.armed[started.practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=60))
    assert await shown_steps(store, started.practice_id) == [1]


async def test_a_cue_that_cannot_be_sent_is_tried_again_without_end_backing_off_to_a_minute(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    delays = []
    for _ in range(10):
        delay = await undelivered(practice, timers, started.show)
        assert delay is not None
        assert timers.armed[started.practice_id].at == clock() + timedelta(seconds=delay)
        delays.append(delay)
        # Before its time no look sends it again, neither its timer nor any worker's sweep.
        clock.advance(delay * 0.9)
        assert await practice.overdue(grace=timedelta(0), limit=10) == []
        waiting = await advance_if_due(practice, started.practice_id, 0, sender_gone=True)
        assert waiting is not None and waiting.show is None
        clock.advance(delay * 0.1 + 0.01)
        [due] = await practice.overdue(grace=timedelta(0), limit=10)
        assert (due.practice_id, due.cue_confirmed) == (started.practice_id, False)
        again = await advance_if_due(practice, started.practice_id, 0)
        assert again is not None and again.show == started.show
    pauses = [1, 2, 4, 8, 16, 32, RETRY_MAX, RETRY_MAX, RETRY_MAX, RETRY_MAX]
    assert delays == [pytest.approx(p, rel=RETRY_JITTER) for p in pauses]
    async with store.read() as uow:
        waiting_row = await uow.practices.get(started.practice_id)
    # It never pauses for the user: once Telegram answers, the class goes on by itself.
    assert waiting_row is not None and waiting_row.status == PracticeStatus.ACTIVE
    await delivered(practice, started.show, CHAT, 9)
    assert timers.armed[started.practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=60))
    assert await practice.overdue(grace=timedelta(0), limit=10) == []


async def test_a_practice_an_earlier_rule_paused_for_its_cue_goes_on_when_the_user_is_back(
    practice: PracticeService,
    store: Store,
    clock: ManualClock,
    timers: FakeTimers,
    db_engine: AsyncEngine,
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    await undelivered(practice, timers, started.show)
    async with db_engine.begin() as connection:
        await connection.execute(
            update(Practice)
            .where(Practice.id == started.practice_id)
            .values(
                status=PracticeStatus.PAUSED,
                hold_ends_at=None,
                remaining_seconds=60.0,
                version=Practice.version + 1,
            )
        )
    assert await practice.resume_all() == []  # it waits for the user
    assert await practice.bring_back(USER + 1) is None
    back = await practice.bring_back(USER)
    assert back is not None and back.show is not None and back.show.step == 0
    assert not back.show.paused
    await delivered(practice, back.show, CHAT, 9)
    assert timers.armed[started.practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=60))
    assert await practice.bring_back(USER) is None


async def test_a_send_that_never_answers_is_taken_as_lost_only_after_a_grace(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    deadline = timers.armed[started.practice_id].at
    clock.advance(60)
    # The hold is over but the send may still be under way: look again later, send nothing.
    waiting = await advance_if_due(practice, started.practice_id, 0)
    assert waiting is not None and waiting.show is None
    assert timers.armed[started.practice_id].at == deadline + SEND_GRACE
    clock.advance(SEND_GRACE.total_seconds())
    resent = await advance_if_due(practice, started.practice_id, 0)
    assert resent is not None and resent.show is not None and resent.show.step == 0


async def test_a_delivered_cue_the_database_could_not_record_is_recorded_later(
    db_engine: AsyncEngine, clock: ManualClock, timers: FakeTimers, tiny_class: YogaClass
) -> None:
    store = FlakyStore(db_engine)
    practice = PracticeService(store, {tiny_class.id: tiny_class}, clock, timers)
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    store.broken = True
    clock.advance(61)  # late: its hold starts when it arrives
    sent_at = clock()
    # Nothing for the chat to do: the cue is there; the service remembers it.
    assert await delivered(practice, started.show, CHAT, 5) == PracticeOutcome(
        started.practice_id, CHAT
    )
    assert practice.remembers(started.practice_id, 0)
    assert timers.armed[started.practice_id] == Armed(
        0, CHAT, clock() + timedelta(seconds=store_backoff(1))
    )
    # A look while the database still does not answer sends nothing again.
    clock.advance(120)
    with pytest.raises(StoreUnavailable):
        await advance_if_due(practice, started.practice_id, 0, sender_gone=True)
    store.broken = False
    clock.advance(store_backoff(1))
    # The timer records the delivery it could not record before: no second copy is sent.
    looked_again = await advance_if_due(practice, started.practice_id, 0)
    assert looked_again is not None and looked_again.show is None
    async with store.read() as uow:
        recorded = await uow.practices.get(started.practice_id)
    assert recorded is not None and recorded.cue_message_id == 5
    assert not practice.remembers(started.practice_id, 0)
    # Its hold ran from when Telegram took it, not from when it was recorded.
    assert recorded.hold_ends_at == sent_at + timedelta(seconds=60)


class FlakyStore(Store):
    """A store whose database stops answering while `broken`."""

    broken = False

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        if self.broken:
            raise StoreUnavailable("database is locked")
        async with super().write() as uow:
            yield uow


async def test_a_practice_replaced_or_in_an_unreachable_chat_ends_without_a_summary(
    practice: PracticeService,
) -> None:
    await practice.start(USER, CHAT, "Ana")
    await practice.start(USER, CHAT, "Ana")  # replaces the first
    await practice.abandon_chat(CHAT)  # ends the second
    assert [o.summary for o in await practice.resume_all()] == []
