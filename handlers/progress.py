"""/progress: the numbers as text first, then the chart; a failed chart costs only itself."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import chart
from handlers import render, render_progress
from handlers.context import YogaContext

log = logging.getLogger(__name__)


async def show_progress(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    progress = await context.progress.report(user.id)
    if progress is None:
        await message.reply_text(
            render_progress.NO_PRACTICE_YET, reply_markup=render.start_keyboard()
        )
        return
    await message.reply_text(render_progress.progress(progress), parse_mode=ParseMode.HTML)
    try:
        # Rendering takes a CPU for a moment; in a thread it does not stall other users.
        png = await asyncio.to_thread(chart.weekly_chart, progress.weeks)
        await message.reply_photo(png, caption=render_progress.CHART_CAPTION)
    except TelegramError as exc:
        log.warning("could not send the progress chart to user %s: %s", user.id, exc)
    except Exception:
        log.exception("could not draw the progress chart for user %s", user.id)
