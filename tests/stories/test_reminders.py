"""Reminders as a user lives them: the real Application over HTTP to the emulator, with a
manual clock; the tick is run on demand instead of waiting for its 20 seconds."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pytest
from sqlalchemy import select

from bot import database
from bot.clock import ManualClock
from bot.database import create_engine, create_sessionmaker, migrate
from bot.models import Practice, PracticeStatus, Reminder, User
from bot.reminders import ReminderService, Schedule
from bot.store import Store
from handlers.context import YogaApp
from handlers.reminder_tick import TICK_NAME
from handlers.render import checkin as render_checkin
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage, RecordedCall
from tests.harness.bot import (
    TOKEN,
    Worded,
    bot_running,
    button_texts,
    cues_titled,
    has_message,
    screened,
)
from tests.harness.factories import make_class
from tests.harness.faults import locked

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
MONDAY_7AM = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
REMINDER = "Time for your practice"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_7AM)


async def tick(app: YogaApp) -> None:
    """Run the reminder tick now, exactly as its repeating job runs it."""
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(TICK_NAME)
    await job.run(app)


def reminders_of(user: SimulatedUser) -> list[Worded]:
    return cues_titled(user, REMINDER)


def reply_after(user: SimulatedUser, count: int) -> EmuMessage | None:
    """The bot's `count`-th message (1-based), once it exists."""
    messages = user.bot_messages
    return messages[count - 1] if len(messages) >= count else None


async def stored_reminder(database_url: str, user_id: int) -> Reminder | None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            return await db.get(Reminder, user_id)
    finally:
        await engine.dispose()


async def stored_zone(database_url: str, user_id: int) -> str | None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            return await db.scalar(select(User.timezone).where(User.id == user_id))
    finally:
        await engine.dispose()


async def seed_reminders(
    database_url: str, clock: ManualClock, user_ids: list[int], schedule: Schedule
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        service = ReminderService(Store(engine), clock)
        for user_id in user_ids:
            await service.set_schedule(user_id, user_id, "Test", schedule)
    finally:
        await engine.dispose()


async def finish_practice(database_url: str, user_id: int, at: datetime) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine).begin() as db:
            db.add(
                Practice(
                    user_id=user_id,
                    chat_id=user_id,
                    class_id=TINY.id,
                    status=PracticeStatus.FINISHED,
                    started_at=at - timedelta(minutes=3),
                    finished_at=at,
                )
            )
    finally:
        await engine.dispose()


def sends_to(emulator: BotApiEmulator, chat_id: int) -> list[RecordedCall]:
    return [c for c in emulator.calls_of("sendMessage") if c.params.get("chat_id") == chat_id]


# -- commands --------------------------------------------------------------------------------


async def test_help_and_menu_list_remind_and_timezone(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2001)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        assert {"remind", "timezone"} <= {c["command"] for c in emulator.commands}
        await user.send("/help")
        reply = await emulator.wait_for(has_message(user, "/remind"))
        assert "/timezone" in reply.plain


async def test_remind_confirms_the_next_time_and_names_the_default_zone(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2002)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/remind 07:30")
        reply = await emulator.wait_for(has_message(user, "Done."))
    assert reply.plain == (
        "Done. I'll remind you every day at 07:30.\n"
        "Next reminder: today at 07:30 (UTC).\n\n"
        "Times are in UTC until you set your own zone: send e.g. /timezone Berlin, "
        "or /timezone to share your location."
    )


