"""The practice service listening to pain, alone: It hurts and its answers, pain words,
Stop's question, the ways into a new practice, the pain gate and the pose memory.
No Telegram; time is moved by hand and timers are faked."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.cues import ContinueOffer, Heard, ReadyToCheckIn, ScreenFirst
from bot.models import (
    EasierMode,
    EasierReason,
    EventKind,
    Practice,
    PracticeQuestion,
    PracticeStatus,
    ScreenAnswer,
    StopReason,
)
from bot.practice.machine import CONTINUE_WITHIN, Action
from bot.practice.service import (
    MessageRef,
    PracticeOutcome,
    PracticePaused,
    PracticeService,
    StaleAction,
)
from bot.safety import Gate, SafetyService, ScreenStatus
from bot.store import Store
from bot.user_settings import Setting, UserSettingsService
from tests.harness.fakes import Armed, FakeTimers
from tests.harness.presses import advance_if_due, delivered, press

USER, CHAT = 42, 42


async def shown(practice: PracticeService, outcome: PracticeOutcome | None, message_id: int) -> int:
    """Deliver the outcome's cue as the presenter does; its step."""
    assert outcome is not None and outcome.show is not None
    await delivered(practice, outcome.show, outcome.chat_id, message_id)
    return outcome.show.step


async def row(store: Store, practice_id: int) -> Practice:
    async with store.read() as uow:
        found = await uow.practices.get(practice_id)
    assert found is not None
    return found


async def events(store: Store, practice_id: int, step: int) -> list[EventKind]:
    async with store.read() as uow:
        return await uow.practices.events_at(practice_id, step)


async def running(practice: PracticeService, message_id: int = 10) -> int:
    started = await practice.start(USER, CHAT, "Ana")
    await shown(practice, started, message_id)
    return started.practice_id


async def finish(practice: PracticeService, practice_id: int, *, first_step: int = 0) -> None:
    """Tap Next through the rest of the class, delivering each cue."""
    step, message_id = first_step, 100
    while True:
        outcome = await press(practice, Action.NEXT, USER, practice_id, step)
        if outcome.show is None:
            assert outcome.summary is not None
            return
        message_id += 1
        step = await shown(practice, outcome, message_id)


# -- It hurts --------------------------------------------------------------------------------


