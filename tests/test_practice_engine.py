"""The practice engine alone: no Telegram, time moved by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.models import SessionStatus
from bot.practice import PracticeEngine, StaleAction, Transition
from bot.store import PracticeStore
from tests.factories import make_class

USER, CHAT = 42, 42


async def test_start_shows_the_first_pose_with_its_deadline(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    assert started.cue.index == 0
    assert started.cue.total == 3
    assert started.cue.step.id == "pose-1"
    assert started.deadline == clock() + timedelta(seconds=60)


async def test_timer_before_the_deadline_asks_to_look_again(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    clock.advance(30)
    assert await engine.advance_if_due(started.cue.session_id, 0) == started.deadline


async def test_timer_after_the_deadline_moves_on_once(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    await engine.confirm_cue(started.cue.session_id, 0, message_id=10)
    clock.advance(60)
    moved = await engine.advance_if_due(started.cue.session_id, 0)
    assert isinstance(moved, Transition)
    assert moved.cue is not None and moved.cue.index == 1
    assert moved.previous_message_id == 10
    assert moved.deadline == clock() + timedelta(seconds=60)
    # The same timer firing twice (or a restart re-arming it) finds the step already over.
    assert await engine.advance_if_due(started.cue.session_id, 0) is None


async def test_next_skips_ahead_and_a_second_tap_is_stale(engine: PracticeEngine) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    moved = await engine.next(USER, started.cue.session_id, 0)
    assert moved.cue is not None and moved.cue.index == 1
    with pytest.raises(StaleAction):
        await engine.next(USER, started.cue.session_id, 0)


async def test_someone_elses_button_changes_nothing(engine: PracticeEngine) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    with pytest.raises(StaleAction):
        await engine.next(USER + 1, started.cue.session_id, 0)
    with pytest.raises(StaleAction):
        await engine.stop(USER + 1, started.cue.session_id, 0)
    assert (await engine.current_cue(started.cue.session_id)).index == 0


async def test_easier_option_is_recorded_once_and_shown(engine: PracticeEngine) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    session_id = started.cue.session_id
    cue = await engine.reveal_easier(USER, session_id, 0)
    assert cue.easier_shown
    await engine.reveal_easier(USER, session_id, 0)
    assert (await engine.current_cue(session_id)).easier_shown
    await engine.next(USER, session_id, 0)
    await engine.next(USER, session_id, 1)
    closing = await engine.next(USER, session_id, 2)
    assert closing.summary is not None
    assert closing.summary.easier_used == 1


async def test_pause_stops_the_clock_and_resume_keeps_the_rest(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    session_id = started.cue.session_id
    clock.advance(20)
    paused = await engine.pause(USER, session_id, 0)
    assert paused.paused
    clock.advance(600)
    # A paused pose never falls due, however long the break.
    assert await engine.advance_if_due(session_id, 0) is None
    with pytest.raises(StaleAction):
        await engine.pause(USER, session_id, 0)
    cue, deadline = await engine.resume(USER, session_id, 0)
    assert not cue.paused
    assert deadline == clock() + timedelta(seconds=40)


async def test_whole_class_by_timer_ends_with_a_summary(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    session_id, index = started.cue.session_id, 0
    while True:
        clock.advance(60)
        outcome = await engine.advance_if_due(session_id, index)
        assert isinstance(outcome, Transition)
        if outcome.summary is not None:
            break
        assert outcome.cue is not None
        index = outcome.cue.index
    summary = outcome.summary
    assert summary.status == SessionStatus.FINISHED
    assert summary.minutes == 3
    assert summary.poses_done == 3
    assert summary.easier_used == 0
    assert await engine.pending() == []


async def test_stop_records_a_stopped_session_with_time_practised(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    clock.advance(60)
    await engine.advance_if_due(started.cue.session_id, 0)
    clock.advance(30)
    stopped = await engine.stop(USER, started.cue.session_id, 1)
    assert stopped.summary is not None
    assert stopped.summary.status == SessionStatus.STOPPED
    assert stopped.summary.poses_done == 2
    assert stopped.summary.minutes == round(90 / 60)
    with pytest.raises(StaleAction):
        await engine.next(USER, started.cue.session_id, 1)


async def test_time_scale_shortens_holds_but_not_the_minutes_reported(
    store: PracticeStore, clock: ManualClock, tiny_class
) -> None:
    fast = PracticeEngine(store, {tiny_class.id: tiny_class}, clock, time_scale=0.01)
    started = await fast.start(USER, CHAT, "Ana")
    assert started.deadline - clock() == timedelta(seconds=0.6)
    session_id = started.cue.session_id
    for index in range(3):
        clock.advance(0.6)
        outcome = await fast.advance_if_due(session_id, index)
        assert isinstance(outcome, Transition)
    assert outcome.summary is not None and outcome.summary.minutes == 3


async def test_starting_again_stops_the_open_session(engine: PracticeEngine) -> None:
    first = await engine.start(USER, CHAT, "Ana")
    await engine.confirm_cue(first.cue.session_id, 0, 77)
    second = await engine.start(USER, CHAT, "Ana")
    [replaced] = second.replaced
    assert replaced.session_id == first.cue.session_id
    assert replaced.previous_message_id == 77
    pending = await engine.pending()
    assert [p.session_id for p in pending] == [second.cue.session_id]


async def test_pending_lists_deadlines_and_unconfirmed_cues(
    engine: PracticeEngine, clock: ManualClock
) -> None:
    confirmed = await engine.start(USER, CHAT, "Ana")
    await engine.confirm_cue(confirmed.cue.session_id, 0, 5)
    unconfirmed = await engine.start(USER + 1, CHAT + 1, "Ben")
    paused = await engine.start(USER + 2, CHAT + 2, "Cy")
    await engine.pause(USER + 2, paused.cue.session_id, 0)
    by_id = {p.session_id: p for p in await engine.pending()}
    assert not by_id[confirmed.cue.session_id].cue_unconfirmed
    assert by_id[confirmed.cue.session_id].deadline == confirmed.deadline
    assert by_id[unconfirmed.cue.session_id].cue_unconfirmed
    assert by_id[paused.cue.session_id].deadline is None
    assert isinstance(by_id[confirmed.cue.session_id].deadline, datetime)


async def test_starting_closes_every_other_open_practice(
    engine: PracticeEngine, store: PracticeStore, clock: ManualClock, tiny_class
) -> None:
    # Two open practices at once (say, left by a timer racing an earlier start).
    await store.upsert_user(USER, CHAT, "Ana", clock())
    for _ in range(2):
        await store.create_session(
            user_id=USER,
            chat_id=CHAT,
            class_id=tiny_class.id,
            first_step_id="pose-1",
            now=clock(),
            hold_ends_at=clock() + timedelta(seconds=60),
        )
    started = await engine.start(USER, CHAT, "Ana")
    assert len(started.replaced) == 2
    [still_open] = await store.open_sessions_of(USER)
    assert still_open.id == started.cue.session_id


async def test_a_practice_of_a_removed_class_ends_quietly(
    store: PracticeStore, clock: ManualClock, tiny_class
) -> None:
    old = PracticeEngine(store, {"old-class": make_class("old-class")}, clock)
    orphan = await old.start(USER, CHAT, "Ana")
    await old.pause(USER, orphan.cue.session_id, 0)
    # The class file is renamed in a deploy; the paused practice must not break anything.
    engine = PracticeEngine(store, {tiny_class.id: tiny_class}, clock)
    assert await engine.pending() == []
    with pytest.raises(StaleAction):
        await engine.next(USER, orphan.cue.session_id, 0)
    assert await engine.advance_if_due(orphan.cue.session_id, 0) is None
    started = await engine.start(USER, CHAT, "Ana")
    [closed] = started.replaced
    assert closed.session_id == orphan.cue.session_id
    assert closed.summary is None
    [open_now] = await store.open_sessions_of(USER)
    assert open_now.id == started.cue.session_id


async def test_a_cue_confirmed_after_the_read_is_never_left_with_buttons(
    engine: PracticeEngine, store: PracticeStore, clock: ManualClock
) -> None:
    started = await engine.start(USER, CHAT, "Ana")
    session_id = started.cue.session_id
    seen = await store.get_session(session_id)
    assert seen is not None
    # The cue's send returns between the timer reading the row and moving it on.
    assert await engine.confirm_cue(session_id, 0, message_id=42)
    moved = await store.move_to_step(
        seen,
        to_step=1,
        to_step_id="pose-2",
        hold_ends_at=clock(),
        practised_seconds=0.0,
        skipped_step_id=None,
        now=clock(),
    )
    assert moved is False
    clock.advance(60)
    transition = await engine.advance_if_due(session_id, 0)
    assert isinstance(transition, Transition)
    assert transition.previous_message_id == 42
    # A cue whose send returns only after the practice moved on is reported as stale.
    assert not await engine.confirm_cue(session_id, 0, message_id=43)