async def test_zone_and_days_change_the_next_reminder(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2003)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/timezone Europe/Berlin")
        zone_set = await emulator.wait_for(lambda: reply_after(user, 1))
        assert zone_set.plain == (
            "Time zone set: Europe/Berlin (it's 08:00 there now).\n"
            "Reminders are off; /remind 07:30 sets one."
        )
        await user.send("/remind 18:15 mon,wed,fri")
        done = await emulator.wait_for(lambda: reply_after(user, 2))
        assert done.plain == (
            "Done. I'll remind you on Mon, Wed and Fri at 18:15.\n"
            "Next reminder: today at 18:15 (Europe/Berlin)."
        )
        await user.send("/remind 07:30 weekdays")
        done = await emulator.wait_for(lambda: reply_after(user, 3))
        assert done.plain == (
            "Done. I'll remind you on weekdays at 07:30.\n"
            "Next reminder: tomorrow, Tue 6 Jan, at 07:30 (Europe/Berlin)."
        )
        await user.send("/timezone America/New_York")
        moved = await emulator.wait_for(lambda: reply_after(user, 4))
        assert moved.plain == (
            "Time zone set: America/New_York (it's 02:00 there now).\n"
            "Next reminder: today at 07:30 (America/New_York)."
        )
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None
    assert reminder.next_due_at == datetime(2026, 1, 5, 12, 30, tzinfo=UTC)


async def test_remind_alone_shows_the_setting_with_time_buttons_and_off(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2004)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/timezone Europe/London")
        await emulator.wait_for(has_message(user, "Time zone set"))
        await user.send("/remind")
        menu = await emulator.wait_for(has_message(user, "Tap a time"))
        assert button_texts(menu) == ["07:00", "12:30", "18:00", "21:00"]
        await user.tap(menu.message_id, text="18:00")
        await emulator.wait_for(has_message(user, "Done. I'll remind you every day at 18:00"))
        assert "Next reminder: today at 18:00 (Europe/London)." in menu.plain
        assert button_texts(menu) == []
        await user.send("/remind")
        menu = await emulator.wait_for(has_message(user, "Your reminder:"))
        assert menu.plain.startswith("Your reminder: every day at 18:00 (Europe/London).\n")
        assert button_texts(menu) == ["07:00", "12:30", "18:00", "21:00", "Off"]
        await user.tap(menu.message_id, text="Off")
        await emulator.wait_for(lambda: "Reminders are off" in (menu.plain or ""))
        await user.send("/remind off")
        await emulator.wait_for(lambda: len(user.bot_messages) == 4)
        assert user.bot_messages[-1].plain is not None
        assert user.bot_messages[-1].plain.startswith("Reminders are off.")
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None and not reminder.enabled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/remind 25:99",
            "25:99 is not a time of day. Try e.g. /remind 07:30 or /remind 7:30pm",
        ),
        ("/remind 7", "“7” needs minutes or am/pm, e.g. /remind 07:30 or /remind 7:30pm"),
        ("/remind 13pm", "13pm is not a time of day. Try e.g. /remind 07:30 or /remind 7:30pm"),
        ("/remind half7", "“half7” is not a time. Try e.g. /remind 07:30 or /remind 7:30pm"),
        (
            "/remind 07:30 funday",
            "I don't know the day “funday”. Use mon–sun, weekdays, weekends or daily, "
            "e.g. /remind 18:15 mon,wed,fri",
        ),
        (
            "/remind 07:30 ,,,,",
            "Which days? Name them after the time, e.g. /remind 18:15 mon,wed,fri",
        ),
        (
            "/timezone Mars/Base",
            "I don't know the place or time zone “Mars/Base”. Send a nearby city, e.g. "
            "/timezone Berlin, an offset like /timezone UTC+2, or /timezone to share your "
            "location.",
        ),
        (
            "/timezone UTC+15",
            "I don't know the place or time zone “UTC+15”. Send a nearby city, e.g. "
            "/timezone Berlin, an offset like /timezone UTC+2, or /timezone to share your "
            "location.",
        ),
    ],
)
async def test_bad_input_gets_one_line_with_an_example_and_changes_nothing(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock, text: str, expected: str
) -> None:
    user = emulator.user(2005)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send(text)
        reply = await emulator.wait_for(lambda: reply_after(user, 1))
    assert reply.plain == expected
    assert await stored_reminder(database_url, user.id) is None
    assert await stored_zone(database_url, user.id) is None


