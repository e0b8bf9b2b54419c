"""The practice as a user lives it: the real Application over HTTP to the emulator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from telegram.ext import JobQueue

from bot.clock import ManualClock
from bot.database import create_engine, create_sessionmaker
from bot.models import EventKind, PracticeStatus, Reminder
from bot.practice.machine import RETRY_FIRST, RETRY_JITTER
from handlers.context import TIMERS
from handlers.render import practice as render
from handlers.timers import SWEEP_GRACE, CueTimer
from playground.emulator import BotApiEmulator
from playground.emulator.state import EmuMessage
from sequences import load_catalog
from tests.harness.bot import (
    answer_checkin,
    begin_practice,
    bot_running,
    button_texts,
    cue_jobs,
    cue_recorded,
    cues_titled,
    has_button,
    has_closing,
    has_message,
    next_through_the_class,
    stored_events,
    stored_practices,
)
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}


async def test_start_welcomes_with_props_safety_and_a_start_button(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1001, first_name="Ana")
    async with bot_running(emulator, database_url):
        await user.send("/start")
        welcome = await emulator.wait_for(has_message(user, "Safety"))
        assert "Hello Ana" in welcome.plain
        assert "strap" in welcome.plain
        assert "not medical advice" in welcome.plain
        assert button_texts(welcome) == ["Start practice"]
        await user.tap(welcome.message_id, text="Start practice")
        await answer_checkin(emulator, user)
        cue = await emulator.wait_for(lambda: cues_titled(user, "1/"))
        assert button_texts(cue[0]) == ["Easier option", "Next", "It hurts", "+15 s", "Pause"]


async def test_help_lists_commands_and_the_menu_is_registered(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1002)
    async with bot_running(emulator, database_url):
        commands = {c["command"] for c in emulator.commands}
        assert {"start", "start_practice", "help"} <= commands
        await user.send("/help")
        reply = await emulator.wait_for(has_message(user, "/start_practice"))
        assert "/help" in reply.plain
        await user.send("/nonsense")
        await emulator.wait_for(has_message(user, "don't know that command"))


async def test_failing_command_menu_is_logged_not_fatal(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.fail_next("setMyCommands", error_code=400, description="Bad Request: nope")
    user = emulator.user(1003)
    async with bot_running(emulator, database_url):
        await user.send("/help")
        await emulator.wait_for(has_message(user, "/start_practice"))
    assert "could not register the command menu" in caplog.text


async def test_whole_seed_class_runs_by_itself_to_the_closing_message(
    emulator: BotApiEmulator, database_url: str
) -> None:
    seed = next(iter(load_catalog().values()))
    total = len(seed.steps)
    user = emulator.user(1004, first_name="Ana")
    # At this scale the 30-minute class takes about two seconds.
    async with bot_running(emulator, database_url, time_scale=0.001):
        await begin_practice(emulator, user)
        closing = await emulator.wait_for(has_message(user, "Well done"), timeout=30)
        # Each cue's buttons are retired once the class has left it: at once while the bot
        # has headroom, or soon after (at this speed it sends a cue every 0.1 s).
        cues = [m for m in user.bot_messages if f"/{total} · " in (m.plain or "")]
        await emulator.wait_for(lambda: not any(button_texts(m) for m in cues), timeout=10)
    intro = await emulator.wait_for(has_message(user, seed.title))
    begun = await emulator.wait_for(has_message(user, "Set up your mat"))
    assert "Props:" in intro.plain and "min" not in intro.plain  # said once decided
    assert "Full class · normal pace · about 30 min" in begun.plain
    for number, step in enumerate(seed.steps, start=1):
        shown = cues_titled(user, f"{number}/{total} · ")
        assert len(shown) == 1, f"cue {number} sent {len(shown)} times"
        assert step.title in shown[0].plain
    assert f"Poses held: {total} of {total}" in closing.plain
    assert "Minutes practised: 30" in closing.plain or "Minutes practised: 29" in closing.plain
    [session] = await stored_practices(database_url)
    assert session.status == PracticeStatus.FINISHED
    assert session.finished_at is not None


async def test_easier_option_edits_the_same_message_and_its_button_goes(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="Easier option")
        edited = await emulator.wait_for(has_message(user, "Easier:"))
        assert edited.message_id == cue.message_id
        assert TINY.steps[0].easier in edited.plain
        assert button_texts(edited) == ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
    events = await stored_events(database_url)
    assert [e.kind for e in events].count(EventKind.EASIER) == 1


async def test_next_sends_the_following_cue_at_once_and_retires_the_old_buttons(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1006)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        assert app.job_queue is not None
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(first.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        assert "Pose 2, right side" in second.plain
        await emulator.wait_for(lambda: not button_texts(first))
        # One timer per session, now for the second pose.
        [job] = app.job_queue.get_jobs_by_name(f"cue:{second_session_id(second)}")
        assert isinstance(job.data, CueTimer)
        assert job.data[1] == 1
    events = await stored_events(database_url)
    assert [(e.step_index, e.kind) for e in events] == [
        (0, EventKind.SHOWN),
        (0, EventKind.SKIPPED),
        (1, EventKind.SHOWN),
    ]


def second_session_id(message: EmuMessage) -> int:
    assert message.reply_markup is not None
    data = message.reply_markup["inline_keyboard"][0][-1]["callback_data"]
    return int(data.split(":")[2])


async def test_double_tap_on_next_advances_once(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1007)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        answered = len(emulator.callback_answers)
        await user.tap(first.message_id, text="Next")
        await user.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 2)
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        assert cues_titled(user, "3/3") == []
        assert len(cues_titled(user, "2/3")) == 1
        answers = [a.get("text") for a in emulator.callback_answers]
        assert answers.count(render.STALE_BUTTON) == 1


async def test_stale_and_foreign_buttons_get_a_short_answer_and_change_nothing(
    emulator: BotApiEmulator, database_url: str
) -> None:
    ana, ben = emulator.user(1008, first_name="Ana"), emulator.user(1009, first_name="Ben")
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, ana)
        [first] = await emulator.wait_for(lambda: cues_titled(ana, "1/3"))
        assert first.reply_markup is not None
        stale_next = first.reply_markup["inline_keyboard"][0][-1]["callback_data"]
        await ana.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(ana, "2/3"))
        answered = len(emulator.callback_answers)
        await ana.tap_data(first.message_id, stale_next)
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 1)
        assert emulator.callback_answers[-1]["text"] == render.STALE_BUTTON
        # Ben sends a press carrying Ana's session: refused, Ana's practice untouched.
        [second] = cues_titled(ana, "2/3")
        assert second.reply_markup is not None
        forged = second.reply_markup["inline_keyboard"][0][-1]["callback_data"]
        await ben.send("/help")
        ben_message = await emulator.wait_for(has_message(ben, "/start_practice"))
        await ben.tap_data(ben_message.message_id, forged)
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 2)
        assert emulator.callback_answers[-1]["text"] == render.STALE_BUTTON
        assert cues_titled(ana, "3/3") == []
        assert len(ben.bot_messages) == 1


async def test_old_buttons_left_on_are_answered_and_retired_when_tapped(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """A cue's buttons may stay on (the bot was busy, or Telegram refused the edit); a tap
    on one is answered as stale and takes them off, and the class is not moved."""
    user = emulator.user(1010)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        emulator.fail_next("editMessageReplyMarkup", error_code=502, description="Bad Gateway")
        await user.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await emulator.wait_for(lambda: emulator.calls_of("editMessageReplyMarkup"))
        assert "Next" in button_texts(first)  # the retirement was refused
        answered = len(emulator.callback_answers)
        await user.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: not button_texts(first))
        assert emulator.callback_answers[answered]["text"] == render.STALE_BUTTON
        assert cues_titled(user, "3/3") == []


async def test_pause_stops_the_clock_and_resume_restarts_it(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1010)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        assert app.job_queue is not None
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        name = f"cue:{second_session_id(cue)}"
        await user.tap(cue.message_id, text="Pause")
        paused = await emulator.wait_for(has_message(user, "Paused"))
        # Stop only once paused, under Resume: never one slip of the thumb away.
        assert button_texts(paused) == ["Resume", "It hurts", "+15 s", "Stop"]
        assert app.job_queue.get_jobs_by_name(name) == ()
        await user.tap(cue.message_id, text="Resume")
        await emulator.wait_for(lambda: "Pause" in button_texts(cue))
        assert "Paused" not in cue.plain
        assert len(app.job_queue.get_jobs_by_name(name)) == 1
    [session] = await stored_practices(database_url)
    assert session.status == PracticeStatus.ACTIVE


async def test_stop_asks_once_then_ends_the_practice_as_stopped(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1011)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="Pause")
        await emulator.wait_for(lambda: "Stop" in button_texts(cue))
        await user.tap(cue.message_id, text="Stop")
        await emulator.wait_for(lambda: "End practice" in button_texts(cue))
        assert "End the practice here?" in cue.plain
        assert button_texts(cue) == ["End practice", "Keep going"]
        await user.tap(cue.message_id, text="End practice")
        done = await emulator.wait_for(has_message(user, "Practice stopped"))
        assert "within 2 hours" in done.plain
        await emulator.wait_for(lambda: "End the practice here?" not in (cue.plain or ""))
        assert "You stopped at pose 1 of 3" in done.plain
        await emulator.wait_for(lambda: not button_texts(cue))
        assert cue_jobs(app) == []
    [session] = await stored_practices(database_url)
    assert session.status == PracticeStatus.STOPPED


async def test_restart_mid_pose_resumes_with_no_duplicate_cue(
    emulator: BotApiEmulator, database_url: str
) -> None:
    clock = ManualClock()
    ana, ben = emulator.user(1012, first_name="Ana"), emulator.user(1013, first_name="Ben")
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await begin_practice(emulator, ana)
        await emulator.wait_for(lambda: cues_titled(ana, "1/3"))
        clock.advance(30)
        await begin_practice(emulator, ben)
        await emulator.wait_for(lambda: cues_titled(ben, "1/3"))
    # Down for 45 s: Ana's first pose fell due meanwhile; Ben's has 15 s to go.
    clock.advance(45)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        [late] = await emulator.wait_for(lambda: cues_titled(ana, "2/3"))
        assert cues_titled(ben, "2/3") == []
        [ben_cue] = cues_titled(ben, "1/3")
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name(f"cue:{second_session_id(ben_cue)}")
        assert isinstance(job.data, CueTimer)
        assert job.data[1] == 0
        assert job.next_t is not None
        assert 10 < (job.next_t - datetime.now(UTC)).total_seconds() <= 15
    assert len(cues_titled(ana, "1/3")) == 1
    assert len(cues_titled(ana, "2/3")) == 1
    assert len(cues_titled(ben, "1/3")) == 1
    assert late.message_id > cues_titled(ana, "1/3")[0].message_id


async def test_cue_whose_delivery_failed_is_sent_after_a_restart(
    emulator: BotApiEmulator, database_url: str
) -> None:
    clock = ManualClock()
    user = emulator.user(1014)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        emulator.fail_next("sendMessage", error_code=500, description="Internal Server Error")
        await user.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        await emulator.wait_for(
            lambda: any(c.method == "sendMessage" and not c.ok for c in emulator.calls)
        )
        assert cues_titled(user, "2/3") == []
    # Its next try is stored: the restarted bot's sweep keeps to it.
    clock.advance(RETRY_FIRST * (1 + RETRY_JITTER) + SWEEP_GRACE.total_seconds())
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
    assert len(cues_titled(user, "2/3")) == 1


async def test_a_refused_button_answer_still_moves_the_practice_on(
    emulator: BotApiEmulator, database_url: str
) -> None:
    # Telegram refuses answers to presses older than ~15 s, e.g. taps queued while the bot
    # was down; the press itself must still take effect.
    user = emulator.user(1015)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        emulator.fail_next(
            "answerCallbackQuery",
            description="Bad Request: query is too old and response timeout expired",
        )
        await user.tap(first.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))


async def test_names_and_text_with_markup_characters_are_escaped(
    emulator: BotApiEmulator, database_url: str
) -> None:
    # The emulator refuses HTML Telegram would refuse, so an unescaped name fails here too.
    user = emulator.user(1016, first_name="<3 Ana & co")
    async with bot_running(emulator, database_url):
        await user.send("/start")
        welcome = await emulator.wait_for(has_message(user, "Safety"))
    assert "Hello <3 Ana & co." in welcome.plain


async def test_a_user_who_blocks_the_bot_mid_practice_is_left_in_peace(
    emulator: BotApiEmulator, database_url: str
) -> None:
    clock = ManualClock()
    user = emulator.user(1030)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        name = f"cue:{second_session_id(cue)}"
        await cue_recorded(database_url, second_session_id(cue))
        # Blocked with no my_chat_member update reaching the bot (it can be missed while the
        # bot is down): the next send's 403 is how the bot learns it.
        user.open_chat().blocked = True
        clock.advance(60)
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name(name)
        # The hold is over; the next cue is refused with 403, which ends the practice.
        await job.run(app)
        await emulator.wait_for(lambda: cue_jobs(app) == [])
    [practice] = await stored_practices(database_url)
    assert practice.status == PracticeStatus.STOPPED
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            reminder = await db.get(Reminder, user.id)
    finally:
        await engine.dispose()
    assert reminder is not None and not reminder.enabled


async def test_a_press_that_fails_inside_is_still_answered_and_explained(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = emulator.user(1031)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))

        async def broken(*args: object) -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(app.bot_data["services"].practice, "apply", broken)
        answered = len(emulator.callback_answers)
        await user.tap(cue.message_id, text="Next")
        await emulator.wait_for(has_message(user, "something went wrong on my side"))
        await emulator.wait_for(lambda: len(emulator.callback_answers) > answered)
        assert "Next" in button_texts(cue)  # nothing changed: the pose is still on


@pytest.mark.backends("sqlite")
async def test_a_class_arms_and_cancels_its_timers_without_scanning_the_job_queue(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up by name scans every job: with thousands of classes open, re-arming one
    timer cost milliseconds and start-up grew with the square. Each timer has a handle."""

    def no_scanning(*_: object, **__: object) -> None:
        raise AssertionError("the job queue was scanned by name")

    monkeypatch.setattr(JobQueue, "get_jobs_by_name", no_scanning)
    user = emulator.user(1040)
    async with bot_running(emulator, database_url, time_scale=0.001) as app:
        await begin_practice(emulator, user)
        await emulator.wait_for(has_closing(user), timeout=30)
        timers = app.bot_data[TIMERS]
        # Every job ran or was cancelled, and no handle was left behind.
        await emulator.wait_for(lambda: timers.armed == 0)
    [session] = await stored_practices(database_url)
    assert session.status == PracticeStatus.FINISHED


