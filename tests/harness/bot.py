"""Running the real Application against the Bot API emulator, for the story tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy import select
from telegram.ext import Job

from bot.clock import Clock, utc_now
from bot.database import create_engine, create_sessionmaker
from bot.models import Practice, StepEvent
from bot.settings import load_settings
from bot.uploads import PictureSource, SoundSource
from bot.user_settings import CHOICES
from handlers.app import build_application, running
from handlers.context import YogaApp, YogaContext
from handlers.rate_limit import Scheduler
from handlers.render import checkin as render_checkin
from handlers.render import settings as render_settings
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from sequences import YogaClass

T = TypeVar("T")

TOKEN = "123456:TEST-token-for-the-emulator"

if TYPE_CHECKING:

    class Worded(EmuMessage):
        """A message found by its words: for the type checker, its `plain` is text, never
        None. At run time it is just an EmuMessage."""

        @property
        def plain(self) -> str: ...

else:
    Worded = EmuMessage


@contextlib.asynccontextmanager
async def bot_running(
    emulator: BotApiEmulator,
    database_url: str,
    *,
    time_scale: float = 1.0,
    clock: Clock = utc_now,
    catalog: dict[str, YogaClass] | None = None,
    pictures: PictureSource | None = None,
    sounds: SoundSource | None = None,
    send_scheduler: Scheduler | None = None,
    **more_settings: object,
) -> AsyncIterator[YogaApp]:
    """The bot, running against `emulator` until the block ends; without a voice unless
    `more_settings` ask for one (voice_engine="espeak-ng", and a voice_cache_dir)."""
    settings = load_settings(
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.api_url,
        time_scale=time_scale,
        **{"voice_engine": "off", **more_settings},
    )
    application = build_application(
        settings,
        clock=clock,
        catalog=catalog,
        pictures=pictures,
        sounds=sounds,
        send_scheduler=send_scheduler,
    )
    async with running(application, poll_timeout=1):
        yield application


async def cue_recorded(database_url: str, practice_id: int) -> None:
    """Until the bot has recorded the practice's current cue as delivered (just after
    Telegram's answer reaches it), within a few seconds."""
    engine = create_engine(database_url)
    try:
        async with asyncio.timeout(5):
            while True:
                async with create_sessionmaker(engine)() as db:
                    practice = await db.get(Practice, practice_id)
                if practice is not None and practice.cue_message_id is not None:
                    return
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


async def stored_practices(database_url: str) -> list[Practice]:
    return await _all(database_url, Practice)


async def stored_events(database_url: str) -> list[StepEvent]:
    return await _all(database_url, StepEvent)


async def _all(database_url: str, model: type[T]) -> list[T]:
    """Every row of `model`, in the order they were written, read as another process would."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            rows = await db.scalars(select(model).order_by(model.id))  # type: ignore[attr-defined]
            return list(rows)
    finally:
        await engine.dispose()


def cues_titled(user: SimulatedUser, prefix: str) -> list[Worded]:
    # Each starts with a (non-empty) prefix, so each has words.
    return cast(
        "list[Worded]", [m for m in user.bot_messages if (m.plain or "").startswith(prefix)]
    )


# How a finished practice's closing message begins: held through, or tapped through well
# under its holds (handlers/render/practice.py).
CLOSINGS = ("Well done. You finished", "You reached the end of")


def is_closing(message: EmuMessage) -> bool:
    return (message.plain or "").startswith(CLOSINGS)


def has_closing(user: SimulatedUser) -> Callable[[], Worded | None]:
    """The user's first closing message of a finished practice."""

    def find() -> Worded | None:
        # It begins with words, so it has words.
        return cast("Worded | None", next((m for m in user.bot_messages if is_closing(m)), None))

    return find


def has_message(user: SimulatedUser, needle: str) -> Callable[[], Worded | None]:
    def find() -> Worded | None:
        found = next((m for m in user.bot_messages if needle in (m.plain or "")), None)
        # It contains a (non-empty) needle, so it has words.
        return cast("Worded | None", found)

    return find


def cue_timers(app: YogaApp) -> list[Job[YogaContext]]:
    """The cue timers now scheduled: one job a practice, named "cue:<practice id>"."""
    assert app.job_queue is not None
    return [j for j in app.job_queue.jobs() if (j.name or "").startswith("cue:")]


def cue_jobs(app: YogaApp) -> list[str]:
    """The names of the cue timers now scheduled."""
    return [j.name for j in cue_timers(app) if j.name is not None]


def button_texts(message: EmuMessage) -> list[str]:
    markup = message.reply_markup or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


SCREEN_CLEAR = "None of these"