async def test_it_hurts_stops_the_clock_records_the_pain_and_asks(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    practice_id = await running(practice)
    clock.advance(20)
    asked = await press(practice, Action.HURT, USER, practice_id, 0)
    assert asked.redraw is not None
    assert (asked.redraw.question, asked.redraw.paused) == (PracticeQuestion.HURT, True)
    stored = await row(store, practice_id)
    assert (stored.status, stored.question) == (PracticeStatus.PAUSED, PracticeQuestion.HURT)
    assert stored.remaining_seconds == pytest.approx(40)
    assert practice_id not in timers.armed
    assert EventKind.HURT in await events(store, practice_id, 0)


async def test_a_second_tap_on_it_hurts_changes_nothing_more(
    practice: PracticeService, store: Store, clock: ManualClock
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.HURT, USER, practice_id, 0)
    clock.advance(30)
    again = await press(practice, Action.HURT, USER, practice_id, 0)
    assert again.redraw is not None and again.redraw.question == PracticeQuestion.HURT
    assert (await row(store, practice_id)).remaining_seconds == pytest.approx(60)
    async with store.read() as uow:
        assert (await uow.practices.event_counts(practice_id))[EventKind.HURT] == 1


async def test_it_hurts_from_a_paused_pose_keeps_what_was_left(
    practice: PracticeService, store: Store, clock: ManualClock
) -> None:
    practice_id = await running(practice)
    clock.advance(45)
    await press(practice, Action.PAUSE, USER, practice_id, 0)
    clock.advance(600)
    asked = await press(practice, Action.HURT, USER, practice_id, 0)
    assert asked.redraw is not None and asked.redraw.question == PracticeQuestion.HURT
    assert (await row(store, practice_id)).remaining_seconds == pytest.approx(15)


async def test_trying_the_easier_version_restarts_the_hold_with_it_shown(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    practice_id = await running(practice)
    clock.advance(50)
    await press(practice, Action.HURT, USER, practice_id, 0)
    clock.advance(5)
    easier = await press(practice, Action.TRY_EASIER, USER, practice_id, 0)
    assert easier.redraw is not None
    assert (easier.redraw.easier, easier.redraw.question) == (EasierReason.HURT_NOW, None)
    assert timers.armed[practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=60))
    stored = await row(store, practice_id)
    assert (stored.status, stored.question) == (PracticeStatus.ACTIVE, None)
    assert EventKind.EASIER in await events(store, practice_id, 0)


async def test_skipping_the_pose_that_hurts_moves_on_and_records_the_skip(
    practice: PracticeService, store: Store
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.HURT, USER, practice_id, 0)
    skipped = await press(practice, Action.SKIP, USER, practice_id, 0)
    assert skipped.show is not None and skipped.show.step == 1
    # The question's message is drawn once more as it ended: answered, nothing to press.
    [(at, ended)] = skipped.settle
    assert at == MessageRef(CHAT, 10) and ended.over and ended.answered == Action.SKIP
    assert skipped.retire == ()
    assert EventKind.SKIPPED in await events(store, practice_id, 0)
    stored = await row(store, practice_id)
    assert (stored.status, stored.question, stored.current_step) == (
        PracticeStatus.ACTIVE,
        None,
        1,
    )


async def test_ending_for_today_closes_with_a_summary_that_knows_why(
    practice: PracticeService, store: Store, timers: FakeTimers
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.HURT, USER, practice_id, 0)
    ended = await press(practice, Action.END_FOR_PAIN, USER, practice_id, 0)
    assert ended.summary is not None
    # Ended for today: nothing to carry on from.
    assert (ended.summary.status, ended.summary.stop_reason, ended.summary.stopped_at) == (
        PracticeStatus.STOPPED,
        StopReason.FOR_PAIN,
        None,
    )
    assert (await row(store, practice_id)).stop_reason == StopReason.FOR_PAIN
    assert practice_id not in timers.armed
    # A new /start_practice offers no continue: the way in starts afresh.
    assert not isinstance(await practice.way_in(USER), ContinueOffer)


@pytest.mark.parametrize("answer", [Action.TRY_EASIER, Action.SKIP, Action.END_FOR_PAIN])
async def test_the_answers_to_it_hurts_do_nothing_unless_it_was_asked(
    practice: PracticeService, answer: Action
) -> None:
    practice_id = await running(practice)
    with pytest.raises(StaleAction):
        await press(practice, answer, USER, practice_id, 0)


async def test_while_it_hurts_is_asked_the_cue_buttons_do_nothing(
    practice: PracticeService,
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.HURT, USER, practice_id, 0)
    for action in (Action.NEXT, Action.RESUME, Action.EASIER):
        with pytest.raises(StaleAction):
            await press(practice, action, USER, practice_id, 0)


# -- pain words ------------------------------------------------------------------------------


async def test_pain_words_during_a_practice_ask_it_hurts_beside_the_words(
    practice: PracticeService, store: Store, timers: FakeTimers
) -> None:
    practice_id = await running(practice, message_id=10)
    heard = await practice.heard(USER, "ouch, my back hurts in this one")
    assert isinstance(heard, PracticeOutcome)
    # The old cue is drawn as it ended (no pause line, no buttons); the question comes as
    # a new message, near the user's words.
    [(at, ended)] = heard.settle
    assert at == MessageRef(CHAT, 10) and ended.over and ended.question is None
    assert heard.show is not None and heard.show.question == PracticeQuestion.HURT
    assert practice_id not in timers.armed
    assert EventKind.HURT in await events(store, practice_id, 0)


async def test_numbness_or_tingling_asks_with_the_advice_to_stop(
    practice: PracticeService,
) -> None:
    await running(practice)
    heard = await practice.heard(USER, "Tingling down my leg")
    assert isinstance(heard, PracticeOutcome)
    assert heard.show is not None and heard.show.question == PracticeQuestion.NUMB


async def test_other_words_change_nothing(practice: PracticeService, store: Store) -> None:
    assert await practice.heard(USER, "hello") == Heard.CHAT
    assert await practice.heard(USER, "my back hurts") == Heard.PAIN_OUTSIDE_PRACTICE
    practice_id = await running(practice)
    assert await practice.heard(USER, "what next?") == Heard.DURING_PRACTICE
    assert (await row(store, practice_id)).status == PracticeStatus.ACTIVE


@pytest.mark.parametrize(
    ("mode", "third_time"),
    [
        # Hurt memory alone: it went well in its gentler version, so the usual one is back.
        (EasierMode.AS_ASKED, None),
        # Remembered: the easier version was the user's choice only the first time (Try
        # the easier version); the second time it came so because the pose had hurt. One
        # choice in two practices is not "often".
        (EasierMode.REMEMBERED, None),
    ],
)
async def test_a_pose_that_hurt_comes_gentler_the_next_time(
    practice: PracticeService,
    store: Store,
    clock: ManualClock,
    mode: EasierMode,
    third_time: EasierReason | None,
) -> None:
    settings = UserSettingsService(store, clock)
    await settings.change(USER, CHAT, "Ana", Setting.EASIER_MODE, mode)
    first = await running(practice)
    moved = await press(practice, Action.NEXT, USER, first, 0)
    await shown(practice, moved, 11)
    await press(practice, Action.HURT, USER, first, 1)
    await press(practice, Action.TRY_EASIER, USER, first, 1)
    await finish(practice, first, first_step=1)

    second = await practice.start(USER, CHAT, "Ana")
    assert second.show is not None and second.show.easier is None  # pose 1 did not hurt
    await shown(practice, second, 20)
    moved = await press(practice, Action.NEXT, USER, second.practice_id, 0)
    assert moved.show is not None and moved.show.easier == EasierReason.HURT_LAST_TIME
    await shown(practice, moved, 21)
    await finish(practice, second.practice_id, first_step=1)

    third = await practice.start(USER, CHAT, "Ana")
    await shown(practice, third, 30)
    moved = await press(practice, Action.NEXT, USER, third.practice_id, 0)
    assert moved.show is not None and moved.show.easier == third_time


# -- Stop asks once ---------------------------------------------------------------------------


async def test_stop_asks_first_with_the_clock_stopped(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    practice_id = await running(practice)
    clock.advance(10)
    await press(practice, Action.PAUSE, USER, practice_id, 0)
    asked = await press(practice, Action.STOP, USER, practice_id, 0)
    assert asked.redraw is not None and asked.redraw.question == PracticeQuestion.STOP
    assert asked.summary is None
    assert (await row(store, practice_id)).status == PracticeStatus.PAUSED
    clock.advance(100)
    going = await press(practice, Action.KEEP_GOING, USER, practice_id, 0)
    assert going.redraw is not None and going.redraw.question is None
    assert timers.armed[practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=50))


async def test_end_practice_after_stop_closes_it(practice: PracticeService, store: Store) -> None:
    practice_id = await running(practice)
    await press(practice, Action.PAUSE, USER, practice_id, 0)
    with pytest.raises(StaleAction):
        await press(practice, Action.END, USER, practice_id, 0)  # not asked yet
    await press(practice, Action.STOP, USER, practice_id, 0)
    ended = await press(practice, Action.END, USER, practice_id, 0)
    assert ended.summary is not None and ended.summary.stop_reason == StopReason.BY_USER
    stored = await row(store, practice_id)
    assert (stored.status, stored.stop_reason) == (PracticeStatus.STOPPED, StopReason.BY_USER)


# -- the way in -----------------------------------------------------------------------------


@pytest.fixture
def safety(store: Store, clock: ManualClock) -> SafetyService:
    return SafetyService(store, clock, "UTC")


@pytest.fixture
async def screened(safety: SafetyService) -> None:
    """The user answered the red-flag screen: None of these."""
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.CLEAR)