async def test_a_shared_location_sets_the_zone(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2006)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/timezone")
        shown = await emulator.wait_for(lambda: reply_after(user, 1))
        assert shown.plain is not None
        assert shown.plain.startswith("I'm using UTC, as you haven't set your time zone yet")
        assert user.reply_keyboard is not None
        [[button]] = user.reply_keyboard["keyboard"]
        assert button["request_location"] is True
        await user.send_location(52.52, 13.405)
        done = await emulator.wait_for(lambda: reply_after(user, 2), timeout=10)
        assert done.plain is not None
        assert done.plain.startswith("Time zone set: Europe/Berlin (it's 08:00 there now).")
        assert user.reply_keyboard is None
    assert await stored_zone(database_url, user.id) == "Europe/Berlin"


# -- time as people type it -----------------------------------------------------------------


FIXED_NOTE = (
    "{zone} is a fixed offset: it will not follow summer time. To have your clock change "
    "with the seasons, send your city instead, e.g. /timezone Berlin."
)
REMINDERS_OFF = "Reminders are off; /remind 07:30 sets one."


@pytest.mark.parametrize(
    ("typed", "zone", "lines"),
    [
        ("Berlin", "Europe/Berlin", ["Europe/Berlin, for Berlin, Germany (it's 08:00 there now)."]),
        (
            "london",
            "Europe/London",
            [
                "Europe/London, for London, United Kingdom (it's 07:00 there now).",
                "Not London, United Kingdom? Send e.g. /timezone London, Canada.",
            ],
        ),
        (
            "New York",
            "America/New_York",
            ["America/New_York, for New York, United States (it's 02:00 there now)."],
        ),
        (
            "Sao Paulo",
            "America/Sao_Paulo",
            ["America/Sao_Paulo, for São Paulo, Brazil (it's 04:00 there now)."],
        ),
        (
            "são paulo",
            "America/Sao_Paulo",
            ["America/Sao_Paulo, for São Paulo, Brazil (it's 04:00 there now)."],
        ),
        (
            "UTC+2",
            "UTC+02:00",
            ["UTC+02:00 (it's 09:00 there now).", FIXED_NOTE.format(zone="UTC+02:00")],
        ),
        (
            "GMT-5",
            "UTC-05:00",
            ["UTC-05:00 (it's 02:00 there now).", FIXED_NOTE.format(zone="UTC-05:00")],
        ),
        (
            "+05:30",
            "UTC+05:30",
            ["UTC+05:30 (it's 12:30 there now).", FIXED_NOTE.format(zone="UTC+05:30")],
        ),
    ],
)
async def test_timezone_understands_cities_and_offsets_as_people_type_them(
    emulator: BotApiEmulator,
    database_url: str,
    clock: ManualClock,
    typed: str,
    zone: str,
    lines: list[str],
) -> None:
    user = emulator.user(2020)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send(f"/timezone {typed}")
        reply = await emulator.wait_for(lambda: reply_after(user, 1))
    first, *rest = lines
    assert reply.plain == "\n".join([f"Time zone set: {first}", *rest, REMINDERS_OFF])
    assert await stored_zone(database_url, user.id) == zone


