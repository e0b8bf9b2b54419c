"""The rules of a practice, on the machine alone: no database, no Telegram, no clock but
the `now` each test passes. Each row reads (state, event, now) -> what changes."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.practice import machine
from bot.practice.machine import (
    CANCEL,
    CONTINUE_WITHIN,
    DUE_TOLERANCE,
    MORE_TIME_SECONDS,
    SEND_GRACE,
    Action,
    Arm,
    AskToContinue,
    CueFailed,
    CueSent,
    EasierReason,
    Ended,
    EventKind,
    HoldOver,
    PainTyped,
    Plan,
    PracticeQuestion,
    PracticeState,
    PracticeStatus,
    Press,
    Record,
    Refusal,
    Refused,
    StopReason,
    Transition,
    UserBack,
    decide,
    retry_delay,
)
from tests.harness.factories import make_class

USER, OTHER = 7, 8
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
STEPS = tuple(make_class(holds=(60, 30, 90)).steps)
PLAN = Plan(STEPS, (60.0, 30.0, 90.0))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def running(step: int = 0, /, **changes: object) -> PracticeState:
    """A practice on `step`, its cue delivered as message 100, its hold ending at 60 s."""
    state = PracticeState(
        id=1,
        user_id=USER,
        chat_id=USER,
        class_id="tiny-class",
        status=PracticeStatus.ACTIVE,
        step=step,
        hold_ends_at=at(60),
        cue_message_id=100,
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def paused(step: int = 0, /, left: float = 40.0, **changes: object) -> PracticeState:
    return running(
        step, status=PracticeStatus.PAUSED, hold_ends_at=None, remaining_seconds=left, **changes
    )


def press(action: Action, step: int = 0, by: int = USER) -> Press:
    return Press(action, by, step)


def moved(change: Transition | Refusal) -> Transition:
    assert isinstance(change, Transition), change
    return change


STALE = Refusal(Refused.STALE)


# -- the imports: the rules know nothing of where they run ----------------------------------


def test_the_machine_imports_only_the_standard_library_and_the_class_schema() -> None:
    tree = ast.parse(Path(machine.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported - {"__future__", "sequences"} <= set(sys.stdlib_module_names)
    assert not any(isinstance(node, ast.AsyncFunctionDef | ast.Await) for node in ast.walk(tree))


# -- Next, Skip and the hold being over ------------------------------------------------------


def test_next_moves_one_step_with_its_own_hold_and_records_the_skip() -> None:
    change = moved(decide(running(), press(Action.NEXT), at(20), PLAN))
    after = change.state
    assert (after.step, after.status, after.hold_ends_at) == (1, PracticeStatus.ACTIVE, at(50))
    assert (after.cue_message_id, after.cue_attempts, after.extra_seconds) == (None, 0, 0.0)
    assert after.practised_seconds == 20.0
    assert change.records == (Record(0, "pose-1", EventKind.SKIPPED),)
    assert (change.timer, change.show, change.retire) == (Arm(at(50)), True, (100,))


def test_next_on_the_last_step_finishes_with_the_closing_message() -> None:
    change = moved(decide(running(2, hold_ends_at=at(90)), press(Action.NEXT, 2), at(90), PLAN))
    after = change.state
    assert (after.status, after.finished_at, after.hold_ends_at) == (
        PracticeStatus.FINISHED,
        at(90),
        None,
    )
    assert (after.summary_pending, after.stop_reason) == (True, None)
    assert (change.timer, change.closing, change.show, change.retire) == (
        CANCEL,
        True,
        False,
        (100,),
    )
    assert change.records == (Record(2, "pose-3", EventKind.SKIPPED),)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (running(1), press(Action.NEXT, step=0)),  # a double tap: the step is over
        (running(), press(Action.NEXT, by=OTHER)),  # someone else's button
        (running(status=PracticeStatus.FINISHED), press(Action.NEXT)),
        (running(status=PracticeStatus.STOPPED), press(Action.PAUSE)),
        (paused(), press(Action.PAUSE)),
        (running(), press(Action.RESUME)),
        (running(), press(Action.END)),  # an answer to a question not asked
        (running(), press(Action.TRY_EASIER)),
        (paused(question=PracticeQuestion.STOP), press(Action.TRY_EASIER)),
        (paused(question=PracticeQuestion.HURT), press(Action.NEXT)),
        (paused(question=PracticeQuestion.STOP), press(Action.MORE_TIME)),
        (paused(question=PracticeQuestion.RESTART), press(Action.END)),
        (running(gentle=True), press(Action.USUAL)),  # a sore day: no harder version
    ],
)
def test_refused_presses(state: PracticeState, event: Press) -> None:
    assert decide(state, event, at(10), PLAN) == STALE


def test_a_practice_waiting_for_continue_or_start_over_says_so() -> None:
    waiting = paused(question=PracticeQuestion.RESTART)
    for action in (Action.NEXT, Action.EASIER, Action.MORE_TIME, Action.RESUME, Action.STOP):
        assert decide(waiting, press(action), at(1), PLAN) == Refusal(Refused.WAITS_FOR_CONTINUE)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(30), Arm(at(60))),  # early: armed again for the deadline
        (at(60) - DUE_TOLERANCE * 2, Arm(at(60))),
        (at(60) - DUE_TOLERANCE / 2, None),  # a hair early counts as due
        (at(75), None),
    ],
)
def test_the_hold_being_over_moves_on_without_a_skip(now: datetime, expected: Arm | None) -> None:
    change = moved(decide(running(), HoldOver(0), now, PLAN))
    if expected is not None:
        assert (change.state, change.timer, change.show) == (running(), expected, False)
        return
    assert change.state.step == 1 and change.records == () and change.show
    # The whole hold (a hair early counts as all of it), however late the timer fired.
    assert change.state.practised_seconds == pytest.approx(60.0, abs=0.01)


@pytest.mark.parametrize(
    "state",
    [running(1), paused(), running(status=PracticeStatus.FINISHED)],
    ids=["step over", "paused", "finished"],
)
def test_a_timer_for_what_is_not_running_does_nothing(state: PracticeState) -> None:
    assert decide(state, HoldOver(0), at(600), PLAN) == STALE


# -- a cue's delivery -------------------------------------------------------------------------


def unsent(**changes: object) -> PracticeState:
    return running(cue_message_id=None, **changes)


def test_a_cue_not_known_to_have_arrived_waits_a_grace_then_is_sent_again() -> None:
    waiting = moved(decide(unsent(), HoldOver(0), at(61), PLAN))
    assert (waiting.timer, waiting.show) == (Arm(at(60) + SEND_GRACE), False)
    lost = moved(decide(unsent(), HoldOver(0), at(60) + SEND_GRACE, PLAN))
    assert (lost.state, lost.show, lost.timer) == (unsent(), True, None)
    # Nobody is sending it (the chat's lock was free): sent again at once.
    nobody = moved(decide(unsent(), HoldOver(0, sender_gone=True), at(61), PLAN))
    assert nobody.show


def test_a_failed_send_is_tried_again_after_the_back_off_whoever_looks() -> None:
    failed = moved(decide(unsent(cue_attempts=2), CueFailed(0, luck=0.5), at(10), PLAN))
    assert failed.state.cue_attempts == 3
    assert failed.state.cue_retry_at == at(10 + retry_delay(3, 0.5)) == at(14)
    assert failed.timer == Arm(at(14))
    early = moved(decide(failed.state, HoldOver(0, sender_gone=True), at(13), PLAN))
    assert (early.timer, early.show) == (Arm(at(14)), False)
    due = moved(decide(failed.state, HoldOver(0), at(14), PLAN))
    assert due.show


def test_a_failure_reported_after_the_cue_arrived_or_moved_on_changes_nothing() -> None:
    assert decide(running(), CueFailed(0), at(1), PLAN) == STALE
    assert decide(unsent(step=1), CueFailed(0), at(1), PLAN) == STALE


def test_a_cue_delivered_in_time_keeps_its_deadline_and_counts_as_shown() -> None:
    change = moved(decide(unsent(), CueSent(0, USER, 55, at(2)), at(3), PLAN))
    assert (change.state.cue_message_id, change.state.hold_ends_at) == (55, at(60))
    assert change.records == (Record(0, "pose-1", EventKind.SHOWN, at(2)),)
    assert change.timer == Arm(at(60))


@pytest.mark.parametrize(
    "state",
    [unsent(), unsent(cue_attempts=1, hold_ends_at=at(200))],
    ids=["after its deadline", "after a failed send"],
)
def test_a_cue_that_came_late_gets_its_whole_hold_from_its_arrival(state: PracticeState) -> None:
    change = moved(decide(state, CueSent(0, USER, 55, at(100)), at(101), PLAN))
    assert change.state.hold_ends_at == at(160)
    assert (change.state.cue_attempts, change.state.cue_retry_at) == (0, None)


def test_a_cue_sent_again_only_takes_the_old_ones_place() -> None:
    change = moved(decide(running(), CueSent(0, USER, 101, at(5)), at(5), PLAN))
    assert change.state == running(cue_message_id=101) and change.records == ()


def test_a_cue_of_a_step_that_is_over_loses_its_buttons() -> None:
    change = moved(decide(running(1), CueSent(0, USER, 55, at(5)), at(5), PLAN))
    assert (change.state, change.retire, change.records) == (running(1), (55,), ())


def test_a_stalled_practice_goes_on_when_its_user_is_back() -> None:
    stalled = paused(left=25.0, cue_message_id=None, cue_attempts=3)
    change = moved(decide(stalled, UserBack(), at(10), PLAN))
    assert (change.state.status, change.state.hold_ends_at, change.show) == (
        PracticeStatus.ACTIVE,
        at(35),
        True,
    )
    assert decide(paused(), UserBack(), at(10), PLAN) == STALE


# -- the clock: pause, resume, +15 s ---------------------------------------------------------


def test_pause_keeps_what_is_left_and_resume_runs_it_from_now() -> None:
    paused_now = moved(decide(running(), press(Action.PAUSE), at(20), PLAN))
    assert (paused_now.state.remaining_seconds, paused_now.state.hold_ends_at) == (40.0, None)
    assert (paused_now.timer, paused_now.redraw) == (CANCEL, True)
    resumed = moved(decide(paused_now.state, press(Action.RESUME), at(500), PLAN))
    assert resumed.state.hold_ends_at == at(540) and resumed.timer == Arm(at(540))


def test_more_time_lengthens_a_running_hold_and_a_paused_one() -> None:
    running_change = moved(decide(running(), press(Action.MORE_TIME), at(10), PLAN))
    assert running_change.state.hold_ends_at == at(60 + MORE_TIME_SECONDS)
    assert running_change.state.extra_seconds == MORE_TIME_SECONDS
    assert running_change.timer == Arm(at(75))
    assert running_change.records == (Record(0, "pose-1", EventKind.MORE_TIME),)
    paused_change = moved(decide(paused(), press(Action.MORE_TIME), at(10), PLAN))
    assert paused_change.state.remaining_seconds == 40.0 + MORE_TIME_SECONDS
    assert paused_change.state.hold_ends_at is None and paused_change.timer is None


def test_time_scale_runs_the_clock_faster_and_counts_class_seconds() -> None:
    fast = replace(PLAN, scale=0.1)
    change = moved(decide(running(hold_ends_at=at(6)), press(Action.NEXT), at(3), fast))
    assert change.state.hold_ends_at == at(3 + 3.0)  # 30 class seconds at a tenth
    assert change.state.practised_seconds == pytest.approx(30.0)
    more = moved(decide(running(hold_ends_at=at(6)), press(Action.MORE_TIME), at(3), fast))
    assert more.state.hold_ends_at == at(7.5)


# -- Stop, It hurts and their questions ------------------------------------------------------


def test_stop_asks_with_the_clock_stopped_and_end_closes_as_chosen() -> None:
    asked = moved(decide(running(), press(Action.STOP), at(15), PLAN))
    assert (asked.state.question, asked.state.remaining_seconds) == (PracticeQuestion.STOP, 45.0)
    ended = moved(decide(asked.state, press(Action.END), at(20), PLAN))
    after = ended.state
    assert (after.status, after.stop_reason) == (PracticeStatus.STOPPED, StopReason.BY_USER)
    assert after.practised_seconds == 15.0
    # The question's buttons go: the cue is drawn once more with nothing to press.
    assert (ended.redraw, ended.over, ended.closing, ended.timer) == (True, True, True, CANCEL)
    kept = moved(decide(asked.state, press(Action.KEEP_GOING), at(20), PLAN))
    assert kept.state.hold_ends_at == at(65) and kept.state.question is None


def test_it_hurts_is_recorded_once_and_asked_even_over_another_question() -> None:
    hurt = moved(decide(running(), press(Action.HURT), at(10), PLAN))
    assert hurt.records == (Record(0, "pose-1", EventKind.HURT),)
    assert hurt.state.question == PracticeQuestion.HURT and hurt.timer == CANCEL
    again = moved(decide(hurt.state, press(Action.HURT), at(11), PLAN))
    assert again.records == () and again.state == hurt.state and again.redraw
    over_stop = moved(
        decide(paused(question=PracticeQuestion.STOP), press(Action.HURT), at(1), PLAN)
    )
    assert over_stop.state.question == PracticeQuestion.HURT


def test_the_easier_version_after_it_hurts_starts_the_hold_again() -> None:
    hurt = paused(left=5.0, question=PracticeQuestion.HURT, hurt_here=True, extra_seconds=15.0)
    change = moved(decide(hurt, press(Action.TRY_EASIER), at(100), PLAN))
    assert change.state.hold_ends_at == at(175)  # the whole hold with its +15 s, from now
    assert (change.state.toggle, change.state.question) == (EventKind.EASIER, None)
    assert machine.easier_reason(change.state, STEPS[0]) == EasierReason.HURT_NOW


@pytest.mark.parametrize(
    ("question", "action", "step", "status", "reason"),
    [
        (PracticeQuestion.HURT, Action.SKIP, 1, PracticeStatus.ACTIVE, None),
        (
            PracticeQuestion.HURT,
            Action.END_FOR_PAIN,
            0,
            PracticeStatus.STOPPED,
            StopReason.FOR_PAIN,
        ),
        (PracticeQuestion.NUMB, Action.PASSED, 1, PracticeStatus.ACTIVE, None),
        (
            PracticeQuestion.NUMB,
            Action.END_FOR_PAIN,
            0,
            PracticeStatus.STOPPED,
            StopReason.FOR_PAIN,
        ),
    ],
)
def test_the_other_answers_to_pain(
    question: PracticeQuestion,
    action: Action,
    step: int,
    status: PracticeStatus,
    reason: StopReason | None,
) -> None:
    hurt = paused(question=question, hurt_here=True)
    change = moved(decide(hurt, press(action), at(1), PLAN))
    assert (change.state.step, change.state.status, change.state.stop_reason) == (
        step,
        status,
        reason,
    )


@pytest.mark.parametrize("action", [Action.TRY_EASIER, Action.SKIP])
def test_numbness_ends_the_pose_with_no_easier_version_of_it(action: Action) -> None:
    numb = paused(question=PracticeQuestion.NUMB, hurt_here=True)
    assert decide(numb, press(action), at(1), PLAN) == STALE
    # "It has passed" answers numbness only.
    assert (
        decide(paused(question=PracticeQuestion.HURT), press(Action.PASSED), at(1), PLAN) == STALE
    )


def test_a_practice_ended_for_pain_is_not_carried_on_the_same_day() -> None:
    ended = stopped(StopReason.FOR_PAIN, 5)
    assert machine.carry_on_from(ended) is None and not machine.continuable(ended, T0)
    assert decide(ended, press(Action.CONTINUE, 1), T0, PLAN) == STALE
    by_user = stopped(StopReason.BY_USER, 5)
    assert machine.carry_on_from(by_user) == 1 and machine.continuable(by_user, T0)


def test_pain_typed_asks_afresh_beside_the_words() -> None:
    change = moved(decide(running(), PainTyped(USER, nerve=True), at(10), PLAN))
    assert change.state.question == PracticeQuestion.NUMB
    # The old cue is drawn once more as it ended; the question comes afresh.
    assert (change.show, change.redraw, change.settle, change.retire) == (True, False, True, ())
    assert decide(running(), PainTyped(OTHER), at(10), PLAN) == STALE


# -- continue, start over, replaced ----------------------------------------------------------


def test_continue_after_a_new_start_was_asked_for_resumes_the_pose_afresh() -> None:
    offered = moved(decide(running(), AskToContinue(), at(20), PLAN))
    assert offered.state.question == PracticeQuestion.RESTART
    assert (offered.redraw, offered.show, offered.timer) == (False, False, CANCEL)
    assert offered.refresh  # its cue shows the paused buttons meanwhile
    carried = moved(decide(offered.state, press(Action.CONTINUE), at(300), PLAN))
    assert (carried.state.hold_ends_at, carried.show, carried.settle) == (at(340), True, True)


def stopped(reason: StopReason, minutes_ago: float) -> PracticeState:
    return running(
        1,
        status=PracticeStatus.STOPPED,
        hold_ends_at=None,
        stop_reason=reason,
        finished_at=at(-minutes_ago * 60),
        summary_pending=True,
    )


def test_a_stopped_practice_is_carried_on_within_two_hours_if_the_user_stopped_it() -> None:
    change = moved(decide(stopped(StopReason.BY_USER, 30), press(Action.CONTINUE, 1), T0, PLAN))
    after = change.state
    assert (after.status, after.step, after.hold_ends_at) == (PracticeStatus.ACTIVE, 1, at(30))
    assert (after.stop_reason, after.finished_at, after.cue_message_id) == (None, None, None)
    late = CONTINUE_WITHIN.total_seconds() / 60 + 1
    assert decide(stopped(StopReason.BY_USER, late), press(Action.CONTINUE, 1), T0, PLAN) == STALE
    replaced = stopped(StopReason.REPLACED, 1)
    assert decide(replaced, press(Action.CONTINUE, 1), T0, PLAN) == STALE


def test_a_practice_replaced_or_unreachable_ends_quietly_even_without_its_class() -> None:
    for plan in (PLAN, None):
        change = moved(decide(running(), Ended(StopReason.REPLACED), at(10), plan))
        assert change.state.status == PracticeStatus.STOPPED
        assert (change.closing, change.state.summary_pending, change.retire) == (
            False,
            False,
            (100,),
        )
    assert decide(running(), press(Action.NEXT), at(10), None) == STALE


# -- facts for the cue and the way in --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"gentle": True}, EasierReason.GENTLE),
        ({"easier_from_start": {"pose-1": EasierReason.REMEMBERED}}, EasierReason.REMEMBERED),
        ({"gentle": True, "toggle": EventKind.USUAL}, None),
        ({"toggle": EventKind.EASIER}, EasierReason.ASKED),
        ({"toggle": EventKind.EASIER, "hurt_here": True}, EasierReason.HURT_NOW),
    ],
)
def test_why_a_pose_shows_its_easier_version(
    changes: dict[str, object], reason: EasierReason | None
) -> None:
    assert machine.easier_reason(running(**changes), STEPS[0]) == reason


def test_timers_armed_late_catch_up_one_after_another() -> None:
    on_time = machine.wake_up(at(10), at(5), None)
    assert on_time == machine.WakeUp(at(10), False, None)
    first = machine.wake_up(at(0), at(100), None)
    second = machine.wake_up(at(1), at(100), first.next_catch_up)
    assert (first.at, first.catching_up) == (at(100), True)
    assert second.at == at(100 + 1 / machine.CATCH_UP_PER_SECOND)


def test_the_store_back_off_grows_to_half_a_minute_and_stays() -> None:
    assert [machine.store_backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


@pytest.mark.parametrize(
    ("practised", "rushed"),
    [(0.0, True), (89.0, True), (90.0, False), (180.0, False)],
)
def test_a_class_finished_in_under_half_its_holds_was_rushed(
    practised: float, rushed: bool
) -> None:
    # The plan's holds add up to 180 class seconds.
    finished = running(2, status=PracticeStatus.FINISHED, practised_seconds=practised)
    assert machine.rushed(finished, PLAN) is rushed
    assert not machine.rushed(running(2, practised_seconds=0.0), PLAN)  # still open
