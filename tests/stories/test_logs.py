"""What the log holds at DEBUG, the most it ever says: ids and lengths, never what a user
wrote or what they are called, whichever library the line comes from."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import configure_logging
from bot.settings import load_settings
from handlers.render import account as render_account
from handlers.render import feedback as render_feedback
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import TOKEN, bot_running
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
TEAM_CHAT = 9100

# Distinctive words, so that a hit is surely the user's and never a coincidence.
FIRST_NAME = "Zephyrine"
LAST_NAME = "Quillfeather"
USERNAME = "zeph_q_4201"
NOTE = "my sciatica-9d2e flares after the twist"
AWAITED_NOTE = "the strap cue-71b0 helped"
CHAT_TEXT = "hello there 5f1c"


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


def debug_log(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Logging as `yogabot run` sets it up with LOG_LEVEL=DEBUG, written to a buffer."""
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    settings = load_settings(bot_token=TOKEN)
    configure_logging(settings.log_level, [TOKEN])
    out = io.StringIO()
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(out)
    return out


async def test_at_debug_no_line_holds_a_note_typed_text_or_a_name(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = debug_log(monkeypatch)
    user = emulator.user(4201, first_name=FIRST_NAME, last_name=LAST_NAME, username=USERNAME)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        team = emulator.user(TEAM_CHAT, first_name="Team")
        await reply_to(team, "/help")
        assert (await reply_to(user, f"/feedback {NOTE}")).plain == render_feedback.THANKS
        await reply_to(user, "/feedback")
        assert (await reply_to(user, AWAITED_NOTE)).plain == render_feedback.THANKS
        await reply_to(user, CHAT_TEXT)
        await emulator.wait_for(lambda: len(team.bot_messages) == 3)
        question = await reply_to(user, "/forget_me")
        await user.tap(question.message_id, text="Yes, delete everything")
        await emulator.wait_for(lambda: question.plain == render_account.FORGOTTEN)
        await emulator.wait_for(lambda: len(team.bot_messages) == 1)
    log = out.getvalue()
    # The log really was at DEBUG, with the Bot API calls of the whole story in it.
    assert "Calling Bot API endpoint `sendMessage`" in log
    assert "Calling Bot API endpoint `deleteMessage`" in log
    assert "Processing update" in log
    for secret in (FIRST_NAME, LAST_NAME, USERNAME, NOTE, "sciatica", "cue-71b0", "5f1c"):
        assert secret not in log, secret
    assert TOKEN not in log