async def test_a_fixed_offset_reminds_at_the_same_utc_time_all_year(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2021)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/timezone UTC+2")
        await emulator.wait_for(has_message(user, "Time zone set: UTC+02:00"))
        await user.send("/remind 7:30pm")
        done = await emulator.wait_for(has_message(user, "Done."))
        assert done.plain == (
            "Done. I'll remind you every day at 19:30.\nNext reminder: today at 19:30 (UTC+02:00)."
        )
        # Midsummer: a place with summer time would have moved its clock by now.
        clock.now = datetime(2026, 7, 6, 17, 29, tzinfo=UTC)
        await tick(app)
        clock.now = datetime(2026, 7, 6, 17, 30, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None
    assert reminder.next_due_at == datetime(2026, 7, 7, 17, 30, tzinfo=UTC)


async def test_a_name_of_several_places_gets_a_button_for_each(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2022)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/timezone Portland")
        question = await emulator.wait_for(lambda: reply_after(user, 1))
        assert question.plain == (
            "Which Portland do you mean? Tap it below, or send the city with its country, "
            "e.g. /timezone Portland, United States."
        )
        assert button_texts(question) == [
            "Portland, US · Los Angeles time",
            "Portland, US · New York time",
            "Portland, US · Chicago time",
        ]
        assert await stored_zone(database_url, user.id) is None
        await user.tap(question.message_id, text="Portland, US · New York time")
        await emulator.wait_for(lambda: (question.plain or "").startswith("Time zone set"))
        assert question.plain == (
            "Time zone set: America/New_York (it's 02:00 there now).\n" + REMINDERS_OFF
        )
        assert button_texts(question) == []
        assert await stored_zone(database_url, user.id) == "America/New_York"
        # A place the bot never offered (forged data) changes nothing and says so.
        await user.tap_data(question.message_id, "tz:Mars/Base")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        assert emulator.callback_answers[-1]["text"] == (
            "That button is out of date. Send /timezone with your city."
        )
    assert await stored_zone(database_url, user.id) == "America/New_York"


async def test_a_name_of_several_places_in_different_countries_names_the_countries(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2023)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/timezone birmingham")
        question = await emulator.wait_for(lambda: reply_after(user, 1))
        assert button_texts(question) == [
            "Birmingham, United Kingdom",
            "Birmingham, US · Chicago time",
            "Birmingham, US · Detroit time",
        ]
        await user.tap(question.message_id, text="Birmingham, United Kingdom")
        await emulator.wait_for(lambda: button_texts(question) == [])
    assert await stored_zone(database_url, user.id) == "Europe/London"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("7:30pm", "19:30"),
        ("7:30 pm", "19:30"),
        ("7pm", "19:00"),
        ("7.30", "07:30"),
        ("0730", "07:30"),
        ("19h30", "19:30"),
        ("18:15", "18:15"),
    ],
)
async def test_remind_understands_times_as_people_type_them(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock, typed: str, said: str
) -> None:
    user = emulator.user(2024)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send(f"/remind {typed}")
        done = await emulator.wait_for(lambda: reply_after(user, 1))
    assert done.plain is not None
    assert done.plain.startswith(f"Done. I'll remind you every day at {said}.\n")
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None
    assert f"{reminder.hour:02d}:{reminder.minute:02d}" == said


@pytest.mark.parametrize("zone_given_by", ["/timezone Berlin", "location"])
async def test_a_quick_time_before_any_zone_asks_for_the_zone_then_sets_the_reminder(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock, zone_given_by: str
) -> None:
    user = emulator.user(2025)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind")
        menu = await emulator.wait_for(has_message(user, "Reminders are off"))
        # A double tap: both presses leave before the first one's edit lands.
        await user.tap_data(menu.message_id, "r:set:1800")
        await user.tap_data(menu.message_id, "r:set:1800")
        question = await emulator.wait_for(lambda: reply_after(user, 2))
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        assert menu.plain == (
            "I'll remind you every day at 18:00 as soon as I know your time zone."
        )
        assert button_texts(menu) == []
        assert question.plain == (
            "Where are you? Send your city, e.g. /timezone Berlin, or tap the button below "
            "to share your location."
        )
        assert user.reply_keyboard is not None
        [[location]] = user.reply_keyboard["keyboard"]
        assert location["request_location"] is True
        stored = await stored_reminder(database_url, user.id)
        assert stored is not None and stored.enabled and stored.next_due_at is None
        # 18:00 UTC passes: the bot did not guess the zone.
        clock.now = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
        await tick(app)
        assert reminders_of(user) == []
        # /remind says what it waits for.
        await user.send("/remind")
        status = await emulator.wait_for(lambda: reply_after(user, 3))
        assert status.plain is not None
        assert status.plain.startswith(
            "Your reminder: every day at 18:00, once I know your time zone.\n"
            "Where are you? Send your city, e.g. /timezone Berlin, or /timezone to share "
            "your location."
        )
        clock.now = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
        if zone_given_by == "location":
            await user.send_location(52.52, 13.405)
        else:
            await user.send(zone_given_by)
        done = await emulator.wait_for(lambda: reply_after(user, 4), timeout=10)
        assert done.plain is not None
        assert done.plain.startswith("Time zone set: Europe/Berlin")
        assert done.plain.endswith("\nNext reminder: today at 18:00 (Europe/Berlin).")
        assert user.reply_keyboard is None
        clock.now = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))
    assert len(reminders_of(user)) == 1