async def test_a_first_practice_screens_first(
    practice: PracticeService, safety: SafetyService, clock: ManualClock
) -> None:
    assert await practice.way_in(USER) == ScreenFirst(ScreenStatus.DUE)
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.SEE_CLINICIAN)
    assert await practice.way_in(USER) == ScreenFirst(ScreenStatus.SEE_CLINICIAN_TODAY)
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.URGENT)
    assert await practice.way_in(USER) == ScreenFirst(ScreenStatus.URGENT_TODAY)
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.CLEAR)
    assert isinstance(await practice.way_in(USER), ReadyToCheckIn)
    clock.advance(timedelta(days=91).total_seconds())
    assert await practice.way_in(USER) == ScreenFirst(ScreenStatus.DUE)


async def test_a_new_start_during_a_practice_pauses_it_at_once_and_offers_it(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    practice_id = await running(practice, message_id=10)
    clock.advance(15)
    offer = await practice.way_in(USER)
    assert isinstance(offer, ContinueOffer) and offer.held is not None
    assert replace(offer, held=None) == ContinueOffer(practice_id, 0, 3, "Pose 1", stopped=False)
    # Its cue is drawn with the paused buttons while the offer waits.
    [(at, held)] = offer.held.settle
    assert at == MessageRef(CHAT, 10) and held.paused and not held.over
    assert practice_id not in timers.armed  # no cue of it arrives while the question is open
    stored = await row(store, practice_id)
    assert (stored.status, stored.question) == (PracticeStatus.PAUSED, PracticeQuestion.RESTART)
    with pytest.raises(PracticePaused):
        await press(practice, Action.NEXT, USER, practice_id, 0)
    assert await advance_if_due(practice, practice_id, 0) is None

    clock.advance(300)
    carried = await practice.carry_on(USER, practice_id, 0)
    assert [at for at, drawn in carried.settle if drawn.over] == [MessageRef(CHAT, 10)]
    assert carried.show is not None and carried.show.step == 0 and not carried.show.paused
    assert timers.armed[practice_id] == Armed(0, CHAT, clock() + timedelta(seconds=45))
    with pytest.raises(StaleAction):
        await practice.carry_on(USER, practice_id, 0)  # a second tap


async def test_starting_over_leaves_the_old_practice_until_the_new_one_begins(
    practice: PracticeService, store: Store, safety: SafetyService
) -> None:
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.CLEAR)
    practice_id = await running(practice)
    await practice.way_in(USER)
    assert isinstance(await practice.way_in(USER, offer_continue=False), ReadyToCheckIn)
    assert (await row(store, practice_id)).status == PracticeStatus.PAUSED
    new = await practice.start(USER, CHAT, "Ana")
    stored = await row(store, practice_id)
    assert (stored.status, stored.stop_reason) == (PracticeStatus.STOPPED, StopReason.REPLACED)
    # Only the new practice is offered from now on; the replaced one is over.
    offer = await practice.way_in(USER)
    assert isinstance(offer, ContinueOffer) and offer.practice_id == new.practice_id