async def answer_checkin(
    emulator: BotApiEmulator, user: SimulatedUser, choice: str = "Skip"
) -> EmuMessage:
    """Tap `choice` ("Skip" or "0".."10") on the back check-in the user was just asked;
    the answer is what starts the class. A red-flag screen asked first (a user's first
    practice) is answered "None of these"."""
    own = [m.message_id for m in user.messages if not m.from_bot]
    after = own[-1] if own else 0

    def asked(is_it: Callable[[EmuMessage], bool]) -> Callable[[], EmuMessage | None]:
        def find() -> EmuMessage | None:
            return next((m for m in user.bot_messages if m.message_id > after and is_it(m)), None)

        return find

    def question_or_screen(m: EmuMessage) -> bool:
        return m.plain == render_checkin.BEFORE_QUESTION or SCREEN_CLEAR in button_texts(m)

    first = await emulator.wait_for(asked(question_or_screen))
    if first.plain != render_checkin.BEFORE_QUESTION:
        await user.tap(first.message_id, text=SCREEN_CLEAR)
        first = await emulator.wait_for(asked(lambda m: m.plain == render_checkin.BEFORE_QUESTION))
    await user.tap(first.message_id, text=choice)
    return first


async def begin_practice(
    emulator: BotApiEmulator, user: SimulatedUser, choice: str = "Skip"
) -> EmuMessage:
    """/start_practice and the answer to its check-in (and to the red-flag screen, the
    first time); returns the check-in question."""
    await user.send("/start_practice")
    return await answer_checkin(emulator, user, choice)


async def screened(emulator: BotApiEmulator, user: SimulatedUser) -> None:
    """Answer the red-flag screen "None of these" through /safety, so /start_practice goes
    straight to the check-in."""
    await user.send("/safety")
    screen = await emulator.wait_for(has_button(user, SCREEN_CLEAR))
    await user.tap(screen.message_id, text=SCREEN_CLEAR)
    await emulator.wait_for(lambda: not button_texts(screen))


def has_button(user: SimulatedUser, label: str) -> Callable[[], EmuMessage | None]:
    def find() -> EmuMessage | None:
        return next((m for m in reversed(user.bot_messages) if label in button_texts(m)), None)

    return find


async def stop_practice(emulator: BotApiEmulator, user: SimulatedUser, cue: EmuMessage) -> None:
    """Stop as a user does: Pause, Stop, then End practice, each on the cue."""
    for label, then in (("Pause", "Stop"), ("Stop", "End practice"), ("End practice", None)):
        await user.tap(cue.message_id, text=label)
        if then is not None:
            await emulator.wait_for(has_button_on(cue, then))


async def next_through_the_class(
    emulator: BotApiEmulator, user: SimulatedUser, total: int = 3, *, practice: int = 1
) -> None:
    """Tap Next on every cue of the user's `practice`-th practice (1 for their first)."""
    for number in range(1, total + 1):

        def cue(number: int = number) -> list[Worded]:
            return cues_titled(user, f"{number}/{total} · ")[practice - 1 :]

        shown = (await emulator.wait_for(cue))[-1]
        await emulator.wait_for(has_button_on(shown, "Next"))
        await user.tap(shown.message_id, text="Next")


def has_button_on(message: EmuMessage, label: str) -> Callable[[], bool]:
    return lambda: label in button_texts(message)


async def choose_setting(
    emulator: BotApiEmulator, user: SimulatedUser, panel: EmuMessage, label: str
) -> None:
    """Choose a value on /settings' message `panel` as a user does: its setting's button,
    then the value's (by its label, e.g. "Slow"); done once all settings show again."""
    value = next(v for v, text in render_settings.LABELS.items() if text == label)
    setting = next(s for s, kind in CHOICES.items() if isinstance(value, kind))
    name = render_settings.SETTING_NAMES[setting]
    opener = next(t for t in button_texts(panel) if t.startswith(f"{name}: "))
    await user.tap(panel.message_id, text=opener)
    await emulator.wait_for(has_button_on(panel, render_settings.BACK))
    marked = render_settings.CHOSEN + label
    await user.tap(panel.message_id, text=marked if marked in button_texts(panel) else label)
    await emulator.wait_for(has_button_on(panel, render_settings.changed(setting, value)))


async def choose_settings(emulator: BotApiEmulator, user: SimulatedUser, *labels: str) -> None:
    """/settings, then each value by its label, on the same message."""
    await user.send("/settings")
    panel = await emulator.wait_for(has_message(user, render_settings.TITLE))
    for label in labels:
        await choose_setting(emulator, user, panel, label)
