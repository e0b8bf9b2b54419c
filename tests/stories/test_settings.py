"""/settings as a user lives it, through the real Application: the values in force, a
setting's page and a tap on a value that changes it, all on the same message, labels that
fit a phone, minutes that follow the pace, settings kept across a restart, and presses
that change nothing."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import ClassLength, EasierMode, Pace, Pictures, User, Voice
from bot.store import Store
from bot.user_settings import CHOICES, Setting, UserSettings, UserSettingsService
from handlers.buttons import SettingButton, SettingsView
from handlers.render import common
from handlers.render import settings as render
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from sequences import YogaClass
from tests.harness.bot import bot_running, button_texts, choose_setting
from tests.harness.factories import make_class


def class_with_a_short_version() -> YogaClass:
    """Four poses, sixteen minutes in full (20 slow, 12 quick); its first and last, four
    minutes, short (5 slow, 3 quick)."""
    data = make_class(holds=(120, 480, 240, 120)).model_dump()
    for step in (data["steps"][0], data["steps"][-1]):
        step["short"] = True
    return YogaClass.model_validate(data)


CLASS = class_with_a_short_version()
CATALOG = {CLASS.id: CLASS}


def rows(message: EmuMessage) -> list[list[str]]:
    markup = message.reply_markup or {}
    return [[b["text"] for b in row] for row in markup.get("inline_keyboard", [])]


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


async def show_settings(user: SimulatedUser) -> EmuMessage:
    return await reply_to(user, "/settings")


async def choose(
    emulator: BotApiEmulator, user: SimulatedUser, message: EmuMessage, value: StrEnum
) -> None:
    await choose_setting(emulator, user, message, render.LABELS[value])


# What Telegram shows of a button's text on a 390 px phone, by the buttons in its row:
# longer texts end in "…" ("✓ Reme…").
FITS_A_PHONE = {1: 30, 2: 14, 3: 9}


def too_long(message: EmuMessage) -> list[str]:
    return [
        text for row in rows(message) for text in row if len(text) > FITS_A_PHONE.get(len(row), 0)
    ]


async def stored_settings(db_engine: AsyncEngine, user_id: int) -> UserSettings:
    return await UserSettingsService(Store(db_engine), ManualClock()).of(user_id)


def test_the_wire_forms_are_short_and_name_the_value() -> None:
    assert SettingButton(Setting.CLASS_LENGTH, ClassLength.SHORT).pack() == "st:l:short"
    assert SettingButton(Setting.PACE, Pace.SLOW).pack() == "st:p:slow"
    assert SettingButton(Setting.EASIER_MODE, EasierMode.AS_ASKED).pack() == "st:e:as_asked"
    # A value under another setting's letter reads back, and is known not to fit.
    forged = SettingButton.parse("st:l:slow")
    assert forged == SettingButton(Setting.CLASS_LENGTH, Pace.SLOW)
    assert not forged.fits
    assert SettingButton.parse("st:p:warp") is None
    assert SettingsView(Setting.EASIER_MODE).pack() == "sv:e"
    assert SettingsView(None).pack() == "sv:all"


async def test_settings_shows_the_defaults_marked_and_their_minutes(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7101)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        assert message.plain is not None
        assert message.plain.splitlines() == [
            render.TITLE,
            "Class length: Full (about 16 min)",
            "Pace: Normal",
            "Easier options: Remembered — shown from the start where you often chose them",
            "Cues: Pictures on — a picture of each pose",
            "Voice: Off",
            "",
            render.TAP_TO_CHANGE,
        ]
        # A button to a row, each saying what it sets.
        assert rows(message) == [
            ["Class length: Full"],
            ["Pace: Normal"],
            ["Easier options: Remembered"],
            ["Cues: Pictures on"],
            ["Voice: Off"],
        ]
        await user.tap(message.message_id, text="Pace: Normal")
        await emulator.wait_for(lambda: render.BACK in button_texts(message))
        assert message.plain.splitlines() == [
            "Pace",
            "How long each pose is held.",
            "",
            "Slow: every hold a quarter longer, about 20 min",
            "Normal: the holds as taught, about 16 min",
            "Quick: every hold a quarter shorter, about 12 min",
            "",
            render.APPLIES_NEXT_CLASS,
        ]
        assert rows(message) == [["Slow"], ["✓ Normal"], ["Quick"], [render.BACK]]
        # The value in force, tapped again: answered, nothing stored, all settings again.
        await user.tap(message.message_id, text="✓ Normal")
        await emulator.wait_for(lambda: "Pace: Normal" in button_texts(message))
        help_reply = await reply_to(user, "/help")
    assert emulator.callback_answers[-1]["text"] == "Pace: Normal"
    assert message.edits == 2
    assert "/settings — Class length, pace, easier options, voice" in (help_reply.plain or "")


async def test_tapping_short_edits_the_same_message_and_stores_it(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(7102, first_name="Ana")
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        await choose(emulator, user, message, ClassLength.SHORT)
        assert user.message(message.message_id) is message
        assert user.last_bot_message is message
        assert (message.plain or "").splitlines()[1] == "Class length: Short (about 4 min)"
        assert button_texts(message)[0] == "Class length: Short"
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
    assert [a.get("text") for a in emulator.callback_answers] == [None, "Class length: Short"]
    async with create_sessionmaker(db_engine)() as db:
        stored = await db.get(User, user.id)
    assert stored is not None
    assert (stored.class_length, stored.pace, stored.first_name) == (
        ClassLength.SHORT,
        Pace.NORMAL,
        "Ana",
    )


async def test_settings_survive_a_restart_and_old_buttons_still_work(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(7103)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        first = await show_settings(user)
        for value in (Pace.SLOW, EasierMode.ALWAYS, Pictures.OFF, Voice.ON):
            await choose(emulator, user, first, value)
        await user.tap(first.message_id, text="Class length: Full")
        await emulator.wait_for(lambda: render.BACK in button_texts(first))
    async with bot_running(emulator, database_url, catalog=CATALOG):
        second = await show_settings(user)
        assert button_texts(second) == [
            "Class length: Full",
            "Pace: Slow",
            "Easier options: Always",
            "Cues: Text only",
            "Voice: On",
        ]
        assert (second.plain or "").splitlines()[2:4] == [
            "Pace: Slow — longer holds",
            "Easier options: Always — shown from the start on every pose",
        ]
        # The page shown before the restart still changes what is stored.
        await user.tap(first.message_id, text="Short")
        await emulator.wait_for(lambda: "Class length: Short" in button_texts(first))
    assert await stored_settings(db_engine, user.id) == UserSettings(
        ClassLength.SHORT, Pace.SLOW, EasierMode.ALWAYS, Pictures.OFF, Voice.ON
    )


async def test_a_double_tap_stores_once_and_answers_both(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(7104)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        data = SettingButton(Setting.PACE, Pace.QUICK).pack()
        # Both presses leave before the first one's edit reaches the chat.
        await user.tap_data(message.message_id, data)
        await user.tap_data(message.message_id, data)
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        assert "Pace: Quick" in button_texts(message)
    assert [a["text"] for a in emulator.callback_answers] == ["Pace: Quick", "Pace: Quick"]
    assert message.edits == 1
    assert await stored_settings(db_engine, user.id) == UserSettings(pace=Pace.QUICK)


async def test_a_forged_press_is_answered_and_changes_nothing(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(7105)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        # A value no setting has, then values under another setting's letter.
        for data in ("st:p:warp", "st:l:slow", "st:e:full"):
            await user.tap_data(message.message_id, data)
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 3)
    assert [a["text"] for a in emulator.callback_answers] == [common.OUT_OF_DATE] * 3
    assert message.edits == 0
    assert await stored_settings(db_engine, user.id) == UserSettings()
    async with create_sessionmaker(db_engine)() as db:
        assert await db.get(User, user.id) is None


def test_the_minutes_of_each_length_follow_the_pace() -> None:
    """The length's minutes are the class's holds at the pace in force, as a practice
    runs them (bot.user_settings.paced_hold)."""
    lines = {
        (length, pace): render.settings_message(UserSettings(length, pace), CLASS).text
        for length in ClassLength
        for pace in Pace
    }
    minutes = {
        key: text.splitlines()[1].removeprefix("Class length: ") for key, text in lines.items()
    }
    assert minutes == {
        (ClassLength.FULL, Pace.SLOW): "Full (about 20 min)",
        (ClassLength.FULL, Pace.NORMAL): "Full (about 16 min)",
        (ClassLength.FULL, Pace.QUICK): "Full (about 12 min)",
        (ClassLength.SHORT, Pace.SLOW): "Short (about 5 min)",
        (ClassLength.SHORT, Pace.NORMAL): "Short (about 4 min)",
        (ClassLength.SHORT, Pace.QUICK): "Short (about 3 min)",
    }


async def test_a_length_chosen_at_a_slow_pace_says_its_slow_minutes(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7106)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        await choose(emulator, user, message, Pace.SLOW)
        assert (message.plain or "").splitlines()[1] == "Class length: Full (about 20 min)"
        await user.tap(message.message_id, text="Class length: Full")
        await emulator.wait_for(lambda: render.BACK in button_texts(message))
    assert (message.plain or "").splitlines()[3:5] == [
        "Full: 4 poses, about 20 min",
        "Short: 2 poses, about 5 min",
    ]


async def test_every_settings_button_fits_a_phone_and_says_what_it_sets(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """Every page /settings shows, with every value chosen: no button text that Telegram
    would cut short on a 390 px phone, and each row of all settings names its setting."""
    user = emulator.user(7107)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        for setting, kind in CHOICES.items():
            for value in kind:
                await choose(emulator, user, message, value)
                assert too_long(message) == []
                assert [row[0].partition(":")[0] for row in rows(message)] == list(
                    render.SETTING_NAMES.values()
                )
                await user.tap(message.message_id, text=render.changed(setting, value))
                await emulator.wait_for(lambda: render.BACK in button_texts(message))
                assert too_long(message) == []
                await user.tap(message.message_id, text=render.BACK)
                await emulator.wait_for(lambda: render.BACK not in button_texts(message))