async def test_a_stopped_practice_can_be_continued_for_two_hours(
    practice: PracticeService, store: Store, clock: ManualClock, timers: FakeTimers
) -> None:
    practice_id = await running(practice)
    moved = await press(practice, Action.NEXT, USER, practice_id, 0)
    await shown(practice, moved, 11)
    await press(practice, Action.PAUSE, USER, practice_id, 1)
    await press(practice, Action.STOP, USER, practice_id, 1)
    await press(practice, Action.END, USER, practice_id, 1)
    clock.advance(40 * 60)
    offer = await practice.way_in(USER)
    assert offer == ContinueOffer(
        practice_id, 1, 3, "Pose 2, right side", stopped=True, minutes_ago=40
    )
    carried = await practice.carry_on(USER, practice_id, 1)
    assert carried.show is not None and carried.show.step == 1
    stored = await row(store, practice_id)
    assert (stored.status, stored.stop_reason, stored.finished_at) == (
        PracticeStatus.ACTIVE,
        None,
        None,
    )
    assert timers.armed[practice_id] == Armed(1, CHAT, clock() + timedelta(seconds=60))


async def test_after_two_hours_a_stopped_practice_is_not_offered(
    practice: PracticeService, clock: ManualClock
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.STOP, USER, practice_id, 0)
    await press(practice, Action.END, USER, practice_id, 0)
    clock.advance(CONTINUE_WITHIN.total_seconds() + 1)
    assert isinstance(await practice.way_in(USER), ScreenFirst)
    with pytest.raises(StaleAction):
        await practice.carry_on(USER, practice_id, 0)


