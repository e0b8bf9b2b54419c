"""/stats for the people who run the bot; to anyone else it is an unknown command."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.stats import as_text
from handlers import render, render_account
from handlers.context import YogaContext


async def stats(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if user.id not in context.settings.admin_ids:
        await message.reply_text(render.UNKNOWN_COMMAND)
        return
    counts = await context.stats.collect()
    await message.reply_text(render_account.stats(as_text(counts)), parse_mode=ParseMode.HTML)