# -- the reminder ----------------------------------------------------------------------------


async def test_reminder_arrives_when_due_and_start_practice_starts_the_class(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user, other = emulator.user(2007), emulator.user(2017)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        await tick(app)
        assert reminders_of(user) == []
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        [reminder] = await emulator.wait_for(lambda: reminders_of(user))
        assert "Tiny Class · 3 min" in reminder.plain
        assert button_texts(reminder) == ["Start practice", "Snooze 30 min", "Skip today"]
        await screened(emulator, user)
        await screened(emulator, other)
        before, other_before = len(user.bot_messages), len(other.bot_messages)
        await user.tap(reminder.message_id, text="Start practice")
        # Exactly what /start_practice does, message for message.
        await other.send("/start_practice")
        await emulator.wait_for(has_message(other, render_checkin.BEFORE_QUESTION))
        await emulator.wait_for(
            lambda: len(user.bot_messages) - before == len(other.bot_messages) - other_before
        )
        started = [(m.plain, button_texts(m)) for m in user.bot_messages[before:]]
        assert started == [(m.plain, button_texts(m)) for m in other.bot_messages[other_before:]]
        await tick(app)
    assert len(reminders_of(user)) == 1


async def test_snooze_brings_it_back_in_30_minutes_once(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2008)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        [reminder] = await emulator.wait_for(lambda: reminders_of(user))
        await user.tap(reminder.message_id, text="Snooze 30 min")
        await emulator.wait_for(lambda: "Snoozed" in (reminder.plain or ""))
        assert "Snoozed. I'll remind you again at 08:00 (UTC)." in reminder.plain
        assert button_texts(reminder) == ["Start practice"]
        assert emulator.callback_answers[-1]["text"] == "Snoozed for 30 minutes."
        clock.advance(29 * 60)
        await tick(app)
        assert len(reminders_of(user)) == 0  # the first one now reads "Snoozed"
        clock.advance(60)
        await tick(app)
        [again] = await emulator.wait_for(lambda: reminders_of(user))
        clock.advance(3600)
        await tick(app)
    assert reminders_of(user) == [again]


async def test_skip_today_says_when_the_next_one_comes(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2009)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        [reminder] = await emulator.wait_for(lambda: reminders_of(user))
        await user.tap(reminder.message_id, text="Skip today")
        await emulator.wait_for(lambda: "Skipped" in (reminder.plain or ""))
        assert reminder.plain.endswith(
            "Skipped for today. Rest well.\nNext reminder: tomorrow, Tue 6 Jan, at 07:30 (UTC)."
        )
        assert button_texts(reminder) == []
        clock.now = datetime(2026, 1, 6, 7, 30, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))


async def test_no_reminder_after_a_practice_finished_that_day(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2010)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        await finish_practice(database_url, user.id, clock.now)
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        assert reminders_of(user) == []
        clock.now = datetime(2026, 1, 6, 7, 30, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))


