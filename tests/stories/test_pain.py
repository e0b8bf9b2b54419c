"""A practice that listens to pain, as a user lives it through the real Application and
the Bot API emulator: the pain gate, It hurts, pain words, Stop's question, continuing,
a new /start_practice during a class, and the check-in after it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.models import EasierReason, PracticeQuestion, PracticeStatus, StopReason
from handlers.render import checkin as render_checkin
from handlers.render import practice as render
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import (
    Worded,
    answer_checkin,
    begin_practice,
    bot_running,
    button_texts,
    cue_jobs,
    cues_titled,
    has_button,
    has_button_on,
    has_closing,
    has_message,
    next_through_the_class,
    screened,
    stop_practice,
    stored_practices,
)
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}


async def checked_in_with(emulator: BotApiEmulator, user: SimulatedUser, score: str) -> Worded:
    """/start_practice (screened first) and `score` on the check-in; the question."""
    await screened(emulator, user)
    await user.send("/start_practice")
    question = await emulator.wait_for(has_message(user, "How does your back feel right now?"))
    await user.tap(question.message_id, text=score)
    return question


# -- the pain gate ---------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["6", "7"])
async def test_a_sore_day_offers_the_gentle_practice(
    emulator: BotApiEmulator, database_url: str, score: str
) -> None:
    user = emulator.user(7001)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        question = await checked_in_with(emulator, user, score)
        await emulator.wait_for(lambda: "sore day" in (question.plain or ""))
        assert cues_titled(user, "1/3") == []  # nothing starts before the choice
        assert button_texts(question) == ["Gentle practice", "Not today"]
        await user.tap(question.message_id, text="Gentle practice")
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        # Every pose in its easier version from the start.
        assert TINY.steps[0].easier in cue.plain
        # A sore day offers no way to the harder version.
        assert button_texts(cue) == ["Next", "It hurts", "+15 s", "Pause"]
        assert "Gentle practice" in question.plain and not button_texts(question)
        await user.tap(cue.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        assert TINY.steps[1].easier in second.plain
    [practice] = await stored_practices(database_url)
    assert (practice.gentle, practice.back_before) == (True, int(score))


@pytest.mark.parametrize("score", ["8", "10"])
async def test_a_day_for_rest_recommends_rest_and_not_today_records_nothing(
    emulator: BotApiEmulator, database_url: str, score: str
) -> None:
    user = emulator.user(7002)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        question = await checked_in_with(emulator, user, score)
        await emulator.wait_for(lambda: "rest and gentle movement" in (question.plain or ""))
        assert "doctor or physiotherapist" in question.plain
        assert button_texts(question) == ["Gentle practice anyway", "Not today"]
        await user.tap(question.message_id, text="Not today")
        await emulator.wait_for(lambda: question.plain == render_checkin.NOT_TODAY)
        assert not button_texts(question)
    assert await stored_practices(database_url) == []


# -- It hurts ----------------------------------------------------------------------------------


async def test_it_hurts_asks_how_to_go_on_and_the_easier_version_restarts_the_hold(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7003)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "ease off" in (cue.plain or ""))
        assert button_texts(cue) == ["Try the easier version", "Skip this pose", "End for today"]
        assert cue_jobs(app) == []  # the pose's clock stopped
        await user.tap(cue.message_id, text="Try the easier version")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        assert render.EASIER_BECAUSE[EasierReason.HURT_NOW] in cue.plain
        assert button_texts(cue) == ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
        assert len(cue_jobs(app)) == 1
    [practice] = await stored_practices(database_url)
    assert (practice.status, practice.question) == (PracticeStatus.ACTIVE, None)


async def test_a_pose_that_hurt_comes_gentler_next_time_with_a_line_saying_why(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7004)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "Skip this pose" in button_texts(cue))
        await user.tap(cue.message_id, text="Skip this pose")
        for number in (2, 3):

            def shown(n: int = number) -> list[Worded]:
                return cues_titled(user, f"{n}/3")

            nxt = (await emulator.wait_for(shown))[-1]
            await user.tap(nxt.message_id, text="Next")
        await emulator.wait_for(has_closing(user))

        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        again = cues_titled(user, "1/3")[-1]
        assert "Last time this one bothered you" in again.plain
        assert TINY.steps[0].easier in again.plain
        await user.tap(again.message_id, text="Next")
        await emulator.wait_for(lambda: len(cues_titled(user, "2/3")) == 2)
        second = cues_titled(user, "2/3")[-1]
        assert "Easier:" not in second.plain  # only the pose that hurt


async def test_pain_typed_during_a_paused_pose_asks_beside_the_words(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="Pause")
        await emulator.wait_for(lambda: "Resume" in button_texts(cue))
        await user.send("ouch, my back hurts in this one")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        asked = cues_titled(user, "1/3")[-1]
        assert "ease off" in asked.plain
        assert button_texts(asked) == ["Try the easier version", "Skip this pose", "End for today"]
        await emulator.wait_for(lambda: not button_texts(cue))  # the old cue's buttons go
        await user.tap(asked.message_id, text="End for today")
        done = await emulator.wait_for(has_message(user, "Practice ended for today"))
        assert "right call" in done.plain
        # Ended for today: rest comes first, so nothing offers to carry on.
        assert "/start_practice" not in done.plain and "within 2 hours" not in done.plain
        # The cue it ended on no longer asks, and has nothing left to press.
        await emulator.wait_for(lambda: "ease off" not in (asked.plain or ""))
        assert asked.plain.startswith("1/3 · Pose 1") and not button_texts(asked)
        # After the class, pain words get a kind word and where to look for help.
        await user.send("still sore")
        await emulator.wait_for(has_message(user, render.PAIN_OUTSIDE_PRACTICE))
    [practice] = await stored_practices(database_url)
    assert (practice.status, practice.stop_reason) == (PracticeStatus.STOPPED, StopReason.FOR_PAIN)


async def test_numbness_typed_brings_the_advice_to_stop_first(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7006)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("My leg is Tingling")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        asked = cues_titled(user, "1/3")[-1]
        assert "Numbness or tingling is a sign to stop" in asked.plain
        assert "doctor or physiotherapist" in asked.plain
        # The pose ends: no easier version of it, no skipping as if nothing happened.
        assert button_texts(asked) == ["End for today", render.PASSED_BUTTON]
    [practice] = await stored_practices(database_url)
    assert practice.question == PracticeQuestion.NUMB


async def test_numbness_that_has_passed_goes_on_to_the_next_pose(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7008)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("some numbness in my foot")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        asked = cues_titled(user, "1/3")[-1]
        await user.tap(asked.message_id, text=render.PASSED_BUTTON)
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await emulator.wait_for(lambda: not button_texts(asked))  # the question is over
    practice = (await stored_practices(database_url))[0]
    assert (practice.status, practice.current_step) == (PracticeStatus.ACTIVE, 1)


async def test_other_words_during_a_practice_get_one_line_about_the_buttons(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7007)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("what do I do with the strap?")
        await emulator.wait_for(has_message(user, render.DURING_PRACTICE))
    [practice] = await stored_practices(database_url)
    assert practice.status == PracticeStatus.ACTIVE


# -- Stop, continuing, and a new start during a class ------------------------------------------


async def test_a_stopped_practice_is_offered_to_continue_from_its_pose(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7008)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(first.message_id, text="Next")
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await stop_practice(emulator, user, cue)
        await emulator.wait_for(has_message(user, "Practice stopped"))
        await user.send("/start_practice")
        offer = await emulator.wait_for(has_button(user, "Continue from pose 2"))
        assert offer.plain is not None
        assert "You stopped at pose 2 of 3, Pose 2, right side" in offer.plain
        assert button_texts(offer) == ["Continue from pose 2", "Start over"]
        await user.tap(offer.message_id, text="Continue from pose 2")
        await emulator.wait_for(lambda: len(cues_titled(user, "2/3")) == 2)
        assert not button_texts(offer)
        assert button_texts(cues_titled(user, "2/3")[-1]) == [
            "Easier option",
            "Next",
            "It hurts",
            "+15 s",
            "Pause",
        ]
    [practice] = await stored_practices(database_url)
    assert (practice.status, practice.current_step) == (PracticeStatus.ACTIVE, 1)


async def test_start_practice_during_a_class_pauses_it_at_once_and_asks(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7009)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("/start_practice")
        offer = await emulator.wait_for(has_button(user, "Start over"))
        assert offer.plain is not None
        assert "Your practice is paused at pose 1 of 3" in offer.plain
        assert button_texts(offer) == ["Continue", "Start over"]
        # No cue of the old practice arrives while the question is open.
        assert cue_jobs(app) == []
        answered = len(emulator.callback_answers)
        await user.tap(cue.message_id, text="Next")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 1)
        assert emulator.callback_answers[-1]["text"] == render.PAUSED_BUTTON
        assert cues_titled(user, "2/3") == []

        await user.tap(offer.message_id, text="Continue")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        assert offer.plain == "Continuing. Your pose follows."
        await emulator.wait_for(lambda: not button_texts(cue))
        assert len(cue_jobs(app)) == 1


async def test_start_over_asks_the_check_in_and_replaces_the_old_practice(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7010)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("/start_practice")
        offer = await emulator.wait_for(has_button(user, "Start over"))
        await user.tap(offer.message_id, text="Start over")
        await answer_checkin(emulator, user, "3")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
    old, new = await stored_practices(database_url)
    assert (old.status, old.stop_reason) == (PracticeStatus.STOPPED, StopReason.REPLACED)
    assert (new.status, new.back_before) == (PracticeStatus.ACTIVE, 3)


# -- after the class ----------------------------------------------------------------------------


async def finished_with(
    emulator: BotApiEmulator, user: SimulatedUser, before: str, after: str
) -> EmuMessage:
    """A whole class checked in with `before`, then `after`; the after question."""
    await checked_in_with(emulator, user, before)
    await next_through_the_class(emulator, user)
    asked = await emulator.wait_for(has_message(user, render_checkin.AFTER_QUESTION))
    await user.tap(asked.message_id, text=after)
    return asked


async def test_a_back_that_feels_better_after_gets_praise(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7011)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await finished_with(emulator, user, "4", "2")
        await emulator.wait_for(has_message(user, "easier than before you began"))
        assert not [m for m in user.bot_messages if m.plain == render_checkin.REST_NOTE]


async def test_a_back_that_feels_worse_after_gets_the_rest_note_and_gentle_next_time(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7012)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await finished_with(emulator, user, "2", "5")
        await emulator.wait_for(has_message(user, render_checkin.REST_NOTE))
        await user.send("/start_practice")
        question = await emulator.wait_for(
            lambda: next(
                (
                    m
                    for m in reversed(user.bot_messages)
                    if m.plain == render_checkin.BEFORE_QUESTION
                ),
                None,
            )
        )
        await user.tap(question.message_id, text="1")
        await emulator.wait_for(lambda: "Last time your back felt worse" in (question.plain or ""))
        assert button_texts(question) == ["Gentle practice", "Usual practice"]
        await user.tap(question.message_id, text="Usual practice")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
    # Said once, where it decides something: on the gate (now answered), not in the intro.
    assert not [m for m in user.bot_messages if "felt worse afterwards" in (m.plain or "")]
    _, second = await stored_practices(database_url)
    assert (second.gentle, second.back_before) == (False, 1)


async def test_a_high_score_after_without_a_rise_still_gets_the_note(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7013)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        question = await checked_in_with(emulator, user, "6")
        await emulator.wait_for(lambda: "Gentle practice" in button_texts(question))
        await user.tap(question.message_id, text="Gentle practice")
        await next_through_the_class(emulator, user)
        closing = await emulator.wait_for(has_closing(user))
        assert "gentle practice" in closing.plain
        asked = await emulator.wait_for(has_message(user, render_checkin.AFTER_QUESTION))
        await user.tap(asked.message_id, text="6")
        await emulator.wait_for(has_message(user, render_checkin.HIGH_AFTER_NOTE))


async def test_what_runs_is_said_once_the_check_in_has_decided_it(
    emulator: BotApiEmulator, database_url: str
) -> None:
    ana, ben = emulator.user(7021), emulator.user(7022)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        question = await checked_in_with(emulator, ana, "6")
        await emulator.wait_for(lambda: "Gentle practice" in button_texts(question))
        # Before the choice nothing has said how long, nor that a pose follows.
        assert not [m for m in ana.bot_messages if "first pose follows" in (m.plain or "")]
        await user_taps(ana, question, "Gentle practice")
        await emulator.wait_for(lambda: "first pose follows" in (question.plain or ""))
        # The tiny class marks no pose short, so its gentle practice is all three poses.
        assert "Gentle practice" in question.plain and "About 3 min" in question.plain
        not_today = await checked_in_with(emulator, ben, "9")
        await emulator.wait_for(lambda: "Not today" in button_texts(not_today))
        await user_taps(ben, not_today, "Not today")
        await emulator.wait_for(lambda: not button_texts(not_today))
    assert not [m for m in ben.bot_messages if "first pose follows" in (m.plain or "")]


async def user_taps(user: SimulatedUser, message: EmuMessage, label: str) -> None:
    await user.tap(message.message_id, text=label)


async def test_numbness_is_read_first_on_the_cue_that_asks_about_it(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7023)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.send("pins and needles in my foot")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        asked = cues_titled(user, "1/3")[-1]
    lines = asked.plain.splitlines()
    # The pose's title, then at once the sign to stop: before the pose's own words.
    assert lines[1].startswith("Numbness or tingling is a sign to stop.")
    assert asked.plain.index("sign to stop") < asked.plain.index(TINY.steps[0].cues[0])


def titled(user: SimulatedUser, prefix: str) -> Callable[[], list[Worded]]:
    return lambda: cues_titled(user, prefix)


async def test_after_a_class_in_which_something_hurt_no_praise_only_care(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7024)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await checked_in_with(emulator, user, "4")
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "Skip this pose" in button_texts(cue))
        await user.tap(cue.message_id, text="Skip this pose")
        for number in (2, 3):
            [shown] = await emulator.wait_for(titled(user, f"{number}/3"))
            await emulator.wait_for(has_button_on(shown, "Next"))
            await user.tap(shown.message_id, text="Next")
        asked = await emulator.wait_for(has_message(user, render_checkin.AFTER_QUESTION))
        await user.tap(asked.message_id, text="2")
        await emulator.wait_for(has_message(user, render_checkin.HURT_DURING_NOTE))
    assert not [m for m in user.bot_messages if "took that well" in (m.plain or "")]
    assert not [m for m in user.bot_messages if "Lovely work" in (m.plain or "")]
