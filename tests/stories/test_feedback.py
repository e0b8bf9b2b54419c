"""/feedback as a user lives it, and what the team's chat receives."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.feedback import MAX_CHARS, PER_HOUR
from bot.models import Feedback
from handlers.buttons import CheckinBefore
from handlers.render import common as render
from handlers.render import feedback as render_feedback
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import begin_practice, bot_running, button_texts, cues_titled
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
TEAM_CHAT = 9000


async def stored(db_engine: AsyncEngine) -> list[Feedback]:
    async with create_sessionmaker(db_engine)() as db:
        return list(await db.scalars(select(Feedback).order_by(Feedback.id)))


async def reply_to(emulator: BotApiEmulator, user: SimulatedUser, text: str) -> EmuMessage:
    """Send `text` and wait for the bot's first message after it."""
    await user.send(text)
    return await user.wait_bot_message()


async def team_chat(emulator: BotApiEmulator) -> SimulatedUser:
    # The emulator knows a chat once someone in it has written to the bot.
    team = emulator.user(TEAM_CHAT, first_name="Team")
    await reply_to(emulator, team, "/help")
    return team


async def test_feedback_with_text_is_stored_thanked_and_forwarded_as_plain_text(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3001, first_name="Ana")
    note = "Loved the <b>strap</b> cue & *this* _one_"
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        team = await team_chat(emulator)
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(cue.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        thanks = await reply_to(emulator, user, f"/feedback {note}")
        forwarded = await emulator.wait_for(lambda: team.bot_messages[1:])
    assert thanks.plain == render_feedback.THANKS
    [row] = await stored(db_engine)
    assert (row.user_id, row.text, row.step_index, row.step_id) == (3001, note, 1, "pose-2")
    assert row.practice_id is not None
    [copy] = forwarded
    assert copy.parse_mode is None and not copy.entities
    assert copy.text is not None and copy.text.endswith(note)
    assert f"Feedback #{row.id} from user 3001" in copy.text
    where = f"During practice: tiny-class, pose 2: Pose 2, right side (session {row.practice_id})"
    assert where in copy.text.splitlines()


async def test_feedback_alone_asks_for_the_next_message_even_across_a_restart(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3002)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
        assert ask.plain == render_feedback.ASK
        assert button_texts(ask) == ["Cancel"]
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        thanks = await reply_to(emulator, user, "The second pose felt long,\nbut good.")
        assert thanks.plain == render_feedback.THANKS
        # The note is saved: the prompt's Cancel goes.
        await emulator.wait_for(lambda: not button_texts(ask))
        # The wait is over: the next text is ordinary chat again.
        after = await reply_to(emulator, user, "hello?")
        assert after.plain == render.PLAIN_TEXT
    [row] = await stored(db_engine)
    assert row.text == "The second pose felt long,\nbut good."
    assert row.practice_id is None  # no practice yet: no context


async def test_cancel_stores_nothing_and_text_is_chat_again(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3003)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
        await user.tap(ask.message_id, text="Cancel")
        await emulator.wait_for(lambda: ask.plain == render_feedback.CANCELLED)
        assert button_texts(ask) == []
        after = await reply_to(emulator, user, "never mind")
        assert after.plain == render.PLAIN_TEXT
    assert await stored(db_engine) == []


async def test_empty_and_too_long_notes_are_explained_and_not_stored(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3004)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        empty = await reply_to(emulator, user, "/feedback \u200b")
        assert "looks empty" in (empty.plain or "")
        too_long = await reply_to(emulator, user, "/feedback " + "a" * (MAX_CHARS + 1))
        assert "2,001 characters" in (too_long.plain or "")
        assert "up to 2,000" in (too_long.plain or "")
        # While a note is awaited, a too-long one can be sent again, shorter.
        await reply_to(emulator, user, "/feedback")
        again = await reply_to(emulator, user, "b" * 3000)
        assert "Send a shorter version" in (again.plain or "")
        assert button_texts(again) == ["Cancel"]
        thanks = await reply_to(emulator, user, "b" * MAX_CHARS)
        assert thanks.plain == render_feedback.THANKS
    [row] = await stored(db_engine)
    assert row.text == "b" * MAX_CHARS


async def test_the_eleventh_note_in_an_hour_is_politely_refused(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        for n in range(PER_HOUR):
            thanks = await reply_to(emulator, user, f"/feedback note {n}")
            assert thanks.plain == render_feedback.THANKS
        refused = await reply_to(emulator, user, "/feedback one more")
        assert "10 notes in the last hour" in (refused.plain or "")
        assert "later" in (refused.plain or "")
        # Asking for the next message is refused up front, too.
        asked = await reply_to(emulator, user, "/feedback")
        assert asked.plain == refused.plain
    assert len(await stored(db_engine)) == PER_HOUR


async def test_a_failed_forward_is_logged_and_the_note_still_kept(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = emulator.user(3006)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        team = await team_chat(emulator)
        emulator.fail_next(
            "sendMessage", chat_id=TEAM_CHAT, error_code=403, description="Forbidden: no access"
        )
        with caplog.at_level(logging.WARNING):
            thanks = await reply_to(emulator, user, "/feedback Still here")
            await emulator.wait_for(
                lambda: any(c.method == "sendMessage" and not c.ok for c in emulator.calls)
            )
    assert thanks.plain == render_feedback.THANKS
    assert len(await stored(db_engine)) == 1
    assert len(team.bot_messages) == 1  # only the /help reply
    assert "could not forward feedback" in caplog.text
    assert not any("went wrong" in (m.plain or "") for m in user.bot_messages)


# -- a prompt the user has moved on from expires ----------------------------------------


async def expired_prompt(emulator: BotApiEmulator, ask: EmuMessage) -> None:
    await emulator.wait_for(lambda: ask.plain == render_feedback.EXPIRED)
    assert button_texts(ask) == []


@pytest.mark.parametrize("command", ["/help", "/progress", "/foo"])
async def test_another_command_expires_the_prompt_and_text_is_chat_again(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, command: str
) -> None:
    user = emulator.user(3007)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
        assert ask.plain == render_feedback.ASK and "within 10 minutes" in ask.plain
        await reply_to(emulator, user, command)
        await expired_prompt(emulator, ask)
        after = await reply_to(emulator, user, "hello again")
        assert after.plain == render.PLAIN_TEXT
        await reply_to(emulator, user, "/help")
    assert await stored(db_engine) == []
    assert ask.edits == 1  # the commands after it found nothing more to withdraw


async def test_after_ten_minutes_the_prompt_expires_on_the_next_message(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    user = emulator.user(3008)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
    clock.advance(11 * 60)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        # No timer and no sweep at start-up: the user's next message is what notices.
        assert (ask.plain, ask.edits) == (render_feedback.ASK, 0)
        after = await reply_to(emulator, user, "hello again")
        assert after.plain == render.PLAIN_TEXT
        await expired_prompt(emulator, ask)
    assert await stored(db_engine) == []


async def test_a_note_within_ten_minutes_is_stored_and_the_prompt_left_as_it_is(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    user = emulator.user(3009)
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
        clock.advance(10 * 60)
        thanks = await reply_to(emulator, user, "my note")
        assert thanks.plain == render_feedback.THANKS
        await emulator.wait_for(lambda: not button_texts(ask))
    [row] = await stored(db_engine)
    assert row.text == "my note"
    # Not marked expired: its words stay; only its Cancel went with the note saved.
    assert (ask.plain, ask.edits) == (render_feedback.ASK, 1)


async def test_feedback_again_keeps_the_wait_and_expires_nothing(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3010)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        first = await reply_to(emulator, user, "/feedback")
        second = await reply_to(emulator, user, "/feedback")
        thanks = await reply_to(emulator, user, "my note")
        assert thanks.plain == render_feedback.THANKS
        await emulator.wait_for(lambda: not button_texts(second))
    # Neither is marked expired; the prompt of the wait the note answered loses its Cancel.
    assert (first.plain, second.plain) == (render_feedback.ASK, render_feedback.ASK)
    assert (first.edits, second.edits) == (0, 1)
    assert [row.text for row in await stored(db_engine)] == ["my note"]


async def test_starting_a_practice_expires_the_prompt_once_however_often_tapped(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3011)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        welcome = await reply_to(emulator, user, "/start")
        ask = await reply_to(emulator, user, "/feedback")
        taps = [await user.tap(welcome.message_id, text="Start practice") for _ in range(2)]
        await expired_prompt(emulator, ask)
        await emulator.wait_for(
            lambda: {a["callback_query_id"] for a in emulator.callback_answers} >= set(taps)
        )
    assert ask.edits == 1
    assert await stored(db_engine) == []


async def test_answering_the_back_check_in_expires_the_prompt(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3012)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        welcome = await reply_to(emulator, user, "/start")
        ask = await reply_to(emulator, user, "/feedback")
        # What the check-in's Skip sends; the check-in itself is another test's story.
        await user.tap_data(welcome.message_id, CheckinBefore(score=None).pack())
        await expired_prompt(emulator, ask)


async def test_a_prompt_that_cannot_be_edited_still_ends_the_wait(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(3013)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        ask = await reply_to(emulator, user, "/feedback")
        emulator.fail_next(
            "editMessageText", chat_id=3013, error_code=400, description="Bad Request: boom"
        )
        helped = await reply_to(emulator, user, "/help")
        assert "/feedback" in (helped.plain or "")
        after = await reply_to(emulator, user, "hello again")
        assert after.plain == render.PLAIN_TEXT
    assert ask.plain == render_feedback.ASK
    assert await stored(db_engine) == []