async def test_stale_reminder_buttons_after_turning_off_say_so(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2011)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        [reminder] = await emulator.wait_for(lambda: reminders_of(user))
        await user.send("/remind off")
        await emulator.wait_for(has_message(user, "Reminders are off"))
        await user.tap(reminder.message_id, text="Snooze 30 min")
        await emulator.wait_for(lambda: emulator.callback_answers)
        assert (
            emulator.callback_answers[-1]["text"] == "Reminders are off. Send /remind to set one."
        )
        await user.tap_data(reminder.message_id, "r:set:9999")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        assert "out of date" in emulator.callback_answers[-1]["text"]


# -- restarts and failures -------------------------------------------------------------------


@pytest.mark.parametrize(("down_minutes", "sent"), [(75, 1), (121, 0)])
async def test_a_reminder_missed_while_down_is_sent_once_if_under_two_hours_late(
    emulator: BotApiEmulator,
    database_url: str,
    clock: ManualClock,
    down_minutes: int,
    sent: int,
) -> None:
    user = emulator.user(2012)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
    clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC) + timedelta(minutes=down_minutes)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await tick(app)
        await tick(app)
        if sent:
            await emulator.wait_for(lambda: reminders_of(user))
    assert len(reminders_of(user)) == sent
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None
    assert reminder.next_due_at == datetime(2026, 1, 6, 7, 30, tzinfo=UTC)


async def test_a_crash_after_the_claim_never_leads_to_a_second_reminder(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2013)
    user.open_chat()
    await seed_reminders(database_url, clock, [user.id], Schedule(7, 30))
    # A process claims the 07:30 reminder (the intent is stored) and dies before sending.
    clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    engine = create_engine(database_url)
    dying = ReminderService(Store(engine), clock)
    assert len((await dying.claim_due(10)).reminders) == 1
    await engine.dispose()
    clock.advance(60)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await tick(app)
    assert reminders_of(user) == []


async def test_a_user_who_blocked_the_bot_has_reminders_turned_off(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2014)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        # Blocked, and the bot not yet told (Telegram's my_chat_member can come late): the
        # 403 on the reminder itself must turn the reminders off. With the update, the bot
        # could turn them off first, and the 403 this test is about would never happen.
        user.open_chat().blocked = True
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: any(c.error_code == 403 for c in sends_to(emulator, 2014)))
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None and not reminder.enabled


async def test_retry_after_is_waited_out_and_the_reminder_sent_once(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2015)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        emulator.fail_next("sendMessage", retry_after=1, chat_id=user.id)
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))
    refused, accepted = sends_to(emulator, user.id)[-2:]
    assert refused.error_code == 429 and accepted.ok
    assert accepted.time - refused.time >= 1.0
    assert len(reminders_of(user)) == 1


async def test_a_network_error_is_retried_on_the_next_tick(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    user = emulator.user(2016)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Done."))
        emulator.fail_next("sendMessage", error_code=502, chat_id=user.id)
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        await tick(app)
        assert reminders_of(user) == []
        assert sends_to(emulator, user.id)[-1].error_code == 502
        clock.advance(20)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))
        clock.advance(60)
        await tick(app)
    assert len(reminders_of(user)) == 1


