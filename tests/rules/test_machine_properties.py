"""The rules of a practice under random sequences of events (hypothesis): whatever users,
timers and Telegram do, in whatever order and at whatever times, a practice stays whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.practice.machine import (
    CANCEL,
    Action,
    Arm,
    AskToContinue,
    CueFailed,
    CueSent,
    Ended,
    Event,
    HoldOver,
    PainTyped,
    Plan,
    PracticeState,
    PracticeStatus,
    Press,
    Refusal,
    StopReason,
    Transition,
    UserBack,
    decide,
)
from tests.harness.factories import make_class

USER = 7
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
PLAN = Plan(tuple(make_class(holds=(60, 30, 90, 45)).steps), (60.0, 30.0, 90.0, 45.0), 0.5)

steps = st.integers(min_value=0, max_value=len(PLAN.steps))
events: st.SearchStrategy[Event] = st.one_of(
    st.builds(Press, st.sampled_from(Action), st.sampled_from([USER, USER + 1]), steps),
    st.builds(PainTyped, st.just(USER), st.booleans()),
    st.builds(HoldOver, steps, st.booleans()),
    st.builds(
        CueSent,
        steps,
        st.just(USER),
        st.integers(min_value=1, max_value=10_000),
        st.just(T0),  # replaced by the time the event happens
    ),
    st.builds(CueFailed, steps, st.floats(min_value=0, max_value=0.999)),
    st.just(UserBack()),
    st.just(AskToContinue()),
    st.builds(Ended, st.sampled_from([StopReason.REPLACED, StopReason.UNREACHABLE])),
)


class PracticeRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.state = PracticeState(
            id=1,
            user_id=USER,
            chat_id=USER,
            class_id="tiny-class",
            status=PracticeStatus.ACTIVE,
            step=0,
            hold_ends_at=T0 + PLAN.clock(PLAN.holds[0]),
        )
        # Class seconds added with +15 s so far, over every step.
        self.added = 0.0

    @rule(
        seconds=st.one_of(st.floats(min_value=0, max_value=120), st.floats(0, 3 * 3600)),
        event=events,
        on_screen=st.integers(min_value=0, max_value=9),
    )
    def something_happens(self, seconds: float, event: Event, on_screen: int) -> None:
        self.now += timedelta(seconds=seconds)
        # Mostly about the step on screen (a button on the current cue, its timer), now
        # and then about any step (an old button, a late timer).
        step = self.state.step if on_screen else None
        match event:
            case CueSent():
                sent_step = event.step if step is None else step
                event = CueSent(sent_step, event.chat_id, event.message_id, self.now)
            case Press() if step is not None:
                event = Press(event.action, event.by, step)
            case HoldOver() if step is not None:
                event = HoldOver(step, event.sender_gone)
            case CueFailed() if step is not None:
                event = CueFailed(step, event.luck)
        before = self.state
        change = decide(before, event, self.now, PLAN)
        if isinstance(change, Refusal):
            return  # nothing to apply: the state is left exactly as it was
        after = change.state
        self.check(before, event, change)
        self.state = after

    def check(self, before: PracticeState, event: Event, change: Transition) -> None:
        after = change.state
        # One event never moves more than one step, and never back.
        assert after.step - before.step in (0, 1)
        # A finished practice never changes; a stopped one only by Continue.
        if before.finished or (
            before.stopped and not (isinstance(event, Press) and event.action == Action.CONTINUE)
        ):
            assert after == before
        # The version is the store's to count; who the practice is never changes.
        for name in ("id", "user_id", "chat_id", "class_id", "version", "gentle", "pictures"):
            assert getattr(after, name) == getattr(before, name)
        # Only its own user's presses change anything.
        if isinstance(event, Press) and event.by != before.user_id:
            raise AssertionError("another user's press was accepted")
        # Time spent only grows, and never past the class's holds with the time added.
        assert after.practised_seconds >= before.practised_seconds
        # Every record is for a step the practice was on.
        assert all(record.step == before.step for record in change.records)
        # A timer is armed only for a practice that runs, and cancelled only for one that
        # does not.
        if isinstance(change.timer, Arm):
            assert after.status == PracticeStatus.ACTIVE
        if change.timer is CANCEL:
            assert after.status != PracticeStatus.ACTIVE
        if isinstance(event, Press) and event.action == Action.MORE_TIME:
            self.added += after.extra_seconds - before.extra_seconds

    @invariant()
    def the_step_is_in_range(self) -> None:
        assert 0 <= self.state.step < len(PLAN.steps)

    @invariant()
    def a_running_hold_has_a_deadline_and_a_paused_one_none(self) -> None:
        state = self.state
        if state.status == PracticeStatus.ACTIVE:
            assert state.hold_ends_at is not None and state.remaining_seconds is None
        else:
            assert state.hold_ends_at is None
        if state.paused:
            assert state.remaining_seconds is not None and state.remaining_seconds >= 0

    @invariant()
    def a_question_is_asked_only_with_the_clock_stopped(self) -> None:
        if self.state.question is not None:
            assert self.state.paused

    @invariant()
    def a_closed_practice_has_an_end_and_an_open_one_none(self) -> None:
        state = self.state
        assert (state.finished_at is not None) == (not state.open)
        assert state.summary_pending is False or not state.open

    @invariant()
    def time_spent_is_at_most_the_holds_so_far_with_the_time_added(self) -> None:
        # The current step's time counts as it ends; a stopped practice carried on goes on
        # from the top of the pose it stopped on, with that time already counted.
        state = self.state
        assert state.practised_seconds <= sum(PLAN.holds[: state.step + 1]) + self.added + 1e-6

    @invariant()
    def a_delivered_cue_has_no_retry_pending(self) -> None:
        if self.state.cue_message_id is not None and self.state.open:
            assert self.state.cue_retry_at is None and self.state.cue_attempts == 0


TestPracticeRules = PracticeRules.TestCase
TestPracticeRules.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