# -- what the closing message counts --------------------------------------------------------


async def test_a_class_tapped_through_is_named_for_what_it_was(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1061)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        await next_through_the_class(emulator, user)
        closing = await emulator.wait_for(has_closing(user))
    assert closing.plain.startswith("You reached the end of Tiny Class in under a minute")
    assert "about 3 min" in closing.plain
    assert "Poses held: 0 of 3 (3 moved on from early)" in closing.plain
    assert "Well done" not in closing.plain and "every pose as cued" not in closing.plain


async def test_a_pose_moved_on_from_early_is_not_counted_as_held(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1062)
    # One class minute is 0.6 s here: the last two poses are held to the end by the timer.
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG, time_scale=0.01):
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(first.message_id, text="Next")
        closing = await emulator.wait_for(has_closing(user), timeout=10)
    assert closing.plain.startswith("Well done. You finished Tiny Class")
    assert "Poses held: 2 of 3 (1 moved on from early)" in closing.plain
    assert "every pose as cued" not in closing.plain


# -- every tap says what it did; no question left behind -------------------------------------


async def test_each_tap_is_answered_with_what_it_did(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1071)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        said: list[str | None] = []
        for label, then in (
            ("+15 s", "Hold 1 min 15 s"),
            ("Pause", "Resume"),
            ("Resume", "Easier option"),
            ("Easier option", "Usual version"),
            ("Next", None),
        ):
            answered = len(emulator.callback_answers)
            await user.tap(cue.message_id, text=label)
            await emulator.wait_for(answered_after(emulator, answered))
            said.append(emulator.callback_answers[-1]["text"])
            if then is not None:
                await emulator.wait_for(shows(cue, then))
    assert said == ["15 s added", "Paused", "Resumed", "Easier version", "Next pose"]