# Another process's write lock is a SQLite file's own trouble.
@pytest.mark.backends("sqlite")
async def test_a_locked_database_makes_the_tick_wait_with_one_warning(
    emulator: BotApiEmulator,
    database_url: str,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    caplog.set_level(logging.INFO, logger="handlers.reminder_tick")
    user = emulator.user(2018)
    user.open_chat()
    await seed_reminders(database_url, clock, [user.id], Schedule(7, 30))
    clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        with locked(tmp_path / "yogabot.db"):
            await tick(app)  # nothing can be claimed, so nothing is sent
            clock.advance(20)
            await tick(app)
        assert reminders_of(user) == []
        clock.advance(20)
        await tick(app)
        await emulator.wait_for(lambda: reminders_of(user))
        clock.advance(20)
        await tick(app)
    assert len(reminders_of(user)) == 1
    # The outage is one incident: one warning, however many ticks met it.
    waits = [r for r in caplog.records if "reminders wait" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == logging.INFO
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("the database does not answer")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


class AnswersLate(BotApiEmulator):
    """Takes the first message to one chat, then keeps its answer back until `release`:
    the bot's request times out (PTB's read timeout, 5 s), the message has arrived."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(token=TOKEN)
        self.chat_id = chat_id
        self.held = False
        self.release = asyncio.Event()

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        answer = await super().call(method, params, token=token)
        to_chat = str((params or {}).get("chat_id")) == str(self.chat_id)
        if method.lower() == "sendmessage" and to_chat and not self.held:
            self.held = True
            await self.release.wait()
        return answer


# A timeout is the HTTP layer's; the database behind it does not matter.
@pytest.mark.backends("sqlite")
async def test_a_reminder_whose_send_timed_out_is_not_sent_again(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with AnswersLate(chat_id=2019) as emulator:
        user = emulator.user(2019)
        user.open_chat()
        await seed_reminders(database_url, clock, [user.id], Schedule(7, 30))
        clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
            await tick(app)  # ends once the send has timed out
            for seconds in (20, 60, 3600):
                clock.advance(seconds)
                await tick(app)
        emulator.release.set()
    # It arrived though the bot never heard so; at most once, it is not sent again.
    assert len(reminders_of(user)) == 1
    [failed] = [r for r in caplog.records if "reminder to chat 2019 failed" in r.getMessage()]
    assert "Timed out" in failed.getMessage() and "not retrying" in failed.getMessage()
    reminder = await stored_reminder(database_url, user.id)
    assert reminder is not None and reminder.repeat_of is None
    assert reminder.next_due_at == datetime(2026, 1, 6, 7, 30, tzinfo=UTC)


class MoreSettings(TypedDict, total=False):
    allow_paid_broadcast: bool


async def reminders_sent_to_80_users(
    emulator: BotApiEmulator,
    database_url: str,
    clock: ManualClock,
    **settings: Unpack[MoreSettings],
) -> list[Any]:
    """80 reminders fall due at once and go out; the sendMessage calls Telegram took,
    reminders and anything else the bot sent meanwhile."""
    users = [emulator.user(3000 + n) for n in range(80)]
    for user in users:
        user.open_chat()
    await seed_reminders(database_url, clock, [u.id for u in users], Schedule(7, 30))
    clock.now = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    async with bot_running(
        emulator, database_url, clock=clock, catalog=TINY_CATALOG, **settings
    ) as app:
        await tick(app)
        await emulator.wait_for(lambda: all(reminders_of(u) for u in users), timeout=10)
        # A practice's own messages are never paid for.
        await users[0].send("/help")
        await emulator.wait_for(has_message(users[0], "/start_practice"))
    assert all(len(reminders_of(u)) == 1 for u in users)
    return [c for c in emulator.calls_of("sendMessage") if c.ok]


def busiest_second(calls: list[Any]) -> int:
    times = sorted(c.time for c in calls)
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_many_due_reminders_never_exceed_30_sends_in_any_second(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    sends = await reminders_sent_to_80_users(emulator, database_url, clock)
    reminders = [c for c in sends if "Snooze" in str(c.params.get("reply_markup"))]
    assert len(reminders) == 80
    assert busiest_second(sends) <= 30
    assert not [c for c in emulator.calls if c.error_code == 429]


async def test_with_paid_broadcasts_reminders_go_past_30_a_second(
    emulator: BotApiEmulator, database_url: str, clock: ManualClock
) -> None:
    sends = await reminders_sent_to_80_users(
        emulator, database_url, clock, allow_paid_broadcast=True
    )
    reminders = [c for c in sends if "Snooze" in str(c.params.get("reply_markup"))]
    assert len(reminders) == 80
    assert all(c.params.get("allow_paid_broadcast") in (True, "true") for c in reminders)
    assert all("allow_paid_broadcast" not in c.params for c in sends if c not in reminders)
    assert busiest_second(reminders) > 30
