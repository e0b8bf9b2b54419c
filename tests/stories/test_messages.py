"""The one send/edit/retire policy, against the emulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest
from telegram.ext import ExtBot

from handlers import messages
from handlers.render import html, plain
from playground.emulator import BotApiEmulator
from tests.harness.bot import TOKEN

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="p:n:1:0")]])


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[ExtBot[None]]:
    async with ExtBot(TOKEN, base_url=emulator.base_url) as ptb_bot:
        yield ptb_bot


async def test_an_edit_to_the_same_content_is_done_already(
    emulator: BotApiEmulator, bot: ExtBot[None]
) -> None:
    user = emulator.user(1)
    await user.send("/start")
    sent = await messages.send(bot, user.id, plain("Hold 1 min", KEYBOARD))
    assert await messages.edit(bot, user.id, sent.message_id, plain("Hold 1 min", KEYBOARD)) is None
    assert await messages.edit(bot, user.id, sent.message_id, plain("Hold 2 min")) is None
    assert user.message(sent.message_id).plain == "Hold 2 min"
    assert len(user.bot_messages) == 1


async def test_an_edit_of_a_message_that_is_gone_sends_it_afresh(
    emulator: BotApiEmulator, bot: ExtBot[None]
) -> None:
    user = emulator.user(2)
    await user.send("/start")
    sent = await messages.send(bot, user.id, plain("How does your back feel?"))
    await bot.delete_message(user.id, sent.message_id)
    afresh = await messages.edit(bot, user.id, sent.message_id, html("<b>4/10</b>", KEYBOARD))
    assert afresh is not None and afresh.message_id != sent.message_id
    [shown] = user.bot_messages
    assert (shown.plain, shown.message_id) == ("4/10", afresh.message_id)


async def test_any_other_refused_edit_is_raised(
    emulator: BotApiEmulator, bot: ExtBot[None]
) -> None:
    user = emulator.user(3)
    await user.send("/start")
    sent = await messages.send(bot, user.id, plain("fine"))
    with pytest.raises(BadRequest):
        await messages.edit(bot, user.id, sent.message_id, html("<b>unclosed"))


async def test_retiring_buttons_twice_or_on_a_gone_message_is_quiet(
    emulator: BotApiEmulator, bot: ExtBot[None]
) -> None:
    user = emulator.user(4)
    await user.send("/start")
    sent = await messages.send(bot, user.id, plain("Pose", KEYBOARD))
    await messages.retire(bot, user.id, sent.message_id)
    await messages.retire(bot, user.id, sent.message_id)
    assert user.message(sent.message_id).reply_markup in (None, {})
    await bot.delete_message(user.id, sent.message_id)
    await messages.retire(bot, user.id, sent.message_id)