# -- the pain gate and gentle practices -------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(6, Gate.SORE_DAY), (7, Gate.SORE_DAY), (8, Gate.REST_DAY), (10, Gate.REST_DAY)],
)
@pytest.mark.usefixtures("screened")
async def test_a_sore_check_in_asks_before_any_practice_begins(
    practice: PracticeService, store: Store, score: int, expected: Gate
) -> None:
    decided = await practice.checked_in(USER, CHAT, "Ana", score, checkin_message_id=5)
    assert decided == expected
    async with store.read() as uow:
        assert await uow.practices.latest_of(USER) is None  # nothing started, nothing failed


@pytest.mark.parametrize("score", [None, 0, 3, 5])
@pytest.mark.usefixtures("screened")
async def test_a_check_in_up_to_five_begins(practice: PracticeService, score: int | None) -> None:
    begun = await practice.checked_in(USER, CHAT, "Ana", score, checkin_message_id=5)
    assert isinstance(begun, PracticeOutcome) and begun.show is not None


@pytest.mark.usefixtures("screened")
async def test_after_a_practice_that_left_the_back_worse_gentle_is_offered_first(
    practice: PracticeService, store: Store
) -> None:
    begun = await practice.checked_in(USER, CHAT, "Ana", 2, checkin_message_id=5)
    assert isinstance(begun, PracticeOutcome)
    await shown(practice, begun, 10)
    await finish(practice, begun.practice_id)
    async with store.write() as uow:
        await uow.practices.record_back_after(USER, begun.practice_id, 5)
    assert await practice.checked_in(USER, CHAT, "Ana", 1, checkin_message_id=6) == (
        Gate.SUGGEST_GENTLE
    )


# -- the screen and the gate are the service's, not the buttons' ------------------------------


async def nothing_started(store: Store) -> bool:
    async with store.read() as uow:
        return await uow.practices.latest_of(USER) is None


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (None, ScreenStatus.DUE),
        (ScreenAnswer.SEE_CLINICIAN, ScreenStatus.SEE_CLINICIAN_TODAY),
        (ScreenAnswer.URGENT, ScreenStatus.URGENT_TODAY),
    ],
)
@pytest.mark.parametrize("score", [None, 2])
async def test_a_check_in_from_someone_the_screen_has_not_cleared_gets_the_screen(
    practice: PracticeService,
    safety: SafetyService,
    store: Store,
    answer: ScreenAnswer | None,
    status: ScreenStatus,
    score: int | None,
) -> None:
    # As a forged (or left-over) check-in button would ask: c:b:s, c:b:2.
    if answer is not None:
        await safety.answer(USER, CHAT, "Ana", answer)
    assert await practice.checked_in(USER, CHAT, "Ana", score, checkin_message_id=5) == (
        ScreenFirst(status)
    )
    gentle = await practice.gate_chosen(USER, CHAT, "Ana", score, gentle=True, checkin_message_id=5)
    assert gentle == ScreenFirst(status)
    assert await nothing_started(store)


