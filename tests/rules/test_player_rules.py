"""The rules of a practice followed in the player (the Mini App), on the machine alone: one
practice, two surfaces, and the chat's one message about it. Each row reads (state, event,
now) -> what changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.practice.machine import (
    CANCEL,
    Action,
    Arm,
    AskToContinue,
    CueFailed,
    CueSent,
    Ended,
    EventKind,
    HoldOver,
    Note,
    NoteSent,
    PainTyped,
    Play,
    PlayerAway,
    PracticeQuestion,
    PracticeState,
    PracticeStatus,
    Press,
    Record,
    StopReason,
    Surface,
    after_restart,
    decide,
)
from tests.rules.test_machine import OTHER, PLAN, STALE, STEPS, USER, at, moved, paused, running


def in_player(step: int = 0, /, **changes: object) -> PracticeState:
    """Running in the player, its note in the chat as message 500, no cue message."""
    base = running(step, surface=Surface.PLAYER, cue_message_id=None, note_message_id=500)
    return replace(base, **changes)  # type: ignore[arg-type]


def tap(action: Action, step: int = 0, by: int = USER) -> Press:
    return Press(action, by, step, on=Surface.PLAYER)


# -- taking a practice into the player -------------------------------------------------------


def test_play_takes_a_running_practice_as_it_stands_and_the_chat_cue_loses_its_buttons() -> None:
    change = moved(decide(running(1, hold_ends_at=at(50)), Play(USER), at(20), PLAN))
    assert change.state.surface == Surface.PLAYER
    assert change.state.hold_ends_at == at(50), "the hold runs on, not from the top"
    assert change.state.cue_message_id is None
    assert change.retire == (100,)
    assert change.note == Note.PLAYING
    assert change.timer == Arm(at(50))
    assert not change.show, "the chat sends no cue while the player shows it"


def test_play_on_a_pose_the_chat_never_showed_gives_it_its_whole_hold_from_now() -> None:
    never_shown = running(1, cue_message_id=None, cue_attempts=3, hold_ends_at=at(10))
    change = moved(decide(never_shown, Play(USER), at(40), PLAN))
    assert change.state.hold_ends_at == at(40 + 30)
    assert change.state.cue_attempts == 0
    assert change.records == (Record(1, STEPS[1].id, EventKind.SHOWN, at=at(40)),)


def test_play_answers_continue_or_start_over_with_continue_and_keeps_it_paused() -> None:
    asked = paused(question=PracticeQuestion.RESTART)
    change = moved(decide(asked, Play(USER), at(5), PLAN))
    assert change.state.question is None
    assert change.state.paused, "Resume in the player starts the clock"
    assert change.timer is None


@pytest.mark.parametrize(
    "state",
    [
        running(status=PracticeStatus.FINISHED, hold_ends_at=None),
        running(status=PracticeStatus.STOPPED, hold_ends_at=None),
    ],
)
def test_play_on_a_closed_practice_is_refused(state: PracticeState) -> None:
    assert decide(state, Play(USER), at(1), PLAN) == STALE


def test_play_by_someone_else_is_refused() -> None:
    assert decide(running(), Play(OTHER), at(1), PLAN) == STALE


def test_play_again_changes_nothing_unless_the_player_was_away() -> None:
    again = moved(decide(in_player(), Play(USER), at(1), PLAN))
    assert again.state == in_player() and again.note is None
    back = moved(decide(in_player(away=True), Play(USER), at(1), PLAN))
    assert not back.state.away and back.note == Note.PLAYING


# -- the player drives ----------------------------------------------------------------------


def test_the_hold_over_in_the_player_moves_on_with_no_cue_to_send() -> None:
    change = moved(decide(in_player(), HoldOver(0), at(60), PLAN))
    assert change.state.step == 1
    assert not change.show and change.retire == ()
    assert change.records == (Record(1, STEPS[1].id, EventKind.SHOWN, at=at(60)),)
    assert change.state.note_message_id == 500, "the note stays for the whole class"


def test_a_hold_in_the_player_is_never_waiting_for_a_cue_message() -> None:
    # In the chat, an unconfirmed cue holds the step until its send is given up on.
    assert moved(decide(running(cue_message_id=None), HoldOver(0), at(60), PLAN)).state.step == 0
    assert moved(decide(in_player(), HoldOver(0), at(60), PLAN)).state.step == 1


def test_the_last_pose_over_in_the_player_closes_it_with_its_closing_message() -> None:
    change = moved(decide(in_player(2, hold_ends_at=at(90)), HoldOver(2), at(90), PLAN))
    assert change.state.finished and change.closing
    assert change.note is None, "the closing message takes the note's place"


def test_a_player_button_works_in_the_player_and_not_in_the_chat() -> None:
    assert moved(decide(in_player(), tap(Action.NEXT), at(5), PLAN)).state.step == 1
    assert decide(in_player(), Press(Action.NEXT, USER, 0), at(5), PLAN) == STALE
    assert decide(running(), tap(Action.NEXT), at(5), PLAN) == STALE


@pytest.mark.parametrize("action", [Action.NEXT, Action.PAUSE, Action.MORE_TIME])
def test_a_stale_player_button_is_refused(action: Action) -> None:
    assert decide(in_player(1), tap(action, step=0), at(5), PLAN) == STALE
    assert decide(in_player(), tap(action, by=OTHER), at(5), PLAN) == STALE


def test_pause_resume_and_more_time_in_the_player() -> None:
    held = moved(decide(in_player(), tap(Action.PAUSE), at(20), PLAN))
    assert held.state.paused and held.state.remaining_seconds == 40 and held.timer is CANCEL
    more = moved(decide(held.state, tap(Action.MORE_TIME), at(30), PLAN))
    assert more.state.remaining_seconds == 55
    back = moved(decide(more.state, tap(Action.RESUME), at(100), PLAN))
    assert back.state.hold_ends_at == at(155) and back.timer == Arm(at(155))


def test_it_hurts_in_the_player_asks_there_and_records_the_pain() -> None:
    change = moved(decide(in_player(), tap(Action.HURT), at(10), PLAN))
    assert change.state.question == PracticeQuestion.HURT
    assert change.records == (Record(0, STEPS[0].id, EventKind.HURT),)
    easier = moved(decide(change.state, tap(Action.TRY_EASIER), at(12), PLAN))
    assert easier.state.toggle == EventKind.EASIER and easier.state.hold_ends_at == at(72)


# -- the player goes away, and comes back or the chat takes over ----------------------------


def test_the_player_going_away_pauses_the_practice_once() -> None:
    change = moved(decide(in_player(), PlayerAway(), at(15), PLAN))
    assert change.state.paused and change.state.away
    assert change.state.remaining_seconds == 45
    assert change.timer is CANCEL and change.note == Note.AWAY
    # The page's beacon, Telegram's event and the silence sweep may all say so.
    assert decide(change.state, PlayerAway(), at(16), PLAN) == STALE


def test_the_player_going_away_while_paused_only_offers_to_continue() -> None:
    change = moved(decide(in_player(status=PracticeStatus.PAUSED), PlayerAway(), at(1), PLAN))
    assert change.state.away and change.note == Note.AWAY and change.timer is None


def test_the_player_going_away_from_a_chat_practice_changes_nothing() -> None:
    assert decide(running(), PlayerAway(), at(1), PLAN) == STALE


def test_a_press_in_the_player_after_it_was_away_says_so_in_the_chat() -> None:
    away = moved(decide(in_player(), PlayerAway(), at(15), PLAN)).state
    back = moved(decide(away, tap(Action.RESUME), at(30), PLAN))
    assert back.state.status == PracticeStatus.ACTIVE and not back.state.away
    assert back.state.hold_ends_at == at(30 + 45), "the same second it paused on"
    assert back.note == Note.PLAYING


def test_continue_here_brings_the_practice_to_the_chat_with_its_cue() -> None:
    away = moved(decide(in_player(), PlayerAway(), at(15), PLAN)).state
    here = moved(decide(away, Press(Action.HERE, USER, 0), at(20), PLAN))
    assert here.state.surface == Surface.CHAT and here.state.status == PracticeStatus.ACTIVE
    assert here.state.hold_ends_at == at(65)
    assert here.show and here.note == Note.HERE
    assert here.state.note_message_id is None, "a later player gets a note of its own"


def test_continue_here_keeps_an_open_question() -> None:
    asked = in_player(status=PracticeStatus.PAUSED, question=PracticeQuestion.HURT, away=True)
    here = moved(decide(asked, Press(Action.HERE, USER, 0), at(20), PLAN))
    assert here.state.question == PracticeQuestion.HURT and here.state.paused and here.show


def test_continue_here_on_a_chat_practice_or_a_stale_step_is_refused() -> None:
    assert decide(running(), Press(Action.HERE, USER, 0), at(1), PLAN) == STALE
    assert decide(in_player(1), Press(Action.HERE, USER, 0), at(1), PLAN) == STALE


def test_pain_typed_in_the_chat_asks_there() -> None:
    change = moved(decide(in_player(), PainTyped(USER), at(10), PLAN))
    assert change.state.surface == Surface.CHAT
    assert change.state.question == PracticeQuestion.HURT
    assert change.show and change.note == Note.HERE


def test_continue_from_the_chat_offer_goes_on_in_the_chat() -> None:
    offered = moved(decide(in_player(), AskToContinue(), at(10), PLAN)).state
    change = moved(decide(offered, Press(Action.CONTINUE, USER, 0), at(20), PLAN))
    assert change.state.surface == Surface.CHAT and change.show and change.note == Note.HERE


def test_a_practice_in_the_player_replaced_by_a_new_one_ends_its_note() -> None:
    change = moved(decide(in_player(), Ended(StopReason.REPLACED), at(10), PLAN))
    assert change.state.stopped and change.note == Note.ENDED and not change.closing


# -- what the chat still sends ---------------------------------------------------------------


def test_a_chat_cue_arriving_after_the_player_took_over_loses_its_buttons() -> None:
    change = moved(decide(in_player(), CueSent(0, USER, 321, at(1)), at(1), PLAN))
    assert change.retire == (321,) and change.state == in_player()
    assert decide(in_player(), CueFailed(0), at(1), PLAN) == STALE


def test_the_note_is_recorded_once() -> None:
    fresh = in_player(note_message_id=None)
    change = moved(decide(fresh, NoteSent(600), at(1), PLAN))
    assert change.state.note_message_id == 600 and change.note is None
    assert decide(change.state, NoteSent(601), at(1), PLAN) == STALE


def test_a_note_arriving_after_the_practice_left_the_player_is_settled() -> None:
    here = running(note_message_id=None)
    assert moved(decide(here, NoteSent(600), at(1), PLAN)).note == Note.HERE
    closed = running(status=PracticeStatus.FINISHED, hold_ends_at=None)
    assert moved(decide(closed, NoteSent(600), at(1), PLAN)).note == Note.ENDED


def test_after_a_restart_a_practice_in_the_player_is_armed_not_sent_again() -> None:
    assert after_restart(in_player()) == Arm(at(60))
    assert after_restart(running(cue_message_id=None)) is True
