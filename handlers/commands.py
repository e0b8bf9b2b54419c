"""/start, /help and the replies to what the bot does not understand."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from handlers import render
from handlers.context import YogaContext


async def start(update: Update, context: YogaContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    await update.effective_message.reply_text(
        render.welcome(context.practice.default_class, update.effective_user.first_name),
        parse_mode=ParseMode.HTML,
        reply_markup=render.start_keyboard(),
    )


async def help_command(update: Update, context: YogaContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(render.help_text())


async def unknown_command(update: Update, context: YogaContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(render.UNKNOWN_COMMAND)


async def plain_text(update: Update, context: YogaContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(render.PLAIN_TEXT)
