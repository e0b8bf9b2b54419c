"""A practice that fits the person, in the practice service alone: class length, pace, +15 s,
the Next pose, Usual version, and the one-time slow-pace suggestion. Time moved by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.models import ClassLength, EasierMode, EasierReason, Pace, PracticeStatus
from bot.practice.machine import Action
from bot.practice.service import PracticeOutcome, PracticeService
from bot.store import Store
from bot.user_settings import Setting, UserSettingsService
from sequences import Step, YogaClass
from tests.harness.fakes import Armed, FakeTimers
from tests.harness.presses import advance_if_due, delivered, press

USER, CHAT = 42, 42


def four_pose_class() -> YogaClass:
    """Four one-minute poses; the first and the last make the short class."""
    steps = [
        Step(
            id=f"pose-{n}",
            pose=f"Pose {n}",
            cues=[f"Inhale into pose {n}.", "Exhale, soften."],
            hold_seconds=60,
            easier=f"Easier pose {n}.",
            props=["block"] if n == 3 else [],
            short=n in (1, 4),
        )
        for n in range(1, 5)
    ]
    return YogaClass(
        id="four",
        title="Four Poses",
        teacher="Test Teacher",
        level="gentle",
        total_minutes=4,
        props_needed=["block"],
        block_count=1,
        safety_note="Stop if anything hurts.",
        steps=steps,
    )


@pytest.fixture
def practice(store: Store, clock: ManualClock, timers: FakeTimers) -> PracticeService:
    yoga_class = four_pose_class()
    return PracticeService(store, {yoga_class.id: yoga_class}, clock, timers, time_scale=0.5)


@pytest.fixture
def settings(store: Store, clock: ManualClock) -> UserSettingsService:
    return UserSettingsService(store, clock)


async def shown(practice: PracticeService, outcome: PracticeOutcome, message_id: int) -> int:
    assert outcome.show is not None
    await delivered(practice, outcome.show, outcome.chat_id, message_id)
    return outcome.show.step


async def test_the_short_class_runs_only_its_steps_in_order(
    practice: PracticeService, settings: UserSettingsService
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.CLASS_LENGTH, ClassLength.SHORT)
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None
    assert (started.show.pose.id, started.show.total) == ("pose-1", 2)
    assert started.show.following is not None and started.show.following.id == "pose-4"
    await shown(practice, started, 10)
    last = await press(practice, Action.NEXT, USER, started.practice_id, 0)
    assert last.show is not None and (last.show.pose.id, last.show.following) == ("pose-4", None)
    await shown(practice, last, 11)
    done = await press(practice, Action.NEXT, USER, started.practice_id, 1)
    assert done.summary is not None
    assert (done.summary.status, done.summary.total_poses) == (PracticeStatus.FINISHED, 2)


async def test_a_gentle_practice_is_the_short_class(practice: PracticeService) -> None:
    started = await practice.start(USER, CHAT, "Ana", gentle=True)
    assert started.show is not None
    assert (started.show.total, started.show.easier) == (2, EasierReason.GENTLE)


@pytest.mark.parametrize(("pace", "hold"), [(Pace.SLOW, 75), (Pace.NORMAL, 60), (Pace.QUICK, 45)])
async def test_pace_scales_every_hold_on_top_of_the_time_scale(
    practice: PracticeService,
    settings: UserSettingsService,
    clock: ManualClock,
    timers: FakeTimers,
    pace: Pace,
    hold: int,
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.PACE, pace)
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None and started.show.hold_seconds == hold
    # TIME_SCALE 0.5: the clock waits half the class's seconds.
    assert timers.armed[started.practice_id].at == clock() + timedelta(seconds=hold * 0.5)
    await shown(practice, started, 10)
    moved = await press(practice, Action.NEXT, USER, started.practice_id, 0)
    assert moved.show is not None and moved.show.hold_seconds == hold


async def test_the_minutes_reported_are_the_real_ones_at_a_slow_pace(
    practice: PracticeService, settings: UserSettingsService, clock: ManualClock
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.PACE, Pace.SLOW)
    started = await practice.start(USER, CHAT, "Ana")
    step, message_id = await shown(practice, started, 10), 10
    while True:
        clock.advance(75 * 0.5)  # each hold, scaled
        outcome = await advance_if_due(practice, started.practice_id, step)
        assert outcome is not None
        if outcome.summary is not None:
            break
        message_id += 1
        step = await shown(practice, outcome, message_id)
    assert outcome.summary.minutes == 5  # 4 poses of 75 s


async def test_more_time_extends_a_running_hold_and_shows_it(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    await shown(practice, started, 10)
    deadline = timers.armed[started.practice_id].at
    for presses in (1, 2):
        added = await press(practice, Action.MORE_TIME, USER, started.practice_id, 0)
        assert added.redraw is not None and added.redraw.hold_seconds == 60 + 15 * presses
        assert timers.armed[started.practice_id] == Armed(
            0, CHAT, deadline + timedelta(seconds=15 * presses * 0.5)
        )
    # The added time is the step's own: the next pose starts with its usual hold.
    clock.advance(60)
    moved = await advance_if_due(practice, started.practice_id, 0)
    assert moved is not None and moved.show is not None and moved.show.hold_seconds == 60


async def test_more_time_on_a_paused_pose_waits_for_resume(
    practice: PracticeService, clock: ManualClock, timers: FakeTimers
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    await shown(practice, started, 10)
    clock.advance(20)  # 40 s of the class left
    await press(practice, Action.PAUSE, USER, started.practice_id, 0)
    added = await press(practice, Action.MORE_TIME, USER, started.practice_id, 0)
    assert added.redraw is not None and added.redraw.paused and added.redraw.hold_seconds == 75
    assert started.practice_id not in timers.armed
    await press(practice, Action.RESUME, USER, started.practice_id, 0)
    assert timers.armed[started.practice_id].at == clock() + timedelta(seconds=10 + 7.5)


async def test_usual_version_takes_back_an_easier_version_shown_from_the_start(
    practice: PracticeService, settings: UserSettingsService
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.EASIER_MODE, EasierMode.ALWAYS)
    started = await practice.start(USER, CHAT, "Ana")
    assert started.show is not None and started.show.easier == EasierReason.ALWAYS
    await shown(practice, started, 10)
    usual = await press(practice, Action.USUAL, USER, started.practice_id, 0)
    assert usual.redraw is not None and usual.redraw.easier is None
    again = await press(practice, Action.EASIER, USER, started.practice_id, 0)
    assert again.redraw is not None and again.redraw.easier == EasierReason.ASKED


async def practise_with_more_time(practice: PracticeService, poses: int) -> PracticeOutcome:
    """A whole class, with +15 s on the first `poses` poses; the last outcome."""
    started = await practice.start(USER, CHAT, "Ana")
    step, message_id = await shown(practice, started, 10), 10
    while True:
        if step < poses:
            await press(practice, Action.MORE_TIME, USER, started.practice_id, step)
        outcome = await press(practice, Action.NEXT, USER, started.practice_id, step)
        if outcome.summary is not None:
            return outcome
        message_id += 1
        step = await shown(practice, outcome, message_id)


async def test_the_slow_pace_is_suggested_once_after_two_practices_with_extra_time(
    practice: PracticeService,
) -> None:
    first = await practise_with_more_time(practice, 3)
    assert first.summary is not None and not first.summary.suggest_slow_pace
    second = await practise_with_more_time(practice, 3)
    assert second.summary is not None and second.summary.suggest_slow_pace
    third = await practise_with_more_time(practice, 4)
    assert third.summary is not None and not third.summary.suggest_slow_pace  # once ever


async def test_two_poses_with_extra_time_are_not_enough_for_the_suggestion(
    practice: PracticeService,
) -> None:
    await practise_with_more_time(practice, 3)
    second = await practise_with_more_time(practice, 2)
    assert second.summary is not None and not second.summary.suggest_slow_pace


async def test_no_suggestion_for_someone_on_the_slow_pace_already(
    practice: PracticeService, settings: UserSettingsService
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.PACE, Pace.SLOW)
    await practise_with_more_time(practice, 4)
    second = await practise_with_more_time(practice, 4)
    assert second.summary is not None and not second.summary.suggest_slow_pace


async def test_where_the_short_class_skips_what_led_to_a_pose_its_cue_bridges_the_gap(
    store: Store, clock: ManualClock, timers: FakeTimers, settings: UserSettingsService
) -> None:
    bridged = four_pose_class()
    steps = list(bridged.steps)
    steps[3] = steps[3].model_copy(update={"short_start": "Come up to sitting first."})
    bridged = bridged.model_copy(update={"steps": steps})
    practice = PracticeService(store, {bridged.id: bridged}, clock, timers)
    # The full class comes to pose 4 from pose 3, as its cues expect: no bridge.
    full = await practice.start(USER, CHAT, "Ana")
    for step in range(3):
        moved = await press(practice, Action.NEXT, USER, full.practice_id, step)
    assert moved.show is not None and moved.show.pose.id == "pose-4"
    assert moved.show.bridge is None
    # The short class comes to it straight from pose 1: the bridge is said first.
    await settings.change(USER, CHAT, "Ana", Setting.CLASS_LENGTH, ClassLength.SHORT)
    short = await practice.start(USER, CHAT, "Ana")
    moved = await press(practice, Action.NEXT, USER, short.practice_id, 0)
    assert moved.show is not None and moved.show.pose.id == "pose-4"
    assert moved.show.bridge == "Come up to sitting first."
