"""The red-flag screen as a user lives it: /safety, its answers, and the screen on the way
into a class, through the real Application; and its buttons' data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import InlineKeyboardMarkup

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import ScreenAnswer, User
from bot.safety import EMERGENCY_SIGNS, OTHER_SIGNS, ScreenStatus
from handlers.buttons import SCHEMES, SafetyButton, SafetyChoice
from handlers.render import checkin as render_checkin
from handlers.render import safety as render
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import bot_running, button_texts, cues_titled, stored_practices
from tests.harness.factories import make_class
from tests.harness.mydata import mydata_parts

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


async def stored_screen(
    db_engine: AsyncEngine, user_id: int
) -> tuple[ScreenAnswer | None, datetime | None]:
    async with create_sessionmaker(db_engine)() as db:
        user = await db.get(User, user_id)
    assert user is not None
    return user.screen_answer, user.screened_at


async def tap_and_wait_for(
    emulator: BotApiEmulator, user: SimulatedUser, message: EmuMessage, label: str, text: str
) -> None:
    """Tap `label` and wait until the same message reads `text`."""
    await user.tap(message.message_id, text=label)
    await emulator.wait_for(lambda: message.plain == text)


def screen_shown_on(message: EmuMessage) -> Callable[[], bool]:
    return lambda: (message.plain or "").startswith(render.QUESTION)


def asked_before(user: SimulatedUser) -> list[EmuMessage]:
    return [m for m in user.bot_messages if m.plain == render_checkin.BEFORE_QUESTION]


@given(st.builds(SafetyButton, choice=st.sampled_from(SafetyChoice), start=st.booleans()))
def test_a_screen_button_reads_back_under_its_own_scheme_only(button: SafetyButton) -> None:
    data = button.pack()
    assert [scheme for scheme in SCHEMES if scheme.pattern.match(data)] == [SafetyButton]
    assert SafetyButton.parse(data) == button


def test_every_screen_keyboard_keeps_its_way_into_the_class() -> None:
    def presses(markup: object) -> list[SafetyButton | None]:
        assert isinstance(markup, InlineKeyboardMarkup)
        return [SafetyButton.parse(str(b.callback_data)) for r in markup.inline_keyboard for b in r]

    for start in (True, False):
        for reply in (render.screen(start), render.follow_up(start)):
            assert [p.start if p else None for p in presses(reply.markup)] == [start, start]
    [again] = presses(render.rest_today(ScreenStatus.SEE_CLINICIAN_TODAY).markup)
    assert again == SafetyButton(SafetyChoice.AGAIN, start=True)
    assert render.rest_today(ScreenStatus.URGENT_TODAY) == render.urgent()


async def test_safety_shows_the_screen_and_none_of_these_is_stored(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6001)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/safety")
        assert screen.plain is not None
        assert screen.plain.startswith(render.ASKED_AGAIN)
        assert "Last answer" not in screen.plain
        assert all(sign in screen.plain for sign in EMERGENCY_SIGNS + OTHER_SIGNS)
        assert button_texts(screen) == [render.NONE_OF_THESE, render.I_HAVE_ONE]
        cleared = f"{render.CLEARED} {render.READY_WHEN_YOU_ARE}"
        await tap_and_wait_for(emulator, user, screen, render.NONE_OF_THESE, cleared)
        answer, at = await stored_screen(db_engine, user.id)
    assert answer == ScreenAnswer.CLEAR
    assert at is not None
    assert button_texts(screen) == []
    # Answered outside a class: nothing more follows.
    assert user.last_bot_message is screen
    assert all(a.get("text") is None for a in emulator.callback_answers)


async def test_an_emergency_sign_says_get_urgent_care_now(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6002)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/safety")
        await user.tap(screen.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(lambda: (screen.plain or "").startswith(render.FOLLOW_UP))
        assert all(sign in (screen.plain or "") for sign in EMERGENCY_SIGNS)
        assert not any(sign in (screen.plain or "") for sign in OTHER_SIGNS)
        assert button_texts(screen) == [render.YES_EMERGENCY, render.NO_SOMETHING_ELSE]
        # No zone of their own: no country, so no number the bot could be sure of.
        local = render.urgent().text
        await tap_and_wait_for(emulator, user, screen, render.YES_EMERGENCY, local)
        answer, _ = await stored_screen(db_engine, user.id)
        assert answer == ScreenAnswer.URGENT
        assert button_texts(screen) == []
        assert "your local emergency number" in local and "A&E" not in local
        # No class today: asking for one brings the same advice again.
        again = await reply_to(user, "/start_practice")
        assert again.plain == local
        assert button_texts(again) == []


async def test_another_sign_says_see_a_clinician_and_rest_today(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6003)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/safety")
        await user.tap(screen.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(
            lambda: button_texts(screen) == [render.YES_EMERGENCY, render.NO_SOMETHING_ELSE]
        )
        await tap_and_wait_for(
            emulator, user, screen, render.NO_SOMETHING_ELSE, render.SEE_CLINICIAN
        )
        answer, _ = await stored_screen(db_engine, user.id)
        assert answer == ScreenAnswer.SEE_CLINICIAN
        assert "/safety" in render.SEE_CLINICIAN
        rest = await reply_to(user, "/start_practice")
        assert rest.plain == render.REST_TODAY
        assert button_texts(rest) == [render.ANSWER_AGAIN]
        assert not asked_before(user)


async def test_safety_says_what_was_answered_and_when_in_the_users_zone(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6004)
    # 20:00 on 2 Nov in UTC is 09:00 on 3 Nov in Auckland.
    clock = ManualClock(datetime(2026, 11, 2, 20, 0, tzinfo=UTC))
    async with bot_running(
        emulator,
        database_url,
        catalog=TINY_CATALOG,
        clock=clock,
        default_timezone="Pacific/Auckland",
    ):
        screen = await reply_to(user, "/safety")
        await user.tap(screen.message_id, text=render.NONE_OF_THESE)
        await emulator.wait_for(lambda: button_texts(screen) == [])
        again = await reply_to(user, "/safety")
    assert again.plain is not None
    assert again.plain.splitlines()[:3] == [
        "Last answer: None of these, on 3 Nov.",
        "",
        render.ASKED_AGAIN,
    ]
    assert button_texts(again) == [render.NONE_OF_THESE, render.I_HAVE_ONE]


async def test_the_latest_answer_counts_from_any_screen(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        older = await reply_to(user, "/safety")
        newer = await reply_to(user, "/safety")
        await user.tap(newer.message_id, text=render.NONE_OF_THESE)
        await emulator.wait_for(lambda: button_texts(newer) == [])
        await user.tap(older.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(lambda: render.YES_EMERGENCY in button_texts(older))
        await tap_and_wait_for(emulator, user, older, render.YES_EMERGENCY, render.urgent().text)
        answer, _ = await stored_screen(db_engine, user.id)
    assert answer == ScreenAnswer.URGENT


async def test_a_first_practice_screens_first_and_none_of_these_goes_on_to_the_check_in(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6006)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/start_practice")
        assert (screen.plain or "").startswith(render.QUESTION)
        await tap_and_wait_for(emulator, user, screen, render.NONE_OF_THESE, render.CLEARED)
        await emulator.wait_for(lambda: asked_before(user))
        answer, _ = await stored_screen(db_engine, user.id)
        assert answer == ScreenAnswer.CLEAR
        # Once clear, a new practice goes straight to the check-in.
        await user.send("/start_practice")
        await emulator.wait_for(lambda: len(asked_before(user)) == 2)


async def test_a_double_tap_on_none_of_these_starts_one_check_in(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6007)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/start_practice")
        data = SafetyButton(SafetyChoice.NONE, start=True).pack()
        # Both presses leave before the first one's edit takes the buttons away.
        await user.tap_data(screen.message_id, data)
        await user.tap_data(screen.message_id, data)
        await emulator.wait_for(lambda: asked_before(user))
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        # Something said after both presses is answered after them.
        await reply_to(user, "/help")
    assert len(asked_before(user)) == 1


async def test_a_sign_tapped_by_mistake_can_be_answered_again_on_the_way_in(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(6008)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/start_practice")
        await user.tap(screen.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(lambda: render.NO_SOMETHING_ELSE in button_texts(screen))
        await tap_and_wait_for(
            emulator, user, screen, render.NO_SOMETHING_ELSE, render.SEE_CLINICIAN
        )
        assert not asked_before(user)
        rest = await reply_to(user, "/start_practice")
        await user.tap(rest.message_id, text=render.ANSWER_AGAIN)
        await emulator.wait_for(lambda: (rest.plain or "").startswith(render.QUESTION))
        await tap_and_wait_for(emulator, user, rest, render.NONE_OF_THESE, render.CLEARED)
        await emulator.wait_for(lambda: asked_before(user))
        answer, _ = await stored_screen(db_engine, user.id)
    assert answer == ScreenAnswer.CLEAR


async def test_mydata_holds_the_screen_answer_and_each_practices_gentle_flag(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6009)
    clock = ManualClock(datetime(2026, 11, 2, 20, 0, tzinfo=UTC))
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, clock=clock, default_timezone="UTC"
    ) as app:
        screen = await reply_to(user, "/start_practice")
        await user.tap(screen.message_id, text=render.NONE_OF_THESE)
        [question] = await emulator.wait_for(lambda: asked_before(user))
        # A sore day, and the gentle practice.
        await user.tap(question.message_id, text="6")
        await emulator.wait_for(lambda: "Gentle practice" in button_texts(question))
        await user.tap(question.message_id, text="Gentle practice")
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        document = await reply_to(user, "/mydata")
        assert document.document is not None
        file = await app.bot.get_file(document.document["file_id"])
        data = bytes(await file.download_as_bytearray())
    parts = mydata_parts(data)
    [practice] = parts["practice_sessions"]
    assert practice["gentle"] == "yes"
    [you] = parts["users"]
    assert (you["screened_at"], you["screen_answer"]) == (
        "2026-11-02T20:00:00+00:00",
        ScreenAnswer.CLEAR.value,
    )


async def test_forged_check_in_and_gate_buttons_get_the_screen_and_start_nothing(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6010)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        # Never answered the screen; presses data the bot never showed them.
        for data in ("c:b:s", "c:b:3", "c:g:u:10", "c:g:g:2"):
            message = await reply_to(user, "/help")
            await user.tap_data(message.message_id, data)
            await emulator.wait_for(screen_shown_on(message))
        await reply_to(user, "/help")
        assert not asked_before(user)
        assert not cues_titled(user, TINY.steps[0].title)
        assert len(emulator.callback_answers) == 4
    assert not await stored_practices(database_url)


async def test_a_forged_usual_choice_at_ten_gets_the_gate_again_not_a_class(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6011)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        screen = await reply_to(user, "/start_practice")
        await tap_and_wait_for(emulator, user, screen, render.NONE_OF_THESE, render.CLEARED)
        question = await emulator.wait_for(lambda: next(iter(asked_before(user)), None))
        # The gate at 10/10 offers "Gentle practice anyway" or "Not today"; never the usual.
        await user.tap_data(question.message_id, "c:g:u:10")
        await emulator.wait_for(lambda: "Gentle practice anyway" in button_texts(question))
        assert "Usual practice" not in button_texts(question)
        await reply_to(user, "/help")
    assert not await stored_practices(database_url)


URGENT_CARE = "Please get urgent medical care now: "
AFTER = "\n\nThese signs need a doctor now, so there is no class today. Take care."


@pytest.mark.parametrize(
    ("where", "call"),
    [
        ("/timezone London", "call 999 or go to A&E."),
        (
            "/timezone New York",
            "call 911 (the emergency number in the United States) or go to the nearest "
            "emergency department.",
        ),
        (
            "/timezone Toronto",
            "call 911 (the emergency number in Canada) or go to the nearest emergency department.",
        ),
        (
            "/timezone Berlin",
            "call 112 (the emergency number in Germany) or go to the nearest emergency department.",
        ),
        (
            "/timezone Sydney",
            "call 000 (the emergency number in Australia) or go to the nearest emergency "
            "department.",
        ),
        (
            "/timezone Auckland",
            "call 111 (the emergency number in New Zealand) or go to the nearest emergency "
            "department.",
        ),
        # A shared location is a zone like any other: Paris.
        (
            (48.8566, 2.3522),
            "call 112 (the emergency number in France) or go to the nearest emergency department.",
        ),
        # An offset is no country; nor is a country the table does not hold.
        (
            "/timezone UTC+2",
            "call your local emergency number or go to the nearest emergency department.",
        ),
        (
            "/timezone Lagos",
            "call your local emergency number or go to the nearest emergency department.",
        ),
    ],
)
async def test_an_emergency_sign_names_the_number_of_the_users_country(
    emulator: BotApiEmulator, database_url: str, where: str | tuple[float, float], call: str
) -> None:
    user = emulator.user(6012)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        if isinstance(where, str):
            await reply_to(user, where)
        else:
            await user.send_location(*where)
            await user.wait_bot_message()
        screen = await reply_to(user, "/safety")
        await user.tap(screen.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(lambda: render.YES_EMERGENCY in button_texts(screen))
        await tap_and_wait_for(
            emulator, user, screen, render.YES_EMERGENCY, f"{URGENT_CARE}{call}{AFTER}"
        )


def test_an_answered_screen_keeps_a_line_of_what_was_confirmed() -> None:
    for start in (True, False):
        assert render.cleared(start).text.startswith(
            "You told me you have none of these signs today."
        )


async def test_a_class_asked_for_after_an_emergency_sign_names_the_same_number(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(6013)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await reply_to(user, "/timezone New York")
        screen = await reply_to(user, "/safety")
        await user.tap(screen.message_id, text=render.I_HAVE_ONE)
        await emulator.wait_for(lambda: render.YES_EMERGENCY in button_texts(screen))
        await user.tap(screen.message_id, text=render.YES_EMERGENCY)
        await emulator.wait_for(lambda: URGENT_CARE in (screen.plain or ""))
        again = await reply_to(user, "/start_practice")
    assert (
        again.plain is not None
        and "call 911 (the emergency number in the United States)" in again.plain
    )
    assert not await stored_practices(database_url)