@pytest.mark.usefixtures("screened")
@pytest.mark.parametrize(
    ("score", "gate_shown"),
    [(6, Gate.SORE_DAY), (7, Gate.SORE_DAY), (8, Gate.REST_DAY), (10, Gate.REST_DAY)],
)
async def test_the_usual_class_is_refused_at_a_score_the_gate_never_offers_it_for(
    practice: PracticeService, store: Store, score: int, gate_shown: Gate
) -> None:
    # c:g:u:10: the gate offers only the gentle practice, or not today, at 6-10.
    usual = await practice.gate_chosen(USER, CHAT, "Ana", score, gentle=False, checkin_message_id=5)
    assert usual == gate_shown
    assert await nothing_started(store)
    gentle = await practice.gate_chosen(USER, CHAT, "Ana", score, gentle=True, checkin_message_id=5)
    assert isinstance(gentle, PracticeOutcome) and gentle.show is not None
    assert gentle.show.easier == EasierReason.GENTLE


@pytest.mark.usefixtures("screened")
@pytest.mark.parametrize("score", [None, 0, 5])
async def test_the_usual_class_is_allowed_where_the_gate_would_allow_it(
    practice: PracticeService, score: int | None
) -> None:
    usual = await practice.gate_chosen(USER, CHAT, "Ana", score, gentle=False, checkin_message_id=5)
    assert isinstance(usual, PracticeOutcome) and usual.show is not None
    assert usual.show.easier != EasierReason.GENTLE
    with pytest.raises(StaleAction):  # the same question starts one class
        await practice.gate_chosen(USER, CHAT, "Ana", score, gentle=False, checkin_message_id=5)


@pytest.mark.usefixtures("screened")
async def test_a_sign_reported_today_closes_the_way_back_into_a_stopped_practice(
    practice: PracticeService, safety: SafetyService
) -> None:
    practice_id = await running(practice)
    await press(practice, Action.STOP, USER, practice_id, 0)
    await press(practice, Action.END, USER, practice_id, 0)
    assert isinstance(await practice.way_in(USER), ContinueOffer)
    await safety.answer(USER, CHAT, "Ana", ScreenAnswer.SEE_CLINICIAN)
    assert await practice.way_in(USER) == ScreenFirst(ScreenStatus.SEE_CLINICIAN_TODAY)
    with pytest.raises(StaleAction):
        await practice.carry_on(USER, practice_id, 0)


async def test_a_gentle_practice_shows_every_pose_easier_and_says_so_at_the_end(
    practice: PracticeService, store: Store
) -> None:
    started = await practice.start(USER, CHAT, "Ana", back_before=7, gentle=True)
    step, message_id = await shown(practice, started, 10), 10
    assert started.show is not None and started.show.easier == EasierReason.GENTLE
    while True:
        outcome = await press(practice, Action.NEXT, USER, started.practice_id, step)
        if outcome.summary is not None:
            break
        assert outcome.show is not None and outcome.show.easier == EasierReason.GENTLE
        message_id += 1
        step = await shown(practice, outcome, message_id)
    assert outcome.summary.gentle
    assert (await row(store, started.practice_id)).gentle


async def test_a_stalled_practice_is_brought_back_but_not_one_waiting_for_an_answer(
    practice: PracticeService,
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    # It hurts pressed on a cue whose delivery was not recorded yet.
    await press(practice, Action.HURT, USER, started.practice_id, 0)
    assert await practice.bring_back(USER) is None