def answered_after(emulator: BotApiEmulator, answers: int) -> Callable[[], bool]:
    return lambda: len(emulator.callback_answers) > answers


def shows(message: EmuMessage, words: str) -> Callable[[], bool]:
    return lambda: words in button_texts(message) or words in (message.plain or "")


async def test_a_skipped_pose_says_so_and_asks_no_more(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1072)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "Skip this pose" in button_texts(cue))
        await user.tap(cue.message_id, text="Skip this pose")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await emulator.wait_for(lambda: "Skipped. On to the next pose." in (cue.plain or ""))
    assert "ease off" not in cue.plain and not button_texts(cue)


async def test_no_paused_copy_is_left_behind_and_a_held_class_shows_its_paused_buttons(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(1073)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        # /start_practice holds the class: its cue shows the paused buttons meanwhile.
        await user.send("/start_practice")
        await emulator.wait_for(has_message(user, "Your practice is paused"))
        await emulator.wait_for(lambda: "Resume" in button_texts(cue))
        offer = await emulator.wait_for(has_button(user, "Continue"))
        await user.tap(offer.message_id, text="Continue")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        # The held copy is drawn as it ended: no buttons, no "Tap Resume" line.
        await emulator.wait_for(lambda: not button_texts(cue))
        assert "Tap Resume" not in (cue.plain or "")
        fresh = cues_titled(user, "1/3")[-1]
        await user.tap(fresh.message_id, text="Pause")
        await emulator.wait_for(lambda: "Paused. Tap Resume" in (fresh.plain or ""))
        await user.send("ouch")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 3)
        await emulator.wait_for(lambda: "Tap Resume" not in (fresh.plain or ""))
    assert not button_texts(fresh)


async def test_an_answered_question_telegram_will_not_redraw_costs_nothing_else(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = emulator.user(1074)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "Skip this pose" in button_texts(cue))
        # Telegram is down for the redraw of the answered question: 502.
        emulator.fail_next("editMessageText", chat_id=user.id, error_code=502)
        answered = len(emulator.callback_answers)
        await user.tap(cue.message_id, text="Skip this pose")
        # The tap is answered and the class goes on; the old message is only not redrawn.
        await emulator.wait_for(lambda: len(emulator.callback_answers) > answered)
        [following] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await user.tap(following.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "3/3"))
    assert emulator.callback_answers[answered]["text"] == "Skipped"
    assert "ease off" in (cue.plain or "")  # the redraw Telegram refused was not made
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
