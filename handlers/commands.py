"""/start, /help, and the replies to commands and buttons the bot does not know."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers import messages
from handlers.context import YogaContext
from handlers.render import common as render


async def start(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None and update.effective_user is not None
    yoga_class = context.services.practice.default_class
    reply = render.welcome(yoga_class, update.effective_user.first_name)
    await messages.send(context.bot, update.effective_chat.id, reply)


async def help_command(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None
    await messages.send(context.bot, update.effective_chat.id, render.help_text())


async def unknown_command(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None
    await messages.send(context.bot, update.effective_chat.id, render.unknown_command())


async def drop_unusable(update: Update, context: YogaContext) -> None:
    """An update with no user behind it (a post by an anonymous group admin, say) has no
    practice or settings to act on: no handler sees it. Nor does a press with no callback
    data (a forged one: Telegram's buttons always carry some), which PTB would otherwise
    hand to the first button handler whatever its pattern; it is still answered."""
    if update.effective_user is None:
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and not query.data:
        await messages.answer(query, render.OUT_OF_DATE)
        raise ApplicationHandlerStop


async def stale_button(update: Update, context: YogaContext) -> None:
    """A button that matches no scheme (from an older version of the bot, or forged): its
    spinner still stops."""
    assert update.callback_query is not None
    await messages.answer(update.callback_query, render.OUT_OF_DATE)
