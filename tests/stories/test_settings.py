"""/settings as a user lives it, through the real Application: the values in force, a tap
that changes one on the same message, settings kept across a restart, and presses that
change nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import ClassLength, EasierMode, Pace, Pictures, User
from bot.store import Store
from bot.user_settings import Setting, UserSettings, UserSettingsService
from handlers.buttons import SettingButton
from handlers.render import common
from handlers.render import settings as render
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from sequences import YogaClass
from tests.harness.bot import bot_running, button_texts
from tests.harness.factories import make_class


def class_with_a_short_version() -> YogaClass:
    """Twelve minutes in full; its first and last poses, two minutes, short."""
    data = make_class(holds=(60, 600, 60)).model_dump()
    for step in (data["steps"][0], data["steps"][-1]):
        step["short"] = True
    return YogaClass.model_validate(data)


CLASS = class_with_a_short_version()
CATALOG = {CLASS.id: CLASS}


def rows(message: EmuMessage) -> list[list[str]]:
    markup = message.reply_markup or {}
    return [[b["text"] for b in row] for row in markup.get("inline_keyboard", [])]


def marked(message: EmuMessage) -> list[str]:
    return [t.removeprefix(render.CHOSEN) for t in button_texts(message) if t.startswith("✓")]


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


async def show_settings(user: SimulatedUser) -> EmuMessage:
    return await reply_to(user, "/settings")


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


async def test_settings_shows_the_defaults_marked_and_their_minutes(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(7101)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        assert message.plain is not None
        assert message.plain.splitlines()[:5] == [
            render.TITLE,
            "Class length: Full (about 12 min)",
            "Pace: Normal",
            "Easier options: Remembered — shown from the start where you often chose them",
            "Cues: Pictures on — a picture of each pose",
        ]
        assert rows(message) == [
            ["✓ Full", "Short"],
            ["Slow", "✓ Normal", "Quick"],
            ["As I ask", "✓ Remembered", "Always"],
            ["✓ Pictures on", "Text only"],
        ]
        # The value in force, tapped again: answered, and nothing to redraw.
        await user.tap(message.message_id, text="✓ Normal")
        await emulator.wait_for(lambda: emulator.callback_answers)
        help_reply = await reply_to(user, "/help")
    assert emulator.callback_answers[-1]["text"] == "Pace: Normal"
    assert message.edits == 0
    assert "/settings — Class length, pace and easier options" in (help_reply.plain or "")


async def test_tapping_short_edits_the_same_message_and_stores_it(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(7102, first_name="Ana")
    async with bot_running(emulator, database_url, catalog=CATALOG):
        message = await show_settings(user)
        await user.tap(message.message_id, text="Short")
        await emulator.wait_for(lambda: "✓ Short" in button_texts(message))
        assert user.message(message.message_id) is message
        assert user.last_bot_message is message
        assert (message.plain or "").splitlines()[1] == "Class length: Short (about 2 min)"
        assert marked(message) == ["Short", "Normal", "Remembered", "Pictures on"]
        await emulator.wait_for(lambda: emulator.callback_answers)
    assert emulator.callback_answers[-1]["text"] == "Class length: Short"
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
        await user.tap(first.message_id, text="Slow")
        await emulator.wait_for(lambda: "✓ Slow" in button_texts(first))
        await user.tap(first.message_id, text="Always")
        await emulator.wait_for(lambda: "✓ Always" in button_texts(first))
        await user.tap(first.message_id, text="Text only")
        await emulator.wait_for(lambda: "✓ Text only" in button_texts(first))
    async with bot_running(emulator, database_url, catalog=CATALOG):
        second = await show_settings(user)
        assert marked(second) == ["Full", "Slow", "Always", "Text only"]
        assert (second.plain or "").splitlines()[2:4] == [
            "Pace: Slow — longer holds",
            "Easier options: Always — shown from the start on every pose",
        ]
        # The message from before the restart still changes what is stored.
        await user.tap(first.message_id, text="Short")
        await emulator.wait_for(lambda: "✓ Short" in button_texts(first))
    assert await stored_settings(db_engine, user.id) == UserSettings(
        ClassLength.SHORT, Pace.SLOW, EasierMode.ALWAYS, Pictures.OFF
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
        assert "✓ Quick" in button_texts(message)
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
    assert marked(message) == ["Full", "Normal", "Remembered", "Pictures on"]
    assert await stored_settings(db_engine, user.id) == UserSettings()
    async with create_sessionmaker(db_engine)() as db:
        assert await db.get(User, user.id) is None
