"""/progress: the numbers as text first, then the chart; a failed chart costs only itself."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError

from bot.progress import Week
from handlers import messages
from handlers.context import YogaContext
from handlers.render import progress as render

log = logging.getLogger(__name__)


async def show_progress(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    progress = await context.services.progress.report(user.id)
    if progress is None:
        await messages.send(context.bot, message.chat_id, render.no_practice_yet())
        return
    await messages.send(context.bot, message.chat_id, render.progress(progress))
    try:
        # Rendering takes a CPU for a moment; in a thread it does not stall other users.
        png = await asyncio.to_thread(_draw, progress.weeks)
        await context.bot.send_photo(message.chat_id, png, caption=render.CHART_CAPTION)
    except TelegramError as exc:
        log.warning("could not send the progress chart to user %s: %s", user.id, exc)
    except Exception:
        log.exception("could not draw the progress chart for user %s", user.id)


def _draw(weeks: list[Week]) -> bytes:
    # Imported by the first chart: Pillow, which it draws with, need not be loaded before.
    from bot import chart

    return chart.weekly_chart(weeks)
